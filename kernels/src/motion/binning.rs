//! Binning of micrographs and frames by Fourier cropping (`relion_run_motioncorr
//! --bin_factor`, which may be non-integer). Sizes in pixels; the binned pixel size RELION
//! reports is the original one (Å) times the bin factor.
//!
//! The binned size is ⌊w/b⌋ × ⌊h/b⌋ with b taken in single precision, and both must be even,
//! else an error, as in RELION 3.1.3. Measured on a 128 × 96 movie: b = 2 → 64 × 48,
//! 1.25 → 102 × 76, 1.2214 → 104 × 78; 1.07, 1.1542, 1.2 (96/1.2f < 80), 1.3, 1.5, 1.7 are
//! refused ("The dimensions of the image after binning must be even"). The cropped spectrum
//! equals RELION's output spectrum (ratio 1.000) at every frequency but the Nyquist row and
//! column, and the mean is kept.

use crate::fourier::fft::plane::{forward, inverse};
use crate::grid::{GridError, Plane, PlaneSpectrum, logical_to_wrapped};

/// The size (px) of a `width` × `height` frame binned by `bin_factor` (≥ 1): ⌊width/b⌋ ×
/// ⌊height/b⌋, b rounded to single precision as RELION reads it; an odd result is an error.
pub fn binned_size(
    width: usize,
    height: usize,
    bin_factor: f64,
) -> Result<(usize, usize), GridError> {
    if !(bin_factor.is_finite() && bin_factor >= 1.0) {
        return Err(GridError::OutOfRange {
            what: "--bin_factor",
            value: bin_factor,
            expected: "a finite number ≥ 1",
        });
    }
    let b = f64::from(bin_factor as f32);
    let (new_width, new_height) = (
        (width as f64 / b).floor() as usize,
        (height as f64 / b).floor() as usize,
    );
    if new_width == 0 || new_height == 0 || new_width % 2 == 1 || new_height % 2 == 1 {
        return Err(GridError::Mismatch {
            what: "frame size after --bin_factor",
            expected: format!(
                "even sizes ⌊{width}/{bin_factor}⌋ × ⌊{height}/{bin_factor}⌋ px \
                 (choose another bin factor)"
            ),
            found: format!("{new_width} × {new_height} px"),
        });
    }
    Ok((new_width, new_height))
}

/// The spectrum cropped to the frequencies of a plane binned by `bin_factor` (see
/// [`binned_size`]); values are copied unchanged, so the mean of the plane is kept.
pub fn bin_spectrum(spectrum: &PlaneSpectrum, bin_factor: f64) -> Result<PlaneSpectrum, GridError> {
    let (width, height) = binned_size(spectrum.width(), spectrum.height(), bin_factor)?;
    let mut out = PlaneSpectrum::zeros(width, height);
    let old_columns = spectrum.columns();
    for i in 0..out.data().len() {
        let (kx, ky) = out.frequency(i);
        // New sizes are no larger than the old ones, so every frequency exists there.
        if let Some(row) = logical_to_wrapped(ky, spectrum.height()) {
            out.data_mut()[i] = spectrum.data()[row * old_columns + kx as usize];
        }
    }
    Ok(out)
}

/// A real plane binned by `bin_factor` through [`bin_spectrum`].
pub fn bin_plane(plane: &Plane, bin_factor: f64) -> Result<Plane, GridError> {
    Ok(inverse(&bin_spectrum(&forward(plane), bin_factor)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::TAU;

    #[test]
    fn binned_sizes_match_relion() {
        assert_eq!(binned_size(128, 96, 2.0).unwrap(), (64, 48));
        assert_eq!(binned_size(128, 96, 1.25).unwrap(), (102, 76));
        assert_eq!(binned_size(128, 96, 1.2214).unwrap(), (104, 78));
        assert_eq!(binned_size(128, 96, 1.0).unwrap(), (128, 96));
        for refused in [1.07, 1.1542, 1.2, 1.3, 1.5, 1.7] {
            assert!(binned_size(128, 96, refused).is_err(), "{refused}");
        }
        assert!(binned_size(128, 96, 0.5).is_err());
        assert!(binned_size(128, 96, f64::NAN).is_err());
    }

    #[test]
    fn binning_a_band_limited_image_by_two_is_decimation() {
        // Frequencies below the binned Nyquist (≤ 10 cycles on a 48 × 32 result).
        let (w, h) = (96, 64);
        let f = |x: f64, y: f64| {
            let (u, v) = (x / w as f64, y / h as f64);
            (TAU * (3.0 * u + 2.0 * v)).cos() + 0.5 * (TAU * (10.0 * u - 7.0 * v) + 0.3).sin() + 1.5
        };
        let plane = Plane::from_fn(w, h, |x, y| f(x as f64, y as f64) as f32);
        let binned = bin_plane(&plane, 2.0).unwrap();
        assert_eq!((binned.width(), binned.height()), (48, 32));
        let mut worst = 0.0f64;
        for y in 0..32 {
            for x in 0..48 {
                let expected = f(2.0 * x as f64, 2.0 * y as f64);
                worst = worst.max((f64::from(binned.get(x, y).unwrap()) - expected).abs());
            }
        }
        assert!(worst < 1e-5, "{worst}");
        assert!((binned.mean_std().0 - 1.5).abs() < 1e-6);
    }
}
