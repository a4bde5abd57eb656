//! Movie and micrograph sets: RELION 3.1's `movies.star`, `corrected_micrographs.star` and
//! `micrographs_ctf.star` — an optics table (`data_optics`) and one row per movie or micrograph
//! (`data_movies` / `data_micrographs`) naming its file and optics group. The one reader of
//! these files (motioncorr, ctffind and extract read through it); a job asks for each row's
//! optics constants (pixel sizes in Å, voltage in kV, Cs in mm, …) and gets an error naming
//! the file, the column and the group when one is missing.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use cryoflux_formats::star::{DataBlock, StarFile, Table};

/// A movie or micrograph set read from a STAR file.
#[derive(Debug, Clone, PartialEq)]
pub struct MicrographSet {
    /// The file it was read from.
    pub path: PathBuf,
    /// The optics table as read (written back unchanged, plus any new columns, by jobs).
    pub optics: Table,
    /// The movies' or micrographs' table as read (`data_movies` or `data_micrographs`).
    pub items: Table,
    /// Each row's file name (`rlnMicrographMovieName` or `rlnMicrographName`), as written.
    pub names: Vec<String>,
    /// Each row's optics group number (`rlnOpticsGroup`; 1 when the column is absent).
    pub optics_groups: Vec<i64>,
    /// Each row's row of `data_optics`.
    optics_rows: Vec<usize>,
    /// What the set holds.
    kind: SetKind,
}

/// What a set holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetKind {
    /// `data_movies` with `rlnMicrographMovieName`.
    Movies,
    /// `data_micrographs` with `rlnMicrographName`.
    Micrographs,
}

impl SetKind {
    /// Name of the rows' block.
    pub fn block(self) -> &'static str {
        match self {
            SetKind::Movies => "movies",
            SetKind::Micrographs => "micrographs",
        }
    }

    /// Label of the rows' file names.
    pub fn name_label(self) -> &'static str {
        match self {
            SetKind::Movies => "rlnMicrographMovieName",
            SetKind::Micrographs => "rlnMicrographName",
        }
    }

    /// The file a set of this kind usually is, for error messages.
    fn example(self) -> &'static str {
        match self {
            SetKind::Movies => "movies.star",
            SetKind::Micrographs => "corrected_micrographs.star or micrographs_ctf.star",
        }
    }
}

impl MicrographSet {
    /// Reads `path`, checking that it has `data_optics` with `rlnOpticsGroup`, the rows' block
    /// with their file names, and that the optics table defines every group the rows use.
    /// Optics constants are checked when a job asks for them ([`MicrographSet::optics_value`]).
    /// Errors name the file, block and column.
    pub fn read(path: &Path, kind: SetKind) -> anyhow::Result<Self> {
        let star = StarFile::read(path)?;
        let table = |name: &str| -> anyhow::Result<Table> {
            star.block(name)
                .and_then(|b: &DataBlock| b.table.clone())
                .ok_or_else(|| {
                    anyhow!(
                        "{}: no data_{name} table (expected a RELION 3.1 STAR file such as {})",
                        path.display(),
                        kind.example()
                    )
                })
        };
        let optics = table("optics")?;
        let items = table(kind.block())?;
        let names = items
            .texts(kind.name_label())
            .ok_or_else(|| {
                anyhow!(
                    "{}: data_{} has no {} column",
                    path.display(),
                    kind.block(),
                    kind.name_label()
                )
            })?
            .to_vec();
        let optics_groups: Vec<i64> = (0..items.rows())
            .map(|row| items.number("rlnOpticsGroup", row).map_or(1, |g| g as i64))
            .collect();
        let defined: Vec<i64> = (0..optics.rows())
            .map(|row| optics.number("rlnOpticsGroup", row).map(|g| g as i64))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                anyhow!(
                    "{}: data_optics has no rlnOpticsGroup column",
                    path.display()
                )
            })?;
        let optics_rows = optics_groups
            .iter()
            .enumerate()
            .map(|(row, g)| {
                defined.iter().position(|d| d == g).ok_or_else(|| {
                    anyhow!(
                        "{}: {} (row {} of data_{}) uses optics group {g}, which data_optics does \
                         not define (expected one of {defined:?})",
                        path.display(),
                        names[row],
                        row + 1,
                        kind.block()
                    )
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            path: path.to_path_buf(),
            optics,
            items,
            names,
            optics_groups,
            optics_rows,
            kind,
        })
    }

    /// The number in column `label` of row `row`'s optics group (units as RELION's label: Å,
    /// kV, mm, …), or an error naming the file, the column and the row.
    pub fn optics_value(&self, row: usize, label: &str) -> anyhow::Result<f64> {
        self.optics
            .number(label, self.optics_rows[row])
            .with_context(|| {
                format!(
                    "{}: data_optics has no numeric {label} column (expected one for optics group \
                 {} of {})",
                    self.path.display(),
                    self.optics_groups[row],
                    self.names[row]
                )
            })
    }

    /// `rlnMicrographPixelSize` of row `row`'s optics group: the micrographs' pixel size in Å
    /// (after any binning), which must be positive.
    pub fn micrograph_pixel_size(&self, row: usize) -> anyhow::Result<f64> {
        let pixel = self.optics_value(row, "rlnMicrographPixelSize")?;
        if !(pixel.is_finite() && pixel > 0.0) {
            bail!(
                "{}: optics group {} has rlnMicrographPixelSize {pixel} (expected > 0 Å)",
                self.path.display(),
                self.optics_groups[row]
            );
        }
        Ok(pixel)
    }

    /// `rlnMicrographOriginalPixelSize` of row `row`'s optics group: the movies' pixel size in
    /// Å, or `rlnMicrographPixelSize` when the file has no original pixel size.
    pub fn original_pixel_size(&self, row: usize) -> anyhow::Result<f64> {
        self.optics_value(row, "rlnMicrographOriginalPixelSize")
            .or_else(|original| {
                self.optics_value(row, "rlnMicrographPixelSize")
                    .map_err(|_| original)
            })
    }

    /// The text column `label` of the rows' block, or an error naming the file and column.
    pub fn texts(&self, label: &str) -> anyhow::Result<&[String]> {
        self.items.texts(label).with_context(|| {
            format!(
                "{}: data_{} has no {label} column",
                self.path.display(),
                self.kind.block()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_movie_set_gives_names_and_groups_and_refuses_undefined_groups() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("movies.star");
        let header = "data_optics\nloop_\n_rlnOpticsGroupName\n_rlnOpticsGroup\n\
             _rlnMicrographOriginalPixelSize\n_rlnVoltage\n_rlnSphericalAberration\n\
             _rlnAmplitudeContrast\nopticsGroup1 1 0.885 300 2.7 0.1\n\n\
             data_movies\nloop_\n_rlnMicrographMovieName\n_rlnOpticsGroup\n";
        std::fs::write(&path, format!("{header}a.tiff 1\nb.tiff 1\n")).unwrap();
        let set = MicrographSet::read(&path, SetKind::Movies).unwrap();
        assert_eq!(set.names, ["a.tiff", "b.tiff"]);
        assert_eq!(set.original_pixel_size(1).unwrap(), 0.885);
        assert_eq!(set.optics_value(0, "rlnVoltage").unwrap(), 300.0);
        let message = set.micrograph_pixel_size(0).unwrap_err().to_string();
        assert!(message.contains("rlnMicrographPixelSize"), "{message}");
        std::fs::write(&path, format!("{header}a.tiff 2\n")).unwrap();
        let message = MicrographSet::read(&path, SetKind::Movies)
            .unwrap_err()
            .to_string();
        assert!(message.contains("optics group 2"), "{message}");
        assert!(MicrographSet::read(&path, SetKind::Micrographs).is_err());
    }
}
