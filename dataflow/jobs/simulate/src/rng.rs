//! Reproducible random streams: one independent generator per (seed, purpose, index), so a
//! simulation gives the same particles whatever the thread count or the order of work.
//!
//! The generator is xoshiro256++ (Blackman & Vigna), seeded by SplitMix64 from the key; both are
//! fixed, published algorithms, so a seed means the same data in every cryoflux version that
//! keeps this file. Normal deviates come from the Box–Muller transform.

use std::f64::consts::TAU;

use cryoflux_kernels::random::{SplitMix64, mix};

/// What a stream is drawn for; streams of different purposes never share values, so e.g.
/// turning noise off does not change the poses or defoci of a simulation with the same seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A particle's orientation and origin.
    Pose = 1,
    /// A micrograph's defocus and astigmatism.
    Micrograph = 2,
    /// A particle's own defocus deviation from its micrograph's.
    ParticleDefocus = 3,
    /// A particle's image noise.
    Noise = 4,
    /// A micrograph's signal scale (ice thickness, dose).
    MicrographScale = 5,
    /// A particle's normalisation error (wrong background standard deviation).
    NormError = 6,
    /// A movie's particle positions and orientations.
    MovieParticles = 7,
    /// A movie's global drift.
    Drift = 8,
    /// A movie's local (per-particle) motion.
    LocalMotion = 9,
    /// The electron counts of one frame (index = movie · frames + frame).
    Counts = 10,
    /// The detector's gain reference.
    Gain = 11,
    /// The detector's hot pixels.
    HotPixels = 12,
    /// A movie's ice-thickness variations.
    Ice = 13,
}

/// A xoshiro256++ generator.
#[derive(Debug, Clone)]
pub struct Rng {
    state: [u64; 4],
}

impl Rng {
    /// The stream of `purpose` for item `index` (particle or micrograph, 0-based) under `seed`.
    pub fn stream(seed: u64, purpose: Purpose, index: u64) -> Self {
        let a = mix(seed);
        let b = mix(a ^ (purpose as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
        let mut seeder = SplitMix64::new(b ^ index);
        let state = [(); 4].map(|_| seeder.next_u64());
        Rng { state }
    }

    /// The next 64 uniformly distributed bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform deviate in [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform deviate in [low, high).
    pub fn uniform_in(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform()
    }

    /// Two independent standard normal deviates (Box–Muller).
    pub fn normal_pair(&mut self) -> [f64; 2] {
        // 1 − u lies in (0, 1], so the logarithm is finite.
        let radius = (-2.0 * (1.0 - self.uniform()).ln()).sqrt();
        let (s, c) = (TAU * self.uniform()).sin_cos();
        [radius * c, radius * s]
    }

    /// One standard normal deviate (the pair's second value is discarded).
    pub fn normal(&mut self) -> f64 {
        self.normal_pair()[0]
    }

    /// A Poisson deviate of mean `mean` (≥ 0): exact (multiplication of uniforms) below a mean
    /// of 30, the rounded normal approximation above, where it differs from Poisson by less
    /// than the counting noise itself resolves.
    pub fn poisson(&mut self, mean: f64) -> u32 {
        if mean <= 0.0 {
            return 0;
        }
        if mean < 30.0 {
            let limit = (-mean).exp();
            let mut product = self.uniform();
            let mut count = 0;
            while product > limit {
                count += 1;
                product *= self.uniform();
            }
            count
        } else {
            (mean + mean.sqrt() * self.normal()).round().max(0.0) as u32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let draw = |seed, purpose, index| Rng::stream(seed, purpose, index).next_u64();
        assert_eq!(draw(7, Purpose::Pose, 3), draw(7, Purpose::Pose, 3));
        assert_ne!(draw(7, Purpose::Pose, 3), draw(7, Purpose::Pose, 4));
        assert_ne!(draw(7, Purpose::Pose, 3), draw(8, Purpose::Pose, 3));
        assert_ne!(draw(7, Purpose::Pose, 3), draw(7, Purpose::Noise, 3));
    }

    #[test]
    fn poisson_mean_and_variance_match_below_and_above_the_switch() {
        for mean in [0.7, 3.24, 45.0] {
            let mut rng = Rng::stream(3, Purpose::Counts, 0);
            let n = 100_000;
            let draws: Vec<f64> = (0..n).map(|_| f64::from(rng.poisson(mean))).collect();
            let m = draws.iter().sum::<f64>() / n as f64;
            let v = draws.iter().map(|d| (d - m).powi(2)).sum::<f64>() / n as f64;
            assert!((m - mean).abs() < 0.02 * mean.max(1.0), "{mean}: mean {m}");
            assert!(
                (v - mean).abs() < 0.05 * mean.max(1.0),
                "{mean}: variance {v}"
            );
        }
    }

    #[test]
    fn uniform_and_normal_moments() {
        let mut rng = Rng::stream(1, Purpose::Noise, 0);
        let n = 200_000;
        let (mut su, mut sn, mut sn2) = (0.0, 0.0, 0.0);
        for _ in 0..n {
            let u = rng.uniform();
            assert!((0.0..1.0).contains(&u));
            su += u;
            let [a, b] = rng.normal_pair();
            sn += a + b;
            sn2 += a * a + b * b;
        }
        let n = n as f64;
        assert!((su / n - 0.5).abs() < 0.005);
        assert!((sn / (2.0 * n)).abs() < 0.01);
        assert!((sn2 / (2.0 * n) - 1.0).abs() < 0.01);
    }
}
