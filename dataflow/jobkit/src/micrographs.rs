//! Movie and micrograph sets: RELION 3.1's `movies.star`, `corrected_micrographs.star` and
//! `micrographs_ctf.star` — an optics table (`data_optics`) and one row per movie or micrograph
//! (`data_movies` / `data_micrographs`) naming its file and optics group.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use cryoflux_formats::star::{DataBlock, StarFile, Table};

/// One optics group's constants (RELION units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpticsGroup {
    /// `rlnMicrographOriginalPixelSize`: pixel size of the movies in Å.
    pub original_pixel_size: f64,
    /// `rlnMicrographPixelSize`: pixel size of the micrographs in Å (after binning), if known.
    pub micrograph_pixel_size: Option<f64>,
    /// `rlnVoltage` in kV.
    pub voltage_kv: f64,
    /// `rlnSphericalAberration` in mm.
    pub cs_mm: f64,
    /// `rlnAmplitudeContrast`.
    pub amplitude_contrast: f64,
}

/// A movie or micrograph set read from a STAR file.
#[derive(Debug, Clone, PartialEq)]
pub struct MicrographSet {
    /// The file it was read from.
    pub path: PathBuf,
    /// The optics table as read (written back unchanged, plus any new columns, by jobs).
    pub optics: Table,
    /// Optics groups by number.
    pub groups: BTreeMap<i64, OpticsGroup>,
    /// The movies' or micrographs' table as read (`data_movies` or `data_micrographs`).
    pub items: Table,
    /// Each row's file name (`rlnMicrographMovieName` or `rlnMicrographName`), as written.
    pub names: Vec<String>,
    /// Each row's optics group number.
    pub optics_groups: Vec<i64>,
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
}

impl MicrographSet {
    /// Reads `path`, checking that the optics table defines every group the rows use and has
    /// the pixel size and microscope columns. Errors name the file, block and column.
    pub fn read(path: &Path, kind: SetKind) -> anyhow::Result<Self> {
        let star = StarFile::read(path)?;
        let table = |name: &str| -> anyhow::Result<Table> {
            star.block(name)
                .and_then(|b: &DataBlock| b.table.clone())
                .ok_or_else(|| anyhow!("{}: no data_{name} table", path.display()))
        };
        let optics = table("optics")?;
        let items = table(kind.block())?;
        let names = items
            .texts(kind.name_label())
            .ok_or_else(|| {
                anyhow!(
                    "{}: data_{} has no {}",
                    path.display(),
                    kind.block(),
                    kind.name_label()
                )
            })?
            .to_vec();
        let optics_groups = match items.ints("rlnOpticsGroup") {
            Some(groups) => groups.to_vec(),
            None => vec![1; names.len()],
        };
        let groups =
            read_groups(&optics).with_context(|| format!("{}: data_optics", path.display()))?;
        if let Some((row, g)) = optics_groups
            .iter()
            .enumerate()
            .find(|(_, g)| !groups.contains_key(g))
        {
            bail!(
                "{}: row {} of data_{} uses optics group {g}, which data_optics does not define",
                path.display(),
                row + 1,
                kind.block()
            );
        }
        Ok(Self {
            path: path.to_path_buf(),
            optics,
            groups,
            items,
            names,
            optics_groups,
        })
    }

    /// The optics group of row `row`.
    pub fn group_of(&self, row: usize) -> OpticsGroup {
        self.groups[&self.optics_groups[row]]
    }
}

/// The optics groups of an optics table.
fn read_groups(optics: &Table) -> anyhow::Result<BTreeMap<i64, OpticsGroup>> {
    let numbers = optics
        .ints("rlnOpticsGroup")
        .ok_or_else(|| anyhow!("no rlnOpticsGroup column"))?;
    let column = |label: &str| -> anyhow::Result<&[f64]> {
        optics
            .floats(label)
            .ok_or_else(|| anyhow!("no {label} column"))
    };
    let micrograph = optics.floats("rlnMicrographPixelSize");
    let original = match optics.floats("rlnMicrographOriginalPixelSize") {
        Some(values) => values,
        None => micrograph.ok_or_else(|| anyhow!("no rlnMicrographOriginalPixelSize column"))?,
    };
    let (voltage, cs, q0) = (
        column("rlnVoltage")?,
        column("rlnSphericalAberration")?,
        column("rlnAmplitudeContrast")?,
    );
    Ok(numbers
        .iter()
        .enumerate()
        .map(|(i, &g)| {
            (
                g,
                OpticsGroup {
                    original_pixel_size: original[i],
                    micrograph_pixel_size: micrograph.map(|m| m[i]),
                    voltage_kv: voltage[i],
                    cs_mm: cs[i],
                    amplitude_contrast: q0[i],
                },
            )
        })
        .collect())
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
        assert_eq!(set.group_of(1).original_pixel_size, 0.885);
        assert_eq!(set.group_of(0).micrograph_pixel_size, None);
        std::fs::write(&path, format!("{header}a.tiff 2\n")).unwrap();
        let message = MicrographSet::read(&path, SetKind::Movies)
            .unwrap_err()
            .to_string();
        assert!(message.contains("optics group 2"), "{message}");
        assert!(MicrographSet::read(&path, SetKind::Micrographs).is_err());
    }
}
