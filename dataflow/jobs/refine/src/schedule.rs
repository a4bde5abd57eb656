//! The auto-refine schedule (refine.md §3.3, §4.3–4.6): between iterations it takes the
//! gold-standard FSC and the iteration's statistics and decides the next iteration's resolution,
//! image sizes, angular and translational sampling, whether the search is local, and when the
//! refinement has converged (the next iteration is then the final one).
//!
//! - Resolution: the last shell before FSC < 0.5 (RELION's upward check for shells beyond +3,
//!   at least [`MIN_RESOLUTION_SHELL`]); Δ = `incr_size` (10 shells) is raised to
//!   r(FSC < 0.143) − r(FSC < 0.5) + 5; current size min(N, 2·(shell + Δ)).
//! - Hidden-variable changes (§4.3): an iteration counts as "without large changes" when the
//!   mean angular change is below 0.4 fine steps (or not smaller than the smallest seen, within
//!   3 %) and likewise the RMS offset change against the fine translation step.
//! - Sampling (§4.4): after a resolution stall and settled assignments (or earlier with
//!   `auto_resol_angles` / `auto_ignore_angles`), unless the fine angular step is already below
//!   75 % of the estimated accuracy, the HEALPix order goes up by one, the translation step
//!   follows the translational accuracy (fine step ≤ 1.5 Å) and the range five times the RMS
//!   offset change; from `auto_local_healpix_order` on the search is local with σ = 2 fine steps.
//! - Convergence (§4.6): sampling fine enough, no resolution gain, assignments settled; or the
//!   iteration limit.

use cryoflux_operators::refine::records::IterationStats;
use serde::{Deserialize, Serialize};

/// Default increase of the image size beyond the resolution shell (RELION `incr_size`).
pub const INCR_SIZE: usize = 10;

/// Smallest resolution shell the schedule ever uses (RELION: 5).
pub const MIN_RESOLUTION_SHELL: usize = 5;

/// Largest fine translation step after a sampling refinement (Å).
const MAX_FINE_OFFSET_STEP_ANGST: f64 = 1.5;

/// Oversampling order of the fine pass.
const OVERSAMPLING: u32 = 1;

/// The sampling options a job starts with and how it may refine them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplingOptions {
    /// HEALPix order of the first iteration's coarse grid.
    pub healpix_order: u32,
    /// Translation search range (Å) of the first iteration.
    pub offset_range_angst: f64,
    /// Coarse translation step (Å) of the first iteration.
    pub offset_step_angst: f64,
    /// Order from which searches are local (RELION `--auto_local_healpix_order`).
    pub auto_local_healpix_order: u32,
    /// RELION `--auto_resol_angles`.
    pub auto_resol_angles: bool,
    /// RELION `--auto_ignore_angles`.
    pub auto_ignore_angles: bool,
}

#[cfg(test)]
impl SamplingOptions {
    /// Order 1 (15° fine step), offsets ±4 Å in steps of 2 Å, local searches from order 4, no
    /// shortcuts: the options of the small unit-test schedules.
    pub(crate) fn coarse_for_tests() -> Self {
        Self {
            healpix_order: 1,
            offset_range_angst: 4.0,
            offset_step_angst: 2.0,
            auto_local_healpix_order: 4,
            auto_resol_angles: false,
            auto_ignore_angles: false,
        }
    }
}

/// Where the schedule stands between iterations (saved in checkpoints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// Box N of the particles (pixels).
    pub box_size: usize,
    /// Pixel size (Å).
    pub pixel_size: f64,
    /// Particle diameter (Å), for the coarse image size.
    pub particle_diameter_angst: f64,
    /// How the sampling may be refined.
    pub options: SamplingOptions,
    /// HEALPix order of the coarse orientation grid.
    pub healpix_order: u32,
    /// Translation search range (Å).
    pub offset_range_angst: f64,
    /// Coarse translation step (Å).
    pub offset_step_angst: f64,
    /// σ (degrees) of the local orientation search, `None` for a global search.
    pub local_sigma_deg: Option<f64>,
    /// Current resolution shell (FSC = 0.5 point, or N·p/ini_high before iteration 1).
    pub resolution_shell: usize,
    /// Increase of the image size beyond the resolution shell (shells).
    pub incr_size: usize,
    /// Iterations in a row without resolution gain.
    pub iterations_without_gain: usize,
    /// Iterations in a row without large changes of the poses.
    pub iterations_without_large_changes: usize,
    /// Smallest mean angular change seen at this sampling (degrees).
    pub smallest_angular_change_deg: f64,
    /// Smallest RMS offset change seen at this sampling (Å).
    pub smallest_offset_change_angst: f64,
    /// The fine angular step is below 75 % of the estimated accuracy.
    pub fine_enough_sampling: bool,
    /// Latest estimated accuracy (degrees, Å).
    pub accuracy: Option<(f64, f64)>,
    /// Iterations run so far.
    pub iterations_done: usize,
    /// Largest number of iterations before the final one.
    pub max_iterations: usize,
    /// The next iteration is the final one.
    pub converged: bool,
}

/// Coarse angular step (degrees) of a HEALPix order: 360/(6·2^order).
pub fn angular_step_deg(order: u32) -> f64 {
    360.0 / (6.0 * 2f64.powi(order as i32))
}

/// Fine (oversampled) angular step (degrees) of a coarse HEALPix order.
pub fn fine_angular_step_deg(order: u32) -> f64 {
    angular_step_deg(order + OVERSAMPLING)
}

/// Fine (oversampled) translation step (Å) of a coarse step (Å).
pub fn fine_offset_step_angst(coarse_step_angst: f64) -> f64 {
    coarse_step_angst / f64::from(1u32 << OVERSAMPLING)
}

impl Schedule {
    /// The schedule before iteration 1: resolution shell round(N·p/ini_high), the given
    /// sampling (local from the start when its order is already ≥ the local order).
    pub fn new(
        box_size: usize,
        pixel_size: f64,
        initial_resolution_angst: f64,
        particle_diameter_angst: f64,
        options: SamplingOptions,
        max_iterations: usize,
    ) -> Self {
        let shell = (box_size as f64 * pixel_size / initial_resolution_angst).round() as usize;
        let local_sigma_deg = (options.healpix_order >= options.auto_local_healpix_order)
            .then(|| 2.0 * fine_angular_step_deg(options.healpix_order));
        Self {
            box_size,
            pixel_size,
            particle_diameter_angst,
            healpix_order: options.healpix_order,
            offset_range_angst: options.offset_range_angst,
            offset_step_angst: options.offset_step_angst,
            local_sigma_deg,
            options,
            resolution_shell: shell.clamp(1, box_size / 2),
            incr_size: INCR_SIZE,
            iterations_without_gain: 0,
            iterations_without_large_changes: 0,
            smallest_angular_change_deg: f64::INFINITY,
            smallest_offset_change_angst: f64::INFINITY,
            fine_enough_sampling: false,
            accuracy: None,
            iterations_done: 0,
            max_iterations,
            converged: false,
        }
    }

    /// Current resolution in Å (N·p / shell).
    pub fn resolution_angst(&self) -> f64 {
        self.box_size as f64 * self.pixel_size / self.resolution_shell as f64
    }

    /// Fine angular step (degrees).
    pub fn fine_angular_step_deg(&self) -> f64 {
        fine_angular_step_deg(self.healpix_order)
    }

    /// Fine translation step (Å).
    pub fn fine_offset_step_angst(&self) -> f64 {
        fine_offset_step_angst(self.offset_step_angst)
    }

    /// Fine-pass image size (pixels): min(N, 2·(shell + Δ)), N in the final iteration.
    pub fn current_size(&self, final_iteration: bool) -> usize {
        if final_iteration {
            self.box_size
        } else {
            (2 * (self.resolution_shell + self.incr_size)).min(self.box_size)
        }
    }

    /// Coarse-pass image size (pixels): min(current, 2·ceil(N·p/coarse_res)) with
    /// coarse_res = (Δθ/360·π·D)/1.2 Å, Δθ the coarse angular step.
    pub fn coarse_size(&self, current_size: usize) -> usize {
        let coarse_res = angular_step_deg(self.healpix_order) / 360.0
            * std::f64::consts::PI
            * self.particle_diameter_angst
            / 1.2;
        let shells = (self.box_size as f64 * self.pixel_size / coarse_res).ceil() as usize;
        (2 * shells).clamp(2, current_size)
    }

    /// Takes the gold-standard FSC and the statistics of the iteration just run (a
    /// cross-correlation iteration's pose changes are not monitored) and prepares the next;
    /// see the module doc.
    pub fn update(&mut self, fsc: &[f64], stats: &IterationStats, cross_correlation: bool) {
        self.update_resolution(fsc);
        if !cross_correlation {
            self.monitor_changes(stats);
        }
        if let (Some(rot), Some(trans)) = (
            stats.accuracy_rotation_deg,
            stats.accuracy_translation_angst,
        ) {
            self.accuracy = Some((rot, trans));
        }
        self.iterations_done += 1;
        self.converged = self.iterations_done >= self.max_iterations
            || (self.fine_enough_sampling
                && self.iterations_without_gain >= 1
                && (self.options.auto_ignore_angles || self.iterations_without_large_changes >= 1));
        if !self.converged && !cross_correlation {
            self.refine_sampling(stats.rms_offset_change_angst);
        }
    }

    fn update_resolution(&mut self, fsc: &[f64]) {
        let below = |threshold: f64| {
            fsc.iter()
                .enumerate()
                .skip(1)
                .find(|&(_, &f)| f < threshold)
                .map_or(fsc.len().saturating_sub(1), |(r, _)| r - 1)
        };
        let mut shell = below(0.5);
        if let Some(r2) = (shell + 4..fsc.len().saturating_sub(1))
            .rev()
            .find(|&r| fsc[r] > 0.5)
        {
            shell = r2;
        }
        let shell = shell.max(MIN_RESOLUTION_SHELL).min(self.box_size / 2);
        if shell > self.resolution_shell {
            self.iterations_without_gain = 0;
        } else {
            self.iterations_without_gain += 1;
        }
        let gap = below(0.143).saturating_sub(below(0.5)) + 5;
        self.incr_size = self.incr_size.max(gap);
        self.resolution_shell = shell;
    }

    /// RELION's monitor of pose changes (§4.3).
    fn monitor_changes(&mut self, stats: &IterationStats) {
        let (angle, offset) = (stats.mean_angular_change_deg, stats.rms_offset_change_angst);
        let settled = |change: f64, step: f64, smallest: f64| {
            change / step < 0.4 || 1.03 * change >= smallest
        };
        if settled(
            offset,
            self.fine_offset_step_angst(),
            self.smallest_offset_change_angst,
        ) && settled(
            angle,
            self.fine_angular_step_deg(),
            self.smallest_angular_change_deg,
        ) {
            self.iterations_without_large_changes += 1;
        } else {
            self.iterations_without_large_changes = 0;
        }
        self.smallest_angular_change_deg = self.smallest_angular_change_deg.min(angle);
        self.smallest_offset_change_angst = self.smallest_offset_change_angst.min(offset);
    }

    /// RELION's `updateAngularSampling` (§4.4) for the next iteration.
    fn refine_sampling(&mut self, rms_offset_change_angst: f64) {
        let fine_step = self.fine_angular_step_deg();
        let resolution_step = 360.0
            / (std::f64::consts::PI * self.particle_diameter_angst / self.resolution_angst())
                .ceil();
        let go_resolution = self.iterations_without_gain >= 1
            || (self.options.auto_resol_angles
                && resolution_step < fine_step
                && self.healpix_order + 1 != self.options.auto_local_healpix_order);
        let go_hidden =
            self.options.auto_ignore_angles || self.iterations_without_large_changes >= 1;
        if !(go_resolution && go_hidden) {
            return;
        }
        let Some((accuracy_rot, accuracy_trans)) = self.accuracy else {
            return;
        };
        if fine_step < 0.75 * accuracy_rot {
            self.fine_enough_sampling = true;
            return;
        }
        self.fine_enough_sampling = false;
        let factor = f64::from(1u32 << OVERSAMPLING);
        let mut step = MAX_FINE_OFFSET_STEP_ANGST.min(0.75 * accuracy_trans) * factor;
        let mut range = (5.0 * rms_offset_change_angst)
            .min(1.3 * self.offset_range_angst)
            .max(1.5 * step);
        if range > 4.0 * step {
            range /= 2.0;
        }
        if range > 4.0 * step {
            step = range / 4.0;
        }
        if step <= self.offset_step_angst {
            self.offset_step_angst = step;
            self.offset_range_angst = range;
        }
        self.healpix_order += 1;
        if self.healpix_order >= self.options.auto_local_healpix_order {
            self.local_sigma_deg = Some(2.0 * self.fine_angular_step_deg());
        }
        self.iterations_without_gain = 0;
        self.iterations_without_large_changes = 0;
        self.smallest_angular_change_deg = f64::INFINITY;
        self.smallest_offset_change_angst = f64::INFINITY;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(order: u32) -> SamplingOptions {
        SamplingOptions {
            healpix_order: order,
            offset_range_angst: 5.0,
            offset_step_angst: 2.0,
            auto_local_healpix_order: 4,
            auto_resol_angles: false,
            auto_ignore_angles: false,
        }
    }

    fn stats(angle: f64, offset: f64, accuracy: f64) -> IterationStats {
        IterationStats {
            mean_angular_change_deg: angle,
            rms_offset_change_angst: offset,
            accuracy_rotation_deg: Some(accuracy),
            accuracy_translation_angst: Some(1.0),
            ..IterationStats::default()
        }
    }

    #[test]
    fn sizes_follow_the_resolution_and_the_final_iteration_uses_the_box() {
        // 48 px of 1.8 Å from 40 Å: shell 2, current size 2·(2 + 10) = 24.
        let s = Schedule::new(48, 1.8, 40.0, 80.0, options(1), 5);
        assert_eq!(s.resolution_shell, 2);
        assert_eq!(s.current_size(false), 24);
        assert_eq!(s.current_size(true), 48);
        // coarse_res = 30/360·π·80/1.2 = 17.45 Å → 2·ceil(86.4/17.45) = 10.
        assert_eq!(s.coarse_size(24), 10);
        assert_eq!(s.local_sigma_deg, None);
        assert_eq!(angular_step_deg(2), 15.0);
    }

    #[test]
    fn a_stall_with_settled_poses_refines_the_sampling_then_goes_local_then_converges() {
        let mut s = Schedule::new(48, 1.8, 40.0, 80.0, options(2), 50);
        let good: Vec<f64> = (0..25).map(|r| if r <= 9 { 0.9 } else { 0.0 }).collect();
        s.update(&good, &stats(90.0, 3.0, 2.0), true);
        assert_eq!(
            (s.healpix_order, s.converged),
            (2, false),
            "CC iteration: no change"
        );
        s.update(&good, &stats(10.0, 1.0, 2.0), false);
        assert_eq!(s.iterations_without_gain, 1);
        // Angle change 10° ≥ 0.4·7.5°, but first measurement: smallest = ∞ → not settled.
        assert_eq!(s.healpix_order, 2);
        s.update(&good, &stats(10.5, 1.0, 2.0), false);
        // Stalled and not smaller than the smallest (×1.03): settled → order 3.
        assert_eq!(s.healpix_order, 3);
        assert_eq!(s.iterations_without_gain, 0);
        assert!(s.offset_step_angst <= 2.0 * MAX_FINE_OFFSET_STEP_ANGST + 1e-12);
        let settled = stats(0.1, 0.05, 2.0);
        s.update(&good, &settled, false);
        assert_eq!(s.healpix_order, 4);
        assert_eq!(s.local_sigma_deg, Some(2.0 * angular_step_deg(5)));
        // Fine step 1.875° is not below 0.75·2°: one order more, then fine enough.
        s.update(&good, &settled, false);
        assert_eq!(s.healpix_order, 5);
        s.update(&good, &settled, false);
        assert!(s.fine_enough_sampling && !s.converged, "{s:?}");
        s.update(&good, &settled, false);
        assert!(s.converged, "{s:?}");
        assert_eq!(s.healpix_order, 5);
    }

    #[test]
    fn the_iteration_limit_converges() {
        let mut s = Schedule::new(48, 1.8, 40.0, 80.0, options(2), 2);
        let good: Vec<f64> = (0..25).map(|r| if r <= 9 { 0.9 } else { 0.0 }).collect();
        s.update(&good, &stats(90.0, 3.0, 2.0), true);
        assert!(!s.converged);
        s.update(&good, &stats(50.0, 3.0, 2.0), false);
        assert!(s.converged);
    }
}
