//! The records that flow through the refinement dataflow.
//!
//! - [`ParticleRecord`]: one particle with its image, CTF and current pose; sent once at epoch
//!   0 and kept by the expectation operator of the worker that owns its block.
//! - [`ReferenceMsg`]: per half set, the reference map, its noise model and the iteration's
//!   [`IterationPlan`] (half 1's also the [`SolventMask`]); broadcast to every worker once per
//!   iteration (epoch = iteration).
//! - [`BlockPartial`]: the [`HalfSums`] of a node of a half set's reduction tree (a fixed
//!   range of its blocks of particles), exchanged to worker 0.
//! - [`Maximised`]: the M-step result (new references, FSC, σ², particle updates), broadcast
//!   back to every worker.
//!
//! Units: lengths in Å unless named `_px`/`size` (pixels); angles in degrees; σ² and powers in
//! RELION's FFT units (forward transform divided by N²).

use cryoflux_kernels::estep::ParticleContribution;
use cryoflux_kernels::fourier::backprojector::{BackProjector, BackProjectorOptions};
use cryoflux_kernels::fourier::ctf::CtfParams;
use cryoflux_kernels::geometry::euler::{EulerAngles, euler_to_matrix};
use cryoflux_kernels::grid::{GridError, Volume};
use glam::DMat3;
use serde::{Deserialize, Serialize};

use crate::reduction::Node;

/// A particle's CTF parameters (the fields of [`CtfParams`], in its units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CtfRecord {
    /// Acceleration voltage (kV).
    pub voltage_kv: f64,
    /// Spherical aberration (mm).
    pub cs_mm: f64,
    /// Amplitude contrast, 0 … 1.
    pub amplitude_contrast: f64,
    /// Defocus along the major axis (Å, positive = underfocus).
    pub defocus_u: f64,
    /// Defocus along the minor axis (Å).
    pub defocus_v: f64,
    /// Angle of the major axis from x (degrees).
    pub defocus_angle_deg: f64,
    /// Phase shift (degrees).
    pub phase_shift_deg: f64,
    /// Envelope B-factor (Å²).
    pub bfactor: f64,
    /// Overall CTF scale.
    pub scale: f64,
}

impl From<&CtfParams> for CtfRecord {
    fn from(p: &CtfParams) -> Self {
        Self {
            voltage_kv: p.voltage_kv,
            cs_mm: p.cs_mm,
            amplitude_contrast: p.amplitude_contrast,
            defocus_u: p.defocus_u,
            defocus_v: p.defocus_v,
            defocus_angle_deg: p.defocus_angle_deg,
            phase_shift_deg: p.phase_shift_deg,
            bfactor: p.bfactor,
            scale: p.scale,
        }
    }
}

impl CtfRecord {
    /// The kernel's parameter set.
    pub fn params(&self) -> CtfParams {
        CtfParams {
            voltage_kv: self.voltage_kv,
            cs_mm: self.cs_mm,
            amplitude_contrast: self.amplitude_contrast,
            defocus_u: self.defocus_u,
            defocus_v: self.defocus_v,
            defocus_angle_deg: self.defocus_angle_deg,
            phase_shift_deg: self.phase_shift_deg,
            bfactor: self.bfactor,
            scale: self.scale,
        }
    }
}

/// A pose in RELION's conventions: Euler angles (degrees) and origin (Å); the observed image
/// is the projection moved by −origin.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PoseRecord {
    /// rlnAngleRot (degrees).
    pub rot: f64,
    /// rlnAngleTilt (degrees).
    pub tilt: f64,
    /// rlnAnglePsi (degrees).
    pub psi: f64,
    /// rlnOriginXAngst, rlnOriginYAngst (Å).
    pub origin_angst: [f64; 2],
}

impl PoseRecord {
    /// RELION's rotation matrix A of the angles.
    pub fn matrix(&self) -> DMat3 {
        euler_to_matrix(self.rot, self.tilt, self.psi)
    }

    /// The pose of `angles` and `origin_angst`.
    pub fn new(angles: EulerAngles, origin_angst: [f64; 2]) -> Self {
        Self {
            rot: angles.rot,
            tilt: angles.tilt,
            psi: angles.psi,
            origin_angst,
        }
    }
}

/// One particle as the expectation operator keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticleRecord {
    /// Row of the particle in the input table (0-based); results are written in this order.
    pub id: u64,
    /// Half set, 1 or 2 (rlnRandomSubset).
    pub half: u8,
    /// Reduction block (see [`BlockPartial`]); decides which worker owns the particle.
    pub block: u64,
    /// Box N (pixels).
    pub box_size: usize,
    /// Pixel size (Å).
    pub pixel_size: f64,
    /// The image, N×N row-major (real space).
    pub image: Vec<f32>,
    /// CTF parameters, or `None` to refine without CTF.
    pub ctf: Option<CtfRecord>,
    /// The current pose (updated by every E-step).
    pub pose: PoseRecord,
    /// Noise group (0-based index into the [`NoiseModel`]'s groups): one per micrograph, or
    /// per rlnGroupName.
    pub group: usize,
    /// rlnNormCorrection n_i: the image's real-space noise standard deviation in the units
    /// of the model (1 for perfectly normalised images); with norm correction the E-step
    /// multiplies the image by n̄/n_i. Updated by every E-step with norm correction.
    pub norm: f64,
}

/// A real-space map on the wire: box N (pixels), voxel size (Å), N³ values (x fastest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapRecord {
    /// Box N (pixels).
    pub box_size: usize,
    /// Voxel size (Å).
    pub pixel_size: f64,
    /// N³ voxel values.
    pub data: Vec<f32>,
}

impl MapRecord {
    /// The record of `volume`.
    pub fn from_volume(volume: &Volume) -> Self {
        Self {
            box_size: volume.n(),
            pixel_size: volume.pixel_size(),
            data: volume.data().to_vec(),
        }
    }

    /// The map as a kernel volume.
    pub fn to_volume(&self) -> Result<Volume, GridError> {
        Volume::from_vec(self.box_size, self.pixel_size, self.data.clone())
    }
}

/// What every worker needs to know about one iteration (the same for both halves).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IterationPlan {
    /// Iteration number (1-based; the epoch is iteration − 1).
    pub iteration: usize,
    /// The final iteration: full box, unfiltered half maps and the joined map.
    pub final_iteration: bool,
    /// Image size of the fine pass (pixels, even, ≤ N).
    pub current_size: usize,
    /// Image size of the coarse pass (pixels, even, ≤ current_size).
    pub coarse_size: usize,
    /// HEALPix order of the coarse orientation grid (the fine pass is one order finer).
    pub healpix_order: u32,
    /// σ (degrees) of the Gaussian prior of a local orientation search around each particle's
    /// previous pose (kept within 3σ), or `None` for a global search.
    pub local_sigma_deg: Option<f64>,
    /// Point-group symbol (C1, D2, …).
    pub symmetry: String,
    /// Translation search radius around the previous offset (Å).
    pub offset_range_angst: f64,
    /// Coarse translation step (Å).
    pub offset_step_angst: f64,
    /// Random perturbation of the orientation grid for this iteration (degrees).
    pub perturbation_deg: f64,
    /// Cross-correlation search (first iteration from a reference not on the absolute scale).
    pub cross_correlation: bool,
    /// CTF left at 1 up to its first peak (RELION `--ctf_intact_first_peak`).
    pub ctf_intact_first_peak: bool,
    /// Estimate the alignment accuracy on particles whose id is a multiple of this (0: on
    /// none, e.g. in a cross-correlation iteration).
    pub accuracy_every: u64,
    /// Seed of the random choices of the iteration (accuracy estimates); streams are keyed by
    /// (seed, iteration, particle id), so they do not depend on the workers.
    pub seed: u64,
    /// Particle diameter (Å): alignment mask and spherical solvent mask.
    pub particle_diameter_angst: f64,
    /// Current resolution (Å) before this iteration: sets the low-resolution join radius.
    pub current_resolution_angst: f64,
    /// Resolution (Å) below which the halves' accumulators are averaged (RELION 40 Å).
    pub low_resolution_join_angst: f64,
    /// Number of particles per reduction block (fixed for a job).
    pub block_size: usize,
    /// Refine each particle's norm correction (RELION `--norm`).
    pub norm_correction: bool,
    /// Refine each noise group's intensity scale (RELION `--scale`; only with more than one
    /// group).
    pub scale_correction: bool,
}

/// One half set's reference for one iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceMsg {
    /// Half set, 1 or 2.
    pub half: u8,
    /// The reference map (the projector is built from it on each worker).
    pub map: MapRecord,
    /// The half set's noise model: σ² and intensity scale per group, mean norm correction.
    pub noise: NoiseModel,
    /// SSNR per shell 0 … N/2 of the previous M-step (rlnSsnrMap; empty before the first):
    /// shells with SSNR > 3 enter the intensity-scale sums.
    pub ssnr: Vec<f64>,
    /// Width of the offset prior (Å, rlnSigmaOffsetsAngst) of this half set.
    pub sigma_offset_angst: f64,
    /// The iteration's settings.
    pub plan: IterationPlan,
    /// The user's solvent mask for the M-step, carried by half 1's message only (`None` on
    /// half 2's, and without `--solvent_mask`: then the M-step flattens with the sphere of the
    /// particle diameter).
    pub solvent_mask: Option<SolventMask>,
}

/// A half set's noise model (refine.md §1.1, §2.6): X = S_g·CTF·P + n with noise of power
/// σ²_g(r) per noise group g, images divided by their norm correction relative to the mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseModel {
    /// σ²_g(r) per group g, shells 0 … N/2 (RELION units: variance of each of the real and
    /// imaginary parts of a Fourier component).
    pub sigma2: Vec<Vec<f64>>,
    /// Intensity scale S_g per group (rlnGroupScaleCorrection; 1 without scale correction).
    pub scales: Vec<f64>,
    /// Mean norm correction n̄ of the half set's particles (rlnNormCorrectionAverage).
    pub average_norm: f64,
}

impl NoiseModel {
    /// A model with the given spectra (one per group), every scale 1 and mean norm
    /// `average_norm`.
    pub fn new(sigma2: Vec<Vec<f64>>, average_norm: f64) -> Self {
        Self {
            scales: vec![1.0; sigma2.len()],
            sigma2,
            average_norm,
        }
    }

    /// Number of noise groups.
    pub fn groups(&self) -> usize {
        self.sigma2.len()
    }
}

/// A user's solvent mask (RELION `--solvent_mask`) and what the M-step does with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolventMask {
    /// Mask values in [0, 1] (0 = solvent) on the reference's grid (same box and voxel size).
    pub map: MapRecord,
    /// Correct the gold-standard FSC for the mask by phase randomisation (RELION
    /// `--solvent_correct_fsc`) instead of using the unmasked FSC.
    pub correct_fsc: bool,
}

/// A particle's new pose and statistics after one E-step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticleUpdate {
    /// Row in the input table.
    pub id: u64,
    /// Half set, 1 or 2.
    pub half: u8,
    /// The best pose (largest posterior weight).
    pub pose: PoseRecord,
    /// rlnLogLikeliContribution (the best CC in a cross-correlation iteration).
    pub log_likelihood: f64,
    /// rlnMaxValueProbDistribution.
    pub max_probability: f64,
    /// rlnNrOfSignificantSamples.
    pub significant_samples: usize,
    /// Symmetry-aware rotation angle between the previous and the new pose (degrees).
    pub angular_change_deg: f64,
    /// The new rlnNormCorrection (the previous one without norm correction).
    pub norm: f64,
}

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

/// The sums of one node of a half set's reduction tree ([`crate::reduction`]): of a range of
/// its blocks (a block: particles `block·B …` of one half set, B = the plan's block size,
/// blocks numbered over both halves, summed in id order). Blocks and the tree do not depend on
/// the worker count, so the half set's total has the same bits for any number of workers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockPartial {
    /// Half set, 1 or 2.
    pub half: u8,
    /// The tree node whose sum this is (its leaves are the half set's blocks, from 0).
    pub node: Node,
    /// Number of blocks of the half set (the tree's leaves; fixes its shape).
    pub leaves: u64,
    /// The node's sums, or why a particle of it failed (naming the particle).
    pub sums: Result<HalfSums, String>,
}

/// Statistics of one iteration over both halves.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct IterationStats {
    /// Number of particles.
    pub particles: usize,
    /// Mean Pmax (rlnAveragePmax).
    pub mean_max_probability: f64,
    /// Mean change of orientation since the previous iteration (degrees; RELION's mean angle
    /// between corresponding rows of the two rotation matrices, symmetry-aware).
    pub mean_angular_change_deg: f64,
    /// RMS change of origin per axis since the previous iteration, √(Σ|Δo|²/(2n)) (Å).
    pub rms_offset_change_angst: f64,
    /// Mean expected angular accuracy (degrees, rlnAccuracyRotations), when estimated.
    pub accuracy_rotation_deg: Option<f64>,
    /// Mean expected translational accuracy (Å, rlnAccuracyTranslationsAngst), when estimated.
    pub accuracy_translation_angst: Option<f64>,
    /// E-step evaluations (rotation × translation × Fourier pixel, both passes, all particles).
    pub evaluations: f64,
    /// Σ dLL (rlnLogLikelihood; Σ best CC in a cross-correlation iteration).
    pub log_likelihood: f64,
}

/// Maps of the final iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinalMaps {
    /// The reconstruction from both halves with the joined-halves τ² (run_class001.mrc).
    pub joined: MapRecord,
    /// Unregularised half maps from arrays taken before the low-resolution join
    /// (run_half{1,2}_class001_unfil.mrc).
    pub unfiltered: [MapRecord; 2],
}

/// The result of one M-step, identical on every worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Maximised {
    /// The plan the iteration ran with.
    pub plan: IterationPlan,
    /// New half maps (regularised, solvent-flattened except in the final iteration).
    pub maps: [MapRecord; 2],
    /// New noise models per half (σ² and scales unchanged after a cross-correlation
    /// iteration).
    pub noise: [NoiseModel; 2],
    /// Number of particles of each noise group, per half.
    pub group_particles: [Vec<usize>; 2],
    /// New offset-prior widths per half (Å).
    pub sigma_offset_angst: [f64; 2],
    /// Gold-standard FSC between the halves' accumulators, shells 0 … N/2 (FSC(0) = 1).
    pub fsc: Vec<f64>,
    /// SSNR per shell (rlnSsnrMap) of half 1 (of the joined data in the final iteration).
    pub ssnr: Vec<f64>,
    /// τ² per shell (rlnReferenceTau2) of half 1 (joined data in the final iteration).
    pub tau2: Vec<f64>,
    /// Every particle's update, in id order.
    pub updates: Vec<ParticleUpdate>,
    /// Statistics over both halves.
    pub stats: IterationStats,
    /// The final iteration's maps.
    pub final_maps: Option<FinalMaps>,
}
