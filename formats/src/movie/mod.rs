//! Dose-fractionated movies, read frame by frame as `f32` counts (electrons per pixel per frame
//! as the camera wrote them; no gain or defect correction here): multi-page TIFF (8- and 16-bit
//! unsigned, 32-bit float; uncompressed, LZW or deflate, as K3 and Falcon cameras write them) and
//! MRC/MRCS stacks (every mode [`crate::mrc`] reads). Gain references stored as single MRC or
//! TIFF images open as one-frame movies.
//!
//! **Row order.** Frames are returned row-major, X fastest, row `y = 0` first, in the image
//! coordinates RELION 3.1.3 uses. For MRC that is the file's first stored row. A TIFF stores its
//! top row first, and RELION 3.1.3 reads TIFF movies flipped along Y: the *last* row in the TIFF
//! file becomes `y = 0` (checked by experiment: `relion_image_handler --i movie.tif --o out.mrcs`
//! turns the NumPy array `a` written by `tifffile` into the MRC data `a[:, ::-1, :]`). This
//! module does the same, so a movie gives RELION's image whichever format it comes in; the
//! TIFF writer [`write_tiff_stack`] applies the inverse flip, so what it writes reads back
//! unchanged here and in RELION.
//!
//! EER (Falcon 4 electron events) is not read yet; opening one is an error that says so.
//!
//! ```no_run
//! use cryoflux_formats::movie::Movie;
//! # fn main() -> cryoflux_formats::Result<()> {
//! let movie = Movie::open("movie_0001.tif")?;
//! for index in 0..movie.frame_count() {
//!     let frame = movie.read_frame(index)?; // width × height counts, X fastest
//!     assert_eq!(frame.len(), movie.width() * movie.height());
//! }
//! # Ok(()) }
//! ```

mod defects;
mod tiff_read;
mod tiff_write;

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::mrc::MrcFile;
use tiff_read::TiffFrames;

pub use defects::{DefectRect, parse_defects, read_defect_file};
pub use tiff_write::{TiffCompression, TiffSample, write_tiff_stack};

/// The container a movie is stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovieFormat {
    /// Multi-page TIFF (`.tif`, `.tiff`), one page per frame.
    Tiff,
    /// MRC stack (`.mrc`, `.mrcs`), one Z section per frame.
    Mrc,
}

/// A movie opened for reading: every frame's size and encoding checked at open, pixels decoded
/// one frame at a time by [`Movie::read_frame`].
#[derive(Debug)]
pub struct Movie {
    path: PathBuf,
    source: Source,
    width: usize,
    height: usize,
    frame_count: usize,
}

#[derive(Debug)]
enum Source {
    // Both boxed: the two readers differ in size by hundreds of bytes.
    Tiff(Box<TiffFrames>),
    Mrc(Box<MrcFile>),
}

impl Movie {
    /// Open the movie at `path`, choosing the format by extension (`.tif`, `.tiff`, `.mrc`,
    /// `.mrcs`; `.eer` is recognised and refused) or, for any other name, by the file's first
    /// bytes (TIFF byte-order mark, MRC `MAP ` stamp). Fails on a movie without frames, frames of
    /// unequal size, an unsupported sample format or compression, and strips cut off by a
    /// truncated file, naming the frame.
    pub fn open(path: impl AsRef<Path>) -> Result<Movie> {
        let path = path.as_ref();
        let (source, [width, height, frame_count]) = match detect_format(path)? {
            MovieFormat::Tiff => {
                let frames = TiffFrames::open(path)?;
                let dims = [frames.width(), frames.height(), frames.frame_count()];
                (Source::Tiff(Box::new(frames)), dims)
            }
            MovieFormat::Mrc => {
                let file = MrcFile::open(path)?;
                let dims = file.dims();
                (Source::Mrc(Box::new(file)), dims)
            }
        };
        if frame_count == 0 || width == 0 || height == 0 {
            return Err(Error::content(
                path,
                format!(
                    "movie of {width} × {height} px with {frame_count} frames; expected at least \
                     one frame of at least 1 × 1 px"
                ),
            ));
        }
        Ok(Movie {
            path: path.to_path_buf(),
            source,
            width,
            height,
            frame_count,
        })
    }

    /// The file this movie was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The container format.
    pub fn format(&self) -> MovieFormat {
        match self.source {
            Source::Tiff(_) => MovieFormat::Tiff,
            Source::Mrc(_) => MovieFormat::Mrc,
        }
    }

    /// Frame width (X extent) in px.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Frame height (Y extent) in px.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Number of frames (TIFF pages or MRC sections).
    pub fn frame_count(&self) -> usize {
        self.frame_count
    }

    /// Frame `index` (0-based) as counts per pixel, `width × height` values, X fastest, `y = 0`
    /// first in RELION's orientation (see the module doc for TIFF's Y flip). Fails on an index
    /// out of range, undecodable strips, or a NaN or infinite pixel, naming the frame.
    pub fn read_frame(&self, index: usize) -> Result<Vec<f32>> {
        if index >= self.frame_count {
            return Err(Error::content(
                &self.path,
                format!(
                    "frame {index} (0-based) requested, but the movie has {} frames",
                    self.frame_count
                ),
            ));
        }
        let pixels = match &self.source {
            Source::Tiff(frames) => frames.read_frame(index)?,
            Source::Mrc(file) => file.read_image(index)?,
        };
        if let Some(at) = pixels.iter().position(|v| !v.is_finite()) {
            return Err(Error::content(
                &self.path,
                format!(
                    "frame {index} (0-based) has {} at pixel (x, y) = ({}, {}); expected finite \
                     counts",
                    pixels[at],
                    at % self.width,
                    at / self.width
                ),
            ));
        }
        Ok(pixels)
    }
}

/// The format of `path`: by extension, else by the first bytes of the file.
fn detect_format(path: &Path) -> Result<MovieFormat> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("tif" | "tiff") => return Ok(MovieFormat::Tiff),
        Some("mrc" | "mrcs") => return Ok(MovieFormat::Mrc),
        Some("eer") => return Err(eer_unsupported(path)),
        _ => {}
    }
    let mut head = Vec::with_capacity(212);
    std::fs::File::open(path)
        .and_then(|file| file.take(212).read_to_end(&mut head))
        .map_err(|e| Error::io(path, e))?;
    if head.starts_with(b"II") || head.starts_with(b"MM") {
        Ok(MovieFormat::Tiff)
    } else if head.get(208..212) == Some(b"MAP ") {
        Ok(MovieFormat::Mrc)
    } else {
        Err(Error::content(
            path,
            "not a recognised movie: expected the extension .tif, .tiff, .mrc or .mrcs, a TIFF \
             byte-order mark (II or MM) or an MRC2014 'MAP ' stamp at byte 208",
        ))
    }
}

/// The error for EER movies, which are recognised but not read yet.
pub(crate) fn eer_unsupported(path: &Path) -> Error {
    Error::content(
        path,
        "EER (Falcon 4 electron-event) movies are not supported yet; convert them to TIFF or MRC \
         (e.g. relion_convert_to_tiff) first",
    )
}

#[cfg(test)]
mod tests;
