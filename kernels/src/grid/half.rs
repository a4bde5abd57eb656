//! Fourier half-arrays in FFTW layout: kx = 0 … n/2 fastest, ky/kz wrapped.

use super::{
    GridError, check_box, check_pixel_size, half_width, logical_to_wrapped, wrapped_to_logical,
};
use rustfft::num_complex::Complex32;

/// A Fourier-space half array of dimension `D` for a real box of `n` pixels (pixel size Å):
/// `(n/2+1)` values along kx, `n` along ky (and kz), FFTW order. Element type `T` is complex
/// for transforms and real for CTF or weight images. Integer frequency k means k/(n·p) Å⁻¹.
#[derive(Debug, Clone, PartialEq)]
pub struct HalfGrid<T, const D: usize> {
    n: usize,
    pixel_size: f64,
    data: Vec<T>,
}

/// The transform of an [`Image`](super::Image): RELION scaling, origin at n/2 (see
/// [`crate::fourier::fft`]).
pub type FourierImage = HalfGrid<Complex32, 2>;
/// The transform of a [`Volume`](super::Volume): RELION scaling, origin at n/2.
pub type FourierVolume = HalfGrid<Complex32, 3>;

impl<T, const D: usize> HalfGrid<T, D> {
    const DIMENSION_OK: () = assert!(D == 2 || D == 3, "only 2D and 3D half arrays exist");

    /// Number of stored values for box `n`: (n/2+1)·n^(D−1).
    pub fn len_for(n: usize) -> usize {
        let () = Self::DIMENSION_OK;
        half_width(n) * n.pow(D as u32 - 1)
    }

    /// Wraps values (FFTW order) as a half array, checking box, pixel size (Å) and length.
    pub fn from_vec(n: usize, pixel_size: f64, data: Vec<T>) -> Result<Self, GridError> {
        check_box("Fourier half array", n)?;
        check_pixel_size("Fourier half array pixel size (Å)", pixel_size)?;
        if data.len() != Self::len_for(n) {
            return Err(GridError::Mismatch {
                what: "Fourier half-array values",
                expected: format!("{} values for a {D}D box of {n}", Self::len_for(n)),
                found: format!("{} values", data.len()),
            });
        }
        Ok(Self {
            n,
            pixel_size,
            data,
        })
    }

    /// An all-default (zero) half array for box `n` and pixel size (Å).
    pub fn zeros(n: usize, pixel_size: f64) -> Result<Self, GridError>
    where
        T: Default + Clone,
    {
        Self::from_vec(n, pixel_size, vec![T::default(); Self::len_for(n)])
    }

    /// Box size (pixels) of the real-space grid this half array describes.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Pixel size (Å) of the real-space grid this half array describes.
    pub fn pixel_size(&self) -> f64 {
        self.pixel_size
    }

    /// The values in FFTW order.
    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// The values in FFTW order, for in-place edits.
    pub fn data_mut(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// Gives the values back.
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// Logical frequency (kx, ky, kz) of value `index` (kz = 0 for images).
    pub fn frequency(&self, index: usize) -> [i64; 3] {
        let h = half_width(self.n);
        let kx = (index % h) as i64;
        let ky = wrapped_to_logical((index / h) % self.n, self.n);
        let kz = if D == 3 {
            wrapped_to_logical(index / (h * self.n), self.n)
        } else {
            0
        };
        [kx, ky, kz]
    }

    /// Index of logical frequency (kx ≥ 0, ky, kz), or `None` if it is not stored
    /// (kx < 0 or outside the box; kz must be 0 for images).
    pub fn index_of(&self, kx: i64, ky: i64, kz: i64) -> Option<usize> {
        let h = half_width(self.n);
        if kx < 0 || kx as usize >= h || (D == 2 && kz != 0) {
            return None;
        }
        let y = logical_to_wrapped(ky, self.n)?;
        let z = if D == 3 {
            logical_to_wrapped(kz, self.n)?
        } else {
            0
        };
        Some((z * self.n + y) * h + kx as usize)
    }

    /// Whether value `index` duplicates another one by Friedel symmetry (kx = 0 with ky < 0,
    /// or kx = ky = 0 with kz < 0): RELION's sums over "non-redundant" pixels skip these.
    pub fn is_redundant(&self, index: usize) -> bool {
        let [kx, ky, kz] = self.frequency(index);
        kx == 0 && (ky < 0 || (ky == 0 && kz < 0))
    }

    /// Shell round(|k|) of value `index`.
    pub fn shell(&self, index: usize) -> usize {
        let [kx, ky, kz] = self.frequency(index);
        super::shell_of(kx * kx + ky * ky + kz * kz)
    }

    /// Spatial frequency (Å⁻¹) of shell or frequency index `k` in this box.
    pub fn frequency_angstrom(&self, k: f64) -> f64 {
        k / (self.n as f64 * self.pixel_size)
    }

    /// A half array of the same shape whose values are `f(value)`.
    pub fn map<U>(&self, f: impl Fn(&T) -> U) -> HalfGrid<U, D> {
        HalfGrid {
            n: self.n,
            pixel_size: self.pixel_size,
            data: self.data.iter().map(f).collect(),
        }
    }

    /// Checks that `other` describes the same box (size and pixel size within 0.01 %).
    pub fn check_same_shape<U>(
        &self,
        what: &'static str,
        other: &HalfGrid<U, D>,
    ) -> Result<(), GridError> {
        let same_pixel = (self.pixel_size - other.pixel_size).abs() <= 1e-4 * self.pixel_size;
        if self.n == other.n && same_pixel {
            Ok(())
        } else {
            Err(GridError::Mismatch {
                what,
                expected: format!("box {} at {} Å/px", self.n, self.pixel_size),
                found: format!("box {} at {} Å/px", other.n, other.pixel_size),
            })
        }
    }
}

impl<const D: usize> HalfGrid<Complex32, D> {
    /// Value at any logical frequency, using Friedel symmetry F(−k) = conj F(k) for kx < 0;
    /// `None` outside the box.
    pub fn value_at(&self, kx: i64, ky: i64, kz: i64) -> Option<Complex32> {
        if kx < 0 {
            self.index_of(-kx, -ky, -kz).map(|i| self.data[i].conj())
        } else {
            self.index_of(kx, ky, kz).map(|i| self.data[i])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequencies_and_indices_agree() {
        let g = FourierVolume::zeros(6, 1.0).unwrap();
        for i in 0..g.data().len() {
            let [kx, ky, kz] = g.frequency(i);
            assert_eq!(g.index_of(kx, ky, kz), Some(i));
        }
        let img = FourierImage::zeros(6, 2.0).unwrap();
        assert_eq!(img.frequency(4 * 4 + 1), [1, -2, 0]);
        assert!(img.is_redundant(4 * 4));
        assert!(!img.is_redundant(1));
        assert_eq!(img.index_of(-1, 0, 0), None);
        assert!((img.frequency_angstrom(3.0) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn friedel_lookup_conjugates() {
        let mut img = FourierImage::zeros(4, 1.0).unwrap();
        let i = img.index_of(1, 1, 0).unwrap();
        img.data_mut()[i] = Complex32::new(1.0, 2.0);
        assert_eq!(img.value_at(-1, -1, 0), Some(Complex32::new(1.0, -2.0)));
    }
}
