//! The records that flow through the refinement dataflow.
//!
//! - [`ParticleRecord`]: one particle with its image, CTF and current pose; sent once at epoch
//!   0 and kept by the expectation operator of the worker that owns its block.
//! - [`ReferenceMsg`]: per half set, the reference map, its noise model and the iteration's
//!   [`IterationPlan`] (half 1's also the [`SolventMask`]); broadcast to every worker once per
//!   iteration (epoch = iteration − 1).
//! - [`BlockPartial`]: the [`HalfSums`] of a node of a half set's reduction tree (a fixed
//!   range of its blocks of particles), exchanged to worker 0.
//! - [`Maximised`]: the M-step result (new references, FSC, σ², particle updates), broadcast
//!   back to every worker.
//!
//! The records shared with other job families (CTF, pose, map) are in [`crate::records`].
//!
//! Units: lengths in Å unless named `_px`/`size` (pixels); angles in degrees; σ² and powers in
//! RELION's FFT units (forward transform divided by N²).

use serde::{Deserialize, Serialize};

use super::reduction::Node;
use super::sums::HalfSums;
use crate::records::{CtfRecord, MapRecord, PoseRecord};

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
    /// Cap on the significant coarse samples of a particle (RELION `--maxsig`; `None`: the
    /// E-step's default, `cryoflux_kernels::estep::DEFAULT_SIGNIFICANT_CAP`).
    pub max_significant: Option<usize>,
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

/// The sums of one node of a half set's reduction tree ([`super::reduction`]): of a range of
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refine::maximisation::MResult;
    use cryoflux_kernels::grid::{Complex32, FourierImage, HalfGrid};
    use serde::{Serialize, de::DeserializeOwned};
    use timely::Bincode;
    use timely::bytes::arc::BytesMut;
    use timely::communication::Bytesable;

    /// `value` after the bincode round trip timely applies between processes.
    fn across_processes<T: Serialize + DeserializeOwned + Send + 'static>(value: T) -> T {
        let mut bytes = Vec::new();
        Bincode::from(value).into_bytes(&mut bytes);
        Bincode::<T>::from_bytes(BytesMut::from(bytes).freeze()).payload
    }

    fn plan() -> IterationPlan {
        IterationPlan {
            iteration: 2,
            final_iteration: false,
            current_size: 8,
            coarse_size: 6,
            healpix_order: 1,
            local_sigma_deg: Some(7.5),
            symmetry: "D2".into(),
            offset_range_angst: 4.0,
            offset_step_angst: 2.0,
            perturbation_deg: -1.25,
            cross_correlation: false,
            ctf_intact_first_peak: true,
            accuracy_every: 3,
            seed: 11,
            particle_diameter_angst: 60.0,
            current_resolution_angst: 12.5,
            low_resolution_join_angst: 40.0,
            block_size: 32,
            norm_correction: true,
            scale_correction: true,
            max_significant: None,
        }
    }

    fn map() -> MapRecord {
        MapRecord {
            box_size: 2,
            pixel_size: 1.8,
            data: vec![0.5, -1.0, 2.0, f32::MIN_POSITIVE, 3.0, 4.0, 5.0, 6.0],
        }
    }

    fn sums() -> HalfSums {
        let mut sums = HalfSums::new(8, 1.8, 2).unwrap();
        let mut image = FourierImage::zeros(8, 1.8).unwrap();
        image.data_mut().iter_mut().enumerate().for_each(|(i, v)| {
            *v = Complex32::new(i as f32 * 0.1, 1.0 / (i as f32 + 3.0));
        });
        let weights =
            HalfGrid::<f32, 2>::from_vec(8, 1.8, vec![0.7; HalfGrid::<f32, 2>::len_for(8)])
                .unwrap();
        let pose = PoseRecord {
            rot: 10.0,
            tilt: 20.0,
            psi: 30.0,
            origin_angst: [1.5, -0.5],
        };
        sums.backprojector
            .backproject(&image, &weights, &pose.matrix())
            .unwrap();
        sums.groups[1].noise_power[2] = 0.25;
        sums.groups[1].scale_xa = 0.5;
        sums.groups[1].scale_aa = 0.75;
        sums.groups[1].weight_sum = 1.0;
        sums.groups[1].particles = 1;
        sums.weight_sum = 1.0;
        sums.norm_sum = 0.625;
        sums.particles = 1;
        sums.updates.push(ParticleUpdate {
            id: 7,
            half: 2,
            pose,
            log_likelihood: -123.456,
            max_probability: 0.875,
            significant_samples: 12,
            angular_change_deg: 3.5,
            norm: 0.625,
        });
        sums
    }

    #[test]
    fn block_partials_cross_processes_unchanged() {
        let partial = BlockPartial {
            half: 2,
            node: Node { level: 2, index: 1 },
            leaves: 7,
            sums: Ok(sums()),
        };
        let back = across_processes(partial.clone());
        assert!(
            back.sums.as_ref().unwrap().backprojector.weight().data()[..]
                .iter()
                .any(|&w| w > 0.0)
        );
        assert_eq!(back, partial);
        let failed = BlockPartial {
            half: 1,
            node: Node::leaf(0),
            leaves: 1,
            sums: Err("particle 4: non-finite pixel".into()),
        };
        assert_eq!(across_processes(failed.clone()), failed);
    }

    #[test]
    fn particles_references_and_results_cross_processes_unchanged() {
        let particle = ParticleRecord {
            id: 5,
            half: 1,
            block: 2,
            box_size: 2,
            pixel_size: 1.8,
            image: vec![1.0, -2.0, 3.5, 0.0],
            ctf: Some(CtfRecord {
                voltage_kv: 300.0,
                cs_mm: 2.7,
                amplitude_contrast: 0.1,
                defocus_u: 15000.0,
                defocus_v: 14500.0,
                defocus_angle_deg: 33.0,
                phase_shift_deg: 0.0,
                bfactor: 0.0,
                scale: 1.0,
            }),
            pose: PoseRecord::default(),
            group: 3,
            norm: 1.25,
        };
        assert_eq!(across_processes(particle.clone()), particle);
        let reference = ReferenceMsg {
            half: 2,
            map: map(),
            noise: NoiseModel {
                sigma2: vec![vec![1.0, 0.5, 0.25], vec![2.0, 1.0, 0.5]],
                scales: vec![0.75, 1.25],
                average_norm: 0.875,
            },
            ssnr: vec![100.0, 4.0, 0.5],
            sigma_offset_angst: 3.0,
            plan: plan(),
            solvent_mask: Some(SolventMask {
                map: map(),
                correct_fsc: true,
            }),
        };
        assert_eq!(across_processes(reference.clone()), reference);
        let without_mask = ReferenceMsg {
            solvent_mask: None,
            ..reference
        };
        assert_eq!(across_processes(without_mask.clone()), without_mask);
        let result: MResult = Ok(Maximised {
            plan: plan(),
            maps: [map(), map()],
            noise: [
                NoiseModel::new(vec![vec![1.0, 2.0]], 1.0),
                NoiseModel::new(vec![vec![3.0, 4.0]], 0.5),
            ],
            group_particles: [vec![3], vec![4]],
            sigma_offset_angst: [2.0, 2.5],
            fsc: vec![1.0, 0.9, 0.1],
            ssnr: vec![10.0, 1.0, 0.0],
            tau2: vec![5.0, 0.5, 0.0],
            updates: sums().updates,
            stats: IterationStats {
                particles: 1,
                mean_max_probability: 0.875,
                mean_angular_change_deg: 3.5,
                rms_offset_change_angst: 0.25,
                accuracy_rotation_deg: Some(2.5),
                accuracy_translation_angst: None,
                evaluations: 1.5e9,
                log_likelihood: -123.456,
            },
            final_maps: Some(FinalMaps {
                joined: map(),
                unfiltered: [map(), map()],
            }),
        });
        assert_eq!(across_processes(vec![result.clone()]), vec![result]);
    }
}
