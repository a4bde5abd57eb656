//! Seeded Gaussian random numbers for the noise that fills the outside of a particle mask
//! (refine.md §1.2 step 4): a SplitMix64 stream (Steele, Lea & Flood 2014) turned into normal
//! deviates by the Box–Muller transform, so a seed gives the same noise on every machine.

use std::f64::consts::TAU;

/// A stream of standard normal deviates from a 64-bit seed.
pub(crate) struct GaussianStream {
    state: u64,
    spare: Option<f64>,
}

impl GaussianStream {
    /// The stream of `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            state: seed,
            spare: None,
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1] (never 0, so its logarithm is finite).
    fn next_open_unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// The next N(0, 1) deviate.
    pub(crate) fn next_normal(&mut self) -> f64 {
        if let Some(v) = self.spare.take() {
            return v;
        }
        let radius = (-2.0 * self.next_open_unit().ln()).sqrt();
        let (s, c) = (TAU * self.next_open_unit()).sin_cos();
        self.spare = Some(radius * s);
        radius * c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deviates_have_unit_variance_and_repeat_with_the_seed() {
        let mut g = GaussianStream::new(11);
        let v: Vec<f64> = (0..20000).map(|_| g.next_normal()).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.04,
            "{mean} {var}"
        );
        let mut h = GaussianStream::new(11);
        assert_eq!(h.next_normal(), v[0]);
    }
}
