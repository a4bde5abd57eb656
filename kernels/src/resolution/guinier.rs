//! Guinier analysis of a map's Fourier amplitudes (Rosenthal & Henderson 2003): the natural log
//! of the shell-mean amplitude against the squared spatial frequency 1/d² (Å⁻²), and the
//! least-squares straight line through part of it, whose slope gives the map's B-factor
//! (amplitudes fall as exp(−B/4 · 1/d²), so B = 4 · slope, in Å²).
//!
//! Shells are round(|k|) from 0 (DC) to n/2 (Nyquist), as in [`crate::fourier::spectrum`];
//! amplitudes are in RELION's FFT units, so ln values match `relion_postprocess`'s Guinier
//! tables.

use crate::fourier::spectrum::amplitude_spectrum;
use crate::grid::{Complex32, HalfGrid};

/// One point of a Guinier plot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GuinierPoint {
    /// Fourier shell index r (0 = DC).
    pub shell: usize,
    /// Resolution d = n·p/r of the shell in Å (infinite for shell 0).
    pub resolution: f64,
    /// Squared spatial frequency 1/d² in Å⁻² (0 for shell 0).
    pub frequency_squared: f64,
    /// ln of the mean amplitude |F| over the shell; `None` where that mean is zero (a shell
    /// emptied by a filter), which RELION writes as −99.
    pub log_amplitude: Option<f64>,
}

/// The Guinier plot of a half array: one point per shell 0 … n/2.
pub fn guinier_points<const D: usize>(f: &HalfGrid<Complex32, D>) -> Vec<GuinierPoint> {
    let box_angstrom = f.n() as f64 * f.pixel_size();
    amplitude_spectrum(f)
        .into_iter()
        .enumerate()
        .map(|(shell, mean)| GuinierPoint {
            shell,
            resolution: box_angstrom / shell as f64,
            frequency_squared: (shell as f64 / box_angstrom).powi(2),
            log_amplitude: (mean > 0.0).then(|| mean.ln()),
        })
        .collect()
}

/// A least-squares straight line y = slope·x + intercept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineFit {
    /// Slope (for a Guinier plot: ln-amplitude per Å⁻², i.e. B/4 in Å²).
    pub slope: f64,
    /// Value at x = 0.
    pub intercept: f64,
    /// Squared correlation coefficient r² of the points (what RELION reports as the
    /// "correlation of fit").
    pub r_squared: f64,
    /// Number of points fitted.
    pub points: usize,
}

/// Unweighted least-squares line through `points` (x, y); `None` with fewer than two points
/// or when all x are equal.
pub fn fit_line(points: &[(f64, f64)]) -> Option<LineFit> {
    let count = points.len();
    if count < 2 {
        return None;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / count as f64;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / count as f64;
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for &(x, y) in points {
        sxx += (x - mean_x) * (x - mean_x);
        syy += (y - mean_y) * (y - mean_y);
        sxy += (x - mean_x) * (y - mean_y);
    }
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    Some(LineFit {
        slope,
        intercept: mean_y - slope * mean_x,
        r_squared: if syy > 0.0 {
            sxy * sxy / (sxx * syy)
        } else {
            1.0
        },
        points: count,
    })
}

/// The line through the Guinier points with resolution d in [`highest`, `lowest`] Å (both
/// inclusive) and a non-zero amplitude, as `relion_postprocess --auto_bfac` fits it. `None`
/// when fewer than two points qualify.
pub fn fit_guinier(points: &[GuinierPoint], lowest: f64, highest: f64) -> Option<LineFit> {
    let selected: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.resolution <= lowest && p.resolution >= highest)
        .filter_map(|p| p.log_amplitude.map(|y| (p.frequency_squared, y)))
        .collect();
    fit_line(&selected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fourier::fft::forward;
    use crate::fourier::filter::apply_bfactor;
    use crate::grid::{Volume, test_noise::uniform};

    #[test]
    fn a_line_is_recovered_exactly() {
        let points: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 3.0 - 0.5 * i as f64)).collect();
        let fit = fit_line(&points).unwrap();
        assert!((fit.slope + 0.5).abs() < 1e-12 && (fit.intercept - 3.0).abs() < 1e-12);
        assert!((fit.r_squared - 1.0).abs() < 1e-12);
        assert_eq!(fit.points, 10);
        assert!(fit_line(&points[..1]).is_none());
        assert!(fit_line(&[(1.0, 2.0), (1.0, 3.0)]).is_none());
    }

    #[test]
    fn the_fit_recovers_a_blurring_bfactor() {
        // White noise has a flat amplitude spectrum; blurring by B makes ln|F| fall with
        // slope −B/4 against 1/d².
        let (n, p) = (32, 1.0);
        let noise = Volume::from_vec(n, p, uniform(5, n * n * n)).unwrap();
        let mut f = forward(&noise);
        apply_bfactor(&mut f, 80.0).unwrap();
        let points = guinier_points(&f);
        assert_eq!(points.len(), 17);
        assert!(points[0].resolution.is_infinite() && points[0].frequency_squared == 0.0);
        assert!((points[16].resolution - 2.0).abs() < 1e-12);
        assert!((points[8].frequency_squared - 1.0 / 16.0).abs() < 1e-12);
        let fit = fit_guinier(&points, 10.0, 0.0).unwrap();
        assert_eq!(
            fit.points,
            16 - 4 + 1,
            "shells 4 (8 Å) … 16 (2 Å), not 3 (10.7 Å)"
        );
        assert!(
            (4.0 * fit.slope + 80.0).abs() < 4.0,
            "B = {}",
            4.0 * fit.slope
        );
        assert!(fit.r_squared > 0.99);
        // Zeroed shells carry no amplitude and are left out of the fit.
        f.data_mut()
            .iter_mut()
            .for_each(|v| *v = Complex32::new(0.0, 0.0));
        assert!(guinier_points(&f).iter().all(|p| p.log_amplitude.is_none()));
        assert!(fit_guinier(&guinier_points(&f), 10.0, 0.0).is_none());
    }
}
