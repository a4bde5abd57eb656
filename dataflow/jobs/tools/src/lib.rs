//! RELION's small programs, each a function over files: [`image`] (like
//! `relion_image_handler`), [`mask`] (`relion_mask_create`), [`reconstruct`]
//! (`relion_reconstruct`), [`convert`] (STAR ↔ Parquet) and [`info`] (what a file holds).
//! Maps and images are read and written through [`cryoflux_jobkit::maps`]; units are Å and
//! pixels, as the flags say.

pub mod convert;
pub mod image;
pub mod info;
pub mod mask;
pub mod reconstruct;
