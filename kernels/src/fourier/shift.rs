//! Sub-pixel translation of centred Fourier images and volumes by phase ramps (refine.md §0.2).
//!
//! Moving the content by d (Å) multiplies each coefficient by exp(−2πi·f·d), f the spatial
//! frequency in Å⁻¹; in pixels of the box n this is RELION's X(k)·exp(−2πi·k·d/n).

use crate::grid::{HalfGrid, PlaneSpectrum, half_width, wrapped_to_logical};
use rustfft::num_complex::{Complex32, Complex64};
use std::f64::consts::PI;

/// Moves the content of `f` by `shift` Å along (x, y[, z]): a feature at r ends up at r + shift.
/// Periodic (content leaving one side re-enters at the other), exact for any sub-pixel shift of
/// a band-limited signal.
pub fn shift<const D: usize>(f: &mut HalfGrid<Complex32, D>, shift: [f64; D]) {
    let n = f.n();
    let box_angstrom = n as f64 * f.pixel_size();
    let ramp = |d: f64, len: usize, wrapped: bool| -> Vec<Complex64> {
        (0..len)
            .map(|i| {
                let k = if wrapped {
                    wrapped_to_logical(i, n)
                } else {
                    i as i64
                } as f64;
                Complex64::from_polar(1.0, -2.0 * PI * k * d / box_angstrom)
            })
            .collect()
    };
    let h = half_width(n);
    let rx = ramp(shift[0], h, false);
    let ry = ramp(shift[1], n, true);
    let rz = if D == 3 {
        ramp(shift[D - 1], n, true)
    } else {
        vec![Complex64::new(1.0, 0.0)]
    };
    for (row, values) in f.data_mut().chunks_mut(h).enumerate() {
        let yz = ry[row % n] * rz[row / n];
        for (v, x) in values.iter_mut().zip(&rx) {
            let p = yz * x;
            *v *= Complex32::new(p.re as f32, p.im as f32);
        }
    }
}

/// Moves the content of a plane's spectrum by `shift` = [dx, dy] pixels: a feature at (x, y)
/// ends up at (x + dx, y + dy). Periodic, exact for any sub-pixel shift of a band-limited plane.
pub fn shift_plane(f: &mut PlaneSpectrum, shift: [f64; 2]) {
    let (width, height, columns) = (f.width(), f.height(), f.columns());
    let rx: Vec<Complex64> = (0..columns)
        .map(|kx| Complex64::from_polar(1.0, -2.0 * PI * kx as f64 * shift[0] / width as f64))
        .collect();
    for (row, values) in f.data_mut().chunks_mut(columns).enumerate() {
        let ky = wrapped_to_logical(row, height) as f64;
        let ry = Complex64::from_polar(1.0, -2.0 * PI * ky * shift[1] / height as f64);
        for (v, x) in values.iter_mut().zip(&rx) {
            let p = ry * x;
            *v *= Complex32::new(p.re as f32, p.im as f32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fourier::fft::{forward, inverse};
    use crate::grid::test_noise::uniform;
    use crate::grid::{Image, Volume};

    #[test]
    fn plane_shift_rolls_odd_and_even_planes() {
        use crate::fourier::fft::plane;
        use crate::grid::Plane;
        for (w, h) in [(10, 6), (9, 7)] {
            let p = Plane::from_vec(w, h, uniform(5, w * h)).unwrap();
            let mut f = plane::forward(&p);
            shift_plane(&mut f, [2.0, -3.0]);
            let out = plane::inverse(&f);
            for y in 0..h {
                for x in 0..w {
                    let from = p.get((x + w - 2) % w, (y + 3) % h).unwrap();
                    assert!(
                        (out.get(x, y).unwrap() - from).abs() < 1e-4,
                        "{w}×{h} ({x},{y})"
                    );
                }
            }
        }
    }

    #[test]
    fn integer_shift_is_a_circular_roll() {
        let n = 12;
        let p = 1.5;
        let img = Image::from_vec(n, p, uniform(2, n * n)).unwrap();
        let mut f = forward(&img);
        shift(&mut f, [2.0 * p, -3.0 * p]);
        let out = inverse(&f);
        for y in 0..n {
            for x in 0..n {
                let src = img.get((x + n - 2) % n, (y + 3) % n).unwrap();
                assert!((out.get(x, y).unwrap() - src).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn shifting_forth_and_back_is_identity_in_3d() {
        let n = 8;
        let vol = Volume::from_vec(n, 1.0, uniform(3, n * n * n)).unwrap();
        let mut f = forward(&vol);
        let original = f.clone();
        shift(&mut f, [0.37, -1.6, 2.25]);
        assert!(
            f.data()
                .iter()
                .zip(original.data())
                .any(|(a, b)| (a - b).norm() > 1e-3)
        );
        shift(&mut f, [-0.37, 1.6, -2.25]);
        let err = f
            .data()
            .iter()
            .zip(original.data())
            .map(|(a, b)| (a - b).norm())
            .fold(0.0, f32::max);
        assert!(err < 1e-6, "{err}");
    }

    #[test]
    fn integer_z_shift_of_a_volume_rolls_along_z() {
        let n = 6;
        let vol = Volume::from_vec(n, 2.0, uniform(3, n * n * n)).unwrap();
        let mut f = forward(&vol);
        shift(&mut f, [0.0, 0.0, 2.0]);
        let out = inverse(&f);
        assert!((out.get(1, 2, 3).unwrap() - vol.get(1, 2, 2).unwrap()).abs() < 1e-5);
    }
}
