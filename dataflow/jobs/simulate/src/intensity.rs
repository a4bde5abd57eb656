//! Intensity errors of simulated particles, the ones RELION's `--scale` and `--norm` correct:
//!
//! - a per-micrograph **signal scale** s_m (ice thickness, dose): the noise-free image is
//!   multiplied by s_m before the noise is added, so the noise level is unchanged. RELION
//!   estimates it per noise group (one per micrograph) as `rlnGroupScaleCorrection`.
//! - a per-particle **normalisation error** f_i (the background was normalised with a wrong
//!   standard deviation): the whole recorded image, signal plus noise, is multiplied by f_i.
//!   RELION estimates it as `rlnNormCorrection`, the standard deviation of the residual, which is
//!   f_i for images whose noise has unit variance before the error.
//!
//! Both factors are dimensionless and log-normal: exp(spread · z) with z ~ N(0, 1) drawn from a
//! stream keyed by the micrograph (s_m) or particle (f_i) index, so their median is 1 and their
//! logarithm has standard deviation `spread`. They are rounded to 6 significant digits so that
//! the truth STAR file states them exactly. A spread of 0 draws nothing and leaves the factor
//! out (`None`: exactly 1).

use super::rng::{Purpose, Rng};
use super::star_out::round_decimals;

/// Largest accepted spread (s.d. of the factors' logarithm): at 2, four standard deviations
/// already span a factor e^±8 ≈ 3000, far beyond real data.
pub const MAX_SPREAD: f64 = 2.0;

/// The true intensity factors of one particle; `None` means not simulated, i.e. exactly 1.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct IntensityFactors {
    /// s_m of the particle's micrograph, the factor on the noise-free signal
    /// (`rlnGroupScaleCorrection`).
    pub group_scale: Option<f64>,
    /// f_i, the factor on the whole recorded image (`rlnNormCorrection`).
    pub norm: Option<f64>,
}

impl IntensityFactors {
    /// The factors of particle `particle` (0-based) on micrograph `micrograph` (0-based) under
    /// `seed`; each is drawn only when its spread (s.d. of its logarithm) is positive.
    pub fn draw(
        seed: u64,
        scale_spread: f64,
        norm_spread: f64,
        micrograph: usize,
        particle: usize,
    ) -> Self {
        IntensityFactors {
            group_scale: log_normal(seed, Purpose::MicrographScale, micrograph, scale_spread),
            norm: log_normal(seed, Purpose::NormError, particle, norm_spread),
        }
    }

    /// s_m, or 1 when not simulated.
    pub fn signal_scale(&self) -> f64 {
        self.group_scale.unwrap_or(1.0)
    }

    /// f_i, or 1 when not simulated.
    pub fn image_scale(&self) -> f64 {
        self.norm.unwrap_or(1.0)
    }
}

/// exp(spread · z), z the first normal deviate of item `index`'s stream of `purpose`, rounded
/// to 6 significant digits; `None` when `spread` is 0.
fn log_normal(seed: u64, purpose: Purpose, index: usize, spread: f64) -> Option<f64> {
    (spread > 0.0).then(|| {
        let value = (spread * Rng::stream(seed, purpose, index as u64).normal()).exp();
        round_decimals(value, 5 - value.log10().floor() as i32)
    })
}

/// Refuses a spread that is not finite or outside [0, [`MAX_SPREAD`]]; `name` is its field and
/// flag name.
pub fn check_spread(name: &str, spread: f64) -> anyhow::Result<()> {
    anyhow::ensure!(
        spread.is_finite() && (0.0..=MAX_SPREAD).contains(&spread),
        "{name} {spread}; expected a finite value between 0 and {MAX_SPREAD} (the standard \
         deviation of the factor's natural logarithm)"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_are_log_normal_with_the_requested_spread_and_keyed_by_item() {
        let n = 20_000;
        let logs: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                let f = IntensityFactors::draw(9, 0.3, 0.1, i, i);
                [f.signal_scale().ln(), f.image_scale().ln()]
            })
            .collect();
        for (k, spread) in [(0, 0.3), (1, 0.1)] {
            let mean = logs.iter().map(|l| l[k]).sum::<f64>() / n as f64;
            let sd = (logs.iter().map(|l| (l[k] - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
            // Standard error of the mean: spread/√n ≈ 0.007·spread.
            assert!(mean.abs() < 0.03 * spread, "mean log {mean}");
            assert!((sd / spread - 1.0).abs() < 0.02, "s.d. {sd} for {spread}");
        }
        // s_m depends on the micrograph only, f_i on the particle only, both on the seed.
        let draw = |seed, micrograph, particle| {
            IntensityFactors::draw(seed, 0.3, 0.1, micrograph, particle)
        };
        let a = draw(9, 4, 7);
        assert_eq!(a.group_scale, draw(9, 4, 8).group_scale);
        assert_ne!(a.group_scale, draw(9, 5, 7).group_scale);
        assert_eq!(a.norm, draw(9, 5, 7).norm);
        assert_ne!(a.norm, draw(9, 4, 8).norm);
        assert_ne!(a, draw(10, 4, 7));
        // Short in a STAR file: at most 6 significant digits.
        let digits = |v: f64| {
            let text = v.to_string();
            let significant = text.trim_start_matches(['0', '.']);
            significant.chars().filter(char::is_ascii_digit).count()
        };
        assert!(
            digits(a.signal_scale()) <= 6 && digits(a.image_scale()) <= 6,
            "{a:?}"
        );
    }

    #[test]
    fn zero_spread_draws_nothing_and_bad_spreads_are_refused() {
        let f = IntensityFactors::draw(9, 0.0, 0.0, 1, 1);
        assert_eq!(f, IntensityFactors::default());
        assert_eq!((f.signal_scale(), f.image_scale()), (1.0, 1.0));
        assert!(check_spread("scale_spread", 0.0).is_ok());
        assert!(check_spread("scale_spread", MAX_SPREAD).is_ok());
        for bad in [-0.1, f64::NAN, f64::INFINITY, 2.5] {
            let message = check_spread("norm_spread", bad).unwrap_err().to_string();
            assert!(
                message.starts_with(&format!("norm_spread {bad};")),
                "{message}"
            );
        }
    }
}
