//! The fast CPU scorer: squared differences (refine.md §1.4) and correlations (§1.8) over the
//! window pixels, with everything that does not depend on the pair precomputed.
//!
//! Per request: the masked image is weighted by √(1/(2σ²)) per pixel and moved once to every
//! translation the pairs use (phase ramps in f64, stored as f32 split-complex arrays: the
//! "shifted images" of RELION's CPU path); the reference factor S·CTF·√(1/(2σ²)) is tabulated.
//! Per run of equal rotations: one central slice ([`Projector::project_into`] at the window
//! size, or read from a [`ProjectionBank`](super::ProjectionBank)), gathered onto the window
//! and multiplied by that factor. Per pair: one pass over contiguous f32 arrays,
//! d² = Σ (a − x)² (4 loads, 2 subtractions, 2 multiplies, 2 adds per pixel) in 8
//! independent lanes that the compiler vectorises (AVX when the CPU has it), flushed to f64
//! every 1024 pixels so that rounding does not grow with the window. The DC pixel has
//! weight 0.
//!
//! [`Projector::project_into`]: crate::projector::Projector::project_into
//! Single-threaded (see the module doc of [`super`]); deterministic.

use super::EstepError;
use super::bank::SliceProjector;
use super::cc::{correlation, cross_term};
use super::scorer::{Metric, Rotations, ScoreRequest, Scorer};

/// Parallel lanes of the inner loops (one AVX register of f32, two SSE ones).
const LANES: usize = 8;
/// Pixels summed in f32 before the lanes are flushed into the f64 total.
const BLOCK: usize = 1024;

/// Σ term(a_re, a_im, x_re, x_im) over split-complex arrays of equal length (the shortest
/// length is used), in [`LANES`] f32 lanes flushed to f64 every [`BLOCK`] pixels.
///
/// On x86-64 CPUs with AVX the same code runs compiled for AVX (256-bit registers). Each lane
/// sees the same operations in the same order either way (no fused multiply-add), so the two
/// builds give bitwise identical results.
#[inline(always)]
pub(super) fn lane_sum(
    a: (&[f32], &[f32]),
    x: (&[f32], &[f32]),
    term: impl Fn(f32, f32, f32, f32) -> f32 + Copy,
) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX, checked just above.
        return unsafe { lane_sum_avx(a, x, term) };
    }
    lane_sum_portable(a, x, term)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn lane_sum_avx(
    a: (&[f32], &[f32]),
    x: (&[f32], &[f32]),
    term: impl Fn(f32, f32, f32, f32) -> f32 + Copy,
) -> f64 {
    lane_sum_portable(a, x, term)
}

#[inline(always)]
fn lane_sum_portable(
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

/// The weighted, shifted images of every translation the pairs use: slot per translation
/// index (usize::MAX when unused) and the images.
fn shifted_images(request: &ScoreRequest<'_>, base: (&[f32], &[f32])) -> (Vec<usize>, ImageBank) {
    let mut slot = vec![usize::MAX; request.translations_px.len()];
    let mut used = Vec::new();
    for &(_, t) in request.pairs {
        if slot[t as usize] == usize::MAX {
            slot[t as usize] = used.len();
            used.push(t as usize);
        }
    }
    let pixels = base.0.len();
    let mut bank = ImageBank {
        pixels,
        re: vec![0.0; used.len() * pixels],
        im: vec![0.0; used.len() * pixels],
    };
    let window = request.particle.window();
    let chunks = bank
        .re
        .chunks_mut(pixels.max(1))
        .zip(bank.im.chunks_mut(pixels.max(1)));
    for ((re, im), &t) in chunks.zip(&used) {
        window.shift(request.translations_px[t], base, (re, im));
    }
    (slot, bank)
}

impl Scorer for CpuScorer {
    fn score(&self, request: &ScoreRequest<'_>, out: &mut Vec<f64>) -> Result<(), EstepError> {
        let pixels = request.validate()?;
        let particle = request.particle;
        // Per-pixel weight of the image and factor of the projection; both 0 at DC.
        let (image_weight, scale): (Vec<f32>, f32) = match request.metric {
            Metric::Diff2 => (
                particle.inv_sigma2()[..pixels]
                    .iter()
                    .map(|&v| (0.5 * v).sqrt())
                    .collect(),
                particle.scale() as f32,
            ),
            Metric::NegativeCc => (vec![1.0; pixels], 1.0),
        };
        let mut factor: Vec<f32> = particle.ctf()[..pixels]
            .iter()
            .zip(&image_weight)
            .map(|(&c, &w)| scale * c * w)
            .collect();
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
        for v in [&mut factor, &mut base_re, &mut base_im] {
            if let Some(dc) = v.first_mut() {
                *dc = 0.0;
            }
        }
        let (slot, images) = shifted_images(request, (&base_re, &base_im));
        let x_norm2 = cross_term((&base_re, &base_im), (&base_re, &base_im));
        let constant = particle.half_power_beyond();

        let mut slicer = match request.rotations {
            Rotations::Matrices(_) => Some(SliceProjector::new(
                request.projector,
                particle.window(),
                request.size,
            )?),
            Rotations::Bank { .. } => None,
        };
        let (mut a_re, mut a_im) = (vec![0.0f32; pixels], vec![0.0f32; pixels]);
        let mut a_norm2 = 0.0;
        let mut current: Option<u32> = None;
        out.clear();
        out.reserve(request.pairs.len());
        for &(r, t) in request.pairs {
            if current != Some(r) {
                match (request.rotations, slicer.as_mut()) {
                    (Rotations::Bank { bank, indices }, _) => {
                        let (re, im) = bank.slice(indices[r as usize] as usize).unwrap_or_default();
                        for ((a, v), f) in a_re.iter_mut().zip(re).zip(&factor) {
                            *a = v * f;
                        }
                        for ((a, v), f) in a_im.iter_mut().zip(im).zip(&factor) {
                            *a = v * f;
                        }
                    }
                    (Rotations::Matrices(m), Some(slicer)) => {
                        slicer.project(&m[r as usize], Some(&factor), &mut a_re, &mut a_im);
                    }
                    (Rotations::Matrices(_), None) => {}
                }
                if request.metric == Metric::NegativeCc {
                    a_norm2 = cross_term((&a_re, &a_im), (&a_re, &a_im));
                }
                current = Some(r);
            }
            let x = images.image(slot[t as usize]);
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
    fn the_avx_build_gives_bitwise_identical_sums() {
        let v = crate::grid::test_noise::uniform(6, 4 * 3001);
        let (a, x) = ((&v[..3001], &v[3001..6002]), (&v[6002..9003], &v[9003..]));
        let term =
            |ar: f32, ai: f32, xr: f32, xi: f32| (ar - xr) * (ar - xr) + (ai - xi) * (ai - xi);
        let portable = lane_sum_portable(a, x, term);
        assert_eq!(lane_sum(a, x, term).to_bits(), portable.to_bits());
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: AVX support checked just above.
            assert_eq!(
                unsafe { lane_sum_avx(a, x, term) }.to_bits(),
                portable.to_bits()
            );
        }
    }

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

    /// Throughput on one core for box 64 (run with `--ignored --nocapture`): scorer requests
    /// with on-the-fly projection and with a precomputed bank, and the bare d² kernel, in
    /// evaluations (rotation × translation × Fourier pixel) per second.
    #[test]
    #[ignore = "benchmark; run explicitly with --ignored --nocapture"]
    fn throughput_box64() {
        use crate::estep::testkit::particle_input;
        use crate::estep::{FourierWindow, MaskFill, PreparedParticle, ProjectionBank, Rotations};
        use crate::projector::{Projector, ProjectorOptions};
        use std::time::Instant;
        let (n, pixel) = (64, 1.5);
        let volume = crate::estep::testkit::blob_volume(n, pixel, 9);
        let image =
            crate::grid::Image::from_vec(n, pixel, crate::grid::test_noise::uniform(3, n * n))
                .unwrap();
        let sigma2 = vec![1e-4; n / 2 + 1];
        let u = crate::grid::test_noise::uniform(8, 3 * 400);
        let rotations: Vec<_> = u
            .chunks(3)
            .map(|c| {
                crate::euler::euler_to_matrix(
                    360.0 * c[0] as f64,
                    180.0 * (c[1] as f64 + 0.5),
                    360.0 * c[2] as f64,
                )
            })
            .collect();
        let indices: Vec<u32> = (0..rotations.len() as u32).collect();
        // RELION's default translational grid: 21 points (range 5 px, coarse step 2 px).
        let translations: Vec<[f64; 2]> = (-2i32..=2)
            .flat_map(|x| (-2i32..=2).map(move |y| [2.0 * x as f64, 2.0 * y as f64]))
            .filter(|t| t[0] * t[0] + t[1] * t[1] <= 25.0)
            .collect();
        let pairs: Vec<(u32, u32)> = (0..rotations.len() as u32)
            .flat_map(|r| (0..translations.len() as u32).map(move |t| (r, t)))
            .collect();
        let best = |f: &mut dyn FnMut()| {
            (0..3)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed().as_secs_f64()
                })
                .fold(f64::INFINITY, f64::min)
        };
        for size in [32, 48, 64] {
            // As in refinement, the projector holds frequencies up to current_size/2.
            let options = ProjectorOptions {
                r_max: Some(size / 2),
                ..ProjectorOptions::default()
            };
            let projector = Projector::new(&volume, &options).unwrap();
            let window = FourierWindow::new(n, size).unwrap();
            let particle = PreparedParticle::new(
                &window,
                &particle_input(&image, &sigma2, None, [0, 0], MaskFill::Mean),
            )
            .unwrap();
            let mut bank = None;
            let build = best(&mut || {
                bank =
                    Some(ProjectionBank::new(&projector, &window, size, rotations.clone()).unwrap())
            });
            let bank = bank.unwrap();
            let request = ScoreRequest {
                projector: &projector,
                particle: &particle,
                size,
                metric: Metric::Diff2,
                rotations: Rotations::Matrices(&rotations),
                translations_px: &translations,
                pairs: &pairs,
            };
            let banked = ScoreRequest {
                rotations: Rotations::Bank {
                    bank: &bank,
                    indices: &indices,
                },
                ..request
            };
            let mut out = Vec::new();
            let projecting = best(&mut || CpuScorer.score(&request, &mut out).unwrap());
            let reading = best(&mut || CpuScorer.score(&banked, &mut out).unwrap());
            let (x_re, x_im) = particle.masked();
            let a: Vec<f32> = x_re.iter().map(|v| v * 0.5).collect();
            let mut sink = 0.0;
            let kernel = best(&mut || {
                for _ in 0..pairs.len() {
                    sink += squared_distance((&a, x_im), (x_re, x_im));
                }
            });
            let evals = pairs.len() as f64 * window.len() as f64;
            println!(
                "box {n}, size {size} ({} pixels), {} rotations x {} translations: projecting {:.2e} evals/s, \
                 bank {:.2e} evals/s ({:.0} ns per pair), d2 kernel alone {:.2e} evals/s; bank build {:.1} ms [{sink:.1e}]",
                window.len(),
                rotations.len(),
                translations.len(),
                evals / projecting,
                evals / reading,
                1e9 * reading / pairs.len() as f64,
                evals / kernel,
                1e3 * build
            );
        }
    }
}
