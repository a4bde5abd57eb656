//! The optimiser file of an iteration (`<root>_itNNN_optimiser.star`, refine.md §8.5): RELION
//! 3.1's `data_optimiser_general` list, which `relion_refine --continue` reads to resume, with
//! cryoflux's settings and auto-refine state after the iteration.
//!
//! Every label RELION 3.1.3 requires on reading is written (checked by deleting each one from a
//! RELION file), plus rlnModelStarFile2, rlnDoSolventFscCorrection,
//! rlnLowresLimitExpectation, rlnOverallAccuracyTranslationsAngst and rlnDoSkipRotate. Values
//! cryoflux does not use take RELION's "unset" spellings: `None` for files, −1 for limits.
//! Units: resolutions in Å except rlnBestResolutionThusFar (Å⁻¹, as RELION); diameters and
//! offsets in Å; angles in degrees; 999 means "not measured yet", as in RELION.
//!
//! The file starts with two comment lines, like RELION's: the program and version, and the
//! command line that ran it. (cryoflux itself resumes from its own checkpoint.)

use std::path::{Path, PathBuf};

use cryoflux_formats::atomic::write_text;
use cryoflux_formats::star::{DataBlock, StarFile, Value};
use cryoflux_kernels::geometry::healpix::angular_step_deg;
use cryoflux_operators::refine::expectation::ADAPTIVE_FRACTION;
use cryoflux_operators::refine::maximisation::SOLVENT_EDGE_PX;
use cryoflux_operators::refine::records::Maximised;

use crate::RefineSettings;
use crate::schedule::Schedule;

/// RELION's value for a measurement not made yet (degrees or Å).
const NOT_MEASURED: f64 = 999.0;

/// RELION's default `--pool` (particles per thread task); it does not change results.
const POOL: i64 = 1;

/// The files an optimiser file points to.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimiserFiles {
    /// The output root (rlnOutputRootName).
    pub root: PathBuf,
    /// The half models (rlnModelStarFile, rlnModelStarFile2).
    pub models: [PathBuf; 2],
    /// The particle file (rlnExperimentalDataStarFile).
    pub data: PathBuf,
    /// The sampling file (rlnOrientSamplingStarFile).
    pub sampling: PathBuf,
}

/// Oversampling order of the fine pass: log₂ of the coarse over the fine angular step.
pub fn oversampling_order(schedule: &Schedule) -> u32 {
    let ratio = angular_step_deg(schedule.healpix_order) / schedule.fine_angular_step_deg();
    ratio.log2().round().max(0.0) as u32
}

/// The optimiser file after iteration `m`, with the `schedule` the next iteration would start
/// from and the job's `settings`.
pub fn optimiser_star(
    files: &OptimiserFiles,
    m: &Maximised,
    schedule: &Schedule,
    settings: &RefineSettings,
) -> StarFile {
    let path = |p: &Path| Value::Text(p.display().to_string());
    let none = || Value::Text("None".into());
    let flag = |b: bool| Value::Int(i64::from(b));
    let measured = |v: f64| Value::Float(if v.is_finite() { v } else { NOT_MEASURED });
    let (accuracy_rot, accuracy_trans) = schedule.accuracy.unwrap_or((NOT_MEASURED, NOT_MEASURED));
    let plan = &m.plan;
    let pairs: Vec<(&str, Value)> = vec![
        ("rlnOutputRootName", path(&files.root)),
        ("rlnModelStarFile", path(&files.models[0])),
        ("rlnModelStarFile2", path(&files.models[1])),
        ("rlnExperimentalDataStarFile", path(&files.data)),
        ("rlnOrientSamplingStarFile", path(&files.sampling)),
        ("rlnCurrentIteration", Value::Int(plan.iteration as i64)),
        (
            "rlnNumberOfIterations",
            Value::Int(settings.iterations as i64),
        ),
        ("rlnDoSplitRandomHalves", flag(true)),
        (
            "rlnJoinHalvesUntilThisResolution",
            Value::Float(plan.low_resolution_join_angst),
        ),
        (
            "rlnAdaptiveOversampleOrder",
            Value::Int(i64::from(oversampling_order(schedule))),
        ),
        (
            "rlnAdaptiveOversampleFraction",
            Value::Float(ADAPTIVE_FRACTION),
        ),
        // RELION reads an int; the seed's bits are kept.
        ("rlnRandomSeed", Value::Int(plan.seed as i64)),
        (
            "rlnParticleDiameter",
            Value::Float(plan.particle_diameter_angst),
        ),
        ("rlnWidthMaskEdge", Value::Int(SOLVENT_EDGE_PX as i64)),
        ("rlnDoZeroMask", flag(true)),
        ("rlnDoSolventFlattening", flag(true)),
        (
            "rlnDoSolventFscCorrection",
            flag(settings.solvent_correct_fsc),
        ),
        (
            "rlnSolventMaskName",
            settings.solvent_mask.as_deref().map_or_else(none, path),
        ),
        ("rlnSolventMask2Name", none()),
        ("rlnTauSpectrumName", none()),
        ("rlnMaximumCoarseImageSize", Value::Int(-1)),
        ("rlnHighresLimitExpectation", Value::Float(-1.0)),
        ("rlnLowresLimitExpectation", Value::Float(-1.0)),
        (
            "rlnIncrementImageSize",
            Value::Int(schedule.incr_size as i64),
        ),
        ("rlnDoMapEstimation", flag(true)),
        ("rlnDoAutoRefine", flag(true)),
        (
            "rlnAutoLocalSearchesHealpixOrder",
            Value::Int(i64::from(settings.auto_local_healpix_order)),
        ),
        (
            "rlnNumberOfIterWithoutResolutionGain",
            Value::Int(schedule.iterations_without_gain as i64),
        ),
        (
            "rlnBestResolutionThusFar",
            Value::Float(1.0 / schedule.resolution_angst()),
        ),
        (
            "rlnNumberOfIterWithoutChangingAssignments",
            Value::Int(schedule.iterations_without_large_changes as i64),
        ),
        ("rlnDoSkipAlign", flag(false)),
        ("rlnDoSkipRotate", flag(false)),
        ("rlnOverallAccuracyRotations", Value::Float(accuracy_rot)),
        (
            "rlnOverallAccuracyTranslationsAngst",
            Value::Float(accuracy_trans),
        ),
        (
            "rlnChangesOptimalOrientations",
            measured(m.stats.mean_angular_change_deg),
        ),
        (
            "rlnChangesOptimalOffsets",
            measured(m.stats.rms_offset_change_angst),
        ),
        ("rlnChangesOptimalClasses", Value::Float(0.0)),
        (
            "rlnSmallestChangesOrientations",
            measured(schedule.smallest_angular_change_deg),
        ),
        (
            "rlnSmallestChangesOffsets",
            measured(schedule.smallest_offset_change_angst),
        ),
        ("rlnSmallestChangesClasses", Value::Int(0)),
        ("rlnHasConverged", flag(schedule.converged)),
        ("rlnHasHighFscAtResolLimit", flag(false)),
        ("rlnHasLargeSizeIncreaseIterationsAgo", Value::Int(0)),
        ("rlnDoCorrectNorm", flag(plan.norm_correction)),
        ("rlnDoCorrectScale", flag(plan.scale_correction)),
        ("rlnDoCorrectCtf", flag(settings.ctf)),
        (
            "rlnDoIgnoreCtfUntilFirstPeak",
            flag(plan.ctf_intact_first_peak),
        ),
        ("rlnCtfDataArePhaseFlipped", flag(false)),
        ("rlnDoOnlyFlipCtfPhases", flag(false)),
        ("rlnRefsAreCtfCorrected", flag(true)),
        ("rlnFixSigmaNoiseEstimates", flag(false)),
        ("rlnFixSigmaOffsetEstimates", flag(false)),
        ("rlnMaxNumberOfPooledParticles", Value::Int(POOL)),
    ];
    StarFile {
        blocks: vec![DataBlock {
            name: "optimiser_general".into(),
            pairs: pairs
                .into_iter()
                .map(|(label, value)| (label.to_string(), value))
                .collect(),
            table: None,
        }],
    }
}

/// Writes `star` to `path` atomically after the two comment lines of the module doc.
pub fn write_optimiser(path: &Path, star: &StarFile) -> anyhow::Result<()> {
    let command: Vec<String> = std::env::args().collect();
    let text = format!(
        "# cryoflux optimiser (RELION 3.1 layout); version {}\n# {}\n{}",
        env!("CARGO_PKG_VERSION"),
        command.join(" "),
        star.to_string()?
    );
    write_text(path, &text)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::fixture::{maximised, settings};
    use crate::schedule::SamplingOptions;

    #[test]
    fn state_after_the_iteration_in_relion_units() {
        let m = maximised(None);
        let mut schedule =
            Schedule::new(8, 2.0, 16.0, 12.0, SamplingOptions::coarse_for_tests(), 5);
        schedule.update(&m.fsc, &m.stats, false);
        let files = OptimiserFiles {
            root: "R/run".into(),
            models: [
                "R/run_it002_half1_model.star".into(),
                "R/run_it002_half2_model.star".into(),
            ],
            data: "R/run_it002_data.star".into(),
            sampling: "R/run_it002_sampling.star".into(),
        };
        let star = optimiser_star(&files, &m, &schedule, &settings());
        let general = star.block("optimiser_general").unwrap();
        let pair = |label: &str| general.pair(label).cloned().unwrap();
        assert_eq!(
            pair("rlnModelStarFile2"),
            Value::Text("R/run_it002_half2_model.star".into())
        );
        assert_eq!(pair("rlnCurrentIteration"), Value::Int(2));
        assert_eq!(pair("rlnAdaptiveOversampleOrder"), Value::Int(1));
        assert_eq!(pair("rlnRandomSeed"), Value::Int(7));
        // The resolution shell is raised to the minimum (5) and capped at N/2 = 4: 16 Å / 4.
        assert_eq!(pair("rlnBestResolutionThusFar"), Value::Float(0.25));
        // Rotational accuracy was estimated, translational not: the schedule keeps neither.
        assert_eq!(pair("rlnOverallAccuracyRotations"), Value::Float(999.0));
        assert_eq!(pair("rlnSmallestChangesOrientations"), Value::Float(0.0));
        assert_eq!(pair("rlnSolventMaskName"), Value::Text("None".into()));
        assert_eq!(pair("rlnDoCorrectCtf"), Value::Int(1));
        assert_eq!(pair("rlnHasConverged"), Value::Int(0));
    }

    #[test]
    fn the_file_opens_with_relion_style_comments_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run_it001_optimiser.star");
        let star = StarFile {
            blocks: vec![DataBlock {
                name: "optimiser_general".into(),
                pairs: vec![("rlnCurrentIteration".into(), Value::Int(1))],
                table: None,
            }],
        };
        write_optimiser(&path, &star).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# cryoflux optimiser"), "{text}");
        assert_eq!(StarFile::read(&path).unwrap(), star);
    }
}
