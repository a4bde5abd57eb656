//! The FSC of two half maps inside a soft mask, corrected for the correlation the mask itself
//! adds by phase randomisation (Chen et al. 2013), as `relion_postprocess` and
//! `relion_refine --solvent_correct_fsc` do it:
//!
//! 1. FSC_masked: the FSC of both half maps multiplied by the mask.
//! 2. From the randomisation shell r_rand on (RELION: the first shell r > 0 where the unmasked
//!    FSC drops below [`RANDOMISE_BELOW_FSC`], see [`randomisation_shell`]), both unmasked half
//!    maps get random phases, are masked, and give FSC_rand ([`randomised_masked_fsc`]).
//! 3. FSC_true(r) = FSC_masked(r) for r < r_rand + 2, else (FSC_masked − FSC_rand)/(1 − FSC_rand)
//!    (RELION moved the switch 2 shells up to avoid artefacts at r_rand); a DC value ≤ 0 of
//!    FSC_masked or FSC_rand is set to 1 first ([`correct_for_mask`]). Inside refinement,
//!    shells where FSC_rand exceeds FSC_masked get 0 ([`BelowNoise::Zero`]); post-processing
//!    keeps the negative value ([`BelowNoise::Keep`]).
//!
//! Curves run over shells r = round(|k|) = 0 … n/2 (resolution n·p/r Å); masks hold values in
//! [0, 1] on the maps' grid.

use crate::fourier::fft::{forward, inverse};
use crate::grid::{FourierVolume, GridError, Volume, check_same_box};
use crate::resolution::fsc::fsc;
use crate::resolution::phase_randomise::randomise_phases_beyond;

/// RELION's default randomisation threshold: phases are randomised from the first shell where
/// the unmasked FSC drops below 0.8 (`--randomize_at_fsc`).
pub const RANDOMISE_BELOW_FSC: f64 = 0.8;

/// What FSC_true is where the phase-randomised FSC exceeds the masked one (the correction would
/// be negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BelowNoise {
    /// Keep (FSC_masked − FSC_rand)/(1 − FSC_rand), negative (relion_postprocess).
    Keep,
    /// Set FSC_true to 0 (relion_refine's in-refinement correction).
    Zero,
}

/// The masked curves after step 3 of the module doc (one value per shell 0 … n/2).
#[derive(Debug, Clone, PartialEq)]
pub struct MaskCorrected {
    /// FSC of the masked half maps (DC fixed).
    pub masked: Vec<f64>,
    /// FSC of the masked phase-randomised half maps (DC fixed; all 0 when none was done).
    pub randomised: Vec<f64>,
    /// FSC_true: the masked FSC corrected for the mask's own correlation.
    pub corrected: Vec<f64>,
}

/// The FSC of `half1` and `half2` after multiplying each by `mask` (same box).
pub fn masked_fsc(half1: &Volume, half2: &Volume, mask: &Volume) -> Result<Vec<f64>, GridError> {
    check_same_box("masked FSC: half map 2", half1.n(), half2.n())?;
    check_same_box("masked FSC: mask", half1.n(), mask.n())?;
    fsc(
        &forward(&masked(half1, mask)),
        &forward(&masked(half2, mask)),
    )
}

/// `map` times `mask`, voxel by voxel (same box).
fn masked(map: &Volume, mask: &Volume) -> Volume {
    let mut map = map.clone();
    map.data_mut()
        .iter_mut()
        .zip(mask.data())
        .for_each(|(v, m)| *v *= m);
    map
}

/// The first shell r > 0 where `unmasked` drops below `threshold`, or `None` when it never
/// does (the half maps look dependent; no correction is possible).
pub fn randomisation_shell(unmasked: &[f64], threshold: f64) -> Option<usize> {
    unmasked
        .iter()
        .skip(1)
        .position(|&v| v < threshold)
        .map(|i| i + 1)
}

/// FSC_rand: the masked FSC of the half maps whose transforms are `f1` and `f2` after their
/// phases are randomised from `shell` pixels on. The two halves draw from independent streams,
/// seeds 2·`seed` and 2·`seed` + 1, so a seed always gives the same curve.
pub fn randomised_masked_fsc(
    mut f1: FourierVolume,
    mut f2: FourierVolume,
    mask: &Volume,
    shell: usize,
    seed: u64,
) -> Result<Vec<f64>, GridError> {
    randomise_phases_beyond(&mut f1, shell, seed.wrapping_mul(2));
    randomise_phases_beyond(&mut f2, shell, seed.wrapping_mul(2) | 1);
    masked_fsc(&inverse(&f1), &inverse(&f2), mask)
}

/// Step 3 of the module doc: FSC_true from FSC_masked and FSC_rand, randomised from `shell`
/// (`None`: no randomisation was possible, FSC_true = FSC_masked).
pub fn correct_for_mask(
    mut masked: Vec<f64>,
    mut randomised: Vec<f64>,
    shell: Option<usize>,
    below_noise: BelowNoise,
) -> MaskCorrected {
    for curve in [&mut masked, &mut randomised] {
        if let Some(dc) = curve.first_mut()
            && *dc <= 0.0
        {
            *dc = 1.0;
        }
    }
    let corrected = match shell {
        Some(shell) => masked
            .iter()
            .zip(&randomised)
            .enumerate()
            .map(|(r, (&m, &n))| {
                if r < shell + 2 {
                    m
                } else if n > m && below_noise == BelowNoise::Zero {
                    0.0
                } else {
                    (m - n) / (1.0 - n)
                }
            })
            .collect(),
        None => masked.clone(),
    };
    MaskCorrected {
        masked,
        randomised,
        corrected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fourier::filter::apply_radial;
    use crate::grid::test_noise::uniform;
    use crate::mask::soft_sphere;
    use crate::resolution::fsc::fsc_real;

    #[test]
    fn correction_starts_two_shells_above_randomisation_and_fixes_dc() {
        let masked = vec![-0.5, 0.99, 0.9, 0.8, 0.6, 0.5, 0.1];
        let randomised = vec![0.0, 0.99, 0.9, 0.5, 0.5, 0.2, 0.3];
        let keep = correct_for_mask(
            masked.clone(),
            randomised.clone(),
            Some(2),
            BelowNoise::Keep,
        );
        assert_eq!((keep.masked[0], keep.randomised[0]), (1.0, 1.0));
        assert_eq!(&keep.corrected[..4], &[1.0, 0.99, 0.9, 0.8]);
        assert!((keep.corrected[4] - 0.2).abs() < 1e-12);
        assert!((keep.corrected[5] - 0.375).abs() < 1e-12);
        assert!((keep.corrected[6] + 0.2 / 0.7).abs() < 1e-12);
        let zero = correct_for_mask(masked, randomised, Some(2), BelowNoise::Zero);
        assert_eq!(zero.corrected[6], 0.0);
        assert_eq!(&zero.corrected[..6], &keep.corrected[..6]);
        let none = correct_for_mask(vec![1.0, 0.5], vec![0.0, 0.0], None, BelowNoise::Zero);
        assert_eq!(none.corrected, vec![1.0, 0.5]);
    }

    #[test]
    fn randomisation_starts_where_the_fsc_first_drops() {
        assert_eq!(
            randomisation_shell(&[1.0, 0.95, 0.85, 0.79, 0.9], 0.8),
            Some(3)
        );
        assert_eq!(randomisation_shell(&[0.1, 0.95], 0.8), None);
    }

    #[test]
    fn the_correction_removes_the_correlation_a_sharp_mask_adds() {
        // Half maps = a shared signal below shell 3 + independent noise: beyond shell 4 they
        // share nothing, yet a small hard-edged mask spreads the shared low-resolution signal
        // over every shell and correlates the masked maps there. The randomised FSC measures
        // that leak and the correction removes it.
        let n = 16;
        let noise = |seed| Volume::from_vec(n, 2.0, uniform(seed, n * n * n)).unwrap();
        let mut signal = forward(&noise(3));
        apply_radial(&mut signal, |k| if k <= 3.0 { 20.0 } else { 0.0 });
        let signal = inverse(&signal);
        let half = |seed| {
            let mut map = noise(seed);
            map.data_mut()
                .iter_mut()
                .zip(signal.data())
                .for_each(|(v, s)| *v += s);
            map
        };
        let (a, b) = (half(4), half(5));
        let mask = soft_sphere::<3>(n, 2.0, 3.0, 0.0).unwrap();
        let unmasked = fsc_real(&a, &b).unwrap();
        let shell = randomisation_shell(&unmasked, RANDOMISE_BELOW_FSC).unwrap();
        assert!((3..=5).contains(&shell), "{unmasked:?}");
        let masked = masked_fsc(&a, &b, &mask).unwrap();
        let randomised = randomised_masked_fsc(forward(&a), forward(&b), &mask, shell, 5).unwrap();
        let again = randomised_masked_fsc(forward(&a), forward(&b), &mask, shell, 5).unwrap();
        assert_eq!(randomised, again);
        let curves = correct_for_mask(masked, randomised, Some(shell), BelowNoise::Zero);
        let high = shell + 2..=n / 2;
        let mean = |c: &[f64]| c[high.clone()].iter().sum::<f64>() / high.clone().count() as f64;
        let (masked_mean, corrected_mean) = (mean(&curves.masked), mean(&curves.corrected));
        assert!(
            masked_mean > 0.3 && corrected_mean < 0.5 * masked_mean,
            "masked {:?}, corrected {:?}",
            curves.masked,
            curves.corrected
        );
        let small = Volume::zeros(8, 2.0).unwrap();
        assert!(masked_fsc(&a, &b, &small).is_err());
    }
}
