//! Particle tables from and to files of either format, chosen by extension.

use std::path::Path;

use super::{ParticleTable, read_parquet, write_parquet};
use crate::error::{Error, Result};
use crate::kind::FileKind;
use crate::star::{DataBlock, OPTICS_BLOCK, ParticleStar, StarFile};

/// Read a particle table from a STAR file or a Parquet file. A RELION 3.0 particle file (no
/// `data_optics`, a loop with `rlnImageName`) is upgraded to 3.1 form on the way, as RELION
/// does: optics groups, origins in Å.
pub fn read_particle_table(path: &Path) -> Result<ParticleTable> {
    match FileKind::from_path(path)? {
        FileKind::Star => {
            ParticleTable::from_star(upgrade_if_relion30(StarFile::read(path)?, path)?, path)
        }
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

/// `star` in RELION 3.1 form if it is a RELION 3.0 particle file, else unchanged.
fn upgrade_if_relion30(star: StarFile, path: &Path) -> Result<StarFile> {
    let has_images = |block: &DataBlock| {
        block
            .table
            .as_ref()
            .is_some_and(|t| t.column("rlnImageName").is_some())
    };
    if star.block(OPTICS_BLOCK).is_none() && star.blocks.iter().any(has_images) {
        Ok(ParticleStar::from_star(star, path)?.into_star())
    } else {
        Ok(star)
    }
}

fn not_a_table(path: &Path) -> Error {
    Error::content(
        path,
        "this is an MRC image file; expected a particle table (.star or .parquet)",
    )
}
