//! Gold-standard FSC of two half maps, with the mask correction of Chen et al. (2013) as
//! `relion_postprocess` does it:
//!
//! 1. FSC_unmasked of the half maps; FSC_masked of the half maps times the mask.
//! 2. Randomisation shell r_rand: the first shell r > 0 where FSC_unmasked < 0.8 (or n·p/d for
//!    a given resolution d, truncated). Both unmasked half maps get random phases from r_rand on
//!    (|k| ≥ r_rand), are masked, and give FSC_rand.
//! 3. FSC_true(r) = FSC_masked(r) for r < r_rand + 2, else (FSC_masked − FSC_rand)/(1 − FSC_rand)
//!    (RELION moved the switch 2 shells up to avoid artefacts at r_rand). A DC value ≤ 0 of
//!    FSC_masked or FSC_rand is set to 1 first; negative values are kept. The numerics of 1–3
//!    are shared with refinement in [`cryoflux_kernels::resolution::masked_fsc`].
//! 4. Resolution: the last shell before FSC_true first drops below 0.143, n·p/r Å. If the
//!    unmasked FSC reaches further, the mask is suspect and the unmasked curve is used (unless
//!    forced).
//!
//! Also the mask-fraction FSC RELION 3.1 reports (cisTEM-like, informational):
//! f = 0.476 / (fraction of the box where the mask exceeds ½), FSC_part = f·FSC/(1 + (f−1)·FSC)
//! of the unmasked FSC.

use anyhow::{Context, bail};
use cryoflux_kernels::fourier::fft::forward;
use cryoflux_kernels::grid::Volume;
use cryoflux_kernels::resolution::fsc::{fsc, resolution_shell, shell_to_angstrom};
use cryoflux_kernels::resolution::masked_fsc::{
    BelowNoise, MaskCorrected, correct_for_mask, masked_fsc, randomisation_shell as first_drop,
    randomised_masked_fsc,
};

use super::settings::Settings;

/// FSC threshold of the final resolution (gold standard, half maps).
pub const RESOLUTION_THRESHOLD: f64 = 0.143;

/// Phase-randomised FSC above which, at the resolution shell, the mask is judged too sharp.
const RANDOMISED_FSC_WARNING: f64 = 0.1;

/// Share of a cube's volume taken by its inscribed sphere: RELION's reference fraction for the
/// mask-fraction FSC.
const SPHERE_IN_BOX: f64 = 0.476;

/// The masked FSC curves (one value per shell 0 … n/2).
#[derive(Debug, Clone, PartialEq)]
pub struct MaskedCurves {
    /// FSC of the masked half maps.
    pub masked: Vec<f64>,
    /// FSC of the masked half maps after phase randomisation (all 0 when none was done).
    pub randomised: Vec<f64>,
    /// FSC_masked corrected for the mask's own correlation (FSC_true).
    pub corrected: Vec<f64>,
    /// The unmasked FSC scaled to the particle's share of the mask (informational).
    pub particle_fraction: Vec<f64>,
    /// Shell from which phases were randomised; `None` when the unmasked FSC never dropped
    /// below the randomisation threshold (no correction possible).
    pub randomise_shell: Option<usize>,
    /// 0.476 / (fraction of the box where the mask exceeds ½): RELION's
    /// rlnParticleBoxFractionSolventMask.
    pub solvent_fraction: f64,
}

/// All FSC curves of a run and the resolution they give.
#[derive(Debug, Clone, PartialEq)]
pub struct FscAnalysis {
    /// FSC of the unmasked half maps.
    pub unmasked: Vec<f64>,
    /// The masked curves, when a mask was given.
    pub masked: Option<MaskedCurves>,
    /// The curve the resolution and FSC weighting use: the corrected masked FSC, or the
    /// unmasked one (no mask, or a mask that made things worse).
    pub final_curve: Vec<f64>,
    /// Whether `final_curve` is the mask-corrected FSC.
    pub uses_mask: bool,
    /// Last shell before `final_curve` drops below 0.143.
    pub resolution_shell: usize,
    /// n·p / `resolution_shell`, Å.
    pub resolution: f64,
}

/// Computes every FSC curve of the run; warnings for the user are pushed onto `warnings`.
pub fn analyse(
    half1: &Volume,
    half2: &Volume,
    mask: Option<&Volume>,
    settings: &Settings,
    warnings: &mut Vec<String>,
) -> anyhow::Result<FscAnalysis> {
    let (f1, f2) = (forward(half1), forward(half2));
    let unmasked = fsc(&f1, &f2).context("FSC of the half maps")?;
    let (n, p) = (half1.n(), half1.pixel_size());
    let unmasked_shell = resolution_shell(&unmasked, RESOLUTION_THRESHOLD);
    let Some(mask) = mask else {
        return finish(unmasked.clone(), false, None, unmasked, n, p);
    };

    let masked = masked_fsc(half1, half2, mask).context("FSC of the masked half maps")?;
    let randomise_shell = randomisation_shell(&unmasked, n, p, settings, warnings)?;
    let randomised = match randomise_shell {
        Some(shell) => randomised_masked_fsc(f1, f2, mask, shell, settings.seed)
            .context("FSC of the masked phase-randomised half maps")?,
        None => vec![0.0; unmasked.len()],
    };
    let MaskCorrected {
        masked,
        randomised,
        corrected,
    } = correct_for_mask(masked, randomised, randomise_shell, BelowNoise::Keep);
    let solvent_fraction = solvent_fraction(mask)?;
    let curves = MaskedCurves {
        particle_fraction: particle_fraction_fsc(&unmasked, solvent_fraction),
        solvent_fraction,
        masked,
        randomised,
        corrected,
        randomise_shell,
    };

    let masked_shell = resolution_shell(&curves.corrected, RESOLUTION_THRESHOLD);
    let uses_mask = unmasked_shell <= masked_shell || settings.force_mask;
    let final_curve = if unmasked_shell > masked_shell {
        let (unmasked_res, masked_res) = (
            shell_to_angstrom(unmasked_shell, n, p),
            shell_to_angstrom(masked_shell, n, p),
        );
        if settings.force_mask {
            warnings.push(format!(
                "the unmasked FSC ({unmasked_res:.2} Å) reaches beyond the mask-corrected one \
                 ({masked_res:.2} Å); keeping the mask as --force_mask asks"
            ));
            curves.corrected.clone()
        } else {
            warnings.push(format!(
                "the unmasked FSC ({unmasked_res:.2} Å) reaches beyond the mask-corrected one \
                 ({masked_res:.2} Å): using the unmasked FSC; check the mask, or pass \
                 --force_mask"
            ));
            unmasked.clone()
        }
    } else {
        if curves.randomised[masked_shell] > RANDOMISED_FSC_WARNING {
            warnings.push(format!(
                "the phase-randomised FSC is {:.3} (> {RANDOMISED_FSC_WARNING}) at the \
                 estimated resolution: the resolution may be wrong; use a softer mask with \
                 fewer features",
                curves.randomised[masked_shell]
            ));
        }
        curves.corrected.clone()
    };
    finish(final_curve, uses_mask, Some(curves), unmasked, n, p)
}

fn finish(
    final_curve: Vec<f64>,
    uses_mask: bool,
    masked: Option<MaskedCurves>,
    unmasked: Vec<f64>,
    n: usize,
    p: f64,
) -> anyhow::Result<FscAnalysis> {
    let resolution_shell = resolution_shell(&final_curve, RESOLUTION_THRESHOLD);
    if resolution_shell == 0 {
        bail!(
            "the FSC drops below {RESOLUTION_THRESHOLD} already at shell 1 ({:.1} Å): the half \
             maps share no signal; are they of the same structure, aligned and of the same hand?",
            shell_to_angstrom(1, n, p)
        );
    }
    Ok(FscAnalysis {
        resolution: shell_to_angstrom(resolution_shell, n, p),
        unmasked,
        masked,
        final_curve,
        uses_mask,
        resolution_shell,
    })
}

/// The randomisation shell (see the module doc), or `None` with a warning when the unmasked
/// FSC never drops below the threshold.
fn randomisation_shell(
    unmasked: &[f64],
    n: usize,
    p: f64,
    settings: &Settings,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Option<usize>> {
    if let Some(d) = settings.randomise_at_angstrom {
        let shell = (n as f64 * p / d) as usize;
        if !(d.is_finite() && d > 0.0) || shell == 0 || shell > n / 2 {
            bail!(
                "--randomize_at_A {d} Å lies outside the box's Fourier shells 1 … {} \
                 ({:.2} … {:.2} Å)",
                n / 2,
                n as f64 * p,
                2.0 * p
            );
        }
        return Ok(Some(shell));
    }
    let threshold = settings.randomise_at_fsc;
    match first_drop(unmasked, threshold) {
        Some(shell) => Ok(Some(shell)),
        None => {
            warnings.push(format!(
                "the unmasked FSC never drops below {threshold} (lowest {:.4}): the half maps \
                 look dependent (identical or refined together), which is suspicious; the \
                 phase-randomisation correction is skipped and the resolution is meaningless",
                unmasked.iter().copied().fold(f64::INFINITY, f64::min)
            ));
            Ok(None)
        }
    }
}

/// 0.476 / (fraction of mask voxels > ½).
fn solvent_fraction(mask: &Volume) -> anyhow::Result<f64> {
    let inside = mask.data().iter().filter(|&&m| m > 0.5).count();
    if inside == 0 {
        bail!("the mask has no voxel above 0.5: it masks out the whole particle");
    }
    Ok(SPHERE_IN_BOX * mask.data().len() as f64 / inside as f64)
}

/// f·FSC/(1 + (f − 1)·FSC) of the unmasked FSC, f = [`solvent_fraction`].
fn particle_fraction_fsc(unmasked: &[f64], f: f64) -> Vec<f64> {
    unmasked
        .iter()
        .map(|&v| f * v / (1.0 + (f - 1.0) * v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn randomisation_starts_where_the_unmasked_fsc_first_drops() {
        let unmasked = [1.0, 0.95, 0.85, 0.79, 0.9, 0.2];
        let settings = Settings::default();
        let mut warnings = Vec::new();
        let shell = randomisation_shell(&unmasked, 10, 2.0, &settings, &mut warnings).unwrap();
        assert_eq!(shell, Some(3));
        // 6.9 Å in a 10 × 2 Å box: shell 20/6.9 = 2.9, truncated to 2.
        let by_angstrom = Settings {
            randomise_at_angstrom: Some(6.9),
            ..Settings::default()
        };
        let shell = randomisation_shell(&unmasked, 10, 2.0, &by_angstrom, &mut warnings);
        assert_eq!(shell.unwrap(), Some(2));
        assert!(warnings.is_empty());
        let never = randomisation_shell(&[1.0; 6], 10, 2.0, &settings, &mut warnings).unwrap();
        assert_eq!(never, None);
        assert!(warnings[0].contains("suspicious"), "{warnings:?}");
        let beyond = Settings {
            randomise_at_angstrom: Some(1.0),
            ..Settings::default()
        };
        assert!(randomisation_shell(&unmasked, 10, 2.0, &beyond, &mut warnings).is_err());
    }

    #[test]
    fn mask_fraction_follows_relion() {
        let n = 4;
        let mut mask = Volume::zeros(n, 1.0).unwrap();
        mask.data_mut()[..16].iter_mut().for_each(|m| *m = 1.0);
        // A quarter of the box inside: f = 0.476 · 4.
        assert!((solvent_fraction(&mask).unwrap() - 1.904).abs() < 1e-12);
        let part = particle_fraction_fsc(&[1.0, 0.5, 0.0], 1.904);
        assert!((part[0] - 1.0).abs() < 1e-12 && part[2] == 0.0);
        assert!((part[1] - 1.904 * 0.5 / (1.0 + 0.904 * 0.5)).abs() < 1e-12);
        assert!(solvent_fraction(&Volume::zeros(n, 1.0).unwrap()).is_err());
    }
}
