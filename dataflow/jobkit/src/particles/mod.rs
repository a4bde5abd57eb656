//! Loading a particle set for a job: the particle table (RELION STAR of any generation, or a
//! Parquet particle table), its optics groups, and its images.
//!
//! [`ParticleSet::load`] reads the table, resolves every `rlnImageName` (`N@stack.mrcs`; see
//! [`paths`] for where relative names are looked up), opens each image file once
//! (memory-mapped), and checks everything a job would otherwise trip over half-way: missing
//! columns (named), images beyond the end of their stack, a stack box different from the optics
//! group's `rlnImageSize`, a stack header pixel size different from `rlnImagePixelSize`.
//! Each [`Particle`] then carries its image location, optics group, pose (degrees, Å) and CTF
//! parameters; [`ParticleSet::read_image`] returns its image, refusing NaN or infinite pixels.
//!
//! Units follow RELION: angles in degrees, origins and defoci in Å, pixel sizes in Å, boxes in
//! pixels.

pub mod columns;
pub mod optics;
pub mod particle;
pub mod paths;
pub mod set;
pub mod stacks;

pub use optics::OpticsGroup;
pub use particle::{Particle, Pose};
pub use set::{LoadOptions, ParticleSet};
pub use stacks::{ImageLocation, ImageStacks};
