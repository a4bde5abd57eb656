//! How good a refinement of simulated particles is, measured against the simulation's truth:
//! per-particle angular error (degrees, symmetry-aware) and offset error (Å), resolution of the
//! refined map against the true map (FSC 0.5 and 0.143) and gold-standard resolution between the
//! unfiltered half maps (FSC 0.143).
//!
//! No global alignment is applied: the refinement is expected to start from the truth
//! low-passed (as `cryoflux bench refine` does), so refined poses and map share the truth's
//! frame and hand. A refinement started from an unrelated reference may converge to a rotated,
//! shifted or mirrored frame; its errors here would then be large although the map could be
//! good — align the map to the truth (e.g. with ChimeraX) and transform the poses first.

mod poses;
mod report;
mod resolution;
mod stats;

use std::path::PathBuf;

use anyhow::Context;
use cryoflux_kernels::symmetry::SymmetryGroup;

pub use poses::{Matching, Pose, PoseTable, match_by_image, pose_errors};
pub use resolution::{FscResolution, map_fsc};
pub use stats::ErrorStats;

/// What to assess.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessInputs {
    /// The refinement's particles (e.g. `run_data.star`, or a Parquet table).
    pub data: PathBuf,
    /// The true poses (the simulation's `truth.star`).
    pub truth: PathBuf,
    /// Point group of the refinement (RELION symbol); angular errors are minimised over it.
    pub symmetry: String,
    /// (refined map, true map) for the FSC against the truth, if wanted.
    pub map_and_truth: Option<(PathBuf, PathBuf)>,
    /// The two unfiltered half maps for the gold-standard FSC, if wanted.
    pub half_maps: Option<(PathBuf, PathBuf)>,
}

/// The measurements.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// The point group, as a canonical RELION symbol.
    pub symmetry: String,
    /// Which particles were compared.
    pub particles: ParticleCounts,
    /// Symmetry-aware angular error in degrees over the matched particles.
    pub angular_error_deg: ErrorStats,
    /// Origin error in Å over the matched particles.
    pub offset_error_angst: ErrorStats,
    /// FSC of the refined map against the true map.
    pub against_truth: Option<FscResolution>,
    /// FSC between the two unfiltered half maps (report its 0.143 resolution).
    pub gold_standard: Option<FscResolution>,
}

/// How many particles each file had, and how many were in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParticleCounts {
    /// Particles in both files (matched by `rlnImageName`).
    pub matched: usize,
    /// Refined particles absent from the truth.
    pub only_in_data: usize,
    /// True particles absent from the refinement.
    pub only_in_truth: usize,
}

/// Reads the inputs and measures everything asked for.
pub fn assess(inputs: &AssessInputs) -> anyhow::Result<Assessment> {
    let group = SymmetryGroup::parse(&inputs.symmetry)?;
    let data = PoseTable::read(&inputs.data)?;
    let truth = PoseTable::read(&inputs.truth)?;
    let matching = match_by_image(&data, &truth)?;
    let (angles, offsets) = pose_errors(&data, &truth, &matching, &group);
    let stats = |values: &[f64]| {
        ErrorStats::of(values)
            .with_context(|| format!("{} has no particles", inputs.data.display()))
    };
    let fsc =
        |maps: &Option<(PathBuf, PathBuf)>| maps.as_ref().map(|(a, b)| map_fsc(a, b)).transpose();
    Ok(Assessment {
        symmetry: group.point_group().to_string(),
        particles: ParticleCounts {
            matched: matching.pairs.len(),
            only_in_data: matching.only_in_data,
            only_in_truth: matching.only_in_truth,
        },
        angular_error_deg: stats(&angles)?,
        offset_error_angst: stats(&offsets)?,
        against_truth: fsc(&inputs.map_and_truth)?,
        gold_standard: fsc(&inputs.half_maps)?,
    })
}
