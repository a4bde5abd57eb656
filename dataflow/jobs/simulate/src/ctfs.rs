//! Per-particle CTF parameters (RELION units: Å, degrees, kV, mm): drawn for a simulation the way
//! real data look, or read from a STAR file's columns.
//!
//! Drawn: each micrograph gets a mean defocus uniform in [min, max] Å, an astigmatism |ΔfU − ΔfV|
//! uniform in [0, astigmatism] Å and an astigmatism angle uniform in [0, 180)°; each particle's
//! mean defocus deviates from its micrograph's by a normal deviate of s.d. `spread` Å (height in
//! the ice). ΔfU = mean + astigmatism/2 ≥ ΔfV = mean − astigmatism/2, as CTFFIND reports them.
//! Defoci are rounded to 0.01 Å and angles to 10⁻⁴ °, so the STAR files state them exactly.

use cryoflux_kernels::fourier::ctf::CtfParams;

use super::rng::{Purpose, Rng};
use super::star_in::ParticleRows;
use super::star_out::round_decimals;

/// Microscope constants shared by all particles of an optics group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Microscope {
    /// Acceleration voltage in kV (`rlnVoltage`).
    pub voltage_kv: f64,
    /// Spherical aberration in mm (`rlnSphericalAberration`).
    pub cs_mm: f64,
    /// Amplitude contrast Q0 in [0, 1] (`rlnAmplitudeContrast`).
    pub amplitude_contrast: f64,
}

impl Default for Microscope {
    /// A typical Krios: 300 kV, Cs 2.7 mm, Q0 0.1.
    fn default() -> Self {
        Self {
            voltage_kv: 300.0,
            cs_mm: 2.7,
            amplitude_contrast: 0.1,
        }
    }
}

/// How simulated defoci are distributed (all in Å).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DefocusModel {
    /// Smallest micrograph mean defocus (Å, positive = underfocus).
    pub min: f64,
    /// Largest micrograph mean defocus (Å).
    pub max: f64,
    /// Largest |ΔfU − ΔfV| of a micrograph (Å).
    pub astigmatism: f64,
    /// Standard deviation of a particle's defocus around its micrograph's (Å).
    pub spread: f64,
}

impl DefocusModel {
    /// Defoci as in a typical data set: micrographs between 1.0 and 2.5 µm underfocus, up to
    /// 500 Å astigmatism, particles within 50 Å of their micrograph's defocus.
    pub fn typical() -> Self {
        DefocusModel {
            min: 10_000.0,
            max: 25_000.0,
            astigmatism: 500.0,
            spread: 50.0,
        }
    }

    /// The CTF of particle `index` (0-based) of micrograph `micrograph` (0-based) under `seed`:
    /// the micrograph's draw plus the particle's own deviation.
    pub fn draw(
        &self,
        microscope: &Microscope,
        seed: u64,
        micrograph: usize,
        index: usize,
    ) -> CtfParams {
        let mut rng = Rng::stream(seed, Purpose::Micrograph, micrograph as u64);
        let mean = rng.uniform_in(self.min, self.max);
        let astigmatism = self.astigmatism * rng.uniform();
        let angle = rng.uniform_in(0.0, 180.0);
        let deviation =
            self.spread * Rng::stream(seed, Purpose::ParticleDefocus, index as u64).normal();
        let defocus = mean + deviation;
        CtfParams {
            defocus_u: round_decimals(defocus + astigmatism / 2.0, 2),
            defocus_v: round_decimals(defocus - astigmatism / 2.0, 2),
            defocus_angle_deg: round_decimals(angle, 4),
            ..microscope.params()
        }
    }
}

impl Microscope {
    /// CTF parameters with these constants and zero defocus, B-factor 0, scale 1, no phase
    /// shift.
    pub fn params(&self) -> CtfParams {
        CtfParams {
            voltage_kv: self.voltage_kv,
            cs_mm: self.cs_mm,
            amplitude_contrast: self.amplitude_contrast,
            ..CtfParams::default()
        }
    }
}

/// The CTF of every row of a STAR table: `rlnDefocusU` (required), `rlnDefocusV` (default U),
/// `rlnDefocusAngle`, `rlnPhaseShift`, `rlnCtfBfactor` (default 0), `rlnCtfScalefactor`
/// (default 1) from the row; `rlnVoltage`, `rlnSphericalAberration`, `rlnAmplitudeContrast`
/// (required) from its optics group.
pub fn ctfs_from_star(rows: &ParticleRows) -> anyhow::Result<Vec<CtfParams>> {
    let [defocus_u] = rows.required_floats(["rlnDefocusU"])?;
    (0..rows.len())
        .map(|i| {
            Ok(CtfParams {
                voltage_kv: rows.optics_value("rlnVoltage", i)?,
                cs_mm: rows.optics_value("rlnSphericalAberration", i)?,
                amplitude_contrast: rows.optics_value("rlnAmplitudeContrast", i)?,
                defocus_u: defocus_u[i],
                defocus_v: rows.float_or("rlnDefocusV", i, defocus_u[i]),
                defocus_angle_deg: rows.float_or("rlnDefocusAngle", i, 0.0),
                phase_shift_deg: rows.float_or("rlnPhaseShift", i, 0.0),
                bfactor: rows.float_or("rlnCtfBfactor", i, 0.0),
                scale: rows.float_or("rlnCtfScalefactor", i, 1.0),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micrographs_share_defocus_up_to_the_spread() {
        let model = DefocusModel {
            min: 10_000.0,
            max: 25_000.0,
            astigmatism: 500.0,
            spread: 50.0,
        };
        let scope = Microscope::default();
        let ctfs: Vec<CtfParams> = (0..40).map(|i| model.draw(&scope, 9, i / 4, i)).collect();
        for (i, c) in ctfs.iter().enumerate() {
            let first = &ctfs[4 * (i / 4)];
            assert_eq!(c.defocus_angle_deg, first.defocus_angle_deg);
            assert!((c.defocus_u - first.defocus_u).abs() < 500.0);
            assert!(c.defocus_u >= c.defocus_v && c.defocus_u - c.defocus_v <= 500.0);
            assert!((9_000.0..26_000.0).contains(&c.defocus_v));
            assert_eq!(c.voltage_kv, 300.0);
        }
        assert_ne!(ctfs[0].defocus_u, ctfs[1].defocus_u);
        assert!((ctfs[0].defocus_u - ctfs[4].defocus_u).abs() > 1.0);
        assert_eq!(model.draw(&scope, 9, 1, 7), ctfs[7]);
    }
}
