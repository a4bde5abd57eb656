//! Map-sharpening filters of post-processing, on centred half arrays: FSC weighting
//! (Rosenthal & Henderson 2003), division by a detector's MTF, and the cut at Nyquist that
//! goes with a B-factor. (The B-factor itself is [`crate::fourier::filter::apply_bfactor`].)
//!
//! Shells are round(|k|) with |k| in pixels of the box; spatial frequency s = |k|/(n·p) Å⁻¹.

use crate::fourier::filter::apply_radial;
use crate::grid::{Complex32, GridError, HalfGrid};

/// FSC below which `relion_postprocess` stops FSC weighting and zeroes the map.
pub const FSC_WEIGHTING_FLOOR: f64 = 1e-4;

/// Rosenthal & Henderson's weight for a half-map FSC: √(2·FSC/(1 + FSC)), the expected
/// correlation of the full map with the truth; 0 for FSC ≤ 0.
pub fn fsc_weight(fsc: f64) -> f64 {
    if fsc > 0.0 {
        (2.0 * fsc / (1.0 + fsc)).sqrt()
    } else {
        0.0
    }
}

/// Multiplies each value of shell r by [`fsc_weight`]`(fsc[r])` up to the last shell before the
/// curve first drops below [`FSC_WEIGHTING_FLOOR`] (scanning from shell 0), and zeroes all
/// shells beyond it, corners included (RELION's `applyFscWeighting`).
pub fn apply_fsc_weighting<const D: usize>(f: &mut HalfGrid<Complex32, D>, fsc: &[f64]) {
    let last = fsc
        .iter()
        .position(|&v| v < FSC_WEIGHTING_FLOOR)
        .map_or(fsc.len() as i64 - 1, |first_below| first_below as i64 - 1);
    for i in 0..f.data().len() {
        let r = f.shell(i) as i64;
        let gain = if r <= last {
            fsc_weight(fsc[r as usize])
        } else {
            0.0
        };
        f.data_mut()[i] *= gain as f32;
    }
}

/// Zeroes every value beyond Nyquist (|k| > n/2), as RELION does when it applies a B-factor.
pub fn zero_beyond_nyquist<const D: usize>(f: &mut HalfGrid<Complex32, D>) {
    let nyquist = (f.n() / 2) as f64;
    apply_radial(f, |k| if k > nyquist { 0.0 } else { 1.0 });
}

/// A detector's modulation transfer function: MTF values at increasing spatial frequencies
/// (Å⁻¹), linearly interpolated between them and held constant beyond the first and last.
#[derive(Debug, Clone, PartialEq)]
pub struct Mtf {
    frequency: Vec<f64>,
    value: Vec<f64>,
}

impl Mtf {
    /// Builds the curve from frequencies in Å⁻¹ (strictly increasing, ≥ 0) and MTF values
    /// (> 1e−10, as RELION requires, since the map is divided by them).
    pub fn new(frequency: Vec<f64>, value: Vec<f64>) -> Result<Self, GridError> {
        if frequency.len() != value.len() || frequency.len() < 2 {
            return Err(GridError::Mismatch {
                what: "MTF curve",
                expected: "at least two (frequency, value) pairs".into(),
                found: format!("{} frequencies and {} values", frequency.len(), value.len()),
            });
        }
        if let Some(&bad) = value.iter().find(|&&v| !(v.is_finite() && v > 1e-10)) {
            return Err(GridError::OutOfRange {
                what: "MTF value",
                value: bad,
                expected: "> 1e-10 (the map is divided by it)",
            });
        }
        let increasing = frequency.windows(2).all(|w| w[1] > w[0]);
        if !(increasing && frequency[0].is_finite() && frequency[0] >= 0.0) {
            return Err(GridError::Mismatch {
                what: "MTF frequencies (Å⁻¹)",
                expected: "finite values ≥ 0, strictly increasing".into(),
                found: format!("{frequency:?}"),
            });
        }
        Ok(Mtf { frequency, value })
    }

    /// The MTF at spatial frequency `s` Å⁻¹.
    pub fn at(&self, s: f64) -> f64 {
        let last = self.frequency.len() - 1;
        if s <= self.frequency[0] {
            return self.value[0];
        }
        if s >= self.frequency[last] {
            return self.value[last];
        }
        let upper = self.frequency.partition_point(|&x| x <= s);
        let (x0, x1) = (self.frequency[upper - 1], self.frequency[upper]);
        let (y0, y1) = (self.value[upper - 1], self.value[upper]);
        y0 + (y1 - y0) * (s - x0) / (x1 - x0)
    }
}

/// Divides every value below Nyquist (|k| < n/2) by the MTF at its spatial frequency, undoing
/// the detector's damping; values at and beyond Nyquist are left as they are (as RELION does).
pub fn divide_by_mtf<const D: usize>(f: &mut HalfGrid<Complex32, D>, mtf: &Mtf) {
    let nyquist = (f.n() / 2) as f64;
    let box_angstrom = f.n() as f64 * f.pixel_size();
    apply_radial(f, |k| {
        if k < nyquist {
            1.0 / mtf.at(k / box_angstrom)
        } else {
            1.0
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::FourierVolume;

    fn ones(n: usize, p: f64) -> FourierVolume {
        let mut f = FourierVolume::zeros(n, p).unwrap();
        f.data_mut()
            .iter_mut()
            .for_each(|v| *v = Complex32::new(1.0, 0.0));
        f
    }

    fn at(f: &FourierVolume, kx: i64, ky: i64, kz: i64) -> f32 {
        f.data()[f.index_of(kx, ky, kz).unwrap()].re
    }

    #[test]
    fn weights_follow_the_fsc_and_stop_at_the_floor() {
        assert_eq!(fsc_weight(1.0), 1.0);
        assert!((fsc_weight(0.143) - (0.286f64 / 1.143).sqrt()).abs() < 1e-12);
        assert_eq!(fsc_weight(-0.2), 0.0);
        let mut f = ones(16, 1.0);
        // Shell 5 drops below the floor, so shells 5 … and the corners go to zero even
        // though shell 6 recovers.
        let fsc = [1.0, 0.9, 0.8, 0.5, 0.3, 5e-5, 0.4, 0.2, 0.1];
        apply_fsc_weighting(&mut f, &fsc);
        assert!((at(&f, 3, 0, 0) as f64 - fsc_weight(0.5)).abs() < 1e-6);
        assert!((at(&f, 4, 0, 0) as f64 - fsc_weight(0.3)).abs() < 1e-6);
        assert_eq!(
            (at(&f, 5, 0, 0), at(&f, 6, 0, 0), at(&f, 8, 8, 8)),
            (0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn nyquist_cut_keeps_the_sphere() {
        let mut f = ones(16, 1.0);
        zero_beyond_nyquist(&mut f);
        assert_eq!((at(&f, 8, 0, 0), at(&f, 6, 6, 0)), (1.0, 0.0));
    }

    #[test]
    fn mtf_is_interpolated_and_divided_out_below_nyquist() {
        let mtf = Mtf::new(vec![0.0, 0.1, 0.2], vec![1.0, 0.5, 0.25]).unwrap();
        assert_eq!((mtf.at(0.0), mtf.at(0.3)), (1.0, 0.25));
        assert!((mtf.at(0.15) - 0.375).abs() < 1e-12);
        // Box 16 of 2 Å: kx = 4 is 0.125 Å⁻¹ → MTF 0.4375; Nyquist (kx = 8) is untouched.
        let mut f = ones(16, 2.0);
        divide_by_mtf(&mut f, &mtf);
        assert!((at(&f, 4, 0, 0) as f64 - 1.0 / 0.4375).abs() < 1e-5);
        assert_eq!(at(&f, 8, 0, 0), 1.0);
        assert!(Mtf::new(vec![0.0, 0.1], vec![1.0, 0.0]).is_err());
        assert!(Mtf::new(vec![0.1, 0.1], vec![1.0, 0.5]).is_err());
        assert!(Mtf::new(vec![0.1], vec![1.0]).is_err());
    }
}
