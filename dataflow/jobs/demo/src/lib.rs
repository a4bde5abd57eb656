//! The main job on the embedded default, start to finish. Simulates particles
//! from the bundled heat-labile enterotoxin map (PDB 1TII, asymmetric; see
//! [`cryoflux_simulate::assets`]) at random poses, refines them with `cryoflux refine` from the
//! map low-passed to 30 Å (gold-standard halves, cross-correlation first iteration, norm and
//! scale corrections, auto-sampling with RELION's "finer angular sampling faster" options),
//! post-processes the half maps with a soft spherical mask, and reports the gold-standard
//! resolution, the resolution against the truth and the angular and offset errors against the
//! true poses.
//!
//! Folders under `--o`: `Simulate/` (particles.star, particles.mrcs, truth.star),
//! `Reference/reference_lp30.mrc`, `Refine3D/run_*` (RELION's layout), `PostProcess/`,
//! `MaskCreate/sphere.mrc` and `assess.json`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use cryoflux_kernels::fourier::fft;
use cryoflux_kernels::fourier::filter::low_pass;
use cryoflux_kernels::mask::soft_sphere;

use cryoflux_jobkit::maps::{Grids, write_grids};
use cryoflux_postprocess::outputs::{InputNames, write_all};
use cryoflux_postprocess::settings::Settings;
use cryoflux_postprocess::{HalfMaps, postprocess};
use cryoflux_refine::{RefineSettings, refine};
use cryoflux_reporting::assess::{AssessInputs, Assessment, assess};
use cryoflux_simulate::assets::demo_map;
use cryoflux_simulate::{SimulationConfig, simulate};

/// Resolution (Å) of the low-passed truth the refinement starts from.
const START_RESOLUTION_ANGST: f64 = 30.0;

/// Particle diameter (Å) of the demo map's protein (its longest extent is ≈ 110 Å).
const PARTICLE_DIAMETER_ANGST: f64 = 110.0;

/// What `cryoflux demo` runs (its flags).
#[derive(Debug, Clone, PartialEq)]
pub struct DemoSettings {
    /// Output directory (created; its subfolders are overwritten).
    pub output: PathBuf,
    /// Number of particles to simulate.
    pub count: usize,
    /// Signal-to-noise ratio of the simulated images (signal variance / noise variance).
    pub snr: f64,
    /// Seed of the simulation and the refinement (results are identical for a seed whatever
    /// the thread count).
    pub seed: u64,
    /// Largest number of refinement iterations before the final one (the refinement stops
    /// earlier when it converges).
    pub iter: usize,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
}

/// Simulates, refines, post-processes and assesses; prints the report.
pub fn run(args: &DemoSettings) -> anyhow::Result<()> {
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the worker threads")?;
    let start = Instant::now();
    let (assessment, (resolution, bfactor)) = pool.install(|| demo(args, threads))?;
    println!(
        "cryoflux demo: {} particles of the bundled 1TII map (box 48, 3.0 Å/px) at SNR {}, \
         refined from the map low-passed to {START_RESOLUTION_ANGST} Å in {:.0} s",
        args.count,
        args.snr,
        start.elapsed().as_secs_f64()
    );
    if let Some(gold) = &assessment.gold_standard {
        println!(
            "  gold-standard resolution (unmasked half maps, FSC 0.143): {:.2} Å",
            gold.at_0_143
        );
    }
    println!(
        "  post-processed (soft spherical mask, FSC 0.143):        {resolution:.2} Å, {bfactor}"
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
    println!(
        "  outputs in {} (Refine3D/run_class001.mrc, PostProcess/postprocess.mrc; \
         `cryoflux report {}` draws the run)",
        args.output.display(),
        args.output.join("Refine3D").display()
    );
    Ok(())
}

/// The whole job; returns the assessment and the post-processed resolution (Å) with a
/// sentence on its B-factor.
fn demo(args: &DemoSettings, threads: usize) -> anyhow::Result<(Assessment, (f64, String))> {
    let truth = demo_map()?;
    let out = &args.output;
    let config = SimulationConfig::typical(args.count, args.seed, args.snr);
    let simulated = simulate(&truth, &config, &out.join("Simulate"))?;
    eprintln!(
        "cryoflux demo: simulated {} particles in {:.1} s",
        simulated.particles, simulated.seconds
    );

    let truth_path = out.join("Reference/truth.mrc");
    let reference_path = out.join("Reference/reference_lp30.mrc");
    write_map(&truth_path, truth.clone())?;
    let mut f = fft::forward(&truth);
    low_pass(
        &mut f,
        truth.n() as f64 * truth.pixel_size() / START_RESOLUTION_ANGST,
        2.0,
    )?;
    write_map(&reference_path, fft::inverse(&f))?;

    let root = out.join("Refine3D/run");
    let settings = RefineSettings {
        ini_high: START_RESOLUTION_ANGST,
        ctf: true,
        offset_step: 2.0,
        iterations: args.iter,
        firstiter_cc: true,
        norm_correction: true,
        scale_correction: true,
        auto_ignore_angles: true,
        auto_resol_angles: true,
        threads,
        seed: args.seed,
        progress: std::io::stderr().is_terminal(),
        ..RefineSettings::new(
            &simulated.particles_star,
            reference_path,
            &root,
            PARTICLE_DIAMETER_ANGST,
        )
    };
    refine(&settings)?;

    let suffix = |s: &str| PathBuf::from(format!("{}{s}", root.display()));
    let (half1, half2) = (
        suffix("_half1_class001_unfil.mrc"),
        suffix("_half2_class001_unfil.mrc"),
    );
    let mask = soft_sphere::<3>(
        truth.n(),
        truth.pixel_size(),
        PARTICLE_DIAMETER_ANGST / (2.0 * truth.pixel_size()),
        5.0,
    )?;
    let mask_path = out.join("MaskCreate/sphere.mrc");
    write_map(&mask_path, mask.clone())?;
    let maps = HalfMaps::new(
        cryoflux_jobkit::maps::read_volume(&half1, None)?,
        cryoflux_jobkit::maps::read_volume(&half2, None)?,
        Some(mask),
    )?;
    let result = postprocess(&maps, &Settings::default())?;
    let names = InputNames {
        half1: half1.display().to_string(),
        half2: half2.display().to_string(),
        mask: Some(mask_path.display().to_string()),
    };
    write_all(&out.join("PostProcess/postprocess"), &result, &names)
        .context("cannot write the post-processing outputs")?;

    let assessment = assess(&AssessInputs {
        data: suffix("_data.star"),
        truth: simulated.truth_star.clone(),
        symmetry: "C1".into(),
        map_and_truth: Some((suffix("_class001.mrc"), truth_path)),
        half_maps: Some((half1, half2)),
    })?;
    assessment.write_json(&out.join("assess.json"))?;
    let bfactor = match &result.sharpened.fit {
        Some(fit) if fit.points >= 3 => format!(
            "B-factor {:.0} Å² (Guinier fit over {} shells)",
            result.sharpened.bfactor, fit.points
        ),
        _ => "no B-factor: fewer than 3 shells between 10 Å and the resolution".to_string(),
    };
    Ok((assessment, (result.fsc.resolution, bfactor)))
}

/// Writes `map` at `path`, creating its folder.
fn write_map(path: &Path, map: cryoflux_kernels::grid::Volume) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    }
    write_grids(path, &Grids::Volume(map))
}
