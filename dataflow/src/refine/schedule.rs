//! The iteration schedule (refine.md §3.3, simplified): current resolution from the FSC = 0.5
//! point, image sizes of both passes, and when to stop.
//!
//! Simplifications against RELION: the HEALPix order and translation search are fixed for the
//! whole run (no auto-sampling, no local searches); Δ = `incr_size` is RELION's default of 10
//! shells, raised every iteration to r(FSC < 0.143) − r(FSC < 0.5) + 5; convergence is "no
//! resolution gain for 2 iterations", or the iteration limit, after which one final iteration
//! runs at the full box.

/// Default increase of the image size beyond the resolution shell (RELION `incr_size`).
pub const INCR_SIZE: usize = 10;

/// Smallest resolution shell the schedule ever uses (RELION: 5).
pub const MIN_RESOLUTION_SHELL: usize = 5;

/// Iterations without resolution gain that count as converged.
pub const NO_GAIN_LIMIT: usize = 2;

/// Where the schedule stands between iterations.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Box N of the particles (pixels).
    pub box_size: usize,
    /// Pixel size (Å).
    pub pixel_size: f64,
    /// Particle diameter (Å), for the coarse image size.
    pub particle_diameter_angst: f64,
    /// Coarse angular step (degrees) of the HEALPix order in use.
    pub angular_step_deg: f64,
    /// Current resolution shell (FSC = 0.5 point, or N·p/ini_high before iteration 1).
    pub resolution_shell: usize,
    /// Increase of the image size beyond the resolution shell (shells).
    pub incr_size: usize,
    /// Iterations in a row without resolution gain.
    pub iterations_without_gain: usize,
    /// Iterations run so far.
    pub iterations_done: usize,
    /// Largest number of iterations before the final one.
    pub max_iterations: usize,
}

impl Schedule {
    /// The schedule before iteration 1: resolution shell round(N·p/ini_high).
    pub fn new(
        box_size: usize,
        pixel_size: f64,
        initial_resolution_angst: f64,
        particle_diameter_angst: f64,
        angular_step_deg: f64,
        max_iterations: usize,
    ) -> Self {
        let shell = (box_size as f64 * pixel_size / initial_resolution_angst).round() as usize;
        Self {
            box_size,
            pixel_size,
            particle_diameter_angst,
            angular_step_deg,
            resolution_shell: shell.clamp(1, box_size / 2),
            incr_size: INCR_SIZE,
            iterations_without_gain: 0,
            iterations_done: 0,
            max_iterations,
        }
    }

    /// Current resolution in Å (N·p / shell).
    pub fn resolution_angst(&self) -> f64 {
        self.box_size as f64 * self.pixel_size / self.resolution_shell as f64
    }

    /// Whether the next iteration is the final one.
    pub fn converged(&self) -> bool {
        self.iterations_done >= self.max_iterations || self.iterations_without_gain >= NO_GAIN_LIMIT
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
    /// coarse_res = (Δθ/360·π·D)/1.2 Å.
    pub fn coarse_size(&self, current_size: usize) -> usize {
        let coarse_res =
            self.angular_step_deg / 360.0 * std::f64::consts::PI * self.particle_diameter_angst
                / 1.2;
        let shells = (self.box_size as f64 * self.pixel_size / coarse_res).ceil() as usize;
        (2 * shells).clamp(2, current_size)
    }

    /// Takes the gold-standard FSC of the iteration just run: new resolution shell (last shell
    /// before FSC < 0.5, RELION's upward check for shells beyond +3, at least
    /// [`MIN_RESOLUTION_SHELL`]), gain counter and Δ.
    pub fn update(&mut self, fsc: &[f64]) {
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
        self.iterations_done += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_resolution_and_the_final_iteration_uses_the_box() {
        // 48 px of 1.8 Å from 40 Å: shell 2, current size 2·(2 + 10) = 24.
        let mut s = Schedule::new(48, 1.8, 40.0, 80.0, 15.0, 5);
        assert_eq!(s.resolution_shell, 2);
        assert_eq!(s.current_size(false), 24);
        assert_eq!(s.current_size(true), 48);
        // coarse_res = 15/360·π·80/1.2 = 8.73 Å → 2·ceil(86.4/8.73) = 20.
        assert_eq!(s.coarse_size(24), 20);
        let fsc: Vec<f64> = (0..25).map(|r| if r <= 9 { 0.9 } else { 0.0 }).collect();
        s.update(&fsc);
        assert_eq!(s.resolution_shell, 9);
        assert_eq!(s.iterations_without_gain, 0);
        s.update(&fsc);
        s.update(&fsc);
        assert!(s.converged());
    }
}
