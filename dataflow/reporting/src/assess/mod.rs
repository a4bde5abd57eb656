//! How good a refinement of simulated particles is, measured against the simulation's truth:
//! per-particle angular error (degrees, symmetry-aware) and offset error (Å), resolution of the
//! refined map against the true map (FSC 0.5 and 0.143) and gold-standard resolution between the
//! unfiltered half maps (FSC 0.143).
//!
//! The main numbers apply no global alignment: a refinement started from the truth low-passed
//! (as `cryoflux bench refine` does) is expected to share the truth's frame and hand. That can
//! fail — from a 40 Å low-pass of a 60 Å particle RELION has converged to the mirror image — so
//! [`assess_aligned`] also estimates the refinement's own frame from the poses ([`frame`]) and
//! measures the angular errors and the FSC against the truth again in it.
//!
//! A particle with pseudo-symmetry (the HIV-1 protease dimer of the bundled map is nearly C2)
//! can be assigned to either pseudo-mate pose; the angular errors then split into a group near
//! 0° and one near the pseudo-symmetry angle, and the frame's `fraction` shows the split.

pub mod frame;
mod poses;
pub mod preprocessing;
mod report;
mod resolution;
mod stats;

use std::path::PathBuf;

use anyhow::Context;
use cryoflux_kernels::geometry::symmetry::SymmetryGroup;

pub use frame::{FRAME_TOLERANCE_DEG, Frame, estimate_frame, map_in_frame, poses_in_frame};
pub use poses::{Matching, Pose, PoseTable, match_by_image, pose_errors};
pub use preprocessing::{
    DefocusErrors, PreprocessingErrors, ShiftError, defocus_errors, global_shift_error,
};
pub use resolution::{FscResolution, fsc_resolution, map_fsc, read_pair};
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
    /// The measurements in the refinement's own frame ([`assess_aligned`] only).
    pub in_frame: Option<InFrame>,
}

/// Errors measured after carrying the truth into the refinement's frame.
#[derive(Debug, Clone, PartialEq)]
pub struct InFrame {
    /// The refinement's frame relative to the truth's.
    pub frame: Frame,
    /// Symmetry-aware angular error in degrees against the truth's poses in that frame.
    pub angular_error_deg: ErrorStats,
    /// FSC of the refined map against the truth map carried into that frame.
    pub against_truth: Option<FscResolution>,
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

/// Reads the inputs and measures everything asked for, in the truth's frame.
pub fn assess(inputs: &AssessInputs) -> anyhow::Result<Assessment> {
    measure(inputs, false)
}

/// [`assess`], and also the refinement's own frame with the errors and FSC measured in it.
pub fn assess_aligned(inputs: &AssessInputs) -> anyhow::Result<Assessment> {
    measure(inputs, true)
}

fn measure(inputs: &AssessInputs, align: bool) -> anyhow::Result<Assessment> {
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
    let in_frame = if align {
        in_frame(inputs, &data, &truth, &matching, &group)?
    } else {
        None
    };
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
        in_frame,
    })
}

/// The frame shared by most particles, and the errors and FSC measured in it.
fn in_frame(
    inputs: &AssessInputs,
    data: &PoseTable,
    truth: &PoseTable,
    matching: &Matching,
    group: &SymmetryGroup,
) -> anyhow::Result<Option<InFrame>> {
    let Some(frame) = estimate_frame(data, truth, matching, group) else {
        return Ok(None);
    };
    let moved = poses_in_frame(truth, &frame);
    let (angles, _) = pose_errors(data, &moved, matching, group);
    let against_truth = match &inputs.map_and_truth {
        Some((map, truth_map)) => {
            let (refined, true_map) = read_pair(map, truth_map)?;
            Some(fsc_resolution(&refined, &map_in_frame(&true_map, &frame)?)?)
        }
        None => None,
    };
    Ok(ErrorStats::of(&angles).map(|angular_error_deg| InFrame {
        frame,
        angular_error_deg,
        against_truth,
    }))
}
