//! `cryoflux refine`: gold-standard 3D auto-refinement from a low-passed reference, like
//! `relion_refine --auto_refine --split_random_halves` (see [`crate::refine`] for the method
//! and what this first version simplifies).

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::refine::cluster::ClusterSettings;
use crate::refine::{RefineSettings, refine};

/// Arguments of `cryoflux refine`.
#[derive(Debug, clap::Args)]
pub struct RefineArgs {
    /// Particles: a RELION STAR file or a Parquet particle table.
    #[arg(long = "i", visible_alias = "input", value_name = "FILE")]
    pub input: PathBuf,
    /// Reference map (MRC), same box and pixel size as the particles.
    #[arg(long = "ref", value_name = "FILE.mrc")]
    pub reference: PathBuf,
    /// Output root, e.g. Refine3D/job001/run (writes run_it001_half1_class001.mrc, …).
    #[arg(long = "o", visible_alias = "output", value_name = "ROOT")]
    pub output: PathBuf,
    /// Initial low-pass filter of the reference, in Å.
    #[arg(
        long = "ini_high",
        alias = "ini-high",
        value_name = "Å",
        default_value_t = 60.0
    )]
    pub ini_high: f64,
    /// Particle diameter in Å (alignment mask and spherical solvent mask).
    #[arg(
        long = "particle_diameter",
        alias = "particle-diameter",
        value_name = "Å"
    )]
    pub particle_diameter: f64,
    /// Point group (RELION symbol, e.g. C1, D2).
    #[arg(long, default_value = "C1")]
    pub sym: String,
    /// Correct for the CTF (needs rlnDefocusU and the optics constants).
    #[arg(long)]
    pub ctf: bool,
    /// HEALPix order of the global orientation search (1 = 15°, 2 = 7.5°, 3 = 3.7°); the fine
    /// pass uses one order more.
    #[arg(long = "healpix_order", alias = "healpix-order", default_value_t = 2)]
    pub healpix_order: u32,
    /// Translation search radius around the previous offset, in Å.
    #[arg(
        long = "offset_range",
        alias = "offset-range",
        value_name = "Å",
        default_value_t = 5.0
    )]
    pub offset_range: f64,
    /// Coarse translation step, in Å.
    #[arg(
        long = "offset_step",
        alias = "offset-step",
        value_name = "Å",
        default_value_t = 1.0
    )]
    pub offset_step: f64,
    /// Largest number of iterations before the final (full-size, joined) one.
    #[arg(long, default_value_t = 8)]
    pub iter: usize,
    /// Worker threads (timely workers; results do not depend on it).
    #[arg(long = "j", visible_alias = "threads", default_value_t = 1)]
    pub threads: usize,
    /// Seed of the random half split (when the particles have no rlnRandomSubset) and of the
    /// orientation-grid perturbations.
    #[arg(long = "random_seed", alias = "random-seed", default_value_t = 1)]
    pub random_seed: u64,
    /// Multi-process runs over TCP.
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Flags of a multi-process run: start the same command once per process, changing only
/// `--process`; `--j` threads run in each process.
#[derive(Debug, clap::Args)]
pub struct ClusterArgs {
    /// Index of this process, 0 … processes−1 (process 0 writes the outputs and the log).
    #[arg(long, default_value_t = 0)]
    pub process: usize,
    /// Number of processes.
    #[arg(long, default_value_t = 1)]
    pub processes: usize,
    /// Where every process listens, in process order.
    #[arg(long, value_name = "HOST:PORT,…", value_delimiter = ',')]
    pub addresses: Vec<String>,
    /// File with one host:port per line, in process order (instead of --addresses).
    #[arg(long, value_name = "FILE")]
    pub hostfile: Option<PathBuf>,
}

/// Runs the refinement and prints where the results are.
pub fn run(args: &RefineArgs) -> anyhow::Result<()> {
    let c = &args.cluster;
    let cluster =
        ClusterSettings::from_flags(c.process, c.processes, &c.addresses, c.hostfile.as_deref())?;
    let settings = RefineSettings {
        particles: args.input.clone(),
        reference: args.reference.clone(),
        output_root: args.output.clone(),
        ini_high: args.ini_high,
        particle_diameter: args.particle_diameter,
        symmetry: args.sym.clone(),
        ctf: args.ctf,
        healpix_order: args.healpix_order,
        offset_range: args.offset_range,
        offset_step: args.offset_step,
        iterations: args.iter,
        threads: args.threads,
        seed: args.random_seed,
        progress: std::io::stderr().is_terminal() && cluster.writes_outputs(),
        cluster,
    };
    let report = refine(&settings)?;
    if !settings.cluster.writes_outputs() {
        return Ok(());
    }
    println!(
        "cryoflux refine: {} iterations; final gold-standard resolution (FSC 0.143) {:.2} Å",
        report.iterations.len(),
        report.resolution_angst
    );
    println!(
        "  map {}, particles {}",
        report.map.display(),
        report.data_star.display()
    );
    Ok(())
}
