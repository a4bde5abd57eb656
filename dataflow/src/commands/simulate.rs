//! `cryoflux simulate`: ground-truth particles of a map (by default the bundled 1HPV map) at
//! random or given poses, with CTF, noise and optional intensity errors (per-micrograph signal
//! scales, per-particle normalisation errors); see [`cryoflux_simulate`] for the model.

use std::path::PathBuf;

use cryoflux_simulate::run::SimulateJob;

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
    #[arg(
        long = "scale_spread",
        allow_negative_numbers = true,
        value_name = "X",
        default_value_t = 0.0
    )]
    pub scale_spread: f64,
    /// Per-particle normalisation error f_i = exp(Y·z), z ~ N(0,1): the whole image (signal and
    /// noise) is multiplied by f_i; truth.star gets rlnNormCorrection. 0 (default): off. At
    /// most 2.
    #[arg(
        long = "norm_spread",
        allow_negative_numbers = true,
        value_name = "Y",
        default_value_t = 0.0
    )]
    pub norm_spread: f64,
    /// Worker threads (default: all cores); the output does not depend on it.
    #[arg(long = "j", visible_alias = "threads", value_name = "N")]
    pub threads: Option<usize>,
}

impl SimulateArgs {
    /// The run the flags ask for.
    fn job(&self) -> SimulateJob {
        SimulateJob {
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
        }
    }
}

/// Simulates the particles and logs one summary line.
pub fn run(args: &SimulateArgs) -> anyhow::Result<()> {
    cryoflux_simulate::run::run(&args.job())
}
