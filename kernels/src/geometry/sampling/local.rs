//! Local angular searches: the coarse directions and psi angles near a prior pose, with their
//! Gaussian prior weights (refine.md §1.5, §7.5; RELION's
//! `selectOrientationsWithNonZeroPriorProbability`, joint rot+tilt mode).
//!
//! Direction distance = angle (degrees) between the prior's viewing direction and the closest
//! symmetry copy of the sampled direction; psi distance = |ψ − ψ_prior| wrapped to [0, 180]
//! (optionally folded to [0, 90] for bimodal psi searches). Samples within `cutoff·σ` are kept
//! with weight ∝ exp(−d²/2σ²), normalised to sum 1 over the kept set; if none is within reach,
//! the single nearest sample is kept with weight 1. σ ≤ 0 disables the prior for that part:
//! every sample is kept with equal weight. Auto-refine uses σ_dir = σ_psi = 2 × the fine
//! angular step and cutoff 3, hence its "±6 fine steps" search range.

use glam::DVec3;

use super::OrientationSampling;
use crate::geometry::euler::{EulerAngles, euler_to_direction, rad_to_deg};

/// Default number of standard deviations searched (RELION's `sigma_cutoff`).
pub const DEFAULT_SIGMA_CUTOFF: f64 = 3.0;

/// Width of a local search, degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalSearch {
    /// σ of the Gaussian prior on the viewing direction (degrees; RELION's max(σ_rot, σ_tilt)).
    /// ≤ 0: no direction prior, all directions kept.
    pub sigma_direction_deg: f64,
    /// σ of the Gaussian prior on psi (degrees). ≤ 0: no psi prior, all psi kept.
    pub sigma_psi_deg: f64,
    /// Keep samples closer than `sigma_cutoff · σ` (RELION: 3).
    pub sigma_cutoff: f64,
    /// Treat ψ and ψ + 180° as equally likely (RELION's `--bimodal_psi`).
    pub bimodal_psi: bool,
}

impl LocalSearch {
    /// Same σ (degrees) for direction and psi, cutoff 3, unimodal psi: auto-refine's local search.
    pub fn isotropic(sigma_deg: f64) -> Self {
        Self {
            sigma_direction_deg: sigma_deg,
            sigma_psi_deg: sigma_deg,
            sigma_cutoff: DEFAULT_SIGMA_CUTOFF,
            bimodal_psi: false,
        }
    }
}

/// Samples with non-zero prior: `(index, weight)` pairs, weights summing to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalPrior {
    /// Indices into [`OrientationSampling::directions`] with their prior weights.
    pub directions: Vec<(usize, f64)>,
    /// Indices into [`OrientationSampling::psis`] with their prior weights.
    pub psis: Vec<(usize, f64)>,
}

/// Keeps the samples whose distance is within `cutoff·sigma`, Gaussian-weighted and normalised;
/// all samples uniformly when `sigma ≤ 0`; the nearest one alone when none is within reach.
fn gaussian_selection(
    distances: impl Iterator<Item = f64>,
    sigma: f64,
    cutoff: f64,
) -> Vec<(usize, f64)> {
    let mut nearest = (usize::MAX, f64::INFINITY);
    let mut kept: Vec<(usize, f64)> = Vec::new();
    for (i, d) in distances.enumerate() {
        if sigma <= 0.0 {
            kept.push((i, 1.0));
            continue;
        }
        if d < cutoff * sigma {
            kept.push((i, (-d * d / (2.0 * sigma * sigma)).exp()));
        }
        if d < nearest.1 {
            nearest = (i, d);
        }
    }
    if kept.is_empty() {
        return if nearest.0 == usize::MAX {
            Vec::new()
        } else {
            vec![(nearest.0, 1.0)]
        };
    }
    let total: f64 = kept.iter().map(|(_, w)| w).sum();
    kept.into_iter().map(|(i, w)| (i, w / total)).collect()
}

/// |a − b| in degrees wrapped to [0, 180].
fn psi_difference(a: f64, b: f64, bimodal: bool) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    let d = d.min(360.0 - d);
    if bimodal && d > 90.0 { 180.0 - d } else { d }
}

impl OrientationSampling {
    /// Coarse directions and psi angles near `prior` with their normalised Gaussian prior
    /// weights (see the module doc). Symmetry-aware: a direction's distance is that of its
    /// symmetry copy closest to the prior direction.
    pub fn local_prior(&self, prior: EulerAngles, search: &LocalSearch) -> LocalPrior {
        let prior_dir = euler_to_direction(prior.rot, prior.tilt);
        let order = self.symmetry().order();
        let direction_distance = |i: usize| {
            let best = self.direction_copies[i * order..(i + 1) * order]
                .iter()
                .map(|c: &DVec3| c.dot(prior_dir))
                .fold(f64::NEG_INFINITY, f64::max);
            rad_to_deg(best.clamp(-1.0, 1.0).acos())
        };
        let directions = gaussian_selection(
            (0..self.directions().len()).map(direction_distance),
            search.sigma_direction_deg,
            search.sigma_cutoff,
        );
        let psis = gaussian_selection(
            self.psis()
                .iter()
                .map(|&psi| psi_difference(psi, prior.psi, search.bimodal_psi)),
            search.sigma_psi_deg,
            search.sigma_cutoff,
        );
        LocalPrior { directions, psis }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::symmetry::SymmetryGroup;

    #[test]
    fn psi_differences_wrap() {
        assert_eq!(psi_difference(350.0, -5.0, false), 5.0);
        assert_eq!(psi_difference(0.0, 180.0, false), 180.0);
        assert_eq!(psi_difference(10.0, 175.0, true), 15.0);
        assert_eq!(psi_difference(10.0, 175.0, false), 165.0);
    }

    #[test]
    fn window_is_three_sigma_and_weights_normalised() {
        let sampling = OrientationSampling::new(3, &SymmetryGroup::c1()).unwrap();
        let prior = EulerAngles::new(30.0, 60.0, 100.0);
        let search = LocalSearch::isotropic(3.75);
        let local = sampling.local_prior(prior, &search);
        let prior_dir = euler_to_direction(prior.rot, prior.tilt);
        // Directions: exactly those within 11.25°.
        for (i, d) in sampling.directions().iter().enumerate() {
            let angle = d.vector().angle_between(prior_dir).to_degrees();
            let selected = local.directions.iter().any(|&(j, _)| j == i);
            assert_eq!(selected, angle < 11.25, "direction {i} at {angle}°");
        }
        assert!(local.directions.len() > 5);
        let sum: f64 = local.directions.iter().map(|(_, w)| w).sum();
        assert!((sum - 1.0).abs() < 1e-12);
        // Psi step 7.5°: 97.5 − 11.25 < ψ < 100 + 11.25 → 90, 97.5, 105 (and not 112.5).
        let psis: Vec<f64> = local
            .psis
            .iter()
            .map(|&(j, _)| sampling.psis()[j])
            .collect();
        assert_eq!(psis, vec![90.0, 97.5, 105.0]);
        // Closer samples weigh more.
        let w = |psi: f64| {
            local
                .psis
                .iter()
                .find(|&&(j, _)| sampling.psis()[j] == psi)
                .unwrap()
                .1
        };
        assert!(w(97.5) > w(105.0) && w(105.0) > w(90.0));
    }

    #[test]
    fn symmetry_mates_of_the_prior_are_near() {
        // Under C4, a prior at rot = 120 is equivalent to rot = 30 (inside the asymmetric unit
        // −45 … 45); the kept directions must sit around rot = 30.
        let sampling = OrientationSampling::new(3, &SymmetryGroup::parse("C4").unwrap()).unwrap();
        let local = sampling.local_prior(
            EulerAngles::new(120.0, 60.0, 0.0),
            &LocalSearch::isotropic(3.0),
        );
        assert!(!local.directions.is_empty());
        for &(i, _) in &local.directions {
            let d = sampling.directions()[i];
            assert!(
                (d.rot - 30.0).abs() < 15.0 && (d.tilt - 60.0).abs() < 10.0,
                "{d:?}"
            );
        }
    }

    #[test]
    fn no_prior_and_nearest_fallback() {
        let sampling = OrientationSampling::new(1, &SymmetryGroup::c1()).unwrap();
        let all = sampling.local_prior(EulerAngles::default(), &LocalSearch::isotropic(0.0));
        assert_eq!(all.directions.len(), 48);
        assert_eq!(all.psis.len(), 12);
        assert!(
            all.directions
                .iter()
                .all(|&(_, w)| (w - 1.0 / 48.0).abs() < 1e-15)
        );
        // σ so small that nothing is within 3σ: the nearest direction alone, weight 1.
        let tiny = sampling.local_prior(
            EulerAngles::new(1.0, 1.0, 1.0),
            &LocalSearch::isotropic(1e-3),
        );
        assert_eq!(tiny.directions.len(), 1);
        assert_eq!(tiny.psis, vec![(0, 1.0)]);
        let nearest = sampling.directions()[tiny.directions[0].0];
        assert!(nearest.tilt < 30.0, "{nearest:?}");
    }
}
