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
//! Optional intensity errors ([`intensity`]), for testing RELION's `--scale` and `--norm`:
//! particle i on micrograph m is recorded as
//!
//! ```text
//! X_i = f_i · (s_m · P_i / σ + n_i),   n_i white, unit variance,
//! ```
//!
//! with P_i the noise-free image, σ the noise s.d. set by the SNR, s_m the micrograph's signal
//! scale and f_i the particle's normalisation error. **The SNR and σ are those of s = f = 1**:
//! they do not depend on the factors, so micrograph m's own SNR is s_m² · SNR (f_i scales
//! signal and noise alike and leaves it unchanged), and particle i's noise variance is f_i².
//! `truth.star` states s_m as `rlnGroupScaleCorrection` and f_i as `rlnNormCorrection`, each
//! only when its spread is > 0 (absent means exactly 1, RELION's default, and keeps the files of
//! a simulation without intensity errors as they were); `particles.star` has neither.
//!
//! Every random draw comes from a stream keyed by (seed, purpose, particle or micrograph index)
//! ([`rng`]), so the output is byte-identical for a given seed whatever the thread count, and
//! switching noise off leaves poses and defoci unchanged.

pub mod assets;
pub mod ctfs;
pub mod formation;
pub mod intensity;
pub mod movies;
pub mod poses;
pub mod project;
pub mod projection;
pub mod rng;
pub mod run;
pub mod stack;
pub mod star_in;
pub mod star_out;

use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use cryoflux_kernels::grid::Volume;
use rayon::prelude::*;

use cryoflux_jobkit::particles::Pose;
use ctfs::{DefocusModel, Microscope};
use formation::{ImageFormer, variance_of_transform};
use intensity::{IntensityFactors, check_spread};
use poses::random_pose;
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
    /// Standard deviation of ln s_m, the per-micrograph signal scale (dimensionless, 0 = off).
    pub scale_spread: f64,
    /// Standard deviation of ln f_i, the per-particle normalisation error (dimensionless,
    /// 0 = off).
    pub norm_spread: f64,
}

impl SimulationConfig {
    /// A typical single-particle data set: `count` uniform random poses with origins within
    /// ±3 Å, a 300 kV Krios ([`Microscope::default`]), defoci of [`DefocusModel::typical`],
    /// 50 particles per micrograph, noise at `snr`, no intensity errors.
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
            scale_spread: 0.0,
            norm_spread: 0.0,
        }
    }
}

/// What a simulation wrote and measured.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationSummary {
    /// Number of particles written.
    pub particles: usize,
    /// Mean variance of the noise-free images before scaling, without intensity errors
    /// (s = f = 1; map units × pixels, squared).
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
        record(&mut data, noise_sigma, &r.intensity, config, i);
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
    check_spread("scale_spread", config.scale_spread)?;
    check_spread("norm_spread", config.norm_spread)?;
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

/// One record per particle: image name, micrograph, pose, CTF and intensity factors.
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
                intensity: IntensityFactors::draw(
                    config.seed,
                    config.scale_spread,
                    config.norm_spread,
                    micrograph,
                    i,
                ),
            }
        })
        .collect()
}

/// Turns noise-free image `index` into the recorded one: f · (s · image / σ + noise) with s and f
/// of `factors` and, if asked, unit-variance white noise from the particle's noise stream.
fn record(
    data: &mut [f32],
    sigma: f64,
    factors: &IntensityFactors,
    config: &SimulationConfig,
    index: usize,
) {
    let (s, f) = (factors.signal_scale(), factors.image_scale());
    let mut rng = Rng::stream(config.seed, Purpose::Noise, index as u64);
    for pair in data.chunks_mut(2) {
        let noise = if config.add_noise {
            rng.normal_pair()
        } else {
            [0.0; 2]
        };
        for (v, e) in pair.iter_mut().zip(noise) {
            // Multiplying by s = 1 or f = 1 is exact: outputs without the factors are unchanged.
            *v = ((f64::from(*v) * s / sigma + e) * f) as f32;
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

#[cfg(test)]
mod tests {
    use super::*;
    use assets::default_map;
    use cryoflux_formats::mrc::MrcFile;
    use cryoflux_formats::star::StarFile;

    /// `cryoflux simulate --n COUNT --seed 7`'s configuration (bundled 1HPV map, box 48) with the
    /// given micrograph size and intensity spreads.
    fn config(count: usize, per_micrograph: usize, scale: f64, norm: f64) -> SimulationConfig {
        SimulationConfig {
            poses: PoseSource::Random {
                count,
                max_offset: 5.0,
            },
            particles_per_micrograph: per_micrograph,
            scale_spread: scale,
            norm_spread: norm,
            ..SimulationConfig::typical(count, 7, 0.05)
        }
    }

    /// What one simulation wrote: its images and its truth and particle files.
    struct Written {
        images: Vec<Vec<f32>>,
        truth: StarFile,
        particles: StarFile,
    }

    impl Written {
        /// One column of the particles table of the truth file, if present.
        fn truth_column(&self, label: &str) -> Option<Vec<f64>> {
            let table = self.truth.block("particles")?.table.as_ref()?;
            table.floats(label).map(<[f64]>::to_vec)
        }
    }

    /// Simulates `config` into a fresh directory on `threads` worker threads.
    fn run(config: &SimulationConfig, threads: usize) -> Written {
        let dir = tempfile::tempdir().unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let summary = pool
            .install(|| simulate(&default_map().unwrap(), config, dir.path()))
            .unwrap();
        let stack = MrcFile::open(&summary.stack).unwrap();
        Written {
            images: (0..stack.image_count())
                .map(|i| stack.read_image(i).unwrap())
                .collect(),
            truth: StarFile::read(&summary.truth_star).unwrap(),
            particles: StarFile::read(&summary.particles_star).unwrap(),
        }
    }

    /// Asserts that every image of `scaled` is `factor(i)` times image i of `base` (to float32
    /// rounding).
    fn assert_scaled(scaled: &Written, base: &Written, factor: impl Fn(usize) -> f64) {
        for (i, (a, b)) in scaled.images.iter().zip(&base.images).enumerate() {
            let f = factor(i);
            let peak = a.iter().fold(0.0f64, |m, &v| m.max(f64::from(v).abs()));
            let worst = a
                .iter()
                .zip(b)
                .map(|(&a, &b)| (f64::from(a) - f * f64::from(b)).abs())
                .fold(0.0, f64::max);
            assert!(
                worst <= 1e-6 * peak,
                "image {i}: off by {worst} (peak {peak}, factor {f})"
            );
        }
    }

    const FACTOR_LABELS: [&str; 2] = ["rlnGroupScaleCorrection", "rlnNormCorrection"];

    #[test]
    fn without_intensity_errors_the_output_is_as_before() {
        let out = run(&config(6, 50, 0.0, 0.0), 1);
        // Pixels of `cryoflux simulate --n 6 --seed 7` before the intensity errors existed.
        let pixel = |i: usize, y: usize, x: usize| out.images[i][y * 48 + x];
        assert_eq!(pixel(0, 10, 20), -1.002_907_4);
        assert_eq!(pixel(0, 24, 24), 1.612_768);
        assert_eq!(pixel(5, 30, 7), -0.562_964_5);
        assert_eq!(pixel(5, 0, 0), -0.891_727_4);
        for label in FACTOR_LABELS {
            assert!(out.truth_column(label).is_none(), "{label}");
        }
    }

    #[test]
    fn micrograph_scale_multiplies_the_noise_free_signal() {
        let clean = |scale| SimulationConfig {
            add_noise: false,
            ..config(7, 3, scale, 0.0)
        };
        let scaled = run(&clean(0.3), 1);
        let plain = run(&clean(0.0), 1);
        let s = scaled.truth_column("rlnGroupScaleCorrection").unwrap();
        // Micrographs of 3 particles: 0–2, 3–5, 6.
        assert!(s[0] == s[1] && s[1] == s[2] && s[3] == s[5]);
        assert!(s[0] != s[3] && s[3] != s[6]);
        assert_scaled(&scaled, &plain, |i| s[i]);
        assert!(scaled.truth_column("rlnNormCorrection").is_none());
    }

    #[test]
    fn normalisation_error_multiplies_the_whole_noisy_image() {
        let with_norm = run(&config(5, 3, 0.3, 0.2), 1);
        let without = run(&config(5, 3, 0.3, 0.0), 1);
        let f = with_norm.truth_column("rlnNormCorrection").unwrap();
        assert!(f.windows(2).all(|w| w[0] != w[1]), "{f:?}");
        assert_scaled(&with_norm, &without, |i| f[i]);
        assert_eq!(
            with_norm.truth_column("rlnGroupScaleCorrection"),
            without.truth_column("rlnGroupScaleCorrection")
        );
        let particles = with_norm.particles.block("particles").unwrap();
        for label in FACTOR_LABELS {
            assert!(particles.table.as_ref().unwrap().column(label).is_none());
        }
    }

    #[test]
    fn intensity_errors_do_not_depend_on_the_thread_count() {
        let both = config(12, 4, 0.3, 0.2);
        let (one, two) = (run(&both, 1), run(&both, 2));
        assert!(one.images == two.images);
        for label in FACTOR_LABELS {
            assert!(one.truth_column(label).is_some(), "{label}");
            assert_eq!(one.truth_column(label), two.truth_column(label), "{label}");
        }
    }

    #[test]
    fn bad_spreads_are_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("sim");
        let map = default_map().unwrap();
        for (bad, start) in [
            (config(3, 3, -0.5, 0.0), "scale_spread -0.5;"),
            (config(3, 3, 0.0, f64::NAN), "norm_spread NaN;"),
        ] {
            let message = simulate(&map, &bad, &out).unwrap_err().to_string();
            assert!(message.starts_with(start), "{message}");
            assert!(!out.exists());
        }
    }
}
