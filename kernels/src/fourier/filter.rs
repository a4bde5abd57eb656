//! Radial Fourier filters: raised-cosine low-pass and high-pass, and B-factor
//! sharpening/blurring, on centred half arrays (2D or 3D).
//!
//! Cut-offs and edge widths are in Fourier shells of the grid's own box (|k| in pixels, not
//! rounded), with `_angstrom` variants that convert a resolution d (Å) to the shell
//! round(n·p/d) as RELION does. A low-pass of cut-off R and width w keeps |k| ≤ R − w/2, zeroes
//! |k| ≥ R + w/2 and follows ½ + ½·cos(π·(|k| − R + w/2)/w) in between (RELION's
//! `lowPassFilterMap`; its default width is 2 shells).

use crate::grid::{Complex32, GridError, HalfGrid};
use std::f64::consts::PI;

/// Multiplies every value by `gain(|k|)`, |k| the frequency length in pixels of this box.
pub fn apply_radial<const D: usize>(f: &mut HalfGrid<Complex32, D>, gain: impl Fn(f64) -> f64) {
    for i in 0..f.data().len() {
        let [kx, ky, kz] = f.frequency(i);
        let g = gain(((kx * kx + ky * ky + kz * kz) as f64).sqrt());
        f.data_mut()[i] *= g as f32;
    }
}

/// Raised-cosine pass fraction: 1 below `cutoff − width/2`, 0 above `cutoff + width/2`.
fn low_pass_gain(k: f64, cutoff: f64, width: f64) -> f64 {
    let low = (cutoff - width / 2.0).max(0.0);
    let high = cutoff + width / 2.0;
    if k <= low {
        1.0
    } else if k >= high {
        0.0
    } else {
        0.5 + 0.5 * (PI * (k - low) / (high - low)).cos()
    }
}

fn check_shells(cutoff: f64, width: f64) -> Result<(), GridError> {
    if !(cutoff.is_finite() && cutoff >= 0.0) {
        return Err(GridError::OutOfRange {
            what: "filter cut-off (shells)",
            value: cutoff,
            expected: "≥ 0",
        });
    }
    if !(width.is_finite() && width >= 0.0) {
        return Err(GridError::OutOfRange {
            what: "filter edge width (shells)",
            value: width,
            expected: "≥ 0",
        });
    }
    Ok(())
}

/// Shell round(n·p/d) of resolution `resolution` Å in the grid's box.
fn shell_of_resolution<const D: usize>(
    f: &HalfGrid<Complex32, D>,
    resolution: f64,
) -> Result<f64, GridError> {
    if !(resolution.is_finite() && resolution > 0.0) {
        return Err(GridError::OutOfRange {
            what: "filter resolution (Å)",
            value: resolution,
            expected: "> 0",
        });
    }
    Ok((f.n() as f64 * f.pixel_size() / resolution).round())
}

/// Low-pass with a raised-cosine edge centred on shell `cutoff`, `width` shells wide.
pub fn low_pass<const D: usize>(
    f: &mut HalfGrid<Complex32, D>,
    cutoff: f64,
    width: f64,
) -> Result<(), GridError> {
    check_shells(cutoff, width)?;
    apply_radial(f, |k| low_pass_gain(k, cutoff, width));
    Ok(())
}

/// High-pass: the complement of [`low_pass`] (zero below `cutoff − width/2`, one above
/// `cutoff + width/2`).
pub fn high_pass<const D: usize>(
    f: &mut HalfGrid<Complex32, D>,
    cutoff: f64,
    width: f64,
) -> Result<(), GridError> {
    check_shells(cutoff, width)?;
    apply_radial(f, |k| 1.0 - low_pass_gain(k, cutoff, width));
    Ok(())
}

/// [`low_pass`] at resolution `resolution` Å (cut-off shell round(n·p/resolution)).
pub fn low_pass_angstrom<const D: usize>(
    f: &mut HalfGrid<Complex32, D>,
    resolution: f64,
    width: f64,
) -> Result<(), GridError> {
    let cutoff = shell_of_resolution(f, resolution)?;
    low_pass(f, cutoff, width)
}

/// [`high_pass`] at resolution `resolution` Å (cut-off shell round(n·p/resolution)).
pub fn high_pass_angstrom<const D: usize>(
    f: &mut HalfGrid<Complex32, D>,
    resolution: f64,
    width: f64,
) -> Result<(), GridError> {
    let cutoff = shell_of_resolution(f, resolution)?;
    high_pass(f, cutoff, width)
}

/// Multiplies by exp(−B·s²/4), s = |k|/(n·p) in Å⁻¹: B > 0 blurs, B < 0 sharpens (Å²).
pub fn apply_bfactor<const D: usize>(
    f: &mut HalfGrid<Complex32, D>,
    bfactor: f64,
) -> Result<(), GridError> {
    if !bfactor.is_finite() {
        return Err(GridError::OutOfRange {
            what: "B-factor (Å²)",
            value: bfactor,
            expected: "a finite number",
        });
    }
    let box_angstrom = f.n() as f64 * f.pixel_size();
    apply_radial(f, |k| (-bfactor * (k / box_angstrom).powi(2) / 4.0).exp());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::FourierImage;

    fn ones(n: usize, p: f64) -> FourierImage {
        let mut f = FourierImage::zeros(n, p).unwrap();
        f.data_mut()
            .iter_mut()
            .for_each(|v| *v = Complex32::new(1.0, 0.0));
        f
    }

    fn at(f: &FourierImage, kx: i64) -> f32 {
        f.data()[f.index_of(kx, 0, 0).unwrap()].re
    }

    #[test]
    fn low_pass_follows_the_raised_cosine() {
        let mut f = ones(32, 1.0);
        low_pass(&mut f, 8.0, 2.0).unwrap();
        assert_eq!((at(&f, 7), at(&f, 9)), (1.0, 0.0));
        assert!((at(&f, 8) - 0.5).abs() < 1e-6);
        let mut g = ones(32, 1.0);
        high_pass(&mut g, 8.0, 2.0).unwrap();
        assert_eq!((at(&g, 7), at(&g, 9)), (0.0, 1.0));
        // 4 Å at 1 Å/px in a 32 box is shell 8.
        let mut h = ones(32, 1.0);
        low_pass_angstrom(&mut h, 4.0, 2.0).unwrap();
        assert_eq!(h, f);
        assert!(low_pass(&mut h, -1.0, 2.0).is_err());
        assert!(low_pass_angstrom(&mut h, 0.0, 2.0).is_err());
    }

    #[test]
    fn bfactor_blurs_and_sharpening_undoes_it() {
        let mut f = ones(16, 2.0);
        apply_bfactor(&mut f, 100.0).unwrap();
        // kx = 4 in 32 Å → s = 1/8 Å⁻¹: exp(−100/64/4).
        assert!((at(&f, 4) as f64 - (-100.0f64 / 256.0).exp()).abs() < 1e-6);
        apply_bfactor(&mut f, -100.0).unwrap();
        assert!(f.data().iter().all(|v| (v.re - 1.0).abs() < 1e-5));
    }
}
