//! cryoSPARC datasets (`.cs`): NumPy `.npy` files (format versions 1–3) holding one
//! one-dimensional structured array, one record per particle or micrograph, with fields such as
//! `uid` (`<u8`), `blob/path` (`|S<n>`), `blob/idx` (`<u4`), `blob/shape` (`(2,)<u4`, px),
//! `blob/psize_A` (Å), `ctf/df1_A` (Å), `ctf/df_angle_rad` (radians), `alignments3D/pose`
//! (`(3,)<f4`, an axis-angle rotation vector, radians) and `alignments3D/shift` (`(2,)<f4`, px).
//!
//! Columns come back as stored, by field name: integers, floats and bools as `f64` or `u64`,
//! fixed-length strings as `String`, sub-arrays as one vector per row. No convention is
//! converted here. cryosparc-tools' `Dataset.save` writes string fields as fixed-length `S<n>`;
//! a file with Python-object (`|O`) fields stores them pickled and is refused with an error
//! that says so.
//!
//! ```no_run
//! use cryoflux_formats::cryosparc::CsFile;
//! # fn main() -> cryoflux_formats::Result<()> {
//! let particles = CsFile::open("P3_J42_particles.cs")?;
//! let uids = particles.column_u64("uid")?;
//! let defocus_u = particles.column_f64("ctf/df1_A")?; // Å
//! let poses = particles.column_vectors("alignments3D/pose")?; // 3 values per row, radians
//! # let _ = (uids, defocus_u, poses); Ok(()) }
//! ```

mod cs_file;
mod dtype;
mod literal;

pub use cs_file::CsFile;
pub use dtype::{CsField, CsScalar};

#[cfg(test)]
mod tests;
