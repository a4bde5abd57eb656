//! Real FFTs in 2D and 3D with cached plans and RELION's conventions.
//!
//! This module is the only place that converts between the FFT library's conventions and
//! RELION's (refine.md §0.1):
//! - the forward transform divides by the number of real samples (n² or n³); the inverse is
//!   unnormalised, so `inverse(forward(x)) == x`;
//! - transforms are *centred*: the real-space origin is array index n/2, i.e. the forward
//!   result is X(k) = n^−D · Σ_x f(x) · exp(−2πi k·(x − n/2)/n). For even n this is the plain
//!   DFT multiplied by (−1)^(kx+ky+kz), RELION's `CenterFFT` / `CenterFFTbySign`;
//! - the output is FFTW's half layout (see [`crate::grid`]).
//!
//! Plans are built once per (precision, length) and shared by all threads through a
//! process-wide cache (submodule `plans`). Volumes are transformed with rayon, line by line along each
//! axis without whole-volume transposes (submodules `lines`, `centred`); images run on the calling
//! thread (callers parallelise over images). Every line is transformed independently with the
//! same plan, so results are bitwise identical for any number of threads.
//!
//! Precision: `f32` for images, maps and the projector (as RELION's GPU path); `f64` where
//! RELION computes in double and sums of many particles meet, i.e. the reconstruction
//! ([`crate::reconstruct`]: backprojected sums, density compensation, final inverse).
//! [`EvenConvolution`] is the specialised round trip of the density compensation.

mod centred;
mod even;
mod lines;
pub mod plane;
mod plans;

pub use even::EvenConvolution;

use crate::grid::{GridError, HalfGrid, RealGrid};
use rustfft::num_complex::{Complex, Complex32};
use rustfft::num_traits::Float;

/// Floating-point precisions the FFTs run in: `f32` (images, volumes) and `f64` (reconstruction).
pub trait FftFloat: Float + plans::PlanCache + lines::ThreadScratch {}
impl FftFloat for f32 {}
impl FftFloat for f64 {}

/// Centred forward transform of an image or volume with RELION's scaling (see module doc).
pub fn forward<const D: usize>(grid: &RealGrid<D>) -> HalfGrid<Complex32, D> {
    let data = centred::forward::<f32, D>(grid.data(), grid.n());
    // Lengths follow from the grid's own invariants, so this cannot fail.
    HalfGrid::from_vec(grid.n(), grid.pixel_size(), data).unwrap_or_else(|e| unreachable!("{e}"))
}

/// Inverse of [`forward`]: unnormalised centred inverse transform back to real space.
pub fn inverse<const D: usize>(f: &HalfGrid<Complex32, D>) -> RealGrid<D> {
    let data = centred::inverse::<f32, D>(f.data(), f.n());
    RealGrid::from_vec(f.n(), f.pixel_size(), data).unwrap_or_else(|e| unreachable!("{e}"))
}

/// [`forward`] on raw samples of a `D`-dimensional box of `n` (x fastest), in precision `T`.
pub fn forward_slice<T: FftFloat, const D: usize>(
    data: &[T],
    n: usize,
) -> Result<Vec<Complex<T>>, GridError> {
    check_len(
        "real samples for a forward FFT",
        data.len(),
        n.pow(D as u32),
        n,
    )?;
    Ok(centred::forward::<T, D>(data, n))
}

/// [`inverse`] on a raw half array (FFTW order) of a `D`-dimensional box of `n`, in precision `T`.
pub fn inverse_slice<T: FftFloat, const D: usize>(
    data: &[Complex<T>],
    n: usize,
) -> Result<Vec<T>, GridError> {
    check_len(
        "half-array values for an inverse FFT",
        data.len(),
        HalfGrid::<T, D>::len_for(n),
        n,
    )?;
    Ok(centred::inverse::<T, D>(data, n))
}

/// The central `window`³ samples of [`inverse_slice`] in 3D (real-space origin at window/2, as
/// for a box of `window`), computing only the planes and rows that reach them: how a padded
/// reconstruction returns to its unpadded box. The half array `data` (box `n`) is consumed as
/// the workspace. `window` must be even and at most `n`.
pub fn inverse_central<T: FftFloat>(
    data: Vec<Complex<T>>,
    n: usize,
    window: usize,
) -> Result<Vec<T>, GridError> {
    check_len(
        "half-array values for an inverse FFT",
        data.len(),
        HalfGrid::<T, 3>::len_for(n),
        n,
    )?;
    crate::grid::check_box("central window of an inverse FFT", window)?;
    if window > n {
        return Err(GridError::Mismatch {
            what: "central window of an inverse FFT",
            expected: format!("at most the transform's box of {n}"),
            found: format!("a window of {window}"),
        });
    }
    Ok(centred::inverse_window(data, n, window))
}

fn check_len(what: &'static str, found: usize, expected: usize, n: usize) -> Result<(), GridError> {
    crate::grid::check_box(what, n)?;
    if found == expected {
        Ok(())
    } else {
        Err(GridError::Mismatch {
            what,
            expected: format!("{expected} values"),
            found: format!("{found}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::test_noise::uniform;
    use crate::grid::{FourierImage, Image, Volume};

    #[test]
    fn round_trip_is_identity_in_2d_and_3d() {
        let img = Image::from_vec(12, 1.0, uniform(5, 144)).unwrap();
        let back = inverse(&forward(&img));
        let err = img
            .data()
            .iter()
            .zip(back.data())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-5, "2D round-trip error {err}");
        let vol = Volume::from_vec(10, 2.0, uniform(3, 1000)).unwrap();
        let back = inverse(&forward(&vol));
        let err = vol
            .data()
            .iter()
            .zip(back.data())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-5, "3D round-trip error {err}");
        assert_eq!(back.pixel_size(), 2.0);
    }

    #[test]
    fn parseval_holds_with_relion_scaling() {
        // Σ|x|² = n^D · Σ_full |X|²; on the half array, kx = 1 … n/2−1 count twice.
        let n = 8;
        let vol = Volume::from_vec(n, 1.0, uniform(1, 512)).unwrap();
        let f = forward(&vol);
        let mut full = 0.0;
        for (i, v) in f.data().iter().enumerate() {
            let kx = f.frequency(i)[0];
            let mult = if kx == 0 || kx == n as i64 / 2 {
                1.0
            } else {
                2.0
            };
            full += mult * v.norm_sqr() as f64;
        }
        let real: f64 = vol.data().iter().map(|&v| (v as f64).powi(2)).sum();
        assert!((real - full * 512.0).abs() < 1e-4 * real);
    }

    #[test]
    fn centred_delta_is_flat_and_cosine_gives_two_peaks() {
        let n = 8;
        let delta = Image::from_fn(
            n,
            1.0,
            |[x, y, _]| if x == 0.0 && y == 0.0 { 64.0 } else { 0.0 },
        )
        .unwrap();
        let f: FourierImage = forward(&delta);
        assert!(
            f.data()
                .iter()
                .all(|v| (v.re - 1.0).abs() < 1e-6 && v.im.abs() < 1e-6)
        );
        // cos(2π·2x/n) → 1/2 at kx = ±2 (only +2 stored on the half array), zero elsewhere.
        let cosine = Image::from_fn(n, 1.0, |[x, _, _]| {
            (2.0 * std::f64::consts::PI * 2.0 * x / n as f64).cos() as f32
        })
        .unwrap();
        let f = forward(&cosine);
        for (i, v) in f.data().iter().enumerate() {
            let expected = if f.frequency(i) == [2, 0, 0] {
                0.5
            } else {
                0.0
            };
            assert!(
                (v.re - expected).abs() < 1e-6 && v.im.abs() < 1e-6,
                "{:?} {v}",
                f.frequency(i)
            );
        }
        // A delta one pixel right of the origin: phase exp(−2πi kx/n).
        let moved = Image::from_fn(
            n,
            1.0,
            |[x, y, _]| if x == 1.0 && y == 0.0 { 64.0 } else { 0.0 },
        )
        .unwrap();
        let f = forward(&moved);
        let v = f.data()[f.index_of(1, 3, 0).unwrap()];
        let angle = -2.0 * std::f32::consts::PI / n as f32;
        assert!((v - Complex32::from_polar(1.0, angle)).norm() < 1e-6);
    }

    #[test]
    fn slice_variants_check_lengths_and_run_in_f64() {
        assert!(forward_slice::<f64, 3>(&[0.0; 10], 4).is_err());
        let data: Vec<f64> = uniform(5, 64).iter().map(|&v| v as f64).collect();
        let f = forward_slice::<f64, 3>(&data, 4).unwrap();
        let back = inverse_slice::<f64, 3>(&f, 4).unwrap();
        assert!(data.iter().zip(&back).all(|(a, b)| (a - b).abs() < 1e-12));
    }

    #[test]
    fn forward_3d_matches_a_brute_force_centred_dft() {
        let n = 6;
        let data: Vec<f64> = uniform(11, n * n * n).iter().map(|&v| v as f64).collect();
        let f = forward_slice::<f64, 3>(&data, n).unwrap();
        let grid = HalfGrid::<f64, 3>::zeros(n, 1.0).unwrap();
        let tau = 2.0 * std::f64::consts::PI / n as f64;
        for (i, got) in f.iter().enumerate() {
            let [kx, ky, kz] = grid.frequency(i);
            let mut sum = Complex::new(0.0, 0.0);
            for (j, &v) in data.iter().enumerate() {
                let c = |a: usize| a as f64 - (n / 2) as f64;
                let (x, y, z) = (c(j % n), c((j / n) % n), c(j / (n * n)));
                let phase = -tau * (kx as f64 * x + ky as f64 * y + kz as f64 * z);
                sum += Complex::from_polar(v, phase);
            }
            let expected = sum / (n * n * n) as f64;
            assert!(
                (got - expected).norm() < 1e-14,
                "{:?}: {got} vs {expected}",
                [kx, ky, kz]
            );
        }
    }

    #[test]
    fn central_window_is_the_middle_of_the_full_inverse() {
        let (n, window) = (10, 4);
        let data: Vec<f64> = uniform(2, n * n * n).iter().map(|&v| v as f64).collect();
        let f = forward_slice::<f64, 3>(&data, n).unwrap();
        let central = inverse_central(f.clone(), n, window).unwrap();
        let offset = n / 2 - window / 2;
        for (i, &v) in central.iter().enumerate() {
            let (x, y, z) = (i % window, (i / window) % window, i / (window * window));
            let full = data[((z + offset) * n + y + offset) * n + x + offset];
            assert!((v - full).abs() < 1e-12, "({x}, {y}, {z}): {v} vs {full}");
        }
        assert!(inverse_central(f.clone(), n, 12).is_err());
        assert!(inverse_central(f, n, 3).is_err());
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let n = 12;
        let vol = Volume::from_vec(n, 1.0, uniform(4, n * n * n)).unwrap();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let f = forward(&vol);
                (f.data().to_vec(), inverse(&f).into_vec())
            })
        };
        assert_eq!(run(1), run(3));
    }
}
