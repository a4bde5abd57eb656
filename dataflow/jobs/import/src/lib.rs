//! `cryoflux import`: the entry of a session's files into a pipeline, as RELION's Import job.
//!
//! - [`movies`]: movies or micrographs named by a wildcard, with one optics group's constants
//!   (pixel size, voltage, Cs, Q0, beam tilt), into `movies.star` / `micrographs.star` exactly
//!   as `relion_import --do_movies` / `--do_micrographs` writes them.
//! - [`cryosparc`]: a cryoSPARC particle set (`.cs` with its passthrough files) into a RELION
//!   3.1 particle STAR file and Parquet table, converted as pyem's `csparc2star.py` does.

pub mod cryosparc;
pub mod movies;
