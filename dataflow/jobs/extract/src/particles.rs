//! Where a micrograph's particles come from: its coordinate file (`--coord_dir`,
//! `--coord_suffix`) or its rows of a refined particle set (`--reextract_data_star`). Either way
//! the result is a table whose other columns RELION carries into `particles.star`.

use std::path::{Path, PathBuf};

use cryoflux_formats::star::{ParticleStar, StarFile, Table};

use crate::micrographs::Micrograph;
use crate::paths::coordinate_file;
use crate::rows::select_rows;

/// The source of the particles of every micrograph.
#[derive(Debug, Clone, PartialEq)]
pub enum ParticleSource {
    /// Coordinate files (STAR, `rlnCoordinateX/Y` in px): `<coord_dir><micrograph name without
    /// pipeline prefix and extension><coord_suffix>`, or beside the micrograph without a
    /// `coord_dir` (see [`coordinate_file`]).
    Coordinates {
        /// `--coord_dir` (None: RELION's ASINPUT, the micrograph's own directory).
        coord_dir: Option<PathBuf>,
        /// `--coord_suffix`, e.g. `_pick.star`.
        coord_suffix: String,
    },
    /// `--reextract_data_star`: the `data_particles` rows whose `rlnMicrographName` is the
    /// micrograph's, with every column (coordinates in px, origins in Å, poses, CTF, …).
    Reextract {
        /// The refined particles' `data_particles` table.
        particles: Table,
    },
}

impl ParticleSource {
    /// The `--reextract_data_star` particles of `path` (RELION 3.0 files are upgraded), checked
    /// for `rlnMicrographName` and `rlnCoordinateX/Y`.
    pub fn reextract(path: &Path) -> anyhow::Result<Self> {
        let star = ParticleStar::read(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the --reextract_data_star file {}: {e}",
                path.display()
            )
        })?;
        let particles = star.particles;
        if particles.texts("rlnMicrographName").is_none() {
            anyhow::bail!(
                "{}: data_particles has no rlnMicrographName (expected the micrograph of every \
                 particle, as in a refinement's _data.star)",
                path.display()
            );
        }
        check_coordinates(&particles).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(ParticleSource::Reextract { particles })
    }

    /// The particles of `micrograph`, in file order. Errors (naming the file) when a coordinate
    /// file is missing or has no numeric `rlnCoordinateX/Y`.
    pub fn particles_of(&self, micrograph: &Micrograph) -> Result<Table, String> {
        match self {
            ParticleSource::Coordinates {
                coord_dir,
                coord_suffix,
            } => {
                let path = coordinate_file(&micrograph.name, coord_dir.as_deref(), coord_suffix);
                read_coordinates(&path)
            }
            ParticleSource::Reextract { particles } => {
                let names = particles
                    .texts("rlnMicrographName")
                    .expect("checked in ParticleSource::reextract");
                let rows: Vec<usize> = (0..particles.rows())
                    .filter(|&r| names[r] == micrograph.name)
                    .collect();
                Ok(select_rows(particles, &rows))
            }
        }
    }
}

/// Reads a STAR coordinate file: the first block with a loop, which must have numeric
/// `rlnCoordinateX/Y` (px).
fn read_coordinates(path: &Path) -> Result<Table, String> {
    if !path.exists() {
        return Err(format!(
            "coordinate file {} does not exist (expected it from --coord_dir and --coord_suffix)",
            path.display()
        ));
    }
    let star = StarFile::read(path)
        .map_err(|e| format!("cannot read coordinate file {}: {e}", path.display()))?;
    let table = star
        .blocks
        .into_iter()
        .find_map(|b| b.table)
        .ok_or_else(|| {
            format!(
                "coordinate file {} has no loop_ table (expected rlnCoordinateX/Y)",
                path.display()
            )
        })?;
    check_coordinates(&table).map_err(|e| format!("coordinate file {}: {e}", path.display()))?;
    Ok(table)
}

/// Checks that `table` has numeric, finite `rlnCoordinateX/Y` columns.
fn check_coordinates(table: &Table) -> Result<(), String> {
    for label in ["rlnCoordinateX", "rlnCoordinateY"] {
        for row in 0..table.rows() {
            match table.number(label, row) {
                Some(v) if v.is_finite() => {}
                Some(v) => return Err(format!("{label} is {v} in row {} (expected px)", row + 1)),
                None => return Err(format!("no numeric {label} column (expected px)")),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinate_files_are_found_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let coords = dir.path().join("C/Movies");
        std::fs::create_dir_all(&coords).unwrap();
        let micrograph = Micrograph {
            name: "MotionCorr/job002/Movies/mic1.mrc".into(),
            optics_group: 1,
            pixel_size: 1.0,
            ctf: Vec::new(),
        };
        let source = ParticleSource::Coordinates {
            coord_dir: Some(dir.path().join("C")),
            coord_suffix: "_pick.star".into(),
        };
        let err = source.particles_of(&micrograph).unwrap_err();
        assert!(err.contains("does not exist"), "{err}");
        let file = coords.join("mic1_pick.star");
        std::fs::write(
            &file,
            "data_\nloop_\n_rlnCoordinateX\n_rlnCoordinateY\n1 2\n3.5 4\n",
        )
        .unwrap();
        let table = source.particles_of(&micrograph).unwrap();
        assert_eq!(table.floats("rlnCoordinateX"), Some(&[1.0, 3.5][..]));
        std::fs::write(&file, "data_\nloop_\n_rlnCoordinateX\n_rlnFoo\n1 2\n").unwrap();
        let err = source.particles_of(&micrograph).unwrap_err();
        assert!(err.contains("rlnCoordinateY"), "{err}");
    }
}
