//! Importing a cryoSPARC particle set (`particles.cs` and its passthrough `.cs` files) into a
//! RELION 3.1 particle STAR file and its Parquet twin, with RELION's conventions (Å, degrees,
//! 1-based indices, Euler angles), converted as pyem's `csparc2star.py` does ([`particles`]).
//!
//! Outputs in `--odir`: `--ofile` (default `particles.star`: `data_optics`, one group per
//! cryoSPARC exposure group and set of optics values ([`optics`]), then `data_particles` in the
//! main file's row order) and the same table as Parquet (`particles.parquet`). Both are written
//! atomically, and only once every field has been read and checked: bad input writes nothing.

mod names;
mod optics;
mod particles;
mod source;

use std::path::PathBuf;

use anyhow::{Context, ensure};
use cryoflux_formats::star::{DataBlock, StarFile};
use cryoflux_formats::table::{ParticleTable, write_parquet};

pub use names::PathRewrite;

/// The flags of a cryoSPARC particle import.
#[derive(Debug, Clone, PartialEq)]
pub struct CsImportSettings {
    /// The particle dataset (`--i`, e.g. `J42/J42_particles.cs`).
    pub input: PathBuf,
    /// Passthrough datasets of the same particles (`--passthrough`, e.g.
    /// `J42/J42_passthrough_particles.cs`), joined by `uid`; the main file's fields win.
    pub passthroughs: Vec<PathBuf>,
    /// Output directory (`--odir`, e.g. `Import/job005/`).
    pub output_dir: PathBuf,
    /// Output STAR file name inside it (`--ofile`, default `particles.star`); the Parquet file
    /// has the same stem.
    pub output_file: Option<String>,
    /// How image and micrograph names are rewritten (`--strip_uid`, `--micrograph_path`).
    pub rewrite: PathRewrite,
    /// Measure `rlnCoordinateY` (px) from the top as RELION does, i.e. `(1 − center_y_frac)·ny`
    /// (pyem's default); `false` (`--no_invert_y`) keeps cryoSPARC's `center_y_frac·ny`.
    pub invert_y: bool,
}

/// What an import wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct CsImportSummary {
    /// The particle STAR file.
    pub star: PathBuf,
    /// The Parquet copy of its particle table.
    pub parquet: PathBuf,
    /// Number of particles imported.
    pub particles: usize,
    /// Number of optics groups.
    pub optics_groups: usize,
}

/// Converts the dataset and writes the STAR and Parquet files (nothing when anything is wrong:
/// a missing field, passthrough rows without the particles' uids, an empty dataset).
pub fn import_cryosparc(settings: &CsImportSettings) -> anyhow::Result<CsImportSummary> {
    let cs = source::CsParticles::open(&settings.input, &settings.passthroughs)?;
    ensure!(
        !cs.is_empty(),
        "{} holds no particles",
        settings.input.display()
    );
    let (groups, numbers) = optics::group_optics(&particles::particle_optics(&cs)?);
    let columns = particles::particle_columns(&cs, &settings.rewrite, settings.invert_y, numbers)?;
    let star = StarFile {
        blocks: vec![
            DataBlock::with_table("optics", optics::optics_columns(&groups)),
            DataBlock::with_table("particles", columns),
        ],
    };
    std::fs::create_dir_all(&settings.output_dir)
        .with_context(|| format!("cannot create {}", settings.output_dir.display()))?;
    let star_path = settings
        .output_dir
        .join(settings.output_file.as_deref().unwrap_or("particles.star"));
    let parquet_path = star_path.with_extension("parquet");
    write_parquet(
        &ParticleTable::from_star(star.clone(), &star_path)?,
        &parquet_path,
    )?;
    star.write(&star_path)?;
    Ok(CsImportSummary {
        star: star_path,
        parquet: parquet_path,
        particles: cs.len(),
        optics_groups: groups.len(),
    })
}
