//! File formats of cryo-EM single-particle work, as RELION and the wider ecosystem write them:
//! STAR metadata ([`star`]), MRC/MRCS maps and image stacks ([`mrc`]), and particle tables as
//! Arrow record batches stored in Parquet ([`table`]), dose-fractionated movies and defect files
//! ([`movie`]), and cryoSPARC `.cs` particle files ([`cryosparc`]).
//!
//! This crate knows bytes and columns and the units of those columns; it does no numerics and
//! no dataflow. Every reader reports bad input as an [`Error`] naming the file, the line or
//! field, and what was expected; every writer is atomic ([`atomic::write_atomically`]).

pub mod atomic;
pub mod cryosparc;
pub mod error;
pub mod kind;
pub mod movie;
pub mod mrc;
pub mod star;
pub mod table;

pub use error::{Error, Result};
pub use kind::FileKind;
