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
//! process-wide cache. Volumes are transformed with rayon; images run on the calling thread
//! (callers parallelise over images).

use crate::grid::{GridError, HalfGrid, RealGrid, half_width};
use rayon::prelude::*;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::num_complex::{Complex, Complex32};
use rustfft::num_traits::{Float, Zero};
use rustfft::{Fft, FftNum, FftPlanner};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

mod plans {
    use super::*;

    /// Planners for one precision; plans are cached inside them by length.
    pub struct Planners<T: FftNum> {
        pub real: RealFftPlanner<T>,
        pub complex: FftPlanner<T>,
    }

    /// Access to the process-wide planner of a precision (sealed: only f32 and f64).
    pub trait PlanCache: FftNum + Sized {
        fn cache() -> &'static Mutex<Planners<Self>>;
    }

    macro_rules! plan_cache {
        ($t:ty) => {
            impl PlanCache for $t {
                fn cache() -> &'static Mutex<Planners<Self>> {
                    static CACHE: OnceLock<Mutex<Planners<$t>>> = OnceLock::new();
                    CACHE.get_or_init(|| {
                        Mutex::new(Planners {
                            real: RealFftPlanner::new(),
                            complex: FftPlanner::new(),
                        })
                    })
                }
            }
        };
    }
    plan_cache!(f32);
    plan_cache!(f64);
}

/// Floating-point precisions the FFTs run in: `f32` (images, volumes) and `f64` (reconstruction).
pub trait FftFloat: Float + plans::PlanCache {}
impl FftFloat for f32 {}
impl FftFloat for f64 {}

fn with_planners<T: FftFloat, R>(f: impl FnOnce(&mut plans::Planners<T>) -> R) -> R {
    let mut guard = T::cache().lock().unwrap_or_else(PoisonError::into_inner);
    f(&mut guard)
}

fn r2c_plan<T: FftFloat>(n: usize) -> Arc<dyn RealToComplex<T>> {
    with_planners(|p| p.real.plan_fft_forward(n))
}

fn c2r_plan<T: FftFloat>(n: usize) -> Arc<dyn ComplexToReal<T>> {
    with_planners(|p| p.real.plan_fft_inverse(n))
}

fn c2c_plan<T: FftFloat>(n: usize, inverse: bool) -> Arc<dyn Fft<T>> {
    with_planners(|p| {
        if inverse {
            p.complex.plan_fft_inverse(n)
        } else {
            p.complex.plan_fft_forward(n)
        }
    })
}

/// Centred forward transform of an image or volume with RELION's scaling (see module doc).
pub fn forward<const D: usize>(grid: &RealGrid<D>) -> HalfGrid<Complex32, D> {
    let data = forward_unchecked::<f32, D>(grid.data(), grid.n());
    // Lengths follow from the grid's own invariants, so this cannot fail.
    HalfGrid::from_vec(grid.n(), grid.pixel_size(), data).unwrap_or_else(|e| unreachable!("{e}"))
}

/// Inverse of [`forward`]: unnormalised centred inverse transform back to real space.
pub fn inverse<const D: usize>(f: &HalfGrid<Complex32, D>) -> RealGrid<D> {
    let data = inverse_unchecked::<f32, D>(f.data(), f.n());
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
    Ok(forward_unchecked::<T, D>(data, n))
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
    Ok(inverse_unchecked::<T, D>(data, n))
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

/// Multiplies by `scale · (−1)^(ix+iy+iz)` (array indices; same parity as the logical
/// frequencies for even n): the centring and scaling of RELION's convention.
fn centre_and_scale<T: FftFloat>(data: &mut [Complex<T>], n: usize, scale: T) {
    let h = half_width(n);
    data.par_chunks_mut(h)
        .enumerate()
        .with_min_len(64)
        .for_each(|(row, values)| {
            let iy = row % n;
            let iz = row / n;
            for (ix, v) in values.iter_mut().enumerate() {
                *v = if (ix + iy + iz).is_multiple_of(2) {
                    *v * scale
                } else {
                    *v * -scale
                };
            }
        });
}

fn forward_unchecked<T: FftFloat, const D: usize>(data: &[T], n: usize) -> Vec<Complex<T>> {
    let h = half_width(n);
    let rows = data.len() / n;
    let parallel = D == 3;
    let mut out = vec![Complex::<T>::zero(); rows * h];
    let plan = r2c_plan::<T>(n);
    let row_fft = |(input, output): (&[T], &mut [Complex<T>]),
                   buf: &mut (Vec<T>, Vec<Complex<T>>)| {
        buf.0.copy_from_slice(input);
        // Buffer lengths come from the plan itself.
        let _ = plan.process_with_scratch(&mut buf.0, output, &mut buf.1);
    };
    let init = || (vec![T::zero(); n], plan.make_scratch_vec());
    if parallel {
        data.par_chunks(n)
            .zip(out.par_chunks_mut(h))
            .for_each_init(init, |b, io| row_fft(io, b));
    } else {
        let mut buf = init();
        data.chunks(n)
            .zip(out.chunks_mut(h))
            .for_each(|io| row_fft(io, &mut buf));
    }
    let fwd = c2c_plan::<T>(n, false);
    fft_columns(&mut out, n, h, &fwd, parallel);
    if D == 3 {
        fft_columns(&mut out, n, n * h, &fwd, parallel);
    }
    let scale = T::one() / T::from_usize(n.pow(D as u32)).unwrap_or_else(T::one);
    centre_and_scale(&mut out, n, scale);
    out
}

fn inverse_unchecked<T: FftFloat, const D: usize>(data: &[Complex<T>], n: usize) -> Vec<T> {
    let h = half_width(n);
    let parallel = D == 3;
    let mut work = data.to_vec();
    centre_and_scale(&mut work, n, T::one());
    let inv = c2c_plan::<T>(n, true);
    if D == 3 {
        fft_columns(&mut work, n, n * h, &inv, parallel);
    }
    fft_columns(&mut work, n, h, &inv, parallel);
    let rows = work.len() / h;
    let mut out = vec![T::zero(); rows * n];
    let plan = c2r_plan::<T>(n);
    let row_fft = |(input, output): (&mut [Complex<T>], &mut [T]),
                   scratch: &mut Vec<Complex<T>>| {
        // A real signal has real DC and Nyquist terms; drop any round-off imaginary part.
        input[0].im = T::zero();
        input[h - 1].im = T::zero();
        let _ = plan.process_with_scratch(input, output, scratch);
    };
    if parallel {
        work.par_chunks_mut(h)
            .zip(out.par_chunks_mut(n))
            .for_each_init(|| plan.make_scratch_vec(), |s, io| row_fft(io, s));
    } else {
        let mut scratch = plan.make_scratch_vec();
        work.chunks_mut(h)
            .zip(out.chunks_mut(n))
            .for_each(|io| row_fft(io, &mut scratch));
    }
    out
}

/// Complex FFT along the columns of consecutive row-major `rows × cols` matrices in `data`
/// (the ky axis of each plane, or the kz axis of a whole volume): transpose, FFT the now
/// contiguous rows in batches, transpose back.
fn fft_columns<T: FftFloat>(
    data: &mut [Complex<T>],
    rows: usize,
    cols: usize,
    fft: &Arc<dyn Fft<T>>,
    parallel: bool,
) {
    let matrix = rows * cols;
    if data.len() > matrix && parallel {
        data.par_chunks_mut(matrix)
            .for_each(|m| column_pass(m, rows, cols, fft, false));
    } else {
        data.chunks_mut(matrix)
            .for_each(|m| column_pass(m, rows, cols, fft, parallel));
    }
}

fn column_pass<T: FftFloat>(
    m: &mut [Complex<T>],
    rows: usize,
    cols: usize,
    fft: &Arc<dyn Fft<T>>,
    parallel: bool,
) {
    let mut t = vec![Complex::<T>::zero(); m.len()];
    transpose(m, rows, cols, &mut t, parallel);
    if parallel {
        let chunk = rows * 64;
        t.par_chunks_mut(chunk).for_each_init(
            || vec![Complex::zero(); fft.get_inplace_scratch_len()],
            |s, c| fft.process_with_scratch(c, s),
        );
    } else {
        let mut scratch = vec![Complex::zero(); fft.get_inplace_scratch_len()];
        fft.process_with_scratch(&mut t, &mut scratch);
    }
    transpose(&t, cols, rows, m, parallel);
}

/// `dst[c·rows + r] = src[r·cols + c]`.
fn transpose<C: Copy + Send + Sync>(
    src: &[C],
    rows: usize,
    cols: usize,
    dst: &mut [C],
    parallel: bool,
) {
    let fill = |(c, out): (usize, &mut [C])| {
        for (r, v) in out.iter_mut().enumerate() {
            *v = src[r * cols + c];
        }
    };
    if parallel {
        dst.par_chunks_mut(rows)
            .enumerate()
            .with_min_len(16)
            .for_each(fill);
    } else {
        dst.chunks_mut(rows).enumerate().for_each(fill);
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
}
