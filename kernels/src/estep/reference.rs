//! The float64 brute-force scorer: refine.md §1.4 and §1.8 evaluated literally, pair by pair,
//! from the particle's full masked transform, its CTF model and σ² spectrum, with a fresh
//! central slice per pair and the shift applied in f64. Slow on purpose and independent of the
//! window layout, the precomputations and the f32 lanes of [`CpuScorer`](super::CpuScorer): it
//! is the oracle that every [`Scorer`] implementation (CPU now, GPU later) is tested against.

use std::f64::consts::PI;

use super::EstepError;
use super::scorer::{Metric, ScoreRequest, Scorer};
use crate::grid::Complex64;

/// The brute-force [`Scorer`]; see the module doc.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReferenceScorer;

impl Scorer for ReferenceScorer {
    fn score(&self, request: &ScoreRequest<'_>, out: &mut Vec<f64>) -> Result<(), EstepError> {
        request.validate()?;
        let particle = request.particle;
        let n = particle.window().ori_size();
        let image = particle.masked_transform();
        let (ctf, variant) = particle.ctf_model();
        let sigma2 = particle.sigma2();
        let inside = |size: usize, kx: i64, ky: i64| kx * kx + ky * ky <= (size * size / 4) as i64;
        let current = particle.window().current_size();
        let mut beyond = 0.0;
        for (i, v) in image.data().iter().enumerate() {
            let [kx, ky, _] = image.frequency(i);
            if !image.is_redundant(i) && image.shell(i) <= n / 2 && !inside(current, kx, ky) {
                beyond += 0.5 * v.norm_sqr() as f64;
            }
        }
        out.clear();
        for (r, t) in request.pairs() {
            let projection = request
                .projector
                .project(&request.rotations.matrix(r as usize), n)?;
            let [tx, ty] = request.translations_px[t as usize];
            let (mut diff2, mut cross, mut a2, mut x2) = (0.0, 0.0, 0.0, 0.0);
            for (i, (x, p)) in image.data().iter().zip(projection.data()).enumerate() {
                let [kx, ky, _] = image.frequency(i);
                if image.is_redundant(i) || (kx == 0 && ky == 0) || !inside(request.size, kx, ky) {
                    continue;
                }
                let c = ctf.map_or(1.0, |c| {
                    c.value_at_pixel(kx, ky, n, particle.pixel_size(), variant)
                });
                let phase = -2.0 * PI * (kx as f64 * tx + ky as f64 * ty) / n as f64;
                let xt =
                    Complex64::new(x.re as f64, x.im as f64) * Complex64::from_polar(1.0, phase);
                let a = Complex64::new(p.re as f64, p.im as f64) * c;
                diff2 += (a * particle.scale() - xt).norm_sqr() / (2.0 * sigma2[image.shell(i)]);
                cross += (a * xt.conj()).re;
                a2 += a.norm_sqr();
                x2 += xt.norm_sqr();
            }
            out.push(match request.metric {
                Metric::Diff2 => diff2 + beyond,
                Metric::NegativeCc => -super::correlation(cross, a2, x2),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estep::testkit::{N, blob_projector, image_std, particle_input, simulate, test_ctf};
    use crate::estep::{CpuScorer, FourierWindow, MaskFill, Pairs, PreparedParticle, Rotations};
    use crate::geometry::euler::euler_to_matrix;

    #[test]
    fn cpu_scorer_matches_the_float64_reference() {
        let projector = blob_projector(1);
        let ctf = test_ctf(15000.0);
        let truth = euler_to_matrix(30.0, 70.0, 110.0);
        let clean = simulate(&projector, &truth, [1.3, -0.6], Some(&ctf), 0.0, 0);
        let image = simulate(
            &projector,
            &truth,
            [1.3, -0.6],
            Some(&ctf),
            image_std(&clean),
            7,
        );
        let sigma2: Vec<f64> = (0..=N / 2)
            .map(|r| image_std(&clean).powi(2) / (2.0 * (N * N) as f64) * (1.0 + r as f64 / 4.0))
            .collect();
        let window = FourierWindow::new(N, 24).unwrap();
        let mut input = particle_input(
            &image,
            &sigma2,
            Some(ctf),
            [1, 0],
            MaskFill::Noise { seed: 3 },
        );
        input.scale = 1.3;
        let particle = PreparedParticle::new(&window, &input).unwrap();
        let rotations = [
            truth,
            euler_to_matrix(-100.0, 20.0, 5.0),
            euler_to_matrix(45.0, 150.0, -60.0),
            euler_to_matrix(0.0, 0.0, 0.0),
        ];
        let translations = [[0.0, 0.0], [0.3, -0.7], [-1.25, 0.5], [2.0, 1.0]];
        let mut pairs: Vec<(u32, u32)> = (0..4).flat_map(|r| (0..4).map(move |t| (r, t))).collect();
        pairs.extend([(0, 2), (3, 1), (0, 1)]);
        for size in [12, 24] {
            for metric in [Metric::Diff2, Metric::NegativeCc] {
                let request = ScoreRequest {
                    projector: &projector,
                    particle: &particle,
                    size,
                    metric,
                    rotations: Rotations::Matrices(&rotations),
                    translations_px: &translations,
                    pairs: Pairs::List(&pairs),
                };
                let (mut fast, mut slow) = (Vec::new(), Vec::new());
                CpuScorer.score(&request, &mut fast).unwrap();
                ReferenceScorer.score(&request, &mut slow).unwrap();
                assert_eq!(fast.len(), pairs.len());
                for (f, s) in fast.iter().zip(&slow) {
                    let tolerance = match metric {
                        Metric::Diff2 => 1e-5 * s.abs(),
                        Metric::NegativeCc => 1e-5,
                    };
                    assert!((f - s).abs() < tolerance, "{size} {metric:?}: {f} vs {s}");
                }
                // The true pose scores best among these.
                let best = (0..pairs.len())
                    .min_by(|&a, &b| slow[a].total_cmp(&slow[b]))
                    .unwrap();
                assert_eq!(pairs[best].0, 0, "{size} {metric:?}");
            }
        }
        let bad = ScoreRequest {
            projector: &projector,
            particle: &particle,
            size: 26,
            metric: Metric::Diff2,
            rotations: Rotations::Matrices(&rotations),
            translations_px: &translations,
            pairs: Pairs::List(&pairs),
        };
        assert!(CpuScorer.score(&bad, &mut Vec::new()).is_err());
        let bad = ScoreRequest {
            size: 12,
            pairs: Pairs::List(&[(4, 0)]),
            ..bad
        };
        assert!(ReferenceScorer.score(&bad, &mut Vec::new()).is_err());
    }
}
