//! The rows of a pose or particle STAR file, whatever its generation: RELION 3.1+ particle files
//! (`data_optics` + `data_particles`, checked), or any other file's first `loop_` table (RELION
//! 3.0 particle files, plain pose lists). Optics values (voltage, Cs, Q0) are looked up in the
//! particle's optics group, or in the row itself for files without `data_optics`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cryoflux_formats::star::{OPTICS_BLOCK, PARTICLES_BLOCK, ParticleStar, StarFile, Table};

/// A particle-like table read from a STAR file.
#[derive(Debug, Clone)]
pub struct ParticleRows {
    path: PathBuf,
    block: String,
    rows: Table,
    /// `data_optics` and, per row, the index of its optics group's row there.
    optics: Option<(Table, Vec<usize>)>,
}

impl ParticleRows {
    /// Read `path`: a RELION 3.1+ particle file, or the first block holding a `loop_` table.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let star = StarFile::read(path)?;
        if star.block(OPTICS_BLOCK).is_some() {
            let particles = ParticleStar::from_star(star, path)?;
            let groups = particles
                .particles
                .ints("rlnOpticsGroup")
                .unwrap_or_default();
            let optics_rows = groups
                .iter()
                .map(|&g| particles.optics_row(g).unwrap_or_default())
                .collect();
            return Ok(ParticleRows {
                path: path.to_path_buf(),
                block: PARTICLES_BLOCK.to_owned(),
                rows: particles.particles,
                optics: Some((particles.optics, optics_rows)),
            });
        }
        let Some(block) = star.blocks.into_iter().find(|b| b.table.is_some()) else {
            bail!(
                "{}: no loop_ table (expected one row per pose)",
                path.display()
            );
        };
        Ok(ParticleRows {
            path: path.to_path_buf(),
            rows: block.table.unwrap_or_default(),
            block: block.name,
            optics: None,
        })
    }

    /// Number of rows (particles or poses).
    pub fn len(&self) -> usize {
        self.rows.rows()
    }

    /// True when the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The file this was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The real-valued cells of `label` in the particle table, if present.
    pub fn floats(&self, label: &str) -> Option<&[f64]> {
        self.rows.floats(label)
    }

    /// The real-valued cells of each of `labels`; an error naming the file, the block and every
    /// missing (or non-numeric) column otherwise.
    pub fn required_floats<const K: usize>(
        &self,
        labels: [&str; K],
    ) -> anyhow::Result<[&[f64]; K]> {
        let missing: Vec<&str> = labels
            .iter()
            .copied()
            .filter(|l| self.rows.floats(l).is_none())
            .collect();
        if !missing.is_empty() {
            bail!(
                "{}: block data_{} lacks the numeric column(s) {} needed here",
                self.path.display(),
                self.block,
                missing.join(", ")
            );
        }
        Ok(labels.map(|l| self.rows.floats(l).unwrap_or_default()))
    }

    /// `label` of row `row`, or `default` when the column is absent.
    pub fn float_or(&self, label: &str, row: usize, default: f64) -> f64 {
        self.rows.floats(label).map_or(default, |v| v[row])
    }

    /// An optics value (`rlnVoltage`, `rlnSphericalAberration`, …) of row `row`: from its
    /// optics group in `data_optics`, else from the row itself. Missing → an error naming the
    /// file and label.
    pub fn optics_value(&self, label: &str, row: usize) -> anyhow::Result<f64> {
        let (table, index, block) = match &self.optics {
            Some((optics, rows)) => (optics, rows[row], OPTICS_BLOCK),
            None => (&self.rows, row, self.block.as_str()),
        };
        table.floats(label).map(|v| v[index]).with_context(|| {
            format!(
                "{}: block data_{block} lacks the numeric column {label} needed here",
                self.path.display()
            )
        })
    }
}
