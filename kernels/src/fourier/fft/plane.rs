//! Uncentred 2D real FFTs of rectangular [`Plane`]s (micrographs, movie frames, patches).
//!
//! Scaling follows the rest of [`super`]: the forward transform divides by `width · height`, the
//! inverse is unnormalised, so `inverse(&forward(p)) == p` up to round-off. Unlike the square
//! grids, the origin is pixel (0, 0): X(kx, ky) = (w·h)⁻¹ Σ f(x, y) e^{−2πi(kx·x/w + ky·y/h)}.
//! Rows and columns are transformed in parallel with rayon, each line with the same cached plan,
//! so results are bitwise identical for any number of threads.

use super::plans::line_plans;
use crate::grid::{Complex32, Plane, PlaneSpectrum};
use rayon::prelude::*;
use rustfft::Fft;

/// Columns gathered, transformed and scattered back together by [`transform_columns`]: 128
/// lines of a 4096-row frame are 4 MB, which stay in cache between the three steps.
const COLUMN_BATCH: usize = 128;

/// Columns one rayon task gathers (8 complex values: one 64-byte cache line of each row).
const COLUMN_TASK: usize = 8;

/// Forward transform of `plane` (scaled by 1/(w·h)).
pub fn forward(plane: &Plane) -> PlaneSpectrum {
    let (width, height) = (plane.width(), plane.height());
    let columns = PlaneSpectrum::columns_for(width);
    let row_plans = line_plans::<f32>(width);
    let mut half = vec![Complex32::new(0.0, 0.0); columns * height];
    half.par_chunks_mut(columns)
        .zip(plane.data().par_chunks(width))
        .for_each_init(
            || (vec![0.0f32; width], row_plans.r2c.make_scratch_vec()),
            |(input, scratch), (out, row)| {
                input.copy_from_slice(row);
                // Buffer lengths come from the same plan, so this cannot fail.
                let _ = row_plans.r2c.process_with_scratch(input, out, scratch);
            },
        );
    let scale = 1.0 / (width * height) as f32;
    let column_plans = line_plans::<f32>(height);
    transform_columns(&mut half, columns, &*column_plans.forward, scale);
    PlaneSpectrum::from_vec(width, height, half).unwrap_or_else(|e| unreachable!("{e}"))
}

/// Inverse of [`forward`]: the unnormalised inverse transform back to a `width` × `height` plane.
/// The imaginary parts that a real plane cannot have (DC and, for even widths, Nyquist columns)
/// are ignored.
pub fn inverse(spectrum: &PlaneSpectrum) -> Plane {
    let (width, height, columns) = (spectrum.width(), spectrum.height(), spectrum.columns());
    let mut half = spectrum.data().to_vec();
    let column_plans = line_plans::<f32>(height);
    transform_columns(&mut half, columns, &*column_plans.inverse, 1.0);
    let row_plans = line_plans::<f32>(width);
    let mut data = vec![0.0f32; width * height];
    data.par_chunks_mut(width)
        .zip(half.par_chunks_mut(columns))
        .for_each_init(
            || row_plans.c2r.make_scratch_vec(),
            |scratch, (out, input)| {
                input[0].im = 0.0;
                if width % 2 == 0 {
                    input[columns - 1].im = 0.0;
                }
                // Lengths come from the plan and the imaginary parts are cleared: cannot fail.
                let _ = row_plans.c2r.process_with_scratch(input, out, scratch);
            },
        );
    Plane::from_vec(width, height, data).unwrap_or_else(|e| unreachable!("{e}"))
}

/// Transforms every column of the row-major array `data` (rows of `columns` values) in place
/// with `fft`, then multiplies by `scale`. Columns go [`COLUMN_BATCH`] at a time through a
/// buffer: gathered a cache line of each row at a time, transformed as contiguous lines,
/// scattered back row by row; no transposed copy of the whole array is made. Each column gets
/// the same plan whatever the batching, so the result does not depend on the number of threads.
fn transform_columns(data: &mut [Complex32], columns: usize, fft: &dyn Fft<f32>, scale: f32) {
    let rows = data.len() / columns;
    if rows == 0 {
        return;
    }
    let mut buffer = vec![Complex32::new(0.0, 0.0); COLUMN_BATCH.min(columns) * rows];
    let scratch_len = fft.get_inplace_scratch_len();
    for first in (0..columns).step_by(COLUMN_BATCH) {
        let batch = COLUMN_BATCH.min(columns - first);
        let lines = &mut buffer[..batch * rows];
        let source = &*data;
        lines
            .par_chunks_mut(COLUMN_TASK * rows)
            .enumerate()
            .for_each_init(
                || vec![Complex32::new(0.0, 0.0); scratch_len],
                |scratch, (task, block)| {
                    let c0 = first + task * COLUMN_TASK;
                    let width = block.len() / rows;
                    for r in 0..rows {
                        let row = &source[r * columns + c0..r * columns + c0 + width];
                        for (c, v) in row.iter().enumerate() {
                            block[c * rows + r] = *v;
                        }
                    }
                    for line in block.chunks_exact_mut(rows) {
                        fft.process_with_scratch(line, scratch);
                        if scale != 1.0 {
                            line.iter_mut().for_each(|v| *v *= scale);
                        }
                    }
                },
            );
        let lines = &*lines;
        data.par_chunks_mut(columns)
            .enumerate()
            .for_each(|(r, row)| {
                for (c, v) in row[first..first + batch].iter_mut().enumerate() {
                    *v = lines[c * rows + r];
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(plane: &Plane, kx: i64, ky: i64) -> (f64, f64) {
        let (w, h) = (plane.width() as f64, plane.height() as f64);
        let mut sum = (0.0, 0.0);
        for y in 0..plane.height() {
            for x in 0..plane.width() {
                let phase = -2.0
                    * std::f64::consts::PI
                    * (kx as f64 * x as f64 / w + ky as f64 * y as f64 / h);
                let v = f64::from(plane.get(x, y).unwrap());
                sum.0 += v * phase.cos();
                sum.1 += v * phase.sin();
            }
        }
        (sum.0 / (w * h), sum.1 / (w * h))
    }

    #[test]
    fn forward_matches_the_definition_and_inverse_undoes_it() {
        // 300 px wide: 151 columns, more than one batch of the column pass.
        for (w, h) in [(6, 4), (7, 5), (8, 9), (300, 6)] {
            let plane = Plane::from_fn(w, h, |x, y| {
                ((x * 7 + y * 13) % 11) as f32 - 4.0 + 0.1 * x as f32
            });
            let spectrum = forward(&plane);
            for (i, v) in spectrum.data().iter().enumerate() {
                let (kx, ky) = spectrum.frequency(i);
                let (re, im) = naive(&plane, kx, ky);
                assert!(
                    (f64::from(v.re) - re).abs() < 1e-5 && (f64::from(v.im) - im).abs() < 1e-5,
                    "{w}×{h} ({kx},{ky})"
                );
            }
            let back = inverse(&spectrum);
            for (a, b) in back.data().iter().zip(plane.data()) {
                assert!((a - b).abs() < 1e-4, "{w}×{h}: {a} vs {b}");
            }
        }
    }
}
