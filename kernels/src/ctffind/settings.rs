//! What a CTF estimation needs to know: the microscope and the search settings, with CTFFIND's
//! documented defaults (box 512 px, 30–5 Å, defocus 5000–50000 Å in 500 Å steps, expected
//! astigmatism 100 Å, phase shift 0–180° in 10° steps). `relion_run_ctffind`'s command-line
//! defaults differ (`--ResMin 100 --ResMax 7 --dFMin 10000 --FStep 250 --dAst 0`); a job
//! mapping RELION's flags must apply those itself.

use super::CtfFindError;
use crate::fourier::ctf::CtfParams;

/// The imaging conditions, in RELION's STAR units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Microscope {
    /// Acceleration voltage in kV (`rlnVoltage`, RELION's `--HT`).
    pub voltage_kv: f64,
    /// Spherical aberration in mm (`rlnSphericalAberration`, `--CS`).
    pub cs_mm: f64,
    /// Amplitude contrast Q0 in [0, 1] (`rlnAmplitudeContrast`, `--AmpCnst`).
    pub amplitude_contrast: f64,
    /// Micrograph pixel size in Å (`rlnMicrographPixelSize`, `--angpix`).
    pub pixel_size: f64,
}

impl Microscope {
    /// CTF parameters of this microscope with the given defocus U, V (Å), angle (degrees) and
    /// phase shift (degrees); no envelope (B = 0), scale 1.
    pub fn ctf_params(
        &self,
        defocus_u: f64,
        defocus_v: f64,
        angle_deg: f64,
        phase_deg: f64,
    ) -> CtfParams {
        CtfParams {
            voltage_kv: self.voltage_kv,
            cs_mm: self.cs_mm,
            amplitude_contrast: self.amplitude_contrast,
            defocus_u,
            defocus_v,
            defocus_angle_deg: angle_deg,
            phase_shift_deg: phase_deg,
            bfactor: 0.0,
            scale: 1.0,
        }
    }
}

/// The phase-shift search range (RELION's `--phase_min/--phase_max/--phase_step`), degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseShiftSearch {
    /// Lowest phase shift searched, degrees (default 0).
    pub min_deg: f64,
    /// Highest phase shift searched, degrees (default 180).
    pub max_deg: f64,
    /// Search step, degrees (default 10).
    pub step_deg: f64,
}

impl Default for PhaseShiftSearch {
    /// 0° to 180° in 10° steps.
    fn default() -> Self {
        Self {
            min_deg: 0.0,
            max_deg: 180.0,
            step_deg: 10.0,
        }
    }
}

/// CTFFIND's search settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CtfFindSettings {
    /// Size of the square spectrum tiles in pixels (even; default 512).
    pub box_size: usize,
    /// Low-resolution limit of the fit in Å (default 30).
    pub min_resolution: f64,
    /// High-resolution limit of the fit in Å (default 5).
    pub max_resolution: f64,
    /// Lowest defocus searched in Å (default 5000).
    pub defocus_min: f64,
    /// Highest defocus searched in Å (default 50000).
    pub defocus_max: f64,
    /// Step of the 1D defocus search in Å (default 500).
    pub defocus_step: f64,
    /// Expected astigmatism |U − V| in Å: the σ of the Gaussian astigmatism restraint; `None`
    /// for no restraint (default 100).
    pub expected_astigmatism: Option<f64>,
    /// Also fit a phase shift (phase plate) in this range; `None` fixes it at 0 (default).
    pub phase_shift: Option<PhaseShiftSearch>,
}

impl Default for CtfFindSettings {
    /// CTFFIND's documented defaults (see the module documentation).
    fn default() -> Self {
        Self {
            box_size: 512,
            min_resolution: 30.0,
            max_resolution: 5.0,
            defocus_min: 5000.0,
            defocus_max: 50000.0,
            defocus_step: 500.0,
            expected_astigmatism: Some(100.0),
            phase_shift: None,
        }
    }
}

fn bad(what: &'static str, value: f64, expected: &'static str) -> CtfFindError {
    CtfFindError::BadSetting {
        what,
        value,
        expected,
    }
}

impl CtfFindSettings {
    /// Checks every setting against the microscope's pixel size (Å).
    pub fn validate(&self, microscope: &Microscope) -> Result<(), CtfFindError> {
        let p = microscope.pixel_size;
        if !(p.is_finite() && p > 0.0) {
            return Err(bad("pixel size (Å)", p, "a positive number"));
        }
        if self.box_size < 16 || self.box_size % 2 == 1 {
            return Err(bad("box (px)", self.box_size as f64, "an even size ≥ 16"));
        }
        if !(self.max_resolution.is_finite() && self.max_resolution >= 2.0 * p) {
            return Err(bad(
                "max resolution (Å)",
                self.max_resolution,
                "at least twice the pixel size (Nyquist)",
            ));
        }
        if !(self.min_resolution.is_finite() && self.min_resolution > self.max_resolution) {
            return Err(bad(
                "min resolution (Å)",
                self.min_resolution,
                "a finite resolution coarser (larger) than the max resolution",
            ));
        }
        if !(self.defocus_min.is_finite() && self.defocus_min >= 0.0) {
            return Err(bad("defocus min (Å)", self.defocus_min, "≥ 0"));
        }
        if !(self.defocus_max.is_finite() && self.defocus_max > self.defocus_min) {
            return Err(bad("defocus max (Å)", self.defocus_max, "> defocus min"));
        }
        if !(self.defocus_step.is_finite() && self.defocus_step > 0.0) {
            return Err(bad("defocus step (Å)", self.defocus_step, "> 0"));
        }
        if let Some(a) = self.expected_astigmatism
            && !(a.is_finite() && a > 0.0)
        {
            return Err(bad("expected astigmatism (Å)", a, "> 0 (or no restraint)"));
        }
        if let Some(ps) = self.phase_shift {
            if !(ps.min_deg.is_finite() && ps.max_deg.is_finite() && ps.max_deg >= ps.min_deg) {
                return Err(bad(
                    "phase shift max (degrees)",
                    ps.max_deg,
                    "≥ phase shift min",
                ));
            }
            if !(ps.step_deg.is_finite() && ps.step_deg > 0.0) {
                return Err(bad("phase shift step (degrees)", ps.step_deg, "> 0"));
            }
        }
        crate::fourier::ctf::Ctf::new(microscope.ctf_params(0.0, 0.0, 0.0, 0.0))?;
        Ok(())
    }
}
