//! The contrast transfer function exactly as RELION 3.1 evaluates it (refine.md §0.5).
//!
//! CTF(f) = [√(1−Q0²)·sin χ + Q0·cos χ] · exp(−B·u²/4) · S with
//! χ = π·λ·Δf(φ)·u² − (π/2)·Cs·λ³·u⁴ + φ_ps, u = |f| in Å⁻¹, Δf(φ) = ΔfU·cos²(φ−φA) +
//! ΔfV·sin²(φ−φA) (Å, positive = underfocus). RELION writes this as −sin γ with
//! γ = −χ − atan(Q0/√(1−Q0²)); [`Ctf::gamma`] returns that γ. Values with |CTF| < 10⁻⁸ become
//! ±10⁻⁸ (sign kept), as in RELION.

use crate::grid::{GridError, HalfGrid, check_box, check_pixel_size};
use std::f64::consts::PI;

/// Per-particle and per-optics-group CTF parameters in RELION's STAR units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CtfParams {
    /// Acceleration voltage in kV (`rlnVoltage`).
    pub voltage_kv: f64,
    /// Spherical aberration in mm (`rlnSphericalAberration`).
    pub cs_mm: f64,
    /// Amplitude contrast Q0 in [0, 1] (`rlnAmplitudeContrast`).
    pub amplitude_contrast: f64,
    /// Defocus along the major axis in Å, positive = underfocus (`rlnDefocusU`).
    pub defocus_u: f64,
    /// Defocus along the minor axis in Å (`rlnDefocusV`).
    pub defocus_v: f64,
    /// Angle of the U axis from x in degrees (`rlnDefocusAngle`).
    pub defocus_angle_deg: f64,
    /// Phase shift (phase plate) in degrees (`rlnPhaseShift`).
    pub phase_shift_deg: f64,
    /// Envelope B-factor in Å² (`rlnCtfBfactor`).
    pub bfactor: f64,
    /// Overall scale factor (`rlnCtfScalefactor`).
    pub scale: f64,
}

impl Default for CtfParams {
    /// RELION's fallbacks when columns are missing: 200 kV, no Cs, no amplitude contrast, zero
    /// defocus and phase shift, B = 0, scale 1.
    fn default() -> Self {
        Self {
            voltage_kv: 200.0,
            cs_mm: 0.0,
            amplitude_contrast: 0.0,
            defocus_u: 0.0,
            defocus_v: 0.0,
            defocus_angle_deg: 0.0,
            phase_shift_deg: 0.0,
            bfactor: 0.0,
            scale: 1.0,
        }
    }
}

/// Which form of the CTF to evaluate (RELION's refine flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CtfVariant {
    /// `--ctf_intact_first_peak`: 1 wherever |γ| < π/2 (before damping and scale).
    pub intact_first_peak: bool,
    /// `--ctf_phase_flipped`: |CTF|.
    pub phase_flipped: bool,
    /// `--only_flip_phases`: sign(CTF) (±1 times the scale).
    pub sign_only: bool,
    /// Apply the exp(−B·u²/4) envelope (on by default).
    pub damping: bool,
}

impl Default for CtfVariant {
    /// The plain CTF with its B-factor envelope.
    fn default() -> Self {
        Self {
            intact_first_peak: false,
            phase_flipped: false,
            sign_only: false,
            damping: true,
        }
    }
}

/// A CTF ready for evaluation: parameters plus the derived constants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ctf {
    params: CtfParams,
    /// π·λ (Å).
    k1: f64,
    /// (π/2)·Cs·λ³ (Å⁴).
    k2: f64,
    /// atan(Q0/√(1−Q0²)) (radians).
    k3: f64,
    /// Phase shift (radians).
    k5: f64,
    /// Quadratic form of the defocus: Δf(φ)·u² = axx·fx² + 2·axy·fx·fy + ayy·fy² (Å).
    axx: f64,
    axy: f64,
    ayy: f64,
}

/// Relativistic electron wavelength in Å at `voltage_kv` kV (RELION's formula).
pub fn wavelength(voltage_kv: f64) -> f64 {
    let v = voltage_kv * 1000.0;
    12.2643247 / (v * (1.0 + v * 0.978466e-6)).sqrt()
}

impl Ctf {
    /// Validates the parameters and precomputes the constants.
    pub fn new(params: CtfParams) -> Result<Self, GridError> {
        let p = params;
        let finite = [
            p.cs_mm,
            p.defocus_u,
            p.defocus_v,
            p.defocus_angle_deg,
            p.phase_shift_deg,
            p.bfactor,
            p.scale,
        ];
        if let Some(&bad) = finite.iter().find(|v| !v.is_finite()) {
            return Err(GridError::OutOfRange {
                what: "CTF parameter",
                value: bad,
                expected: "a finite number",
            });
        }
        if !(p.voltage_kv.is_finite() && p.voltage_kv > 0.0) {
            return Err(GridError::OutOfRange {
                what: "CTF voltage (kV)",
                value: p.voltage_kv,
                expected: "> 0",
            });
        }
        if !(0.0..=1.0).contains(&p.amplitude_contrast) {
            return Err(GridError::OutOfRange {
                what: "CTF amplitude contrast Q0",
                value: p.amplitude_contrast,
                expected: "0 ≤ Q0 ≤ 1",
            });
        }
        let lambda = wavelength(p.voltage_kv);
        let cs = p.cs_mm * 1e7;
        let q0 = p.amplitude_contrast;
        let (s, c) = p.defocus_angle_deg.to_radians().sin_cos();
        Ok(Self {
            params,
            k1: PI * lambda,
            k2: PI / 2.0 * cs * lambda.powi(3),
            k3: (q0 / (1.0 - q0 * q0).sqrt()).atan(),
            k5: p.phase_shift_deg.to_radians(),
            axx: p.defocus_u * c * c + p.defocus_v * s * s,
            axy: (p.defocus_u - p.defocus_v) * c * s,
            ayy: p.defocus_u * s * s + p.defocus_v * c * c,
        })
    }

    /// The parameters this CTF was built from.
    pub fn params(&self) -> &CtfParams {
        &self.params
    }

    /// RELION's γ(f) = −χ(f) − atan(Q0/√(1−Q0²)) at spatial frequency (fx, fy) in Å⁻¹.
    pub fn gamma(&self, fx: f64, fy: f64) -> f64 {
        let u2 = fx * fx + fy * fy;
        let defocus_u2 = self.axx * fx * fx + 2.0 * self.axy * fx * fy + self.ayy * fy * fy;
        -(self.k1 * defocus_u2) + self.k2 * u2 * u2 - self.k5 - self.k3
    }

    /// The CTF at spatial frequency (fx, fy) in Å⁻¹.
    pub fn value(&self, fx: f64, fy: f64, variant: CtfVariant) -> f64 {
        let gamma = self.gamma(fx, fy);
        let mut v = if variant.intact_first_peak && gamma.abs() < PI / 2.0 {
            1.0
        } else {
            -gamma.sin()
        };
        if variant.damping {
            v *= (-self.params.bfactor * (fx * fx + fy * fy) / 4.0).exp();
        }
        if variant.phase_flipped {
            v = v.abs();
        } else if variant.sign_only {
            v = if v < 0.0 { -1.0 } else { 1.0 };
        }
        v *= self.params.scale;
        if v.abs() < 1e-8 {
            if v < 0.0 { -1e-8 } else { 1e-8 }
        } else {
            v
        }
    }

    /// The CTF at integer Fourier pixel (kx, ky) of an image of `n` pixels of `pixel_size` Å.
    pub fn value_at_pixel(
        &self,
        kx: i64,
        ky: i64,
        n: usize,
        pixel_size: f64,
        variant: CtfVariant,
    ) -> f64 {
        let box_angstrom = n as f64 * pixel_size;
        self.value(kx as f64 / box_angstrom, ky as f64 / box_angstrom, variant)
    }

    /// The CTF on the half array of an `n`-pixel image of `pixel_size` Å (FFTW layout), ready
    /// to multiply a [`FourierImage`](crate::grid::FourierImage) of the same box.
    pub fn image(
        &self,
        n: usize,
        pixel_size: f64,
        variant: CtfVariant,
    ) -> Result<HalfGrid<f32, 2>, GridError> {
        check_box("CTF image", n)?;
        check_pixel_size("CTF image pixel size (Å)", pixel_size)?;
        let mut img = HalfGrid::<f32, 2>::zeros(n, pixel_size)?;
        for i in 0..img.data().len() {
            let [kx, ky, _] = img.frequency(i);
            img.data_mut()[i] = self.value_at_pixel(kx, ky, n, pixel_size, variant) as f32;
        }
        Ok(img)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctf(defocus_u: f64, defocus_v: f64, angle: f64, q0: f64, cs: f64) -> Ctf {
        Ctf::new(CtfParams {
            voltage_kv: 300.0,
            cs_mm: cs,
            amplitude_contrast: q0,
            defocus_u,
            defocus_v,
            defocus_angle_deg: angle,
            ..CtfParams::default()
        })
        .unwrap()
    }

    #[test]
    fn wavelength_at_300_and_200_kv() {
        assert!((wavelength(300.0) - 0.019687).abs() < 1e-6);
        assert!((wavelength(200.0) - 0.025079).abs() < 1e-6);
    }

    #[test]
    fn first_zero_of_a_pure_phase_ctf_is_at_one_over_sqrt_lambda_defocus() {
        let c = ctf(10000.0, 10000.0, 0.0, 0.0, 0.0);
        let u0 = 1.0 / (wavelength(300.0) * 10000.0).sqrt();
        let v = CtfVariant::default();
        assert!(
            c.value(0.98 * u0, 0.0, v) > 0.05,
            "positive before the first zero for underfocus"
        );
        assert!(c.value(1.02 * u0, 0.0, v) < -0.05);
        assert!(c.value(u0, 0.0, v).abs() < 1e-6);
        // At f = 0 a pure phase CTF is clamped to +1e-8.
        assert_eq!(c.value(0.0, 0.0, v), 1e-8);
    }

    #[test]
    fn hand_computed_value_with_cs_amplitude_contrast_and_b_factor() {
        let params = CtfParams {
            voltage_kv: 300.0,
            cs_mm: 2.7,
            amplitude_contrast: 0.1,
            defocus_u: 15000.0,
            defocus_v: 15000.0,
            bfactor: 100.0,
            scale: 0.8,
            ..CtfParams::default()
        };
        let c = Ctf::new(params).unwrap();
        let (u, lambda) = (0.1, 0.0196873);
        let chi = PI * lambda * 15000.0 * u * u - PI / 2.0 * 2.7e7 * lambda.powi(3) * u.powi(4);
        let expected = ((1.0 - 0.01f64).sqrt() * chi.sin() + 0.1 * chi.cos())
            * (-100.0 * u * u / 4.0).exp()
            * 0.8;
        let got = c.value(0.0, u, CtfVariant::default());
        assert!((got - expected).abs() < 2e-4, "{got} vs {expected}");
    }

    #[test]
    fn astigmatism_uses_u_along_the_angle_and_v_across_it() {
        let c = ctf(12000.0, 8000.0, 30.0, 0.07, 2.7);
        let iso_u = ctf(12000.0, 12000.0, 0.0, 0.07, 2.7);
        let iso_v = ctf(8000.0, 8000.0, 0.0, 0.07, 2.7);
        let (s, co) = 30f64.to_radians().sin_cos();
        let u = 0.08;
        let v = CtfVariant::default();
        assert!((c.value(u * co, u * s, v) - iso_u.value(u, 0.0, v)).abs() < 1e-9);
        assert!((c.value(-u * s, u * co, v) - iso_v.value(u, 0.0, v)).abs() < 1e-9);
    }

    #[test]
    fn variants_flip_sign_and_keep_the_first_peak() {
        let c = ctf(20000.0, 20000.0, 0.0, 0.1, 2.7);
        let plain = CtfVariant::default();
        let flipped = CtfVariant {
            phase_flipped: true,
            ..plain
        };
        let sign = CtfVariant {
            sign_only: true,
            ..plain
        };
        let intact = CtfVariant {
            intact_first_peak: true,
            ..plain
        };
        let mut saw_negative = false;
        for i in 1..200 {
            let f = i as f64 * 0.001;
            let v = c.value(f, 0.0, plain);
            saw_negative |= v < 0.0;
            assert!((c.value(f, 0.0, flipped) - v.abs()).abs() < 1e-12);
            assert_eq!(c.value(f, 0.0, sign), v.signum());
            if c.gamma(f, 0.0).abs() < PI / 2.0 {
                assert_eq!(c.value(f, 0.0, intact), 1.0);
            } else {
                assert_eq!(c.value(f, 0.0, intact), v);
            }
        }
        assert!(saw_negative);
    }

    #[test]
    fn image_matches_pointwise_values_and_rejects_bad_input() {
        let c = ctf(10000.0, 9000.0, 45.0, 0.1, 2.7);
        let img = c.image(16, 2.0, CtfVariant::default()).unwrap();
        let i = img.index_of(3, -5, 0).unwrap();
        let expected = c.value(3.0 / 32.0, -5.0 / 32.0, CtfVariant::default());
        assert!((img.data()[i] as f64 - expected).abs() < 1e-6);
        let bad = CtfParams {
            amplitude_contrast: 1.5,
            ..CtfParams::default()
        };
        assert!(Ctf::new(bad).is_err());
        assert!(c.image(15, 2.0, CtfVariant::default()).is_err());
    }
}
