//! `cryoflux reconstruct`: a map from particles at known poses, like `relion_reconstruct`
//! (see [`crate::reconstruct`] for the method).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use cryoflux_formats::mrc::{WriteMode, write_volume};
use cryoflux_kernels::ctf::CtfVariant;
use cryoflux_kernels::reconstruct::Gridding;
use cryoflux_kernels::symmetry::SymmetryGroup;
use indicatif::ProgressBar;

use crate::particles::{LoadOptions, ParticleSet};
use crate::reconstruct::{
    ReconstructSettings, backproject_particles, map_geometry, reconstruct_map,
};

/// Arguments of `cryoflux reconstruct`.
#[derive(Debug, clap::Args)]
pub struct ReconstructArgs {
    /// Particles with poses: a RELION STAR file or a Parquet particle table.
    #[arg(long = "i", visible_alias = "input", value_name = "FILE")]
    pub input: PathBuf,
    /// Output map (MRC, float32).
    #[arg(long = "o", visible_alias = "output", value_name = "FILE.mrc")]
    pub output: PathBuf,
    /// Point group to impose (RELION symbol, e.g. C1, D2, I3).
    #[arg(long, default_value = "C1")]
    pub sym: String,
    /// Only half set 1 or 2 (by rlnRandomSubset); default all particles.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..=2))]
    pub subset: Option<i64>,
    /// CTF correction: data × CTF, weights CTF² (needs rlnDefocusU and the optics constants).
    #[arg(long)]
    pub ctf: bool,
    /// With --ctf: leave the CTF at 1 until its first peak.
    #[arg(
        long = "ctf_intact_first_peak",
        alias = "ctf-intact-first-peak",
        requires = "ctf"
    )]
    pub ctf_intact_first_peak: bool,
    /// With --ctf: the images have been phase flipped (use |CTF|).
    #[arg(
        long = "ctf_phase_flipped",
        alias = "ctf-phase-flipped",
        requires = "ctf"
    )]
    pub ctf_phase_flipped: bool,
    /// With --ctf: only flip phases (use the CTF's sign), do not correct amplitudes.
    #[arg(
        long = "only_flip_phases",
        alias = "only-flip-phases",
        requires = "ctf"
    )]
    pub only_flip_phases: bool,
    /// Voxel size of the map in Å (default: the first optics group's pixel size); images of
    /// another pixel size are inserted at the frequencies they sample.
    #[arg(long, value_name = "Å")]
    pub angpix: Option<f64>,
    /// Highest resolution to insert, in Å (default Nyquist).
    #[arg(long, value_name = "Å")]
    pub maxres: Option<f64>,
    /// Padding factor of the Fourier accumulators.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=4))]
    pub pad: u16,
    /// Rounds of iterative gridding (density compensation).
    #[arg(long, default_value_t = 10)]
    pub iter: usize,
    /// Divide by the weights directly instead of iterative gridding.
    #[arg(long = "skip_gridding", alias = "skip-gridding")]
    pub skip_gridding: bool,
    /// Use the STAR pixel size even when the stacks' MRC headers give another one.
    #[arg(long = "trust_star_angpix", alias = "trust-star-angpix")]
    pub trust_star_angpix: bool,
    /// Worker threads (default: all cores); the map does not depend on it.
    #[arg(long = "j", visible_alias = "threads", value_name = "N")]
    pub threads: Option<usize>,
}

impl ReconstructArgs {
    fn settings(&self) -> anyhow::Result<ReconstructSettings> {
        let symmetry = SymmetryGroup::parse(&self.sym).context("--sym")?;
        let ctf = self.ctf.then_some(CtfVariant {
            intact_first_peak: self.ctf_intact_first_peak,
            phase_flipped: self.ctf_phase_flipped,
            sign_only: self.only_flip_phases,
            damping: true,
        });
        let gridding = if self.skip_gridding {
            Gridding::Skip
        } else {
            Gridding::Iterative {
                iterations: self.iter,
            }
        };
        Ok(ReconstructSettings {
            ctf,
            symmetry,
            padding: usize::from(self.pad),
            max_resolution: self.maxres,
            pixel_size: self.angpix,
            gridding,
        })
    }
}

/// Load and check the particles, reconstruct, write the map atomically.
pub fn run(args: &ReconstructArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let settings = args.settings()?;
    let options = LoadOptions {
        poses: true,
        ctf: args.ctf,
        trust_star_pixel_size: args.trust_star_angpix,
    };
    let set = ParticleSet::load(&args.input, &options)?;
    let selection = set.select_half(args.subset)?;
    let (size, pixel) = map_geometry(&set, &settings)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("cannot start the worker threads")?;
    let progress = ProgressBar::new(selection.len() as u64);
    let bp =
        pool.install(|| backproject_particles(&set, &selection, &settings, &|n| progress.inc(n)))?;
    progress.finish_and_clear();
    let (used, total) = (selection.len(), set.particles().len());
    // Unmap the image stacks before the memory-hungry reconstruction.
    drop(set);
    let map = pool.install(|| reconstruct_map(&bp, &settings))?;
    write_volume(
        &args.output,
        map.data(),
        [size; 3],
        pixel as f32,
        WriteMode::Float32,
    )?;
    let seconds = start.elapsed().as_secs_f64();
    tracing::info!(
        "reconstructed {} from {} of {} particles (box {size}, {pixel} Å/px, {}, {}{}) in \
         {seconds:.2} s ({:.0} particles/s)",
        args.output.display(),
        used,
        total,
        settings.symmetry.point_group(),
        if args.ctf {
            "CTF-corrected"
        } else {
            "no CTF correction"
        },
        args.subset
            .map(|h| format!(", half set {h}"))
            .unwrap_or_default(),
        selection.len() as f64 / seconds,
    );
    Ok(())
}
