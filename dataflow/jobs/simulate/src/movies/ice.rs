//! The vitreous ice of a simulated movie, moving with the specimen's global drift:
//!
//! - **Thickness variations**: a smooth random field, as the gradients and bumps of real ice.
//!   Electrons pass through more or less ice, so the expected counts vary by a fraction
//!   `contrast` (standard deviation over the micrograph) on the scale `length`; this
//!   low-resolution signal is what motion correction of real movies largely aligns on. The
//!   field is white noise filtered by exp(−k²·L²/2) (L = `length` in px, k in radians per px),
//!   scaled to unit standard deviation.
//! - **Amorphous-ice granularity**: the water molecules' random arrangement makes the projected
//!   potential fluctuate from pixel to pixel; the ice is a weak phase object, so the microscope
//!   images these fluctuations through the micrograph's CTF, and they give real micrographs
//!   most of their Thon rings (particles cover too little of a micrograph to). A column of
//!   p × p Å² through ice of thickness t Å holds N = ρ·p²·t molecules (ρ = 0.0308 Å⁻³, ice of
//!   0.92 g/cm³) whose number fluctuates with variance S·N, S the structure factor of the
//!   ice at the imaged frequencies; each molecule shifts the phase by σ_e·V/(ρ·p²) (σ_e the
//!   interaction constant at the beam energy in rad/(V·Å), V the mean inner potential of
//!   vitreous ice in V). The phase's standard deviation per pixel is therefore
//!   σ_φ = σ_e·V·√(S·t / (ρ·p²)) — with t = 300 Å, p = 3 Å and 300 kV, σ_φ ≈ 0.024 rad — and,
//!   as a white field, its image is the relative count change 2·CTF ⊗ φ. It is damaged by the
//!   dose as the particles are (exp(−N/(2·N_e(q))), [`super::render`]).
//!
//! Both enter the frame's signal canvas divided by the particles' contrast c, so that counts
//! are d_px·(1 − c·S − contrast·field − 2·CTF ⊗ φ).

use cryoflux_kernels::fourier::ctf::{Ctf, CtfParams, CtfVariant, wavelength};
use cryoflux_kernels::fourier::fft::plane::{forward, inverse};
use cryoflux_kernels::fourier::shift::shift_plane;
use cryoflux_kernels::grid::{GridError, Plane, PlaneSpectrum};

use super::render::critical_exposure;
use crate::rng::{Purpose, Rng};

/// Mean inner potential of vitreous ice in V (measured values lie between 3.5 and 4.5 V).
pub const ICE_MEAN_INNER_POTENTIAL_V: f64 = 3.5;

/// Number density of water molecules in vitreous ice in Å⁻³ (0.92 g/cm³).
pub const ICE_MOLECULES_PER_A3: f64 = 0.0308;

/// Structure factor of vitreous ice between 1/30 and 1/5 Å⁻¹, where CTFs are fitted: above
/// water's compressibility limit (≈ 0.06), below its peak at 1/3.7 Å⁻¹; taken as flat.
pub const ICE_STRUCTURE_FACTOR: f64 = 0.1;

/// The ice model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IceModel {
    /// Standard deviation of the relative thickness variation (0 = uniform ice).
    pub contrast: f64,
    /// Correlation length of the thickness variations, in Å.
    pub length: f64,
    /// Mean ice thickness in Å, which sets the amorphous-ice granularity (0 = none: Thon rings
    /// from the particles only).
    pub thickness: f64,
}

impl Default for IceModel {
    /// 5 % thickness variations on a 50 Å scale in 300 Å of ice (typical single-particle ice
    /// is 200–500 Å thick).
    fn default() -> Self {
        Self {
            contrast: 0.05,
            length: 50.0,
            thickness: 300.0,
        }
    }
}

impl IceModel {
    /// Standard deviation per pixel of the ice's phase fluctuation σ_φ in radians, for pixels
    /// of `pixel` Å at `voltage_kv` (the module doc's formula).
    pub fn phase_std(&self, pixel: f64, voltage_kv: f64) -> f64 {
        let volts = voltage_kv * 1e3;
        let rest_energy_ev = 510_998.95;
        let interaction = std::f64::consts::TAU / (wavelength(voltage_kv) * volts)
            * (rest_energy_ev + volts)
            / (2.0 * rest_energy_ev + volts);
        interaction
            * ICE_MEAN_INNER_POTENTIAL_V
            * (ICE_STRUCTURE_FACTOR * self.thickness / (ICE_MOLECULES_PER_A3 * pixel * pixel))
                .sqrt()
    }
}

/// One movie's ice, ready to be drawn at any drift and exposure.
#[derive(Debug, Clone)]
pub struct IceField {
    /// Thickness variation with unit standard deviation.
    thickness: PlaneSpectrum,
    /// Image of the granularity, 2·CTF ⊗ φ, in relative counts before damage.
    granularity: PlaneSpectrum,
    /// 1 / (2·N_e(q)) of every half-array value, in Å²/e.
    damage_rate: Vec<f32>,
    contrast: f64,
}

impl IceField {
    /// The ice of movie `movie` on a `width` × `height` frame of `pixel` Å, imaged through the
    /// micrograph's `ctf`.
    pub fn new(
        model: &IceModel,
        (width, height): (usize, usize),
        pixel: f64,
        ctf: &CtfParams,
        seed: u64,
        movie: usize,
    ) -> Result<Self, GridError> {
        let mut rng = Rng::stream(seed, Purpose::Ice, movie as u64);
        let mut white = || {
            let values = (0..width * height).map(|_| rng.normal() as f32).collect();
            Plane::from_vec(width, height, values).map(|noise| forward(&noise))
        };
        let mut thickness = white()?;
        let length = model.length / pixel;
        for i in 0..thickness.data().len() {
            let (fx, fy) = thickness.frequency_per_pixel(i);
            let k2 = (std::f64::consts::TAU * fx).powi(2) + (std::f64::consts::TAU * fy).powi(2);
            thickness.data_mut()[i] *= (-k2 * length * length / 2.0).exp() as f32;
        }
        thickness.data_mut()[0] = 0.0.into();
        let (_, std) = inverse(&thickness).mean_std();
        if std > 0.0 {
            let scale = 1.0 / std as f32;
            thickness.data_mut().iter_mut().for_each(|v| *v *= scale);
        }

        let mut granularity = white()?;
        let ctf = Ctf::new(*ctf)?;
        let amplitude = 2.0 * model.phase_std(pixel, ctf.params().voltage_kv);
        let mut damage_rate = Vec::with_capacity(granularity.data().len());
        for i in 0..granularity.data().len() {
            let (fx, fy) = granularity.frequency_per_pixel(i);
            let (fx, fy) = (fx / pixel, fy / pixel);
            granularity.data_mut()[i] *=
                (amplitude * ctf.value(fx, fy, CtfVariant::default())) as f32;
            let q = fx.hypot(fy);
            damage_rate.push((0.5 / critical_exposure(q, ctf.params().voltage_kv)) as f32);
        }
        granularity.data_mut()[0] = 0.0.into();
        Ok(Self {
            thickness,
            granularity,
            damage_rate,
            contrast: model.contrast,
        })
    }

    /// The ice moved by `drift` px after an exposure of `exposure` e/Å², in units of the
    /// particle signal canvas of contrast `particle_contrast`: a canvas to which particles are
    /// then added.
    pub fn at(&self, drift: [f64; 2], exposure: f64, particle_contrast: f64) -> Plane {
        let thickness_scale = self.contrast as f32;
        let mut moved = self.thickness.clone();
        for ((v, &g), &rate) in moved
            .data_mut()
            .iter_mut()
            .zip(self.granularity.data())
            .zip(&self.damage_rate)
        {
            *v = *v * thickness_scale + g * (-(exposure as f32) * rate).exp();
        }
        shift_plane(&mut moved, drift);
        let mut plane = inverse(&moved);
        let scale = (1.0 / particle_contrast) as f32;
        plane.data_mut().iter_mut().for_each(|v| *v *= scale);
        plane
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctf(defocus: f64) -> CtfParams {
        CtfParams {
            voltage_kv: 300.0,
            cs_mm: 2.7,
            amplitude_contrast: 0.1,
            defocus_u: defocus,
            defocus_v: defocus,
            ..CtfParams::default()
        }
    }

    #[test]
    fn the_phase_std_follows_the_formula() {
        // σ_e at 300 kV is 6.53e-4 rad/(V·Å) (Kirkland's table); σ_φ = σ_e·V·√(S·t/(ρ·p²)).
        let model = IceModel::default();
        let expected = 6.526e-4 * 3.5 * (0.1f64 * 300.0 / (0.0308 * 9.0)).sqrt();
        let got = model.phase_std(3.0, 300.0);
        assert!(
            (got - expected).abs() < 1e-3 * expected,
            "{got} vs {expected}"
        );
        let thin = IceModel {
            thickness: 75.0,
            ..model
        };
        assert!((thin.phase_std(3.0, 300.0) - got / 2.0).abs() < 1e-12);
    }

    #[test]
    fn the_granularity_has_the_ctf_zeros_and_its_variance() {
        // Undamaged granularity of 0 thickness variation: the power at the CTF's first zero
        // vanishes and the image variance is 4·σ_φ²·⟨CTF²⟩ (⟨CTF²⟩ over the frequencies).
        let (n, pixel, defocus) = (256, 3.0, 15_000.0);
        let model = IceModel {
            contrast: 0.0,
            ..IceModel::default()
        };
        let field = IceField::new(&model, (n, n), pixel, &ctf(defocus), 7, 0).unwrap();
        let image = field.at([0.0, 0.0], 0.0, 1.0);
        let spectrum = forward(&image);
        let params = Ctf::new(ctf(defocus)).unwrap();
        let (mut zero, mut peak, mut mean_ctf2) = ((0.0, 0), (0.0, 0), 0.0);
        for (i, v) in spectrum.data().iter().enumerate() {
            let (fx, fy) = spectrum.frequency_per_pixel(i);
            let value = params.value(fx / pixel, fy / pixel, CtfVariant::default());
            let power = f64::from(v.norm_sqr());
            if value.abs() < 0.05 {
                zero = (zero.0 + power, zero.1 + 1);
            } else if value.abs() > 0.9 {
                peak = (peak.0 + power, peak.1 + 1);
            }
            mean_ctf2 += value * value;
        }
        mean_ctf2 /= spectrum.data().len() as f64;
        let (zero, peak) = (zero.0 / zero.1 as f64, peak.0 / peak.1 as f64);
        assert!(zero < 0.01 * peak, "power at zeros {zero} vs peaks {peak}");
        let sigma = model.phase_std(pixel, 300.0);
        let (_, std) = image.mean_std();
        let expected = 4.0 * sigma * sigma * mean_ctf2;
        assert!(
            (std * std / expected - 1.0).abs() < 0.05,
            "variance {} vs {expected}",
            std * std
        );
        let damaged = field.at([0.0, 0.0], 30.0, 1.0);
        assert!(damaged.mean_std().1 < 0.9 * std, "the dose damages the ice");
    }
}
