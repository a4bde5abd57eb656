//! Streams a stack of generated images to an `.mrcs` file: images are made in parallel, a chunk
//! at a time, and written in index order, so the file does not depend on the thread count and
//! the stack is never held in memory. A progress bar over images shows on a terminal only.

use std::path::Path;

use cryoflux_formats::mrc::{MrcStackWriter, WriteMode};
use indicatif::ProgressBar;
use rayon::prelude::*;

/// Images generated in parallel between two writes.
const CHUNK: usize = 256;

/// Writes images 0 … `count`−1 of `box_size`² pixels of `pixel_size` Å (float32), image `i`
/// being `make(i)`, atomically to `path`.
pub fn write_stack(
    path: &Path,
    count: usize,
    box_size: usize,
    pixel_size: f64,
    make: impl Fn(usize) -> anyhow::Result<Vec<f32>> + Sync,
) -> anyhow::Result<()> {
    let mut writer = MrcStackWriter::create(
        path,
        box_size,
        box_size,
        pixel_size as f32,
        WriteMode::Float32,
    )?;
    let progress = ProgressBar::new(count as u64);
    for first in (0..count).step_by(CHUNK) {
        let last = count.min(first + CHUNK);
        let images = (first..last)
            .into_par_iter()
            .map(&make)
            .collect::<anyhow::Result<Vec<Vec<f32>>>>()?;
        for image in &images {
            writer.push(image)?;
        }
        progress.inc((last - first) as u64);
    }
    writer.finish()?;
    progress.finish_and_clear();
    Ok(())
}
