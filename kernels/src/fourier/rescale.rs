//! Changing box and pixel size: Fourier cropping/padding (resampling, which changes the pixel
//! size) and real-space windowing/padding around the origin n/2 (which keeps it).
//!
//! With RELION's FFT scaling a Fourier window keeps amplitudes: the mean of a map is unchanged
//! by resampling. Padding leaves the new ky/kz = −n_old/2 rows empty, as RELION's
//! `windowFourierTransform` does.

use crate::fourier::fft;
use crate::grid::{Complex32, GridError, HalfGrid, RealGrid, check_box};

/// The same frequencies on a half array of box `new_n` (cropped or zero-padded); the pixel size
/// becomes p·n/new_n so that integer frequency k still means the same Å⁻¹.
pub fn window_fourier<const D: usize>(
    f: &HalfGrid<Complex32, D>,
    new_n: usize,
) -> Result<HalfGrid<Complex32, D>, GridError> {
    check_box("Fourier window size", new_n)?;
    let pixel = f.pixel_size() * f.n() as f64 / new_n as f64;
    let mut out = HalfGrid::zeros(new_n, pixel)?;
    let old_low = -((f.n() / 2) as i64);
    for i in 0..out.data().len() {
        let [kx, ky, kz] = out.frequency(i);
        if ky <= old_low || (D == 3 && kz <= old_low) {
            continue;
        }
        if let Some(j) = f.index_of(kx, ky, kz) {
            out.data_mut()[i] = f.data()[j];
        }
    }
    Ok(out)
}

/// Resamples an image or map to box `new_n` by Fourier cropping or padding; the pixel size
/// becomes p·n/new_n Å (RELION's `resizeMap`).
pub fn resample<const D: usize>(
    grid: &RealGrid<D>,
    new_n: usize,
) -> Result<RealGrid<D>, GridError> {
    Ok(fft::inverse(&window_fourier(&fft::forward(grid), new_n)?))
}

/// Resamples to (about) `pixel_size` Å: new box round(n·p/pixel_size) made even by rounding down,
/// as `relion_image_handler --rescale_angpix` does; the exact new pixel size is p·n/new_n.
pub fn rescale_to_pixel_size<const D: usize>(
    grid: &RealGrid<D>,
    pixel_size: f64,
) -> Result<RealGrid<D>, GridError> {
    crate::grid::check_pixel_size("target pixel size (Å)", pixel_size)?;
    resample(grid, rescaled_box(grid.n(), grid.pixel_size(), pixel_size))
}

/// The box (pixels) of [`rescale_to_pixel_size`] for box `n` of pixel size `pixel_size` Å
/// resampled to about `target_pixel_size` Å: round(n·p/target) made even by rounding down.
pub fn rescaled_box(n: usize, pixel_size: f64, target_pixel_size: f64) -> usize {
    let new_n = (n as f64 * pixel_size / target_pixel_size).round() as usize;
    new_n - new_n % 2
}

/// Crops or pads a real-space grid to box `new_n` keeping the origin (index n/2 → new_n/2);
/// new pixels take `fill`. The pixel size is unchanged.
pub fn window_real<const D: usize>(
    grid: &RealGrid<D>,
    new_n: usize,
    fill: f32,
) -> Result<RealGrid<D>, GridError> {
    check_box("real-space window size", new_n)?;
    let n = grid.n();
    let half = (n / 2) as i64;
    let mut out = RealGrid::<D>::zeros(new_n, grid.pixel_size())?;
    for (i, v) in out.data_mut().iter_mut().enumerate() {
        let c = RealGrid::<D>::logical_of(new_n, i);
        let inside = c.iter().take(D).all(|&x| x >= -half && x < half);
        *v = if inside {
            let at = c.map(|x| (x + half) as usize);
            let z = if D == 3 { at[2] } else { 0 };
            grid.data()[(z * n + at[1]) * n + at[0]]
        } else {
            fill
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::{Image, Volume};

    fn gaussian(n: usize, p: f64) -> Volume {
        // Same physical blob (σ = 3 Å, centre (2, −1, 1) Å) at any sampling.
        Volume::from_fn(n, p, |[x, y, z]| {
            let d2 = (x * p - 2.0).powi(2) + (y * p + 1.0).powi(2) + (z * p - 1.0).powi(2);
            (-d2 / 18.0).exp() as f32
        })
        .unwrap()
    }

    #[test]
    fn downsampling_a_smooth_blob_matches_sampling_it_coarser() {
        let fine = gaussian(32, 1.0);
        let coarse = resample(&fine, 16).unwrap();
        assert_eq!(coarse.pixel_size(), 2.0);
        let direct = gaussian(16, 2.0);
        let err = coarse
            .data()
            .iter()
            .zip(direct.data())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 2e-3, "max error {err}");
        let by_pixel = rescale_to_pixel_size(&fine, 2.0).unwrap();
        assert_eq!(by_pixel, coarse);
    }

    #[test]
    fn padding_then_cropping_in_fourier_space_is_identity() {
        let img = Image::from_fn(8, 1.0, |[x, y, _]| (x * 0.3 - y * y * 0.1) as f32).unwrap();
        let f = fft::forward(&img);
        let back = window_fourier(&window_fourier(&f, 16).unwrap(), 8).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn real_space_window_keeps_the_origin() {
        let img = Image::from_fn(8, 1.5, |[x, y, _]| (x + 10.0 * y) as f32).unwrap();
        let big = window_real(&img, 12, -1.0).unwrap();
        assert_eq!(big.get(6, 6), Some(0.0));
        assert_eq!(big.get(7, 8), Some(21.0));
        assert_eq!(big.get(0, 0), Some(-1.0));
        assert_eq!(window_real(&big, 8, 0.0).unwrap(), img);
        assert!(window_real(&img, 7, 0.0).is_err());
    }
}
