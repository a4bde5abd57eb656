//! `cryoflux refine`: gold-standard 3D auto-refinement from a low-passed reference, like
//! `relion_refine --auto_refine --split_random_halves` (see [`cryoflux_refine`] for the method
//! and what this first version simplifies).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Parser;

use super::relion_flags::RelionRefineFlags;
use cryoflux_jobkit::cluster::ClusterSettings;
use cryoflux_jobkit::job_directory::JobFiles;
use cryoflux_refine::checkpoint::settings_to_continue;
use cryoflux_refine::{RefineSettings, ScorerChoice, refine};

/// Arguments of `cryoflux refine`.
#[derive(Debug, clap::Args)]
pub struct RefineArgs {
    /// Particles: a RELION STAR file or a Parquet particle table (with --continue: taken from
    /// the checkpoint when left out).
    #[arg(
        long = "i",
        visible_alias = "input",
        value_name = "FILE",
        required_unless_present = "continue_from"
    )]
    pub input: Option<PathBuf>,
    /// Reference map (MRC), same box and pixel size as the particles (with --continue: taken
    /// from the checkpoint when left out).
    #[arg(
        long = "ref",
        value_name = "FILE.mrc",
        required_unless_present = "continue_from"
    )]
    pub reference: Option<PathBuf>,
    /// Output root, e.g. Refine3D/job001/run (writes run_it001_half1_class001.mrc, …).
    #[arg(long = "o", visible_alias = "output", value_name = "ROOT")]
    pub output: PathBuf,
    /// Initial low-pass filter of the reference, in Å.
    #[arg(long = "ini_high", value_name = "Å", default_value_t = 60.0)]
    pub ini_high: f64,
    /// Particle diameter in Å (alignment mask and spherical solvent mask; with --continue:
    /// taken from the checkpoint when left out).
    #[arg(
        long = "particle_diameter",
        value_name = "Å",
        required_unless_present = "continue_from"
    )]
    pub particle_diameter: Option<f64>,
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
    /// the output root to take its last complete iteration). Alone, as `relion_refine
    /// --continue`: every setting (inputs included) comes from the earlier run and only --o,
    /// --j and the multi-process flags may be given; with --i, --ref and --particle_diameter,
    /// the flags must describe the same run (they are checked against the checkpoint).
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

impl RefineArgs {
    /// What the job reads and writes (every `ROOT_…` file); its directory is the root's, except
    /// in processes other than 0, which write nothing. The `--continue` checkpoint is not
    /// checked: it is complete even in a killed run's directory, and a resumed run writes only
    /// later iterations.
    pub fn files(&self) -> JobFiles {
        let files = JobFiles::beside(&self.output)
            .optional_input("--i", self.input.as_deref())
            .optional_input("--ref", self.reference.as_deref())
            .optional_input("--solvent_mask", self.solvent_mask.as_deref())
            .outputs_with_prefix("--o", &self.output);
        if self.cluster.process == 0 {
            files
        } else {
            files.without_markers()
        }
    }
}

impl RefineArgs {
    /// The settings the flags ask for, with the particles, reference and diameter given.
    fn settings_with(
        &self,
        (particles, reference, particle_diameter): (PathBuf, PathBuf, f64),
        cluster: ClusterSettings,
    ) -> RefineSettings {
        RefineSettings {
            particles,
            reference,
            output_root: self.output.clone(),
            ini_high: self.ini_high,
            particle_diameter,
            symmetry: self.sym.clone(),
            ctf: self.ctf,
            healpix_order: self.healpix_order,
            offset_range: self.offset_range,
            offset_step: self.offset_step,
            iterations: self.iter,
            firstiter_cc: self.firstiter_cc,
            ctf_intact_first_peak: self.ctf_intact_first_peak,
            norm_correction: self.norm,
            scale_correction: self.scale,
            max_significant: usize::try_from(self.maxsig).ok().filter(|&m| m > 0),
            check_normalisation: !self.relion.dont_check_norm,
            auto_local_healpix_order: self.auto_local_healpix_order,
            auto_resol_angles: self.auto_resol_angles,
            auto_ignore_angles: self.auto_ignore_angles,
            low_resol_join_halves: self.low_resol_join_halves,
            solvent_mask: self.solvent_mask.clone(),
            solvent_correct_fsc: self.solvent_correct_fsc,
            rescale_reference: self.rescale_ref,
            continue_from: self.continue_from.clone(),
            threads: self.threads,
            // The device is this run's choice (`run` sets it), never part of the method.
            scorer: ScorerChoice::Cpu,
            seed: self.random_seed,
            progress: std::io::stderr().is_terminal() && cluster.writes_outputs(),
            cluster,
        }
    }

    /// The settings of this run: from the flags, or, on `--continue` without inputs, from the
    /// checkpoint with the new output root, threads and processes.
    fn settings(&self, cluster: ClusterSettings) -> anyhow::Result<RefineSettings> {
        match (&self.input, &self.reference, self.particle_diameter) {
            (Some(i), Some(r), Some(d)) => {
                Ok(self.settings_with((i.clone(), r.clone(), d), cluster))
            }
            (None, None, None) => match &self.continue_from {
                Some(from) => self.continued(from, cluster),
                None => bail!("--i, --ref and --particle_diameter are required"),
            },
            _ => bail!(
                "with --continue give --i, --ref and --particle_diameter all three (checked \
                 against the checkpoint) or none of them (taken from the checkpoint)"
            ),
        }
    }

    /// The settings of the run `from` names, continued into `--o` with `--j` threads on
    /// `cluster`; a flag that would change another setting is refused.
    fn continued(&self, from: &Path, cluster: ClusterSettings) -> anyhow::Result<RefineSettings> {
        let stored = settings_to_continue(from)?;
        let inputs = || {
            (
                stored.particles.clone(),
                stored.reference.clone(),
                stored.particle_diameter,
            )
        };
        let given = self.settings_with(inputs(), cluster.clone());
        let defaults = RefineDefaults::parse_from(["refine", "--continue", "-", "--o", "-"])
            .args
            .settings_with(inputs(), cluster);
        let changed = lines_not_in(&method(&given), &method(&defaults));
        if !changed.is_empty() {
            bail!(
                "--continue {}: the settings come from the earlier run; only --o, --j and the \
                 multi-process flags may be given, but these were changed: {}",
                from.display(),
                changed.join(", ")
            );
        }
        Ok(RefineSettings {
            output_root: given.output_root,
            continue_from: given.continue_from,
            threads: given.threads,
            progress: given.progress,
            cluster: given.cluster,
            ..stored
        })
    }
}

/// `cryoflux refine`'s flags alone, to learn their defaults.
#[derive(clap::Parser)]
struct RefineDefaults {
    #[command(flatten)]
    args: RefineArgs,
}

/// The settings that define the method, one per line (`field: value,`): the output root,
/// continuation, threads, progress bar and processes are left out.
fn method(settings: &RefineSettings) -> String {
    let method = RefineSettings {
        output_root: PathBuf::new(),
        continue_from: None,
        threads: 1,
        progress: false,
        cluster: ClusterSettings::default(),
        scorer: ScorerChoice::Cpu,
        ..settings.clone()
    };
    format!("{method:#?}")
}

/// The lines of `a` that are not lines of `b`, trimmed.
fn lines_not_in(a: &str, b: &str) -> Vec<String> {
    let b: Vec<&str> = b.lines().collect();
    a.lines()
        .filter(|line| !b.contains(line))
        .map(|line| line.trim().trim_end_matches(',').to_string())
        .collect()
}

/// Runs the refinement and prints where the results are.
pub fn run(args: &RefineArgs) -> anyhow::Result<()> {
    let ignored = args.relion.check()?;
    let scorer = args.relion.scorer()?;
    let c = &args.cluster;
    let cluster = ClusterSettings::from_flags(
        c.process,
        c.processes,
        &c.addresses,
        c.hostfile.as_deref(),
        c.cluster_timeout,
    )?;
    let settings = RefineSettings {
        scorer,
        ..args.settings(cluster)?
    };
    if !ignored.is_empty() && settings.cluster.writes_outputs() {
        eprintln!(
            "cryoflux refine: RELION option(s) {} have no effect here (particles are held in \
             memory; cryoflux schedules its own blocks)",
            ignored.join(", ")
        );
    }
    let report = refine(&settings)?;
    if !settings.cluster.writes_outputs() {
        return Ok(());
    }
    // Iterations are numbered from the first run's first, so a continued run counts all.
    let iterations = report.iterations.last().map_or(0, |s| s.iteration);
    let resumed = if iterations > report.iterations.len() {
        format!(" ({} in this run)", report.iterations.len())
    } else {
        String::new()
    };
    println!(
        "cryoflux refine: {iterations} iterations{resumed}; final gold-standard resolution (FSC \
         0.143) {:.2} Å",
        report.resolution_angst
    );
    println!(
        "  map {}, particles {}",
        report.map.display(),
        report.data_star.display()
    );
    Ok(())
}
