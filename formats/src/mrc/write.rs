//! Writing MRC maps and image stacks: little-endian float32 (mode 2) or float16 (mode 12), with
//! a header that describes the data exactly (sizes, voxel size, statistics, `MAP ` stamp,
//! machine stamp, NVERSION 20140, one label `cryoflux`).
//!
//! Images are streamed to a temporary sibling file, statistics accumulate as they go, and the
//! header is written last before the file is renamed into place. An unfinished or failed write
//! (error, panic, dropped writer) leaves nothing at the destination and no temporary behind.
//! Non-finite values, and values beyond the float16 range in mode 12, are refused.

use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::codec::{Endian, encode_le, stored_value};
use super::header::{HEADER_LEN, Header, MAP_STAMP, MAX_DIM, MRC2014_VERSION};
use super::mode::Mode;
use super::stats::{Stats, StatsAccumulator};
use crate::atomic::AtomicFile;
use crate::error::{Error, Result};

/// Storage type of written files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteMode {
    /// Mode 2, 32-bit float: exact.
    Float32,
    /// Mode 12, 16-bit float: half the size, about 3 significant digits, |value| ≤ 65504.
    Float16,
}

impl WriteMode {
    /// The MRC mode this writes.
    pub fn mode(self) -> Mode {
        match self {
            WriteMode::Float32 => Mode::Float32,
            WriteMode::Float16 => Mode::Float16,
        }
    }
}

/// What the sections of a written file are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// 2D images, ISPG 0, MZ 1 (`.mrcs`).
    ImageStack,
    /// One 3D map, ISPG 1, MZ = NZ (`.mrc`).
    Volume,
}

impl Layout {
    fn section_noun(self) -> &'static str {
        match self {
            Layout::ImageStack => "image",
            Layout::Volume => "section z =",
        }
    }
}

/// Write a 3D map of `dims` = [NX, NY, NZ] voxels (`data` X fastest, then Y, then Z) with cubic
/// voxels of `voxel_size` Å, atomically.
pub fn write_volume(
    path: impl AsRef<Path>,
    data: &[f32],
    dims: [usize; 3],
    voxel_size: f32,
    mode: WriteMode,
) -> Result<()> {
    let path = path.as_ref();
    let [nx, ny, nz] = dims;
    let expected = nx.checked_mul(ny).and_then(|n| n.checked_mul(nz));
    if expected != Some(data.len()) || nz == 0 {
        return Err(Error::content(
            path,
            format!(
                "volume of {nx} × {ny} × {nz} voxels needs that many values (at least one), \
                 got {}",
                data.len()
            ),
        ));
    }
    let mut writer = MrcStackWriter::start(path, nx, ny, voxel_size, mode, Layout::Volume)?;
    for section in data.chunks_exact(nx * ny) {
        writer.push(section)?;
    }
    writer.finish()
}

/// Streams 2D images of NX × NY pixels into an `.mrcs` stack without holding the stack in
/// memory: [`create`](Self::create), [`push`](Self::push) each image, [`finish`](Self::finish).
/// Dropping the writer before `finish` abandons the file: nothing appears at the destination.
#[derive(Debug)]
pub struct MrcStackWriter {
    path: PathBuf,
    out: BufWriter<AtomicFile>,
    size: [usize; 2],
    voxel_size: f32,
    mode: Mode,
    layout: Layout,
    images: usize,
    stats: StatsAccumulator,
    bytes: Vec<u8>,
    stored: Vec<f32>,
}

impl MrcStackWriter {
    /// Start a stack of `nx` × `ny`-pixel images with square pixels of `voxel_size` Å at `path`
    /// (written to a temporary file next to it until [`finish`](Self::finish)).
    pub fn create(
        path: impl AsRef<Path>,
        nx: usize,
        ny: usize,
        voxel_size: f32,
        mode: WriteMode,
    ) -> Result<MrcStackWriter> {
        MrcStackWriter::start(path.as_ref(), nx, ny, voxel_size, mode, Layout::ImageStack)
    }

    fn start(
        path: &Path,
        nx: usize,
        ny: usize,
        voxel_size: f32,
        mode: WriteMode,
        layout: Layout,
    ) -> Result<MrcStackWriter> {
        for (name, n) in [("NX", nx), ("NY", ny)] {
            if !(1..=MAX_DIM).contains(&n) {
                return Err(Error::content(
                    path,
                    format!("{name} = {n}, expected an image size between 1 and {MAX_DIM} pixels"),
                ));
            }
        }
        if !(voxel_size.is_finite() && voxel_size > 0.0) {
            return Err(Error::content(
                path,
                format!("voxel size {voxel_size} Å, expected a positive number of Å"),
            ));
        }
        let mut out = BufWriter::with_capacity(1 << 20, AtomicFile::create(path)?);
        out.write_all(&[0u8; HEADER_LEN])
            .map_err(|e| Error::io(path, e))?;
        Ok(MrcStackWriter {
            path: path.to_path_buf(),
            out,
            size: [nx, ny],
            voxel_size,
            mode: mode.mode(),
            layout,
            images: 0,
            stats: StatsAccumulator::new(),
            bytes: Vec::new(),
            stored: Vec::new(),
        })
    }

    /// Append one image of NX × NY values, X fastest. Refuses (and writes nothing for) an image
    /// of the wrong length or holding a value the mode cannot store.
    pub fn push(&mut self, image: &[f32]) -> Result<()> {
        let [nx, ny] = self.size;
        let noun = self.layout.section_noun();
        let index = self.images;
        if image.len() != nx * ny {
            return Err(Error::content(
                &self.path,
                format!(
                    "{noun} {index} has {} values, expected {nx} × {ny} = {}",
                    image.len(),
                    nx * ny
                ),
            ));
        }
        if index == MAX_DIM {
            return Err(Error::content(
                &self.path,
                format!("more than {MAX_DIM} sections"),
            ));
        }
        self.stored.clear();
        self.stored
            .extend(image.iter().map(|&v| stored_value(self.mode, v)));
        if let Some(at) = self.stored.iter().position(|v| !v.is_finite()) {
            let why = if image[at].is_finite() {
                "exceeds the float16 range ±65504; write float32 (mode 2) instead".to_owned()
            } else {
                "is not finite; refusing to write it".to_owned()
            };
            return Err(Error::content(
                &self.path,
                format!(
                    "{noun} {index} (0-based), pixel (x, y) = ({}, {}): value {} {why}",
                    at % nx,
                    at / nx,
                    image[at]
                ),
            ));
        }
        self.stats.add(&self.stored);
        self.bytes.clear();
        encode_le(self.mode, image, &mut self.bytes);
        self.out
            .write_all(&self.bytes)
            .map_err(|e| Error::io(&self.path, e))?;
        self.images += 1;
        Ok(())
    }

    /// Number of images pushed so far.
    pub fn image_count(&self) -> usize {
        self.images
    }

    /// Write the header (NZ = images pushed, statistics of all of them) and move the file into
    /// place. At least one image must have been pushed.
    pub fn finish(self) -> Result<()> {
        let path = self.path;
        let Some(stats) = self.stats.finish() else {
            return Err(Error::content(
                &path,
                "no images were written; an MRC file needs at least one",
            ));
        };
        let header = output_header(
            self.size,
            self.images,
            self.voxel_size,
            self.mode,
            self.layout,
            stats,
        );
        let mut temp = self
            .out
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        let file = temp.file_mut();
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.write_all(&header.to_bytes()))
            .map_err(|e| Error::io(&path, e))?;
        temp.commit()
    }
}

/// The header cryoflux writes: little-endian, standard axes, origin 0, cell = MX/MY/MZ × voxel.
fn output_header(
    [nx, ny]: [usize; 2],
    nz: usize,
    voxel_size: f32,
    mode: Mode,
    layout: Layout,
    stats: Stats,
) -> Header {
    let (mz, ispg) = match layout {
        Layout::ImageStack => (1, 0),
        Layout::Volume => (nz, 1),
    };
    let sampling = [nx, ny, mz].map(|n| n as i32);
    Header {
        endian: Endian::Little,
        size: [nx, ny, nz],
        mode,
        start: [0; 3],
        sampling,
        cell_lengths: sampling.map(|m| m as f32 * voxel_size),
        cell_angles: [90.0; 3],
        axis_map: [1, 2, 3],
        dmin: stats.min,
        dmax: stats.max,
        dmean: stats.mean,
        ispg,
        nsymbt: 0,
        exttyp: [0; 4],
        nversion: MRC2014_VERSION,
        int8_signed: true,
        origin: [0.0; 3],
        map_stamp: MAP_STAMP,
        machine_stamp: Endian::Little.machine_stamp(),
        rms: stats.rms,
        labels: vec!["cryoflux".to_owned()],
    }
}
