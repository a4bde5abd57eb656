//! The job's input: a RELION 3.1 micrographs STAR file (`data_optics` + `data_micrographs`),
//! read by jobkit's reader into one [`Micrograph`] per row with its optics group's microscope (pixel size in Å,
//! voltage in kV, Cs in mm, amplitude contrast as a fraction).

use std::path::Path;

use anyhow::{Context, bail};
use cryoflux_formats::star::Table;
use cryoflux_jobkit::micrographs::{self, SetKind};
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

/// The input STAR file: its optics table (copied to the output as is) and its micrographs.
#[derive(Debug, Clone)]
pub struct MicrographSet {
    /// The `data_optics` table.
    pub optics: Table,
    /// One entry per row of `data_micrographs`, in file order.
    pub micrographs: Vec<Micrograph>,
}

/// Reads `path` through [`cryoflux_jobkit::micrographs::MicrographSet`]; with `use_no_dw` the
/// micrographs are read from `rlnMicrographNameNoDW`. Every micrograph's optics group must give
/// `rlnMicrographPixelSize`, `rlnVoltage`, `rlnSphericalAberration` and
/// `rlnAmplitudeContrast`.
pub fn read_micrographs(path: &Path, use_no_dw: bool) -> anyhow::Result<MicrographSet> {
    let set = micrographs::MicrographSet::read(path, SetKind::Micrographs)?;
    let sources = if use_no_dw {
        set.texts("rlnMicrographNameNoDW")
            .context("--use_noDW needs the micrographs without dose weighting")?
    } else {
        &set.names
    };
    if set.names.is_empty() {
        bail!(
            "{}: data_micrographs has no rows (expected at least one micrograph)",
            path.display()
        );
    }
    let micrographs = (0..set.names.len())
        .map(|row| {
            Ok(Micrograph {
                name: set.names[row].clone(),
                source: sources[row].clone(),
                optics_group: set.optics_groups[row],
                pixel_size: set.micrograph_pixel_size(row)?,
                voltage_kv: set.optics_value(row, "rlnVoltage")?,
                cs_mm: set.optics_value(row, "rlnSphericalAberration")?,
                amplitude_contrast: set.optics_value(row, "rlnAmplitudeContrast")?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(MicrographSet {
        optics: set.optics,
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
