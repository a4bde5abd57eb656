//! Ground-truth particle simulation: noisy, CTF-modulated projections of a map at known poses,
//! written as a RELION 3.1 particle set (`particles.mrcs`, `particles.star`) plus the truth
//! (`truth.star`: the same rows with the true `rlnAngleRot/Tilt/Psi`, `rlnOriginXAngst/YAngst`).
//!
//! Image formation ([`formation`]): central slice of the map at the pose, times the CTF, moved by
//! −origin, back to real space, plus white Gaussian noise. Signal-to-noise ratio: **SNR = the
//! variance over the whole box of the noise-free CTF-modulated images, averaged over all
//! particles, divided by the noise variance.** Images are scaled so that the noise has variance
//! 1 (as relion_preprocess normalises the background), so the signal's mean variance is SNR.
//!
//! Every random draw comes from a stream keyed by (seed, purpose, particle or micrograph index)
//! ([`rng`]), so the output is byte-identical for a given seed whatever the thread count, and
//! switching noise off leaves poses and defoci unchanged.

pub mod assets;
pub mod ctfs;
pub mod formation;
pub mod poses;
pub mod projection;
pub mod rng;
pub mod stack;
pub mod star_in;
pub mod star_out;

use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use cryoflux_kernels::grid::Volume;
use rayon::prelude::*;

use ctfs::{DefocusModel, Microscope};
use formation::{ImageFormer, variance_of_transform};
use poses::{Pose, random_pose};
use rng::{Purpose, Rng};
use stack::write_stack;
use star_out::{ImageRecord, image_name, particle_star};

/// Where the particles' poses come from.
#[derive(Debug, Clone, PartialEq)]
pub enum PoseSource {
    /// `count` uniform random orientations with origins uniform in ±`max_offset` Å.
    Random {
        /// Number of particles.
        count: usize,
        /// Largest |origin| along x and y, in Å.
        max_offset: f64,
    },
    /// One particle per given pose, in order.
    Given(Vec<Pose>),
}

/// Everything a simulation needs besides the map.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationConfig {
    /// The particles' poses.
    pub poses: PoseSource,
    /// Seed of every random stream.
    pub seed: u64,
    /// Signal-to-noise ratio as defined in the module doc (> 0).
    pub snr: f64,
    /// Add the noise (false: noise-free images on the same scale, for checks).
    pub add_noise: bool,
    /// Microscope and defocus distribution, or `None` for images without CTF.
    pub ctf: Option<(Microscope, DefocusModel)>,
    /// Consecutive particles sharing one micrograph (and its defocus), ≥ 1.
    pub particles_per_micrograph: usize,
}

impl SimulationConfig {
    /// A typical single-particle data set: `count` uniform random poses with origins within
    /// ±3 Å, a 300 kV Krios ([`Microscope::default`]), defoci of [`DefocusModel::typical`],
    /// 50 particles per micrograph, noise at `snr`.
    pub fn typical(count: usize, seed: u64, snr: f64) -> Self {
        SimulationConfig {
            poses: PoseSource::Random {
                count,
                max_offset: 3.0,
            },
            seed,
            snr,
            add_noise: true,
            ctf: Some((Microscope::default(), DefocusModel::typical())),
            particles_per_micrograph: 50,
        }
    }
}

/// What a simulation wrote and measured.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationSummary {
    /// Number of particles written.
    pub particles: usize,
    /// Mean variance of the noise-free images before scaling (map units × pixels, squared).
    pub mean_signal_variance: f64,
    /// Standard deviation of the noise before scaling (map units × pixels); images were
    /// divided by it.
    pub noise_sigma: f64,
    /// The image stack written.
    pub stack: PathBuf,
    /// The particle file (no poses).
    pub particles_star: PathBuf,
    /// The ground-truth particle file (with poses).
    pub truth_star: PathBuf,
    /// Wall-clock time of the simulation in seconds.
    pub seconds: f64,
}

/// Simulates particles of `map` into `out_dir` (created if needed). Inputs are checked before
/// anything is written; the stack and STAR files appear atomically.
pub fn simulate(
    map: &Volume,
    config: &SimulationConfig,
    out_dir: &Path,
) -> anyhow::Result<SimulationSummary> {
    let start = Instant::now();
    check(config)?;
    let former = ImageFormer::new(map)?;
    let stack = out_dir.join("particles.mrcs");
    let records = records(config, &relion_path(&stack));
    let n = records.len();

    let variances = records
        .par_iter()
        .map(|r| {
            Ok(variance_of_transform(
                &former.centred_transform(&r.pose, r.ctf.as_ref())?,
            ))
        })
        .collect::<anyhow::Result<Vec<f64>>>()?;
    let mean_signal_variance = variances.iter().sum::<f64>() / n as f64;
    ensure!(
        mean_signal_variance > 0.0,
        "the map's projections are flat (zero variance): is the map empty?"
    );
    let noise_sigma = (mean_signal_variance / config.snr).sqrt();

    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create the output directory {}", out_dir.display()))?;
    let (box_size, pixel) = (former.box_size(), former.pixel_size());
    write_stack(&stack, n, box_size, pixel, |i| {
        let r = &records[i];
        let mut data = former.image(&r.pose, r.ctf.as_ref())?.into_vec();
        scale_and_add_noise(&mut data, noise_sigma, config, i);
        Ok(data)
    })?;

    let particles_star = out_dir.join("particles.star");
    let truth_star = out_dir.join("truth.star");
    particle_star(&records, pixel, box_size, false).write(&particles_star)?;
    particle_star(&records, pixel, box_size, true).write(&truth_star)?;
    Ok(SimulationSummary {
        particles: n,
        mean_signal_variance,
        noise_sigma,
        stack,
        particles_star,
        truth_star,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Refuses configurations that cannot give a meaningful simulation.
fn check(config: &SimulationConfig) -> anyhow::Result<()> {
    match &config.poses {
        PoseSource::Random { count, max_offset } => {
            ensure!(
                *count > 0,
                "the number of particles is 0; expected at least 1"
            );
            ensure!(
                max_offset.is_finite() && *max_offset >= 0.0,
                "maximum offset {max_offset} Å; expected a finite value ≥ 0"
            );
        }
        PoseSource::Given(poses) => ensure!(!poses.is_empty(), "no poses given"),
    }
    ensure!(
        config.snr.is_finite() && config.snr > 0.0,
        "SNR {}; expected a finite value > 0",
        config.snr
    );
    ensure!(
        config.particles_per_micrograph > 0,
        "0 particles per micrograph; expected at least 1"
    );
    if let Some((_, d)) = &config.ctf {
        let finite = [d.min, d.max, d.astigmatism, d.spread]
            .iter()
            .all(|v| v.is_finite());
        if !(finite && 0.0 <= d.min && d.min <= d.max && d.astigmatism >= 0.0 && d.spread >= 0.0) {
            bail!(
                "defocus range {}–{} Å, astigmatism {} Å, spread {} Å; expected \
                 0 ≤ min ≤ max and non-negative astigmatism and spread",
                d.min,
                d.max,
                d.astigmatism,
                d.spread
            );
        }
    }
    Ok(())
}

/// One record per particle: image name, micrograph, pose and CTF.
fn records(config: &SimulationConfig, stack: &str) -> Vec<ImageRecord> {
    let poses: Vec<Pose> = match &config.poses {
        PoseSource::Random { count, max_offset } => (0..*count)
            .map(|i| {
                random_pose(
                    &mut Rng::stream(config.seed, Purpose::Pose, i as u64),
                    *max_offset,
                )
            })
            .collect(),
        PoseSource::Given(poses) => poses.clone(),
    };
    poses
        .into_iter()
        .enumerate()
        .map(|(i, pose)| {
            let micrograph = i / config.particles_per_micrograph;
            ImageRecord {
                image_name: image_name(i, stack),
                micrograph: Some(format!("micrographs/mic{:05}.mrc", micrograph + 1)),
                pose,
                ctf: config
                    .ctf
                    .as_ref()
                    .map(|(scope, model)| model.draw(scope, config.seed, micrograph, i)),
            }
        })
        .collect()
}

/// Divides a noise-free image by the noise s.d. and, if asked, adds unit-variance white noise
/// from particle `index`'s noise stream.
fn scale_and_add_noise(data: &mut [f32], sigma: f64, config: &SimulationConfig, index: usize) {
    let mut rng = Rng::stream(config.seed, Purpose::Noise, index as u64);
    for pair in data.chunks_mut(2) {
        let noise = if config.add_noise {
            rng.normal_pair()
        } else {
            [0.0; 2]
        };
        for (v, e) in pair.iter_mut().zip(noise) {
            *v = (f64::from(*v) / sigma + e) as f32;
        }
    }
}

/// `path` as RELION writes it in `rlnImageName`: as given (relative to the working directory, or
/// absolute), without `./` components.
pub fn relion_path(path: &Path) -> String {
    path.components()
        .filter(|c| *c != Component::CurDir)
        .collect::<PathBuf>()
        .display()
        .to_string()
}
