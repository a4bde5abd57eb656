//! Background removal: the amplitude spectrum √P minus a smooth radial background, as CTFFIND
//! fits the Thon rings of a background-subtracted amplitude spectrum.
//!
//! The background is a least-squares polynomial of degree [`BACKGROUND_DEGREE`] in spatial
//! frequency, fitted to the rotational average of √P over the shells from the low-resolution
//! limit to Nyquist. Over that many Thon rings the oscillation averages out and the polynomial
//! follows the smooth fall-off only. Everything below the low-resolution limit or beyond
//! Nyquist is dropped.

use super::CtfFindError;
use super::settings::{CtfFindSettings, Microscope};
use super::spectrum::check_finite;
use crate::grid::Plane;

/// Degree of the background polynomial in spatial frequency.
pub const BACKGROUND_DEGREE: usize = 4;

/// Fewest Fourier pixels a fitted band may hold.
const MIN_BAND_PIXELS: usize = 64;

/// One Fourier pixel of the background-subtracted spectrum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandPixel {
    /// Spatial frequency along x in Å⁻¹.
    pub fx: f64,
    /// Spatial frequency along y in Å⁻¹.
    pub fy: f64,
    /// Background-subtracted amplitude (arbitrary units).
    pub value: f64,
}

/// The background-subtracted amplitude spectrum from the low-resolution limit to Nyquist.
#[derive(Debug, Clone, PartialEq)]
pub struct BandSpectrum {
    box_size: usize,
    pixel_size: f64,
    min_resolution: f64,
    max_resolution: f64,
    pixels: Vec<BandPixel>,
    fit_count: usize,
    subtracted: Plane,
}

impl BandSpectrum {
    /// Removes the background from a centred `box × box` power spectrum (as
    /// [`super::averaged_power_spectrum`] returns it) of pixel size `pixel_size` Å, keeping the
    /// frequencies from 1/`min_resolution` to Nyquist and marking those up to
    /// 1/`max_resolution` (resolutions in Å) as the fitted band.
    pub fn new(
        power: &Plane,
        pixel_size: f64,
        min_resolution: f64,
        max_resolution: f64,
    ) -> Result<Self, CtfFindError> {
        let n = power.width();
        if power.height() != n || n % 2 == 1 || n < 4 {
            return Err(crate::grid::GridError::Mismatch {
                what: "power spectrum shape",
                expected: "a square spectrum with an even size ≥ 4".into(),
                found: format!("{} × {}", power.width(), power.height()),
            }
            .into());
        }
        check_finite("power spectrum", power.data())?;
        let half = n / 2;
        let box_angstrom = n as f64 * pixel_size;
        let r_min = box_angstrom / min_resolution;
        let r_fit = box_angstrom / max_resolution;
        let radius = |x: usize, y: usize| {
            let (kx, ky) = (x as f64 - half as f64, y as f64 - half as f64);
            (kx * kx + ky * ky).sqrt()
        };
        let kept = |r: f64| r >= r_min && r <= half as f64;
        let amplitude =
            |x: usize, y: usize| f64::from(power.get(x, y).unwrap_or(0.0).max(0.0)).sqrt();

        let shells = half + 1;
        let (mut sum, mut count) = (vec![0.0; shells], vec![0usize; shells]);
        for y in 0..n {
            for x in 0..n {
                let r = radius(x, y);
                if kept(r) {
                    sum[r.round() as usize] += amplitude(x, y);
                    count[r.round() as usize] += 1;
                }
            }
        }
        let shell_points: Vec<(f64, f64)> = (0..shells)
            .filter(|&s| count[s] > 0)
            .map(|s| (s as f64, sum[s] / count[s] as f64))
            .collect();
        let centre = (r_min + half as f64) / 2.0;
        let scale = ((half as f64 - r_min) / 2.0).max(1.0);
        let to_t = |r: f64| (r - centre) / scale;
        let coefficients = fit_polynomial(
            &shell_points
                .iter()
                .map(|&(r, v)| (to_t(r), v))
                .collect::<Vec<_>>(),
            BACKGROUND_DEGREE,
        );
        let background = |r: f64| evaluate(&coefficients, to_t(r));

        let mut subtracted = Plane::zeros(n, n);
        let mut pixels = Vec::new();
        for y in 0..n {
            for x in 0..n {
                let r = radius(x, y);
                if !kept(r) {
                    continue;
                }
                let value = amplitude(x, y) - background(r);
                subtracted.data_mut()[y * n + x] = value as f32;
                // Half plane: the spectrum is centrosymmetric.
                if y > half || (y == half && x > half) {
                    pixels.push(BandPixel {
                        fx: (x as f64 - half as f64) / box_angstrom,
                        fy: (y as f64 - half as f64) / box_angstrom,
                        value,
                    });
                }
            }
        }
        let norm2 = |p: &BandPixel| p.fx * p.fx + p.fy * p.fy;
        pixels.sort_by(|a, b| norm2(a).total_cmp(&norm2(b)));
        let fit_limit2 = (r_fit / box_angstrom).powi(2);
        let fit_count = pixels.partition_point(|p| norm2(p) <= fit_limit2);
        if fit_count < MIN_BAND_PIXELS {
            return Err(CtfFindError::EmptyBand {
                min_resolution,
                max_resolution,
                box_size: n,
                pixel_size,
                pixels: fit_count,
                needed: MIN_BAND_PIXELS,
            });
        }
        Ok(Self {
            box_size: n,
            pixel_size,
            min_resolution,
            max_resolution,
            pixels,
            fit_count,
            subtracted,
        })
    }

    /// Spectrum box size in pixels.
    pub fn box_size(&self) -> usize {
        self.box_size
    }

    /// Pixel size in Å.
    pub fn pixel_size(&self) -> f64 {
        self.pixel_size
    }

    /// Low-resolution limit in Å.
    pub fn min_resolution(&self) -> f64 {
        self.min_resolution
    }

    /// High-resolution limit of the fitted band in Å.
    pub fn max_resolution(&self) -> f64 {
        self.max_resolution
    }

    /// The kept pixels of one half plane, from the low-resolution limit to Nyquist, sorted by
    /// spatial frequency.
    pub fn pixels(&self) -> &[BandPixel] {
        &self.pixels
    }

    /// The pixels of the fitted band (up to 1/max_resolution Å⁻¹): a prefix of [`Self::pixels`].
    pub fn fit_pixels(&self) -> &[BandPixel] {
        &self.pixels[..self.fit_count]
    }

    /// The background-subtracted spectrum as a centred `box × box` plane, 0 where dropped.
    pub fn subtracted(&self) -> &Plane {
        &self.subtracted
    }
}

impl BandSpectrum {
    /// [`BandSpectrum::new`] with the pixel size of `microscope` and the band of `settings`.
    pub fn for_settings(
        power: &Plane,
        microscope: &Microscope,
        settings: &CtfFindSettings,
    ) -> Result<Self, CtfFindError> {
        settings.validate(microscope)?;
        Self::new(
            power,
            microscope.pixel_size,
            settings.min_resolution,
            settings.max_resolution,
        )
    }
}

/// Least-squares coefficients c₀ … c_degree of Σ cᵢ tⁱ through `points` (t, value).
fn fit_polynomial(points: &[(f64, f64)], degree: usize) -> Vec<f64> {
    let m = (degree + 1).min(points.len().max(1));
    let mut normal = vec![vec![0.0; m + 1]; m];
    for &(t, v) in points {
        let powers: Vec<f64> = (0..m).map(|i| t.powi(i as i32)).collect();
        for i in 0..m {
            for j in 0..m {
                normal[i][j] += powers[i] * powers[j];
            }
            normal[i][m] += powers[i] * v;
        }
    }
    solve(normal)
}

/// Solves the augmented system `rows` (m × (m+1)) by Gaussian elimination with partial
/// pivoting; a singular direction gets coefficient 0.
fn solve(mut rows: Vec<Vec<f64>>) -> Vec<f64> {
    let m = rows.len();
    for col in 0..m {
        let pivot = (col..m)
            .max_by(|&a, &b| rows[a][col].abs().total_cmp(&rows[b][col].abs()))
            .unwrap_or(col);
        rows.swap(col, pivot);
        if rows[col][col].abs() < 1e-300 {
            continue;
        }
        let pivot_row = rows[col].clone();
        for (r, row) in rows.iter_mut().enumerate() {
            if r != col {
                let factor = row[col] / pivot_row[col];
                for (value, &p) in row.iter_mut().zip(&pivot_row).skip(col) {
                    *value -= factor * p;
                }
            }
        }
    }
    (0..m)
        .map(|i| {
            if rows[i][i].abs() < 1e-300 {
                0.0
            } else {
                rows[i][m] / rows[i][i]
            }
        })
        .collect()
}

/// Σ cᵢ tⁱ.
fn evaluate(coefficients: &[f64], t: f64) -> f64 {
    coefficients.iter().rev().fold(0.0, |acc, &c| acc * t + c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polynomial_fit_recovers_a_cubic() {
        let points: Vec<(f64, f64)> = (0..20)
            .map(|i| {
                let t = -1.0 + i as f64 / 10.0;
                (t, 1.0 - 2.0 * t + 0.5 * t.powi(3))
            })
            .collect();
        let c = fit_polynomial(&points, 4);
        for (got, want) in c.iter().zip([1.0, -2.0, 0.0, 0.5, 0.0]) {
            assert!((got - want).abs() < 1e-9, "{c:?}");
        }
    }

    #[test]
    fn a_smooth_radial_spectrum_leaves_nothing_and_the_band_is_sorted() {
        // P = (1 + r²/400)⁻² so √P is smooth and radial: the subtraction leaves ≈ 0.
        let n = 128;
        let power = Plane::from_fn(n, n, |x, y| {
            let r2 = ((x as f64 - 64.0).powi(2) + (y as f64 - 64.0).powi(2)) / 400.0;
            (1.0 / (1.0 + r2)).powi(2) as f32
        });
        let band = BandSpectrum::new(&power, 1.0, 16.0, 4.0).unwrap();
        let peak = power.data().iter().fold(0.0f32, |a, &v| a.max(v.sqrt()));
        let worst = band
            .pixels()
            .iter()
            .fold(0.0f64, |a, p| a.max(p.value.abs()));
        assert!(worst < 0.02 * f64::from(peak), "{worst}");
        let u = |p: &BandPixel| (p.fx * p.fx + p.fy * p.fy).sqrt();
        assert!(band.pixels().windows(2).all(|w| u(&w[0]) <= u(&w[1])));
        assert!(u(&band.fit_pixels()[0]) >= 1.0 / 16.0 - 1e-12);
        assert!(u(band.fit_pixels().last().unwrap()) <= 0.25 + 1e-12);
        assert!(band.fit_pixels().len() < band.pixels().len());
        assert!(BandSpectrum::new(&power, 1.0, 16.0, 15.9).is_err());
    }
}
