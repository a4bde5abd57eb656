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
    let mut by_column = transpose(&half, columns, height);
    let column_plans = line_plans::<f32>(height);
    by_column.par_chunks_mut(height).for_each_init(
        || vec![Complex32::new(0.0, 0.0); column_plans.forward.get_inplace_scratch_len()],
        |scratch, line| {
            column_plans.forward.process_with_scratch(line, scratch);
            line.iter_mut().for_each(|v| *v *= scale);
        },
    );
    let data = transpose(&by_column, height, columns);
    PlaneSpectrum::from_vec(width, height, data).unwrap_or_else(|e| unreachable!("{e}"))
}

/// Inverse of [`forward`]: the unnormalised inverse transform back to a `width` × `height` plane.
/// The imaginary parts that a real plane cannot have (DC and, for even widths, Nyquist columns)
/// are ignored.
pub fn inverse(spectrum: &PlaneSpectrum) -> Plane {
    let (width, height, columns) = (spectrum.width(), spectrum.height(), spectrum.columns());
    let mut by_column = transpose(spectrum.data(), columns, height);
    let column_plans = line_plans::<f32>(height);
    by_column.par_chunks_mut(height).for_each_init(
        || vec![Complex32::new(0.0, 0.0); column_plans.inverse.get_inplace_scratch_len()],
        |scratch, line| column_plans.inverse.process_with_scratch(line, scratch),
    );
    let mut half = transpose(&by_column, height, columns);
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

/// The `cols` × `rows` transpose of a row-major `rows` × `cols` array (rows = lines of `cols`).
fn transpose(data: &[Complex32], cols: usize, rows: usize) -> Vec<Complex32> {
    let mut out = vec![Complex32::new(0.0, 0.0); data.len()];
    out.par_chunks_mut(rows).enumerate().for_each(|(c, line)| {
        for (r, v) in line.iter_mut().enumerate() {
            *v = data[r * cols + c];
        }
    });
    out
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
        for (w, h) in [(6, 4), (7, 5), (8, 9)] {
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
