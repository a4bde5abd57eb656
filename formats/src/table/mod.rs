//! Particle tables: a STAR loop as an Arrow [`RecordBatch`] whose columns are RELION labels,
//! stored on disk as zstd-compressed Parquet.
//!
//! # How the rest of the STAR file travels
//! A particle file is more than its particle loop: RELION 3.1+ puts the optics groups in a
//! `data_optics` block, and other files carry key–value blocks. A [`ParticleTable`] keeps the
//! *main* loop (the `particles` block, or else the largest loop) as an Arrow batch, and every
//! other block verbatim. In Parquet the other blocks are stored as STAR text in the file's
//! key–value metadata under [`STAR_BLOCKS_KEY`], and the position of the main block under
//! [`MAIN_BLOCK_KEY`], so STAR → Parquet → STAR gives back the same blocks in the same order.
//! [`ParticleTable::optics`] exposes the optics block as a second Arrow batch.

mod arrow_convert;
mod files;
mod parquet_io;
mod particle_table;

pub use arrow_convert::{record_batch_to_table, table_to_record_batch};
pub use files::{read_particle_table, write_particle_table};
pub use parquet_io::{read_parquet, write_parquet};
pub use particle_table::ParticleTable;

/// Parquet metadata key holding every non-main block of the source STAR file, as STAR text.
pub const STAR_BLOCKS_KEY: &str = "cryoflux.star_blocks";
/// Parquet metadata key holding the 0-based index of the main block among the STAR blocks.
pub const MAIN_BLOCK_KEY: &str = "cryoflux.main_block";
