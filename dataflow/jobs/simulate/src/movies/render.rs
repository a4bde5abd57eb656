//! Frame formation of a simulated counting movie (polish-and-initial-model.md §A.9).
//!
//! Each particle's noise-free projection (the map's box) is embedded in a box twice as large,
//! so that the CTF's delocalisation does not wrap around, multiplied by the micrograph's CTF
//! and, per frame, by the radiation-damage attenuation exp(−N/(2·N_e(q))) of the amplitudes
//! (N the exposure at the middle of the frame in e/Å², N_e the critical exposure of Grant &
//! Grigorieff 2015, 0.245·q^−1.665 + 2.81 e/Å² at 300 kV with q in Å⁻¹, ×0.8 at 200 kV and
//! ×0.64 at 100 kV), moved to its sub-pixel position in that frame by a phase ramp and added
//! into the frame's signal canvas S_f (map units × pixels).
//!
//! Counts: pixel x of frame f records Poisson(e(x)·d_px·(1 − c·S_f(x))) electrons, d_px the dose
//! per pixel and frame, c the contrast (chosen from the SNR, see [`super`]) and e(x) = 1/g(x) the
//! detection efficiency that the gain reference g corrects; hot pixels add Poisson(20·d_px)
//! counts in every frame.

use cryoflux_kernels::fourier::ctf::{Ctf, CtfParams, CtfVariant};
use cryoflux_kernels::fourier::fft;
use cryoflux_kernels::fourier::shift::shift;
use cryoflux_kernels::grid::{FourierImage, GridError, Image, Plane};
use cryoflux_kernels::motion::dose;

/// Critical exposure N_e(q) in e/Å² at spatial frequency `q` Å⁻¹ and `voltage_kv`: the
/// kernel's 300 kV curve ([`dose::critical_exposure`]), scaled for lower voltages.
pub fn critical_exposure(q: f64, voltage_kv: f64) -> f64 {
    let scale = if voltage_kv < 150.0 {
        0.64
    } else if voltage_kv < 250.0 {
        0.8
    } else {
        1.0
    };
    dose::critical_exposure(q.max(1e-6)) * scale
}

/// One particle ready to be drawn into frames: its CTF-modulated transform on the render box.
#[derive(Debug, Clone)]
pub struct RenderedParticle {
    transform: FourierImage,
}

impl RenderedParticle {
    /// Prepares `projection` (the noise-free projection, origin at its centre) with the CTF.
    pub fn new(projection: &Image, ctf: &CtfParams) -> Result<Self, GridError> {
        let (n, pixel) = (projection.n(), projection.pixel_size());
        let big = 2 * n;
        let padded = Image::from_fn(big, pixel, |[x, y, _]| {
            let (ix, iy) = (x as i64 + n as i64 / 2, y as i64 + n as i64 / 2);
            if (0..n as i64).contains(&ix) && (0..n as i64).contains(&iy) {
                projection.data()[iy as usize * n + ix as usize]
            } else {
                0.0
            }
        })?;
        let mut transform = fft::forward(&padded);
        let ctf = Ctf::new(*ctf)?.image(big, pixel, CtfVariant::default())?;
        for (v, c) in transform.data_mut().iter_mut().zip(ctf.data()) {
            *v *= *c;
        }
        Ok(Self { transform })
    }

    /// Box of the rendered image in pixels (twice the map's).
    pub fn box_size(&self) -> usize {
        self.transform.n()
    }

    /// Adds the particle into `canvas` with its centre at `centre` (pixels, canvas coordinates),
    /// its amplitudes attenuated for an exposure of `exposure` e/Å² at `voltage_kv`.
    pub fn draw(&self, canvas: &mut Plane, centre: [f64; 2], exposure: f64, voltage_kv: f64) {
        let (n, pixel) = (self.transform.n(), self.transform.pixel_size());
        let mut f = self.transform.clone();
        for (i, v) in f.data_mut().iter_mut().enumerate() {
            let [kx, ky, _] = self.transform.frequency(i);
            let q = ((kx * kx + ky * ky) as f64).sqrt() / (n as f64 * pixel);
            *v *= (-exposure / (2.0 * critical_exposure(q, voltage_kv))).exp() as f32;
        }
        let whole = centre.map(f64::floor);
        shift(
            &mut f,
            [
                (centre[0] - whole[0]) * pixel,
                (centre[1] - whole[1]) * pixel,
            ],
        );
        let image = fft::inverse(&f);
        let (x0, y0) = (
            whole[0] as i64 - n as i64 / 2,
            whole[1] as i64 - n as i64 / 2,
        );
        let (width, height) = (canvas.width() as i64, canvas.height() as i64);
        for iy in 0..n as i64 {
            let y = y0 + iy;
            if !(0..height).contains(&y) {
                continue;
            }
            for ix in 0..n as i64 {
                let x = x0 + ix;
                if (0..width).contains(&x) {
                    canvas.data_mut()[(y * width + x) as usize] +=
                        image.data()[(iy * n as i64 + ix) as usize];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_exposure_follows_grant_and_grigorieff() {
        // At 1/4 Å⁻¹: 0.245·4^1.665 + 2.81.
        let expected = 0.245 * 4f64.powf(1.665) + 2.81;
        assert!((critical_exposure(0.25, 300.0) - expected).abs() < 1e-12);
        assert!((critical_exposure(0.25, 200.0) - 0.8 * expected).abs() < 1e-12);
    }

    #[test]
    fn a_particle_lands_centred_on_its_position_and_fades_with_dose() {
        let n = 16;
        let blob =
            Image::from_fn(n, 2.0, |[x, y, _]| (-(x * x + y * y) / 3.0).exp() as f32).unwrap();
        let ctf = CtfParams {
            voltage_kv: 300.0,
            cs_mm: 2.7,
            amplitude_contrast: 1.0,
            ..CtfParams::default()
        };
        let particle = RenderedParticle::new(&blob, &ctf).unwrap();
        let mut canvas = Plane::zeros(60, 50);
        particle.draw(&mut canvas, [20.5, 30.0], 0.0, 300.0);
        // With Q0 = 1 and zero defocus the CTF is 1: a blob centred between pixels 20 and 21.
        let (left, right) = (canvas.get(20, 30).unwrap(), canvas.get(21, 30).unwrap());
        assert!((left - right).abs() < 1e-3 * left, "{left} vs {right}");
        assert!(left > 0.8 && canvas.get(25, 30).unwrap() < 0.1 * left);
        let mut damaged = Plane::zeros(60, 50);
        particle.draw(&mut damaged, [20.5, 30.0], 40.0, 300.0);
        assert!(damaged.get(20, 30).unwrap() < left);
        assert!(
            (damaged.sum() - canvas.sum()).abs() < 1e-3 * canvas.sum(),
            "DC is not damaged"
        );
    }
}
