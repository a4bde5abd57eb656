//! The `--i` micrographs STAR file (`corrected_micrographs.star` or `micrographs_ctf.star`):
//! each micrograph's name, optics group and pixel size (`rlnMicrographPixelSize`, Å, from
//! `data_optics`), its CTF as RELION copies it to particles, and the particles' optics block.

use std::path::Path;

use anyhow::Context;
use cryoflux_formats::star::{Column, Table};
use cryoflux_jobkit::micrographs::{self, SetKind};

use crate::rows::set_float;

/// RELION 3.1.3's CTF labels of an extracted particle, in the order it writes them, with the
/// value it writes when the micrographs STAR file lacks the label (None: left out). Written only
/// when the micrographs have `rlnDefocusU` (a CTF estimate).
const CTF_LABELS: [(&str, Option<f64>); 8] = [
    ("rlnCtfMaxResolution", None),
    ("rlnCtfFigureOfMerit", None),
    ("rlnDefocusU", None),
    ("rlnDefocusV", None),
    ("rlnDefocusAngle", None),
    ("rlnCtfBfactor", Some(0.0)),
    ("rlnCtfScalefactor", Some(1.0)),
    ("rlnPhaseShift", Some(0.0)),
];

/// One micrograph of the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Micrograph {
    /// `rlnMicrographName`, as written in the file (a path relative to the project).
    pub name: String,
    /// `rlnOpticsGroup` (1 when the column is absent).
    pub optics_group: i64,
    /// `rlnMicrographPixelSize` of its optics group, Å.
    pub pixel_size: f64,
    /// Its CTF labels and values (Å, degrees, …) in RELION's order ([`CTF_LABELS`]); empty
    /// without a CTF estimate.
    pub ctf: Vec<(&'static str, f64)>,
}

impl Micrograph {
    /// Sets this micrograph's CTF columns on every row of `particles` (replacing or appending).
    pub fn set_ctf(&self, particles: &mut Table) {
        for &(label, value) in &self.ctf {
            set_float(particles, label, value);
        }
    }
}

/// The micrographs of a `--i` file and its optics groups.
#[derive(Debug, Clone, PartialEq)]
pub struct MicrographSet {
    /// The micrographs in file order.
    pub micrographs: Vec<Micrograph>,
    /// The file's `data_optics` table.
    pub optics: Table,
}

impl MicrographSet {
    /// Reads and checks `path` through [`cryoflux_jobkit::micrographs::MicrographSet`]:
    /// `data_optics` with `rlnOpticsGroup` and a positive `rlnMicrographPixelSize` (Å) per
    /// group, `data_micrographs` with `rlnMicrographName` and optics groups defined in
    /// `data_optics`.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let set = micrographs::MicrographSet::read(path, SetKind::Micrographs)
            .with_context(|| format!("cannot read the micrographs STAR file {}", path.display()))?;
        let rows = &set.items;
        let has_ctf = rows.column("rlnDefocusU").is_some();
        let micrographs = (0..rows.rows())
            .map(|row| {
                let ctf = if has_ctf {
                    CTF_LABELS
                        .iter()
                        .filter_map(|&(label, default)| {
                            rows.number(label, row).or(default).map(|v| (label, v))
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                Ok(Micrograph {
                    name: set.names[row].clone(),
                    optics_group: set.optics_groups[row],
                    pixel_size: set.micrograph_pixel_size(row)?,
                    ctf,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(MicrographSet {
            micrographs,
            optics: set.optics,
        })
    }

    /// The particles' `data_optics`: the micrographs' optics groups without
    /// `rlnMicrographPixelSize`, with `rlnImagePixelSize` (Å, from `particle_pixel_size` of the
    /// group's micrograph pixel size), `rlnImageSize` (px) and `rlnImageDimensionality` (2).
    pub fn particle_optics(
        &self,
        image_size: usize,
        particle_pixel_size: impl Fn(f64) -> f64,
    ) -> anyhow::Result<Table> {
        let mut optics = self.optics.clone();
        let pixel_sizes = (0..optics.rows())
            .map(|row| {
                optics
                    .number("rlnMicrographPixelSize", row)
                    .map(&particle_pixel_size)
                    .context(
                        "data_optics has no rlnMicrographPixelSize (expected the micrographs' \
                         pixel size in Å, as RELION 3.1 writes it)",
                    )
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        optics.remove_column("rlnMicrographPixelSize");
        optics.set_column(Column::floats("rlnImagePixelSize", pixel_sizes));
        let rows = optics.rows();
        optics.set_column(Column::ints(
            "rlnImageSize",
            std::iter::repeat_n(image_size as i64, rows),
        ));
        optics.set_column(Column::ints(
            "rlnImageDimensionality",
            std::iter::repeat_n(2, rows),
        ));
        Ok(optics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAR: &str = "data_optics\nloop_\n_rlnOpticsGroupName #1\n_rlnOpticsGroup #2\n\
        _rlnMicrographOriginalPixelSize #3\n_rlnMicrographPixelSize #4\n\
        opticsGroup1 1 0.75 1.5\nopticsGroup2 2 0.75 3.0\n\n\
        data_micrographs\nloop_\n_rlnMicrographName #1\n_rlnOpticsGroup #2\n_rlnDefocusU #3\n\
        _rlnDefocusV #4\n_rlnDefocusAngle #5\n_rlnCtfFigureOfMerit #6\n\
        a.mrc 1 10000 9000 30 0.1\nb.mrc 2 20000 19000 -30 0.2\n";

    #[test]
    fn micrographs_carry_pixel_size_and_relions_ctf_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mics.star");
        std::fs::write(&path, STAR).unwrap();
        let set = MicrographSet::read(&path).unwrap();
        let b = &set.micrographs[1];
        assert_eq!(
            (b.name.as_str(), b.optics_group, b.pixel_size),
            ("b.mrc", 2, 3.0)
        );
        assert_eq!(
            b.ctf,
            [
                ("rlnCtfFigureOfMerit", 0.2),
                ("rlnDefocusU", 20000.0),
                ("rlnDefocusV", 19000.0),
                ("rlnDefocusAngle", -30.0),
                ("rlnCtfBfactor", 0.0),
                ("rlnCtfScalefactor", 1.0),
                ("rlnPhaseShift", 0.0),
            ]
        );
        let optics = set.particle_optics(64, |p| p * 2.0).unwrap();
        let labels: Vec<_> = optics.columns().iter().map(|c| c.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "rlnOpticsGroupName",
                "rlnOpticsGroup",
                "rlnMicrographOriginalPixelSize",
                "rlnImagePixelSize",
                "rlnImageSize",
                "rlnImageDimensionality"
            ]
        );
        assert_eq!(optics.floats("rlnImagePixelSize"), Some(&[3.0, 6.0][..]));
        std::fs::write(&path, STAR.replace("_rlnMicrographPixelSize", "_rlnFoo")).unwrap();
        let err = format!("{:#}", MicrographSet::read(&path).unwrap_err());
        assert!(err.contains("rlnMicrographPixelSize"), "{err}");
    }
}
