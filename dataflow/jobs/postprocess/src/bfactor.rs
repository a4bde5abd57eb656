//! Sharpening of the averaged map as `relion_postprocess` does it, in this order: optional
//! division by the detector MTF; FSC weighting √(2·FSC/(1 + FSC)) (Rosenthal & Henderson 2003);
//! the B-factor (fitted to the Guinier plot of the weighted map, B = 4 · slope, or given),
//! applied as exp(−B/4 · 1/d²) up to Nyquist; an optional raised-cosine low-pass. A Guinier plot
//! (ln shell-mean amplitude against 1/d², Å⁻²) is taken after each step.

use anyhow::Context;
use cryoflux_kernels::fourier::fft::{forward, inverse};
use cryoflux_kernels::fourier::filter::{apply_bfactor, low_pass_angstrom};
use cryoflux_kernels::grid::Volume;
use cryoflux_kernels::resolution::guinier::{GuinierPoint, LineFit, fit_guinier, guinier_points};
use cryoflux_kernels::resolution::sharpening::{
    apply_fsc_weighting, divide_by_mtf, zero_beyond_nyquist,
};

use super::settings::{BfactorChoice, LowPass, Settings};

/// Guinier plots of the map at each sharpening step (shells 0 … n/2); a step that was not
/// taken has no plot.
#[derive(Debug, Clone, PartialEq)]
pub struct GuinierCurves {
    /// The unsharpened average of the half maps.
    pub original: Vec<GuinierPoint>,
    /// After division by the MTF.
    pub mtf_corrected: Option<Vec<GuinierPoint>>,
    /// After FSC weighting.
    pub weighted: Option<Vec<GuinierPoint>>,
    /// After the B-factor (before any low-pass).
    pub sharpened: Option<Vec<GuinierPoint>>,
}

/// The sharpened map and how it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Sharpened {
    /// The sharpened, unmasked map (same box and pixel size as the half maps).
    pub map: Volume,
    /// Guinier plots after each step.
    pub guinier: GuinierCurves,
    /// B-factor applied, Å² (negative sharpens; 0: none).
    pub bfactor: f64,
    /// The Guinier line fit that gave the B-factor (automatic B only).
    pub fit: Option<LineFit>,
    /// Resolution of the low-pass filter applied, Å.
    pub low_pass: Option<f64>,
}

/// Sharpens `average` (½(half1 + half2)) using `fsc` (the final FSC curve) and the run's
/// `resolution` (Å) for a low-pass at the final resolution. Warnings go onto `warnings`.
pub fn sharpen(
    average: &Volume,
    fsc: &[f64],
    resolution: f64,
    settings: &Settings,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Sharpened> {
    let mut f = forward(average);
    let original = guinier_points(&f);
    let mtf_corrected = settings.mtf.as_ref().map(|mtf| {
        divide_by_mtf(&mut f, mtf);
        guinier_points(&f)
    });
    let weighted = settings.fsc_weighting.then(|| {
        apply_fsc_weighting(&mut f, fsc);
        guinier_points(&f)
    });
    let to_fit = weighted
        .as_ref()
        .or(mtf_corrected.as_ref())
        .unwrap_or(&original);

    let (bfactor, fit) = match settings.bfactor {
        BfactorChoice::Auto { lowest, highest } => {
            let fit = fit_guinier(to_fit, lowest, highest).with_context(|| {
                format!(
                    "the automatic B-factor needs at least two shells with signal between \
                     {highest} and {lowest} Å (FSC weighting zeroes the map beyond the shell \
                     where the FSC drops below 1e-4); widen --autob_lowres/--autob_highres or \
                     give --adhoc_bfac"
                )
            })?;
            (4.0 * fit.slope, Some(fit))
        }
        BfactorChoice::AdHoc(b) => {
            if b > 0.0 {
                warnings.push(format!(
                    "B-factor {b} Å² is positive: it blurs the map; use a negative value to \
                     sharpen"
                ));
            }
            (b, None)
        }
    };
    let sharpened = if bfactor != 0.0 {
        apply_bfactor(&mut f, bfactor).context("sharpening B-factor")?;
        zero_beyond_nyquist(&mut f);
        Some(guinier_points(&f))
    } else {
        warnings.push(
            "the map is not sharpened (B-factor 0): fine as a refinement reference, but \
             high-resolution features will look weak"
                .into(),
        );
        None
    };

    let low_pass = match settings.low_pass {
        LowPass::Off => None,
        LowPass::AtFinalResolution => Some(resolution),
        LowPass::At(d) => Some(d),
    };
    match low_pass {
        Some(d) => low_pass_angstrom(&mut f, d, settings.filter_edge_width)
            .context("final low-pass filter")?,
        None if !settings.fsc_weighting => warnings.push(format!(
            "neither FSC weighting nor a low-pass filter: noise beyond {resolution:.2} Å is \
             sharpened too; consider --low_pass -1 (filter at the final resolution)"
        )),
        None => {}
    }
    Ok(Sharpened {
        map: inverse(&f),
        guinier: GuinierCurves {
            original,
            mtf_corrected,
            weighted,
            sharpened,
        },
        bfactor,
        fit,
        low_pass,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryoflux_kernels::fourier::filter::apply_bfactor;

    /// A map whose amplitudes fall as exp(−B/4 · s²): a blurred delta.
    fn blurred_point(n: usize, p: f64, b: f64) -> Volume {
        let mut map = Volume::zeros(n, p).unwrap();
        let centre = (n / 2 * n + n / 2) * n + n / 2;
        map.data_mut()[centre] = 1.0;
        let mut f = forward(&map);
        apply_bfactor(&mut f, b).unwrap();
        inverse(&f)
    }

    #[test]
    fn automatic_bfactor_undoes_a_known_blur() {
        let map = blurred_point(32, 1.0, 60.0);
        let fsc = vec![1.0; 17];
        let mut warnings = Vec::new();
        let out = sharpen(&map, &fsc, 2.0, &Settings::default(), &mut warnings).unwrap();
        assert!((out.bfactor + 60.0).abs() < 0.5, "B = {}", out.bfactor);
        assert!(out.fit.unwrap().r_squared > 0.999);
        // Sharpened amplitudes are flat: the Guinier points agree from 8 Å to 2.1 Å (the
        // Nyquist shell itself lost its corners to the cut at Nyquist).
        let sharp = out.guinier.sharpened.unwrap();
        let (first, last) = (
            sharp[4].log_amplitude.unwrap(),
            sharp[15].log_amplitude.unwrap(),
        );
        assert!((first - last).abs() < 0.05, "{first} vs {last}");
        assert!(out.guinier.weighted.is_some() && out.guinier.mtf_corrected.is_none());
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn weighting_low_pass_and_adhoc_bfactor() {
        let map = blurred_point(32, 1.0, 60.0);
        // FSC falls to 0 at shell 8: weighting empties shells 8 … .
        let fsc: Vec<f64> = (0..17).map(|r| (1.0 - r as f64 / 8.0).max(0.0)).collect();
        let settings = Settings {
            bfactor: BfactorChoice::AdHoc(-20.0),
            low_pass: LowPass::At(6.4),
            ..Settings::default()
        };
        let mut warnings = Vec::new();
        let out = sharpen(&map, &fsc, 4.0, &settings, &mut warnings).unwrap();
        assert_eq!(
            (out.bfactor, out.fit, out.low_pass),
            (-20.0, None, Some(6.4))
        );
        let weighted = out.guinier.weighted.unwrap();
        assert!(weighted[7].log_amplitude.is_some() && weighted[8].log_amplitude.is_none());
        // The low-pass at 6.4 Å (shell 5, edge |k| = 4 … 6) empties shell 7 of the final map.
        let final_points = guinier_points(&forward(&out.map));
        assert!(final_points[7].log_amplitude.is_none_or(|v| v < -20.0));
        assert!(final_points[3].log_amplitude.is_some());

        let no_b = Settings {
            bfactor: BfactorChoice::AdHoc(0.0),
            fsc_weighting: false,
            ..Settings::default()
        };
        let out = sharpen(&map, &fsc, 4.0, &no_b, &mut warnings).unwrap();
        assert!(out.guinier.sharpened.is_none() && out.guinier.weighted.is_none());
        assert_eq!(warnings.len(), 2, "{warnings:?}");
    }

    #[test]
    fn an_empty_fit_range_is_an_error() {
        let map = blurred_point(16, 1.0, 60.0);
        let fsc = vec![1.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let err = sharpen(&map, &fsc, 8.0, &Settings::default(), &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("--adhoc_bfac"), "{err}");
    }
}
