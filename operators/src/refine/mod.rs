//! The operators of 3D auto-refinement (RELION `relion_refine --auto_refine`), with the records
//! they exchange.
//!
//! One operator per file, each naming its input and output records at the top:
//! - [`records`]: what flows (particles, per-iteration references, block partial sums, the
//!   M-step result); [`sums`]: the E-step's sufficient statistics those partials carry;
//! - [`expectation`]: E-step over a worker's stash of particles for each broadcast reference,
//!   with the scorer chosen once per job by [`scorer::select`] (RELION's `--gpu`);
//! - [`maximisation`]: reduction of the block partials in a fixed order and the M-step (FSC,
//!   τ², reconstruction, solvent flattening) on worker 0;
//! - [`noise`]: the M-step of the noise model (σ² per noise group, intensity scales, mean norm
//!   correction);
//! - [`reduction`]: the fixed-shape binary tree that adds a half set's blocks;
//! - [`projections`]: an iteration's projectors and coarse-slice banks, built once per process
//!   and shared by its workers.
//!
//! Both operators are per-epoch joins ([`crate::epochs`]) of their data with the epoch's
//! broadcast references (epoch k = iteration k + 1). A job wires them as
//! particles → [`expectation`](expectation::expectation) → block partials →
//! [`maximisation`](maximisation::maximisation) → M-step result, with the references
//! broadcast into both; the [tiny job](crate::example) runs one such epoch.
//!
//! Determinism: particles are grouped into blocks fixed by the job (not by the worker count);
//! each block is summed in particle-id order and the blocks of a half set are added along a
//! fixed binary tree (each worker adds the subtrees of its contiguous range of blocks, worker 0
//! the rest), so the result is bit-identical for any number of workers, with O(log blocks)
//! partial sums alive per worker.

pub mod expectation;
pub mod maximisation;
pub mod noise;
pub mod projections;
pub mod records;
pub mod reduction;
pub mod scorer;
pub mod sums;
