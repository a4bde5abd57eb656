//! Dose weighting of aligned movie frames, as `relion_run_motioncorr --dose_weighting`: the
//! Grant & Grigorieff (2015) critical exposure N_e(q) = 0.245·q^−1.665 + 2.81 e/Å² (q in Å⁻¹,
//! at 300 kV), frame f (0-based) weighted by the amplitude factor exp(−N_f / (2·s·N_e(q))) with
//! the accumulated dose N_f = pre-exposure + dose_per_frame·(f + 1) e/Å² and s = 1 at 300 kV,
//! 0.8 at 200 kV, 0.64 at 100 kV (lower voltages damage faster).
//!
//! The weighted sum is divided, per frequency, by √(Σ_f w_f²), which keeps the power of white
//! noise. Checked against RELION 3.1.3 (`--use_own`, 128 × 96 px, 6 identical frames, 200 kV,
//! 2 e/Å²/frame, pre-exposure 3 e/Å²): its output spectrum over the input's equals
//! Σw/√(Σw²) to 2·10⁻⁴ (float precision) at every frequency, with q = √((kx/w)² + (ky/h)²)/p;
//! dividing by Σw or not at all is off by more than 1. Under this normalisation a common factor
//! of all weights cancels, so the pre-exposure and the frame offset (f + 1) do not change the
//! sum; they matter only for [`DoseSettings::weight`] itself.

use crate::grid::{GridError, PlaneSpectrum, wrapped_to_logical};
use rayon::prelude::*;

/// The exposure of a movie, as RELION's flags.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DoseSettings {
    /// Dose per frame in e/Å² (`--dose_per_frame`).
    pub dose_per_frame: f64,
    /// Dose received before the first frame in e/Å² (`--preexposure`).
    pub pre_exposure: f64,
    /// Acceleration voltage in kV (`--voltage`): 300, 200 or 100.
    pub voltage: f64,
}

/// Grant & Grigorieff's critical exposure at 300 kV, in e/Å², at spatial frequency `q` Å⁻¹
/// (infinite at q = 0: no damage at DC).
pub fn critical_exposure(q: f64) -> f64 {
    0.245 * q.powf(-1.665) + 2.81
}

impl DoseSettings {
    /// Checks the settings: doses finite and ≥ 0, voltage 300, 200 or 100 kV (RELION refuses
    /// others: "dose weighting is supported only for 300, 200 or 100 kV").
    pub fn new(dose_per_frame: f64, pre_exposure: f64, voltage: f64) -> Result<Self, GridError> {
        for (what, value) in [
            ("--dose_per_frame (e/Å²)", dose_per_frame),
            ("--preexposure (e/Å²)", pre_exposure),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(GridError::OutOfRange {
                    what,
                    value,
                    expected: "a finite dose ≥ 0 e/Å²",
                });
            }
        }
        let settings = Self {
            dose_per_frame,
            pre_exposure,
            voltage,
        };
        settings.voltage_scale()?;
        Ok(settings)
    }

    /// The factor s scaling the critical exposure: 1 at 300 kV, 0.8 at 200 kV, 0.64 at 100 kV
    /// (within ±2 kV); other voltages are an error.
    pub fn voltage_scale(&self) -> Result<f64, GridError> {
        [(300.0, 1.0), (200.0, 0.8), (100.0, 0.64)]
            .into_iter()
            .find(|(kv, _)| (self.voltage - kv).abs() <= 2.0)
            .map(|(_, scale)| scale)
            .ok_or(GridError::OutOfRange {
                what: "--voltage for dose weighting (kV)",
                value: self.voltage,
                expected: "300, 200 or 100 kV",
            })
    }

    /// Accumulated dose at the end of frame `frame` (0-based), in e/Å².
    pub fn accumulated_dose(&self, frame: usize) -> f64 {
        self.pre_exposure + self.dose_per_frame * (frame as f64 + 1.0)
    }

    /// The amplitude weight of frame `frame` (0-based) at spatial frequency `q` Å⁻¹:
    /// exp(−N_f / (2·s·N_e(q))), 1 at q = 0.
    pub fn weight(&self, frame: usize, q: f64) -> Result<f64, GridError> {
        let scale = self.voltage_scale()?;
        Ok((-self.accumulated_dose(frame) / (2.0 * scale * critical_exposure(q))).exp())
    }
}

/// Dose weighting of a movie's frames: their pixel size and exposure, checked. (The
/// pre-exposure cancels in the normalised weights, so only the dose per frame is kept.)
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DoseWeighting {
    pixel_size: f64,
    dose_per_frame: f64,
    voltage_scale: f64,
}

impl DoseWeighting {
    /// Frames of `pixel_size` Å (finite, > 0) exposed as `dose` (its voltage one that
    /// [`DoseSettings::voltage_scale`] accepts).
    pub fn new(pixel_size: f64, dose: DoseSettings) -> Result<Self, GridError> {
        crate::grid::check_pixel_size("pixel size for dose weighting (Å)", pixel_size)?;
        Ok(Self {
            pixel_size,
            dose_per_frame: dose.dose_per_frame,
            voltage_scale: dose.voltage_scale()?,
        })
    }

    /// The normalised weights of `frames` frames at the frequency (`fx`, `fy`) in cycles per
    /// pixel.
    pub fn at(&self, fx: f64, fy: f64, frames: usize) -> FrameWeights {
        let q = fx.hypot(fy) / self.pixel_size;
        FrameWeights::new(
            self.dose_per_frame / (2.0 * self.voltage_scale * critical_exposure(q)),
            frames,
        )
    }
}

/// Every frame's normalised dose weight at one spatial frequency, w_f / √(Σ_f' w_f'²). With a
/// constant dose per frame, w_f = w_0·r^f, so the normalised weight of frame f is r^f divided by
/// √(Σ_f' r^2f'), a geometric sum: the pre-exposure and w_0 cancel, and no weight underflows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameWeights {
    /// r = exp(−dose per frame / (2·s·N_e(q))): each frame's weight over the previous one's.
    pub ratio: f64,
    /// The normalised weight of the first frame, 1 / √(Σ_f r^2f).
    pub first: f64,
}

impl FrameWeights {
    /// The weights of `frames` frames whose damage grows by `rate` = −ln r per frame.
    fn new(rate: f64, frames: usize) -> Self {
        let count = frames as f64;
        let sum_of_squares = if rate > 0.0 {
            (-2.0 * rate * count).exp_m1() / (-2.0 * rate).exp_m1()
        } else {
            count
        };
        Self {
            ratio: (-rate).exp(),
            first: 1.0 / sum_of_squares.sqrt(),
        }
    }

    /// The normalised weight of frame `frame` (0-based).
    pub fn of(&self, frame: usize) -> f64 {
        self.first * self.ratio.powi(frame as i32)
    }
}

/// The normalised frame weights at every frequency of one spectrum size, computed once for all
/// frames (a weight is then a power of its ratio, not a critical exposure and exponentials).
#[derive(Debug, Clone, PartialEq)]
pub struct WeightTable {
    width: usize,
    height: usize,
    weights: Vec<FrameWeights>,
}

impl DoseWeighting {
    /// The weights of `frames` frames at every value of the half array of a `width` × `height`
    /// px frame's spectrum.
    pub fn table(&self, width: usize, height: usize, frames: usize) -> WeightTable {
        let columns = PlaneSpectrum::columns_for(width);
        let weights = (0..columns * height)
            .into_par_iter()
            .map(|i| {
                let fy = wrapped_to_logical(i / columns, height) as f64 / height as f64;
                self.at((i % columns) as f64 / width as f64, fy, frames)
            })
            .collect();
        WeightTable {
            width,
            height,
            weights,
        }
    }
}

/// Multiplies an aligned frame's spectrum, frame `frame` (0-based), by its normalised dose
/// weight w_f(q) / √(Σ_f' w_f'(q)²) from `table`, so that the plain sum of the weighted frames
/// is the dose-weighted sum ([`super::frames::sum_aligned`]): for sums that move each frame
/// differently afterwards (a local motion model). A table of another size is an error.
pub fn dose_weight(
    spectrum: &mut PlaneSpectrum,
    frame: usize,
    table: &WeightTable,
) -> Result<(), GridError> {
    if (spectrum.width(), spectrum.height()) != (table.width, table.height) {
        return Err(GridError::Mismatch {
            what: "dose-weight table",
            expected: format!(
                "the frame size {} × {} px",
                spectrum.width(),
                spectrum.height()
            ),
            found: format!("{} × {} px", table.width, table.height),
        });
    }
    spectrum
        .data_mut()
        .par_iter_mut()
        .zip(&table.weights)
        .for_each(|(value, weights)| *value *= weights.of(frame) as f32);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fourier::fft::plane::forward;
    use crate::grid::Plane;
    use crate::motion::frames::sum_aligned;
    use crate::random::SplitMix64;

    /// The dose-weighted sum of unshifted frames.
    fn weighted_sum(
        frames: &[PlaneSpectrum],
        pixel_size: f64,
        dose: &DoseSettings,
    ) -> Result<PlaneSpectrum, GridError> {
        let weighting = DoseWeighting::new(pixel_size, *dose)?;
        sum_aligned(frames, &vec![[0.0; 2]; frames.len()], Some(&weighting))
    }

    #[test]
    fn weighting_each_frame_then_summing_is_the_weighted_sum() {
        let frames: Vec<PlaneSpectrum> = (0..4)
            .map(|f| {
                forward(&Plane::from_fn(12, 10, |x, y| {
                    ((x * 3 + y * 7 + f * 5) % 11) as f32
                }))
            })
            .collect();
        let settings = DoseSettings::new(1.5, 0.5, 300.0).unwrap();
        let summed = weighted_sum(&frames, 1.2, &settings).unwrap();
        let table = DoseWeighting::new(1.2, settings)
            .unwrap()
            .table(12, 10, frames.len());
        let mut each = frames.clone();
        for (f, frame) in each.iter_mut().enumerate() {
            dose_weight(frame, f, &table).unwrap();
        }
        assert!(dose_weight(&mut PlaneSpectrum::zeros(12, 8), 0, &table).is_err());
        for (i, a) in summed.data().iter().enumerate() {
            let b: crate::grid::Complex32 = each.iter().map(|f| f.data()[i]).sum();
            assert!((a - b).norm() < 1e-5, "{a} vs {b}");
        }
    }

    #[test]
    fn weights_follow_the_formula_at_hand_picked_frequencies() {
        let dose = DoseSettings::new(2.0, 3.0, 300.0).unwrap();
        // q = 0.25 Å⁻¹ (4 Å): N_e = 0.245·4^1.665 + 2.81 = 0.245·10.0556 + 2.81 = 5.2736 e/Å².
        let ne = 0.245 * 0.25f64.powf(-1.665) + 2.81;
        assert!(
            (critical_exposure(0.25) - 5.273_7).abs() < 1e-4,
            "{}",
            critical_exposure(0.25)
        );
        // Frame 2 (third frame): N = 3 + 2·3 = 9 e/Å².
        let expected = (-9.0 / (2.0 * ne)).exp();
        assert!((dose.weight(2, 0.25).unwrap() - expected).abs() < 1e-12);
        assert_eq!(dose.weight(5, 0.0).unwrap(), 1.0);
        // 200 kV: the critical exposure is 0.8 times as large, so weights are smaller.
        let at200 = DoseSettings::new(2.0, 3.0, 200.0).unwrap();
        let expected200 = (-9.0 / (2.0 * 0.8 * ne)).exp();
        assert!((at200.weight(2, 0.25).unwrap() - expected200).abs() < 1e-12);
        assert!(DoseSettings::new(2.0, 0.0, 120.0).is_err());
        assert!(DoseSettings::new(-1.0, 0.0, 300.0).is_err());
    }

    #[test]
    fn identical_frames_are_scaled_like_relion_by_sum_over_root_sum_of_squares() {
        let (w, h, pixel) = (32, 24, 1.0);
        let mut random = SplitMix64::new(3);
        let image = Plane::from_vec(
            w,
            h,
            (0..w * h).map(|_| random.next_normal() as f32).collect(),
        )
        .unwrap();
        let spectrum = forward(&image);
        let frames = vec![spectrum.clone(); 6];
        let dose = DoseSettings::new(2.0, 3.0, 200.0).unwrap();
        let sum = weighted_sum(&frames, pixel, &dose).unwrap();
        let mut worst = 0.0f64;
        for (i, (out, input)) in sum.data().iter().zip(spectrum.data()).enumerate() {
            let (fx, fy) = sum.frequency_per_pixel(i);
            let q = fx.hypot(fy) / pixel;
            let weights: Vec<f64> = (0..6).map(|f| dose.weight(f, q).unwrap()).collect();
            let gain =
                weights.iter().sum::<f64>() / weights.iter().map(|w| w * w).sum::<f64>().sqrt();
            let predicted = input * gain as f32;
            worst =
                worst.max(f64::from((out - predicted).norm()) / f64::from(input.norm().max(1e-3)));
        }
        assert!(worst < 1e-5, "{worst}");
        // At DC every weight is 1: the gain is √6.
        assert!((sum.data()[0].re - spectrum.data()[0].re * 6f32.sqrt()).abs() < 1e-5);
    }

    #[test]
    fn summed_noise_keeps_the_power_of_one_frame() {
        // Independent white noise per frame: E|Σ w_f n_f|² / Σ w_f² = E|n|², whatever the weights.
        let (w, h, frames) = (64, 64, 16);
        let spectra: Vec<PlaneSpectrum> = (0..frames)
            .map(|f| {
                let mut random = SplitMix64::keyed(5, &[f as u64]);
                let noise = (0..w * h).map(|_| random.next_normal() as f32).collect();
                forward(&Plane::from_vec(w, h, noise).unwrap())
            })
            .collect();
        let dose = DoseSettings::new(4.0, 0.0, 300.0).unwrap();
        let sum = weighted_sum(&spectra, 1.0, &dose).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let one_thread = pool.install(|| weighted_sum(&spectra, 1.0, &dose).unwrap());
        assert_eq!(sum, one_thread);
        // Per Fourier pixel, unit real-space variance gives power 1/(w·h); high frequencies are
        // weighted very unequally (late frames ≈ 0), yet the mean power stays 1/(w·h).
        let high: Vec<f64> = sum
            .data()
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                let (fx, fy) = sum.frequency_per_pixel(*i);
                fx.hypot(fy) > 0.3
            })
            .map(|(_, v)| f64::from(v.norm_sqr()) * (w * h) as f64)
            .collect();
        let mean = high.iter().sum::<f64>() / high.len() as f64;
        assert!(
            high.len() > 500 && (mean - 1.0).abs() < 0.1,
            "{mean} over {}",
            high.len()
        );
    }

    #[test]
    fn frames_of_different_sizes_are_refused() {
        let dose = DoseSettings::new(1.0, 0.0, 300.0).unwrap();
        let frames = [PlaneSpectrum::zeros(8, 8), PlaneSpectrum::zeros(8, 6)];
        let err = weighted_sum(&frames, 1.0, &dose).unwrap_err();
        assert!(err.to_string().contains("frame 1"), "{err}");
        assert!(weighted_sum(&[], 1.0, &dose).is_err());
    }
}
