//! The job's input: a RELION 3.1 micrographs STAR file (`data_optics` + `data_micrographs`),
//! read into one [`Micrograph`] per row with its optics group's microscope (pixel size in Å,
//! voltage in kV, Cs in mm, amplitude contrast as a fraction).

use std::path::Path;

use anyhow::{Context, bail};
use cryoflux_formats::star::{DataBlock, StarFile, Table};
use cryoflux_kernels::ctffind::Microscope;
use serde::{Deserialize, Serialize};

/// One micrograph to estimate, with everything a worker needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Micrograph {
    /// `rlnMicrographName` as written in the input (the name the output table keeps).
    pub name: String,
    /// The file read: `rlnMicrographName`, or `rlnMicrographNameNoDW` with `--use_noDW`.
    pub source: String,
    /// `rlnOpticsGroup` (1-based).
    pub optics_group: i64,
    /// The group's `rlnMicrographPixelSize` in Å.
    pub pixel_size: f64,
    /// The group's `rlnVoltage` in kV.
    pub voltage_kv: f64,
    /// The group's `rlnSphericalAberration` in mm.
    pub cs_mm: f64,
    /// The group's `rlnAmplitudeContrast` (fraction).
    pub amplitude_contrast: f64,
}

impl Micrograph {
    /// The imaging conditions of this micrograph.
    pub fn microscope(&self) -> Microscope {
        Microscope {
            voltage_kv: self.voltage_kv,
            cs_mm: self.cs_mm,
            amplitude_contrast: self.amplitude_contrast,
            pixel_size: self.pixel_size,
        }
    }
}

/// The input STAR file: its optics block (copied to the output as is) and its micrographs.
#[derive(Debug, Clone)]
pub struct MicrographSet {
    /// The `data_optics` block.
    pub optics: DataBlock,
    /// One entry per row of `data_micrographs`, in file order.
    pub micrographs: Vec<Micrograph>,
}

/// The loop of `block`, or an error naming the file and the block.
fn table_of<'a>(star: &'a StarFile, name: &str, path: &Path) -> anyhow::Result<&'a Table> {
    star.block(name)
        .and_then(|b| b.table.as_ref())
        .with_context(|| {
            format!(
                "{}: no data_{name} loop; expected a RELION 3.1 micrographs STAR file (e.g. \
                 MotionCorr/jobNNN/corrected_micrographs.star)",
                path.display()
            )
        })
}

/// A float column of `table`, or an error naming the file, block and label.
fn floats<'a>(
    table: &'a Table,
    label: &str,
    block: &str,
    path: &Path,
) -> anyhow::Result<&'a [f64]> {
    table.floats(label).with_context(|| {
        format!(
            "{}: data_{block} has no numeric {label} column (expected one)",
            path.display()
        )
    })
}

/// An integer column of `table`, or an error naming the file, block and label.
fn ints<'a>(table: &'a Table, label: &str, block: &str, path: &Path) -> anyhow::Result<&'a [i64]> {
    table.ints(label).with_context(|| {
        format!(
            "{}: data_{block} has no integer {label} column (expected one)",
            path.display()
        )
    })
}

/// A text column of `table`, or an error naming the file, block and label.
fn texts<'a>(
    table: &'a Table,
    label: &str,
    block: &str,
    path: &Path,
) -> anyhow::Result<&'a [String]> {
    table.texts(label).with_context(|| {
        format!(
            "{}: data_{block} has no {label} column (expected one)",
            path.display()
        )
    })
}

/// Reads `path`; with `use_no_dw` the micrographs are read from `rlnMicrographNameNoDW`.
pub fn read_micrographs(path: &Path, use_no_dw: bool) -> anyhow::Result<MicrographSet> {
    let star = StarFile::read(path)?;
    let optics = table_of(&star, "optics", path)?;
    let groups = ints(optics, "rlnOpticsGroup", "optics", path)?;
    let pixel = floats(optics, "rlnMicrographPixelSize", "optics", path)?;
    let voltage = floats(optics, "rlnVoltage", "optics", path)?;
    let cs = floats(optics, "rlnSphericalAberration", "optics", path)?;
    let q0 = floats(optics, "rlnAmplitudeContrast", "optics", path)?;

    let table = table_of(&star, "micrographs", path)?;
    let names = texts(table, "rlnMicrographName", "micrographs", path)?;
    let sources = if use_no_dw {
        texts(table, "rlnMicrographNameNoDW", "micrographs", path)
            .context("--use_noDW needs the micrographs without dose weighting")?
    } else {
        names
    };
    let member_of = ints(table, "rlnOpticsGroup", "micrographs", path)?;
    let micrographs = (0..table.rows())
        .map(|row| {
            let group = member_of[row];
            let Some(g) = groups.iter().position(|&id| id == group) else {
                bail!(
                    "{}: micrograph {} (row {}) is in optics group {group}, which data_optics \
                     does not define (expected one of {groups:?})",
                    path.display(),
                    names[row],
                    row + 1
                );
            };
            Ok(Micrograph {
                name: names[row].clone(),
                source: sources[row].clone(),
                optics_group: group,
                pixel_size: pixel[g],
                voltage_kv: voltage[g],
                cs_mm: cs[g],
                amplitude_contrast: q0[g],
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if micrographs.is_empty() {
        bail!(
            "{}: data_micrographs has no rows (expected at least one micrograph)",
            path.display()
        );
    }
    let optics = star.block("optics").cloned().context("optics block")?;
    Ok(MicrographSet {
        optics,
        micrographs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAR: &str = "\ndata_optics\n\nloop_\n_rlnOpticsGroupName #1\n_rlnOpticsGroup #2\n\
        _rlnVoltage #3\n_rlnSphericalAberration #4\n_rlnAmplitudeContrast #5\n\
        _rlnMicrographPixelSize #6\nopticsGroup1 1 300.0 2.7 0.1 1.8\nopticsGroup2 2 200.0 1.4 0.07 0.9\n\n\
        data_micrographs\n\nloop_\n_rlnMicrographName #1\n_rlnOpticsGroup #2\n\
        _rlnMicrographNameNoDW #3\nM/a.mrc 2 M/a_noDW.mrc\nM/b.mrc 1 M/b_noDW.mrc\n";

    fn write(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("micrographs.star");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn each_micrograph_gets_its_groups_microscope() {
        let (_dir, path) = write(STAR);
        let set = read_micrographs(&path, false).unwrap();
        assert_eq!(set.micrographs.len(), 2);
        let a = &set.micrographs[0];
        assert_eq!((a.name.as_str(), a.source.as_str()), ("M/a.mrc", "M/a.mrc"));
        assert_eq!(
            (a.optics_group, a.pixel_size, a.voltage_kv, a.cs_mm),
            (2, 0.9, 200.0, 1.4)
        );
        assert_eq!(a.amplitude_contrast, 0.07);
        assert_eq!(set.micrographs[1].pixel_size, 1.8);
        let no_dw = read_micrographs(&path, true).unwrap();
        assert_eq!(no_dw.micrographs[1].source, "M/b_noDW.mrc");
        assert_eq!(no_dw.micrographs[1].name, "M/b.mrc");
    }

    #[test]
    fn missing_pixel_size_and_unknown_group_are_named() {
        let (_dir, path) = write(&STAR.replace("_rlnMicrographPixelSize", "_rlnImagePixelSize"));
        let e = read_micrographs(&path, false).unwrap_err().to_string();
        assert!(e.contains("rlnMicrographPixelSize"), "{e}");
        let (_dir, path) = write(&STAR.replace("M/a.mrc 2", "M/a.mrc 7"));
        let e = read_micrographs(&path, false).unwrap_err().to_string();
        assert!(e.contains("optics group 7"), "{e}");
    }
}
