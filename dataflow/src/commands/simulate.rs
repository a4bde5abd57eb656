//! `cryoflux simulate`: ground-truth particles of a map (by default the bundled 1HPV map) at
//! random or given poses, with CTF, noise and optional intensity errors (per-micrograph signal
//! scales, per-particle normalisation errors); see [`cryoflux_simulate`] for the model.

use std::path::PathBuf;

use cryoflux_jobkit::job_directory::JobFiles;
use cryoflux_simulate::movies::MovieFormat;
use cryoflux_simulate::movies::ice::IceModel;
use cryoflux_simulate::movies::motion::MotionModel;
use cryoflux_simulate::run::{MovieOptions, SimulateJob};

/// Arguments of `cryoflux simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Map to project (MRC, cubic, even box); default: the bundled HIV-1 protease map (PDB 1HPV,
    /// box 48, 1.8 Å/voxel).
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Voxel size of the map in Å, overriding its header (or the bundled map's 1.8 Å).
    #[arg(long, value_name = "Å")]
    pub angpix: Option<f64>,
    /// Output directory: particles.mrcs, particles.star, truth.star.
    #[arg(long = "o", visible_alias = "out", value_name = "DIR")]
    pub output: PathBuf,
    /// Number of particles (default 1000; with --poses: one per row).
    #[arg(long = "n", visible_alias = "particles", value_name = "N")]
    pub count: Option<usize>,
    /// Take orientations and origins from this STAR file (rlnAngleRot/Tilt/Psi, optional
    /// rlnOriginXAngst/YAngst) instead of drawing them uniformly.
    #[arg(long, value_name = "FILE.star")]
    pub poses: Option<PathBuf>,
    /// Seed of all random draws; the same seed gives byte-identical output.
    #[arg(long, visible_alias = "random_seed", default_value_t = 1)]
    pub seed: u64,
    /// Signal-to-noise ratio: mean variance of the noise-free images over the noise variance.
    #[arg(long, default_value_t = 0.05)]
    pub snr: f64,
    /// Write noise-free images (same scale as with noise).
    #[arg(long = "no_noise")]
    pub no_noise: bool,
    /// No CTF: pure projections (no defocus columns in the STAR files).
    #[arg(long = "no_ctf")]
    pub no_ctf: bool,
    /// Smallest micrograph defocus in Å (underfocus positive).
    #[arg(long = "defocus_min", value_name = "Å", default_value_t = 10_000.0)]
    pub defocus_min: f64,
    /// Largest micrograph defocus in Å.
    #[arg(long = "defocus_max", value_name = "Å", default_value_t = 25_000.0)]
    pub defocus_max: f64,
    /// Largest astigmatism |DefocusU − DefocusV| of a micrograph in Å.
    #[arg(long, value_name = "Å", default_value_t = 500.0)]
    pub astigmatism: f64,
    /// Standard deviation of a particle's defocus around its micrograph's, in Å.
    #[arg(long = "defocus_spread", value_name = "Å", default_value_t = 50.0)]
    pub defocus_spread: f64,
    /// Consecutive particles sharing a micrograph (and its defocus).
    #[arg(
        long = "particles_per_micrograph",
        value_name = "N",
        default_value_t = 50
    )]
    pub particles_per_micrograph: usize,
    /// Largest origin along x and y in Å (origins uniform in ±max).
    #[arg(long = "max_offset", value_name = "Å", default_value_t = 5.0)]
    pub max_offset: f64,
    /// Acceleration voltage in kV.
    #[arg(long, value_name = "kV", default_value_t = 300.0)]
    pub voltage: f64,
    /// Spherical aberration in mm.
    #[arg(long, value_name = "mm", default_value_t = 2.7)]
    pub cs: f64,
    /// Amplitude contrast.
    #[arg(long, default_value_t = 0.1)]
    pub q0: f64,
    /// Per-micrograph signal scale s_m = exp(X·z), z ~ N(0,1): the noise-free signal of every
    /// particle of micrograph m is multiplied by s_m (noise unchanged); truth.star gets
    /// rlnGroupScaleCorrection. 0 (default): off. At most 2.
    #[arg(long = "scale_spread", value_name = "X", default_value_t = 0.0)]
    pub scale_spread: f64,
    /// Per-particle normalisation error f_i = exp(Y·z), z ~ N(0,1): the whole image (signal and
    /// noise) is multiplied by f_i; truth.star gets rlnNormCorrection. 0 (default): off. At
    /// most 2.
    #[arg(long = "norm_spread", value_name = "Y", default_value_t = 0.0)]
    pub norm_spread: f64,
    /// Worker threads (default: all cores); the output does not depend on it.
    #[arg(long = "j", visible_alias = "threads", value_name = "N", value_parser = cryoflux_jobkit::threads::worker_threads)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub movies: MovieArgs,
}

/// Flags of `cryoflux simulate --movies N`: counting movies with known particle tracks (see
/// [`cryoflux_simulate::movies`]). `--particles_per_micrograph` sets the particles per movie,
/// `--snr` their SNR in the dose-summed movie, `--defocus_*`, `--astigmatism`, `--voltage`,
/// `--cs`, `--q0` the optics.
#[derive(Debug, clap::Args)]
pub struct MovieArgs {
    /// Simulate N movies (movies/, gain.mrc, movies.star, truth/, coordinates/) instead of
    /// particle images.
    #[arg(long, value_name = "N")]
    pub movies: Option<usize>,
    /// Frame size in pixels: N (square) or WxH.
    #[arg(long = "movie_size", value_name = "N|WxH", default_value = "512")]
    pub movie_size: String,
    /// Frames per movie.
    #[arg(long, value_name = "N", default_value_t = 24)]
    pub frames: usize,
    /// Exposure per frame in e/Å².
    #[arg(long = "dose_per_frame", value_name = "e/Å²", default_value_t = 1.0)]
    pub dose_per_frame: f64,
    /// Scale of the global drift over the movie in Å (fast early motion, then steady drift).
    #[arg(long, value_name = "Å", default_value_t = 10.0)]
    pub drift: f64,
    /// σ_vel of the local motion in Å per e/Å² (RELION polishing's --s_vel).
    #[arg(long = "s_vel", value_name = "Å/(e/Å²)", default_value_t = 0.2)]
    pub s_vel: f64,
    /// σ_div of the local motion in Å (RELION polishing's --s_div).
    #[arg(long = "s_div", value_name = "Å", default_value_t = 5000.0)]
    pub s_div: f64,
    /// σ_acc of the local motion in Å per e/Å² (RELION polishing's --s_acc).
    #[arg(long = "s_acc", value_name = "Å/(e/Å²)", default_value_t = 2.0)]
    pub s_acc: f64,
    /// Standard deviation of the gain reference's per-pixel log-gain (0: flat gain).
    #[arg(long = "gain_spread", default_value_t = 0.05)]
    pub gain_spread: f64,
    /// Number of hot pixels on the detector.
    #[arg(long = "hot_pixels", value_name = "N", default_value_t = 4)]
    pub hot_pixels: usize,
    /// Standard deviation of the relative ice-thickness variations (0: uniform ice).
    #[arg(long = "ice_contrast", default_value_t = 0.05)]
    pub ice_contrast: f64,
    /// Correlation length of the ice-thickness variations in Å.
    #[arg(long = "ice_length", value_name = "Å", default_value_t = 50.0)]
    pub ice_length: f64,
    /// Mean ice thickness in Å: the amorphous ice's granularity, imaged through the CTF, gives
    /// the micrographs their Thon rings (0: Thon rings from the particles only).
    #[arg(long = "ice_thickness", value_name = "Å", default_value_t = 300.0)]
    pub ice_thickness: f64,
    /// Movie file format: tiff (LZW 8/16-bit counts, as counting cameras write) or mrc
    /// (float32 stacks).
    #[arg(long = "movie_format", value_name = "tiff|mrc", default_value = "tiff")]
    pub movie_format: String,
}

impl MovieArgs {
    /// The movie options, when `--movies` is given.
    fn options(&self) -> anyhow::Result<Option<MovieOptions>> {
        let Some(count) = self.movies else {
            return Ok(None);
        };
        Ok(Some(MovieOptions {
            count,
            size: parse_size(&self.movie_size)?,
            frames: self.frames,
            dose_per_frame: self.dose_per_frame,
            motion: MotionModel {
                drift: self.drift,
                sigma_velocity: self.s_vel,
                sigma_divergence: self.s_div,
                sigma_acceleration: self.s_acc,
            },
            gain_spread: self.gain_spread,
            hot_pixels: self.hot_pixels,
            ice: IceModel {
                contrast: self.ice_contrast,
                length: self.ice_length,
                thickness: self.ice_thickness,
            },
            format: match self.movie_format.to_ascii_lowercase().as_str() {
                "tiff" | "tif" => MovieFormat::Tiff,
                "mrc" | "mrcs" => MovieFormat::Mrc,
                other => anyhow::bail!("--movie_format {other}: expected tiff or mrc"),
            },
        }))
    }
}

/// `N` → [N, N]; `WxH` → [W, H].
fn parse_size(text: &str) -> anyhow::Result<[usize; 2]> {
    let parse = |s: &str| {
        s.trim()
            .parse::<usize>()
            .map_err(|_| anyhow::anyhow!("--movie_size {text}: expected N or WxH in pixels"))
    };
    match text.split_once(['x', 'X']) {
        Some((w, h)) => Ok([parse(w)?, parse(h)?]),
        None => {
            let n = parse(text)?;
            Ok([n, n])
        }
    }
}

impl SimulateArgs {
    /// The run the flags ask for.
    fn job(&self) -> anyhow::Result<SimulateJob> {
        Ok(SimulateJob {
            map: self.map.clone(),
            angpix: self.angpix,
            output: self.output.clone(),
            count: self.count,
            poses: self.poses.clone(),
            seed: self.seed,
            snr: self.snr,
            no_noise: self.no_noise,
            no_ctf: self.no_ctf,
            defocus_min: self.defocus_min,
            defocus_max: self.defocus_max,
            astigmatism: self.astigmatism,
            defocus_spread: self.defocus_spread,
            particles_per_micrograph: self.particles_per_micrograph,
            max_offset: self.max_offset,
            voltage: self.voltage,
            cs: self.cs,
            q0: self.q0,
            scale_spread: self.scale_spread,
            norm_spread: self.norm_spread,
            threads: self.threads,
            movies: self.movies.options()?,
        })
    }
}

impl SimulateArgs {
    /// What the job reads (a map, poses) and writes; its directory is `--o`.
    pub fn files(&self) -> JobFiles {
        JobFiles::in_directory(&self.output)
            .optional_input("--map", self.map.as_deref())
            .optional_input("--poses", self.poses.as_deref())
            .outputs_in(
                "--o",
                &self.output,
                &["particles.mrcs", "particles.star", "truth.star"],
            )
    }
}

/// Simulates the particles and logs one summary line.
pub fn run(args: &SimulateArgs) -> anyhow::Result<()> {
    cryoflux_simulate::run::run(&args.job()?)
}
