//! `cryoflux extract`: particle extraction from micrographs, as `relion_preprocess --extract`
//! (RELION 3.1.3; RELION's Extract job) does it, around the kernel
//! [`cryoflux_kernels::extract`] (box, `--scale`, `--window`, `--norm`, `--invert_contrast`,
//! re-extraction offsets; matched pixel for pixel against RELION).
//!
//! Inputs: `--i` micrographs STAR (`data_optics` with `rlnMicrographPixelSize` in Å,
//! `data_micrographs` with `rlnMicrographName` and, after CTF estimation, the CTF columns), and
//! either STAR coordinate files (`rlnCoordinateX/Y` in micrograph px) found as RELION finds them
//! ([`paths`]) or a refined particle set (`--reextract_data_star`).
//!
//! Outputs, as RELION 3.1.3 writes them (file names, blocks, labels and label order checked
//! against it): per micrograph the stack `<part_dir><micrograph name without its pipeline
//! prefix and extension>.mrcs` (float32, or float16 with RELION 4's `--float16`; pixel size
//! micrograph pixel size × extract_size / scale Å) and that micrograph's `…_extract.star`
//! (`data_images`); then `--part_star` (`data_optics`: the micrographs' optics groups with
//! `rlnImagePixelSize`, `rlnImageSize`, `rlnImageDimensionality` instead of
//! `rlnMicrographPixelSize`; `data_particles`: the coordinate file's or data STAR file's
//! columns, `rlnImageName` `NNNNNN@stack`, `rlnMicrographName`, `rlnOpticsGroup`, and the CTF
//! columns of the micrograph — when re-extracting only with `--keep_ctfs_micrographs`) and its
//! Parquet copy (same name, `.parquet`).
//!
//! Deliberate differences from RELION 3.1.3:
//! - a micrograph that cannot be read, holds non-finite pixels, or whose coordinate file is
//!   missing or bad is reported (`tracing::warn!`) and skipped; the job fails only when every
//!   micrograph failed or no particle was extracted;
//! - a particle whose box lies entirely outside its micrograph (or whose background is flat
//!   under `--norm`) is reported and skipped, where RELION stops the whole job;
//! - without `--coord_dir` coordinates are looked for beside the micrograph, as RELION's help
//!   says ("same as micrographs"); RELION 3.1.3 instead prefixes the literal text `ASINPUT` and
//!   so finds nothing unless given `--coord_dir ./`;
//! - only STAR coordinate files are read (not `.box`/`.coords`); helical options, CTF
//!   premultiplication/phase flipping and `--recenter_x/y/z` are not implemented;
//! - dust replacements are drawn from keyed streams ([`micrograph_job::DUST_SEED`]), so they
//!   are reproducible and independent of `--j`, but not RELION's draws.

pub mod micrograph_job;
pub mod micrographs;
pub mod particles;
pub mod paths;
pub mod rows;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail, ensure};
use cryoflux_formats::star::{DataBlock, StarFile};
use cryoflux_formats::table::{ParticleTable, write_parquet};
use cryoflux_jobkit::batch::run_per_movie;
use cryoflux_kernels::extract::background::background_pixels;
use cryoflux_kernels::extract::{
    ExtractSettings, Normalisation, OffsetHandling, particle_pixel_size,
};
use cryoflux_kernels::grid::check_box;

use micrograph_job::MicrographJob;
use micrographs::MicrographSet;
use particles::ParticleSource;

/// The settings of an extraction, with `relion_preprocess`'s flag names and units.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `--i`: the micrographs STAR file.
    pub i: PathBuf,
    /// `--coord_dir`: directory of the coordinate files (None: RELION's ASINPUT, beside each
    /// micrograph).
    pub coord_dir: Option<PathBuf>,
    /// `--coord_suffix`: coordinate file suffix, e.g. `_pick.star`.
    pub coord_suffix: String,
    /// `--part_dir`: output directory of the particle stacks (RELION's default `Particles/`).
    pub part_dir: PathBuf,
    /// `--part_star`: output particle STAR file (the Parquet copy goes beside it).
    pub part_star: PathBuf,
    /// `--reextract_data_star`: re-extract the particles of this refined STAR file instead of
    /// reading coordinate files.
    pub reextract_data_star: Option<PathBuf>,
    /// `--recenter`: move each re-extracted coordinate by its whole-pixel origin (micrograph
    /// px), keeping the sub-pixel remainder as origin (Å).
    pub recenter: bool,
    /// `--reset_offsets`: set re-extracted origins to 0 Å.
    pub reset_offsets: bool,
    /// `--keep_ctfs_micrographs`: when re-extracting, take the CTF from `--i`.
    pub keep_ctfs_micrographs: bool,
    /// `--extract_size`: box cut from the micrograph, px (even).
    pub extract_size: usize,
    /// `--scale`: rescale boxes to this size, px (None: RELION's −1, no rescaling).
    pub scale: Option<usize>,
    /// `--window`: re-window boxes (after scaling) to this size, px (None: RELION's −1).
    pub window: Option<usize>,
    /// `--norm`: background mean 0 and stddev 1.
    pub norm: bool,
    /// `--no_ramp`: subtract only the background mean, no fitted plane.
    pub no_ramp: bool,
    /// `--bg_radius`: background beyond this radius, px of the final box (required with
    /// `--norm`; None: RELION's −1).
    pub bg_radius: Option<f64>,
    /// `--white_dust`: remove pixels this many background σ above the mean (None: −1, off).
    pub white_dust: Option<f64>,
    /// `--black_dust`: remove pixels this many background σ below the mean (None: −1, off).
    pub black_dust: Option<f64>,
    /// `--invert_contrast`: multiply boxes by −1 (after normalisation).
    pub invert_contrast: bool,
    /// `--extract_bias_x`: added to every X coordinate before truncation, px.
    pub extract_bias_x: i64,
    /// `--extract_bias_y`: added to every Y coordinate before truncation, px.
    pub extract_bias_y: i64,
    /// `--only_do_unfinished`: skip micrographs whose `_extract.star` already exists (their
    /// particles still join `--part_star`).
    pub only_do_unfinished: bool,
    /// `--float16`: write stacks in MRC mode 12 (RELION 4's flag).
    pub float16: bool,
    /// `--j`: worker threads (results do not depend on it).
    pub j: usize,
}

impl Settings {
    /// Settings with RELION's defaults for `--i`, `--coord_suffix`, `--part_star` and
    /// `--extract_size` (px); everything else off.
    pub fn new(i: PathBuf, coord_suffix: &str, part_star: PathBuf, extract_size: usize) -> Self {
        Settings {
            i,
            coord_dir: None,
            coord_suffix: coord_suffix.to_owned(),
            part_dir: PathBuf::from("Particles/"),
            part_star,
            reextract_data_star: None,
            recenter: false,
            reset_offsets: false,
            keep_ctfs_micrographs: false,
            extract_size,
            scale: None,
            window: None,
            norm: false,
            no_ramp: false,
            bg_radius: None,
            white_dust: None,
            black_dust: None,
            invert_contrast: false,
            extract_bias_x: 0,
            extract_bias_y: 0,
            only_do_unfinished: false,
            float16: false,
            j: 1,
        }
    }

    /// The kernel's per-particle settings, checked (even boxes, `--bg_radius` with `--norm`
    /// leaving background pixels in the final box).
    pub fn particle_settings(&self) -> anyhow::Result<ExtractSettings> {
        check_box("--extract_size (px)", self.extract_size)?;
        for (what, size) in [("--scale (px)", self.scale), ("--window (px)", self.window)] {
            if let Some(n) = size {
                check_box(what, n)?;
            }
        }
        let normalisation = if self.norm {
            let Some(radius) = self.bg_radius else {
                bail!("--norm needs --bg_radius (background radius in px of the final box)");
            };
            let normalisation = Normalisation {
                bg_radius_px: radius,
                ramp: !self.no_ramp,
                white_dust_sigma: self.white_dust,
                black_dust_sigma: self.black_dust,
            };
            let settings = ExtractSettings::plain(self.extract_size);
            let final_size = ExtractSettings {
                scale: self.scale,
                window: self.window,
                ..settings
            }
            .output_size();
            background_pixels(final_size, radius)?;
            Some(normalisation)
        } else {
            None
        };
        Ok(ExtractSettings {
            extract_size: self.extract_size,
            bias_px: [self.extract_bias_x, self.extract_bias_y],
            scale: self.scale,
            window: self.window,
            normalisation,
            invert_contrast: self.invert_contrast,
        })
    }

    /// What re-extraction does with origins.
    fn offsets(&self) -> anyhow::Result<OffsetHandling> {
        Ok(match (self.recenter, self.reset_offsets) {
            (false, false) => OffsetHandling::Keep,
            (true, false) => OffsetHandling::Recentre,
            (false, true) => OffsetHandling::Reset,
            (true, true) => bail!("give at most one of --recenter and --reset_offsets"),
        })
    }
}

/// What an extraction did.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Particles written to `--part_star`.
    pub particles: usize,
    /// Micrographs that contributed particles.
    pub micrographs: usize,
    /// Micrographs reported and skipped (unreadable, bad coordinates, …).
    pub failed_micrographs: usize,
    /// Micrographs reused by `--only_do_unfinished`.
    pub reused_micrographs: usize,
    /// Particles reported and skipped (box entirely outside, flat background).
    pub skipped_particles: usize,
    /// Pixel size of the particles, Å (of the first optics group).
    pub pixel_size: f64,
    /// Box of the particles, px.
    pub image_size: usize,
    /// The particle STAR file written.
    pub part_star: PathBuf,
    /// Its Parquet copy.
    pub parquet: PathBuf,
}

/// Runs the extraction (see the crate doc) and writes its outputs.
pub fn run(settings: &Settings) -> anyhow::Result<Summary> {
    let particle = settings.particle_settings()?;
    let offsets = settings.offsets()?;
    ensure!(
        settings.reextract_data_star.is_some() || !settings.coord_suffix.is_empty(),
        "give --coord_suffix (coordinate files) or --reextract_data_star"
    );
    let micrographs = MicrographSet::read(&settings.i)?;
    ensure!(
        !micrographs.micrographs.is_empty(),
        "{} lists no micrographs",
        settings.i.display()
    );
    let source = match &settings.reextract_data_star {
        Some(path) => ParticleSource::reextract(path)?,
        None => ParticleSource::Coordinates {
            coord_dir: settings.coord_dir.clone(),
            coord_suffix: settings.coord_suffix.clone(),
        },
    };
    let job = Arc::new(MicrographJob {
        micrographs,
        source,
        part_dir: settings.part_dir.clone(),
        particle,
        offsets,
        keep_ctfs_micrographs: settings.keep_ctfs_micrographs,
        only_do_unfinished: settings.only_do_unfinished,
        float16: settings.float16,
    });
    let count = job.micrographs.micrographs.len();
    let worker = Arc::clone(&job);
    let outcomes = run_per_movie(
        settings.j,
        "Extract",
        (0..count).collect(),
        move |&i: &usize| worker.run(i),
    )?;
    let mut tables = Vec::new();
    let (mut failed, mut reused, mut skipped, mut contributing) = (0, 0, 0, 0);
    for (micrograph, outcome) in job.micrographs.micrographs.iter().zip(outcomes) {
        match outcome {
            Ok(outcome) => {
                skipped += outcome.skipped;
                reused += usize::from(outcome.reused);
                if outcome.particles.rows() > 0 {
                    contributing += 1;
                    tables.push(outcome.particles);
                }
            }
            Err(e) => {
                failed += 1;
                tracing::warn!("micrograph {} skipped: {e}", micrograph.name);
            }
        }
    }
    ensure!(
        failed < count,
        "every one of the {count} micrographs failed (see the warnings above)"
    );
    ensure!(
        !tables.is_empty(),
        "no particle was extracted from {count} micrographs"
    );
    let particles = rows::concatenate(&tables)
        .map_err(|e| anyhow::anyhow!("cannot join the micrographs' particle tables: {e}"))?;
    let image_size = particle.output_size();
    let optics = job.micrographs.particle_optics(image_size, |p| {
        particle_pixel_size(p, particle.extract_size, particle.scale)
    })?;
    let pixel_size = optics
        .floats("rlnImagePixelSize")
        .and_then(|p| p.first().copied());
    let star = StarFile {
        blocks: vec![
            DataBlock {
                name: "optics".into(),
                pairs: Vec::new(),
                table: Some(optics),
            },
            DataBlock {
                name: "particles".into(),
                pairs: Vec::new(),
                table: Some(particles),
            },
        ],
    };
    let parquet = write_outputs(&star, &settings.part_star)?;
    Ok(Summary {
        particles: star.blocks[1].table.as_ref().map_or(0, |t| t.rows()),
        micrographs: contributing,
        failed_micrographs: failed,
        reused_micrographs: reused,
        skipped_particles: skipped,
        pixel_size: pixel_size.unwrap_or(0.0),
        image_size,
        part_star: settings.part_star.clone(),
        parquet,
    })
}

/// Writes `star` to `part_star` and its Parquet copy beside it (returned), atomically.
fn write_outputs(star: &StarFile, part_star: &Path) -> anyhow::Result<PathBuf> {
    if let Some(parent) = part_star.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create directory {}", parent.display()))?;
    }
    star.write(part_star)?;
    let parquet = part_star.with_extension("parquet");
    write_parquet(
        &ParticleTable::from_star(star.clone(), part_star)?,
        &parquet,
    )?;
    Ok(parquet)
}
