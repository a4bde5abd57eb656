//! CTFFIND's diagnostic image: the background-subtracted spectrum in the left half (x < box/2)
//! and the fitted CTF² in the right half, both centred as the spectrum is (DC at pixel
//! (box/2, box/2)), each normalised to zero mean and unit standard deviation over the
//! frequencies kept (low-resolution limit to Nyquist), clipped to ±[`CLIP_SIGMA`], 0 elsewhere.

use super::CtfFindError;
use super::background::BandSpectrum;
use super::fit::CtfEstimate;
use super::settings::Microscope;
use crate::fourier::ctf::{Ctf, CtfVariant};
use crate::grid::Plane;

/// Diagnostic values are clipped to this many standard deviations.
pub const CLIP_SIGMA: f64 = 3.0;

/// The diagnostic image of `estimate` fitted to `band`, a centred `box × box` plane.
pub fn diagnostic_image(
    band: &BandSpectrum,
    estimate: &CtfEstimate,
    microscope: &Microscope,
) -> Result<Plane, CtfFindError> {
    let n = band.box_size();
    let half = n as f64 / 2.0;
    let box_angstrom = n as f64 * band.pixel_size();
    let ctf = Ctf::new(estimate.ctf_params(microscope))?;
    let variant = CtfVariant {
        damping: false,
        ..CtfVariant::default()
    };
    let r_min = box_angstrom / band.min_resolution();
    let kept = |x: usize, y: usize| {
        let r = (x as f64 - half).hypot(y as f64 - half);
        r >= r_min && r <= half
    };
    let model = |x: usize, y: usize| {
        let (fx, fy) = (
            (x as f64 - half) / box_angstrom,
            (y as f64 - half) / box_angstrom,
        );
        ctf.value(fx, fy, variant).powi(2)
    };
    let spectrum = band.subtracted();
    let data = |x: usize, y: usize| f64::from(spectrum.get(x, y).unwrap_or(0.0));
    let data_norm = Normaliser::over(n, &kept, &data);
    let model_norm = Normaliser::over(n, &kept, &model);
    Ok(Plane::from_fn(n, n, |x, y| {
        if !kept(x, y) {
            0.0
        } else if (x as f64) < half {
            data_norm.apply(data(x, y))
        } else {
            model_norm.apply(model(x, y))
        }
    }))
}

/// Mean and standard deviation of a function over the kept pixels.
struct Normaliser {
    mean: f64,
    std: f64,
}

impl Normaliser {
    fn over(
        n: usize,
        kept: &impl Fn(usize, usize) -> bool,
        f: &impl Fn(usize, usize) -> f64,
    ) -> Self {
        let (mut count, mut sum, mut sum2) = (0.0, 0.0, 0.0);
        for y in 0..n {
            for x in (0..n).filter(|&x| kept(x, y)) {
                let v = f(x, y);
                count += 1.0;
                sum += v;
                sum2 += v * v;
            }
        }
        let mean = sum / f64::max(count, 1.0);
        let std = (sum2 / f64::max(count, 1.0) - mean * mean).max(0.0).sqrt();
        Self { mean, std }
    }

    fn apply(&self, v: f64) -> f32 {
        if self.std > 0.0 {
            ((v - self.mean) / self.std).clamp(-CLIP_SIGMA, CLIP_SIGMA) as f32
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctffind::testkit::Simulation;
    use crate::ctffind::{CtfFindSettings, averaged_power_spectrum, estimate_ctf};

    #[test]
    fn the_spectrum_half_matches_the_mirrored_fit_half() {
        let microscope = Microscope {
            voltage_kv: 300.0,
            cs_mm: 2.7,
            amplitude_contrast: 0.1,
            pixel_size: 1.0,
        };
        let settings = CtfFindSettings::default();
        let micrograph = Simulation::krios((1024, 1024), (16000.0, 15000.0), 20.0, 7).render();
        let power = averaged_power_spectrum(&micrograph, 512).unwrap();
        let band = BandSpectrum::for_settings(&power, &microscope, &settings).unwrap();
        let estimate = estimate_ctf(&band, &microscope, &settings).unwrap();
        let image = diagnostic_image(&band, &estimate, &microscope).unwrap();
        assert_eq!((image.width(), image.height()), (512, 512));
        assert_eq!(
            image.get(256, 256),
            Some(0.0),
            "DC inside the low-resolution limit"
        );
        assert!(image.data().iter().all(|v| v.abs() <= CLIP_SIGMA as f32));
        // CTF² is centrosymmetric: pixel (x, y) of the left half faces (512 − x, 512 − y).
        let (mut left, mut right) = (Vec::new(), Vec::new());
        // Compare within the fitted band (5 Å = 102.4 px); beyond it the spectrum is mostly noise.
        for y in 1..512 {
            for x in (1..256).filter(|&x| (x as f64 - 256.0).hypot(y as f64 - 256.0) <= 102.4) {
                left.push(f64::from(image.get(x, y).unwrap()));
                right.push(f64::from(image.get(512 - x, 512 - y).unwrap()));
            }
        }
        let cc = crate::ctffind::profile::pearson(&left, &right);
        eprintln!(
            "diagnostic: CC of the halves {cc:.3}, FOM {:.3}",
            estimate.figure_of_merit
        );
        assert!(cc > 0.3, "{cc}");
    }
}
