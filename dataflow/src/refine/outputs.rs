//! RELION-style outputs of a refinement (refine.md §8.1, §8.3, §8.4), all written atomically.
//!
//! Per iteration NNN: `<root>_itNNN_half{1,2}_class001.mrc` (solvent-flattened references),
//! `<root>_itNNN_half{1,2}_model.star`, `<root>_itNNN_data.star` and `<root>_itNNN_data.parquet`.
//! Iteration 0 writes the low-passed start reference as both half maps. The final iteration
//! writes `<root>_class001.mrc` (joined halves), `<root>_half{1,2}_class001_unfil.mrc`,
//! `<root>_data.star`, `<root>_data.parquet` and `<root>_model.star`.
//!
//! data.star keeps the input columns in their order and adds or replaces RELION's refine
//! columns in RELION's order: rlnRandomSubset, rlnGroupNumber, rlnAngleRot, rlnAngleTilt,
//! rlnAnglePsi, rlnOriginXAngst, rlnOriginYAngst, rlnClassNumber, rlnNormCorrection (1: norm
//! correction is not refined yet), rlnLogLikeliContribution, rlnMaxValueProbDistribution,
//! rlnNrOfSignificantSamples.

use std::path::{Path, PathBuf};

use anyhow::Context;
use cryoflux_formats::star::{Column, ColumnData, DataBlock, StarFile, Table, Value};
use cryoflux_formats::table::{ParticleTable, write_parquet};
use cryoflux_kernels::grid::Volume;
use cryoflux_operators::records::{MapRecord, Maximised};

use crate::maps::{Grids, write_grids};
use crate::particles::ParticleSet;

/// RELION's stand-in resolution (Å) of shell 0.
const DC_RESOLUTION: f64 = 999.0;

/// Writes the files of one job under an output root.
#[derive(Debug)]
pub struct Outputs<'a> {
    root: PathBuf,
    set: &'a ParticleSet,
    halves: Vec<u8>,
}

/// Model-file values that are not in [`Maximised`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelInfo {
    /// rlnCurrentResolution (Å).
    pub resolution_angst: f64,
    /// Half set (1 or 2), or 0 for the final joined model.
    pub half: u8,
}

impl<'a> Outputs<'a> {
    /// Outputs under `root` (its folder is created) for the particles of `set` split into
    /// `halves` (1 or 2 per row).
    pub fn new(root: &Path, set: &'a ParticleSet, halves: Vec<u8>) -> anyhow::Result<Self> {
        if let Some(dir) = root.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
        }
        Ok(Self {
            root: root.to_path_buf(),
            set,
            halves,
        })
    }

    /// `<root><suffix>`.
    pub fn path(&self, suffix: &str) -> PathBuf {
        let mut name = self.root.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    }

    /// Iteration 0: the low-passed reference as both half maps.
    pub fn start(&self, reference: &Volume) -> anyhow::Result<()> {
        for half in 1..=2 {
            let path = self.path(&format!("_it000_half{half}_class001.mrc"));
            write_grids(&path, &Grids::Volume(reference.clone()))?;
        }
        Ok(())
    }

    /// The files of one iteration (and the final files after the final iteration).
    pub fn iteration(&self, m: &Maximised, resolution_angst: f64) -> anyhow::Result<()> {
        let it = format!("_it{:03}", m.plan.iteration);
        for (h, map) in m.maps.iter().enumerate() {
            write_map(&self.path(&format!("{it}_half{}_class001.mrc", h + 1)), map)?;
            let info = ModelInfo {
                resolution_angst,
                half: h as u8 + 1,
            };
            model_star(m, &info).write(&self.path(&format!("{it}_half{}_model.star", h + 1)))?;
        }
        self.data(m, &format!("{it}_data"))?;
        if let Some(maps) = &m.final_maps {
            write_map(&self.path("_class001.mrc"), &maps.joined)?;
            for (h, map) in maps.unfiltered.iter().enumerate() {
                write_map(
                    &self.path(&format!("_half{}_class001_unfil.mrc", h + 1)),
                    map,
                )?;
            }
            self.data(m, "_data")?;
            let info = ModelInfo {
                resolution_angst,
                half: 0,
            };
            model_star(m, &info).write(&self.path("_model.star"))?;
        }
        Ok(())
    }

    /// `<root><stem>.star` and `<root><stem>.parquet`.
    fn data(&self, m: &Maximised, stem: &str) -> anyhow::Result<()> {
        let star = self.data_star(m)?;
        let star_path = self.path(&format!("{stem}.star"));
        star.write(&star_path)?;
        let table = ParticleTable::from_star(star, &star_path)?;
        write_parquet(&table, &self.path(&format!("{stem}.parquet")))?;
        Ok(())
    }

    /// The input particle table with the refine columns of this iteration.
    pub fn data_star(&self, m: &Maximised) -> anyhow::Result<StarFile> {
        let mut star = self.set.star().clone();
        let rows = star.particles.rows();
        if m.updates.len() != rows || m.updates.iter().enumerate().any(|(i, u)| u.id != i as u64) {
            anyhow::bail!(
                "internal: {} particle updates for {rows} rows; expected one per row in order",
                m.updates.len()
            );
        }
        let floats = |f: &dyn Fn(&cryoflux_operators::records::ParticleUpdate) -> f64| {
            ColumnData::Float(m.updates.iter().map(f).collect())
        };
        let ints = |v: Vec<i64>| ColumnData::Int(v);
        let columns = [
            (
                "rlnRandomSubset",
                ints(self.halves.iter().map(|&h| i64::from(h)).collect()),
            ),
            ("rlnGroupNumber", ints(vec![1; rows])),
            ("rlnAngleRot", floats(&|u| u.pose.rot)),
            ("rlnAngleTilt", floats(&|u| u.pose.tilt)),
            ("rlnAnglePsi", floats(&|u| u.pose.psi)),
            ("rlnOriginXAngst", floats(&|u| u.pose.origin_angst[0])),
            ("rlnOriginYAngst", floats(&|u| u.pose.origin_angst[1])),
            ("rlnClassNumber", ints(vec![1; rows])),
            ("rlnNormCorrection", ColumnData::Float(vec![1.0; rows])),
            ("rlnLogLikeliContribution", floats(&|u| u.log_likelihood)),
            (
                "rlnMaxValueProbDistribution",
                floats(&|u| u.max_probability),
            ),
            (
                "rlnNrOfSignificantSamples",
                ints(
                    m.updates
                        .iter()
                        .map(|u| u.significant_samples as i64)
                        .collect(),
                ),
            ),
        ];
        for (label, data) in columns {
            star.particles.set_column(Column {
                label: label.into(),
                data,
            });
        }
        Ok(star.into_star())
    }
}

fn write_map(path: &Path, map: &MapRecord) -> anyhow::Result<()> {
    write_grids(path, &Grids::Volume(map.to_volume()?))
}

/// A model.star with RELION's blocks `model_general`, `model_class_1` (FSC, SSNR, τ² per
/// shell) and `model_group_1` (σ² of the half, or of half 1 for the joined model).
pub fn model_star(m: &Maximised, info: &ModelInfo) -> StarFile {
    let n = m.maps[0].box_size;
    let pixel = m.maps[0].pixel_size;
    let half = usize::from(info.half.max(1) - 1);
    let general: Vec<(&str, Value)> = vec![
        ("rlnReferenceDimensionality", Value::Int(3)),
        ("rlnDataDimensionality", Value::Int(2)),
        ("rlnOriginalImageSize", Value::Int(n as i64)),
        ("rlnCurrentResolution", Value::Float(info.resolution_angst)),
        (
            "rlnCurrentImageSize",
            Value::Int(m.plan.current_size as i64),
        ),
        ("rlnPaddingFactor", Value::Float(2.0)),
        ("rlnFourierSpaceInterpolator", Value::Int(1)),
        ("rlnPixelSize", Value::Float(pixel)),
        ("rlnNrClasses", Value::Int(1)),
        ("rlnNrGroups", Value::Int(1)),
        ("rlnTau2FudgeFactor", Value::Float(1.0)),
        ("rlnNormCorrectionAverage", Value::Float(1.0)),
        (
            "rlnSigmaOffsetsAngst",
            Value::Float(m.sigma_offset_angst[half]),
        ),
        ("rlnOrientationalPriorMode", Value::Int(0)),
        ("rlnLogLikelihood", Value::Float(m.stats.log_likelihood)),
        ("rlnAveragePmax", Value::Float(m.stats.mean_max_probability)),
    ];
    let shells: Vec<usize> = (0..m.fsc.len()).collect();
    let spatial: Vec<f64> = shells
        .iter()
        .map(|&r| r as f64 / (n as f64 * pixel))
        .collect();
    let angstrom: Vec<f64> = spatial
        .iter()
        .map(|&s| if s > 0.0 { 1.0 / s } else { DC_RESOLUTION })
        .collect();
    let index = ColumnData::Int(shells.iter().map(|&r| r as i64).collect());
    let float = |label: &str, values: Vec<f64>| Column {
        label: label.into(),
        data: ColumnData::Float(values),
    };
    let per_shell = |values: &[f64]| -> Vec<f64> {
        (0..shells.len())
            .map(|r| values.get(r).copied().unwrap_or(0.0))
            .collect()
    };
    let class = vec![
        Column {
            label: "rlnSpectralIndex".into(),
            data: index.clone(),
        },
        float("rlnResolution", spatial.clone()),
        float("rlnAngstromResolution", angstrom),
        float("rlnSsnrMap", per_shell(&m.ssnr)),
        float("rlnGoldStandardFsc", m.fsc.clone()),
        float("rlnReferenceTau2", per_shell(&m.tau2)),
    ];
    let group = vec![
        Column {
            label: "rlnSpectralIndex".into(),
            data: index,
        },
        float("rlnResolution", spatial),
        float("rlnSigma2Noise", per_shell(&m.sigma2[half])),
    ];
    let table = |name: &str, columns: Vec<Column>| DataBlock {
        name: name.into(),
        pairs: Vec::new(),
        // Every column has one entry per shell, so the lengths agree.
        table: Some(Table::from_columns(columns).unwrap_or_default()),
    };
    StarFile {
        blocks: vec![
            DataBlock {
                name: "model_general".into(),
                pairs: general
                    .into_iter()
                    .map(|(l, v)| (l.to_string(), v))
                    .collect(),
                table: None,
            },
            table("model_class_1", class),
            table("model_group_1", group),
        ],
    }
}
