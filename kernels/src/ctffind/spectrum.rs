//! The average power spectrum of a micrograph: the mean periodogram of overlapping square tiles.
//!
//! Spectra are centred `box × box` [`Plane`]s: pixel (x, y) holds frequency
//! (kx, ky) = (x − box/2, y − box/2) in cycles per box, i.e. (kx, ky)/(box·p) Å⁻¹ for pixel
//! size p Å. Each tile has its mean removed before its transform (forward FFT scaled by
//! 1/box², [`crate::fourier::fft::plane`]); the value is |F(k)|² averaged over tiles.

use super::CtfFindError;
use crate::fourier::fft::plane;
use crate::grid::{Plane, PlaneSpectrum};

/// Tile origins (px) along an axis of `length` px: evenly spaced from 0 to `length − box`,
/// overlapping by at least half a box.
fn tile_origins(length: usize, box_size: usize) -> Vec<usize> {
    let span = length - box_size;
    let half = box_size / 2;
    let count = span.div_ceil(half) + 1;
    if count == 1 {
        return vec![0];
    }
    (0..count)
        .map(|i| (i * span + (count - 1) / 2) / (count - 1))
        .collect()
}

/// Checks that every sample of `data` is finite.
pub(crate) fn check_finite(what: &'static str, data: &[f32]) -> Result<(), CtfFindError> {
    match data.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(CtfFindError::NotFinite {
            what,
            index,
            value: data[index],
        }),
        None => Ok(()),
    }
}

/// The mean power spectrum of the overlapping `box_size`-pixel tiles of `micrograph` (any
/// size at least one box in each direction), centred as the module describes.
pub fn averaged_power_spectrum(micrograph: &Plane, box_size: usize) -> Result<Plane, CtfFindError> {
    let (width, height) = (micrograph.width(), micrograph.height());
    if box_size < 2 || box_size % 2 == 1 {
        return Err(CtfFindError::BadSetting {
            what: "box (px)",
            value: box_size as f64,
            expected: "an even size ≥ 2",
        });
    }
    if width < box_size || height < box_size {
        return Err(CtfFindError::MicrographTooSmall {
            width,
            height,
            box_size,
        });
    }
    check_finite("micrograph", micrograph.data())?;
    let columns = PlaneSpectrum::columns_for(box_size);
    let mut power = vec![0.0f64; columns * box_size];
    let (xs, ys) = (
        tile_origins(width, box_size),
        tile_origins(height, box_size),
    );
    for &y0 in &ys {
        for &x0 in &xs {
            let mut tile = micrograph
                .crop(x0, y0, box_size, box_size)
                .unwrap_or_else(|| unreachable!("tile origins keep tiles inside"));
            let mean = tile.sum() / (box_size * box_size) as f64;
            tile.data_mut().iter_mut().for_each(|v| *v -= mean as f32);
            for (sum, value) in power.iter_mut().zip(plane::forward(&tile).data()) {
                *sum += f64::from(value.norm_sqr());
            }
        }
    }
    let tiles = (xs.len() * ys.len()) as f64;
    let half = box_size as i64 / 2;
    Ok(Plane::from_fn(box_size, box_size, |x, y| {
        let (kx, ky) = (x as i64 - half, y as i64 - half);
        // Hermitian symmetry: P(−k) = P(k); the half array stores kx ≥ 0 and wraps ky (the
        // −box/2 row and column alias +box/2).
        let (kx, ky) = if kx < 0 { (-kx, -ky) } else { (kx, ky) };
        let row = ky.rem_euclid(box_size as i64) as usize;
        (power[row * columns + kx as usize] / tiles) as f32
    }))
}

/// The mean of power spectra computed elsewhere (e.g. of movie frame groups), all centred
/// `box × box` planes laid out as [`averaged_power_spectrum`] returns them.
pub fn mean_power_spectrum(spectra: &[Plane]) -> Result<Plane, CtfFindError> {
    let Some(first) = spectra.first() else {
        return Err(CtfFindError::BadSetting {
            what: "number of power spectra",
            value: 0.0,
            expected: "at least one spectrum",
        });
    };
    let n = first.width();
    let mut sum = vec![0.0f64; n * n];
    for spectrum in spectra {
        if spectrum.width() != n || spectrum.height() != n || n % 2 == 1 {
            return Err(crate::grid::GridError::Mismatch {
                what: "power spectrum shape",
                expected: format!("square {n} × {n} spectra with an even size, all alike"),
                found: format!("{} × {}", spectrum.width(), spectrum.height()),
            }
            .into());
        }
        check_finite("power spectrum", spectrum.data())?;
        for (s, &v) in sum.iter_mut().zip(spectrum.data()) {
            *s += f64::from(v);
        }
    }
    let count = spectra.len() as f64;
    Ok(Plane::from_vec(
        n,
        n,
        sum.iter().map(|s| (s / count) as f32).collect(),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SplitMix64;

    #[test]
    fn tiles_overlap_by_half_a_box_and_cover_the_plane() {
        assert_eq!(tile_origins(512, 512), vec![0]);
        assert_eq!(tile_origins(1024, 512), vec![0, 256, 512]);
        let origins = tile_origins(1000, 256);
        assert_eq!(*origins.last().unwrap(), 1000 - 256);
        assert!(
            origins
                .windows(2)
                .all(|w| w[1] - w[0] <= 128 && w[1] > w[0])
        );
    }

    #[test]
    fn a_cosine_puts_its_power_at_plus_and_minus_its_frequency() {
        // cos(2π·(5x + 3y)/64) has power 1/4 at (±5, ±3) (forward scaled by 1/n²).
        let n = 64;
        let plane = Plane::from_fn(96, 64, |x, y| {
            (std::f32::consts::TAU * (5 * x + 3 * y) as f32 / n as f32).cos()
        });
        let spectrum = averaged_power_spectrum(&plane, n).unwrap();
        let at = |kx: i64, ky: i64| {
            spectrum
                .get((kx + 32) as usize, (ky + 32) as usize)
                .unwrap()
        };
        assert!((at(5, 3) - 0.25).abs() < 1e-4 && (at(-5, -3) - 0.25).abs() < 1e-4);
        let total: f64 = spectrum.sum();
        assert!((total - 0.5).abs() < 1e-3, "{total}");
    }

    #[test]
    fn white_noise_gives_a_flat_spectrum_of_variance_over_box_squared() {
        let mut random = SplitMix64::keyed(5, &[1]);
        let samples = (0..300 * 200)
            .map(|_| random.next_normal() as f32)
            .collect();
        let plane = Plane::from_vec(300, 200, samples).unwrap();
        let n = 64;
        let spectrum = averaged_power_spectrum(&plane, n).unwrap();
        let (mean, _) = spectrum.mean_std();
        assert!((mean * (n * n) as f64 - 1.0).abs() < 0.05, "{mean}");
        let halves = mean_power_spectrum(&[spectrum.clone(), spectrum.clone()]).unwrap();
        assert_eq!(halves, spectrum);
    }

    #[test]
    fn bad_inputs_are_named() {
        let small = Plane::zeros(100, 600);
        assert!(matches!(
            averaged_power_spectrum(&small, 512),
            Err(CtfFindError::MicrographTooSmall { width: 100, .. })
        ));
        let mut nan = Plane::zeros(64, 64);
        nan.data_mut()[70] = f32::NAN;
        assert!(matches!(
            averaged_power_spectrum(&nan, 64),
            Err(CtfFindError::NotFinite { index: 70, .. })
        ));
        assert!(mean_power_spectrum(&[]).is_err());
        assert!(mean_power_spectrum(&[Plane::zeros(8, 8), Plane::zeros(8, 6)]).is_err());
    }
}
