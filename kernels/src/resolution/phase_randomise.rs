//! Phase randomisation beyond a Fourier shell, for the noise-substitution test of masked FSCs
//! (Chen et al. 2013; RELION's `randomizePhasesBeyond`).
//!
//! Every value of a half array with |k| ≥ `shell` (k the frequency in pixels of the box, not
//! rounded: RELION's test kx² + ky² + kz² ≥ shell²) keeps its amplitude and gets a phase drawn
//! uniformly in [0, 2π). Values below the shell are untouched. Phases come from a SplitMix64
//! stream seeded by the caller, so a seed always gives the same map. Unlike RELION, the result
//! stays the transform of a real map: values on the kx = 0 and kx = n/2 planes whose Friedel
//! mate is stored too get the conjugate of the mate's new value, and self-conjugate values
//! (which must be real) get a random sign.

use std::f64::consts::TAU;

use crate::grid::{Complex32, HalfGrid};
use crate::random::SplitMix64;

/// Randomises the phases of all values of `f` at |k| ≥ `shell` pixels (see the module doc),
/// with phases from the stream of `seed`.
pub fn randomise_phases_beyond<const D: usize>(
    f: &mut HalfGrid<Complex32, D>,
    shell: usize,
    seed: u64,
) {
    let mut rng = SplitMix64::new(seed);
    let nyquist = (f.n() / 2) as i64;
    let limit = (shell * shell) as i64;
    for i in 0..f.data().len() {
        let [kx, ky, kz] = f.frequency(i);
        if kx * kx + ky * ky + kz * kz < limit {
            continue;
        }
        let amplitude = f.data()[i].norm();
        // Only the kx = 0 and kx = n/2 planes hold both members of a Friedel pair.
        let mate = if kx == 0 || kx == nyquist {
            f.index_of(kx, -ky, -kz)
        } else {
            None
        };
        f.data_mut()[i] = match mate {
            Some(m) if m == i => {
                let sign = if rng.next_u64() >> 63 == 0 { 1.0 } else { -1.0 };
                Complex32::new(sign * amplitude, 0.0)
            }
            // The mate comes first in storage order, so it already has its new value.
            Some(m) if m < i => f.data()[m].conj(),
            _ => {
                let phase = TAU * rng.next_unit();
                Complex32::from_polar(amplitude, phase as f32)
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fourier::fft::{forward, inverse};
    use crate::grid::{Volume, test_noise::uniform};
    use crate::resolution::fsc::fsc;

    fn noise_map(n: usize, seed: u64) -> Volume {
        Volume::from_vec(n, 1.5, uniform(seed, n * n * n)).unwrap()
    }

    #[test]
    fn amplitudes_stay_and_phases_change_only_beyond_the_shell() {
        let n = 16;
        let original = forward(&noise_map(n, 4));
        let mut f = original.clone();
        randomise_phases_beyond(&mut f, 5, 7);
        let mut changed = 0;
        for (i, (a, b)) in original.data().iter().zip(f.data()).enumerate() {
            assert!(
                (a.norm() - b.norm()).abs() < 1e-6,
                "amplitude changed at {i}"
            );
            let [kx, ky, kz] = f.frequency(i);
            if kx * kx + ky * ky + kz * kz < 25 {
                assert_eq!(a, b, "value below the shell changed at {i}");
            } else if (a - b).norm() > 1e-4 * a.norm() {
                changed += 1;
            }
        }
        assert!(changed > 1000, "only {changed} values changed");
        let curve = fsc(&original, &f).unwrap();
        assert!(
            curve[..4].iter().all(|&v| (v - 1.0).abs() < 1e-6),
            "{curve:?}"
        );
        assert!(curve[6..].iter().all(|v| v.abs() < 0.3), "{curve:?}");
    }

    #[test]
    fn the_result_is_the_transform_of_a_real_map() {
        // A real map's transform survives a round trip through real space unchanged; a half
        // array breaking Friedel symmetry on the kx = 0 or kx = n/2 planes does not.
        let mut f = forward(&noise_map(12, 9));
        randomise_phases_beyond(&mut f, 2, 3);
        let back = forward(&inverse(&f));
        for (a, b) in f.data().iter().zip(back.data()) {
            assert!((a - b).norm() < 1e-5, "{a} became {b}");
        }
    }

    #[test]
    fn a_seed_gives_the_same_phases_and_another_seed_others() {
        let original = forward(&noise_map(8, 1));
        let randomised = |seed| {
            let mut f = original.clone();
            randomise_phases_beyond(&mut f, 1, seed);
            f
        };
        assert_eq!(randomised(11), randomised(11));
        assert_ne!(randomised(11), randomised(12));
    }
}
