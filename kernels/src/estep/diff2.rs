//! The fast CPU scorer: squared differences (refine.md §1.4) and correlations (§1.8) over the
//! window pixels, with everything that does not depend on the pair precomputed.
//!
//! Per request: the masked image is weighted by √(1/(2σ²)) per pixel and moved once to every
//! translation the pairs use (phase ramps in f64, stored as f32 split-complex arrays: the
//! "shifted images" of RELION's CPU path); the reference factor S·CTF·√(1/(2σ²)) is tabulated.
//! Per run of equal rotations: one central slice (trilinear [`Projector::project_into`] at the
//! window size), gathered onto the window and multiplied by that factor. Per pair: one pass
//! over contiguous f32 arrays, d² = Σ (a − x)² (4 loads, 2 subtractions, 2 multiply-adds per
//! pixel) in 8 independent lanes that the compiler vectorises, flushed to f64 every 1024
//! pixels so that rounding does not grow with the window. The DC pixel has weight 0.
//! Single-threaded (see the module doc of [`super`]); deterministic.

use super::EstepError;
use super::cc::{correlation, cross_term};
use super::scorer::{Metric, ScoreRequest, Scorer};
use crate::grid::FourierImage;

/// Parallel lanes of the inner loops (one AVX register of f32, two SSE ones).
const LANES: usize = 8;
/// Pixels summed in f32 before the lanes are flushed into the f64 total.
const BLOCK: usize = 1024;

/// Σ term(a_re, a_im, x_re, x_im) over split-complex arrays of equal length (the shortest
/// length is used), in [`LANES`] f32 lanes flushed to f64 every [`BLOCK`] pixels.
#[inline(always)]
pub(super) fn lane_sum(
    (a_re, a_im): (&[f32], &[f32]),
    (x_re, x_im): (&[f32], &[f32]),
    term: impl Fn(f32, f32, f32, f32) -> f32 + Copy,
) -> f64 {
    let n = a_re.len().min(a_im.len()).min(x_re.len()).min(x_im.len());
    let mut total = 0.0f64;
    let mut start = 0;
    while start < n {
        let end = (start + BLOCK).min(n);
        let (ar, ar_tail) = a_re[start..end].as_chunks::<LANES>();
        let (ai, ai_tail) = a_im[start..end].as_chunks::<LANES>();
        let (xr, xr_tail) = x_re[start..end].as_chunks::<LANES>();
        let (xi, xi_tail) = x_im[start..end].as_chunks::<LANES>();
        let mut acc = [0.0f32; LANES];
        for (((ar, ai), xr), xi) in ar.iter().zip(ai).zip(xr).zip(xi) {
            for l in 0..LANES {
                acc[l] += term(ar[l], ai[l], xr[l], xi[l]);
            }
        }
        let tails = ar_tail.iter().zip(ai_tail).zip(xr_tail).zip(xi_tail);
        for (l, (((&ar, &ai), &xr), &xi)) in tails.enumerate() {
            acc[l] += term(ar, ai, xr, xi);
        }
        total += acc.iter().map(|&v| v as f64).sum::<f64>();
        start = end;
    }
    total
}

/// Σ |a − x|² over split-complex arrays.
pub(super) fn squared_distance(a: (&[f32], &[f32]), x: (&[f32], &[f32])) -> f64 {
    lane_sum(a, x, |ar, ai, xr, xi| {
        let (dr, di) = (ar - xr, ai - xi);
        dr * dr + di * di
    })
}

/// The CPU implementation of [`Scorer`]; see the module doc.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuScorer;

/// Split-complex arrays of `slots` images of `pixels` values each.
struct ImageBank {
    pixels: usize,
    re: Vec<f32>,
    im: Vec<f32>,
}

impl ImageBank {
    fn image(&self, slot: usize) -> (&[f32], &[f32]) {
        let r = slot * self.pixels..(slot + 1) * self.pixels;
        (&self.re[r.clone()], &self.im[r])
    }
}

impl Scorer for CpuScorer {
    fn score(&self, request: &ScoreRequest<'_>, out: &mut Vec<f64>) -> Result<(), EstepError> {
        let pixels = request.validate()?;
        let particle = request.particle;
        let window = particle.window();
        let n = window.ori_size();
        // Per-pixel weight of the image and factor of the projection; 0 at DC.
        let image_weight: Vec<f32> = match request.metric {
            Metric::Diff2 => particle.inv_sigma2()[..pixels]
                .iter()
                .map(|&v| (0.5 * v).sqrt())
                .collect(),
            Metric::NegativeCc => vec![1.0; pixels],
        };
        let scale = match request.metric {
            Metric::Diff2 => particle.scale() as f32,
            Metric::NegativeCc => 1.0,
        };
        let mut factor: Vec<f32> = particle.ctf()[..pixels]
            .iter()
            .zip(&image_weight)
            .map(|(&c, &w)| scale * c * w)
            .collect();
        factor[0] = 0.0;
        let (x_re, x_im) = particle.masked();
        let mut base_re: Vec<f32> = x_re[..pixels]
            .iter()
            .zip(&image_weight)
            .map(|(x, w)| x * w)
            .collect();
        let mut base_im: Vec<f32> = x_im[..pixels]
            .iter()
            .zip(&image_weight)
            .map(|(x, w)| x * w)
            .collect();
        base_re[0] = 0.0;
        base_im[0] = 0.0;

        let mut slot = vec![usize::MAX; request.translations_px.len()];
        let mut used = Vec::new();
        for &(_, t) in request.pairs {
            if slot[t as usize] == usize::MAX {
                slot[t as usize] = used.len();
                used.push(t as usize);
            }
        }
        let mut bank = ImageBank {
            pixels,
            re: vec![0.0; used.len() * pixels],
            im: vec![0.0; used.len() * pixels],
        };
        for (dst_re, (dst_im, &t)) in bank
            .re
            .chunks_mut(pixels.max(1))
            .zip(bank.im.chunks_mut(pixels.max(1)).zip(&used))
        {
            window.shift(
                request.translations_px[t],
                (&base_re, &base_im),
                (dst_re, dst_im),
            );
        }
        let x_norm2 = cross_term((&base_re, &base_im), (&base_re, &base_im));
        let constant = particle.half_power_beyond();

        let gather = window.half_indices(request.size)?;
        let pixel = particle.pixel_size() * n as f64 / request.size as f64;
        let mut slice = FourierImage::zeros(request.size, pixel)?;
        let (mut a_re, mut a_im) = (vec![0.0f32; pixels], vec![0.0f32; pixels]);
        let mut a_norm2 = 0.0;
        let mut projected: Option<u32> = None;
        out.clear();
        out.reserve(request.pairs.len());
        for &(r, t) in request.pairs {
            if projected != Some(r) {
                request
                    .projector
                    .project_into(&request.rotations[r as usize], &mut slice);
                for (((a_re, a_im), &j), &f) in a_re
                    .iter_mut()
                    .zip(a_im.iter_mut())
                    .zip(&gather)
                    .zip(&factor)
                {
                    let v = slice.data()[j];
                    *a_re = v.re * f;
                    *a_im = v.im * f;
                }
                if request.metric == Metric::NegativeCc {
                    a_norm2 = cross_term((&a_re, &a_im), (&a_re, &a_im));
                }
                projected = Some(r);
            }
            let x = bank.image(slot[t as usize]);
            out.push(match request.metric {
                Metric::Diff2 => constant + squared_distance((&a_re, &a_im), x),
                Metric::NegativeCc => -correlation(cross_term((&a_re, &a_im), x), a_norm2, x_norm2),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_sums_match_a_plain_f64_sum_for_any_length() {
        let v = crate::grid::test_noise::uniform(4, 4 * 2500);
        let (a, x) = ((&v[..2500], &v[2500..5000]), (&v[5000..7500], &v[7500..]));
        for len in [0, 1, 7, 8, 9, 1023, 1024, 1025, 2500] {
            fn cut<'a>(p: (&'a [f32], &'a [f32]), len: usize) -> (&'a [f32], &'a [f32]) {
                (&p.0[..len], &p.1[..len])
            }
            let fast = squared_distance(cut(a, len), cut(x, len));
            let slow: f64 = (0..len)
                .map(|i| ((a.0[i] - x.0[i]) as f64).powi(2) + ((a.1[i] - x.1[i]) as f64).powi(2))
                .sum();
            assert!(
                (fast - slow).abs() <= 1e-6 * slow.max(1e-30),
                "{len}: {fast} {slow}"
            );
        }
    }
}
