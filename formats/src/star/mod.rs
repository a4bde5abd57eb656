//! STAR files (RELION 3.0, 3.1, 4, 5): reading, writing, typed columns and the 3.0 → 3.1 upgrade.
//!
//! - [`StarFile::read`] / [`StarFile::parse`] turn text into blocks of typed columns
//!   ([`document`]), typed by the label registry ([`labels`]); unknown labels stay text.
//! - [`StarFile::write`] (atomic) / [`StarFile::to_writer`] / [`StarFile::to_string`] write
//!   RELION 3.1's layout, losslessly: reading the output back gives the same values.
//! - [`ParticleStar`] is a particle file in 3.1 form (`data_optics` + `data_particles`);
//!   RELION 3.0 files are upgraded on read ([`upgrade_v30`]). [`require_columns`] checks that a
//!   table has what a task needs; [`ImageName`] splits `N@stack.mrcs` references.
//!
//! ```
//! use std::path::Path;
//! use cryoflux_formats::star::{ParticleStar, StarFile};
//!
//! let text = "data_\nloop_\n_rlnImageName #1\n_rlnOriginX #2\n_rlnMagnification #3\n\
//!             _rlnDetectorPixelSize #4\n1@stack.mrcs 2.0 10000 14\n";
//! let star = StarFile::parse(text, Path::new("old.star"))?;
//! let particles = ParticleStar::from_star(star, Path::new("old.star"))?;
//! assert_eq!(particles.optics.floats("rlnImagePixelSize"), Some(&[14.0][..]));
//! assert_eq!(particles.particles.floats("rlnOriginXAngst"), Some(&[28.0][..]));
//! let upgraded = particles.into_star().to_string()?;
//! assert!(upgraded.starts_with("\n# version 30001\n\ndata_optics\n"));
//! # Ok::<(), cryoflux_formats::Error>(())
//! ```

mod cells;
pub mod document;
mod image_name;
pub mod labels;
mod lexer;
mod number;
mod parse;
mod particles;
mod render;
mod rows;
mod upgrade;
mod write;

pub use document::{Column, ColumnData, DataBlock, StarFile, Table, Value};
pub use image_name::ImageName;
pub use labels::{LabelInfo, ValueKind};
pub use particles::{OPTICS_BLOCK, PARTICLES_BLOCK, ParticleFormat, ParticleStar, require_columns};
pub use upgrade::upgrade_v30;
