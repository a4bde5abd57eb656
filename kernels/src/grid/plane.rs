//! Rectangular real-space images of any size (micrographs, movie frames, patches) and their
//! Fourier half arrays.
//!
//! Unlike [`super::Image`], a plane has no centre that matters: its origin is pixel (0, 0) and
//! its transforms (see [`crate::fourier::fft::plane`]) are plain, uncentred DFTs. Width and
//! height may be any positive numbers (4092 × 5760 K3 frames, 5×5 patches of odd sizes).

use super::{Complex32, GridError, wrapped_to_logical};

/// A `width` × `height` real image of `f32` samples, row-major (`data[y·width + x]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    width: usize,
    height: usize,
    data: Vec<f32>,
}

impl Plane {
    /// An all-zero plane.
    pub fn zeros(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![0.0; width * height],
        }
    }

    /// Wraps row-major samples, checking that there are `width · height` of them and that
    /// neither size is zero.
    pub fn from_vec(width: usize, height: usize, data: Vec<f32>) -> Result<Self, GridError> {
        if width == 0 || height == 0 || data.len() != width * height {
            return Err(GridError::Mismatch {
                what: "plane samples",
                expected: format!(
                    "{} samples for a {width} × {height} plane (sizes > 0)",
                    width * height
                ),
                found: format!("{} samples", data.len()),
            });
        }
        Ok(Self {
            width,
            height,
            data,
        })
    }

    /// A plane whose pixel (x, y) is `f(x, y)`.
    pub fn from_fn(width: usize, height: usize, f: impl Fn(usize, usize) -> f32) -> Self {
        let mut plane = Self::zeros(width, height);
        for (i, v) in plane.data.iter_mut().enumerate() {
            *v = f(i % width, i / width);
        }
        plane
    }

    /// Width in pixels (fastest axis).
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Row-major samples.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Mutable row-major samples.
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// The samples, consuming the plane.
    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }

    /// Pixel (x, y), or `None` outside the plane.
    pub fn get(&self, x: usize, y: usize) -> Option<f32> {
        (x < self.width && y < self.height).then(|| self.data[y * self.width + x])
    }

    /// One row.
    pub fn row(&self, y: usize) -> &[f32] {
        &self.data[y * self.width..(y + 1) * self.width]
    }

    /// Sum of all samples, in f64.
    pub fn sum(&self) -> f64 {
        self.data.iter().map(|&v| f64::from(v)).sum()
    }

    /// Mean and standard deviation (population) of all samples, in f64.
    pub fn mean_std(&self) -> (f64, f64) {
        let n = self.data.len() as f64;
        let mean = self.sum() / n;
        let var = self
            .data
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n;
        (mean, var.sqrt())
    }

    /// The `width` × `height` sub-plane whose top-left pixel is (x0, y0); `None` if it does not
    /// fit inside this plane.
    pub fn crop(&self, x0: usize, y0: usize, width: usize, height: usize) -> Option<Plane> {
        if width == 0 || height == 0 || x0 + width > self.width || y0 + height > self.height {
            return None;
        }
        let mut data = Vec::with_capacity(width * height);
        for y in y0..y0 + height {
            data.extend_from_slice(&self.data[y * self.width + x0..y * self.width + x0 + width]);
        }
        Some(Plane {
            width,
            height,
            data,
        })
    }
}

/// The Fourier half array of a [`Plane`]: `width/2 + 1` columns (kx = 0 … width/2) by `height`
/// rows (ky wrapped: 0 … height/2, then negative), row-major, FFTW's layout.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaneSpectrum {
    width: usize,
    height: usize,
    data: Vec<Complex32>,
}

impl PlaneSpectrum {
    /// Number of complex columns of the half array of a plane `width` wide.
    pub fn columns_for(width: usize) -> usize {
        width / 2 + 1
    }

    /// All-zero spectrum of a `width` × `height` plane.
    pub fn zeros(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![Complex32::new(0.0, 0.0); Self::columns_for(width) * height],
        }
    }

    /// Wraps half-array values, checking their number.
    pub fn from_vec(width: usize, height: usize, data: Vec<Complex32>) -> Result<Self, GridError> {
        let expected = Self::columns_for(width) * height;
        if width == 0 || height == 0 || data.len() != expected {
            return Err(GridError::Mismatch {
                what: "plane spectrum values",
                expected: format!("{expected} values for a {width} × {height} plane (sizes > 0)"),
                found: format!("{} values", data.len()),
            });
        }
        Ok(Self {
            width,
            height,
            data,
        })
    }

    /// Width of the real plane, in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height of the real plane, in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Number of complex columns (width/2 + 1).
    pub fn columns(&self) -> usize {
        Self::columns_for(self.width)
    }

    /// Half-array values, row-major.
    pub fn data(&self) -> &[Complex32] {
        &self.data
    }

    /// Mutable half-array values.
    pub fn data_mut(&mut self) -> &mut [Complex32] {
        &mut self.data
    }

    /// The signed frequency (kx, ky) in cycles per plane of the value at `index`.
    pub fn frequency(&self, index: usize) -> (i64, i64) {
        let columns = self.columns();
        let kx = (index % columns) as i64;
        (kx, wrapped_to_logical(index / columns, self.height))
    }

    /// The frequency in cycles per pixel (kx / width, ky / height) of the value at `index`.
    pub fn frequency_per_pixel(&self, index: usize) -> (f64, f64) {
        let (kx, ky) = self.frequency(index);
        (
            kx as f64 / self.width as f64,
            ky as f64 / self.height as f64,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_takes_the_named_window_and_refuses_overhangs() {
        let plane = Plane::from_fn(5, 4, |x, y| (10 * y + x) as f32);
        let window = plane.crop(1, 2, 3, 2).unwrap();
        assert_eq!(window.data(), &[21.0, 22.0, 23.0, 31.0, 32.0, 33.0]);
        assert!(plane.crop(3, 0, 3, 1).is_none());
        assert!(Plane::from_vec(2, 2, vec![0.0; 3]).is_err());
    }

    #[test]
    fn spectrum_frequencies_wrap_rows_only() {
        let spectrum = PlaneSpectrum::zeros(6, 5);
        assert_eq!(spectrum.columns(), 4);
        assert_eq!(spectrum.frequency(3), (3, 0));
        assert_eq!(spectrum.frequency(4 * 2 + 1), (1, 2));
        assert_eq!(spectrum.frequency(4 * 3), (0, -2));
        assert_eq!(spectrum.frequency(4 * 4 + 2), (2, -1));
    }
}
