//! `postprocess.star`, with `relion_postprocess`'s (3.1) blocks and labels, so that RELION's
//! GUI, scripts and `starfile` readers find what they expect: `data_general` (final
//! resolution, B-factor, inputs, mask statistics, Guinier fit), `data_fsc` (one row per shell)
//! and `data_guinier` (one row per shell up to Nyquist; −99 where the amplitude is zero).

use cryoflux_formats::star::{Column, ColumnData, DataBlock, StarFile, Table, Value};
use cryoflux_kernels::resolution::guinier::GuinierPoint;

use super::super::Postprocessed;

/// RELION's stand-in resolution (Å) for shell 0 and its stand-in ln amplitude for empty shells.
const DC_RESOLUTION: f64 = 999.0;
const NO_AMPLITUDE: f64 = -99.0;

/// File names recorded in `data_general`, as the user gave them.
#[derive(Debug, Clone, PartialEq)]
pub struct InputNames {
    /// First half map.
    pub half1: String,
    /// Second half map.
    pub half2: String,
    /// The mask, if one was used.
    pub mask: Option<String>,
}

/// The STAR document of a run.
pub fn postprocess_star(run: &Postprocessed, names: &InputNames) -> StarFile {
    StarFile {
        blocks: vec![general(run, names), fsc(run), guinier(run)],
    }
}

fn general(run: &Postprocessed, names: &InputNames) -> DataBlock {
    let map = &run.sharpened.map;
    let mut pairs = vec![
        ("rlnFinalResolution", Value::Float(run.fsc.resolution)),
        (
            "rlnBfactorUsedForSharpening",
            Value::Float(run.sharpened.bfactor),
        ),
        ("rlnUnfilteredMapHalf1", Value::Text(names.half1.clone())),
        ("rlnUnfilteredMapHalf2", Value::Text(names.half2.clone())),
    ];
    if let (Some(masked), Some(mask)) = (&run.fsc.masked, &names.mask) {
        pairs.push((
            "rlnParticleBoxFractionSolventMask",
            Value::Float(masked.solvent_fraction),
        ));
        pairs.push(("rlnMaskName", Value::Text(mask.clone())));
        if let Some(shell) = masked.randomise_shell {
            let from = map.n() as f64 * map.pixel_size() / shell as f64;
            pairs.push(("rlnRandomiseFrom", Value::Float(from)));
        }
    }
    if let Some(fit) = &run.sharpened.fit {
        pairs.push(("rlnFittedSlopeGuinierPlot", Value::Float(fit.slope)));
        pairs.push(("rlnFittedInterceptGuinierPlot", Value::Float(fit.intercept)));
        pairs.push(("rlnCorrelationFitGuinierPlot", Value::Float(fit.r_squared)));
    }
    DataBlock {
        name: "general".into(),
        pairs: pairs.into_iter().map(|(l, v)| (l.to_string(), v)).collect(),
        table: None,
    }
}

fn float_column(label: &str, values: Vec<f64>) -> Column {
    Column {
        label: label.into(),
        data: ColumnData::Float(values),
    }
}

fn table(name: &str, columns: Vec<Column>) -> DataBlock {
    DataBlock {
        name: name.into(),
        pairs: Vec::new(),
        // All columns are built from the same shells, so their lengths agree.
        table: Some(Table::from_columns(columns).unwrap_or_default()),
    }
}

fn fsc(run: &Postprocessed) -> DataBlock {
    let map = &run.sharpened.map;
    let box_angstrom = map.n() as f64 * map.pixel_size();
    let shells = run.fsc.unmasked.len();
    let resolution: Vec<f64> = (0..shells)
        .map(|r| {
            if r == 0 {
                DC_RESOLUTION
            } else {
                box_angstrom / r as f64
            }
        })
        .collect();
    let mut columns = vec![
        Column {
            label: "rlnSpectralIndex".into(),
            data: ColumnData::Int((0..shells as i64).collect()),
        },
        float_column(
            "rlnResolution",
            resolution.iter().map(|d| 1.0 / d).collect(),
        ),
        float_column("rlnAngstromResolution", resolution),
    ];
    match &run.fsc.masked {
        Some(masked) => columns.extend([
            float_column(
                "rlnFourierShellCorrelationCorrected",
                run.fsc.final_curve.clone(),
            ),
            float_column(
                "rlnFourierShellCorrelationParticleMaskFraction",
                masked.particle_fraction.clone(),
            ),
            float_column(
                "rlnFourierShellCorrelationUnmaskedMaps",
                run.fsc.unmasked.clone(),
            ),
            float_column(
                "rlnFourierShellCorrelationMaskedMaps",
                masked.masked.clone(),
            ),
            float_column(
                "rlnCorrectedFourierShellCorrelationPhaseRandomizedMaskedMaps",
                masked.randomised.clone(),
            ),
        ]),
        None => columns.push(float_column(
            "rlnFourierShellCorrelationUnmaskedMaps",
            run.fsc.unmasked.clone(),
        )),
    }
    table("fsc", columns)
}

fn log_amplitudes(points: &[GuinierPoint]) -> Vec<f64> {
    points
        .iter()
        .map(|p| p.log_amplitude.unwrap_or(NO_AMPLITUDE))
        .collect()
}

fn guinier(run: &Postprocessed) -> DataBlock {
    let curves = &run.sharpened.guinier;
    let mut columns = vec![
        float_column(
            "rlnResolutionSquared",
            curves
                .original
                .iter()
                .map(|p| p.frequency_squared)
                .collect(),
        ),
        float_column("rlnLogAmplitudesOriginal", log_amplitudes(&curves.original)),
    ];
    let optional = [
        ("rlnLogAmplitudesMTFCorrected", &curves.mtf_corrected),
        ("rlnLogAmplitudesWeighted", &curves.weighted),
        ("rlnLogAmplitudesSharpened", &curves.sharpened),
    ];
    for (label, curve) in optional {
        if let Some(points) = curve {
            columns.push(float_column(label, log_amplitudes(points)));
        }
    }
    if let Some(fit) = &run.sharpened.fit {
        columns.push(float_column(
            "rlnLogAmplitudesIntercept",
            vec![fit.intercept; curves.original.len()],
        ));
    }
    table("guinier", columns)
}
