//! Simulated micrographs with a known CTF for the tests: white Gaussian noise filtered by the
//! CTF (with its B envelope), plus noise shaped by a smooth radial background spectrum, plus
//! white noise. All noise is drawn from keyed SplitMix64 streams.

use crate::fourier::ctf::{Ctf, CtfParams, CtfVariant};
use crate::fourier::fft::plane;
use crate::grid::Plane;
use crate::random::SplitMix64;

/// What to simulate.
#[derive(Debug, Clone, Copy)]
pub struct Simulation {
    /// Micrograph size in pixels.
    pub width: usize,
    /// Micrograph height in pixels.
    pub height: usize,
    /// Pixel size in Å.
    pub pixel_size: f64,
    /// The CTF (with B envelope) applied to the signal; `None` for a CTF-free micrograph.
    pub ctf: Option<CtfParams>,
    /// Amplitude of the smooth background at zero frequency, relative to the signal.
    pub background: f64,
    /// Standard deviation of the added white noise, relative to the signal.
    pub white_noise: f64,
    /// Noise seed.
    pub seed: u64,
}

/// Frequency (Å⁻¹) where the smooth background amplitude falls to half.
const BACKGROUND_HALF_FREQUENCY: f64 = 0.08;

impl Simulation {
    /// The 300 kV, Cs 2.7 mm, Q0 0.1, B 100 Å², 1 Å/px set-up with defocus U, V (Å) and angle
    /// (degrees).
    pub fn krios(size: (usize, usize), defocus: (f64, f64), angle_deg: f64, seed: u64) -> Self {
        Self {
            width: size.0,
            height: size.1,
            pixel_size: 1.0,
            ctf: Some(CtfParams {
                voltage_kv: 300.0,
                cs_mm: 2.7,
                amplitude_contrast: 0.1,
                defocus_u: defocus.0,
                defocus_v: defocus.1,
                defocus_angle_deg: angle_deg,
                bfactor: 100.0,
                ..CtfParams::default()
            }),
            background: 1.0,
            white_noise: 0.5,
            seed,
        }
    }

    fn normal_plane(&self, stream: u64) -> Plane {
        let mut random = SplitMix64::keyed(self.seed, &[stream]);
        let samples = (0..self.width * self.height)
            .map(|_| random.next_normal() as f32)
            .collect();
        Plane::from_vec(self.width, self.height, samples).expect("sizes match")
    }

    /// The micrograph.
    pub fn render(&self) -> Plane {
        let ctf = self.ctf.map(|p| Ctf::new(p).expect("valid test CTF"));
        let mut signal = plane::forward(&self.normal_plane(0));
        let background = plane::forward(&self.normal_plane(1));
        for (i, (s, b)) in signal
            .data_mut()
            .iter_mut()
            .zip(background.data())
            .enumerate()
        {
            let (kx, ky) = background.frequency_per_pixel(i);
            let (fx, fy) = (kx / self.pixel_size, ky / self.pixel_size);
            let transfer = ctf.map_or(1.0, |c| c.value(fx, fy, CtfVariant::default()));
            let u2 = (fx * fx + fy * fy) / (BACKGROUND_HALF_FREQUENCY * BACKGROUND_HALF_FREQUENCY);
            let smooth = self.background / (1.0 + u2);
            *s = *s * transfer as f32 + *b * smooth as f32;
        }
        let mut micrograph = plane::inverse(&signal);
        let white = self.normal_plane(2);
        for (m, w) in micrograph.data_mut().iter_mut().zip(white.data()) {
            *m += w * self.white_noise as f32;
        }
        micrograph
    }
}
