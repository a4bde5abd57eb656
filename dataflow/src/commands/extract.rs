//! `cryoflux extract`: particles from micrographs, like `relion_preprocess --extract` (see
//! [`cryoflux_extract`], which also lists the deliberate differences from RELION).

use std::path::PathBuf;

use anyhow::ensure;
use cryoflux_extract::{Settings, run as extract};
use cryoflux_jobkit::job_directory::JobFiles;

/// Arguments of `cryoflux extract` (relion_preprocess's names and defaults; −1 means off).
#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// Micrographs STAR file (corrected_micrographs.star or micrographs_ctf.star).
    #[arg(long = "i", visible_alias = "input", value_name = "FILE.star")]
    pub input: PathBuf,
    /// Suffix of the coordinate files, e.g. "_pick.star".
    #[arg(long = "coord_suffix", default_value = "")]
    pub coord_suffix: String,
    /// Directory of the coordinate files (default ASINPUT: beside each micrograph).
    #[arg(long = "coord_dir", value_name = "DIR", default_value = "ASINPUT")]
    pub coord_dir: String,
    /// Output directory for particle stacks.
    #[arg(long = "part_dir", value_name = "DIR", default_value = "Particles/")]
    pub part_dir: PathBuf,
    /// Output STAR file with all particles (a Parquet copy is written beside it).
    #[arg(long = "part_star", value_name = "FILE.star")]
    pub part_star: PathBuf,
    /// A refined _data.star to re-extract (instead of --coord_suffix).
    #[arg(long = "reextract_data_star", value_name = "FILE.star")]
    pub reextract_data_star: Option<PathBuf>,
    /// Keep the CTFs of the micrographs STAR file when re-extracting.
    #[arg(long = "keep_ctfs_micrographs")]
    pub keep_ctfs_micrographs: bool,
    /// Reset re-extracted origins to zero.
    #[arg(long = "reset_offsets")]
    pub reset_offsets: bool,
    /// Re-centre re-extracted particles on their refined origins (rlnOriginX/YAngst).
    #[arg(long = "recenter")]
    pub recenter: bool,
    /// Extract all particles from the micrographs (required: the only operation).
    #[arg(long = "extract")]
    pub extract: bool,
    /// Box extracted from the micrograph, px.
    #[arg(long = "extract_size", value_name = "px")]
    pub extract_size: usize,
    /// Re-scale the particles to this size, px (−1: no rescaling).
    #[arg(long = "scale", value_name = "px", default_value_t = -1, allow_negative_numbers = true)]
    pub scale: i64,
    /// Re-window the particles to this size, px (−1: no re-windowing).
    #[arg(long = "window", value_name = "px", default_value_t = -1, allow_negative_numbers = true)]
    pub window: i64,
    /// Normalise the background to mean 0 and stddev 1.
    #[arg(long = "norm")]
    pub norm: bool,
    /// Subtract only the background mean in the normalisation (no fitted ramp).
    #[arg(long = "no_ramp")]
    pub no_ramp: bool,
    /// Radius of the background circle, px of the final box (needed with --norm).
    #[arg(long = "bg_radius", value_name = "px", default_value_t = -1.0, allow_negative_numbers = true)]
    pub bg_radius: f64,
    /// Sigma above which white dust is removed (negative: no removal).
    #[arg(long = "white_dust", value_name = "σ", default_value_t = -1.0, allow_negative_numbers = true)]
    pub white_dust: f64,
    /// Sigma above which black dust is removed (negative: no removal).
    #[arg(long = "black_dust", value_name = "σ", default_value_t = -1.0, allow_negative_numbers = true)]
    pub black_dust: f64,
    /// Invert the contrast of the particles.
    #[arg(long = "invert_contrast")]
    pub invert_contrast: bool,
    /// Added to every X coordinate, px.
    #[arg(
        long = "extract_bias_x",
        value_name = "px",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub extract_bias_x: i64,
    /// Added to every Y coordinate, px.
    #[arg(
        long = "extract_bias_y",
        value_name = "px",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub extract_bias_y: i64,
    /// Only extract micrographs whose _extract.star does not exist yet.
    #[arg(long = "only_do_unfinished")]
    pub only_do_unfinished: bool,
    /// Write particle stacks as float16 (MRC mode 12), like RELION 4.
    #[arg(long = "float16")]
    pub float16: bool,
    /// Worker threads (results do not depend on it).
    #[arg(long = "j", visible_alias = "threads", default_value_t = 1, value_parser = cryoflux_jobkit::threads::worker_threads)]
    pub threads: usize,
}

/// RELION's −1-means-off convention for a size in px.
fn positive_size(value: i64) -> Option<usize> {
    (value > 0).then_some(value as usize)
}

/// RELION's negative-means-off convention for a radius or threshold.
fn positive(value: f64) -> Option<f64> {
    (value > 0.0).then_some(value)
}

impl ExtractArgs {
    /// The extraction the flags ask for.
    fn settings(&self) -> anyhow::Result<Settings> {
        ensure!(self.extract, "nothing to do: give --extract");
        Ok(Settings {
            coord_dir: (self.coord_dir != "ASINPUT").then(|| PathBuf::from(&self.coord_dir)),
            part_dir: self.part_dir.clone(),
            reextract_data_star: self.reextract_data_star.clone(),
            recenter: self.recenter,
            reset_offsets: self.reset_offsets,
            keep_ctfs_micrographs: self.keep_ctfs_micrographs,
            scale: positive_size(self.scale),
            window: positive_size(self.window),
            norm: self.norm,
            no_ramp: self.no_ramp,
            bg_radius: positive(self.bg_radius),
            white_dust: positive(self.white_dust),
            black_dust: positive(self.black_dust),
            invert_contrast: self.invert_contrast,
            extract_bias_x: self.extract_bias_x,
            extract_bias_y: self.extract_bias_y,
            only_do_unfinished: self.only_do_unfinished,
            float16: self.float16,
            j: self.threads,
            ..Settings::new(
                self.input.clone(),
                &self.coord_suffix,
                self.part_star.clone(),
                self.extract_size,
            )
        })
    }
}

impl ExtractArgs {
    /// What the job reads and writes (`--part_star` and its Parquet copy); its directory is
    /// `--part_star`'s.
    pub fn files(&self) -> JobFiles {
        JobFiles::beside(&self.part_star)
            .input("--i", &self.input)
            .optional_input("--reextract_data_star", self.reextract_data_star.as_deref())
            .output("--part_star", &self.part_star)
            .output("--part_star", self.part_star.with_extension("parquet"))
    }
}

/// Extracts and logs what was written.
pub fn run(args: &ExtractArgs) -> anyhow::Result<()> {
    let summary = extract(&args.settings()?)?;
    tracing::info!(
        "extracted {} particles ({} px, {} Å/px) from {} micrographs ({} reused, {} failed, {} \
         particles skipped) → {} and {}",
        summary.particles,
        summary.image_size,
        summary.pixel_size,
        summary.micrographs,
        summary.reused_micrographs,
        summary.failed_micrographs,
        summary.skipped_particles,
        summary.part_star.display(),
        summary.parquet.display()
    );
    Ok(())
}
