//! Multi-page TIFF movies through the `tiff` crate: at open, every page (frame) is checked for
//! size, sample format, compression and strips lying within the file; a frame is decoded on
//! request and flipped along Y into RELION's orientation (the file's last row is `y = 0`).

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tiff::ColorType;
use tiff::decoder::{ChunkType, Decoder, DecodingResult, Limits};
use tiff::tags::Tag;

use crate::error::{Error, Result};

/// TIFF compression codes this reader accepts: none, LZW, deflate (Adobe and old-style).
const SUPPORTED_COMPRESSION: [u16; 4] = [1, 5, 8, 32946];
/// Largest decoded frame, in bytes: a float32 K3 super-resolution frame (11520 × 8184 px) is
/// 377 MB; the `tiff` crate's default (256 MiB) would refuse it, and no limit at all would let a
/// corrupt header ask for any allocation.
const MAX_FRAME_BYTES: usize = 1 << 30;
/// TIFF compression codes of EER electron-event movies.
const EER_COMPRESSION: std::ops::RangeInclusive<u16> = 65000..=65002;

/// An open multi-page TIFF whose pages all passed the checks at open.
#[derive(Debug)]
pub(super) struct TiffFrames {
    path: PathBuf,
    /// The decoder keeps a read position, so frames are decoded one at a time.
    decoder: Mutex<Decoder<BufReader<File>>>,
    width: usize,
    height: usize,
    frame_count: usize,
}

impl TiffFrames {
    /// Open `path` and check every page.
    pub(super) fn open(path: &Path) -> Result<TiffFrames> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let mut decoder =
            Decoder::new(BufReader::new(file)).map_err(|e| tiff_error(path, 0, &e))?;
        let mut limits = Limits::default();
        limits.decoding_buffer_size = MAX_FRAME_BYTES;
        decoder = decoder.with_limits(limits);
        let (width, height) = decoder.dimensions().map_err(|e| tiff_error(path, 0, &e))?;
        let mut frame_count = 0;
        loop {
            check_page(path, &mut decoder, frame_count, (width, height), file_len)?;
            frame_count += 1;
            if !decoder.more_images() {
                break;
            }
            decoder
                .next_image()
                .map_err(|e| tiff_error(path, frame_count, &e))?;
        }
        Ok(TiffFrames {
            path: path.to_path_buf(),
            decoder: Mutex::new(decoder),
            width: width as usize,
            height: height as usize,
            frame_count,
        })
    }

    pub(super) fn width(&self) -> usize {
        self.width
    }

    pub(super) fn height(&self) -> usize {
        self.height
    }

    pub(super) fn frame_count(&self) -> usize {
        self.frame_count
    }

    /// Decode page `index` (0-based, in range) into `f32`, flipped along Y.
    pub(super) fn read_frame(&self, index: usize) -> Result<Vec<f32>> {
        let path = &self.path;
        let decoded = {
            let mut decoder = self
                .decoder
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            decoder
                .seek_to_image(index)
                .and_then(|()| decoder.read_image())
                .map_err(|e| tiff_error(path, index, &e))?
        };
        // Rows in reverse order (RELION's Y flip), widened to f32 in the same pass.
        let width = self.width.max(1);
        let (size, pixels) = match decoded {
            DecodingResult::U8(v) => (v.len(), flipped(&v, width)),
            DecodingResult::U16(v) => (v.len(), flipped(&v, width)),
            DecodingResult::F32(v) => (v.len(), flipped(&v, width)),
            _ => {
                return Err(Error::binary(
                    path,
                    format!("frame {index} (0-based) decoded to an unsupported sample type"),
                ));
            }
        };
        if size != self.width * self.height {
            return Err(Error::binary(
                path,
                format!(
                    "frame {index} (0-based) decoded to {size} px; expected {} × {}",
                    self.width, self.height
                ),
            ));
        }
        Ok(pixels)
    }
}

/// The rows of `pixels` (rows of `width` samples) in reverse order, as f32.
fn flipped<T: Copy + Into<f32>>(pixels: &[T], width: usize) -> Vec<f32> {
    pixels
        .chunks_exact(width)
        .rev()
        .flat_map(|row| row.iter().map(|&v| v.into()))
        .collect()
}

/// Check the current page (`frame`, 0-based): its size equals the first page's, it is one
/// 8/16-bit unsigned or 32-bit float grey sample per pixel, compressed by a supported method,
/// with every strip or tile inside the file's `file_len` bytes.
fn check_page(
    path: &Path,
    decoder: &mut Decoder<BufReader<File>>,
    frame: usize,
    first_size: (u32, u32),
    file_len: u64,
) -> Result<()> {
    let at = |e: tiff::TiffError| tiff_error(path, frame, &e);
    let size = decoder.dimensions().map_err(at)?;
    if size != first_size {
        return Err(Error::binary(
            path,
            format!(
                "frame {frame} (0-based) is {} × {} px but frame 0 is {} × {} px; all frames \
                 must have the same size",
                size.0, size.1, first_size.0, first_size.1
            ),
        ));
    }
    let compression = decoder
        .find_tag_unsigned::<u16>(Tag::Compression)
        .map_err(at)?
        .unwrap_or(1);
    if EER_COMPRESSION.contains(&compression) {
        return Err(super::eer_unsupported(path));
    }
    if !SUPPORTED_COMPRESSION.contains(&compression) {
        return Err(Error::binary(
            path,
            format!(
                "frame {frame} (0-based) uses TIFF compression {compression}; expected none (1), \
                 LZW (5) or deflate (8 or 32946)"
            ),
        ));
    }
    let sample_format = decoder
        .find_tag_unsigned_vec::<u16>(Tag::SampleFormat)
        .map_err(at)?
        .and_then(|formats| formats.first().copied())
        .unwrap_or(1);
    let colour = decoder.colortype().map_err(at)?;
    if !matches!(
        (colour, sample_format),
        (ColorType::Gray(8 | 16), 1) | (ColorType::Gray(32), 3)
    ) {
        let kind = match sample_format {
            1 => "unsigned integer",
            2 => "signed integer",
            3 => "floating point",
            _ => "undefined",
        };
        return Err(Error::binary(
            path,
            format!(
                "frame {frame} (0-based) has unsupported samples: {colour:?}, {kind} (TIFF \
                 SampleFormat {sample_format}); expected one grey sample per pixel, 8- or 16-bit \
                 unsigned or 32-bit float"
            ),
        ));
    }
    let (offsets_tag, counts_tag, what) = match decoder.get_chunk_type() {
        ChunkType::Strip => (Tag::StripOffsets, Tag::StripByteCounts, "strip"),
        ChunkType::Tile => (Tag::TileOffsets, Tag::TileByteCounts, "tile"),
    };
    let offsets = decoder.get_tag_u64_vec(offsets_tag).map_err(at)?;
    let counts = decoder.get_tag_u64_vec(counts_tag).map_err(at)?;
    if offsets.len() != counts.len() {
        return Err(Error::binary(
            path,
            format!(
                "frame {frame} (0-based) lists {} {what} offsets but {} {what} byte counts",
                offsets.len(),
                counts.len()
            ),
        ));
    }
    for (k, (&offset, &count)) in offsets.iter().zip(&counts).enumerate() {
        let end = offset.saturating_add(count);
        if end > file_len {
            return Err(Error::binary(
                path,
                format!(
                    "truncated: frame {frame} (0-based), {what} {k} ends at byte {end} but the \
                     file has {file_len} bytes"
                ),
            ));
        }
    }
    Ok(())
}

/// A `tiff` crate error while handling `frame` (0-based) of `path`.
fn tiff_error(path: &Path, frame: usize, error: &tiff::TiffError) -> Error {
    match error {
        tiff::TiffError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Error::binary(
                path,
                format!("truncated: frame {frame} (0-based) runs past the end of the file"),
            )
        }
        _ => Error::binary(
            path,
            format!("frame {frame} (0-based): TIFF decoding failed: {error}"),
        ),
    }
}
