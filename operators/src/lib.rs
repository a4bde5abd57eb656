//! Timely dataflow operators built on `cryoflux-kernels`, grouped by job family.
//!
//! Layout:
//! - [`refine`]: 3D auto-refinement: expectation, maximisation, the noise model, the
//!   reduction tree, shared projections, the scorer choice and the refinement's records;
//!   later job families (motion correction, polishing, initial model) get folders beside it;
//! - [`movies`]: the per-movie jobs (motion correction, CTF estimation, extraction): one
//!   movie or micrograph is the unit of work;
//! - [`records`]: records every job family shares (CTF, pose, map);
//! - [`epochs`]: the per-epoch join of two inputs that every iterative operator builds on;
//! - [`example`]: a tiny refinement job (16³ map, 8 particles) for runnable examples and
//!   tests.
//!
//! Conventions: one operator per file, its first doc line saying what it does and its inputs
//! and outputs named at the top; operators are functions of streams (`Stream<u64, Vec<R>>`,
//! the time being the epoch); records are plain serde types (timely serialises what crosses
//! processes), the serializable counterparts of kernel types.
//!
//! Determinism: every operator gives the same bits for any number of workers or processes;
//! see [`refine`] for how the refinement's sums achieve it.

pub mod epochs;
pub mod example;
pub mod movies;
pub mod records;
pub mod refine;
mod wire;
