//! Real-space images and volumes and their Fourier half-arrays, with RELION's conventions.
//!
//! Real space: a box of `n` pixels per axis (n even), pixel size in Å, logical origin at array
//! index `n/2` on every axis (logical coordinates −n/2 … n/2−1). Fourier space: FFTW's half
//! layout, kx = 0 … n/2 along the fastest axis, ky (and kz) wrapped as 0 … n/2, −n/2+1 … −1.
//! Integer frequency index k means k/(n·p) Å⁻¹; a Fourier pixel belongs to shell round(|k|).
//! The padded, centred grids of the projector and backprojector live in [`CentredGrid`];
//! rectangular micrographs and movie frames, with an uncentred origin, in [`Plane`].

mod centred;
mod half;
mod plane;
mod real;

pub use centred::{CentredGrid, FourierValue, Interpolation};
pub use half::{FourierImage, FourierVolume, HalfGrid};
pub use plane::{Plane, PlaneSpectrum};
pub use real::{Image, RealGrid, Volume};
pub use rustfft::num_complex::{Complex, Complex32, Complex64};

/// Errors from the Fourier-side kernels: a bad box, mismatched inputs or an out-of-range
/// parameter. Each names what was being checked, what was found and what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GridError {
    /// A box size that is zero or odd (all our boxes are even so that the origin is `n/2`).
    #[error("{what}: box size {n} is not a positive even number")]
    BadBox {
        /// What was being built or checked.
        what: &'static str,
        /// The box size found.
        n: usize,
    },
    /// Two inputs, or an input and its declared shape, disagree.
    #[error("{what}: expected {expected}, found {found}")]
    Mismatch {
        /// What was being checked.
        what: &'static str,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
    /// A physical parameter outside its valid range.
    #[error("{what}: {value} is out of range (expected {expected})")]
    OutOfRange {
        /// The parameter's name with its unit.
        what: &'static str,
        /// The value found.
        value: f64,
        /// The valid range, in words.
        expected: &'static str,
    },
}

/// Number of complex values along the fastest (x) axis of the half array of an `n` box: n/2+1.
pub fn half_width(n: usize) -> usize {
    n / 2 + 1
}

/// Logical frequency of wrapped array index `i` on a ky/kz axis of length `n`:
/// 0 … n/2 stay, n/2+1 … n−1 become −n/2+1 … −1.
pub fn wrapped_to_logical(i: usize, n: usize) -> i64 {
    if i <= n / 2 {
        i as i64
    } else {
        i as i64 - n as i64
    }
}

/// Wrapped array index of logical frequency `k` on a ky/kz axis of length `n`, or `None` when k
/// lies outside −n/2+1 … n/2 (−n/2 is folded onto the stored +n/2 row, as FFTW stores it once).
pub fn logical_to_wrapped(k: i64, n: usize) -> Option<usize> {
    let half = (n / 2) as i64;
    if k > half || k < -half {
        None
    } else if k >= 0 {
        Some(k as usize)
    } else if k == -half {
        Some(half as usize)
    } else {
        Some((k + n as i64) as usize)
    }
}

/// Shell index round(|k|) of a frequency with squared integer length `k2` (RELION's shells).
pub fn shell_of(k2: i64) -> usize {
    (k2 as f64).sqrt().round() as usize
}

/// Checks that `n` is a usable box size (positive and even).
pub fn check_box(what: &'static str, n: usize) -> Result<(), GridError> {
    if n == 0 || n % 2 == 1 {
        Err(GridError::BadBox { what, n })
    } else {
        Ok(())
    }
}

/// Checks that a pixel size (Å) is positive and finite.
pub fn check_pixel_size(what: &'static str, pixel_size: f64) -> Result<(), GridError> {
    if pixel_size.is_finite() && pixel_size > 0.0 {
        Ok(())
    } else {
        Err(GridError::OutOfRange {
            what,
            value: pixel_size,
            expected: "a positive pixel size in Å",
        })
    }
}

/// Checks that two boxes have the same size.
pub fn check_same_box(what: &'static str, expected: usize, found: usize) -> Result<(), GridError> {
    if expected == found {
        Ok(())
    } else {
        Err(GridError::Mismatch {
            what,
            expected: format!("box of {expected} pixels"),
            found: format!("box of {found} pixels"),
        })
    }
}

/// Deterministic test noise shared by the unit tests of the Fourier kernels.
#[cfg(test)]
pub(crate) mod test_noise {
    /// `count` values uniform in [−0.5, 0.5) from a SplitMix64 stream seeded with `seed`.
    pub fn uniform(seed: u64, count: usize) -> Vec<f32> {
        let mut random = crate::random::SplitMix64::new(seed);
        (0..count)
            .map(|_| (random.next_unit() - 0.5) as f32)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_round_trips_and_folds_minus_nyquist() {
        let n = 8;
        for i in 0..n {
            assert_eq!(logical_to_wrapped(wrapped_to_logical(i, n), n), Some(i));
        }
        assert_eq!(wrapped_to_logical(4, 8), 4);
        assert_eq!(wrapped_to_logical(5, 8), -3);
        assert_eq!(logical_to_wrapped(-4, 8), Some(4));
        assert_eq!(logical_to_wrapped(5, 8), None);
        assert_eq!(shell_of(2), 1);
        assert_eq!(shell_of(3), 2);
        assert!(check_box("t", 7).is_err());
        assert!(check_pixel_size("t", 0.0).is_err());
    }
}
