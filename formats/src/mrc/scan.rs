//! Whole-file scans of an open MRC file, one image at a time: density statistics computed from
//! the data (to compare with the header's), and the first NaN/infinite voxel if any.

use std::fmt;

use super::file::MrcFile;
use super::stats::{Stats, StatsAccumulator};
use crate::error::{Error, Result};

/// Position and value of a NaN or infinite voxel. `image` and the pixel coordinates are 0-based;
/// the [`Display`](fmt::Display) text gives the image 1-based, as RELION's `N@stack.mrcs` does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NonFinite {
    /// Image (Z section) index, 0-based.
    pub image: usize,
    /// Column (X) of the pixel, 0-based.
    pub x: usize,
    /// Row (Y) of the pixel, 0-based.
    pub y: usize,
    /// The offending value: NaN, +inf or -inf.
    pub value: f32,
}

impl fmt::Display for NonFinite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.value.is_nan() {
            "NaN".to_owned()
        } else {
            format!("{}", self.value)
        };
        write!(
            f,
            "image {} (1-based, as in {}@stack) has {what} at pixel (x, y) = ({}, {}) (0-based)",
            self.image + 1,
            self.image + 1,
            self.x,
            self.y
        )
    }
}

impl MrcFile {
    /// Min, max, mean and RMS deviation computed from the data (compare [`Header::stats`], the
    /// recorded values, which other programs often leave stale). Reads every image once.
    ///
    /// [`Header::stats`]: super::Header::stats
    pub fn stats(&self) -> Result<Stats> {
        let mut acc = StatsAccumulator::new();
        self.for_each_image(|_, image| {
            acc.add(image);
            None::<()>
        })?;
        acc.finish()
            .ok_or_else(|| Error::content(self.path(), "no voxels to summarise"))
    }

    /// The first NaN or infinite voxel in file order, or `None` if every voxel is finite.
    /// Integer modes cannot hold either and return `None` without reading.
    pub fn find_non_finite(&self) -> Result<Option<NonFinite>> {
        if !self.mode().is_float() {
            return Ok(None);
        }
        let nx = self.dims()[0];
        self.for_each_image(|image, pixels| {
            let at = pixels.iter().position(|v| !v.is_finite())?;
            Some(NonFinite {
                image,
                x: at % nx,
                y: at / nx,
                value: pixels[at],
            })
        })
    }

    /// An error naming the file and the first NaN/infinite voxel, e.g.
    /// "particles.mrcs: image 17 (1-based, …) has NaN at pixel (x, y) = (3, 4)".
    pub fn check_finite(&self) -> Result<()> {
        match self.find_non_finite()? {
            None => Ok(()),
            Some(bad) => Err(Error::content(self.path(), bad.to_string())),
        }
    }

    /// Call `visit(index, pixels)` on every image in order until it returns `Some`.
    fn for_each_image<T>(
        &self,
        mut visit: impl FnMut(usize, &[f32]) -> Option<T>,
    ) -> Result<Option<T>> {
        let mut buffer = vec![0.0; self.image_len()];
        for index in 0..self.image_count() {
            self.read_image_into(index, &mut buffer)?;
            if let Some(found) = visit(index, &buffer) {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}
