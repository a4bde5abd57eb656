//! The fast CPU scorer: squared differences (refine.md §1.4) and correlations (§1.8) over the
//! window pixels, with everything that does not depend on the pair precomputed.
//!
//! With the image weight w = √(1/(2σ²)) and the reference factor f = S·CTF·w per pixel
//! (w = 1, f = CTF for correlations), d² = ½Σ|X|²_beyond + ‖f·P‖² + ‖w·X_t‖² − 2·Re⟨P, f·w·X_t⟩
//! and −CC = −Re⟨P, f·w·X_t⟩/(‖f·P‖·‖w·X_t‖), P the raw central slice. Per request: the image
//! times f·w is moved once to every translation the pairs use (phase ramps in f64, stored as
//! f32 split-complex arrays: the "shifted images" of RELION's CPU path), g = f² is tabulated,
//! and ‖w·X_t‖² = Σ w²|X|² (the same for every t: a phase ramp keeps |X|) is summed once in
//! f64. Per rotation: the raw slice P (read from a [`ProjectionBank`](super::ProjectionBank)
//! as it is, or projected on the fly) and ‖f·P‖² = Σ g·|P|². Per pair only the cross term
//! remains. Runs of rotations whose pairs have the same translations are scored as one tile of
//! up to [`TILE_SLICES`] slices (`cross.rs`): each pass over the pixels serves several
//! rotations and translations. The DC pixel has weight 0.
//!
//! The expansion costs no precision that matters: each of its terms carries an absolute error
//! ~10⁻⁷·(‖f·P‖² + ‖w·X‖²), about 10⁻⁴ for a noisy box-64 particle whose d² is ~1600, far
//! below the ~0.01 differences between samples that posterior weights resolve (test
//! `d2_of_a_noisy_particle_matches_the_float64_reference_absolutely`).
//!
//! A pair's score does not depend on the other pairs of the request nor on the build
//! (`cross.rs`). Single-threaded (see the module doc of [`super`]); deterministic.

use glam::DMat3;

use super::bank::SliceProjector;
use super::cc::correlation;
use super::cross::{Split, TILE_SLICES, cross_terms, weighted_norms};
use super::scorer::{Metric, Pairs, Rotations, ScoreRequest, Scorer};
use super::{EstepError, ProjectionBank};

/// The CPU implementation of [`Scorer`]; see the module doc.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuScorer;

/// What a request needs of its particle, weighted once: g = f² per pixel, the constant terms
/// of the score, and the moved images f·w·X_t of every translation the pairs use.
struct Weighted {
    g: Vec<f32>,
    /// ½Σ|X|² beyond the window (d² only).
    beyond: f64,
    /// ‖w·X‖² (any translation).
    x_norm2: f64,
    /// Slot of each translation index in `re`/`im` (usize::MAX when unused).
    slot: Vec<usize>,
    pixels: usize,
    re: Vec<f32>,
    im: Vec<f32>,
}

impl Weighted {
    /// The weighted particle of `request` on `pixels` window pixels, moved to `translations`.
    fn new(request: &ScoreRequest<'_>, pixels: usize, translations: &[u32]) -> Self {
        let particle = request.particle;
        let inv_sigma2 = &particle.inv_sigma2()[..pixels];
        let (w2, w): (Vec<f64>, Vec<f32>) = match request.metric {
            Metric::Diff2 => inv_sigma2
                .iter()
                .map(|&v| (0.5 * v as f64, (0.5 * v).sqrt()))
                .unzip(),
            Metric::NegativeCc => (vec![1.0; pixels], vec![1.0; pixels]),
        };
        let scale = match request.metric {
            Metric::Diff2 => particle.scale() as f32,
            Metric::NegativeCc => 1.0,
        };
        // The reference factor f, 0 at DC (so that neither g nor the moved images count it).
        let f: Vec<f32> = particle.ctf()[..pixels]
            .iter()
            .zip(&w)
            .enumerate()
            .map(|(i, (&c, &w))| if i == 0 { 0.0 } else { scale * c * w })
            .collect();
        let (x_re, x_im) = particle.masked();
        let x_norm2 = (1..pixels)
            .map(|i| w2[i] * ((x_re[i] as f64).powi(2) + (x_im[i] as f64).powi(2)))
            .sum();
        let fw: Vec<f32> = f.iter().zip(&w).map(|(f, w)| f * w).collect();
        let times_fw =
            |x: &[f32]| -> Vec<f32> { x[..pixels].iter().zip(&fw).map(|(x, v)| x * v).collect() };
        let (slot, re, im) =
            moved_images(request, translations, (&times_fw(x_re), &times_fw(x_im)));
        Self {
            g: f.iter().map(|f| f * f).collect(),
            beyond: match request.metric {
                Metric::Diff2 => particle.half_power_beyond(),
                Metric::NegativeCc => 0.0,
            },
            x_norm2,
            slot,
            pixels,
            re,
            im,
        }
    }

    /// The moved image of translation index `t` (one the pairs use).
    fn image(&self, t: u32) -> Split<'_> {
        let s = self.slot[t as usize];
        let r = s * self.pixels..(s + 1) * self.pixels;
        (&self.re[r.clone()], &self.im[r])
    }

    /// The score from the slice's ‖f·P‖² and the cross term.
    fn score(&self, metric: Metric, a_norm2: f64, cross: f64) -> f64 {
        match metric {
            Metric::Diff2 => self.beyond + (a_norm2 + self.x_norm2 - 2.0 * cross),
            Metric::NegativeCc => -correlation(cross, a_norm2, self.x_norm2),
        }
    }
}

/// `base` moved to each of the `translations` (indices, repeats allowed) of `request`: the
/// slot of each translation index (usize::MAX when not moved to) and the images one after the
/// other (real, imaginary parts).
fn moved_images(
    request: &ScoreRequest<'_>,
    translations: &[u32],
    base: Split<'_>,
) -> (Vec<usize>, Vec<f32>, Vec<f32>) {
    let mut slot = vec![usize::MAX; request.translations_px.len()];
    let mut used = Vec::new();
    for &t in translations {
        if slot[t as usize] == usize::MAX {
            slot[t as usize] = used.len();
            used.push(t as usize);
        }
    }
    let pixels = base.0.len().max(1);
    let (mut re, mut im) = (
        vec![0.0; used.len() * pixels],
        vec![0.0; used.len() * pixels],
    );
    let window = request.particle.window();
    for ((re, im), &t) in re.chunks_mut(pixels).zip(im.chunks_mut(pixels)).zip(&used) {
        window.shift(request.translations_px[t], base, (re, im));
    }
    (slot, re, im)
}

/// The pairs of a request as runs of one rotation each: (rotation index, the translation
/// indices of its consecutive pairs).
enum Runs<'r> {
    List {
        pairs: &'r [(u32, u32)],
        /// The translation index of every pair.
        translations: &'r [u32],
        next: usize,
    },
    All {
        /// 0 … translations − 1.
        translations: &'r [u32],
        rotations: std::ops::Range<u32>,
    },
}

impl<'r> Iterator for Runs<'r> {
    type Item = (u32, &'r [u32]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Runs::List {
                pairs,
                translations,
                next,
            } => {
                let &(r, _) = pairs.get(*next)?;
                let len = pairs[*next..].iter().take_while(|p| p.0 == r).count();
                let run = &translations[*next..*next + len];
                *next += len;
                Some((r, run))
            }
            Runs::All {
                translations,
                rotations,
            } => rotations.next().map(|r| (r, *translations)),
        }
    }
}

/// Runs grouped into tiles of up to [`TILE_SLICES`] runs with the same translations.
struct Tiles<'r> {
    runs: std::iter::Peekable<Runs<'r>>,
}

impl<'r> Iterator for Tiles<'r> {
    /// The runs of the tile (the first `count` entries) and `count`.
    type Item = ([(u32, &'r [u32]); TILE_SLICES], usize);

    fn next(&mut self) -> Option<Self::Item> {
        let first = self.runs.next()?;
        let mut tile = [first; TILE_SLICES];
        let mut count = 1;
        while count < TILE_SLICES
            && let Some(run) = self.runs.next_if(|run| run.1 == first.1)
        {
            tile[count] = run;
            count += 1;
        }
        Some((tile, count))
    }
}

/// Where the slices of a request come from: its bank, or a projector and scratch arrays for
/// one tile.
enum Slices<'a> {
    Bank {
        bank: &'a ProjectionBank,
        indices: &'a [u32],
    },
    Projected {
        matrices: &'a [DMat3],
        slicer: SliceProjector<'a>,
        scratch: Vec<f32>,
    },
}

impl<'a> Slices<'a> {
    fn new(request: &ScoreRequest<'a>, pixels: usize) -> Result<Self, EstepError> {
        Ok(match request.rotations {
            Rotations::Bank { bank, indices } => Slices::Bank { bank, indices },
            Rotations::Matrices(matrices) => Slices::Projected {
                matrices,
                slicer: SliceProjector::new(
                    request.projector,
                    request.particle.window(),
                    request.size,
                )?,
                scratch: vec![0.0; 2 * TILE_SLICES * pixels.max(1)],
            },
        })
    }

    /// The raw slices (first `pixels` values) of the rotations of `runs`.
    fn get(&mut self, runs: &[(u32, &[u32])], pixels: usize) -> [Split<'_>; TILE_SLICES] {
        let rotation = |r: usize| runs[r].0 as usize;
        match self {
            Slices::Bank { bank, indices } => std::array::from_fn(|r| {
                let (re, im) = runs
                    .get(r)
                    .and_then(|_| bank.slice(indices[rotation(r)] as usize))
                    .unwrap_or_default();
                (&re[..pixels.min(re.len())], &im[..pixels.min(im.len())])
            }),
            Slices::Projected {
                matrices,
                slicer,
                scratch,
            } => {
                let mut parts = scratch.chunks_mut(2 * pixels.max(1));
                for (r, s) in (0..runs.len()).zip(&mut parts) {
                    let (re, im) = s.split_at_mut(pixels);
                    slicer.project(&matrices[rotation(r)], None, re, im);
                }
                std::array::from_fn(|r| {
                    let s = &scratch[2 * r * pixels..2 * (r + 1) * pixels];
                    s.split_at(pixels)
                })
            }
        }
    }
}

impl Scorer for CpuScorer {
    fn score(&self, request: &ScoreRequest<'_>, out: &mut Vec<f64>) -> Result<(), EstepError> {
        let pixels = request.validate()?;
        // The translation index of every listed pair, or each translation once for all pairs.
        let translations: Vec<u32> = match request.pairs {
            Pairs::List(pairs) => pairs.iter().map(|p| p.1).collect(),
            Pairs::All => (0..request.translations_px.len() as u32).collect(),
        };
        let weighted = Weighted::new(request, pixels, &translations);
        let mut slices = Slices::new(request, pixels)?;
        let (mut images, mut cross) = (Vec::new(), Vec::new());
        let mut norms = [0.0; TILE_SLICES];
        out.clear();
        out.reserve(request.pair_count());
        let runs = match request.pairs {
            Pairs::List(pairs) => Runs::List {
                pairs,
                translations: &translations,
                next: 0,
            },
            Pairs::All => Runs::All {
                translations: &translations,
                // No runs at all (rather than runs without pairs) without translations.
                rotations: 0..match translations.len() {
                    0 => 0,
                    _ => request.rotations.len() as u32,
                },
            },
        };
        let tiles = Tiles {
            runs: runs.peekable(),
        };
        for (runs, count) in tiles {
            let runs = &runs[..count];
            let tile = slices.get(runs, pixels);
            let tile = &tile[..count];
            weighted_norms(&weighted.g, tile, &mut norms);
            images.clear();
            images.extend(runs[0].1.iter().map(|&t| weighted.image(t)));
            cross.resize(count * images.len(), 0.0);
            cross_terms(tile, &images, &mut cross);
            for (row, &norm) in cross.chunks(images.len()).zip(&norms) {
                out.extend(row.iter().map(|&c| weighted.score(request.metric, norm, c)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_scores_the_same_in_any_batch() {
        use crate::estep::testkit::{N, blob_projector, image_std, particle_input, simulate};
        use crate::estep::{FourierWindow, MaskFill, PreparedParticle, ProjectionBank};
        use crate::geometry::euler::euler_to_matrix;
        let projector = blob_projector(2);
        let truth = euler_to_matrix(10.0, 60.0, 30.0);
        let clean = simulate(&projector, &truth, [0.5, 0.2], None, 0.0, 0);
        let image = simulate(&projector, &truth, [0.5, 0.2], None, image_std(&clean), 4);
        let sigma2 = crate::estep::testkit::white_sigma2(N, image_std(&clean));
        let window = FourierWindow::new(N, 24).unwrap();
        let input = particle_input(&image, &sigma2, None, [0, 0], MaskFill::Mean);
        let particle = PreparedParticle::new(&window, &input).unwrap();
        let rotations = [truth, euler_to_matrix(50.0, 20.0, -70.0)];
        let bank = ProjectionBank::new(&projector, &window, 24, rotations.to_vec()).unwrap();
        let translations: Vec<[f64; 2]> = (0..7).map(|i| [0.3 * i as f64, -0.2]).collect();
        // Runs of 6 and 7 translations (groups of 4 plus a rest), then a rotation again.
        let mut pairs: Vec<(u32, u32)> = (0..6).map(|t| (0, t)).collect();
        pairs.extend((0..7).rev().map(|t| (1, t)));
        pairs.extend([(0, 6), (0, 2)]);
        let banked = Rotations::Bank {
            bank: &bank,
            indices: &[0, 1],
        };
        for metric in [Metric::Diff2, Metric::NegativeCc] {
            for rotations in [Rotations::Matrices(&rotations), banked] {
                let request = ScoreRequest {
                    projector: &projector,
                    particle: &particle,
                    size: 24,
                    metric,
                    rotations,
                    translations_px: &translations,
                    pairs: Pairs::List(&pairs),
                };
                let (mut batch, mut alone) = (Vec::new(), Vec::new());
                CpuScorer.score(&request, &mut batch).unwrap();
                for (pair, &score) in pairs.iter().zip(&batch) {
                    let one = ScoreRequest {
                        pairs: Pairs::List(std::slice::from_ref(pair)),
                        ..request
                    };
                    CpuScorer.score(&one, &mut alone).unwrap();
                    assert_eq!(alone.len(), 1);
                    assert_eq!(score.to_bits(), alone[0].to_bits(), "{metric:?} {pair:?}");
                }
                // The true pose wins.
                let best = (0..pairs.len())
                    .min_by(|&a, &b| batch[a].total_cmp(&batch[b]))
                    .unwrap();
                assert_eq!(pairs[best].0, 0, "{metric:?}");
                // All pairs: the rotation-major product, scored the same.
                let product: Vec<(u32, u32)> =
                    (0..2).flat_map(|r| (0..7).map(move |t| (r, t))).collect();
                let all = ScoreRequest {
                    pairs: Pairs::All,
                    ..request
                };
                assert_eq!(all.pair_count(), 14);
                assert_eq!(all.pairs().collect::<Vec<_>>(), product);
                let listed = ScoreRequest {
                    pairs: Pairs::List(&product),
                    ..request
                };
                let (mut a, mut b) = (Vec::new(), Vec::new());
                CpuScorer.score(&all, &mut a).unwrap();
                CpuScorer.score(&listed, &mut b).unwrap();
                assert_eq!(a, b, "{metric:?}");
                let none = ScoreRequest {
                    translations_px: &[],
                    ..all
                };
                CpuScorer.score(&none, &mut a).unwrap();
                assert!(a.is_empty() && none.pair_count() == 0);
            }
        }
    }

    /// Precision on a realistic particle (box 64, SNR 0.1, σ² of the noise: d² ≈ number of
    /// pixels): every d² agrees with the float64 reference to far better than the ~0.01
    /// differences between samples that posterior weights resolve.
    #[test]
    fn d2_of_a_noisy_particle_matches_the_float64_reference_absolutely() {
        use crate::estep::testkit::{blob_volume, image_std, particle_input, simulate, test_ctf};
        use crate::estep::{FourierWindow, MaskFill, PreparedParticle, ReferenceScorer, Rotations};
        use crate::fourier::projector::{Projector, ProjectorOptions};
        use crate::geometry::euler::euler_to_matrix;
        let (n, pixel) = (64, 1.5);
        let projector =
            Projector::new(&blob_volume(n, pixel, 5), &ProjectorOptions::default()).unwrap();
        let ctf = test_ctf(12000.0);
        let truth = euler_to_matrix(20.0, 80.0, -40.0);
        let clean = simulate(&projector, &truth, [0.4, -1.1], Some(&ctf), 0.0, 0);
        let noise = 3.0 * image_std(&clean);
        let image = simulate(&projector, &truth, [0.4, -1.1], Some(&ctf), noise, 11);
        let sigma2 = crate::estep::testkit::white_sigma2(n, noise);
        let window = FourierWindow::new(n, n).unwrap();
        let mut input = particle_input(
            &image,
            &sigma2,
            Some(ctf),
            [0, -1],
            MaskFill::Noise { seed: 2 },
        );
        input.mask.radius_px = 24.0;
        let particle = PreparedParticle::new(&window, &input).unwrap();
        let rotations: Vec<_> = (0..6)
            .map(|i| euler_to_matrix(20.0 + 0.5 * i as f64, 80.0 - 0.3 * i as f64, -40.0))
            .collect();
        let translations: Vec<[f64; 2]> = (0..6)
            .map(|i| [0.4 + 0.1 * i as f64, -0.1 - 0.05 * i as f64])
            .collect();
        let pairs: Vec<(u32, u32)> = (0..6).flat_map(|r| (0..6).map(move |t| (r, t))).collect();
        let request = ScoreRequest {
            projector: &projector,
            particle: &particle,
            size: n,
            metric: Metric::Diff2,
            rotations: Rotations::Matrices(&rotations),
            translations_px: &translations,
            pairs: Pairs::List(&pairs),
        };
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        CpuScorer.score(&request, &mut fast).unwrap();
        ReferenceScorer.score(&request, &mut slow).unwrap();
        let worst = fast
            .iter()
            .zip(&slow)
            .fold(0.0f64, |m, (f, s)| m.max((f - s).abs()));
        let spread = slow.iter().fold(f64::NEG_INFINITY, |m, &s| m.max(s))
            - slow.iter().fold(f64::INFINITY, |m, &s| m.min(s));
        // Realistic: d² ≈ number of window pixels, samples a few units of d² apart.
        let pixels = window.len() as f64;
        assert!(
            (slow[0] / pixels - 1.0).abs() < 0.2 && spread > 1.0,
            "{} {spread}",
            slow[0]
        );
        // Measured: 1.1e-4 (1.8e-4 with the unfused f32 sums flushed every 1024 pixels, 2.7e-4
        // with the direct Σ|a − x|² of earlier versions).
        assert!(
            worst < 5e-4,
            "worst |d² − d²_f64| {worst} for d² ≈ {:.1} (spread {spread:.2})",
            slow[0]
        );
    }

    /// Throughput on one core for box 64 (run with `--ignored --nocapture`): scorer requests
    /// with on-the-fly projection and with a precomputed bank, and the bare cross-term kernel
    /// (one slice against one image 21 times, all in L1), in evaluations (rotation ×
    /// translation × Fourier pixel) per second.
    #[test]
    #[ignore = "benchmark; run explicitly with --ignored --nocapture"]
    fn throughput_box64() {
        use crate::estep::testkit::particle_input;
        use crate::estep::{FourierWindow, MaskFill, PreparedParticle, ProjectionBank, Rotations};
        use crate::fourier::projector::{Projector, ProjectorOptions};
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
                crate::geometry::euler::euler_to_matrix(
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
                pairs: Pairs::List(&pairs),
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
            let mut slicer = SliceProjector::new(&projector, &window, size).unwrap();
            let (mut re, mut im) = (vec![0.0; window.len()], vec![0.0; window.len()]);
            let slicing = best(&mut || {
                for r in &rotations {
                    slicer.project(r, None, &mut re, &mut im);
                }
            });
            let reading = best(&mut || CpuScorer.score(&banked, &mut out).unwrap());
            let (x_re, x_im) = particle.masked();
            let a: Vec<f32> = x_re.iter().map(|v| v * 0.5).collect();
            let xs = vec![(x_re, x_im); translations.len()];
            let tile = [(&a[..], x_im); TILE_SLICES];
            let (mut sink, mut cross) = (0.0, vec![0.0; TILE_SLICES * xs.len()]);
            let kernel = best(&mut || {
                for _ in 0..rotations.len() / TILE_SLICES {
                    cross_terms(&tile, &xs, &mut cross);
                    sink += cross[0];
                }
            });
            let evals = pairs.len() as f64 * window.len() as f64;
            println!(
                "box {n}, size {size} ({} pixels), {} rotations x {} translations: projecting {:.2e} evals/s, \
                 bank {:.2e} evals/s ({:.0} ns per pair), cross-term kernel alone {:.2e} evals/s; bank build {:.1} ms (rayon), \
                 slices alone {:.1} ns per pixel [{sink:.1e}]",
                window.len(),
                rotations.len(),
                translations.len(),
                evals / projecting,
                evals / reading,
                1e9 * reading / pairs.len() as f64,
                evals / kernel,
                1e3 * build,
                1e9 * slicing / (rotations.len() * window.len()) as f64,
            );
        }
    }
}

#[cfg(test)]
mod batching {
    //! Would scoring several particles per scorer call help the CPU? The only thing particles
    //! of an iteration share in the coarse pass is the bank of slices; this measures what
    //! reading each bank slice once for several particles (chunks of slices small enough to
    //! stay in cache, every particle scored on a chunk before the next) gains over the E-step's
    //! particle-after-particle order, in the same run.
    use super::*;
    use crate::estep::testkit::{image_std, particle_input, simulate, test_ctf, white_sigma2};
    use crate::estep::{
        FourierWindow, MaskFill, OrientationPlan, PreparedParticle, ProjectionBank, Rotations,
    };
    use crate::fourier::projector::{Projector, ProjectorOptions};
    use crate::geometry::euler::euler_to_matrix;
    use crate::geometry::sampling::OrientationSampling;
    use crate::geometry::symmetry::SymmetryGroup;
    use std::time::Instant;

    /// Run with `--ignored --nocapture`: box 64, coarse size 24, HEALPix order 2 (4 608 coarse
    /// slices, C1), 21 translations, 8 particles.
    #[test]
    #[ignore = "benchmark; run explicitly with --ignored --nocapture"]
    fn bank_reuse_across_particles_box64() {
        let (n, pixel, size, particles) = (64, 1.5, 24, 8);
        let volume = crate::estep::testkit::blob_volume(n, pixel, 12);
        let options = ProjectorOptions {
            r_max: Some(24),
            ..ProjectorOptions::default()
        };
        let projector = Projector::new(&volume, &options).unwrap();
        let sampling = OrientationSampling::new(2, &SymmetryGroup::parse("C1").unwrap()).unwrap();
        let plan = OrientationPlan::new(&sampling, 1, 2.0).unwrap();
        let window = FourierWindow::new(n, 48).unwrap();
        let bank = ProjectionBank::for_plan(&projector, &window, size, &plan).unwrap();
        let indices: Vec<u32> = (0..bank.len() as u32).collect();
        let translations: Vec<[f64; 2]> = (-2i32..=2)
            .flat_map(|x| (-2i32..=2).map(move |y| [2.0 * x as f64, 2.0 * y as f64]))
            .filter(|t| t[0] * t[0] + t[1] * t[1] <= 25.0)
            .collect();
        let ctf = test_ctf(15000.0);
        let images: Vec<_> = (0..particles)
            .map(|i| {
                let r = euler_to_matrix(30.0 * i as f64, 20.0 + 15.0 * i as f64, 45.0);
                let clean = simulate(&projector, &r, [0.7, -1.2], Some(&ctf), 0.0, 0);
                let std = 3.0 * image_std(&clean);
                (
                    simulate(&projector, &r, [0.7, -1.2], Some(&ctf), std, 10 + i as u64),
                    white_sigma2(n, std),
                )
            })
            .collect();
        let prepared: Vec<_> = images
            .iter()
            .map(|(image, sigma2)| {
                let input = particle_input(image, sigma2, Some(ctf), [0, 0], MaskFill::Mean);
                PreparedParticle::new(&window, &input).unwrap()
            })
            .collect();
        let request = |particle, indices| ScoreRequest {
            projector: &projector,
            particle,
            size,
            metric: Metric::Diff2,
            rotations: Rotations::Bank { bank: &bank, indices },
            translations_px: &translations,
            pairs: Pairs::All,
        };
        let one_by_one = |scores: &mut Vec<Vec<f64>>| {
            for (p, out) in prepared.iter().zip(scores) {
                CpuScorer.score(&request(p, &indices), out).unwrap();
            }
        };
        let chunked = |chunk: usize, scores: &mut Vec<Vec<f64>>| {
            let mut out = Vec::new();
            scores.iter_mut().for_each(Vec::clear);
            for c in indices.chunks(chunk) {
                for (p, all) in prepared.iter().zip(scores.iter_mut()) {
                    CpuScorer.score(&request(p, c), &mut out).unwrap();
                    all.extend_from_slice(&out);
                }
            }
        };
        let time = |f: &mut dyn FnMut()| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        };
        let mut reference = vec![Vec::new(); particles];
        let mut scores = vec![Vec::new(); particles];
        let evals = (particles * bank.len() * translations.len() * window.len_for(size).unwrap())
            as f64;
        let chunks = [16, 64, 256];
        let (mut base, mut best) = (f64::INFINITY, [f64::INFINITY; 3]);
        // Interleaved, best of 3: the machine is shared.
        for _ in 0..3 {
            base = base.min(time(&mut || one_by_one(&mut reference)));
            for (b, &c) in best.iter_mut().zip(&chunks) {
                *b = b.min(time(&mut || chunked(c, &mut scores)));
                assert_eq!(scores, reference);
            }
        }
        println!(
            "bank {} slices x {} pixels ({:.1} MB), {} translations, {particles} particles: \
             one by one {:.2e} evals/s; chunks of {:?} slices: {:?}",
            bank.len(),
            window.len_for(size).unwrap(),
            (bank.len() * window.len_for(size).unwrap() * 8) as f64 / 1e6,
            translations.len(),
            evals / base,
            chunks,
            best.map(|b| format!("{:.2e} evals/s ({:.2}x)", evals / b, base / b))
        );
    }
}
