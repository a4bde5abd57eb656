//! The two-pass search of one particle (refine.md §1.6): all coarse orientations × coarse
//! translations at the coarse window size → significant coarse samples (0.999 of the mass) →
//! their oversampled children (8^o orientations × 4^o translations each) at the current size →
//! fine weights, the kept set and the particle's statistics (Pmax, dLL, best pose).
//!
//! Bounded cost: a flat posterior (low SNR, a poor reference, an early iteration) makes nearly
//! every coarse sample significant, and the fine pass would then project 8 fine rotations of
//! nearly every coarse orientation (per particle, on the fly, at the larger current size) and
//! score 32× the whole coarse grid: one iteration 100× slower than its neighbours. At most
//! [`significant_cap`] coarse samples (the largest weights, ties broken by sample order) go to
//! the fine pass: `--maxsig` when given (RELION's meaning), otherwise
//! [`DEFAULT_SIGNIFICANT_CAP`], so that the fine pass projects at most 8 000 rotations and
//! scores at most 32 000 samples whatever the posterior.

use glam::DMat3;

use super::cc::winner;
use super::posterior::{
    Priors, Weights, log_likelihood, significance, significance_given_total, weigh, weights,
};
use super::scorer::{Metric, Pairs, Rotations, ScoreRequest, Scorer};
use super::{
    CoarseOrientation, EstepError, OrientationPlan, PreparedParticle, ProjectionBank,
    TranslationGrid,
};
use crate::fourier::projector::Projector;
use crate::geometry::euler::EulerAngles;

/// Significant coarse samples carried to the fine pass when `--maxsig` is not given. A sharp
/// posterior has far fewer (rlnNrOfSignificantSamples is typically 1–200), so this only binds
/// for flat posteriors, where the fine pass would otherwise cost many coarse passes.
pub const DEFAULT_SIGNIFICANT_CAP: usize = 1000;

/// The most significant coarse samples a search carries to its fine pass: `max_significant`
/// (`--maxsig`) if given, else [`DEFAULT_SIGNIFICANT_CAP`].
pub fn significant_cap(max_significant: Option<usize>) -> usize {
    max_significant.unwrap_or(DEFAULT_SIGNIFICANT_CAP)
}

/// Everything the search of one particle needs.
#[derive(Debug, Clone, Copy)]
pub struct ParticleSearch<'a> {
    /// The reference of the particle's half set.
    pub projector: &'a Projector,
    /// The prepared particle (its window's current size is the fine-pass size).
    pub particle: &'a PreparedParticle<'a>,
    /// The iteration's perturbed orientation grid.
    pub plan: &'a OrientationPlan<'a>,
    /// The coarse orientations to evaluate, with priors.
    pub orientations: &'a [CoarseOrientation],
    /// The coarse translations, with priors.
    pub translations: &'a TranslationGrid,
    /// Window size (pixels, even) of the coarse pass.
    pub coarse_size: usize,
    /// The coarse slices of `plan`, precomputed for all particles ([`ProjectionBank::for_plan`]
    /// with the same projector, size ≥ `coarse_size`), or `None` to project per particle.
    pub coarse_bank: Option<&'a ProjectionBank>,
    /// Mass fraction kept in each pass (`--adaptive_fraction`, 0.999).
    pub adaptive_fraction: f64,
    /// Cap on significant coarse samples (`--maxsig`), or `None` for
    /// [`DEFAULT_SIGNIFICANT_CAP`] ([`significant_cap`]).
    pub max_significant: Option<usize>,
    /// Likelihood (d²) or cross-correlation search.
    pub metric: Metric,
}

/// One fine sample with its normalised posterior weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightedPose {
    /// Rotation (RELION's matrix A, perturbation included).
    pub rotation: DMat3,
    /// Index of its coarse direction in the sampling (for pdf_direction).
    pub direction: usize,
    /// Translation in Å relative to the rounded previous offset (perturbation included).
    pub translation_angst: [f64; 2],
    /// Posterior weight w̄ = w/Σw over all fine samples evaluated (1 for the CC winner).
    pub weight: f64,
}

impl WeightedPose {
    /// The rotation as RELION's Euler angles in degrees (rlnAngleRot/Tilt/Psi).
    pub fn angles(&self) -> EulerAngles {
        EulerAngles::from_matrix(&self.rotation)
    }

    /// The particle's origin in Å for this pose (rlnOriginX/YAngst): rounded previous offset
    /// plus the translation.
    pub fn origin_angst(&self, particle: &PreparedParticle<'_>) -> [f64; 2] {
        let p = particle.pixel_size();
        let o = particle.rounded_offset_px();
        [
            o[0] as f64 * p + self.translation_angst[0],
            o[1] as f64 * p + self.translation_angst[1],
        ]
    }
}

/// What the search of one particle found.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    /// Coarse samples evaluated (orientations × translations).
    pub coarse_samples: usize,
    /// Significant coarse samples (rlnNrOfSignificantSamples).
    pub significant_samples: usize,
    /// Fine samples evaluated.
    pub fine_samples: usize,
    /// Fine samples with weight ≥ the fine threshold, grouped by rotation (pair order).
    pub kept: Vec<WeightedPose>,
    /// Σ w̄ over the kept samples (> adaptive fraction, < 1).
    pub kept_mass: f64,
    /// The fine sample with the largest weight (the pose written to data.star).
    pub best: WeightedPose,
    /// Pmax over the fine samples (rlnMaxValueProbDistribution); 1 in CC mode.
    pub max_probability: f64,
    /// dLL (rlnLogLikeliContribution); in CC mode the best correlation coefficient.
    pub log_likelihood: f64,
    /// Smallest fine score (min d², or −best CC).
    pub min_score: f64,
}

/// Which coarse pairs survive pass 1.
enum Survivors {
    /// Those whose weight (in the pass-1 array, which then holds weights) is above the
    /// threshold, and those equal to it up to pair `last_tie` (so that a cap holds with ties).
    AtLeast { threshold: f64, last_tie: usize },
    /// Only this one (cross-correlation winner).
    Only(usize),
}

impl Survivors {
    /// Whether pair `i` survives, given the pass-1 array.
    fn keeps(&self, values: &[f64], i: usize) -> bool {
        match *self {
            Survivors::AtLeast {
                threshold,
                last_tie,
            } => values[i] > threshold || (values[i] == threshold && i <= last_tie),
            Survivors::Only(j) => i == j,
        }
    }
}

/// The survivors of pass 1 and how many there are; in likelihood mode `scores` (all
/// orientations × all translations) are replaced by their weights.
fn significant_coarse(
    search: &ParticleSearch<'_>,
    scores: &mut [f64],
) -> Result<(Survivors, usize), EstepError> {
    match search.metric {
        Metric::Diff2 => {
            let rotations: Vec<f64> = search.orientations.iter().map(|o| o.prior).collect();
            let priors = Priors::Product {
                rotations: &rotations,
                translations: search.translations.priors(),
            };
            // Σw of the weights is the sum over the positive ones (zero weights add nothing).
            let (sum, _) = weigh(scores, priors)?;
            let cap = significant_cap(search.max_significant);
            let s = significance_given_total(scores, || sum, search.adaptive_fraction, Some(cap))?;
            // Weights tied at the threshold beyond the cap: keep the first ones in pair order.
            let last_tie = if s.count > cap {
                let above = scores.iter().filter(|&&w| w > s.threshold).count();
                scores
                    .iter()
                    .enumerate()
                    .filter(|&(_, &w)| w == s.threshold)
                    .nth(cap - above - 1)
                    .map_or(usize::MAX, |(i, _)| i)
            } else {
                usize::MAX
            };
            let survivors = Survivors::AtLeast {
                threshold: s.threshold,
                last_tie,
            };
            Ok((survivors, s.count.min(cap)))
        }
        Metric::NegativeCc => Ok((Survivors::Only(winner(scores).unwrap_or(0)), 1)),
    }
}

/// The fine samples of pass 2: rotations (with their coarse orientation), translations in Å,
/// scored pairs and their priors.
#[derive(Default)]
struct FineSet {
    rotations: Vec<DMat3>,
    rotation_origin: Vec<usize>,
    translations_angst: Vec<[f64; 2]>,
    pairs: Vec<(u32, u32)>,
    priors: Vec<f64>,
}

impl FineSet {
    /// The children of the coarse pairs that `survivors` keeps of the pass-1 array `coarse`.
    fn build(
        search: &ParticleSearch<'_>,
        coarse: &[f64],
        survivors: &Survivors,
    ) -> Result<Self, EstepError> {
        let grid = search.translations;
        let nt = grid.len();
        let mut set = FineSet::default();
        let mut first_child = vec![usize::MAX; nt];
        let per_coarse = 1usize << (2 * grid.oversampling());
        let mut coarse_ts = Vec::new();
        for (o, orientation) in search.orientations.iter().enumerate() {
            coarse_ts.clear();
            coarse_ts.extend((0..nt).filter(|&t| survivors.keeps(coarse, o * nt + t)));
            if coarse_ts.is_empty() {
                continue;
            }
            for &t in &coarse_ts {
                if first_child[t] == usize::MAX {
                    first_child[t] = set.translations_angst.len();
                    set.translations_angst
                        .extend(grid.fine_angst(t).unwrap_or_default());
                }
            }
            for rotation in search.plan.fine_matrices(orientation)? {
                let r = set.rotations.len() as u32;
                set.rotations.push(rotation);
                set.rotation_origin.push(o);
                for &t in &coarse_ts {
                    let prior = orientation.prior * grid.priors()[t];
                    for c in 0..per_coarse {
                        set.pairs.push((r, (first_child[t] + c) as u32));
                        set.priors.push(prior);
                    }
                }
            }
        }
        Ok(set)
    }

    fn pose(&self, search: &ParticleSearch<'_>, pair: usize, weight: f64) -> WeightedPose {
        let (r, t) = self.pairs[pair];
        WeightedPose {
            rotation: self.rotations[r as usize],
            direction: search.orientations[self.rotation_origin[r as usize]].direction,
            translation_angst: self.translations_angst[t as usize],
            weight,
        }
    }
}

fn check(search: &ParticleSearch<'_>) -> Result<(), EstepError> {
    if search.orientations.is_empty() {
        return Err(EstepError::invalid(
            "coarse orientations",
            0,
            "at least one",
        ));
    }
    let (p, q) = (
        search.particle.pixel_size(),
        search.translations.pixel_size(),
    );
    if (p - q).abs() > 1e-4 * p {
        return Err(EstepError::invalid(
            "translation grid pixel size (Å)",
            q,
            format!("the particle's {p} Å"),
        ));
    }
    search.particle.window().len_for(search.coarse_size)?;
    if let Some(bank) = search.coarse_bank
        && bank.len() != search.plan.coarse_matrices().len()
    {
        return Err(EstepError::invalid(
            "coarse projection bank (slices)",
            bank.len(),
            format!(
                "one per coarse orientation of the plan ({})",
                search.plan.coarse_matrices().len()
            ),
        ));
    }
    Ok(())
}

/// Runs both passes for one particle with `scorer`; see the module doc.
pub fn search(
    search: &ParticleSearch<'_>,
    scorer: &dyn Scorer,
) -> Result<SearchResult, EstepError> {
    check(search)?;
    let grid = search.translations;
    let bank_indices = search
        .orientations
        .iter()
        .map(|o| search.plan.coarse_index(o).map(|i| i as u32))
        .collect::<Result<Vec<_>, _>>()?;
    let coarse_rotations: Vec<DMat3> = match search.coarse_bank {
        Some(_) => Vec::new(),
        None => bank_indices
            .iter()
            .map(|&i| search.plan.coarse_matrices()[i as usize])
            .collect(),
    };
    let rotations = match search.coarse_bank {
        Some(bank) => Rotations::Bank {
            bank,
            indices: &bank_indices,
        },
        None => Rotations::Matrices(&coarse_rotations),
    };
    let coarse_translations: Vec<[f64; 2]> = grid
        .coarse_angst()
        .iter()
        .map(|&t| grid.to_pixels(t))
        .collect();
    let coarse = ScoreRequest {
        projector: search.projector,
        particle: search.particle,
        size: search.coarse_size,
        metric: search.metric,
        rotations,
        translations_px: &coarse_translations,
        pairs: Pairs::All,
    };
    let mut scores = Vec::new();
    scorer.score(&coarse, &mut scores)?;
    let (survivors, significant_samples) = significant_coarse(search, &mut scores)?;

    let fine = FineSet::build(search, &scores, &survivors)?;
    let fine_translations: Vec<[f64; 2]> = fine
        .translations_angst
        .iter()
        .map(|&t| grid.to_pixels(t))
        .collect();
    scorer.score(
        &ScoreRequest {
            projector: search.projector,
            particle: search.particle,
            size: search.particle.window().current_size(),
            metric: search.metric,
            rotations: Rotations::Matrices(&fine.rotations),
            translations_px: &fine_translations,
            pairs: Pairs::List(&fine.pairs),
        },
        &mut scores,
    )?;
    if scores.is_empty() {
        return Err(EstepError::invalid(
            "fine samples",
            0,
            "at least one (children of the significant coarse samples)",
        ));
    }
    let (kept, best, max_probability, log_likelihood, min_score) = match search.metric {
        Metric::NegativeCc => {
            let i = winner(&scores).unwrap_or(0);
            let best = fine.pose(search, i, 1.0);
            (vec![best], best, 1.0, -scores[i], scores[i])
        }
        Metric::Diff2 => {
            let w: Weights = weights(&scores, &fine.priors)?;
            let s = significance(&w.weights, search.adaptive_fraction, None)?;
            let kept = (0..scores.len())
                .filter(|&i| w.weights[i] >= s.threshold)
                .map(|i| fine.pose(search, i, w.weights[i] / w.sum))
                .collect();
            let b =
                (0..scores.len()).fold(0, |b, i| if w.weights[i] > w.weights[b] { i } else { b });
            let best = fine.pose(search, b, w.weights[b] / w.sum);
            (
                kept,
                best,
                w.max_probability(),
                log_likelihood(&w, search.particle.log_norm()),
                w.min_diff2,
            )
        }
    };
    Ok(SearchResult {
        coarse_samples: coarse.pair_count(),
        significant_samples,
        fine_samples: fine.pairs.len(),
        kept_mass: kept.iter().map(|p| p.weight).sum(),
        kept,
        best,
        max_probability,
        log_likelihood,
        min_score,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estep::testkit::{
        N, PIXEL, Scene, SearchScenario, image_std, particle_input, simulate, test_ctf,
        white_sigma2,
    };
    use crate::estep::{
        CpuScorer, FourierWindow, MaskFill, ReferenceScorer, TranslationSearch, global_orientations,
    };
    use crate::geometry::euler::rotation_angle_between;
    use crate::geometry::sampling::OrientationSampling;
    use crate::geometry::symmetry::SymmetryGroup;

    fn c1(order: u32) -> OrientationSampling {
        OrientationSampling::new(order, &SymmetryGroup::parse("C1").unwrap()).unwrap()
    }

    #[test]
    fn noiseless_search_recovers_the_fine_pose_and_agrees_with_the_reference() {
        let scenario = SearchScenario {
            projector_seed: 2,
            perturbation_deg: 4.0,
            translation_perturbation_angst: 0.4,
            rounded_offset_px: [1, -1],
            coarse: CoarseOrientation {
                direction: 17,
                psi: 5,
                prior: 1.0,
            },
            child: 3,
            coarse_t: 4,
            child_t: 2,
            defocus_angst: 12000.0,
            // Pretend noise of half the signal's standard deviation: a sharp but finite posterior.
            noise_ratio: 0.5,
            ..SearchScenario::default()
        };
        let rounded = scenario.rounded_offset_px;
        scenario.run(
            |Scene {
                 search: s,
                 truth,
                 window,
             }| {
                // Coarse translation 4 is the one about 2 px along +x.
                let t = s.translations.coarse_angst()[scenario.coarse_t];
                assert!(t[0] > 1.0 && t[1].abs() < 1.0, "{t:?}");
                let fast = search(&s, &CpuScorer).unwrap();
                assert_eq!(
                    fast.coarse_samples,
                    s.orientations.len() * s.translations.len()
                );
                assert!(rotation_angle_between(&fast.best.rotation, &truth.rotation) < 1e-9);
                assert_eq!(fast.best.translation_angst, truth.translation_angst);
                assert_eq!(fast.best.direction, 17);
                let origin = fast.best.origin_angst(s.particle);
                assert!(
                    (0..2).all(|i| (origin[i] - truth.origin_px(rounded)[i] * PIXEL).abs() < 1e-12)
                );
                assert!(fast.max_probability > 0.5, "{}", fast.max_probability);
                assert!(
                    fast.kept_mass >= 0.999 && fast.kept_mass <= 1.0 + 1e-12,
                    "{}",
                    fast.kept_mass
                );
                assert!(fast.fine_samples >= 32 * fast.significant_samples.min(1));

                // Precomputed coarse slices change nothing.
                let bank = ProjectionBank::for_plan(s.projector, window, 12, s.plan).unwrap();
                let banked = search(
                    &ParticleSearch {
                        coarse_bank: Some(&bank),
                        ..s
                    },
                    &CpuScorer,
                )
                .unwrap();
                assert_eq!(banked, fast);
                let small = ProjectionBank::for_plan(s.projector, window, 8, s.plan).unwrap();
                assert!(
                    search(
                        &ParticleSearch {
                            coarse_bank: Some(&small),
                            ..s
                        },
                        &CpuScorer
                    )
                    .is_err()
                );

                let slow = search(&s, &ReferenceScorer).unwrap();
                assert_eq!(
                    (slow.significant_samples, slow.fine_samples, slow.kept.len()),
                    (fast.significant_samples, fast.fine_samples, fast.kept.len())
                );
                assert!(
                    (slow.log_likelihood - fast.log_likelihood).abs() < 1e-4 * fast.min_score.abs(),
                    "{} {}",
                    slow.log_likelihood,
                    fast.log_likelihood
                );
                for (a, b) in slow.kept.iter().zip(&fast.kept) {
                    assert!(
                        (a.weight - b.weight).abs() < 1e-3,
                        "{} {}",
                        a.weight,
                        b.weight
                    );
                }

                // Keeping the whole mass: the kept weights are all fine weights and sum to 1.
                let all = search(
                    &ParticleSearch {
                        adaptive_fraction: 1.0,
                        ..s
                    },
                    &CpuScorer,
                )
                .unwrap();
                assert!((all.kept_mass - 1.0).abs() < 1e-12, "{}", all.kept_mass);
                assert!(all.significant_samples >= fast.significant_samples);
                let capped = search(
                    &ParticleSearch {
                        adaptive_fraction: 1.0,
                        max_significant: Some(1),
                        ..s
                    },
                    &CpuScorer,
                )
                .unwrap();
                assert_eq!(capped.significant_samples, 1);
                assert_eq!(capped.fine_samples, 32);
            },
        );
    }

    #[test]
    fn a_flat_posterior_carries_a_bounded_number_of_samples_to_the_fine_pass() {
        // σ² ten thousand times the signal: every coarse sample weighs about the same.
        let scenario = SearchScenario {
            noise_ratio: 1e4,
            ..SearchScenario::default()
        };
        scenario.run(|Scene { search: s, .. }| {
            let coarse = s.orientations.len() * s.translations.len();
            assert!(coarse > 2 * DEFAULT_SIGNIFICANT_CAP, "{coarse}");
            let all = search(
                &ParticleSearch {
                    adaptive_fraction: 1.0,
                    ..s
                },
                &CpuScorer,
            )
            .unwrap();
            assert_eq!(all.significant_samples, DEFAULT_SIGNIFICANT_CAP);
            assert_eq!(all.fine_samples, 32 * DEFAULT_SIGNIFICANT_CAP);
            let flat = search(&s, &CpuScorer).unwrap();
            assert!(flat.max_probability < 1e-3, "{}", flat.max_probability);
            assert_eq!(flat.significant_samples, DEFAULT_SIGNIFICANT_CAP);
            assert_eq!(flat.fine_samples, 32 * DEFAULT_SIGNIFICANT_CAP);
            // `--maxsig` caps further, exactly.
            let capped = ParticleSearch {
                max_significant: Some(7),
                ..s
            };
            let capped = search(&capped, &CpuScorer).unwrap();
            assert_eq!(
                (capped.significant_samples, capped.fine_samples),
                (7, 7 * 32)
            );
        });
        assert_eq!(significant_cap(Some(5000)), 5000);
    }

    #[test]
    fn noisy_posterior_concentrates_near_the_truth() {
        let scenario = SearchScenario {
            projector_seed: 3,
            healpix_order: 2,
            coarse: CoarseOrientation {
                direction: 100,
                psi: 10,
                prior: 1.0,
            },
            child: 5,
            coarse_t: 0,
            child_t: 1,
            defocus_angst: 15000.0,
            noise_ratio: 2.0,
            noise_seed: Some(11),
            current_size: N,
            fill: MaskFill::Noise { seed: 5 },
            coarse_size: 16,
            ..SearchScenario::default()
        };
        scenario.run(|Scene { search: s, truth, .. }| {
            let result = search(&s, &CpuScorer).unwrap();
            let error: f64 = result
                .kept
                .iter()
                .map(|p| p.weight * rotation_angle_between(&p.rotation, &truth.rotation))
                .sum::<f64>()
                / result.kept_mass;
            let survived = result.significant_samples as f64 / result.coarse_samples as f64;
            println!(
                "noisy search: SNR 1/4, {} of {} coarse samples significant ({:.4} %), {} fine, {} kept, Pmax {:.3}, weighted angular error {error:.2}°",
                result.significant_samples,
                result.coarse_samples,
                100.0 * survived,
                result.fine_samples,
                result.kept.len(),
                result.max_probability
            );
            assert!(error < s.plan.sampling().angular_step_deg(0), "{error}");
            assert!(survived < 0.01, "{survived}");
            assert!(result.kept_mass >= 0.999);
        });
    }

    /// Time of one particle's search at box 64 (run with `--ignored --nocapture`): 7.5°
    /// global search (HEALPix order 2 → 4 608 coarse orientations, C1), 21 coarse
    /// translations, coarse size 24, current size 48, coarse slices from a bank.
    #[test]
    #[ignore = "benchmark; run explicitly with --ignored --nocapture"]
    fn search_timing_box64() {
        use crate::fourier::projector::{Projector, ProjectorOptions};
        use std::time::Instant;
        let (n, pixel, current) = (64, 1.5, 48);
        let volume = crate::estep::testkit::blob_volume(n, pixel, 12);
        let options = ProjectorOptions {
            r_max: Some(current / 2),
            ..ProjectorOptions::default()
        };
        let projector = Projector::new(&volume, &options).unwrap();
        let sampling = c1(2);
        let plan = OrientationPlan::new(&sampling, 1, 2.0).unwrap();
        let orientations = global_orientations(&sampling, None).unwrap();
        let window = FourierWindow::new(n, current).unwrap();
        let t = Instant::now();
        let bank = ProjectionBank::for_plan(&projector, &window, 24, &plan).unwrap();
        let bank_time = t.elapsed().as_secs_f64();
        let offsets = TranslationSearch {
            range_angst: 5.0 * pixel,
            step_angst: 2.0 * pixel,
            perturbation_angst: 0.3,
            sigma_offset_angst: 10.0 * pixel,
            prior_centre_angst: [0.0, 0.0],
        };
        let grid = TranslationGrid::new(&offsets, 1, [0, 0], pixel).unwrap();
        let rotation = crate::geometry::euler::euler_to_matrix(33.0, 77.0, 123.0);
        let ctf = test_ctf(15000.0);
        let clean = simulate(&projector, &rotation, [0.7, -1.2], Some(&ctf), 0.0, 0);
        let noise_std = 3.0 * image_std(&clean);
        let image = simulate(&projector, &rotation, [0.7, -1.2], Some(&ctf), noise_std, 4);
        let sigma2 = white_sigma2(n, noise_std);
        let input = crate::estep::ParticleInput {
            mask: crate::estep::ParticleMask {
                radius_px: 24.0,
                edge_px: 5.0,
                fill: MaskFill::Noise { seed: 1 },
            },
            ..particle_input(&image, &sigma2, Some(ctf), [1, -1], MaskFill::Mean)
        };
        let t = Instant::now();
        let particle = PreparedParticle::new(&window, &input).unwrap();
        let prepare = t.elapsed().as_secs_f64();
        let s = ParticleSearch {
            projector: &projector,
            particle: &particle,
            plan: &plan,
            orientations: &orientations,
            translations: &grid,
            coarse_size: 24,
            coarse_bank: Some(&bank),
            adaptive_fraction: 0.999,
            max_significant: None,
            metric: Metric::Diff2,
        };
        let mut result = None;
        let times: Vec<f64> = (0..3)
            .map(|_| {
                let t = Instant::now();
                result = Some(search(&s, &CpuScorer).unwrap());
                t.elapsed().as_secs_f64()
            })
            .collect();
        let r = result.unwrap();
        let mut bp =
            crate::fourier::backprojector::BackProjector::new(n, pixel, &Default::default())
                .unwrap();
        let settings = crate::estep::ContributionSettings {
            ssnr: None,
            prior_centre_angst: [0.0, 0.0],
        };
        // The first insertion into fresh accumulators pays their page faults; time the second.
        crate::estep::contribute(&projector, &particle, &r.kept, &settings, &mut bp).unwrap();
        let t = Instant::now();
        crate::estep::contribute(&projector, &particle, &r.kept, &settings, &mut bp).unwrap();
        let store = t.elapsed().as_secs_f64();
        // The coarse pass alone.
        let indices: Vec<u32> = orientations
            .iter()
            .map(|o| plan.coarse_index(o).unwrap() as u32)
            .collect();
        let shifts: Vec<[f64; 2]> = grid
            .coarse_angst()
            .iter()
            .map(|&t| grid.to_pixels(t))
            .collect();
        let request = ScoreRequest {
            projector: &projector,
            particle: &particle,
            size: 24,
            metric: Metric::Diff2,
            rotations: Rotations::Bank {
                bank: &bank,
                indices: &indices,
            },
            translations_px: &shifts,
            pairs: Pairs::All,
        };
        let t = Instant::now();
        let mut scores = Vec::new();
        CpuScorer.score(&request, &mut scores).unwrap();
        let coarse = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let _ = significant_coarse(&s, &mut scores).unwrap();
        let significance_time = t.elapsed().as_secs_f64();
        println!(
            "coarse scoring {:.1} ms ({:.2e} evals/s), significance {:.1} ms",
            1e3 * coarse,
            (request.pair_count() * window.len_for(24).unwrap()) as f64 / coarse,
            1e3 * significance_time
        );
        let unbanked = Instant::now();
        search(
            &ParticleSearch {
                coarse_bank: None,
                ..s
            },
            &CpuScorer,
        )
        .unwrap();
        let unbanked = unbanked.elapsed().as_secs_f64();
        println!(
            "box {n}, current {current}, coarse 24: {} coarse samples, {} significant, {} fine, {} kept, Pmax {:.3}, error {:.1}°; \
             prepare {:.1} ms, search {:.1} ms (best of 3; {:.1} ms without bank), contributions {:.1} ms; bank build {:.0} ms (rayon)",
            r.coarse_samples,
            r.significant_samples,
            r.fine_samples,
            r.kept.len(),
            r.max_probability,
            rotation_angle_between(&r.best.rotation, &rotation),
            1e3 * prepare,
            1e3 * times.iter().copied().fold(f64::INFINITY, f64::min),
            1e3 * unbanked,
            1e3 * store,
            1e3 * bank_time
        );
    }
}
