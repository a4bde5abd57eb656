//! MRC files as kernel grids: a 3D map, a single 2D image, or a stack of 2D images, read with
//! their voxel size (Å) and written back atomically as float32 (mode 2).
//!
//! As in RELION, the extension decides what a file is: `.mrcs` is a stack of 2D images; any
//! other MRC file with one section is a 2D image and with more is a 3D map, which must be cubic.
//! Boxes must be even (the grids' origin is voxel N/2).

use std::path::Path;

use anyhow::{Context, bail};
use cryoflux_formats::mrc::{MrcFile, MrcStackWriter, WriteMode, write_volume};
use cryoflux_kernels::grid::{Image, Volume};

/// The content of an MRC file.
#[derive(Debug, Clone)]
pub enum Grids {
    /// A cubic 3D map.
    Volume(Volume),
    /// One square 2D image.
    Image(Image),
    /// Square 2D images of one size (a `.mrcs` stack).
    Stack(Vec<Image>),
}

impl Grids {
    /// Box side in pixels.
    pub fn box_size(&self) -> usize {
        match self {
            Grids::Volume(v) => v.n(),
            Grids::Image(i) => i.n(),
            Grids::Stack(s) => s.first().map_or(0, |i| i.n()),
        }
    }

    /// Pixel (voxel) size in Å.
    pub fn pixel_size(&self) -> f64 {
        match self {
            Grids::Volume(v) => v.pixel_size(),
            Grids::Image(i) => i.pixel_size(),
            Grids::Stack(s) => s.first().map_or(0.0, |i| i.pixel_size()),
        }
    }

    /// What this is, in words, for messages.
    pub fn describe(&self) -> String {
        let n = self.box_size();
        match self {
            Grids::Volume(_) => format!("a {n} × {n} × {n} map"),
            Grids::Image(_) => format!("a {n} × {n} image"),
            Grids::Stack(s) => format!("a stack of {} {n} × {n} images", s.len()),
        }
    }
}

/// Whether `path` names an image stack (`.mrcs`).
pub fn is_stack_path(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("mrcs"))
}

/// Reads `path`; `angpix` (Å) overrides the header's voxel size (needed when it is 0).
pub fn read_grids(path: &Path, angpix: Option<f64>) -> anyhow::Result<Grids> {
    let mrc = MrcFile::open(path)?;
    let [nx, ny, nz] = mrc.dims();
    let shown = path.display();
    if nz > 1 && !is_stack_path(path) {
        return Ok(Grids::Volume(read_map(path, angpix)?));
    }
    if nx != ny || nx % 2 == 1 {
        bail!("{shown}: images are {nx} × {ny} pixels; expected square images of even side");
    }
    let pixel = angpix.unwrap_or(f64::from(mrc.voxel_size()[0]));
    if !(pixel.is_finite() && pixel > 0.0) {
        bail!(
            "{shown}: pixel size {pixel} Å is not usable; expected a positive size (set --angpix)"
        );
    }
    let images = (0..mrc.image_count())
        .map(|i| {
            let data = mrc.read_image(i)?;
            refuse_non_finite(path, &data, [nx, ny], i)?;
            Image::from_vec(nx, pixel, data).with_context(|| format!("{shown}: image {}", i + 1))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if is_stack_path(path) {
        return Ok(Grids::Stack(images));
    }
    Ok(Grids::Image(images.into_iter().next().context("no image")?))
}

/// Reads `path` as a cubic 3D map (an error naming the file and its shape otherwise).
pub fn read_volume(path: &Path, angpix: Option<f64>) -> anyhow::Result<Volume> {
    match read_grids(path, angpix)? {
        Grids::Volume(v) => Ok(v),
        other => bail!(
            "{}: this is {}; expected a 3D map (N × N × N voxels)",
            path.display(),
            other.describe()
        ),
    }
}

/// Writes `grids` to `path` atomically, float32, with their voxel size.
pub fn write_grids(path: &Path, grids: &Grids) -> anyhow::Result<()> {
    let (n, pixel) = (grids.box_size(), grids.pixel_size() as f32);
    match grids {
        Grids::Volume(v) => write_volume(path, v.data(), [n; 3], pixel, WriteMode::Float32)?,
        Grids::Image(i) => write_volume(path, i.data(), [n, n, 1], pixel, WriteMode::Float32)?,
        Grids::Stack(images) => {
            let mut writer = MrcStackWriter::create(path, n, n, pixel, WriteMode::Float32)?;
            for image in images {
                writer.push(image.data())?;
            }
            writer.finish()?;
        }
    }
    Ok(())
}

/// Reads a cubic map from an MRC file; `angpix` (Å) overrides the header's voxel size.
pub fn read_map(path: &Path, angpix: Option<f64>) -> anyhow::Result<Volume> {
    volume_from_mrc(&MrcFile::open(path)?, angpix)
}

/// The map held by `mrc`, checked to be a cubic box of even side with a usable voxel size.
pub fn volume_from_mrc(mrc: &MrcFile, angpix: Option<f64>) -> anyhow::Result<Volume> {
    let path = mrc.path().display();
    let [nx, ny, nz] = mrc.dims();
    if nx != ny || ny != nz {
        bail!("{path}: the map is {nx} × {ny} × {nz} voxels; expected a cubic map (N × N × N)");
    }
    if nx % 2 == 1 {
        bail!("{path}: the map's box of {nx} voxels is odd; expected an even box");
    }
    let voxel = angpix.unwrap_or_else(|| header_voxel_size(mrc));
    if !(voxel.is_finite() && voxel > 0.0) {
        bail!(
            "{path}: voxel size {voxel} Å is not usable; expected a positive size (set --angpix)"
        );
    }
    let data = mrc.read_all()?;
    refuse_non_finite(mrc.path(), &data, [nx, ny], 0)?;
    Volume::from_vec(nx, voxel, data).with_context(|| format!("{path}: cannot use the map"))
}

/// An error naming `path` and the first NaN or infinite value of `data` (voxels X fastest, then
/// Y, then Z, in sections of `nx × ny`; section 0 of `data` is section `first_section` of the
/// file), so that a damaged input is reported as such and not as a failure to write an output.
fn refuse_non_finite(
    path: &Path,
    data: &[f32],
    [nx, ny]: [usize; 2],
    first_section: usize,
) -> anyhow::Result<()> {
    let Some(at) = data.iter().position(|v| !v.is_finite()) else {
        return Ok(());
    };
    let (x, y, z) = (at % nx, at / nx % ny, first_section + at / (nx * ny));
    bail!(
        "{}: voxel (x, y, z) = ({x}, {y}, {z}) (0-based) holds {}; expected finite densities \
         (the input file is damaged)",
        path.display(),
        data[at]
    )
}

/// The header's voxel size in Å as the decimal it was meant to be: the float32 value (cell
/// length over sampling, e.g. 86.4/48 = 1.8000001) rounded to 6 significant digits, below the
/// header's float32 precision, so that STAR files and CTFs see 1.8.
pub fn header_voxel_size(mrc: &MrcFile) -> f64 {
    let stored = f64::from(mrc.voxel_size()[0]);
    format!("{stored:.5e}").parse().unwrap_or(stored)
}

/// Largest relative difference between two pixel sizes still taken as the same.
pub const PIXEL_SIZE_TOLERANCE: f64 = 1e-3;

/// Whether two pixel sizes (Å) agree within [`PIXEL_SIZE_TOLERANCE`].
pub fn same_pixel_size(a: f64, b: f64) -> bool {
    (a - b).abs() <= PIXEL_SIZE_TOLERANCE * a.abs().max(b.abs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A `[n, n, nz]` float32 MRC file of ones with `value` at voxel `at` (X fastest).
    fn file_with(dir: &Path, name: &str, n: usize, nz: usize, at: usize, value: f32) -> PathBuf {
        let path = dir.join(name);
        write_volume(
            &path,
            &vec![1.0; n * n * nz],
            [n, n, nz],
            2.0,
            WriteMode::Float32,
        )
        .unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let offset = 1024 + 4 * at;
        bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn nan_in_an_input_map_names_the_file_and_voxel() {
        let dir = tempfile::tempdir().unwrap();
        let at = 1 + 4 * 2 + 16 * 3;
        let map = file_with(dir.path(), "ref.mrc", 4, 4, at, f32::NAN);
        let message = read_map(&map, None).unwrap_err().to_string();
        assert_eq!(
            message,
            format!(
                "{}: voxel (x, y, z) = (1, 2, 3) (0-based) holds NaN; expected finite densities \
                 (the input file is damaged)",
                map.display()
            )
        );
        let stack = file_with(dir.path(), "s.mrcs", 4, 3, 16 * 2 + 5, f32::INFINITY);
        let message = read_grids(&stack, None).unwrap_err().to_string();
        assert!(
            message.contains("s.mrcs: voxel (x, y, z) = (1, 1, 2) (0-based) holds inf"),
            "{message}"
        );
        let clean = file_with(dir.path(), "ok.mrc", 4, 4, 0, 1.0);
        assert_eq!(read_map(&clean, None).unwrap().n(), 4);
    }
}
