//! An open MRC/MRCS file: header checked against the file length, data block memory-mapped,
//! and voxels decoded to `f32` on demand, one image (section) or a range at a time.
//!
//! Data are returned X fastest, then Y, then Z (Z = image index in a stack), whatever order the
//! file stores them in (`MAPC/MAPR/MAPS` other than 1,2,3 are reordered on read). Image indices
//! are 0-based here; RELION's `N@stack.mrcs` is 1-based.
//!
//! The file's length must equal what its header describes (main header, extended header and
//! NX × NY × NZ voxels): a shorter file is truncated, and a longer one means the header's sizes
//! are not the data's (read anyway, the map would come out scrambled). Both are errors.

use std::ops::Range;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::codec::Encoding;
use super::header::{HEADER_LEN, Header};
use super::mode::Mode;
use crate::error::{Error, Result};

/// An MRC map or image stack opened for reading.
#[derive(Debug)]
pub struct MrcFile {
    path: PathBuf,
    bytes: Bytes,
    header: Header,
    encoding: Encoding,
    /// Byte offset of the first voxel: main header plus extended header.
    data_offset: usize,
    /// Extent along X, Y, Z in voxels.
    dims: [usize; 3],
    /// Distance in the file, in voxels, between neighbours along X, Y, Z.
    strides: [usize; 3],
}

/// The file's bytes: mapped from disk, or owned (in-memory parsing, tiny files).
#[derive(Debug)]
enum Bytes {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(map) => map,
            Bytes::Owned(vec) => vec,
        }
    }
}

impl MrcFile {
    /// Open `path`, parse and check its header, and memory-map its data (nothing is read yet).
    ///
    /// The mapping assumes nobody truncates the file while it is open (the OS would then kill
    /// the process with SIGBUS on access, as with any memory-mapped reader).
    pub fn open(path: impl AsRef<Path>) -> Result<MrcFile> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let bytes = if len < HEADER_LEN as u64 {
            Bytes::Owned(std::fs::read(path).map_err(|e| Error::io(path, e))?)
        } else {
            // SAFETY: the map is read-only and private to this reader; see the doc comment for
            // the one hazard (concurrent truncation), shared by every mmap-based reader.
            Bytes::Mapped(unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))?)
        };
        MrcFile::from_parts(path, bytes)
    }

    /// Parse an MRC file held in memory; `path` names it in error messages only.
    pub fn from_bytes(path: impl AsRef<Path>, bytes: Vec<u8>) -> Result<MrcFile> {
        MrcFile::from_parts(path.as_ref(), Bytes::Owned(bytes))
    }

    fn from_parts(path: &Path, bytes: Bytes) -> Result<MrcFile> {
        let header = Header::parse(&bytes, path)?;
        let data_offset = HEADER_LEN + header.nsymbt;
        let data_len = expected_data_len(&header, path)?;
        let expected = data_offset as u64 + data_len;
        let actual = bytes.len() as u64;
        if actual != expected {
            let [nx, ny, nz] = header.size;
            let (what, difference) = if actual < expected {
                ("truncated", format!("{} missing", expected - actual))
            } else {
                (
                    "longer than its header says (the header's sizes are not the data's)",
                    format!("{} extra", actual - expected),
                )
            };
            return Err(Error::binary(
                path,
                format!(
                    "{what}: the header describes {nx} × {ny} × {nz} voxels of {} ({} bytes \
                     each) after {HEADER_LEN} + {} header bytes, {expected} bytes in all, but the \
                     file has {actual} bytes ({difference})",
                    header.mode,
                    header.mode.bytes_per_voxel(),
                    header.nsymbt,
                ),
            ));
        }
        let [nc, nr, _] = header.size;
        let file_strides = [1, nc, nc * nr];
        let mut dims = [0; 3];
        let mut strides = [0; 3];
        for (k, &axis) in header.axis_map.iter().enumerate() {
            dims[usize::from(axis) - 1] = header.size[k];
            strides[usize::from(axis) - 1] = file_strides[k];
        }
        let encoding = Encoding {
            mode: header.mode,
            endian: header.endian,
            int8_signed: header.int8_signed,
        };
        Ok(MrcFile {
            path: path.to_path_buf(),
            bytes,
            encoding,
            data_offset,
            dims,
            strides,
            header,
        })
    }

    /// The file this was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The parsed main header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// How voxels are stored on disk.
    pub fn mode(&self) -> Mode {
        self.header.mode
    }

    /// Extent along X, Y, Z in voxels (for a stack: image width, height, image count).
    pub fn dims(&self) -> [usize; 3] {
        self.dims
    }

    /// Voxel (pixel) size along X, Y, Z in Å; 0.0 on an axis the header leaves unset.
    pub fn voxel_size(&self) -> [f32; 3] {
        self.header.voxel_size()
    }

    /// Number of 2D images (Z sections): the particle count of an `.mrcs` stack, the Z extent
    /// of a volume.
    pub fn image_count(&self) -> usize {
        self.dims[2]
    }

    /// Pixels in one image: X extent × Y extent.
    pub fn image_len(&self) -> usize {
        self.dims[0] * self.dims[1]
    }

    /// Image `index` (0-based), X fastest.
    pub fn read_image(&self, index: usize) -> Result<Vec<f32>> {
        self.read_images(index..index.saturating_add(1))
    }

    /// Decode image `index` (0-based) into `out`, which must hold [`MrcFile::image_len`] values.
    pub fn read_image_into(&self, index: usize, out: &mut [f32]) -> Result<()> {
        self.read_images_into(index..index.saturating_add(1), out)
    }

    /// Images `range` (0-based, end exclusive), concatenated, X fastest.
    pub fn read_images(&self, range: Range<usize>) -> Result<Vec<f32>> {
        self.check_range(&range)?;
        let mut out = vec![0.0; range.len() * self.image_len()];
        self.read_images_into(range, &mut out)?;
        Ok(out)
    }

    /// The whole data block as a volume (or stack), X fastest, then Y, then Z.
    pub fn read_all(&self) -> Result<Vec<f32>> {
        self.read_images(0..self.image_count())
    }

    /// Decode images `range` (0-based, end exclusive) into `out`, which must hold
    /// `range.len() ×` [`MrcFile::image_len`] values. Only those images' bytes are touched.
    pub fn read_images_into(&self, range: Range<usize>, out: &mut [f32]) -> Result<()> {
        self.check_range(&range)?;
        let image_len = self.image_len();
        if out.len() != range.len() * image_len {
            return Err(Error::content(
                &self.path,
                format!(
                    "output buffer holds {} values, {} images of {image_len} pixels need {}",
                    out.len(),
                    range.len(),
                    range.len() * image_len
                ),
            ));
        }
        let bpv = self.header.mode.bytes_per_voxel();
        let [nx, ny, _] = self.dims;
        if self.strides == [1, nx, nx * ny] {
            let start = self.data_offset + range.start * image_len * bpv;
            self.encoding
                .decode(&self.bytes[start..start + out.len() * bpv], out);
        } else {
            let mut pixels = out.iter_mut();
            for z in range {
                for y in 0..ny {
                    for (x, value) in (0..nx).zip(&mut pixels) {
                        let index = x * self.strides[0] + y * self.strides[1] + z * self.strides[2];
                        let start = self.data_offset + index * bpv;
                        self.encoding
                            .decode(&self.bytes[start..start + bpv], std::slice::from_mut(value));
                    }
                }
            }
        }
        Ok(())
    }

    /// An error unless `range` lies within `0..image_count()`.
    fn check_range(&self, range: &Range<usize>) -> Result<()> {
        let count = self.image_count();
        if range.start > range.end || range.end > count {
            return Err(Error::content(
                &self.path,
                format!(
                    "images {}..{} requested (0-based, end exclusive), but the file has {count}",
                    range.start, range.end
                ),
            ));
        }
        Ok(())
    }
}

/// Bytes of the data block the header describes, or an error if that is beyond any real file.
fn expected_data_len(header: &Header, path: &Path) -> Result<u64> {
    header
        .voxel_count()
        .and_then(|n| n.checked_mul(header.mode.bytes_per_voxel() as u64))
        .filter(|&len| len <= isize::MAX as u64 - (HEADER_LEN + header.nsymbt) as u64)
        .ok_or_else(|| {
            let [nx, ny, nz] = header.size;
            Error::binary(
                path,
                format!(
                    "the header describes {nx} × {ny} × {nz} voxels of {}, more data than any \
                     file can hold; corrupt header",
                    header.mode
                ),
            )
        })
}
