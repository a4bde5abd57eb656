//! One micrograph's extraction: its particles ([`crate::particles`]), the micrograph read and
//! checked, every particle through [`cryoflux_kernels::extract::extract_particle`], the stack
//! `<stem>.mrcs` and the micrograph's table `<stem>_extract.star` (`data_images`) written
//! atomically, and the table returned for `particles.star`.

use std::path::Path;

use cryoflux_formats::mrc::{MrcFile, MrcStackWriter, WriteMode};
use cryoflux_formats::star::{Column, DataBlock, StarFile, Table};
use cryoflux_kernels::extract::{
    ExtractError, ExtractSettings, OffsetHandling, extract_particle, particle_pixel_size,
};
use cryoflux_kernels::grid::Plane;
use cryoflux_kernels::random::SplitMix64;

use crate::micrographs::{Micrograph, MicrographSet};
use crate::particles::ParticleSource;
use crate::paths::output_stem;
use crate::rows::select_rows;

/// Seed of the `--white_dust`/`--black_dust` replacement stream; particle p of micrograph m
/// draws from `SplitMix64::keyed(DUST_SEED, &[m, p])` (0-based input order).
pub const DUST_SEED: u64 = 0;

/// Block name of a micrograph's particle table, as RELION writes `<stem>_extract.star`.
const IMAGES_BLOCK: &str = "images";

/// Everything every micrograph's extraction shares.
#[derive(Debug, Clone)]
pub struct MicrographJob {
    /// The `--i` micrographs.
    pub micrographs: MicrographSet,
    /// Where the particles come from.
    pub source: ParticleSource,
    /// `--part_dir`: stacks go to `<part_dir><micrograph name without pipeline prefix and
    /// extension>.mrcs`.
    pub part_dir: std::path::PathBuf,
    /// Box, scaling, normalisation and contrast of every particle.
    pub particle: ExtractSettings,
    /// `--recenter` / `--reset_offsets` (re-extraction only).
    pub offsets: OffsetHandling,
    /// `--keep_ctfs_micrographs`: when re-extracting, take the CTF from `--i` instead of the
    /// data STAR file.
    pub keep_ctfs_micrographs: bool,
    /// `--only_do_unfinished`: reuse a micrograph's existing `_extract.star` and its stack.
    pub only_do_unfinished: bool,
    /// `--float16`: write stacks in MRC mode 12 instead of 2.
    pub float16: bool,
}

/// What became of one micrograph.
#[derive(Debug, Clone, PartialEq)]
pub struct MicrographOutcome {
    /// Its rows of `particles.star` (empty if it had no particle in reach).
    pub particles: Table,
    /// Particles left out because their box lies entirely outside the micrograph or their
    /// background is flat.
    pub skipped: usize,
    /// True when `--only_do_unfinished` reused its earlier output.
    pub reused: bool,
}

impl MicrographJob {
    /// Extracts micrograph `index` of the input (see the module doc). An `Err` names the file
    /// and what was wrong with it; the caller reports it and goes on.
    pub fn run(&self, index: usize) -> Result<MicrographOutcome, String> {
        let micrograph = &self.micrographs.micrographs[index];
        let stem = output_stem(&micrograph.name, &self.part_dir);
        let table_path = format!("{stem}_extract.star");
        if self.only_do_unfinished && Path::new(&table_path).exists() {
            return read_images_table(Path::new(&table_path)).map(|particles| MicrographOutcome {
                particles,
                skipped: 0,
                reused: true,
            });
        }
        let particles = self.source.particles_of(micrograph)?;
        if particles.rows() == 0 {
            return Ok(MicrographOutcome {
                particles,
                skipped: 0,
                reused: false,
            });
        }
        let image = read_micrograph(Path::new(&micrograph.name))?;
        let stack_name = format!("{stem}.mrcs");
        let size = self.particle.output_size();
        let pixel_size = particle_pixel_size(
            micrograph.pixel_size,
            self.particle.extract_size,
            self.particle.scale,
        );
        let mode = if self.float16 {
            WriteMode::Float16
        } else {
            WriteMode::Float32
        };
        if let Some(parent) = Path::new(&stack_name).parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create directory {}: {e}", parent.display()))?;
        }
        let mut stack = MrcStackWriter::create(&stack_name, size, size, pixel_size as f32, mode)
            .map_err(|e| e.to_string())?;
        let mut kept = Vec::new();
        let mut placements = Vec::new();
        for row in 0..particles.rows() {
            let coordinate = [
                particles
                    .number("rlnCoordinateX", row)
                    .expect("checked coordinates"),
                particles
                    .number("rlnCoordinateY", row)
                    .expect("checked coordinates"),
            ];
            let origin = [
                particles.number("rlnOriginXAngst", row).unwrap_or(0.0),
                particles.number("rlnOriginYAngst", row).unwrap_or(0.0),
            ];
            let (coordinate, origin) =
                self.offsets
                    .apply(coordinate, origin, micrograph.pixel_size);
            let mut random = SplitMix64::keyed(DUST_SEED, &[index as u64, row as u64]);
            match extract_particle(
                &image,
                micrograph.pixel_size,
                coordinate,
                &self.particle,
                &mut random,
            ) {
                Ok(box_image) => {
                    stack.push(box_image.data()).map_err(|e| e.to_string())?;
                    kept.push(row);
                    // RELION writes the coordinate with --extract_bias_x/y added.
                    let bias = self.particle.bias_px.map(|b| b as f64);
                    placements.push(([coordinate[0] + bias[0], coordinate[1] + bias[1]], origin));
                }
                Err(
                    e @ (ExtractError::OutsideMicrograph { .. }
                    | ExtractError::FlatBackground { .. }),
                ) => {
                    tracing::warn!(
                        "{}: particle {} at ({}, {}) px skipped: {e}",
                        micrograph.name,
                        row + 1,
                        coordinate[0],
                        coordinate[1]
                    );
                }
                Err(e) => return Err(format!("{}: particle {}: {e}", micrograph.name, row + 1)),
            }
        }
        let skipped = particles.rows() - kept.len();
        if kept.is_empty() {
            return Ok(MicrographOutcome {
                particles: Table::default(),
                skipped,
                reused: false,
            });
        }
        stack.finish().map_err(|e| e.to_string())?;
        let mut table = select_rows(&particles, &kept);
        self.describe(&mut table, micrograph, &placements, &stack_name);
        let star = StarFile {
            blocks: vec![DataBlock {
                name: IMAGES_BLOCK.into(),
                pairs: Vec::new(),
                table: Some(table.clone()),
            }],
        };
        star.write(Path::new(&table_path))
            .map_err(|e| e.to_string())?;
        Ok(MicrographOutcome {
            particles: table,
            skipped,
            reused: false,
        })
    }

    /// Sets the columns RELION writes for extracted particles, in its order: the coordinates
    /// (px, `--extract_bias_x/y` included) and, when re-extracting with `--recenter`/`--reset_offsets`, origins (Å) of
    /// `placements`; `rlnImageName` (`NNNNNN@<stack>`), `rlnMicrographName`, `rlnOpticsGroup`;
    /// then the micrograph's CTF (always from coordinates, with `--keep_ctfs_micrographs` when
    /// re-extracting).
    fn describe(
        &self,
        table: &mut Table,
        micrograph: &Micrograph,
        placements: &[([f64; 2], [f64; 2])],
        stack_name: &str,
    ) {
        for (axis, label) in ["rlnCoordinateX", "rlnCoordinateY"].into_iter().enumerate() {
            table.set_column(Column::floats(label, placements.iter().map(|p| p.0[axis])));
        }
        if self.offsets != OffsetHandling::Keep {
            for (axis, label) in ["rlnOriginXAngst", "rlnOriginYAngst"]
                .into_iter()
                .enumerate()
            {
                if table.column(label).is_some() {
                    table.set_column(Column::floats(label, placements.iter().map(|p| p.1[axis])));
                }
            }
        }
        let rows = placements.len();
        table.set_column(Column::texts(
            "rlnImageName",
            (1..=rows).map(|i| format!("{i:06}@{stack_name}")),
        ));
        table.set_column(Column::texts(
            "rlnMicrographName",
            std::iter::repeat_n(micrograph.name.clone(), rows),
        ));
        table.set_column(Column::ints(
            "rlnOpticsGroup",
            std::iter::repeat_n(micrograph.optics_group, rows),
        ));
        let reextracting = matches!(self.source, ParticleSource::Reextract { .. });
        if !reextracting || self.keep_ctfs_micrographs {
            micrograph.set_ctf(table);
        }
    }
}

/// Reads a micrograph (a single-image MRC file, row 0 = MRC y = 0) and checks its pixels are
/// finite.
fn read_micrograph(path: &Path) -> Result<Plane, String> {
    let file = MrcFile::open(path).map_err(|e| format!("cannot read micrograph: {e}"))?;
    let [nx, ny, nz] = file.dims();
    if nz != 1 {
        return Err(format!(
            "micrograph {} has {nz} sections (expected a single 2D image)",
            path.display()
        ));
    }
    let data = file
        .read_image(0)
        .map_err(|e| format!("cannot read micrograph: {e}"))?;
    if let Some(at) = data.iter().position(|v| !v.is_finite()) {
        return Err(format!(
            "micrograph {} has a non-finite pixel ({}) at (x, y) = ({}, {}) px (expected finite \
             intensities)",
            path.display(),
            data[at],
            at % nx,
            at / nx
        ));
    }
    Plane::from_vec(nx, ny, data).map_err(|e| format!("micrograph {}: {e}", path.display()))
}

/// The `data_images` table of an earlier `<stem>_extract.star`.
fn read_images_table(path: &Path) -> Result<Table, String> {
    let star = StarFile::read(path).map_err(|e| format!("cannot reuse {}: {e}", path.display()))?;
    star.block(IMAGES_BLOCK)
        .and_then(|b| b.table.clone())
        .ok_or_else(|| format!("cannot reuse {}: no data_images table", path.display()))
}
