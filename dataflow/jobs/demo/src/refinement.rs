//! The demo's second half, the same whichever way the particles were made: refine them with
//! `cryoflux refine` from the true map low-passed to 30 Å, post-process the half maps inside a
//! soft spherical mask, and assess the refinement against the true poses and map.
//!
//! Files (relative to the project): `Reference/truth.mrc` and `Reference/reference_lp30.mrc`,
//! `Refine3D/jobNNN/run_*` (RELION's layout), `MaskCreate/jobNNN/mask.mrc`,
//! `PostProcess/jobNNN/postprocess*`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;
use cryoflux_jobkit::maps::{Grids, read_volume, write_grids};
use cryoflux_kernels::fourier::fft;
use cryoflux_kernels::fourier::filter::low_pass;
use cryoflux_kernels::grid::Volume;
use cryoflux_kernels::mask::soft_sphere;
use cryoflux_postprocess::outputs::{InputNames, write_all};
use cryoflux_postprocess::settings::Settings;
use cryoflux_postprocess::{HalfMaps, postprocess};
use cryoflux_refine::{RefineSettings, refine};
use cryoflux_reporting::assess::{AssessInputs, Assessment, assess};

use crate::project::Project;

/// Resolution (Å) of the low-passed truth the refinement starts from.
pub const START_RESOLUTION_ANGST: f64 = 30.0;

/// Particle diameter (Å) of the demo map's protein (its longest extent is ≈ 110 Å).
pub const PARTICLE_DIAMETER_ANGST: f64 = 110.0;

/// Particles made by the demo's first half, with their truth.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticleSet {
    /// The particle STAR file (with CTFs), relative to the project.
    pub star: PathBuf,
    /// The true poses of the same particles (matched by `rlnImageName`).
    pub true_poses: PathBuf,
    /// Number of particles.
    pub count: usize,
}

/// What to refine, from where.
#[derive(Debug, Clone)]
pub struct RefinementInput<'a> {
    /// The particles.
    pub particles: &'a ParticleSet,
    /// The true map (box and pixel size of the particles).
    pub truth: &'a Volume,
    /// Seed of the refinement's random half sets.
    pub seed: u64,
    /// Largest number of iterations before the final one.
    pub iter: usize,
    /// Worker threads.
    pub threads: usize,
}

/// What the refinement reached.
#[derive(Debug, Clone)]
pub struct RefinementOutcome {
    /// Against the truth, and the gold-standard resolution.
    pub assessment: Assessment,
    /// Post-processed resolution (masked FSC 0.143), Å.
    pub postprocessed_angst: f64,
    /// Sharpening B-factor in Å² and the number of shells of its Guinier fit, if fitted over
    /// at least 3 shells.
    pub bfactor: Option<(f64, usize)>,
    /// The Refine3D job directory.
    pub refine_dir: PathBuf,
}

/// Refines, masks, post-processes and assesses; see the module doc.
pub fn refine_and_assess(
    project: &mut Project,
    input: &RefinementInput<'_>,
) -> anyhow::Result<RefinementOutcome> {
    let truth = input.truth;
    let truth_path = PathBuf::from("Reference/truth.mrc");
    let reference_path = PathBuf::from("Reference/reference_lp30.mrc");
    write_map(&truth_path, truth.clone())?;
    let mut f = fft::forward(truth);
    low_pass(
        &mut f,
        truth.n() as f64 * truth.pixel_size() / START_RESOLUTION_ANGST,
        2.0,
    )?;
    write_map(&reference_path, fft::inverse(&f))?;

    let refine_dir = project.job("Refine3D");
    let root = refine_dir.join("run");
    let settings = RefineSettings {
        ini_high: START_RESOLUTION_ANGST,
        ctf: true,
        offset_step: 2.0,
        iterations: input.iter,
        firstiter_cc: true,
        norm_correction: true,
        scale_correction: true,
        auto_ignore_angles: true,
        auto_resol_angles: true,
        threads: input.threads,
        seed: input.seed,
        progress: std::io::stderr().is_terminal(),
        ..RefineSettings::new(
            &input.particles.star,
            reference_path,
            &root,
            PARTICLE_DIAMETER_ANGST,
        )
    };
    refine(&settings)?;

    let output = |suffix: &str| refine_dir.join(format!("run{suffix}"));
    let (half1, half2) = (
        output("_half1_class001_unfil.mrc"),
        output("_half2_class001_unfil.mrc"),
    );
    let mask = soft_sphere::<3>(
        truth.n(),
        truth.pixel_size(),
        PARTICLE_DIAMETER_ANGST / (2.0 * truth.pixel_size()),
        5.0,
    )?;
    let mask_path = project.job("MaskCreate").join("mask.mrc");
    write_map(&mask_path, mask.clone())?;
    let maps = HalfMaps::new(
        read_volume(&half1, None)?,
        read_volume(&half2, None)?,
        Some(mask),
    )?;
    let result = postprocess(&maps, &Settings::default())?;
    let names = InputNames {
        half1: half1.display().to_string(),
        half2: half2.display().to_string(),
        mask: Some(mask_path.display().to_string()),
    };
    write_all(
        &project.job("PostProcess").join("postprocess"),
        &result,
        &names,
    )
    .context("cannot write the post-processing outputs")?;

    let assessment = assess(&AssessInputs {
        data: output("_data.star"),
        truth: input.particles.true_poses.clone(),
        symmetry: "C1".into(),
        map_and_truth: Some((output("_class001.mrc"), truth_path)),
        half_maps: Some((half1, half2)),
    })?;
    let bfactor = result
        .sharpened
        .fit
        .as_ref()
        .filter(|fit| fit.points >= 3)
        .map(|fit| (result.sharpened.bfactor, fit.points));
    Ok(RefinementOutcome {
        assessment,
        postprocessed_angst: result.fsc.resolution,
        bfactor,
        refine_dir,
    })
}

/// Writes `map` at `path`, creating its folder.
fn write_map(path: &Path, map: Volume) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    }
    write_grids(path, &Grids::Volume(map))
}
