//! `cryoflux refine`: gold-standard 3D auto-refinement from a low-passed reference, like
//! `relion_refine --auto_refine --split_random_halves` (see [`cryoflux_refine`] for the method
//! and what this first version simplifies).

use std::io::IsTerminal;
use std::path::PathBuf;

use super::relion_flags::RelionRefineFlags;
use cryoflux_jobkit::cluster::ClusterSettings;
use cryoflux_refine::{RefineSettings, refine};

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
    #[arg(long = "ini_high", value_name = "Å", default_value_t = 60.0)]
    pub ini_high: f64,
    /// Particle diameter in Å (alignment mask and spherical solvent mask).
    #[arg(long = "particle_diameter", value_name = "Å")]
    pub particle_diameter: f64,
    /// Point group (RELION symbol, e.g. C1, D2).
    #[arg(long, default_value = "C1")]
    pub sym: String,
    /// Correct for the CTF (needs rlnDefocusU and the optics constants).
    #[arg(long)]
    pub ctf: bool,
    /// HEALPix order of the global orientation search (1 = 15°, 2 = 7.5°, 3 = 3.7°); the fine
    /// pass uses one order more.
    #[arg(long = "healpix_order", default_value_t = 2)]
    pub healpix_order: u32,
    /// Maximum number of poses & translations to consider (RELION `--maxsig`): at most this
    /// many significant coarse samples per particle go to the fine pass; −1 or 0: cryoflux's
    /// default cap of 1000 (RELION: none), so that a flat posterior cannot make one iteration
    /// far slower than the others.
    #[arg(long, value_name = "N", default_value_t = -1, allow_negative_numbers = true)]
    pub maxsig: i64,
    /// Translation search radius around the previous offset, in Å.
    #[arg(long = "offset_range", value_name = "Å", default_value_t = 5.0)]
    pub offset_range: f64,
    /// Coarse translation step, in Å.
    #[arg(long = "offset_step", value_name = "Å", default_value_t = 1.0)]
    pub offset_step: f64,
    /// Largest number of iterations before the final (full-size, joined) one.
    #[arg(long, alias = "auto_iter_max", default_value_t = 25)]
    pub iter: usize,
    /// Align iteration 1 by cross-correlation: say it when the reference is not on the
    /// particles' absolute greyscale (e.g. made by another program, or low-passed truth).
    #[arg(long = "firstiter_cc")]
    pub firstiter_cc: bool,
    /// Leave the CTF intact (1) up to its first peak.
    #[arg(long = "ctf_intact_first_peak")]
    pub ctf_intact_first_peak: bool,
    /// Refine each particle's normalisation (rlnNormCorrection): corrects images whose
    /// background was normalised with a wrong standard deviation.
    #[arg(long, visible_alias = "norm_correction")]
    pub norm: bool,
    /// Refine an intensity scale per noise group (rlnGroupScaleCorrection; groups are
    /// rlnGroupName, else one per micrograph): corrects for ice thickness or dose differences.
    #[arg(long, visible_alias = "scale_correction")]
    pub scale: bool,
    /// HEALPix order from which orientations are searched locally around the previous pose
    /// (4 = 1.8° fine step).
    #[arg(long = "auto_local_healpix_order", default_value_t = 4)]
    pub auto_local_healpix_order: u32,
    /// Refine the angular sampling as soon as it is coarser than the resolution needs.
    #[arg(long = "auto_resol_angles")]
    pub auto_resol_angles: bool,
    /// Refine the angular sampling without waiting for the assignments to settle.
    #[arg(long = "auto_ignore_angles")]
    pub auto_ignore_angles: bool,
    /// Resolution in Å below which the two halves are averaged.
    #[arg(
        long = "low_resol_join_halves",
        value_name = "Å",
        default_value_t = 40.0
    )]
    pub low_resol_join_halves: f64,
    /// Soft mask (MRC, values 0…1, same box and pixel size as the reference) for solvent
    /// flattening, instead of a sphere of the particle diameter.
    #[arg(long = "solvent_mask", value_name = "MASK.mrc")]
    pub solvent_mask: Option<PathBuf>,
    /// Correct the gold-standard FSC for the solvent mask by phase randomisation.
    #[arg(long = "solvent_correct_fsc")]
    pub solvent_correct_fsc: bool,
    /// Resample the reference to the particles' pixel size and box when they differ
    /// (otherwise that is an error).
    #[arg(long = "rescale_ref")]
    pub rescale_ref: bool,
    /// Resume from the checkpoint of an earlier run (its `<root>_itNNN_optimiser.star`, or
    /// the output root to take its last complete iteration).
    #[arg(long = "continue", value_name = "FILE")]
    pub continue_from: Option<PathBuf>,
    /// Worker threads (timely workers; results do not depend on it).
    #[arg(long = "j", visible_alias = "threads", default_value_t = 1, value_parser = cryoflux_jobkit::threads::worker_threads)]
    pub threads: usize,
    /// Seed of the random half split (when the particles have no rlnRandomSubset) and of the
    /// orientation-grid perturbations.
    #[arg(long = "random_seed", default_value_t = 1)]
    pub random_seed: u64,
    /// Multi-process runs over TCP.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// RELION options accepted so that a RELION command line runs unchanged.
    #[command(flatten)]
    pub relion: RelionRefineFlags,
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
    /// Seconds to wait, once the inputs are read, for every other process to connect; then
    /// stop with an error naming the processes not reached.
    #[arg(
        long = "cluster_timeout",
        value_name = "SECONDS",
        default_value_t = cryoflux_jobkit::cluster::DEFAULT_TIMEOUT_SECONDS
    )]
    pub cluster_timeout: f64,
}

/// Runs the refinement and prints where the results are.
pub fn run(args: &RefineArgs) -> anyhow::Result<()> {
    let ignored = args.relion.check()?;
    let c = &args.cluster;
    let cluster = ClusterSettings::from_flags(
        c.process,
        c.processes,
        &c.addresses,
        c.hostfile.as_deref(),
        c.cluster_timeout,
    )?;
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
        firstiter_cc: args.firstiter_cc,
        ctf_intact_first_peak: args.ctf_intact_first_peak,
        norm_correction: args.norm,
        scale_correction: args.scale,
        max_significant: usize::try_from(args.maxsig).ok().filter(|&m| m > 0),
        check_normalisation: !args.relion.dont_check_norm,
        auto_local_healpix_order: args.auto_local_healpix_order,
        auto_resol_angles: args.auto_resol_angles,
        auto_ignore_angles: args.auto_ignore_angles,
        low_resol_join_halves: args.low_resol_join_halves,
        solvent_mask: args.solvent_mask.clone(),
        solvent_correct_fsc: args.solvent_correct_fsc,
        rescale_reference: args.rescale_ref,
        continue_from: args.continue_from.clone(),
        threads: args.threads,
        seed: args.random_seed,
        progress: std::io::stderr().is_terminal() && cluster.writes_outputs(),
        cluster,
    };
    if !ignored.is_empty() && settings.cluster.writes_outputs() {
        eprintln!(
            "cryoflux refine: RELION option(s) {} have no effect here (particles are held in \
             memory; the E-step runs on the CPU in this build)",
            ignored.join(", ")
        );
    }
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
