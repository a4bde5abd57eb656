//! Particle tables from and to files of either format, chosen by extension.

use std::path::Path;

use super::{ParticleTable, read_parquet, write_parquet};
use crate::error::{Error, Result};
use crate::kind::FileKind;
use crate::star::StarFile;

/// Read a particle table from a STAR file or a Parquet file.
pub fn read_particle_table(path: &Path) -> Result<ParticleTable> {
    match FileKind::from_path(path)? {
        FileKind::Star => ParticleTable::from_star(StarFile::read(path)?, path),
        FileKind::Parquet => read_parquet(path),
        FileKind::Mrc => Err(not_a_table(path)),
    }
}

/// Write a particle table to a STAR file or a Parquet file, atomically.
pub fn write_particle_table(table: &ParticleTable, path: &Path) -> Result<()> {
    match FileKind::from_path(path)? {
        FileKind::Star => table.to_star(path)?.write(path),
        FileKind::Parquet => write_parquet(table, path),
        FileKind::Mrc => Err(not_a_table(path)),
    }
}

fn not_a_table(path: &Path) -> Error {
    Error::content(
        path,
        "this is an MRC image file; expected a particle table (.star or .parquet)",
    )
}
