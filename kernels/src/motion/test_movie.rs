//! Synthetic movies with known motion for the alignment tests: a seeded, smooth, periodic
//! texture (a sum of plane waves with whole numbers of cycles across the frame, up to 0.12
//! cycles/px) displaced by a known field (px) that may vary over the frame, plus Gaussian
//! noise of a chosen standard deviation relative to the texture's (1 = SNR 1 per pixel).

use crate::fourier::fft::plane::forward;
use crate::grid::{Plane, PlaneSpectrum};
use crate::random::SplitMix64;
use rayon::prelude::*;
use std::f64::consts::TAU;

/// Specimen displacement (px) of frame `f` at pixel (x, y).
type Field = dyn Fn(f64, f64, usize) -> [f64; 2] + Sync;

/// A rendered movie and the uniform displacements it was made with (if uniform).
pub struct Movie {
    pub frames: Vec<Plane>,
    pub displacements: Vec<[f64; 2]>,
}

impl Movie {
    /// `n_frames` square frames of `size` px drifting smoothly by `drift` px in total.
    pub fn drifting(size: usize, n_frames: usize, seed: u64, drift: f64) -> Self {
        let displacements: Vec<[f64; 2]> = (0..n_frames)
            .map(|f| {
                let t = f as f64 / (n_frames - 1) as f64;
                [drift * t.powf(0.7), -0.6 * drift * t.powf(0.5) + 0.37 * t]
            })
            .collect();
        Self::with_displacements(size, &displacements, seed, 1.0)
    }

    /// Frames displaced uniformly by `displacements` (px), with noise `noise` × texture std.
    pub fn with_displacements(
        size: usize,
        displacements: &[[f64; 2]],
        seed: u64,
        noise: f64,
    ) -> Self {
        let d = displacements.to_vec();
        let frames = render(size, displacements.len(), seed, noise, &move |_, _, f| d[f]);
        Self {
            frames,
            displacements: displacements.to_vec(),
        }
    }

    /// Frames displaced by an arbitrary `field` (px).
    pub fn with_field(size: usize, n_frames: usize, seed: u64, noise: f64, field: &Field) -> Self {
        Self {
            frames: render(size, n_frames, seed, noise, field),
            displacements: Vec::new(),
        }
    }

    /// The frames' spectra.
    pub fn spectra(&self) -> Vec<PlaneSpectrum> {
        self.frames.iter().map(forward).collect()
    }

    /// The shifts that align each frame onto frame 0: −(d_f − d_0).
    pub fn aligning_shifts(&self) -> Vec<[f64; 2]> {
        let d0 = self.displacements[0];
        self.displacements
            .iter()
            .map(|d| [d0[0] - d[0], d0[1] - d[1]])
            .collect()
    }
}

/// RMS over frames of the distance between two lists of shifts (px).
pub fn rms_error(a: &[[f64; 2]], b: &[[f64; 2]]) -> f64 {
    let sum: f64 = a
        .iter()
        .zip(b)
        .map(|(p, q)| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2))
        .sum();
    (sum / a.len() as f64).sqrt()
}

fn render(size: usize, n_frames: usize, seed: u64, noise: f64, field: &Field) -> Vec<Plane> {
    let mut rng = SplitMix64::keyed(seed, &[0]);
    let max_cycles = (0.12 * size as f64) as i64;
    let mut waves = Vec::new();
    while waves.len() < 64 {
        let m = rng.below(2 * max_cycles as usize + 1) as i64 - max_cycles;
        let n = rng.below(2 * max_cycles as usize + 1) as i64 - max_cycles;
        if (m, n) != (0, 0) && m * m + n * n <= max_cycles * max_cycles {
            let k = [m as f64 / size as f64, n as f64 / size as f64];
            waves.push((k, rng.next_unit() * TAU));
        }
    }
    // Each wave has amplitude √2/8, so the texture's standard deviation is 1.
    let amplitude = (2.0f64).sqrt() / 8.0;
    (0..n_frames)
        .into_par_iter()
        .map(|f| {
            let mut plane = Plane::from_fn(size, size, |x, y| {
                let d = field(x as f64, y as f64, f);
                let (sx, sy) = (x as f64 - d[0], y as f64 - d[1]);
                let signal: f64 = waves
                    .iter()
                    .map(|(k, phase)| (TAU * (k[0] * sx + k[1] * sy) + phase).cos())
                    .sum();
                (signal * amplitude) as f32
            });
            let mut noise_rng = SplitMix64::keyed(seed, &[1, f as u64]);
            for v in plane.data_mut() {
                *v += (noise * noise_rng.next_normal()) as f32;
            }
            plane
        })
        .collect()
}
