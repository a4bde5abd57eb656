//! Rotationally averaged spectra of Fourier half arrays (2D and 3D), per shell round(|k|).
//!
//! Shells run from 0 (DC) to n/2 (Nyquist); shell r is at r/(n·p) Å⁻¹. Values are in RELION's
//! FFT units (forward transform divided by the number of samples). Every stored value of the
//! half array counts once (as RELION's `getSpectrum` does); corners beyond n/2 are left out.

use crate::grid::{Complex32, HalfGrid};

/// Per-shell sums of `value(F(k))` and the number of values summed, shells 0 … n/2.
pub fn shell_sums<T, const D: usize>(
    f: &HalfGrid<T, D>,
    value: impl Fn(&T) -> f64,
) -> (Vec<f64>, Vec<u64>) {
    let shells = f.n() / 2 + 1;
    let (mut sum, mut count) = (vec![0.0; shells], vec![0u64; shells]);
    for (i, v) in f.data().iter().enumerate() {
        let r = f.shell(i);
        if r < shells {
            sum[r] += value(v);
            count[r] += 1;
        }
    }
    (sum, count)
}

/// Per-shell mean of `value(F(k))` (0 for empty shells), shells 0 … n/2.
pub fn shell_average<T, const D: usize>(f: &HalfGrid<T, D>, value: impl Fn(&T) -> f64) -> Vec<f64> {
    let (sum, count) = shell_sums(f, value);
    sum.iter()
        .zip(&count)
        .map(|(&s, &c)| if c > 0 { s / c as f64 } else { 0.0 })
        .collect()
}

/// Rotationally averaged power spectrum: mean |F(k)|² per shell.
pub fn power_spectrum<const D: usize>(f: &HalfGrid<Complex32, D>) -> Vec<f64> {
    shell_average(f, |v| v.norm_sqr() as f64)
}

/// Rotationally averaged amplitude spectrum: mean |F(k)| per shell (Guinier plots).
pub fn amplitude_spectrum<const D: usize>(f: &HalfGrid<Complex32, D>) -> Vec<f64> {
    shell_average(f, |v| v.norm() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fourier::fft::forward;
    use crate::grid::{Image, Volume, test_noise::uniform};

    #[test]
    fn white_noise_has_flat_power_of_variance_over_sample_count() {
        // Real-space variance s² → RELION power per Fourier pixel s²/n^D.
        let n = 32;
        let values = uniform(3, n * n).iter().map(|v| v * 12f32.sqrt()).collect();
        let img = Image::from_vec(n, 1.0, values).unwrap();
        let p = power_spectrum(&forward(&img));
        let mean_high: f64 = p[4..16].iter().sum::<f64>() / 12.0;
        assert!(
            (mean_high * (n * n) as f64 - 1.0).abs() < 0.1,
            "{}",
            mean_high * 1024.0
        );
    }

    #[test]
    fn a_single_cosine_puts_its_power_in_one_shell() {
        let n = 16;
        let vol = Volume::from_fn(n, 1.0, |[x, y, _]| {
            (2.0 * std::f64::consts::PI * (3.0 * x + 4.0 * y) / n as f64).cos() as f32
        })
        .unwrap();
        let f = forward(&vol);
        let (sum, count) = shell_sums(&f, |v| v.norm_sqr() as f64);
        assert_eq!(count.len(), 9);
        for (r, s) in sum.iter().enumerate() {
            // |F|² = 1/4 at (3, 4, 0) and at its mate (−3, −4, 0), which is not stored.
            let expected = if r == 5 { 0.25 } else { 0.0 };
            assert!((s - expected).abs() < 1e-9, "shell {r}: {s}");
        }
        assert!((amplitude_spectrum(&f)[5] * count[5] as f64 - 0.5).abs() < 1e-6);
    }
}
