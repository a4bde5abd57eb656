//! Direct Fourier reconstruction of a map from particles at known poses, as
//! `relion_reconstruct` does it (refine.md §2.1–2.4, without τ² regularisation).
//!
//! Each particle image is Fourier transformed, moved by +origin (which centres it), multiplied
//! by its CTF (weight CTF²; without CTF correction data as is, weight 1), and inserted as a
//! central slice at its pose into the padded 3D accumulators. The accumulators are then
//! symmetrised and divided by their weights with RELION's iterative gridding (10 rounds), and
//! the map is gridding-corrected. Images of another pixel or box size than the map are inserted
//! at the frequencies they sample: slice coordinates are scaled by (N·p)/(N_img·p_img).
//!
//! RELION quirk reproduced: the DC term (mean) of every image is inserted as zero data with its
//! full weight, as relion_reconstruct effectively does, so the map's mean is ≈ 0 rather than the
//! particles' mean (found by reconstructing zero-mean images, which matches relion_reconstruct
//! to a correlation of 0.9999998 on noise-free projections).
//!
//! Determinism: images are prepared (read, FFT, shift, CTF) in parallel a batch at a time while
//! the previous batch is inserted on one thread in particle order, so every accumulator value
//! is summed in the same order whatever the number of threads: the map is bit-for-bit the same.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use cryoflux_formats::mrc::{WriteMode, write_volume};
use cryoflux_kernels::fourier::backprojector::{BackProjector, BackProjectorOptions};
use cryoflux_kernels::fourier::ctf::{Ctf, CtfVariant};
use cryoflux_kernels::fourier::fft;
use cryoflux_kernels::fourier::shift::shift;
use cryoflux_kernels::geometry::symmetry::SymmetryGroup;
use cryoflux_kernels::grid::{FourierImage, HalfGrid, Interpolation, Volume};
use cryoflux_kernels::reconstruct::{Gridding, ReconstructOptions, reconstruct};
use glam::DMat3;
use indicatif::ProgressBar;
use rayon::prelude::*;

use cryoflux_jobkit::particles::{LoadOptions, Particle, ParticleSet};

/// Particles prepared in parallel between two sequential insertions.
const BATCH: usize = 64;

/// How to reconstruct.
#[derive(Debug, Clone)]
pub struct ReconstructSettings {
    /// CTF correction (data × CTF, weight CTF²) with this variant, or none (weight 1).
    pub ctf: Option<CtfVariant>,
    /// Point group imposed on the accumulated data (RELION's `--sym`).
    pub symmetry: SymmetryGroup,
    /// Padding factor of the Fourier accumulators (RELION's `--pad`, default 2).
    pub padding: usize,
    /// Highest resolution inserted, in Å (RELION's `--maxres`): shells up to
    /// ceil(N·p/maxres), as relion_reconstruct does; `None` = Nyquist.
    pub max_resolution: Option<f64>,
    /// Voxel size of the map in Å; `None` = the first optics group's pixel size.
    pub pixel_size: Option<f64>,
    /// Division of data by weights (RELION's default: 10 rounds of iterative gridding).
    pub gridding: Gridding,
}

impl ReconstructSettings {
    /// relion_reconstruct's defaults: no CTF, C1, padding 2, Nyquist, 10 gridding rounds.
    pub fn new() -> Self {
        Self {
            ctf: None,
            symmetry: SymmetryGroup::c1(),
            padding: 2,
            max_resolution: None,
            pixel_size: None,
            gridding: Gridding::default(),
        }
    }
}

impl Default for ReconstructSettings {
    fn default() -> Self {
        Self::new()
    }
}

/// Box (pixels) and voxel size (Å) of the map made from `set` with `settings`: the first
/// optics group's box, and its pixel size unless overridden.
pub fn map_geometry(
    set: &ParticleSet,
    settings: &ReconstructSettings,
) -> anyhow::Result<(usize, f64)> {
    let Some(first) = set.optics().first() else {
        bail!("{}: no optics groups", set.path().display());
    };
    let size = first.image_size.with_context(|| {
        format!(
            "{}: optics group {} has no particles, so its box is unknown",
            set.path().display(),
            first.number
        )
    })?;
    let pixel = settings.pixel_size.unwrap_or(first.pixel_size);
    if !(pixel.is_finite() && pixel > 0.0) {
        bail!("map pixel size {pixel} Å; expected a positive size");
    }
    Ok((size, pixel))
}

/// Accumulates the particles `selection` (indices into `set.particles()`) into a backprojector
/// and symmetrises it. `progress` is called with the number of particles inserted each time a
/// batch is done. The set must have been loaded with poses (and CTFs when `settings.ctf`).
pub fn backproject_particles(
    set: &ParticleSet,
    selection: &[usize],
    settings: &ReconstructSettings,
    progress: &(dyn Fn(u64) + Sync),
) -> anyhow::Result<BackProjector> {
    if selection.is_empty() {
        bail!(
            "{}: no particles selected to reconstruct from",
            set.path().display()
        );
    }
    let start = Instant::now();
    let (size, pixel) = map_geometry(set, settings)?;
    let r_max = settings
        .max_resolution
        .map(|d| {
            if !(d.is_finite() && d > 0.0) {
                bail!("--maxres {d} Å; expected a positive resolution");
            }
            Ok(((size as f64 * pixel / d).ceil() as usize).min(size / 2))
        })
        .transpose()?;
    let options = BackProjectorOptions {
        padding: settings.padding,
        r_max,
        interpolation: Interpolation::Trilinear,
    };
    let mut bp = BackProjector::new(size, pixel, &options)?;
    let map_extent = size as f64 * pixel;
    let prepare_batch = |batch: &[usize]| -> anyhow::Result<Vec<Slice>> {
        batch
            .par_iter()
            .map(|&i| prepare(set, &set.particles()[i], settings, map_extent))
            .collect()
    };
    let mut batches = selection.chunks(BATCH);
    let mut ready = batches
        .next()
        .map(prepare_batch)
        .transpose()?
        .unwrap_or_default();
    while !ready.is_empty() {
        let next = batches.next();
        let (inserted, prepared) = rayon::join(
            || insert(&mut bp, &ready),
            || next.map(prepare_batch).transpose(),
        );
        inserted?;
        progress(ready.len() as u64);
        ready = prepared?.unwrap_or_default();
    }
    bp.symmetrise(settings.symmetry.operators());
    tracing::debug!(
        "backprojection and symmetrisation {:.2} s",
        start.elapsed().as_secs_f64()
    );
    Ok(bp)
}

/// The map from the particles `selection` of `set`: [`backproject_particles`], then
/// [`reconstruct_map`].
pub fn reconstruct_particles(
    set: &ParticleSet,
    selection: &[usize],
    settings: &ReconstructSettings,
    progress: &(dyn Fn(u64) + Sync),
) -> anyhow::Result<Volume> {
    let bp = backproject_particles(set, selection, settings, progress)?;
    reconstruct_map(&bp, settings)
}

/// The map from accumulated (and symmetrised) data: division by the weights (no τ² prior)
/// with `settings.gridding`, then gridding correction.
pub fn reconstruct_map(
    bp: &BackProjector,
    settings: &ReconstructSettings,
) -> anyhow::Result<Volume> {
    let start = Instant::now();
    let options = ReconstructOptions {
        regularisation: None,
        gridding: settings.gridding,
    };
    let map = reconstruct(bp, &options)?;
    tracing::debug!("reconstruction {:.2} s", start.elapsed().as_secs_f64());
    Ok(map)
}

/// One particle ready for insertion: CTF-weighted centred transform, weights, slice matrix.
struct Slice {
    data: FourierImage,
    weights: HalfGrid<f32, 2>,
    matrix: DMat3,
}

/// Reads, transforms, centres and CTF-weights one particle.
fn prepare(
    set: &ParticleSet,
    particle: &Particle,
    settings: &ReconstructSettings,
    map_extent: f64,
) -> anyhow::Result<Slice> {
    let row = particle.row + 1;
    let pose = particle.pose.with_context(|| {
        format!("particle row {row}: no pose (the set was loaded without poses)")
    })?;
    let image = set.read_image(particle)?;
    let (n, pixel) = (image.n(), image.pixel_size());
    let mut data = fft::forward(&image);
    shift(&mut data, pose.origin);
    // relion_reconstruct ignores each image's mean: its DC term enters with weight but no data.
    if let Some(dc) = data.index_of(0, 0, 0) {
        data.data_mut()[dc] = Default::default();
    }
    let weights = match settings.ctf {
        None => HalfGrid::from_vec(n, pixel, vec![1.0; data.data().len()])?,
        Some(variant) => {
            let params = particle.ctf.with_context(|| {
                format!("particle row {row}: no CTF (the set was loaded without CTFs)")
            })?;
            let ctf = Ctf::new(params)?.image(n, pixel, variant)?;
            data.data_mut()
                .iter_mut()
                .zip(ctf.data())
                .for_each(|(v, &c)| *v *= c);
            ctf.map(|c| c * c)
        }
    };
    let scale = map_extent / (n as f64 * pixel);
    Ok(Slice {
        data,
        weights,
        matrix: pose.matrix() * scale,
    })
}

/// Inserts prepared slices in order.
fn insert(bp: &mut BackProjector, slices: &[Slice]) -> anyhow::Result<()> {
    for slice in slices {
        bp.backproject(&slice.data, &slice.weights, &slice.matrix)?;
    }
    Ok(())
}

/// A `cryoflux reconstruct` run (its flags): particles in, map out.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconstructJob {
    /// Particles with poses: a RELION STAR file or a Parquet particle table.
    pub input: PathBuf,
    /// Output map (MRC, float32).
    pub output: PathBuf,
    /// Point group to impose (RELION symbol, e.g. C1, D2, I3).
    pub sym: String,
    /// Only half set 1 or 2 (by rlnRandomSubset); default all particles.
    pub subset: Option<i64>,
    /// CTF correction: data × CTF, weights CTF² (needs rlnDefocusU and the optics constants).
    pub ctf: bool,
    /// With --ctf: leave the CTF at 1 until its first peak.
    pub ctf_intact_first_peak: bool,
    /// With --ctf: the images have been phase flipped (use |CTF|).
    pub ctf_phase_flipped: bool,
    /// With --ctf: only flip phases (use the CTF's sign), do not correct amplitudes.
    pub only_flip_phases: bool,
    /// Voxel size of the map in Å (default: the first optics group's pixel size); images of
    /// another pixel size are inserted at the frequencies they sample.
    pub angpix: Option<f64>,
    /// Highest resolution to insert, in Å (default Nyquist).
    pub maxres: Option<f64>,
    /// Padding factor of the Fourier accumulators.
    pub pad: u16,
    /// Rounds of iterative gridding (density compensation).
    pub iter: usize,
    /// Divide by the weights directly instead of iterative gridding.
    pub skip_gridding: bool,
    /// Use the STAR pixel size even when the stacks' MRC headers give another one.
    pub trust_star_angpix: bool,
    /// Worker threads (default: all cores); the map does not depend on it.
    pub threads: Option<usize>,
}

impl ReconstructJob {
    /// The reconstruction settings of this run.
    pub fn settings(&self) -> anyhow::Result<ReconstructSettings> {
        let symmetry = SymmetryGroup::parse(&self.sym).context("--sym")?;
        let ctf = self.ctf.then_some(CtfVariant {
            intact_first_peak: self.ctf_intact_first_peak,
            phase_flipped: self.ctf_phase_flipped,
            sign_only: self.only_flip_phases,
            damping: true,
        });
        let gridding = if self.skip_gridding {
            Gridding::Skip
        } else {
            Gridding::Iterative {
                iterations: self.iter,
            }
        };
        Ok(ReconstructSettings {
            ctf,
            symmetry,
            padding: usize::from(self.pad),
            max_resolution: self.maxres,
            pixel_size: self.angpix,
            gridding,
        })
    }
}

/// Loads and checks the particles, reconstructs, writes the map atomically.
pub fn run(args: &ReconstructJob) -> anyhow::Result<()> {
    let start = Instant::now();
    let settings = args.settings()?;
    let options = LoadOptions {
        poses: true,
        ctf: args.ctf,
        trust_star_pixel_size: args.trust_star_angpix,
    };
    let set = ParticleSet::load(&args.input, &options)?;
    let selection = set.select_half(args.subset)?;
    let (size, pixel) = map_geometry(&set, &settings)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("cannot start the worker threads")?;
    let progress = ProgressBar::new(selection.len() as u64);
    let bp =
        pool.install(|| backproject_particles(&set, &selection, &settings, &|n| progress.inc(n)))?;
    progress.finish_and_clear();
    let (used, total) = (selection.len(), set.particles().len());
    // Unmap the image stacks before the memory-hungry reconstruction.
    drop(set);
    let map = pool.install(|| reconstruct_map(&bp, &settings))?;
    write_volume(
        &args.output,
        map.data(),
        [size; 3],
        pixel as f32,
        WriteMode::Float32,
    )?;
    let seconds = start.elapsed().as_secs_f64();
    tracing::info!(
        "reconstructed {} from {} of {} particles (box {size}, {pixel} Å/px, {}, {}{}) in \
         {seconds:.2} s ({:.0} particles/s)",
        args.output.display(),
        used,
        total,
        settings.symmetry.point_group(),
        if args.ctf {
            "CTF-corrected"
        } else {
            "no CTF correction"
        },
        args.subset
            .map(|h| format!(", half set {h}"))
            .unwrap_or_default(),
        selection.len() as f64 / seconds,
    );
    Ok(())
}
