//! The main job on the embedded default, start to finish, from movies to a map. Simulates
//! counting movies of the bundled heat-labile enterotoxin map (PDB 1TII, asymmetric, box 48,
//! 3.0 Å/px; see [`cryoflux_simulate::assets`]) with particles at known positions and poses,
//! motion-corrects them, estimates their CTFs, extracts the particles at the simulator's picks
//! ([`from_movies`]), refines them with `cryoflux refine` from the map low-passed to 30 Å
//! (gold-standard halves, cross-correlation first iteration, norm and scale corrections,
//! auto-sampling with RELION's "finer angular sampling faster" options), post-processes the half
//! maps with a soft spherical mask ([`refinement`]), and reports against the truth: the global
//! shifts' RMS error (px), the defocus errors (Å, degrees), the gold-standard and post-processed
//! resolutions, the resolution against the true map and the angular and offset errors against
//! the true poses. With [`Source::Particles`] the first half is a direct particle simulation
//! ([`from_particles`]) instead.
//!
//! The output directory is a RELION project ([`project`]): jobs in `<Kind>/jobNNN/` folders
//! numbered in order, the simulator's raw data (`movies/`, `gain.mrc`, `coordinates/`) and its
//! truth (`truth/`) at the top, the demo's maps in `Reference/`, all numbers in `assess.json`.

pub mod extracted_truth;
pub mod from_movies;
pub mod from_particles;
pub mod project;
pub mod refinement;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use cryoflux_formats::atomic::write_text;
use cryoflux_reporting::assess::PreprocessingErrors;
use cryoflux_simulate::assets::demo_map;

use from_movies::{MovieSizes, preprocess};
use from_particles::simulate_particles;
use project::Project;
use refinement::{RefinementInput, RefinementOutcome, START_RESOLUTION_ANGST, refine_and_assess};

/// Where the particles come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Source {
    /// Simulated movies, motion-corrected, CTF-estimated and extracted (the default).
    Movies(MovieSizes),
    /// Particle images simulated directly (`--from particles`).
    Particles,
}

/// What `cryoflux demo` runs (its flags).
#[derive(Debug, Clone, PartialEq)]
pub struct DemoSettings {
    /// Output directory (created; its contents are overwritten).
    pub output: PathBuf,
    /// Number of particles to simulate (from movies: spread evenly over the movies, fewer when
    /// they do not fit one box apart).
    pub count: usize,
    /// Signal-to-noise ratio of the particles (signal variance / noise variance; from movies,
    /// in the dose-summed movie).
    pub snr: f64,
    /// Seed of the simulation and the refinement (results are identical for a seed whatever
    /// the thread count).
    pub seed: u64,
    /// Largest number of refinement iterations before the final one (the refinement stops
    /// earlier when it converges).
    pub iter: usize,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
    /// Where the particles come from.
    pub source: Source,
}

/// Runs the demo in `args.output` and prints the report.
pub fn run(args: &DemoSettings) -> anyhow::Result<()> {
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the worker threads")?;
    let start = Instant::now();
    let (count, preprocessing, outcome) = {
        let mut project = Project::enter(&args.output)?;
        pool.install(|| demo(&mut project, args, threads))?
    };
    print_report(args, count, preprocessing.as_ref(), &outcome, start);
    Ok(())
}

/// The whole job inside the project: the particles' count, the preprocessing errors (from
/// movies) and the refinement's outcome; writes `assess.json`.
fn demo(
    project: &mut Project,
    args: &DemoSettings,
    threads: usize,
) -> anyhow::Result<(usize, Option<PreprocessingErrors>, RefinementOutcome)> {
    let truth = demo_map()?;
    let (particles, preprocessing) = match &args.source {
        Source::Movies(sizes) => {
            let done = preprocess(
                project, &truth, sizes, args.count, args.snr, args.seed, threads,
            )?;
            (done.particles, Some(done.errors))
        }
        Source::Particles => (
            simulate_particles(project, &truth, args.count, args.snr, args.seed)?,
            None,
        ),
    };
    let outcome = refine_and_assess(
        project,
        &RefinementInput {
            particles: &particles,
            truth: &truth,
            seed: args.seed,
            iter: args.iter,
            threads,
        },
    )?;
    write_text(
        Path::new("assess.json"),
        &assess_json(preprocessing.as_ref(), &outcome),
    )?;
    Ok((particles.count, preprocessing, outcome))
}

/// All the numbers as one JSON object: `preprocessing` (null without movies),
/// `postprocessed_resolution_angst`, `bfactor_angst2` (null without a Guinier fit) and
/// `refinement` (the assessment against the truth).
fn assess_json(preprocessing: Option<&PreprocessingErrors>, outcome: &RefinementOutcome) -> String {
    let number = |v: Option<f64>| {
        v.filter(|v| v.is_finite())
            .map_or("null".into(), |v| format!("{v:?}"))
    };
    format!(
        "{{\n  \"preprocessing\": {},\n  \"postprocessed_resolution_angst\": {},\n  \
         \"bfactor_angst2\": {},\n  \"refinement\": {}\n}}\n",
        preprocessing.map_or("null".into(), PreprocessingErrors::to_json),
        number(Some(outcome.postprocessed_angst)),
        number(outcome.bfactor.map(|(b, _)| b)),
        outcome
            .assessment
            .to_json()
            .trim_end()
            .replace('\n', "\n  "),
    )
}

/// Prints what the demo ran and reached.
fn print_report(
    args: &DemoSettings,
    count: usize,
    preprocessing: Option<&PreprocessingErrors>,
    outcome: &RefinementOutcome,
    start: Instant,
) {
    let origin = match &args.source {
        Source::Movies(s) => format!(
            "extracted from {} simulated counting movies ({}² px, {} frames at 1 e/Å²)",
            s.movies, s.movie_size, s.frames
        ),
        Source::Particles => "simulated".to_string(),
    };
    println!(
        "cryoflux demo: {count} particles {origin} of the bundled 1TII map (box 48, 3.0 Å/px) \
         at SNR {}, refined from the map low-passed to {START_RESOLUTION_ANGST} Å in {:.0} s",
        args.snr,
        start.elapsed().as_secs_f64()
    );
    if let Some(p) = preprocessing {
        println!(
            "  motion correction: global-shift RMS error against the truth {:.3} px ({} frames)",
            p.shifts.rms_px, p.shifts.frames
        );
        println!(
            "  CTF estimation: mean |ΔU| {:.0} Å, |ΔV| {:.0} Å, astigmatism angle error {:.1}° \
             ({} micrographs)",
            p.defocus.mean_abs_u_angst,
            p.defocus.mean_abs_v_angst,
            p.defocus.mean_angle_deg,
            p.defocus.micrographs
        );
    }
    let assessment = &outcome.assessment;
    if let Some(gold) = &assessment.gold_standard {
        println!(
            "  gold-standard resolution (unmasked half maps, FSC 0.143): {:.2} Å",
            gold.at_0_143
        );
    }
    let bfactor = match outcome.bfactor {
        Some((b, shells)) => format!("B-factor {b:.0} Å² (Guinier fit over {shells} shells)"),
        None => "no B-factor: fewer than 3 shells between 10 Å and the resolution".to_string(),
    };
    println!(
        "  post-processed (soft spherical mask, FSC 0.143):        {:.2} Å, {bfactor}",
        outcome.postprocessed_angst
    );
    if let Some(truth) = &assessment.against_truth {
        println!(
            "  resolution against the truth (FSC 0.5):                 {:.2} Å",
            truth.at_0_5
        );
    }
    let angles = &assessment.angular_error_deg;
    println!(
        "  angular error against the true poses: median {:.1}°, mean {:.1}°, 90th percentile \
         {:.1}°",
        angles.median, angles.mean, angles.p90
    );
    println!(
        "  offset error: median {:.2} Å, mean {:.2} Å",
        assessment.offset_error_angst.median, assessment.offset_error_angst.mean
    );
    let refine_dir = args.output.join(&outcome.refine_dir);
    println!(
        "  outputs in {} ({}run_class001.mrc, assess.json; `cryoflux report {}` draws the run)",
        args.output.display(),
        outcome.refine_dir.display(),
        refine_dir.display()
    );
}
