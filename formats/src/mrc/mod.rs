//! MRC2014 maps (`.mrc`) and image stacks (`.mrcs`): read modes 0, 1, 2, 6 and 12 in either byte
//! order, write float32 or float16 little-endian, all densities as `f32`.
//!
//! Conventions: data are X fastest, then Y, then Z; an image stack's Z is the image index,
//! 0-based in this API (RELION's `N@stack.mrcs` is 1-based). Voxel sizes are in Å (cell length
//! over sampling intervals). Reading memory-maps the file and decodes only the images asked for.
//!
//! ```no_run
//! use cryoflux_formats::mrc::{MrcFile, MrcStackWriter, WriteMode};
//! # fn main() -> cryoflux_formats::Result<()> {
//! let stack = MrcFile::open("particles.mrcs")?;
//! let [nx, ny, n] = stack.dims();
//! let first = stack.read_image(0)?; // nx * ny pixels
//! let mut out = MrcStackWriter::create("copy.mrcs", nx, ny, stack.voxel_size()[0], WriteMode::Float16)?;
//! out.push(&first)?;
//! out.finish()?;
//! # let _ = n; Ok(()) }
//! ```

mod codec;
mod file;
mod header;
mod mode;
mod scan;
mod stats;
mod write;

pub use codec::Endian;
pub use file::MrcFile;
pub use header::{HEADER_LEN, Header, MAX_DIM, MRC2014_VERSION};
pub use mode::Mode;
pub use scan::NonFinite;
pub use stats::{Stats, StatsAccumulator};
pub use write::{MrcStackWriter, WriteMode, write_volume};
