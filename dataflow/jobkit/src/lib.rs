//! What every cryoflux job shares, so that no job imports another:
//! - [`particles`]: loading a particle set (STAR or Parquet table, optics groups, image stacks,
//!   per-particle pose and CTF) with every check a job would otherwise trip over half-way;
//! - [`micrographs`]: movie and micrograph sets (`movies.star`, `corrected_micrographs.star`,
//!   `micrographs_ctf.star`) with their optics groups;
//! - [`maps`]: maps, images and stacks as kernel grids (MRC in, float32 MRC out, atomically);
//! - [`driver`]: the epoch loop of an iterative job (one long-lived timely dataflow, one epoch
//!   per iteration) and [`checkpoint`]: checkpoint framing, fingerprints and `--continue`;
//! - [`batch`]: running a per-movie job (motion correction, CTF estimation, extraction) on
//!   timely workers, one movie or micrograph at a time, results in input order;
//! - [`cluster`]: multi-process timely over TCP (peer connection, lost peers);
//! - [`gpu`]: which CUDA devices the machine shows (RELION's `--gpu`), without loading CUDA;
//! - [`job_directory`]: a job's inputs and outputs (none written over an input) and RELION's
//!   job-directory markers (`RELION_JOB_EXIT_SUCCESS`/`_FAILURE`) around every run;
//! - [`plots`]: figures with the bundled font; [`logging`]: `tracing` to standard error;
//!   [`progress`]: progress as log lines when no bar is drawn; [`memory`]: sizes checked
//!   against the memory available before they are allocated; [`threads`]: the `--j` check.
//!
//! Units follow RELION: angles in degrees, lengths in Å, boxes in pixels.

pub mod batch;
pub mod checkpoint;
pub mod cluster;
pub mod driver;
pub mod gpu;
pub mod job_directory;
pub mod logging;
pub mod maps;
pub mod memory;
pub mod micrographs;
pub mod particles;
pub mod plots;
pub mod progress;
pub mod threads;
