//! CTFFIND4's 1D diagnostics: the equiphase average of the background-subtracted spectrum, the
//! fitted CTF², and the fit quality per spatial frequency, from the low-resolution limit to
//! Nyquist.
//!
//! The equiphase average bins each Fourier pixel at the frequency where a non-astigmatic CTF of
//! the mean defocus (U + V)/2 has the same phase γ as the fitted CTF at that pixel, so that
//! astigmatic rings line up. The fit quality at a frequency is the CC between the average and
//! CTF² over the frequencies whose phase lies within ±π of it (two periods of CTF²). The fit
//! resolution is where that quality first drops below [`FIT_QUALITY_THRESHOLD`].

use super::CtfFindError;
use super::background::BandSpectrum;
use crate::fourier::ctf::{Ctf, CtfVariant};
use std::f64::consts::PI;

/// The fit quality below which Thon rings no longer count as fitted (CTFFIND's CC_fit = 0.75).
pub const FIT_QUALITY_THRESHOLD: f64 = 0.75;

/// Phase-table samples per Fourier shell.
const TABLE_OVERSAMPLING: usize = 8;

/// Fewest shells either side of a frequency in its fit-quality window.
const MIN_HALF_WINDOW: usize = 2;

/// The 1D curves of a fit, one value per Fourier shell (1/(box·pixel) Å⁻¹ apart).
#[derive(Debug, Clone, PartialEq)]
pub struct FitProfile {
    /// Spatial frequency of each shell in Å⁻¹.
    pub frequency: Vec<f64>,
    /// Equiphase average of the background-subtracted spectrum, scaled by least squares onto
    /// the fitted CTF² over the fitted band (dimensionless).
    pub rotational_average: Vec<f64>,
    /// The fitted CTF² of the mean defocus, no envelope (dimensionless, 0 … 1).
    pub fitted_ctf_squared: Vec<f64>,
    /// Fit quality (CC over ±π of phase) per shell, in [−1, 1].
    pub fit_quality: Vec<f64>,
}

impl FitProfile {
    /// The curves of `ctf` against `band`.
    pub fn new(band: &BandSpectrum, ctf: &Ctf) -> Result<Self, CtfFindError> {
        let p = *ctf.params();
        let mean_defocus = (p.defocus_u + p.defocus_v) / 2.0;
        let iso = Ctf::new(crate::fourier::ctf::CtfParams {
            defocus_u: mean_defocus,
            defocus_v: mean_defocus,
            defocus_angle_deg: 0.0,
            bfactor: 0.0,
            scale: 1.0,
            ..p
        })?;
        let box_angstrom = band.box_size() as f64 * band.pixel_size();
        let half = band.box_size() / 2;
        let first = (box_angstrom / band.min_resolution()).ceil() as usize;
        let fit_last = ((box_angstrom / band.max_resolution()).floor() as usize).min(half);

        // Phase of the isotropic CTF on a fine frequency table, up to where it stops falling.
        let table_len = 2 * half * TABLE_OVERSAMPLING;
        let table_u = |i: usize| i as f64 / (TABLE_OVERSAMPLING as f64 * box_angstrom);
        let mut table: Vec<f64> = Vec::with_capacity(table_len);
        for i in 0..table_len {
            let g = iso.gamma(table_u(i), 0.0);
            if table.last().is_some_and(|&last| g >= last) {
                break;
            }
            table.push(g);
        }
        let equivalent_shell = |gamma: f64| -> Option<usize> {
            // γ falls along the table: find the first sample at or below `gamma`.
            let i = table.partition_point(|&g| g > gamma);
            if i == 0 || i >= table.len() {
                return None;
            }
            let t = (table[i - 1] - gamma) / (table[i - 1] - table[i]);
            let u = table_u(i - 1) + t / (TABLE_OVERSAMPLING as f64 * box_angstrom);
            Some((u * box_angstrom).round() as usize)
        };

        let shells = half + 1;
        let (mut sum, mut count) = (vec![0.0; shells], vec![0usize; shells]);
        for px in band.pixels() {
            if let Some(s) = equivalent_shell(ctf.gamma(px.fx, px.fy)).filter(|&s| s < shells) {
                sum[s] += px.value;
                count[s] += 1;
            }
        }
        let range: Vec<usize> = (first..shells).filter(|&s| count[s] > 0).collect();
        let frequency: Vec<f64> = range.iter().map(|&s| s as f64 / box_angstrom).collect();
        let average: Vec<f64> = range.iter().map(|&s| sum[s] / count[s] as f64).collect();
        let variant = CtfVariant {
            damping: false,
            ..CtfVariant::default()
        };
        let fitted: Vec<f64> = frequency
            .iter()
            .map(|&u| iso.value(u, 0.0, variant).powi(2))
            .collect();
        let in_fit = range.iter().filter(|&&s| s <= fit_last).count();
        let (a, b) = least_squares_line(&average[..in_fit], &fitted[..in_fit]);
        let rotational_average = average.iter().map(|v| a * v + b).collect();
        let phases: Vec<f64> = frequency.iter().map(|&u| iso.gamma(u, 0.0)).collect();
        let fit_quality = (0..frequency.len())
            .map(|i| {
                let (lo, hi) = window(&phases, i);
                pearson(&average[lo..hi], &fitted[lo..hi])
            })
            .collect();
        Ok(Self {
            frequency,
            rotational_average,
            fitted_ctf_squared: fitted,
            fit_quality,
        })
    }

    /// The resolution in Å where the fit quality first drops below `threshold`, scanning from
    /// the first minimum of the fitted CTF² (before it no Thon ring is complete) to higher
    /// frequencies; Nyquist if it never does.
    pub fn fit_resolution(&self, threshold: f64) -> f64 {
        let c = &self.fitted_ctf_squared;
        let start = (1..c.len().saturating_sub(1))
            .find(|&i| c[i] <= c[i - 1] && c[i] <= c[i + 1])
            .unwrap_or(0);
        let index = (start..self.fit_quality.len())
            .find(|&i| self.fit_quality[i] < threshold)
            .unwrap_or(self.frequency.len().saturating_sub(1));
        self.frequency
            .get(index)
            .map_or(f64::INFINITY, |&u| 1.0 / u)
    }
}

/// Index range [lo, hi) of the shells whose phase lies within ±π of shell `i`'s, at least
/// [`MIN_HALF_WINDOW`] shells either side.
fn window(phases: &[f64], i: usize) -> (usize, usize) {
    let within = |j: usize| (phases[j] - phases[i]).abs() <= PI;
    let mut lo = i;
    while lo > 0 && (within(lo - 1) || i - (lo - 1) <= MIN_HALF_WINDOW) {
        lo -= 1;
    }
    let mut hi = i + 1;
    while hi < phases.len() && (within(hi) || hi - i <= MIN_HALF_WINDOW) {
        hi += 1;
    }
    (lo, hi)
}

/// Pearson correlation of two equally long series (0 when either is constant).
pub(crate) fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    let d = (sxx * syy).sqrt();
    if d > 0.0 { sxy / d } else { 0.0 }
}

/// (a, b) minimising Σ (a·x + b − y)² (a = 0, b = mean y when x is constant).
fn least_squares_line(x: &[f64], y: &[f64]) -> (f64, f64) {
    let n = x.len().max(1) as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let a = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (a, my - a * mx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_span_two_periods_and_never_fewer_than_five_shells() {
        let phases: Vec<f64> = (0..40).map(|i| -0.5 * i as f64).collect();
        // ±π at 0.5 rad per shell: 6 shells either side.
        assert_eq!(window(&phases, 20), (14, 27));
        assert_eq!(window(&phases, 0), (0, 7));
        let steep: Vec<f64> = (0..10).map(|i| -10.0 * i as f64).collect();
        assert_eq!(window(&steep, 5), (3, 8));
    }

    #[test]
    fn pearson_and_line_fit_on_exact_data() {
        let x = [1.0, 2.0, 4.0, 7.0];
        let y: Vec<f64> = x.iter().map(|v| 3.0 * v - 2.0).collect();
        assert!((pearson(&x, &y) - 1.0).abs() < 1e-12);
        let (a, b) = least_squares_line(&x, &y);
        assert!((a - 3.0).abs() < 1e-12 && (b + 2.0).abs() < 1e-12);
        assert_eq!(pearson(&[1.0, 1.0], &[0.0, 2.0]), 0.0);
    }
}
