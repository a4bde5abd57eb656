//! Cross-correlation mode (refine.md §1.8, `--firstiter_cc` / `--always_cc`): the score is the
//! normalised correlation between the CTF-modulated projection and the shifted image; the best
//! sample of each pass gets weight 1 and every other 0.

/// The correlation coefficient Σ Re(A·conj X)/(‖A‖·‖X‖) from its parts: the cross term and
/// the squared norms; 0 when either norm is 0.
pub fn correlation(cross: f64, a_norm2: f64, x_norm2: f64) -> f64 {
    let den = (a_norm2 * x_norm2).sqrt();
    if den > 0.0 { cross / den } else { 0.0 }
}

/// Index of the lowest score (the first one on ties): the winner that gets weight 1.
pub(super) fn winner(scores: &[f64]) -> Option<usize> {
    scores
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estep::cross::{Split, cross_terms};

    /// Σ Re(A·conj X) of two split-complex arrays.
    fn cross_term(a: Split<'_>, x: Split<'_>) -> f64 {
        let mut out = [0.0];
        cross_terms(&[a], &[x], &mut out);
        out[0]
    }

    #[test]
    fn correlation_of_proportional_vectors_is_one() {
        let a = ([1.0f32, 2.0, -1.0], [0.5f32, 0.0, 3.0]);
        let x = (a.0.map(|v| 2.0 * v), a.1.map(|v| 2.0 * v));
        let c = cross_term((&a.0, &a.1), (&x.0, &x.1));
        let na = cross_term((&a.0, &a.1), (&a.0, &a.1));
        let nx = cross_term((&x.0, &x.1), (&x.0, &x.1));
        assert!((correlation(c, na, nx) - 1.0).abs() < 1e-7);
        assert_eq!(correlation(1.0, 0.0, 2.0), 0.0);
        assert_eq!(winner(&[0.3, -0.9, 0.1, -0.9]), Some(1));
        assert_eq!(winner(&[]), None);
    }
}

#[cfg(test)]
mod search_tests {
    use crate::estep::testkit::{Scene, SearchScenario};
    use crate::estep::*;
    use crate::geometry::euler::rotation_angle_between;

    #[test]
    fn cc_mode_keeps_only_the_best_sample_with_weight_one() {
        let scenario = SearchScenario {
            projector_seed: 4,
            coarse: CoarseOrientation {
                direction: 30,
                psi: 2,
                prior: 1.0,
            },
            child: 6,
            coarse_t: 3,
            child_t: 0,
            defocus_angst: 10000.0,
            // Grey scale and σ² are irrelevant to CC: scale the image and give a silly σ².
            grey: Some((40.0, 3.0)),
            noise_ratio: 1e-3,
            metric: Metric::NegativeCc,
            ..SearchScenario::default()
        };
        scenario.run(
            |Scene {
                 search: s, truth, ..
             }| {
                let result = search(&s, &CpuScorer).unwrap();
                assert_eq!(
                    (
                        result.significant_samples,
                        result.fine_samples,
                        result.kept.len()
                    ),
                    (1, 32, 1)
                );
                assert_eq!((result.best.weight, result.max_probability), (1.0, 1.0));
                assert_eq!(result.kept[0], result.best);
                assert!(rotation_angle_between(&result.best.rotation, &truth.rotation) < 1e-9);
                assert_eq!(result.best.translation_angst, truth.translation_angst);
                assert!(
                    result.log_likelihood > 0.99,
                    "best CC {}",
                    result.log_likelihood
                );
                // The winner is the argmax of the brute-force correlation over the same fine samples.
                let rotations: Vec<_> = s.plan.fine_matrices(&scenario.coarse).unwrap();
                let grid = s.translations;
                let translations: Vec<[f64; 2]> = grid
                    .fine_angst(scenario.coarse_t)
                    .unwrap()
                    .iter()
                    .map(|&t| grid.to_pixels(t))
                    .collect();
                let pairs: Vec<(u32, u32)> =
                    (0..8).flat_map(|r| (0..4).map(move |t| (r, t))).collect();
                let mut scores = Vec::new();
                let request = ScoreRequest {
                    projector: s.projector,
                    particle: s.particle,
                    size: 24,
                    metric: Metric::NegativeCc,
                    rotations: Rotations::Matrices(&rotations),
                    translations_px: &translations,
                    pairs: Pairs::List(&pairs),
                };
                ReferenceScorer.score(&request, &mut scores).unwrap();
                let best = super::winner(&scores).unwrap();
                assert_eq!(pairs[best], (6, 0));
                assert!((-scores[best] - result.log_likelihood).abs() < 1e-5);
            },
        );
    }
}
