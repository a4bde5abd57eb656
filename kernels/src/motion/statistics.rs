//! RELION 3.1.3's accumulated motion statistics (`rlnAccumMotionTotal`, `rlnAccumMotionEarly`,
//! `rlnAccumMotionLate` in `corrected_micrographs.star`) from the global shifts.
//!
//! Each is a sum of frame-to-frame distances √(Δx² + Δy²) of the global shifts, **in the
//! pixels the shifts are stored in (unbinned movie px), not Å**: running
//! `relion_run_motioncorr --use_own` on the same movie with a pixel size of 1 Å and of 2 Å
//! (optics table and `--angpix`) gives the same values. The step into frame i (0-based movie
//! frame number) counts as early when the dose at the end of that frame,
//! `pre_exposure + dose_per_frame·(i + 1)` (e/Å²), is at most `--dose_motionstats_cutoff`
//! (default 4 e/Å²), and as late otherwise; total = early + late. Checked against RELION with
//! (pre-exposure, first frame) = (0.5, 1): 2 early steps, (0, 1): 3, (0, 3): 1, at 1 e/Å² per
//! frame.

use crate::grid::GridError;

/// RELION's default `--dose_motionstats_cutoff`, in e/Å².
pub const DEFAULT_CUTOFF: f64 = 4.0;

/// The dose schedule needed to split early from late motion.
#[derive(Debug, Clone, PartialEq)]
pub struct DoseSchedule {
    /// 0-based movie frame number of the first shift given (`--first_frame_sum` − 1).
    pub first_frame: usize,
    /// `--dose_per_frame`, in e/Å² per frame.
    pub dose_per_frame: f64,
    /// `--preexposure`, in e/Å².
    pub pre_exposure: f64,
    /// `--dose_motionstats_cutoff`, in e/Å² (default [`DEFAULT_CUTOFF`]).
    pub cutoff: f64,
}

/// Accumulated motion of one movie, in px (see the module documentation for the unit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AccumulatedMotion {
    /// `rlnAccumMotionTotal`: early + late, px.
    pub total: f64,
    /// `rlnAccumMotionEarly`: motion into frames ending at or below the dose cutoff, px.
    pub early: f64,
    /// `rlnAccumMotionLate`: the rest, px.
    pub late: f64,
}

/// Accumulated motion of consecutive global `shifts` (px, one per frame from
/// `schedule.first_frame` on).
pub fn accumulated_motion(
    shifts: &[[f64; 2]],
    schedule: &DoseSchedule,
) -> Result<AccumulatedMotion, GridError> {
    for (what, value) in [
        ("--dose_per_frame (e/Å²)", schedule.dose_per_frame),
        ("--preexposure (e/Å²)", schedule.pre_exposure),
        ("--dose_motionstats_cutoff (e/Å²)", schedule.cutoff),
    ] {
        if !value.is_finite() || value < 0.0 {
            return Err(GridError::OutOfRange {
                what,
                value,
                expected: "a finite dose >= 0",
            });
        }
    }
    let (mut early, mut late) = (0.0, 0.0);
    for (i, pair) in shifts.windows(2).enumerate() {
        let step = (pair[1][0] - pair[0][0]).hypot(pair[1][1] - pair[0][1]);
        let frame = schedule.first_frame + i + 1;
        let dose_at_end = schedule.pre_exposure + schedule.dose_per_frame * (frame + 1) as f64;
        if dose_at_end <= schedule.cutoff {
            early += step;
        } else {
            late += step;
        }
    }
    Ok(AccumulatedMotion {
        total: early + late,
        early,
        late,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(first_frame: usize, pre_exposure: f64) -> DoseSchedule {
        DoseSchedule {
            first_frame,
            dose_per_frame: 1.0,
            pre_exposure,
            cutoff: DEFAULT_CUTOFF,
        }
    }

    #[test]
    fn hand_computed_example() {
        // Steps of 5 (3-4-5 triangle), 1, 2, 0.5 px between five frames.
        let shifts = [[0.0, 0.0], [3.0, 4.0], [3.0, 5.0], [1.0, 5.0], [1.0, 5.5]];
        // Doses at the end of frames 1, 2, 3, 4: 2.5, 3.5, 4.5, 5.5 e/Å²: early = 5 + 1.
        let m = accumulated_motion(&shifts, &schedule(0, 0.5)).unwrap();
        assert_eq!((m.total, m.early, m.late), (8.5, 6.0, 2.5));
        // No pre-exposure: frame 3 ends at exactly 4 e/Å², still early.
        let m = accumulated_motion(&shifts, &schedule(0, 0.0)).unwrap();
        assert_eq!((m.early, m.late), (8.0, 0.5));
        // Starting at movie frame 2 (--first_frame_sum 3): only the step into frame 3 is early.
        let m = accumulated_motion(&shifts, &schedule(2, 0.0)).unwrap();
        assert_eq!((m.early, m.late), (5.0, 3.5));
    }

    #[test]
    fn matches_relion_on_its_own_shifts() {
        // Global shifts RELION 3.1.3 wrote for a simulated 512² × 16 movie, and the statistics
        // it reported (dose 1 e/Å²/frame, pre-exposure 0.5): 13.778057, 3.467631, 10.310426.
        let shifts = [
            [0.0, 0.0],
            [-1.91431, 0.877559],
            [-3.18256, 1.373475],
            [-4.20812, 1.751411],
            [-5.15567, 2.076588],
            [-6.03643, 2.369057],
            [-6.85167, 2.638446],
            [-7.64305, 2.906437],
            [-8.37713, 3.127687],
            [-9.09157, 3.355410],
            [-9.79708, 3.588937],
            [-10.43207, 3.799333],
            [-11.11673, 4.025935],
            [-11.74826, 4.222856],
            [-12.34667, 4.402114],
            [-12.99043, 4.535571],
        ];
        let m = accumulated_motion(&shifts, &schedule(0, 0.5)).unwrap();
        assert!((m.total - 13.778057).abs() < 1e-5, "{m:?}");
        assert!((m.early - 3.467631).abs() < 1e-5, "{m:?}");
        assert!((m.late - 10.310426).abs() < 1e-5, "{m:?}");
        assert!(
            accumulated_motion(
                &shifts,
                &DoseSchedule {
                    cutoff: -1.0,
                    ..schedule(0, 0.0)
                }
            )
            .is_err()
        );
    }
}
