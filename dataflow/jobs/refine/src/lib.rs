//! `cryoflux refine`: gold-standard 3D auto-refinement as a timely dataflow (refine.md §0.6).
//!
//! [`refine`] prepares iteration 0 ([`initial`]), runs the iterations ([`driver`], timely
//! pattern A: one long-lived dataflow, one epoch per iteration) with the schedule of
//! [`schedule`], and writes RELION-style outputs as results arrive ([`outputs`]). The graph
//! itself is [`build`]:
//!
//! ```text
//! particles ─(exchange by block)─► expectation ◄── references (broadcast)
//!                                      │ BlockPartial ─(exchange to worker 0)─► maximisation
//!                                                                                  │ MResult
//!                                                          broadcast ◄─────────────┘
//! ```
//!
//! The sampling follows RELION's auto-refine schedule ([`schedule`]: HEALPix and translation
//! refinement from the estimated accuracies, local searches, convergence, a final joined
//! iteration to Nyquist). Noise is modelled per noise group ([`groups`]: rlnGroupName, else one
//! per micrograph), with optional norm (`--norm`) and intensity-scale (`--scale`) corrections.
//! Simplifications: one optics group; orientations in global searches have a uniform prior
//! (RELION weights them by the previous iteration's direction distribution). Runs may span
//! several processes over TCP ([`cryoflux_jobkit::cluster`]); every iteration ends with a
//! [`checkpoint`] that `--continue` resumes from.

pub mod checkpoint;
pub mod driver;
pub mod groups;
pub mod initial;
pub mod memory;
pub mod normalisation;
pub mod outputs;
pub mod schedule;

use std::path::PathBuf;

use cryoflux_jobkit::cluster::ClusterSettings;
use cryoflux_operators::refine::expectation::{Progress, expectation};
use cryoflux_operators::refine::maximisation::{MResult, maximisation};
use cryoflux_operators::refine::projections::SharedProjections;
use cryoflux_operators::refine::records::ParticleRecord;
use cryoflux_operators::refine::records::ReferenceMsg;
use cryoflux_operators::refine::reduction::BlockLayout;
use cryoflux_operators::refine::scorer::SharedScorer;
pub use cryoflux_operators::refine::scorer::{GpuDevices, ScorerChoice};
use timely::dataflow::operators::Input;
use timely::dataflow::operators::vec::Broadcast;
use timely::dataflow::{InputHandleVec, Scope, Stream};

/// Everything a refinement job needs, in the units of the CLI flags.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RefineSettings {
    /// Particle table (.star or .parquet).
    pub particles: PathBuf,
    /// Reference map (same box and pixel size as the particles).
    pub reference: PathBuf,
    /// Output root, e.g. `Refine3D/job001/run` (files are `<root>_it001_…`).
    pub output_root: PathBuf,
    /// Initial low-pass of the reference (Å).
    pub ini_high: f64,
    /// Particle diameter (Å).
    pub particle_diameter: f64,
    /// Point-group symbol.
    pub symmetry: String,
    /// Correct for the CTF (needs CTF columns).
    pub ctf: bool,
    /// HEALPix order of the coarse orientation grid (2 = 7.5°).
    pub healpix_order: u32,
    /// Translation search radius (Å).
    pub offset_range: f64,
    /// Coarse translation step (Å).
    pub offset_step: f64,
    /// Largest number of iterations before the final one.
    pub iterations: usize,
    /// Align iteration 1 by cross-correlation (the reference is not on the particles'
    /// absolute greyscale; RELION `--firstiter_cc`).
    pub firstiter_cc: bool,
    /// Leave the CTF intact (1) up to its first peak (RELION `--ctf_intact_first_peak`).
    pub ctf_intact_first_peak: bool,
    /// Refine each particle's norm correction (RELION `--norm`).
    pub norm_correction: bool,
    /// Refine an intensity scale per noise group (RELION `--scale`).
    pub scale_correction: bool,
    /// At most this many significant coarse samples per particle (RELION `--maxsig`; `None`,
    /// RELION's −1: the E-step's default cap, `cryoflux_kernels::estep::DEFAULT_SIGNIFICANT_CAP`).
    pub max_significant: Option<usize>,
    /// Warn when the particles' background is not normalised (mean 0, standard deviation 1);
    /// RELION's `--dont_check_norm` turns it off.
    pub check_normalisation: bool,
    /// HEALPix order from which the orientation search is local (RELION
    /// `--auto_local_healpix_order`, 4 = 1.8° fine step).
    pub auto_local_healpix_order: u32,
    /// Refine the angular sampling as soon as the sampling is coarser than the resolution
    /// needs, without waiting for a stall (RELION `--auto_resol_angles`).
    pub auto_resol_angles: bool,
    /// Refine the angular sampling without waiting for the assignments to settle (RELION
    /// `--auto_ignore_angles`).
    pub auto_ignore_angles: bool,
    /// Resolution (Å) below which the halves are averaged (RELION `--low_resol_join_halves`).
    pub low_resol_join_halves: f64,
    /// Soft mask (MRC, values in [0, 1]) for solvent flattening instead of the sphere of the
    /// particle diameter (RELION `--solvent_mask`).
    pub solvent_mask: Option<PathBuf>,
    /// Correct the gold-standard FSC for the solvent mask by phase randomisation (RELION
    /// `--solvent_correct_fsc`; needs `solvent_mask`).
    pub solvent_correct_fsc: bool,
    /// Resample the reference to the particles' pixel size and box when they differ (otherwise
    /// that is an error).
    pub rescale_reference: bool,
    /// Resume from this checkpoint of an earlier run (RELION `--continue`).
    pub continue_from: Option<PathBuf>,
    /// Timely worker threads.
    pub threads: usize,
    /// The E-step's scorer: the CPU's, or a GPU's (RELION `--gpu [ids]`), which a build
    /// without one refuses at start-up.
    #[serde(skip)]
    pub scorer: ScorerChoice,
    /// Seed of the half split and of the grid perturbations.
    pub seed: u64,
    /// Show a progress bar over particles (only drawn on a terminal).
    pub progress: bool,
    /// This process's place in a multi-process run (default: one process); not kept in
    /// checkpoints.
    #[serde(skip)]
    pub cluster: ClusterSettings,
}

impl RefineSettings {
    /// A refinement of `particles` against `reference` into `output_root` for particles of
    /// `particle_diameter` Å, with every other setting at its `cryoflux refine` default (RELION's
    /// where RELION has one): 60 Å initial low-pass, C1, no CTF correction, HEALPix order 2,
    /// translations within 5 Å in steps of 1 Å, at most 25 iterations, local searches from
    /// order 4, halves joined below 40 Å, no norm or scale correction, no `--maxsig`, a warning
    /// for unnormalised particles, spherical solvent mask, one thread, the CPU scorer, seed 1,
    /// one process, no progress bar.
    pub fn new(
        particles: impl Into<PathBuf>,
        reference: impl Into<PathBuf>,
        output_root: impl Into<PathBuf>,
        particle_diameter: f64,
    ) -> Self {
        Self {
            particles: particles.into(),
            reference: reference.into(),
            output_root: output_root.into(),
            ini_high: 60.0,
            particle_diameter,
            symmetry: "C1".into(),
            ctf: false,
            healpix_order: 2,
            offset_range: 5.0,
            offset_step: 1.0,
            iterations: 25,
            firstiter_cc: false,
            ctf_intact_first_peak: false,
            norm_correction: false,
            scale_correction: false,
            max_significant: None,
            check_normalisation: true,
            auto_local_healpix_order: 4,
            auto_resol_angles: false,
            auto_ignore_angles: false,
            low_resol_join_halves: 40.0,
            solvent_mask: None,
            solvent_correct_fsc: false,
            rescale_reference: false,
            continue_from: None,
            threads: 1,
            scorer: ScorerChoice::Cpu,
            seed: 1,
            progress: false,
            cluster: ClusterSettings::default(),
        }
    }
}

/// One iteration as reported in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationSummary {
    /// Iteration number (1-based).
    pub iteration: usize,
    /// Whether it was the final (joined, full-box) iteration.
    pub final_iteration: bool,
    /// Fine-pass image size (pixels).
    pub current_size: usize,
    /// Gold-standard resolution after it (Å): FSC 0.5 point, FSC 0.143 in the final one.
    pub resolution_angst: f64,
    /// Iterations without resolution gain so far.
    pub iterations_without_gain: usize,
    /// Mean Pmax.
    pub mean_max_probability: f64,
    /// Mean orientation change (degrees, RELION's mean row angle).
    pub mean_angular_change_deg: f64,
    /// RMS origin change per axis (Å).
    pub rms_offset_change_angst: f64,
    /// Fine angular step of the iteration (degrees).
    pub fine_angular_step_deg: f64,
    /// Whether the orientation search was local.
    pub local_search: bool,
    /// Translation search range (Å) and fine step (Å).
    pub offset_range_angst: f64,
    /// Fine translation step (Å).
    pub fine_offset_step_angst: f64,
    /// Estimated accuracy (degrees, Å), when estimated.
    pub accuracy: Option<(f64, f64)>,
    /// Wall time of the iteration (s).
    pub seconds: f64,
}

/// What a refinement produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RefineReport {
    /// Every iteration, in order.
    pub iterations: Vec<IterationSummary>,
    /// Final gold-standard resolution (Å, FSC 0.143 between the halves).
    pub resolution_angst: f64,
    /// The final map (`<root>_class001.mrc`).
    pub map: PathBuf,
    /// The final particle table (`<root>_data.star`).
    pub data_star: PathBuf,
}

/// Runs the refinement described by `settings`; see the module doc.
pub fn refine(settings: &RefineSettings) -> anyhow::Result<RefineReport> {
    driver::run(settings)
}

/// What the workers of one process share.
#[derive(Clone)]
pub struct ProcessShared {
    /// Called with the number of particles each worker finishes (the progress bar).
    pub progress: Progress,
    /// The iteration's projectors and coarse-slice banks, built once per process.
    pub projections: SharedProjections,
    /// The E-step's scorer, chosen once at start-up by
    /// [`cryoflux_operators::refine::scorer::select`] from [`RefineSettings::scorer`].
    pub scorer: SharedScorer,
}

/// The dataflow of one worker: particle and reference inputs, expectation (particles routed
/// by their block of `layout`, with what the process's workers share), maximisation (on
/// worker 0, the `leader`), and the broadcast M-step result every worker reads.
pub fn build<'s>(
    scope: Scope<'s, u64>,
    particles: &mut InputHandleVec<u64, ParticleRecord>,
    references: &mut InputHandleVec<u64, ReferenceMsg>,
    leader: bool,
    layout: BlockLayout,
    process: ProcessShared,
) -> Stream<'s, u64, Vec<MResult>> {
    let particles = scope.input_from(particles);
    let references = scope.input_from(references).broadcast();
    let partials = expectation(
        particles,
        references.clone(),
        layout,
        process.progress,
        process.projections,
        process.scorer,
    );
    maximisation(partials, references, leader).broadcast()
}
