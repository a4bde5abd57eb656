//! How precisely a particle can be aligned against a reference (refine.md §4.2, RELION's
//! `calculateExpectedAngularErrors`): the smallest pose error that makes the CTF-weighted
//! projection differ detectably from the one at the particle's pose.
//!
//! For an error e, SNR(e) = Σ_k |c(k)·(P(k) − P_e(k))|² / (2σ²(k)) over the current window
//! without DC, P the slice at the pose and P_e the slice after the error. Angular errors grow
//! in steps of 0.05° (below 0.2°), 0.1° (below 1°), 0.2° (2°), 0.5° (5°), 1° (10°), 2° (20°),
//! then 5°, each step applied to one Euler angle (rot, tilt or psi) drawn at random, until
//! SNR > ln(100) or the error passes 30°; translation errors grow in steps of 0.1 pixel (below
//! 1), 0.2 (2), 0.5 (5), 1 (10), then 2 pixels along x or y drawn at random, until SNR > ln(100)
//! or the error passes 10 pixels. The particle's error is the e reached.

use std::f64::consts::TAU;

use glam::DMat3;

use super::bank::SliceProjector;
use super::{EstepError, PreparedParticle};
use crate::fourier::projector::Projector;
use crate::geometry::euler::EulerAngles;
use crate::random::SplitMix64;

/// SNR at which two poses count as distinguishable (RELION: ln 100).
const DETECTABLE_SNR: f64 = 4.605_170_185_988_091;

/// Largest angular error tried (degrees).
const MAX_ANGLE_DEG: f64 = 30.0;

/// Largest translation error tried (pixels).
const MAX_SHIFT_PX: f64 = 10.0;

/// One particle's expected alignment accuracy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Accuracy {
    /// Smallest detectable angular error (degrees, ≤ 30 + 5).
    pub rotation_deg: f64,
    /// Smallest detectable translation error (Å).
    pub translation_angst: f64,
}

/// The expected accuracy of `particle` at `rotation` (RELION's matrix A) against `projector`,
/// with the random choices of the stream `random`; see the module doc.
pub fn expected_accuracy(
    projector: &Projector,
    particle: &PreparedParticle<'_>,
    rotation: &DMat3,
    random: &mut SplitMix64,
) -> Result<Accuracy, EstepError> {
    let window = particle.window();
    let len = window.len();
    let mut slices = SliceProjector::new(projector, window, window.current_size())?;
    let ctf = particle.ctf();
    let inv_sigma2 = particle.inv_sigma2();
    let (mut re, mut im) = (vec![0.0f32; len], vec![0.0f32; len]);
    slices.project(rotation, Some(ctf), &mut re, &mut im);
    let snr = |other: &dyn Fn(usize) -> (f64, f64)| -> f64 {
        (1..len)
            .map(|i| {
                let (r, m) = other(i);
                let (dr, di) = (re[i] as f64 - r, im[i] as f64 - m);
                (dr * dr + di * di) * inv_sigma2[i] as f64 / 2.0
            })
            .sum()
    };

    let angles = EulerAngles::from_matrix(rotation);
    let (mut pr, mut pi) = (vec![0.0f32; len], vec![0.0f32; len]);
    let mut error = 0.0;
    loop {
        error += angle_step(error);
        let mut moved = angles;
        match random.below(3) {
            0 => moved.rot += error,
            1 => moved.tilt += error,
            _ => moved.psi += error,
        }
        slices.project(&moved.to_matrix(), Some(ctf), &mut pr, &mut pi);
        if snr(&|i| (pr[i] as f64, pi[i] as f64)) > DETECTABLE_SNR || error > MAX_ANGLE_DEG {
            break;
        }
    }
    let rotation_deg = error;

    let n = window.ori_size() as f64;
    let mut shift = 0.0;
    loop {
        shift += shift_step(shift);
        let along_x = random.below(2) == 0;
        let moved = |i: usize| {
            let [kx, ky] = window.pixels()[i];
            let k = if along_x { kx } else { ky } as f64;
            let (s, c) = (-TAU * k * shift / n).sin_cos();
            let (r, m) = (re[i] as f64, im[i] as f64);
            (r * c - m * s, r * s + m * c)
        };
        if snr(&moved) > DETECTABLE_SNR || shift > MAX_SHIFT_PX {
            break;
        }
    }
    Ok(Accuracy {
        rotation_deg,
        translation_angst: shift * particle.pixel_size(),
    })
}

/// RELION's growing angular step (degrees) at error `e`.
fn angle_step(e: f64) -> f64 {
    match e {
        e if e < 0.2 => 0.05,
        e if e < 1.0 => 0.1,
        e if e < 2.0 => 0.2,
        e if e < 5.0 => 0.5,
        e if e < 10.0 => 1.0,
        e if e < 20.0 => 2.0,
        _ => 5.0,
    }
}

/// RELION's growing translation step (pixels) at error `s`.
fn shift_step(s: f64) -> f64 {
    match s {
        s if s < 1.0 => 0.1,
        s if s < 2.0 => 0.2,
        s if s < 5.0 => 0.5,
        s if s < 10.0 => 1.0,
        _ => 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estep::testkit::{
        N, blob_projector, particle_input, simulate, test_ctf, white_sigma2,
    };
    use crate::estep::{FourierWindow, MaskFill};

    /// Mean accuracy over a few poses of particles with white noise of real-space σ `noise`.
    fn mean_accuracy(noise: f64) -> Accuracy {
        let projector = blob_projector(3);
        let window = FourierWindow::new(N, 24).unwrap();
        let sigma2 = white_sigma2(N, noise);
        let poses = [
            (30.0, 60.0, 10.0),
            (120.0, 90.0, -40.0),
            (-70.0, 20.0, 170.0),
        ];
        let mut sum = Accuracy {
            rotation_deg: 0.0,
            translation_angst: 0.0,
        };
        for (k, &(rot, tilt, psi)) in poses.iter().enumerate() {
            let rotation = EulerAngles::new(rot, tilt, psi).to_matrix();
            let ctf = test_ctf(15000.0);
            let image = simulate(
                &projector,
                &rotation,
                [0.0, 0.0],
                Some(&ctf),
                noise,
                k as u64,
            );
            let input = particle_input(&image, &sigma2, Some(ctf), [0, 0], MaskFill::Mean);
            let prepared = PreparedParticle::new(&window, &input).unwrap();
            let a = expected_accuracy(&projector, &prepared, &rotation, &mut SplitMix64::new(5))
                .unwrap();
            sum.rotation_deg += a.rotation_deg / poses.len() as f64;
            sum.translation_angst += a.translation_angst / poses.len() as f64;
        }
        sum
    }

    #[test]
    fn stronger_signal_gives_finer_accuracy_within_the_caps() {
        let (clean, noisy) = (mean_accuracy(0.01), mean_accuracy(1.0));
        assert!(
            clean.rotation_deg < noisy.rotation_deg,
            "{clean:?} vs {noisy:?}"
        );
        assert!(
            clean.translation_angst < noisy.translation_angst,
            "{clean:?} vs {noisy:?}"
        );
        assert!(
            clean.rotation_deg > 0.0 && clean.rotation_deg < 1.0,
            "{clean:?}"
        );
        assert!(noisy.rotation_deg <= MAX_ANGLE_DEG + 5.0);
        assert!(noisy.translation_angst <= (MAX_SHIFT_PX + 2.0) * 3.0);
    }

    #[test]
    fn steps_follow_relion() {
        assert_eq!(angle_step(0.0), 0.05);
        assert_eq!(angle_step(4.9), 0.5);
        assert_eq!(angle_step(25.0), 5.0);
        assert_eq!(shift_step(0.5), 0.1);
        assert_eq!(shift_step(12.0), 2.0);
    }
}
