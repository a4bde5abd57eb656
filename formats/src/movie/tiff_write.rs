//! Multi-page TIFF movie output (tests, the simulator): one page per frame, one grey sample per
//! pixel, written atomically. Frames are given in RELION's orientation (`y = 0` first) and
//! stored flipped along Y, the inverse of what [`super::Movie`] and RELION 3.1.3 do on reading.

use std::io::{Seek, Write};
use std::path::Path;

use tiff::encoder::colortype::{self, ColorType};
use tiff::encoder::compression::DeflateLevel;
use tiff::encoder::{Compression, TiffEncoder, TiffValue};

use crate::atomic::write_atomically;
use crate::error::{Error, Result};

/// How each pixel is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TiffSample {
    /// 8-bit unsigned counts (0–255), rounded to the nearest integer.
    U8,
    /// 16-bit unsigned counts (0–65535), rounded to the nearest integer.
    U16,
    /// 32-bit IEEE float, stored exactly.
    F32,
}

/// How each page's strip is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TiffCompression {
    /// Uncompressed (TIFF compression 1).
    None,
    /// LZW (TIFF compression 5).
    Lzw,
    /// Deflate / zlib (TIFF compression 8).
    Deflate,
}

/// Write `frames`, each `width × height` counts (px, X fastest, `y = 0` first), as a multi-page
/// TIFF at `path`, atomically. Integer samples are rounded to the nearest integer; a value that
/// is not finite or does not fit the sample type after rounding is an error naming the frame and
/// pixel, as is a frame of the wrong length or no frame at all (nothing is written then).
pub fn write_tiff_stack<'a>(
    path: &Path,
    width: usize,
    height: usize,
    frames: impl IntoIterator<Item = &'a [f32]>,
    sample: TiffSample,
    compression: TiffCompression,
) -> Result<()> {
    let too_large = || {
        Error::content(
            path,
            format!("a TIFF frame of {width} × {height} px is too large; at most 65535 × 65535 px"),
        )
    };
    let w = u32::try_from(width).map_err(|_| too_large())?;
    let h = u32::try_from(height).map_err(|_| too_large())?;
    if width == 0 || height == 0 || w > 65535 || h > 65535 {
        return Err(Error::content(
            path,
            format!("cannot write {width} × {height} px frames; expected 1–65535 px per side"),
        ));
    }
    let compression = match compression {
        TiffCompression::None => Compression::Uncompressed,
        TiffCompression::Lzw => Compression::Lzw,
        TiffCompression::Deflate => Compression::Deflate(DeflateLevel::Balanced),
    };
    write_atomically(path, |out| {
        let mut encoder = TiffEncoder::new(out)
            .map_err(|e| encode_error(path, &e))?
            .with_compression(compression);
        let mut count = 0;
        for (index, frame) in frames.into_iter().enumerate() {
            if frame.len() != width * height {
                return Err(Error::content(
                    path,
                    format!(
                        "frame {index} (0-based) has {} values; expected {width} × {height} = {}",
                        frame.len(),
                        width * height
                    ),
                ));
            }
            let frame = Frame {
                path,
                index,
                width,
                pixels: frame,
            };
            match sample {
                TiffSample::U8 => frame.write::<colortype::Gray8, _>(&mut encoder, w, h)?,
                TiffSample::U16 => frame.write::<colortype::Gray16, _>(&mut encoder, w, h)?,
                TiffSample::F32 => frame.write::<colortype::Gray32Float, _>(&mut encoder, w, h)?,
            }
            count += 1;
        }
        if count == 0 {
            return Err(Error::content(
                path,
                "no frames to write; a movie needs at least one",
            ));
        }
        Ok(())
    })
}

/// One frame on its way to the encoder.
struct Frame<'a> {
    path: &'a Path,
    index: usize,
    width: usize,
    pixels: &'a [f32],
}

impl Frame<'_> {
    /// Convert to `C`'s samples, rows in reverse (file) order, and append as a page.
    fn write<C, W>(&self, encoder: &mut TiffEncoder<W>, w: u32, h: u32) -> Result<()>
    where
        C: ColorType,
        C::Inner: Sample,
        [C::Inner]: TiffValue,
        W: Write + Seek,
    {
        let mut samples = Vec::with_capacity(self.pixels.len());
        for (row_from_bottom, row) in self.pixels.chunks_exact(self.width).enumerate().rev() {
            for (x, &value) in row.iter().enumerate() {
                let sample = C::Inner::from_count(value).ok_or_else(|| {
                    Error::content(
                        self.path,
                        format!(
                            "frame {} (0-based) has {value} at pixel (x, y) = ({x}, \
                             {row_from_bottom}); {}",
                            self.index,
                            C::Inner::RANGE
                        ),
                    )
                })?;
                samples.push(sample);
            }
        }
        encoder
            .write_image::<C>(w, h, &samples)
            .map_err(|e| encode_error(self.path, &e))
    }
}

/// A TIFF sample type that counts convert to.
trait Sample: Sized {
    /// What values fit, for error messages.
    const RANGE: &'static str;
    /// `value` as this sample (integers rounded to nearest), or `None` if it does not fit.
    fn from_count(value: f32) -> Option<Self>;
}

impl Sample for u8 {
    const RANGE: &'static str = "8-bit samples hold whole counts 0–255";
    fn from_count(value: f32) -> Option<u8> {
        let rounded = value.round();
        (0.0..=255.0).contains(&rounded).then_some(rounded as u8)
    }
}

impl Sample for u16 {
    const RANGE: &'static str = "16-bit samples hold whole counts 0–65535";
    fn from_count(value: f32) -> Option<u16> {
        let rounded = value.round();
        (0.0..=65535.0).contains(&rounded).then_some(rounded as u16)
    }
}

impl Sample for f32 {
    const RANGE: &'static str = "float samples must be finite";
    fn from_count(value: f32) -> Option<f32> {
        value.is_finite().then_some(value)
    }
}

/// A `tiff` encoder error on `path`.
fn encode_error(path: &Path, error: &tiff::TiffError) -> Error {
    Error::binary(path, format!("TIFF encoding failed: {error}"))
}
