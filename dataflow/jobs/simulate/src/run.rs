//! A `cryoflux simulate` run: its flags turned into a [`SimulationConfig`] of the map they name
//! (by default the bundled 1HPV map), the simulation, and its summary line.

use std::path::PathBuf;

use anyhow::{Context, ensure};

use cryoflux_jobkit::maps::read_map;

use crate::assets::{DEFAULT_MAP_NAME, default_map};
use crate::ctfs::{DefocusModel, Microscope};
use crate::movies::motion::MotionModel;
use crate::movies::{MovieSimulation, simulate_movies};
use crate::poses::poses_from_star;
use crate::star_in::ParticleRows;
use crate::{PoseSource, SimulationConfig, simulate};

/// A `cryoflux simulate` run (its flags).
#[derive(Debug, Clone, PartialEq)]
pub struct SimulateJob {
    /// Map to project (MRC, cubic, even box); default: the bundled HIV-1 protease map (PDB 1HPV,
    /// box 48, 1.8 Å/voxel).
    pub map: Option<PathBuf>,
    /// Voxel size of the map in Å, overriding its header (or the bundled map's 1.8 Å).
    pub angpix: Option<f64>,
    /// Output directory: particles.mrcs, particles.star, truth.star.
    pub output: PathBuf,
    /// Number of particles (default 1000; with --poses: one per row).
    pub count: Option<usize>,
    /// Take orientations and origins from this STAR file (rlnAngleRot/Tilt/Psi, optional
    /// rlnOriginXAngst/YAngst) instead of drawing them uniformly.
    pub poses: Option<PathBuf>,
    /// Seed of all random draws; the same seed gives byte-identical output.
    pub seed: u64,
    /// Signal-to-noise ratio: mean variance of the noise-free images over the noise variance.
    pub snr: f64,
    /// Write noise-free images (same scale as with noise).
    pub no_noise: bool,
    /// No CTF: pure projections (no defocus columns in the STAR files).
    pub no_ctf: bool,
    /// Smallest micrograph defocus in Å (underfocus positive).
    pub defocus_min: f64,
    /// Largest micrograph defocus in Å.
    pub defocus_max: f64,
    /// Largest astigmatism |DefocusU − DefocusV| of a micrograph in Å.
    pub astigmatism: f64,
    /// Standard deviation of a particle's defocus around its micrograph's, in Å.
    pub defocus_spread: f64,
    /// Consecutive particles sharing a micrograph (and its defocus).
    pub particles_per_micrograph: usize,
    /// Largest origin along x and y in Å (origins uniform in ±max).
    pub max_offset: f64,
    /// Acceleration voltage in kV.
    pub voltage: f64,
    /// Spherical aberration in mm.
    pub cs: f64,
    /// Amplitude contrast.
    pub q0: f64,
    /// Per-micrograph signal scale s_m = exp(X·z), z ~ N(0,1): the noise-free signal of every
    /// particle of micrograph m is multiplied by s_m (noise unchanged); truth.star gets
    /// rlnGroupScaleCorrection. 0 (default): off. At most 2.
    pub scale_spread: f64,
    /// Per-particle normalisation error f_i = exp(Y·z), z ~ N(0,1): the whole image (signal and
    /// noise) is multiplied by f_i; truth.star gets rlnNormCorrection. 0 (default): off. At
    /// most 2.
    pub norm_spread: f64,
    /// Worker threads (default: all cores); the output does not depend on it.
    pub threads: Option<usize>,
    /// Simulate movies instead of particle images (`--movies N`).
    pub movies: Option<MovieOptions>,
}

/// The flags of `cryoflux simulate --movies N` beyond those shared with particle simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct MovieOptions {
    /// Number of movies.
    pub count: usize,
    /// Frame width and height in pixels.
    pub size: [usize; 2],
    /// Frames per movie.
    pub frames: usize,
    /// Exposure per frame in e/Å².
    pub dose_per_frame: f64,
    /// Beam-induced motion (drift in Å; σ_vel, σ_div, σ_acc in RELION's polishing units).
    pub motion: MotionModel,
    /// Standard deviation of the gain reference's log-gain per pixel.
    pub gain_spread: f64,
    /// Number of hot pixels.
    pub hot_pixels: usize,
    /// Ice-thickness variations.
    pub ice: crate::movies::ice::IceModel,
    /// File format of the movies.
    pub format: crate::movies::MovieFormat,
}

/// Simulates the particles and logs one summary line.
pub fn run(args: &SimulateJob) -> anyhow::Result<()> {
    let (map, map_name) = match &args.map {
        Some(path) => (read_map(path, args.angpix)?, path.display().to_string()),
        None => {
            let map = default_map()?;
            let map = match args.angpix {
                Some(a) => map.with_pixel_size(a).context("--angpix")?,
                None => map,
            };
            (map, format!("bundled {DEFAULT_MAP_NAME}"))
        }
    };
    if let Some(movies) = &args.movies {
        return run_movies(args, movies, &map, &map_name);
    }
    let poses = match &args.poses {
        None => PoseSource::Random {
            count: args.count.unwrap_or(1000),
            max_offset: args.max_offset,
        },
        Some(path) => {
            let mut poses = poses_from_star(&ParticleRows::read(path)?, map.pixel_size())?;
            let count = args.count.unwrap_or(poses.len());
            ensure!(
                count <= poses.len(),
                "{}: {} poses, but --n asks for {count} particles",
                path.display(),
                poses.len()
            );
            poses.truncate(count);
            PoseSource::Given(poses)
        }
    };
    let (microscope, defocus) = optics(args);
    let config = SimulationConfig {
        poses,
        seed: args.seed,
        snr: args.snr,
        add_noise: !args.no_noise,
        ctf: (!args.no_ctf).then_some((microscope, defocus)),
        particles_per_micrograph: args.particles_per_micrograph,
        scale_spread: args.scale_spread,
        norm_spread: args.norm_spread,
    };
    let summary = thread_pool(args)?.install(|| simulate(&map, &config, &args.output))?;
    tracing::info!(
        "simulated {} particles of {map_name} (box {}, {} Å/px), SNR {}{}{} (signal variance \
         {:.4e}, noise σ {:.4e} before scaling to unit noise), in {:.2} s ({:.0} particles/s) → \
         {}, {}, {}",
        summary.particles,
        map.n(),
        map.pixel_size(),
        args.snr,
        if args.no_noise { ", noise-free" } else { "" },
        intensity_note(args),
        summary.mean_signal_variance,
        summary.noise_sigma,
        summary.seconds,
        summary.particles as f64 / summary.seconds,
        summary.stack.display(),
        summary.particles_star.display(),
        summary.truth_star.display()
    );
    Ok(())
}

/// The microscope and defocus distribution the flags describe.
fn optics(args: &SimulateJob) -> (Microscope, DefocusModel) {
    let microscope = Microscope {
        voltage_kv: args.voltage,
        cs_mm: args.cs,
        amplitude_contrast: args.q0,
    };
    let defocus = DefocusModel {
        min: args.defocus_min,
        max: args.defocus_max,
        astigmatism: args.astigmatism,
        spread: args.defocus_spread,
    };
    (microscope, defocus)
}

/// The worker threads `--j` asks for.
fn thread_pool(args: &SimulateJob) -> anyhow::Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("cannot start the worker threads")
}

/// Simulates movies (`--movies N`) and logs one summary line.
fn run_movies(
    args: &SimulateJob,
    movies: &MovieOptions,
    map: &cryoflux_kernels::grid::Volume,
    map_name: &str,
) -> anyhow::Result<()> {
    let (microscope, defocus) = optics(args);
    let config = MovieSimulation {
        movies: movies.count,
        width: movies.size[0],
        height: movies.size[1],
        frames: movies.frames,
        dose_per_frame: movies.dose_per_frame,
        particles_per_movie: args.particles_per_micrograph,
        snr: args.snr,
        motion: movies.motion,
        microscope,
        defocus,
        gain_spread: movies.gain_spread,
        hot_pixels: movies.hot_pixels,
        ice: movies.ice,
        format: movies.format,
        seed: args.seed,
    };
    let summary = thread_pool(args)?.install(|| simulate_movies(map, &config, &args.output))?;
    let particles: usize = summary.movies.iter().map(|m| m.particles.len()).sum();
    tracing::info!(
        "simulated {} movies of {}×{} px × {} frames ({} e/Å² per frame, {} Å/px) with {particles} particles of {map_name} at SNR {} (contrast {:.4e}) in {:.2} s → {}, truth in {}",
        movies.count,
        movies.size[0],
        movies.size[1],
        movies.frames,
        movies.dose_per_frame,
        map.pixel_size(),
        args.snr,
        summary.contrast,
        summary.seconds,
        summary.movies_star.display(),
        args.output.join("truth").display()
    );
    Ok(())
}

/// The intensity errors asked for, as a clause of the summary line (empty when none).
fn intensity_note(args: &SimulateJob) -> String {
    let mut note = String::new();
    if args.scale_spread > 0.0 {
        note += &format!(", micrograph scales exp({}·N(0,1))", args.scale_spread);
    }
    if args.norm_spread > 0.0 {
        note += &format!(", normalisation errors exp({}·N(0,1))", args.norm_spread);
    }
    note
}
