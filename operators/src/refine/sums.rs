//! The sufficient statistics of the E-step: what a set of particles of one half set adds to
//! the M-step ([`HalfSums`], with one [`GroupSums`] per noise group). Adding is associative,
//! so sums of blocks combine along the reduction tree ([`super::reduction`]).
//!
//! Units: lengths in Å; angles in degrees; powers in RELION's FFT units (forward transform
//! divided by N²).

use cryoflux_kernels::estep::ParticleContribution;
use cryoflux_kernels::fourier::backprojector::{BackProjector, BackProjectorOptions};
use cryoflux_kernels::grid::GridError;
use serde::{Deserialize, Serialize};

use super::records::ParticleUpdate;

/// Sufficient statistics of a set of particles of one half set; adding is associative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HalfSums {
    /// Backprojected data and weights.
    #[serde(with = "crate::wire::backprojector")]
    pub backprojector: BackProjector,
    /// Per noise group: residual power, posterior mass and intensity-scale sums.
    pub groups: Vec<GroupSums>,
    /// Σ kept posterior mass (≈ particle count).
    pub weight_sum: f64,
    /// Σ of the particles' new norm corrections.
    pub norm_sum: f64,
    /// Σ w̄·|origin prior − origin|² (Å²).
    pub offset_sq_angst2: f64,
    /// Σ dLL (or Σ best CC).
    pub log_likelihood: f64,
    /// Σ Pmax.
    pub max_probability: f64,
    /// Σ angular change (degrees).
    pub angular_change_deg: f64,
    /// Σ |new origin − previous origin|² (Å²).
    pub offset_change_sq_angst2: f64,
    /// Σ expected angular accuracy (degrees) over the particles that estimated it.
    pub accuracy_rotation_deg: f64,
    /// Σ expected translational accuracy (Å) over the particles that estimated it.
    pub accuracy_translation_angst: f64,
    /// Number of particles that estimated their accuracy.
    pub accuracy_particles: usize,
    /// E-step evaluations (rotation × translation × Fourier pixel, both passes).
    pub evaluations: f64,
    /// Number of particles.
    pub particles: usize,
    /// Per-particle updates, in id order.
    pub updates: Vec<ParticleUpdate>,
}

/// The sufficient statistics of one noise group's particles of a half set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSums {
    /// Σ E(r) per shell 0 … N/2 (residual power, RELION units).
    pub noise_power: Vec<f64>,
    /// Σ kept posterior mass (≈ the group's particle count).
    pub weight_sum: f64,
    /// Σ w̄·Re(X·conj(CTF·P)) over shells with SSNR > 3 (RELION's XA).
    pub scale_xa: f64,
    /// Σ w̄·|CTF·P|² over the same pixels (RELION's AA).
    pub scale_aa: f64,
    /// Number of particles.
    pub particles: usize,
}

impl GroupSums {
    /// Empty sums for `shells` shells.
    pub fn new(shells: usize) -> Self {
        Self {
            noise_power: vec![0.0; shells],
            weight_sum: 0.0,
            scale_xa: 0.0,
            scale_aa: 0.0,
            particles: 0,
        }
    }

    /// Adds one particle's contribution (same shells) to `self`.
    pub fn add_particle(&mut self, particle: &ParticleContribution) {
        self.noise_power
            .iter_mut()
            .zip(&particle.noise_power)
            .for_each(|(a, b)| *a += b);
        self.weight_sum += particle.weight_sum;
        self.scale_xa += particle.scale_xa;
        self.scale_aa += particle.scale_aa;
        self.particles += 1;
    }

    /// Adds `other` (same shells) to `self`.
    pub fn add(&mut self, other: &GroupSums) {
        self.noise_power
            .iter_mut()
            .zip(&other.noise_power)
            .for_each(|(a, b)| *a += b);
        self.weight_sum += other.weight_sum;
        self.scale_xa += other.scale_xa;
        self.scale_aa += other.scale_aa;
        self.particles += other.particles;
    }
}

impl HalfSums {
    /// Empty sums for box `n` (pixels), `pixel_size` Å (padding 2, trilinear, Nyquist) and
    /// `groups` noise groups.
    pub fn new(n: usize, pixel_size: f64, groups: usize) -> Result<Self, GridError> {
        Ok(Self {
            backprojector: BackProjector::new(n, pixel_size, &BackProjectorOptions::default())?,
            groups: vec![GroupSums::new(n / 2 + 1); groups],
            weight_sum: 0.0,
            norm_sum: 0.0,
            offset_sq_angst2: 0.0,
            log_likelihood: 0.0,
            max_probability: 0.0,
            angular_change_deg: 0.0,
            offset_change_sq_angst2: 0.0,
            accuracy_rotation_deg: 0.0,
            accuracy_translation_angst: 0.0,
            accuracy_particles: 0,
            evaluations: 0.0,
            particles: 0,
            updates: Vec::new(),
        })
    }

    /// Adds `other` (same box and groups) to `self`; updates are concatenated.
    pub fn add(&mut self, other: HalfSums) -> Result<(), GridError> {
        self.backprojector.add(&other.backprojector)?;
        self.groups
            .iter_mut()
            .zip(&other.groups)
            .for_each(|(a, b)| a.add(b));
        self.weight_sum += other.weight_sum;
        self.norm_sum += other.norm_sum;
        self.offset_sq_angst2 += other.offset_sq_angst2;
        self.log_likelihood += other.log_likelihood;
        self.max_probability += other.max_probability;
        self.angular_change_deg += other.angular_change_deg;
        self.offset_change_sq_angst2 += other.offset_change_sq_angst2;
        self.accuracy_rotation_deg += other.accuracy_rotation_deg;
        self.accuracy_translation_angst += other.accuracy_translation_angst;
        self.accuracy_particles += other.accuracy_particles;
        self.evaluations += other.evaluations;
        self.particles += other.particles;
        self.updates.extend(other.updates);
        Ok(())
    }
}
