//! The model file of an iteration (`<root>_itNNN_half{1,2}_model.star`, `<root>_model.star`;
//! refine.md §8.4) with the blocks and labels RELION 3.1.3 writes and reads back on
//! `--continue`:
//!
//! - `model_general`: sizes (pixels), pixel size (Å), current resolution (Å), offset prior width
//!   (Å), orientational prior mode and σ (degrees; 1 and the local-search σ in local searches),
//!   log-likelihood and mean Pmax;
//! - `model_classes`: the reference map's path, class distribution 1, the estimated accuracies
//!   (degrees, Å; 0 when not estimated, as RELION) and the resolution (Å);
//! - `model_class_1`, per shell 0 … N/2: spatial frequency (Å⁻¹), resolution (Å, 999 at 0),
//!   SSNR, gold-standard FSC, rlnReferenceSigma2 (σ²_rec = 1/mean data weight, recovered as
//!   τ²/SSNR, since the M-step makes τ² = SSNR·σ²_rec with SSNR > 0) and τ²;
//! - `model_groups`: every noise group's number, name, particle count in the half (both halves
//!   in the joined model) and intensity scale; `model_group_<g>`: its σ²_g(r);
//! - `model_pdf_orient_class_1`: the fraction of particles per coarse direction
//!   ([`super::angdist`]).
//!
//! Not written (cryoflux's M-step does not report them; RELION reads the files without them):
//! rlnOverallFourierCompleteness, rlnFourierCompleteness, rlnSpectralOrientabilityContribution.

use std::path::Path;

use anyhow::anyhow;
use cryoflux_formats::star::{Column, ColumnData, DataBlock, StarFile, Table, Value};
use cryoflux_operators::refine::records::Maximised;

/// RELION's stand-in resolution (Å) of shell 0.
const DC_RESOLUTION: f64 = 999.0;

/// What a model file needs beyond [`Maximised`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelInfo<'a> {
    /// rlnCurrentResolution and rlnEstimatedResolution (Å).
    pub resolution_angst: f64,
    /// Half set (1 or 2), or 0 for the final joined model (which takes half 1's σ² and offset
    /// width, and counts every particle).
    pub half: u8,
    /// The map of this model (rlnReferenceImage), as RELION should find it.
    pub reference_image: &'a Path,
    /// Fraction of the half's particles per coarse direction (rlnOrientationDistribution).
    pub orientation_distribution: &'a [f64],
    /// The noise groups' names (rlnGroupName), by group index.
    pub group_names: &'a [String],
}

/// The model file of `m` for `info`; see the module doc.
pub fn model_star(m: &Maximised, info: &ModelInfo) -> anyhow::Result<StarFile> {
    let noise = &m.noise[half_index(info)];
    if noise.groups() != info.group_names.len() {
        return Err(anyhow!(
            "internal: a noise model of {} groups for {} group names",
            noise.groups(),
            info.group_names.len()
        ));
    }
    let mut blocks = vec![
        pairs("model_general", general(m, info)),
        table("model_classes", classes(m, info))?,
        table("model_class_1", class_shells(m))?,
        table("model_groups", groups(m, info))?,
    ];
    for (g, sigma2) in noise.sigma2.iter().enumerate() {
        let [index, spatial] = shell_columns(m);
        let sigma2 = float("rlnSigma2Noise", per_shell(sigma2, m.fsc.len()));
        blocks.push(table(
            &format!("model_group_{}", g + 1),
            vec![index, spatial, sigma2],
        )?);
    }
    blocks.push(table(
        "model_pdf_orient_class_1",
        vec![float(
            "rlnOrientationDistribution",
            info.orientation_distribution.to_vec(),
        )],
    )?);
    Ok(StarFile { blocks })
}

/// Index into per-half arrays: half 1 for the joined model.
fn half_index(info: &ModelInfo) -> usize {
    usize::from(info.half.max(1) - 1)
}

fn general(m: &Maximised, info: &ModelInfo) -> Vec<(&'static str, Value)> {
    let map = &m.maps[0];
    let sigma_prior = m.plan.local_sigma_deg.unwrap_or(0.0);
    vec![
        ("rlnReferenceDimensionality", Value::Int(3)),
        ("rlnDataDimensionality", Value::Int(2)),
        ("rlnOriginalImageSize", Value::Int(map.box_size as i64)),
        ("rlnCurrentResolution", Value::Float(info.resolution_angst)),
        (
            "rlnCurrentImageSize",
            Value::Int(m.plan.current_size as i64),
        ),
        ("rlnPaddingFactor", Value::Float(2.0)),
        ("rlnIsHelix", Value::Int(0)),
        ("rlnFourierSpaceInterpolator", Value::Int(1)),
        // Trilinear interpolation at every radius (RELION switches to nearest neighbour
        // below this radius; cryoflux never does).
        ("rlnMinRadiusNnInterpolation", Value::Int(0)),
        ("rlnPixelSize", Value::Float(map.pixel_size)),
        ("rlnNrClasses", Value::Int(1)),
        ("rlnNrBodies", Value::Int(1)),
        ("rlnNrGroups", Value::Int(info.group_names.len() as i64)),
        ("rlnTau2FudgeFactor", Value::Float(1.0)),
        (
            "rlnNormCorrectionAverage",
            Value::Float(m.noise[half_index(info)].average_norm),
        ),
        (
            "rlnSigmaOffsetsAngst",
            Value::Float(m.sigma_offset_angst[half_index(info)]),
        ),
        (
            "rlnOrientationalPriorMode",
            Value::Int(i64::from(m.plan.local_sigma_deg.is_some())),
        ),
        ("rlnSigmaPriorRotAngle", Value::Float(sigma_prior)),
        ("rlnSigmaPriorTiltAngle", Value::Float(sigma_prior)),
        ("rlnSigmaPriorPsiAngle", Value::Float(sigma_prior)),
        ("rlnLogLikelihood", Value::Float(m.stats.log_likelihood)),
        ("rlnAveragePmax", Value::Float(m.stats.mean_max_probability)),
    ]
}

fn classes(m: &Maximised, info: &ModelInfo) -> Vec<Column> {
    vec![
        Column {
            label: "rlnReferenceImage".into(),
            data: ColumnData::Text(vec![info.reference_image.display().to_string()]),
        },
        float("rlnClassDistribution", vec![1.0]),
        float(
            "rlnAccuracyRotations",
            vec![m.stats.accuracy_rotation_deg.unwrap_or(0.0)],
        ),
        float(
            "rlnAccuracyTranslationsAngst",
            vec![m.stats.accuracy_translation_angst.unwrap_or(0.0)],
        ),
        float("rlnEstimatedResolution", vec![info.resolution_angst]),
    ]
}

fn class_shells(m: &Maximised) -> Vec<Column> {
    let shells = m.fsc.len();
    let tau2 = per_shell(&m.tau2, shells);
    let ssnr = per_shell(&m.ssnr, shells);
    let sigma2 = tau2
        .iter()
        .zip(&ssnr)
        .map(|(&t, &s)| if s > 0.0 { t / s } else { 0.0 })
        .collect();
    let [index, spatial] = shell_columns(m);
    let angstrom = spatial_frequencies(m)
        .iter()
        .map(|&s| if s > 0.0 { 1.0 / s } else { DC_RESOLUTION })
        .collect();
    vec![
        index,
        spatial,
        float("rlnAngstromResolution", angstrom),
        float("rlnSsnrMap", ssnr),
        float("rlnGoldStandardFsc", m.fsc.clone()),
        float("rlnReferenceSigma2", sigma2),
        float("rlnReferenceTau2", tau2),
    ]
}

/// The `model_groups` table: number, name, particles of the half (of both halves in the joined
/// model) and intensity scale of every group.
fn groups(m: &Maximised, info: &ModelInfo) -> Vec<Column> {
    let count = |h: usize, g: usize| m.group_particles[h].get(g).copied().unwrap_or(0);
    let particles = (0..info.group_names.len())
        .map(|g| match info.half {
            0 => count(0, g) + count(1, g),
            _ => count(half_index(info), g),
        } as i64)
        .collect();
    vec![
        Column {
            label: "rlnGroupNumber".into(),
            data: ColumnData::Int((1..=info.group_names.len() as i64).collect()),
        },
        Column {
            label: "rlnGroupName".into(),
            data: ColumnData::Text(info.group_names.to_vec()),
        },
        Column {
            label: "rlnGroupNrParticles".into(),
            data: ColumnData::Int(particles),
        },
        float(
            "rlnGroupScaleCorrection",
            m.noise[half_index(info)].scales.clone(),
        ),
    ]
}

/// rlnSpectralIndex and rlnResolution (Å⁻¹) of the shells 0 … N/2.
fn shell_columns(m: &Maximised) -> [Column; 2] {
    [
        Column {
            label: "rlnSpectralIndex".into(),
            data: ColumnData::Int((0..m.fsc.len() as i64).collect()),
        },
        float("rlnResolution", spatial_frequencies(m)),
    ]
}

/// Spatial frequency r/(N·p) of each shell (Å⁻¹).
fn spatial_frequencies(m: &Maximised) -> Vec<f64> {
    let map = &m.maps[0];
    (0..m.fsc.len())
        .map(|r| r as f64 / (map.box_size as f64 * map.pixel_size))
        .collect()
}

/// `values` padded with zeros (or cut) to `shells` entries.
fn per_shell(values: &[f64], shells: usize) -> Vec<f64> {
    (0..shells)
        .map(|r| values.get(r).copied().unwrap_or(0.0))
        .collect()
}

fn float(label: &str, values: Vec<f64>) -> Column {
    Column {
        label: label.into(),
        data: ColumnData::Float(values),
    }
}

fn pairs(name: &str, values: Vec<(&str, Value)>) -> DataBlock {
    DataBlock {
        name: name.into(),
        pairs: values
            .into_iter()
            .map(|(label, value)| (label.to_string(), value))
            .collect(),
        table: None,
    }
}

fn table(name: &str, columns: Vec<Column>) -> anyhow::Result<DataBlock> {
    let table = Table::from_columns(columns)
        .ok_or_else(|| anyhow!("internal: columns of different lengths in block data_{name}"))?;
    Ok(DataBlock {
        name: name.into(),
        pairs: Vec::new(),
        table: Some(table),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::fixture::{group_names, maximised};

    fn info<'a>(half: u8, pdf: &'a [f64], names: &'a [String]) -> ModelInfo<'a> {
        ModelInfo {
            resolution_angst: 8.0,
            half,
            reference_image: Path::new("Refine3D/job001/run_it002_half1_class001.mrc"),
            orientation_distribution: pdf,
            group_names: names,
        }
    }

    #[test]
    fn blocks_and_values_follow_relion() {
        let m = maximised(Some(3.75));
        let pdf = [0.25, 0.75];
        let group_names_ = group_names();
        let star = model_star(&m, &info(2, &pdf, &group_names_)).unwrap();
        let names: Vec<&str> = star.blocks.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "model_general",
                "model_classes",
                "model_class_1",
                "model_groups",
                "model_group_1",
                "model_group_2",
                "model_pdf_orient_class_1"
            ]
        );
        let general = star.block("model_general").unwrap();
        assert_eq!(
            general.pair("rlnOrientationalPriorMode"),
            Some(&Value::Int(1))
        );
        assert_eq!(
            general.pair("rlnSigmaPriorTiltAngle"),
            Some(&Value::Float(3.75))
        );
        assert_eq!(
            general.pair("rlnSigmaOffsetsAngst"),
            Some(&Value::Float(2.5))
        );
        let classes = star.block("model_classes").unwrap().table.as_ref().unwrap();
        assert_eq!(classes.floats("rlnAccuracyRotations"), Some(&[4.0][..]));
        assert_eq!(
            classes.floats("rlnAccuracyTranslationsAngst"),
            Some(&[0.0][..])
        );
        assert_eq!(
            classes.texts("rlnReferenceImage").unwrap()[0],
            "Refine3D/job001/run_it002_half1_class001.mrc"
        );
        let shells = star.block("model_class_1").unwrap().table.as_ref().unwrap();
        let sigma2 = shells.floats("rlnReferenceSigma2").unwrap();
        assert!((sigma2[1] - 0.2).abs() < 1e-12 && (sigma2[4] - 0.1).abs() < 1e-12);
        assert_eq!(
            shells.floats("rlnAngstromResolution").unwrap()[..3],
            [999.0, 16.0, 8.0]
        );
        let groups = star.block("model_groups").unwrap().table.as_ref().unwrap();
        assert_eq!(groups.ints("rlnGroupNrParticles"), Some(&[0, 1][..]));
        assert_eq!(groups.texts("rlnGroupName"), Some(&group_names()[..]));
        let noise = star.block("model_group_2").unwrap().table.as_ref().unwrap();
        assert_eq!(noise.floats("rlnSigma2Noise").unwrap()[0], 2.5);
        let pdf_rows = star.block("model_pdf_orient_class_1").unwrap();
        assert_eq!(
            pdf_rows
                .table
                .as_ref()
                .unwrap()
                .floats("rlnOrientationDistribution"),
            Some(&pdf[..])
        );
    }

    #[test]
    fn the_joined_model_counts_every_particle_and_a_global_search_has_no_prior() {
        let m = maximised(None);
        let names = group_names();
        let star = model_star(&m, &info(0, &[1.0], &names)).unwrap();
        let general = star.block("model_general").unwrap();
        assert_eq!(
            general.pair("rlnOrientationalPriorMode"),
            Some(&Value::Int(0))
        );
        assert_eq!(
            general.pair("rlnSigmaPriorRotAngle"),
            Some(&Value::Float(0.0))
        );
        let groups = star.block("model_groups").unwrap().table.as_ref().unwrap();
        assert_eq!(groups.ints("rlnGroupNrParticles"), Some(&[2, 1][..]));
        // The joined model takes half 1's scales.
        assert_eq!(
            groups.floats("rlnGroupScaleCorrection"),
            Some(&[0.75, 1.25][..])
        );
        assert!(model_star(&m, &info(0, &[1.0], &names[..1])).is_err());
        let text = star.to_string().unwrap();
        assert!(text.contains("data_model_general"), "{text}");
    }
}
