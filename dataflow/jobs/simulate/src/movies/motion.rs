//! True beam-induced motion of a movie's particles: a global drift shared by the whole
//! micrograph plus local motion drawn from the prior of Bayesian polishing
//! (polish-and-initial-model.md §A.3, §A.9).
//!
//! **Global drift** (Å): g(f) = A·(1 − e^{−f/τ})·u + B·f·w, frame f = 0 … F−1, with unit
//! directions u, w uniform on the circle, τ = F/6 frames, A uniform in [0.5, 1]·D·0.7 and
//! B·(F−1) uniform in [0.5, 1]·D·0.3 (D = `drift` Å): fast early motion that decays, then a
//! slow steady drift, as stages and ice relax in real movies. g(0) = 0.
//!
//! **Local motion** (Å): the velocities v_p(f) = r_p(f+1) − r_p(f) of the P particles, per axis,
//! are jointly normal with Σ_ij = σ_v'²·exp(−d_ij/σ_d), d_ij the distance between particles i
//! and j in Å, σ_v' = σ_vel·(dose per frame) Å per frame (RELION's `--s_vel` per unit dose),
//! σ_d = `--s_div` Å; successive velocities follow a stationary AR(1) process whose mean squared
//! change per frame E‖Δv‖² = 2σ_v'²(1 − ρ) equals σ_a'² = (σ_acc·dose per frame)², i.e.
//! ρ = max(0, 1 − σ_a'²/(2σ_v'²)). r_p(0) = 0.
//!
//! The track of particle p is t_p(f) = g(f) + r_p(f): where the particle is in frame f relative
//! to where it is in frame 0 (its picked coordinate), in Å.

use std::f64::consts::TAU;

use crate::rng::{Purpose, Rng};

/// Motion model parameters (RELION's polishing units: σ per unit dose e/Å²).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MotionModel {
    /// Scale D of the global drift over the whole movie, in Å.
    pub drift: f64,
    /// σ_vel: standard deviation of local velocities in Å per e/Å² of dose (`--s_vel`).
    pub sigma_velocity: f64,
    /// σ_div: distance over which local velocities decorrelate, in Å (`--s_div`).
    pub sigma_divergence: f64,
    /// σ_acc: standard deviation of the change of local velocity in Å per e/Å² (`--s_acc`).
    pub sigma_acceleration: f64,
}

impl Default for MotionModel {
    /// 10 Å of global drift and RELION's GUI defaults for the local prior (σ_vel 0.2,
    /// σ_div 5000 Å, σ_acc 2).
    fn default() -> Self {
        Self {
            drift: 10.0,
            sigma_velocity: 0.2,
            sigma_divergence: 5000.0,
            sigma_acceleration: 2.0,
        }
    }
}

/// The global drift g(f) of movie `movie` in Å, one [x, y] per frame (g(0) = 0).
pub fn global_drift(model: &MotionModel, frames: usize, seed: u64, movie: usize) -> Vec<[f64; 2]> {
    let mut rng = Rng::stream(seed, Purpose::Drift, movie as u64);
    let early = 0.7 * model.drift * rng.uniform_in(0.5, 1.0);
    let steady = 0.3 * model.drift * rng.uniform_in(0.5, 1.0) / (frames.max(2) - 1) as f64;
    let (su, cu) = (TAU * rng.uniform()).sin_cos();
    let (sw, cw) = (TAU * rng.uniform()).sin_cos();
    let tau = frames as f64 / 6.0;
    (0..frames)
        .map(|f| {
            let f = f as f64;
            let a = early * (1.0 - (-f / tau).exp());
            let b = steady * f;
            [a * cu + b * cw, a * su + b * sw]
        })
        .collect()
}

/// The local tracks r_p(f) in Å of particles at `positions` (Å) of movie `movie`: one
/// `frames`-long track per particle, r_p(0) = 0.
pub fn local_tracks(
    model: &MotionModel,
    positions: &[[f64; 2]],
    frames: usize,
    dose_per_frame: f64,
    seed: u64,
    movie: usize,
) -> Vec<Vec<[f64; 2]>> {
    let count = positions.len();
    let sigma_v = model.sigma_velocity * dose_per_frame;
    let sigma_a = model.sigma_acceleration * dose_per_frame;
    let rho = if sigma_v > 0.0 {
        (1.0 - sigma_a * sigma_a / (2.0 * sigma_v * sigma_v)).max(0.0)
    } else {
        0.0
    };
    let covariance: Vec<f64> = (0..count * count)
        .map(|k| {
            let (i, j) = (k / count, k % count);
            let d = (positions[i][0] - positions[j][0]).hypot(positions[i][1] - positions[j][1]);
            sigma_v * sigma_v * (-d / model.sigma_divergence.max(1e-20)).exp()
        })
        .collect();
    let factor = cholesky(&covariance, count);
    let mut rng = Rng::stream(seed, Purpose::LocalMotion, movie as u64);
    let mut draw = || -> Vec<[f64; 2]> {
        let z: Vec<[f64; 2]> = (0..count).map(|_| rng.normal_pair()).collect();
        (0..count)
            .map(|i| {
                (0..=i).fold([0.0, 0.0], |acc, j| {
                    let l = factor[i * count + j];
                    [acc[0] + l * z[j][0], acc[1] + l * z[j][1]]
                })
            })
            .collect()
    };
    let mut tracks = vec![vec![[0.0; 2]; frames]; count];
    let mut velocity = draw();
    let innovation = (1.0 - rho * rho).sqrt();
    for f in 1..frames {
        for (track, v) in tracks.iter_mut().zip(&velocity) {
            track[f] = [track[f - 1][0] + v[0], track[f - 1][1] + v[1]];
        }
        let fresh = draw();
        for (v, e) in velocity.iter_mut().zip(fresh) {
            *v = [
                rho * v[0] + innovation * e[0],
                rho * v[1] + innovation * e[1],
            ];
        }
    }
    tracks
}

/// Lower-triangular L with L·Lᵀ = `matrix` (n × n, symmetric positive semi-definite), row-major.
/// Pivots that round-off drives to ≤ 0 (perfectly correlated particles) give zero columns.
fn cholesky(matrix: &[f64], n: usize) -> Vec<f64> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let dot: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            let value = matrix[i * n + j] - dot;
            l[i * n + j] = if i == j {
                value.max(0.0).sqrt()
            } else if l[j * n + j] > 1e-12 {
                value / l[j * n + j]
            } else {
                0.0
            };
        }
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_starts_at_zero_and_slows_down() {
        let g = global_drift(&MotionModel::default(), 24, 5, 0);
        assert_eq!(g[0], [0.0, 0.0]);
        let step = |f: usize| (g[f + 1][0] - g[f][0]).hypot(g[f + 1][1] - g[f][1]);
        assert!(step(0) > 2.0 * step(20), "{} vs {}", step(0), step(20));
        let total = g[23][0].hypot(g[23][1]);
        assert!((3.0..=10.0).contains(&total), "{total}");
    }

    #[test]
    fn cholesky_reproduces_the_matrix() {
        let m = [4.0, 2.0, 0.4, 2.0, 5.0, 1.0, 0.4, 1.0, 3.0];
        let l = cholesky(&m, 3);
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| l[i * 3 + k] * l[j * 3 + k]).sum();
                assert!((v - m[i * 3 + j]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn local_velocities_have_the_prior_spread_and_correlation() {
        // Two particles close together (correlated) and one far away (independent).
        let model = MotionModel {
            sigma_acceleration: 1e6,
            ..MotionModel::default()
        };
        let positions = [[0.0, 0.0], [100.0, 0.0], [1e6, 0.0]];
        let (mut vv, mut near, mut far, mut n) = (0.0, 0.0, 0.0, 0.0);
        for movie in 0..400 {
            let tracks = local_tracks(&model, &positions, 6, 1.5, 2, movie);
            for f in 0..5 {
                let v: Vec<f64> = tracks.iter().map(|t| t[f + 1][0] - t[f][0]).collect();
                vv += v[0] * v[0];
                near += v[0] * v[1];
                far += v[0] * v[2];
                n += 1.0;
            }
        }
        let sigma_v = 0.2 * 1.5;
        assert!(
            (vv / n / (sigma_v * sigma_v) - 1.0).abs() < 0.1,
            "{}",
            vv / n
        );
        let expected_near = (-100.0f64 / 5000.0).exp();
        assert!((near / vv - expected_near).abs() < 0.05, "{}", near / vv);
        assert!((far / vv).abs() < 0.1, "{}", far / vv);
    }
}
