//! The image files of a particle set, each opened once (memory-mapped), and reading one particle
//! image out of them as a kernel [`Image`], refusing non-finite pixels.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cryoflux_formats::mrc::MrcFile;
use cryoflux_kernels::grid::Image;

/// Where one particle image is: a file of an [`ImageStacks`] and a 0-based slice in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLocation {
    /// Index of the file in its [`ImageStacks`].
    pub file: usize,
    /// 0-based image (slice) number in that file (RELION's `N@` minus one).
    pub index: usize,
}

/// Open image files (MRC stacks or single images), deduplicated by path.
#[derive(Debug, Default)]
pub struct ImageStacks {
    files: Vec<MrcFile>,
    by_path: HashMap<PathBuf, usize>,
}

impl ImageStacks {
    /// The index of the file at `path`, opening it on first use.
    pub fn open(&mut self, path: &Path) -> anyhow::Result<usize> {
        if let Some(&index) = self.by_path.get(path) {
            return Ok(index);
        }
        let file = MrcFile::open(path)
            .with_context(|| format!("cannot open the particle image file {}", path.display()))?;
        self.files.push(file);
        self.by_path
            .insert(path.to_path_buf(), self.files.len() - 1);
        Ok(self.files.len() - 1)
    }

    /// The open file number `index`.
    pub fn file(&self, index: usize) -> &MrcFile {
        &self.files[index]
    }

    /// Number of distinct files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when no file is open.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The image at `location` as a square [`Image`] of `pixel_size` Å. Errors name the file
    /// and image number (from 1) for a slice beyond the file, a non-square or odd box, and the
    /// first NaN or infinite pixel (with its x, y from 0).
    pub fn read(&self, location: ImageLocation, pixel_size: f64) -> anyhow::Result<Image> {
        let file = self.file(location.file);
        let path = file.path().display();
        let number = location.index + 1;
        if location.index >= file.image_count() {
            bail!(
                "{path}: image {number} requested, but the file holds {} image(s)",
                file.image_count()
            );
        }
        let [nx, ny, _] = file.dims();
        if nx != ny {
            bail!("{path}: images are {nx} × {ny} pixels; expected square particle images");
        }
        let data = file.read_image(location.index)?;
        if let Some(at) = data.iter().position(|v| !v.is_finite()) {
            bail!(
                "{path}: image {number} has a non-finite value ({}) at pixel x = {}, y = {}; \
                 expected finite pixel values",
                data[at],
                at % nx,
                at / nx
            );
        }
        Image::from_vec(nx, pixel_size, data)
            .with_context(|| format!("{path}: image {number} cannot be used"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryoflux_formats::mrc::{MrcStackWriter, WriteMode};

    #[test]
    fn reads_each_file_once_and_names_slices_beyond_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.mrcs");
        let mut writer = MrcStackWriter::create(&path, 4, 4, 2.0, WriteMode::Float32).unwrap();
        writer.push(&[1.0; 16]).unwrap();
        writer.push(&[2.0; 16]).unwrap();
        writer.finish().unwrap();
        let mut stacks = ImageStacks::default();
        let a = stacks.open(&path).unwrap();
        assert_eq!(stacks.open(&path).unwrap(), a);
        assert_eq!(stacks.len(), 1);
        let image = stacks
            .read(ImageLocation { file: a, index: 1 }, 2.0)
            .unwrap();
        assert_eq!((image.n(), image.data()[5]), (4, 2.0));
        let message = stacks
            .read(ImageLocation { file: a, index: 2 }, 2.0)
            .unwrap_err()
            .to_string();
        assert!(message.contains("image 3 requested") && message.contains("2 image(s)"));
    }
}
