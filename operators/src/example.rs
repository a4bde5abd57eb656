//! A tiny refinement job for examples and tests, the way `timely::example` is a tiny
//! computation: a 16³ map of Gaussian blobs, 8 particles projected from it at known poses, the
//! block layout and both half sets' references with the plan of one iteration. Small enough
//! that one epoch of expectation and maximisation runs in well under a second, even with this
//! crate unoptimised.
//!
//! Not for jobs: the values are fixed for examples and may change with them.
//!
//! ```
//! use cryoflux_operators::example::{PARTICLES, tiny_job};
//!
//! let job = tiny_job();
//! assert_eq!(job.particles.len(), PARTICLES);
//! assert_eq!(job.layout.blocks, [2, 2]);
//! assert_eq!(job.references.len(), 2);
//! ```

use std::sync::Arc;
use std::sync::mpsc::Receiver;

use cryoflux_kernels::fourier::fft;
use cryoflux_kernels::fourier::projector::{Projector, ProjectorOptions};
use cryoflux_kernels::grid::Volume;
use cryoflux_kernels::random::SplitMix64;
use timely::dataflow::operators::capture::Event;
use timely::dataflow::operators::{Capture, ToStream};

use crate::records::{MapRecord, PoseRecord};
use crate::refine::expectation::expectation;
use crate::refine::projections::SharedProjections;
use crate::refine::records::{
    BlockPartial, IterationPlan, NoiseModel, ParticleRecord, ReferenceMsg,
};
use crate::refine::reduction::BlockLayout;
use crate::refine::scorer;

/// Box size of the tiny job (pixels).
pub const BOX: usize = 16;

/// Pixel size of the tiny job (Å).
pub const PIXEL: f64 = 4.0;

/// Number of particles of the tiny job (ids 0 … 7; even ids in half set 1, odd in half set 2).
pub const PARTICLES: usize = 8;

/// Real-space standard deviation of the white noise added to the particles.
pub const NOISE_STD: f64 = 0.5;

/// Everything one epoch of expectation and maximisation needs.
#[derive(Debug, Clone, PartialEq)]
pub struct TinyJob {
    /// The map the particles were projected from (16³, 4 Å voxels); also both references.
    pub map: MapRecord,
    /// The particles, in id order, with their true poses as current poses.
    pub particles: Vec<ParticleRecord>,
    /// The block layout of `particles` (2 blocks of 2 particles per half set).
    pub layout: BlockLayout,
    /// Both half sets' references for iteration 1 (half 1 first), each carrying [`plan`].
    pub references: Vec<ReferenceMsg>,
}

/// The tiny job; see the module doc.
pub fn tiny_job() -> TinyJob {
    let volume = blob_map();
    let map = MapRecord::from_volume(&volume);
    let projector = Projector::new(&volume, &ProjectorOptions::default())
        .expect("the tiny map makes a projector");
    let particles: Vec<ParticleRecord> = (0..PARTICLES as u64)
        .map(|id| simulate(&projector, id))
        .collect();
    let layout = BlockLayout::of(&particles);
    let noise = NoiseModel::new(vec![white_sigma2()], 1.0);
    let references = [1, 2]
        .into_iter()
        .map(|half| ReferenceMsg {
            half,
            map: map.clone(),
            noise: noise.clone(),
            ssnr: Vec::new(),
            sigma_offset_angst: 4.0,
            plan: plan(),
            solvent_mask: None,
        })
        .collect();
    TinyJob {
        map,
        particles,
        layout,
        references,
    }
}

/// The block partials of one epoch of expectation of `job` on one worker (one per half set),
/// for examples of what comes after it.
pub fn tiny_partials(job: &TinyJob) -> Vec<BlockPartial> {
    let job = job.clone();
    let events = timely::example(move |scope| {
        let particles = job.particles.to_stream(scope);
        let references = job.references.to_stream(scope);
        let progress = Arc::new(|_| {});
        let shared = SharedProjections::new(1);
        expectation(
            particles,
            references,
            job.layout,
            progress,
            shared,
            scorer::cpu(),
        )
        .capture()
    });
    captured(events).into_iter().map(|(_, p)| p).collect()
}

/// The plan of the tiny job's iteration 1: a global search at HEALPix order 0 (60°, fine pass
/// 30°), 8-pixel images in both passes, translations within 4 Å in steps of 4 Å, C1, blocks of
/// 2 particles, no accuracy estimates, no norm or scale correction.
pub fn plan() -> IterationPlan {
    IterationPlan {
        iteration: 1,
        final_iteration: false,
        current_size: 8,
        coarse_size: 8,
        healpix_order: 0,
        local_sigma_deg: None,
        symmetry: "C1".into(),
        offset_range_angst: 4.0,
        offset_step_angst: 4.0,
        perturbation_deg: 0.0,
        cross_correlation: false,
        ctf_intact_first_peak: false,
        accuracy_every: 0,
        seed: 1,
        particle_diameter_angst: 48.0,
        current_resolution_angst: 16.0,
        low_resolution_join_angst: 40.0,
        block_size: 2,
        norm_correction: false,
        scale_correction: false,
        max_significant: None,
    }
}

/// The true pose of particle `id` (origin 0).
pub fn true_pose(id: u64) -> PoseRecord {
    let i = id as f64;
    PoseRecord {
        rot: (37.0 * i) % 360.0,
        tilt: 20.0 + 17.0 * i,
        psi: (53.0 * i) % 360.0,
        origin_angst: [0.0, 0.0],
    }
}

/// The data messages of a captured stream (`timely`'s `capture()`), in arrival order, with
/// their times.
pub fn captured<T: Clone, D>(events: Receiver<Event<T, Vec<D>>>) -> Vec<(T, D)> {
    events
        .try_iter()
        .flat_map(|event| match event {
            Event::Messages(time, data) => data
                .into_iter()
                .map(|d| (time.clone(), d))
                .collect::<Vec<_>>(),
            Event::Progress(_) => Vec::new(),
        })
        .collect()
}

impl ParticleRecord {
    /// A placeholder particle for tests of routing and bookkeeping: particle `id` of half set
    /// `half` in block `block`, a 2×2 zero image of 1 Å pixels, no CTF, the zero pose, noise
    /// group 0, norm correction 1.
    pub fn fixture(id: u64, half: u8, block: u64) -> Self {
        Self {
            id,
            half,
            block,
            box_size: 2,
            pixel_size: 1.0,
            image: vec![0.0; 4],
            ctf: None,
            pose: PoseRecord::default(),
            group: 0,
            norm: 1.0,
        }
    }
}

/// Six Gaussian blobs (centres within 4 px of the middle, widths 1.2–2 px) in a 16³ box: an
/// asymmetric particle.
fn blob_map() -> Volume {
    const BLOBS: [([f64; 3], f64, f64); 6] = [
        ([0.0, 0.0, 0.0], 2.0, 1.0),
        ([3.0, 0.0, 0.0], 1.5, 0.8),
        ([0.0, -3.5, 1.0], 1.2, 1.2),
        ([-2.0, 1.0, 3.0], 1.4, 0.6),
        ([1.0, 2.5, -2.5], 1.6, 0.9),
        ([-3.0, -1.5, -1.0], 1.2, 0.7),
    ];
    Volume::from_fn(BOX, PIXEL, |x| {
        BLOBS
            .iter()
            .map(|(c, s, a)| {
                let d2: f64 = (0..3).map(|i| (x[i] - c[i]).powi(2)).sum();
                a * (-d2 / (2.0 * s * s)).exp()
            })
            .sum::<f64>() as f32
    })
    .expect("a 16³ box is valid")
}

/// Particle `id`: the projection at its true pose plus white noise, in half set 1 + id mod 2,
/// blocks of 2 numbered over half 1 then half 2.
fn simulate(projector: &Projector, id: u64) -> ParticleRecord {
    let pose = true_pose(id);
    let slice = projector
        .project(&pose.matrix(), BOX)
        .expect("the projector's box");
    let mut image = fft::inverse(&slice);
    let mut random = SplitMix64::keyed(7, &[id]);
    image
        .data_mut()
        .iter_mut()
        .for_each(|v| *v += (NOISE_STD * random.next_normal()) as f32);
    let half = 1 + (id % 2) as u8;
    let within_half = id / 2;
    let half_blocks = (PARTICLES as u64 / 2).div_ceil(2);
    let block = within_half / 2 + if half == 2 { half_blocks } else { 0 };
    ParticleRecord {
        image: image.data().to_vec(),
        box_size: BOX,
        pixel_size: PIXEL,
        pose,
        ..ParticleRecord::fixture(id, half, block)
    }
}

/// σ²(r) of the white noise in RELION's units: std²/(2N²) at every shell 0 … N/2.
fn white_sigma2() -> Vec<f64> {
    vec![NOISE_STD * NOISE_STD / (2.0 * (BOX * BOX) as f64); BOX / 2 + 1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryoflux_kernels::geometry::euler::euler_to_matrix;

    #[test]
    fn the_tiny_job_is_consistent() {
        let job = tiny_job();
        assert_eq!(job.map.box_size, BOX);
        let halves: Vec<u8> = job.particles.iter().map(|p| p.half).collect();
        assert_eq!(halves, [1, 2, 1, 2, 1, 2, 1, 2]);
        let blocks: Vec<u64> = job.particles.iter().map(|p| p.block).collect();
        assert_eq!(blocks, [0, 2, 0, 2, 1, 3, 1, 3]);
        let p = true_pose(3);
        assert_eq!(p.matrix(), euler_to_matrix(p.rot, p.tilt, p.psi));
        assert!(
            job.particles
                .iter()
                .all(|p| p.image.iter().any(|&v| v != 0.0))
        );
    }
}
