//! Real-space square images and cubic volumes of `f32` samples with a pixel size in Å.

use super::{GridError, check_box, check_pixel_size};

/// A real-space grid of dimension `D` (2 = image, 3 = volume): `n` pixels per axis, x fastest,
/// pixel size in Å, logical origin at index `n/2` on every axis.
#[derive(Debug, Clone, PartialEq)]
pub struct RealGrid<const D: usize> {
    n: usize,
    pixel_size: f64,
    data: Vec<f32>,
}

/// A square real-space image (N×N, row-major, `data[y·N + x]`).
pub type Image = RealGrid<2>;
/// A cubic real-space volume (N³, `data[(z·N + y)·N + x]`).
pub type Volume = RealGrid<3>;

impl<const D: usize> RealGrid<D> {
    const DIMENSION_OK: () = assert!(D == 2 || D == 3, "only 2D images and 3D volumes exist");

    /// Number of samples of an `n` box in this dimension (n² or n³).
    pub fn sample_count(n: usize) -> usize {
        let () = Self::DIMENSION_OK;
        n.pow(D as u32)
    }

    /// An all-zero grid of box `n` (even) and pixel size `pixel_size` Å.
    pub fn zeros(n: usize, pixel_size: f64) -> Result<Self, GridError> {
        Self::from_vec(n, pixel_size, vec![0.0; Self::sample_count(n)])
    }

    /// Wraps samples (x fastest) as a grid, checking the box, pixel size and length.
    pub fn from_vec(n: usize, pixel_size: f64, data: Vec<f32>) -> Result<Self, GridError> {
        check_box("real-space grid", n)?;
        check_pixel_size("real-space grid pixel size (Å)", pixel_size)?;
        if data.len() != Self::sample_count(n) {
            return Err(GridError::Mismatch {
                what: "real-space grid samples",
                expected: format!("{} samples for a {D}D box of {n}", Self::sample_count(n)),
                found: format!("{} samples", data.len()),
            });
        }
        Ok(Self {
            n,
            pixel_size,
            data,
        })
    }

    /// A grid whose sample at logical coordinates (x, y, z) in pixels (origin at n/2; z = 0 for
    /// images) is `f([x, y, z])`.
    pub fn from_fn(
        n: usize,
        pixel_size: f64,
        f: impl Fn([f64; 3]) -> f32,
    ) -> Result<Self, GridError> {
        let mut grid = Self::zeros(n, pixel_size)?;
        for (i, v) in grid.data.iter_mut().enumerate() {
            *v = f(Self::logical_of(n, i).map(|c| c as f64));
        }
        Ok(grid)
    }

    /// Logical coordinates (x, y, z) in pixels, relative to the origin n/2, of sample `index`
    /// in an `n` box (z = 0 for images).
    pub fn logical_of(n: usize, index: usize) -> [i64; 3] {
        let h = (n / 2) as i64;
        let x = (index % n) as i64 - h;
        let y = ((index / n) % n) as i64 - h;
        let z = if D == 3 {
            (index / (n * n)) as i64 - h
        } else {
            0
        };
        [x, y, z]
    }

    /// Box size in pixels.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Pixel size in Å.
    pub fn pixel_size(&self) -> f64 {
        self.pixel_size
    }

    /// The samples, x fastest.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The samples, x fastest, for in-place edits.
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Gives the samples back.
    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }

    /// Same samples with another pixel size (Å), e.g. after Fourier rescaling.
    pub fn with_pixel_size(mut self, pixel_size: f64) -> Result<Self, GridError> {
        check_pixel_size("real-space grid pixel size (Å)", pixel_size)?;
        self.pixel_size = pixel_size;
        Ok(self)
    }

    /// Sum of all samples (in f64).
    pub fn sum(&self) -> f64 {
        self.data.iter().map(|&v| v as f64).sum()
    }
}

impl Image {
    /// Sample at array indices (x, y), or `None` outside the box.
    pub fn get(&self, x: usize, y: usize) -> Option<f32> {
        (x < self.n && y < self.n).then(|| self.data[y * self.n + x])
    }
}

impl Volume {
    /// Sample at array indices (x, y, z), or `None` outside the box.
    pub fn get(&self, x: usize, y: usize, z: usize) -> Option<f32> {
        let n = self.n;
        (x < n && y < n && z < n).then(|| self.data[(z * n + y) * n + x])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_coordinates_put_the_origin_at_half_the_box() {
        let v = Volume::from_fn(4, 1.5, |[x, y, z]| (x + 10.0 * y + 100.0 * z) as f32).unwrap();
        assert_eq!(v.get(2, 2, 2), Some(0.0));
        assert_eq!(v.get(0, 3, 1), Some(-2.0 + 10.0 - 100.0));
        assert_eq!(v.get(4, 0, 0), None);
        let img = Image::from_fn(4, 1.0, |[x, y, z]| (x + 10.0 * y + z) as f32).unwrap();
        assert_eq!(img.get(3, 0), Some(1.0 - 20.0));
        assert!(Image::from_vec(4, 1.0, vec![0.0; 15]).is_err());
        assert!(Volume::zeros(5, 1.0).is_err());
    }
}
