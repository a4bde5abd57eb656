//! The particle file as RELION 3.1+ lays it out — `data_optics` (one row per optics group) and
//! `data_particles` (one row per particle, `rlnOpticsGroup` pointing into the optics table) —
//! whichever generation the file on disc was written in. RELION 3.0 files are upgraded on read
//! ([`super::upgrade`]).

use std::collections::HashSet;
use std::path::Path;

use super::document::{Column, ColumnData, DataBlock, StarFile, Table};
use super::upgrade::upgrade_v30;
use crate::error::{Error, Result};

/// Block name of the optics table in RELION 3.1+ particle files.
pub const OPTICS_BLOCK: &str = "optics";
/// Block name of the particle table in RELION 3.1+ particle files.
pub const PARTICLES_BLOCK: &str = "particles";

/// The RELION generation a particle file was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParticleFormat {
    /// RELION 3.0: one table, optics per particle, `rlnOriginX/Y` in pixels.
    Relion30,
    /// RELION 3.1 and later: `data_optics` + `data_particles`, origins in Å.
    Relion31,
}

/// A particle STAR file in RELION 3.1+ form.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticleStar {
    /// `data_optics`: one row per optics group, with at least `rlnOpticsGroup` (unique).
    pub optics: Table,
    /// `data_particles`: one row per particle, with `rlnOpticsGroup` naming a row of `optics`.
    pub particles: Table,
    /// The generation of the file this was read from; `Relion30` means it was upgraded.
    pub source_format: ParticleFormat,
}

impl ParticleStar {
    /// Read a particle STAR file of any RELION generation (see [`ParticleStar::from_star`]).
    pub fn read(path: &Path) -> Result<Self> {
        ParticleStar::from_star(StarFile::read(path)?, path)
    }

    /// Interpret a parsed STAR file as particles. A file with a `data_optics` block is taken
    /// as RELION 3.1+ and checked (`data_particles` present, every particle's optics group
    /// defined once in `data_optics`). Otherwise the one block whose table has `rlnImageName`
    /// is taken as RELION 3.0 and upgraded as `relion_convert_star` does (see
    /// [`upgrade_v30`]); origins in pixels need the pixel size, so a 3.0 file with
    /// `rlnOriginX/Y` but without `rlnMagnification` and `rlnDetectorPixelSize` is an error
    /// here — call [`upgrade_v30`] with a pixel size instead. `path` names the file in errors.
    pub fn from_star(mut star: StarFile, path: &Path) -> Result<Self> {
        if star.block(OPTICS_BLOCK).is_none() {
            let table = take_v30_table(star, path)?;
            return upgrade_v30(table, path, None);
        }
        // Particles first: the message for a missing block lists the blocks still there.
        let particles = take_table(&mut star, PARTICLES_BLOCK, path)?;
        let optics = take_table(&mut star, OPTICS_BLOCK, path)?;
        let particle_star = ParticleStar {
            optics,
            particles,
            source_format: ParticleFormat::Relion31,
        };
        particle_star.check_groups(path)?;
        Ok(particle_star)
    }

    /// The 3.1 file: `data_optics` then `data_particles`.
    pub fn into_star(self) -> StarFile {
        let block = |name: &str, table| DataBlock {
            name: name.to_owned(),
            pairs: Vec::new(),
            table: Some(table),
        };
        StarFile {
            blocks: vec![
                block(OPTICS_BLOCK, self.optics),
                block(PARTICLES_BLOCK, self.particles),
            ],
        }
    }

    /// The row of `data_optics` describing optics group `group`.
    pub fn optics_row(&self, group: i64) -> Option<usize> {
        self.optics
            .ints("rlnOpticsGroup")?
            .iter()
            .position(|&g| g == group)
    }

    /// Set `rlnImageSize` (box side in pixels) of optics group `group`, e.g. from the MRC
    /// header of its stacks, which upgraded RELION 3.0 files do not record. The column is
    /// created when missing, with 0 ("not known yet") for the other groups until they are set.
    pub fn set_image_size(&mut self, group: i64, size: i64, path: &Path) -> Result<()> {
        let row = self.optics_row(group).ok_or_else(|| {
            Error::content(path, format!("data_optics has no optics group {group}"))
        })?;
        let rows = self.optics.rows();
        let mut sizes = match self.optics.remove_column("rlnImageSize") {
            Some(Column {
                data: ColumnData::Int(sizes),
                ..
            }) => sizes,
            _ => vec![0; rows],
        };
        sizes[row] = size;
        self.optics.set_column(Column {
            label: "rlnImageSize".into(),
            data: ColumnData::Int(sizes),
        });
        Ok(())
    }

    /// Check that optics groups are unique integers and that every particle names one.
    fn check_groups(&self, path: &Path) -> Result<()> {
        require_columns(&self.optics, &["rlnOpticsGroup"], path, OPTICS_BLOCK)?;
        require_columns(&self.particles, &["rlnOpticsGroup"], path, PARTICLES_BLOCK)?;
        let (Some(defined), Some(used)) = (
            self.optics.ints("rlnOpticsGroup"),
            self.particles.ints("rlnOpticsGroup"),
        ) else {
            return Err(Error::content(path, "rlnOpticsGroup must hold integers"));
        };
        let mut groups = HashSet::new();
        for &group in defined {
            if !groups.insert(group) {
                return Err(Error::content(
                    path,
                    format!("data_optics defines optics group {group} more than once"),
                ));
            }
        }
        if let Some((row, group)) = used.iter().enumerate().find(|(_, g)| !groups.contains(g)) {
            let mut known: Vec<_> = groups.into_iter().collect();
            known.sort_unstable();
            return Err(Error::content(
                path,
                format!(
                    "data_particles row {}: rlnOpticsGroup {group} is not in data_optics \
                     (which defines {known:?})",
                    row + 1
                ),
            ));
        }
        Ok(())
    }
}

/// Fail with an error naming `path`, `block` and every label of `labels` that `table` lacks.
pub fn require_columns(table: &Table, labels: &[&str], path: &Path, block: &str) -> Result<()> {
    let missing: Vec<&str> = labels
        .iter()
        .copied()
        .filter(|label| table.column(label).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::content(
        path,
        format!(
            "block data_{block} lacks the column(s) {} needed here",
            missing.join(", ")
        ),
    ))
}

/// Remove block `name` from `star` and return its table.
fn take_table(star: &mut StarFile, name: &str, path: &Path) -> Result<Table> {
    let Some(index) = star.blocks.iter().position(|b| b.name == name) else {
        let names: Vec<String> = star
            .blocks
            .iter()
            .map(|b| format!("data_{}", b.name))
            .collect();
        return Err(Error::content(
            path,
            format!("no data_{name} block (the file has {})", names.join(", ")),
        ));
    };
    star.blocks
        .swap_remove(index)
        .table
        .ok_or_else(|| Error::content(path, format!("block data_{name} has no loop_ table")))
}

/// The table of the single RELION 3.0 particle block: the one whose loop has `rlnImageName`.
fn take_v30_table(star: StarFile, path: &Path) -> Result<Table> {
    let mut tables: Vec<(String, Table)> = star
        .blocks
        .into_iter()
        .filter_map(|block| {
            let table = block.table.filter(|t| t.column("rlnImageName").is_some())?;
            Some((block.name, table))
        })
        .collect();
    match tables.pop() {
        Some((_, table)) if tables.is_empty() => Ok(table),
        Some((last, _)) => {
            let names: Vec<String> = tables
                .iter()
                .map(|(name, _)| name)
                .chain([&last])
                .map(|name| format!("data_{name}"))
                .collect();
            Err(Error::content(
                path,
                format!(
                    "no data_optics block and several particle tables ({}); expected one",
                    names.join(", ")
                ),
            ))
        }
        None => Err(Error::content(
            path,
            "not a particle file: no data_optics block (RELION 3.1+) and no table with \
             rlnImageName (RELION 3.0)",
        )),
    }
}
