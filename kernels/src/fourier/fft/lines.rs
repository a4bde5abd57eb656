//! Batched 1D transforms along the strided axes of half arrays, without whole-array transposes.
//!
//! A "column pass" transforms the lines that run down the rows of a matrix whose rows are given
//! as separate slices (the ky lines of one plane, or the kz lines of one ky row of a volume). It
//! gathers a few columns at a time into a small contiguous block that stays in the L1 cache,
//! transforms the block, and scatters it back. Every line is transformed on its own with the same
//! plan, so results are bitwise independent of how the work is split across threads.

use super::plans::{LinePlans, PlanCache, line_plans};
use rustfft::num_complex::Complex;
use rustfft::num_traits::Zero;
use rustfft::{Fft, FftNum};
use std::cell::Cell;
use std::ops::Range;
use std::sync::Arc;

/// A thread's plans and buffers for one line length, kept between image transforms so that
/// transforming many small images allocates nothing but the results.
pub struct ThreadLines<T: FftNum> {
    n: usize,
    /// The plans of the length.
    pub plans: Arc<LinePlans<T>>,
    /// Line buffers.
    pub scratch: LineScratch<T>,
    /// A half array's worth of workspace (inverse transforms).
    pub work: Vec<Complex<T>>,
}

/// Access to the calling thread's [`ThreadLines`] of a precision (sealed: only f32 and f64).
pub trait ThreadScratch: PlanCache {
    /// Runs `f` with this thread's buffers for length `n` (made on first use or when the
    /// length changes; a nested call gets fresh ones).
    fn with_thread_lines<R>(n: usize, f: impl FnOnce(&mut ThreadLines<Self>) -> R) -> R;
}

macro_rules! thread_scratch {
    ($t:ty) => {
        impl ThreadScratch for $t {
            fn with_thread_lines<R>(n: usize, f: impl FnOnce(&mut ThreadLines<$t>) -> R) -> R {
                thread_local! {
                    static CACHE: Cell<Option<ThreadLines<$t>>> = const { Cell::new(None) };
                }
                let mut lines = match CACHE.take() {
                    Some(lines) if lines.n == n => lines,
                    _ => {
                        let plans = line_plans::<$t>(n);
                        ThreadLines {
                            n,
                            scratch: LineScratch::new(&plans),
                            plans,
                            work: Vec::new(),
                        }
                    }
                };
                let result = f(&mut lines);
                CACHE.set(Some(lines));
                result
            }
        }
    };
}
thread_scratch!(f32);
thread_scratch!(f64);

/// Bytes of gathered lines a column pass keeps in flight (well inside a 32 KiB L1 cache).
const BLOCK_BYTES: usize = 16 * 1024;

/// One thread's reusable buffers for the line transforms of one length.
pub struct LineScratch<T> {
    /// One real line (n samples), the real side of r2c/c2r.
    pub real: Vec<T>,
    /// Gathered complex lines (a block of the column pass, or one line).
    pub block: Vec<Complex<T>>,
    /// Scratch for the FFT library, large enough for every plan of the length.
    pub fft: Vec<Complex<T>>,
}

impl<T: FftNum> LineScratch<T> {
    /// Buffers for lines of `plans` (length n).
    pub fn new(plans: &LinePlans<T>) -> Self {
        let n = plans.forward.len();
        let fft = [
            plans.forward.get_inplace_scratch_len(),
            plans.inverse.get_inplace_scratch_len(),
            plans.r2c.get_scratch_len(),
            plans.c2r.get_scratch_len(),
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        Self {
            real: vec![T::zero(); n],
            block: vec![Complex::zero(); block_lines::<T>(n) * n],
            fft: vec![Complex::zero(); fft],
        }
    }
}

/// Number of length-`n` complex lines in a block of [`BLOCK_BYTES`] (at least 1).
fn block_lines<T>(n: usize) -> usize {
    (BLOCK_BYTES / (n * std::mem::size_of::<Complex<T>>())).max(1)
}

/// Complex FFT, in place, of the lines `rows[0][c], rows[1][c], …` for every column `c` in
/// `columns` (the line length is `rows.len()`, which must be `fft.len()`). Lines that are all
/// zero are left as they are (their transform is zero).
pub fn column_pass<T: FftNum>(
    rows: &mut [&mut [Complex<T>]],
    columns: Range<usize>,
    fft: &dyn Fft<T>,
    scratch: &mut LineScratch<T>,
) {
    let len = rows.len();
    let width = block_lines::<T>(len);
    let mut start = columns.start;
    while start < columns.end {
        let w = width.min(columns.end - start);
        let block = &mut scratch.block[..w * len];
        let mut lines: Vec<&mut [Complex<T>]> = block.chunks_exact_mut(len).collect();
        gather(rows, start, &mut lines);
        for line in lines.iter_mut() {
            if line.iter().any(|v| !v.is_zero()) {
                fft.process_with_scratch(line, &mut scratch.fft);
            }
        }
        scatter(&lines, start, rows);
        start += w;
    }
}

/// Columns moved together by [`gather`] and [`scatter`]: one short contiguous read or write
/// per row feeds this many lines.
const TILE: usize = 4;

/// `lines[b][r] = rows[r][start + b]` for every line b and row r < rows.len().
pub fn gather<C: Copy, R: AsRef<[C]>>(rows: &[R], start: usize, lines: &mut [&mut [C]]) {
    let len = rows.len();
    let mut tiles = lines.chunks_exact_mut(TILE);
    let mut column = start;
    for tile in &mut tiles {
        if let [l0, l1, l2, l3] = tile {
            let (l0, l1, l2, l3) = (
                &mut l0[..len],
                &mut l1[..len],
                &mut l2[..len],
                &mut l3[..len],
            );
            for (r, row) in rows.iter().enumerate() {
                let v = &row.as_ref()[column..column + TILE];
                (l0[r], l1[r], l2[r], l3[r]) = (v[0], v[1], v[2], v[3]);
            }
        }
        column += TILE;
    }
    for line in tiles.into_remainder() {
        for (v, row) in line.iter_mut().zip(rows) {
            *v = row.as_ref()[column];
        }
        column += 1;
    }
}

/// `rows[r][start + b] = lines[b][r]` for every line b and row r < rows.len() (the inverse of
/// [`gather`]).
pub fn scatter<C: Copy, L: AsRef<[C]>>(lines: &[L], start: usize, rows: &mut [&mut [C]]) {
    let len = rows.len();
    let mut tiles = lines.chunks_exact(TILE);
    let mut column = start;
    for tile in &mut tiles {
        if let [l0, l1, l2, l3] = tile {
            let (l0, l1, l2, l3) = (
                &l0.as_ref()[..len],
                &l1.as_ref()[..len],
                &l2.as_ref()[..len],
                &l3.as_ref()[..len],
            );
            for (r, row) in rows.iter_mut().enumerate() {
                row[column..column + TILE].copy_from_slice(&[l0[r], l1[r], l2[r], l3[r]]);
            }
        }
        column += TILE;
    }
    for line in tiles.remainder() {
        for (v, row) in line.as_ref().iter().zip(rows.iter_mut()) {
            row[column] = *v;
        }
        column += 1;
    }
}

/// Splits a half volume (`planes` planes of `rows` rows of `width` values, FFTW order) into, for
/// each row index y, the list of its rows in every plane: `result[y][z]` is row (y, z). The kz
/// lines of row y are then the columns of `result[y]`, ready for [`column_pass`] on one thread.
pub fn rows_by_y<C>(data: &mut [C], rows: usize, width: usize) -> Vec<Vec<&mut [C]>> {
    let planes = data.len() / (rows * width).max(1);
    let mut by_y: Vec<Vec<&mut [C]>> = (0..rows).map(|_| Vec::with_capacity(planes)).collect();
    for plane in data.chunks_exact_mut(rows * width) {
        for (y, row) in plane.chunks_exact_mut(width).enumerate() {
            by_y[y].push(row);
        }
    }
    by_y
}

/// Real → half-complex transform of `input` (destroyed) into `output` (n/2+1 values).
pub fn r2c<T: FftNum>(
    plans: &LinePlans<T>,
    input: &mut [T],
    output: &mut [Complex<T>],
    fft_scratch: &mut [Complex<T>],
) {
    // Lengths come from the same plans that sized the buffers, so this cannot fail.
    let _ = plans.r2c.process_with_scratch(input, output, fft_scratch);
}

/// Half-complex → real transform of `input` (destroyed) into `output` (n samples). The
/// imaginary parts of the DC and Nyquist terms, which a real signal cannot have, are dropped
/// (for Hermitian data they are round-off).
pub fn c2r<T: FftNum>(
    plans: &LinePlans<T>,
    input: &mut [Complex<T>],
    output: &mut [T],
    fft_scratch: &mut [Complex<T>],
) {
    let last = input.len() - 1;
    input[0].im = T::zero();
    input[last].im = T::zero();
    // Lengths come from the plans and the imaginary parts are cleared, so this cannot fail.
    let _ = plans.c2r.process_with_scratch(input, output, fft_scratch);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_pass_matches_line_by_line_transforms() {
        let (len, cols) = (8, 5);
        let plans = line_plans::<f64>(len);
        let mut scratch = LineScratch::new(&plans);
        let value = |r: usize, c: usize| Complex::new((r * 7 + c * 3) as f64 % 5.0, c as f64);
        let mut data: Vec<Complex<f64>> =
            (0..len * cols).map(|i| value(i / cols, i % cols)).collect();
        // Column 4 is all zero and must stay exactly zero.
        data.iter_mut()
            .skip(4)
            .step_by(cols)
            .for_each(|v| *v = Complex::zero());
        let mut rows: Vec<&mut [Complex<f64>]> = data.chunks_exact_mut(cols).collect();
        column_pass(&mut rows, 1..cols, &*plans.forward, &mut scratch);
        for c in 0..cols {
            let mut line: Vec<Complex<f64>> = (0..len).map(|r| value(r, c)).collect();
            if c == 4 {
                line.iter_mut().for_each(|v| *v = Complex::zero());
            } else if c > 0 {
                plans.forward.process(&mut line);
            }
            for (r, expected) in line.iter().enumerate() {
                assert!((data[r * cols + c] - expected).norm() < 1e-12, "({r}, {c})");
            }
        }
    }

    #[test]
    fn rows_by_y_groups_rows_across_planes() {
        let mut data: Vec<usize> = (0..2 * 3 * 4).collect();
        let by_y = rows_by_y(&mut data, 3, 4);
        assert_eq!(by_y.len(), 3);
        assert_eq!(by_y[1].len(), 2);
        assert_eq!(by_y[1][1], &[16, 17, 18, 19]);
    }
}
