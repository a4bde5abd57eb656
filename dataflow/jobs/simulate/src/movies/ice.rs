//! Ice-thickness variations of a simulated movie: a smooth random field that moves with the
//! specimen's global drift, as the gradients and bumps of real ice do. Electrons pass through
//! more or less ice, so the expected counts vary by a fraction `contrast` (standard deviation
//! over the micrograph) on the scale `length`; this low-resolution signal is what motion
//! correction of real movies largely aligns on.
//!
//! The field is white noise filtered by exp(−k²·L²/2) (L = `length` in px, k in radians per px),
//! scaled to unit standard deviation; in the frame it adds `contrast/c` to the signal canvas
//! (c the particles' contrast), so that counts are d_px·(1 − c·S − contrast·field).

use cryoflux_kernels::fourier::fft::plane::{forward, inverse};
use cryoflux_kernels::fourier::shift::shift_plane;
use cryoflux_kernels::grid::{Plane, PlaneSpectrum};

use crate::rng::{Purpose, Rng};

/// The ice model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IceModel {
    /// Standard deviation of the relative thickness variation (0 = uniform ice).
    pub contrast: f64,
    /// Correlation length of the variations, in Å.
    pub length: f64,
}

impl Default for IceModel {
    /// 5 % variations on a 50 Å scale.
    fn default() -> Self {
        Self {
            contrast: 0.05,
            length: 50.0,
        }
    }
}

/// One movie's ice field, ready to be drawn at any drift.
#[derive(Debug, Clone)]
pub struct IceField {
    spectrum: PlaneSpectrum,
    contrast: f64,
}

impl IceField {
    /// The field of movie `movie` on a `width` × `height` frame of `pixel` Å.
    pub fn new(
        model: &IceModel,
        width: usize,
        height: usize,
        pixel: f64,
        seed: u64,
        movie: usize,
    ) -> Self {
        let mut rng = Rng::stream(seed, Purpose::Ice, movie as u64);
        let values = (0..width * height).map(|_| rng.normal() as f32).collect();
        let noise = Plane::from_vec(width, height, values).unwrap_or_else(|e| unreachable!("{e}"));
        let mut spectrum = forward(&noise);
        let length = model.length / pixel;
        let (w, h) = (width as f64, height as f64);
        for i in 0..spectrum.data().len() {
            let (kx, ky) = spectrum.frequency(i);
            let k2 = (std::f64::consts::TAU * kx as f64 / w).powi(2)
                + (std::f64::consts::TAU * ky as f64 / h).powi(2);
            spectrum.data_mut()[i] *= (-k2 * length * length / 2.0).exp() as f32;
        }
        spectrum.data_mut()[0] = 0.0.into();
        let (_, std) = inverse(&spectrum).mean_std();
        if std > 0.0 {
            spectrum
                .data_mut()
                .iter_mut()
                .for_each(|v| *v /= std as f32);
        }
        Self {
            spectrum,
            contrast: model.contrast,
        }
    }

    /// The field moved by `drift` px, in units of the particle signal canvas of contrast
    /// `particle_contrast`: a canvas to which particles are then added.
    pub fn at(&self, drift: [f64; 2], particle_contrast: f64) -> Plane {
        let mut moved = self.spectrum.clone();
        shift_plane(&mut moved, drift);
        let mut plane = inverse(&moved);
        let scale = (self.contrast / particle_contrast) as f32;
        plane.data_mut().iter_mut().for_each(|v| *v *= scale);
        plane
    }
}
