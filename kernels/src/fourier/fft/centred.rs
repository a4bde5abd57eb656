//! The centred, RELION-scaled 2D and 3D real transforms behind [`super::forward`] and
//! [`super::inverse`] (conventions in the parent module's doc).
//!
//! Centring is a circular shift by n/2 on every axis, applied while rows are copied in (forward)
//! or out (inverse); the forward scale 1/n^D is applied to the input samples. A forward 3D
//! transform runs the x rows (real) and ky columns plane by plane, in parallel over planes, then
//! the kz columns in parallel over ky rows; the inverse runs the same passes backwards. Images
//! run on the calling thread.

use super::FftFloat;
use super::lines::{LineScratch, c2r, column_pass, r2c, rows_by_y};
use super::plans::{LinePlans, line_plans};
use crate::grid::half_width;
use rayon::prelude::*;
use rustfft::Fft;
use rustfft::num_complex::Complex;
use rustfft::num_traits::Zero;

/// Centred forward transform of a `D`-dimensional box of `n` (x fastest; length checked by the
/// caller), scaled by 1/n^D.
pub fn forward<T: FftFloat, const D: usize>(data: &[T], n: usize) -> Vec<Complex<T>> {
    let h = half_width(n);
    let scale = T::one() / T::from_usize(n.pow(D as u32)).unwrap_or_else(T::one);
    let mut out = vec![Complex::zero(); data.len() / n * h];
    if D == 2 {
        T::with_thread_lines(n, |lines| {
            forward_plane(&mut out, data, n, scale, &lines.plans, &mut lines.scratch);
        });
        return out;
    }
    let plans = line_plans::<T>(n);
    let init = || LineScratch::new(&plans);
    out.par_chunks_exact_mut(n * h)
        .enumerate()
        .for_each_init(init, |scratch, (z, plane)| {
            let source = &data[(z + n / 2) % n * n * n..][..n * n];
            forward_plane(plane, source, n, scale, &plans, scratch);
        });
    kz_pass(None, &mut out, n, &*plans.forward, &plans);
    out
}

/// Centred inverse transform (unnormalised) of a `D`-dimensional half array of box `n`.
pub fn inverse<T: FftFloat, const D: usize>(data: &[Complex<T>], n: usize) -> Vec<T> {
    if D == 2 {
        let mut out = vec![T::zero(); n * n];
        T::with_thread_lines(n, |lines| {
            lines.work.clear();
            lines.work.extend_from_slice(data);
            inverse_plane(
                &mut lines.work,
                n,
                &mut out,
                n,
                &lines.plans,
                &mut lines.scratch,
            );
        });
        return out;
    }
    let plans = line_plans::<T>(n);
    let mut work = vec![Complex::zero(); data.len()];
    kz_pass(Some(data), &mut work, n, &*plans.inverse, &plans);
    inverse_planes(work, n, n, &plans)
}

/// The central `window`³ samples (origin at window/2) of the centred 3D inverse transform of a
/// half array of box `n` (consumed as workspace): only the planes and rows that reach the
/// window are transformed.
pub fn inverse_window<T: FftFloat>(mut work: Vec<Complex<T>>, n: usize, window: usize) -> Vec<T> {
    let plans = line_plans::<T>(n);
    kz_pass(None, &mut work, n, &*plans.inverse, &plans);
    inverse_planes(work, n, window, &plans)
}

/// The plane stage of a 3D inverse after [`kz_pass`]: ky columns and real rows of the planes
/// that reach the central `window`.
fn inverse_planes<T: FftFloat>(
    mut work: Vec<Complex<T>>,
    n: usize,
    window: usize,
    plans: &LinePlans<T>,
) -> Vec<T> {
    let h = half_width(n);
    // Window plane i is uncentred plane (i − window/2) mod n.
    let mut planes: Vec<&mut [Complex<T>]> = work.chunks_exact_mut(n * h).collect();
    planes.rotate_left((n - window / 2) % n);
    planes.truncate(window);
    let mut out = vec![T::zero(); window.pow(3)];
    out.par_chunks_exact_mut(window * window)
        .zip(planes)
        .for_each_init(
            || LineScratch::new(plans),
            |scratch, (out_plane, plane)| {
                inverse_plane(plane, n, out_plane, window, plans, scratch);
            },
        );
    out
}

/// Rows (real, from the centred `source` plane, scaled) then ky columns of one plane.
fn forward_plane<T: FftFloat>(
    plane: &mut [Complex<T>],
    source: &[T],
    n: usize,
    scale: T,
    plans: &LinePlans<T>,
    scratch: &mut LineScratch<T>,
) {
    let h = half_width(n);
    for (y, row) in plane.chunks_exact_mut(h).enumerate() {
        // Centring: sample x of the row is source sample (x + n/2) mod n.
        let (left, right) = source[(y + n / 2) % n * n..][..n].split_at(n / 2);
        let (low, high) = scratch.real.split_at_mut(n - n / 2);
        for (d, &v) in low.iter_mut().zip(right) {
            *d = v * scale;
        }
        for (d, &v) in high.iter_mut().zip(left) {
            *d = v * scale;
        }
        r2c(plans, &mut scratch.real, row, &mut scratch.fft);
    }
    let mut rows: Vec<_> = plane.chunks_exact_mut(h).collect();
    column_pass(&mut rows, 0..h, &*plans.forward, scratch);
}

/// ky columns of one plane (in place), then the real rows that reach the `window` (rows of
/// `out`), shifted so that the origin lands at window/2.
fn inverse_plane<T: FftFloat>(
    plane: &mut [Complex<T>],
    n: usize,
    out: &mut [T],
    window: usize,
    plans: &LinePlans<T>,
    scratch: &mut LineScratch<T>,
) {
    let h = half_width(n);
    let mut rows: Vec<_> = plane.chunks_exact_mut(h).collect();
    column_pass(&mut rows, 0..h, &*plans.inverse, scratch);
    let half = window / 2;
    for (y, out_row) in out.chunks_exact_mut(window).enumerate() {
        c2r(
            plans,
            rows[(y + n - half) % n],
            &mut scratch.real,
            &mut scratch.fft,
        );
        let (low, high) = out_row.split_at_mut(half);
        low.copy_from_slice(&scratch.real[n - half..]);
        high.copy_from_slice(&scratch.real[..window - half]);
    }
}

/// Complex FFT along kz of a half volume of box `n`, in parallel over ky rows, from `source`
/// (or `data` itself) into `data`. Each ky row's values in every plane are first copied into a
/// dense block (one visit per plane row, which keeps the column pass's strided walks in cache).
fn kz_pass<T: FftFloat>(
    source: Option<&[Complex<T>]>,
    data: &mut [Complex<T>],
    n: usize,
    fft: &dyn Fft<T>,
    plans: &LinePlans<T>,
) {
    let h = half_width(n);
    rows_by_y(data, n, h)
        .into_par_iter()
        .enumerate()
        .for_each_init(
            || (LineScratch::new(plans), vec![Complex::zero(); n * h]),
            |(scratch, dense), (y, rows)| {
                for (z, (block, row)) in dense.chunks_exact_mut(h).zip(&rows).enumerate() {
                    block.copy_from_slice(source.map_or(&**row, |s| &s[(z * n + y) * h..][..h]));
                }
                let mut block: Vec<&mut [Complex<T>]> = dense.chunks_exact_mut(h).collect();
                column_pass(&mut block, 0..h, fft, scratch);
                for (row, block) in rows.into_iter().zip(block) {
                    row.copy_from_slice(block);
                }
            },
        );
}
