//! `cryoflux mask`: soft solvent masks, like `relion_mask_create` (see [`cryoflux_tools::mask`]).
//!

use std::path::PathBuf;

use cryoflux_jobkit::job_directory::JobFiles;
use cryoflux_tools::mask::MaskSettings;

/// Arguments of `cryoflux mask`.
#[derive(Debug, clap::Args)]
pub struct MaskArgs {
    /// Map to threshold (or whose box and pixel size a sphere mask takes).
    #[arg(long = "i", visible_alias = "input", value_name = "FILE.mrc")]
    pub input: Option<PathBuf>,
    /// Output mask (MRC, float32, values in [0, 1]).
    #[arg(long = "o", visible_alias = "output", value_name = "FILE.mrc")]
    pub output: PathBuf,
    /// Threshold of the initial binary mask (map units).
    #[arg(
        long = "ini_threshold",
        default_value_t = 0.01,
        allow_negative_numbers = true
    )]
    pub ini_threshold: f64,
    /// Grow the binary mask by this many pixels (negative: shrink).
    #[arg(
        long = "extend_inimask",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub extend_inimask: f64,
    /// Width in pixels of the raised-cosine soft edge added outside the binary mask.
    #[arg(long = "width_soft_edge", default_value_t = 0.0)]
    pub width_soft_edge: f64,
    /// Low-pass filter the map to this resolution in Å before thresholding.
    #[arg(long, value_name = "Å")]
    pub lowpass: Option<f64>,
    /// Pixel size in Å (overrides the map header; sets the sphere mask's header).
    #[arg(long, value_name = "Å")]
    pub angpix: Option<f64>,
    /// Make a soft sphere of this radius in pixels instead of thresholding a map.
    #[arg(long = "sphere_radius", alias = "outer_radius", value_name = "PIXELS")]
    pub sphere_radius: Option<f64>,
    /// Box of the sphere mask in pixels when there is no --i map.
    #[arg(long = "box", alias = "box_size", value_name = "PIXELS")]
    pub box_size: Option<usize>,
    /// Invert the final mask (1 − mask).
    #[arg(long)]
    pub invert: bool,
}

impl MaskArgs {
    /// The mask the flags ask for.
    fn settings(&self) -> MaskSettings {
        MaskSettings {
            input: self.input.clone(),
            output: self.output.clone(),
            ini_threshold: self.ini_threshold,
            extend_inimask: self.extend_inimask,
            width_soft_edge: self.width_soft_edge,
            lowpass: self.lowpass,
            angpix: self.angpix,
            sphere_radius: self.sphere_radius,
            box_size: self.box_size,
            invert: self.invert,
        }
    }
}

impl MaskArgs {
    /// What the job reads and writes; its directory is the output's.
    pub fn files(&self) -> JobFiles {
        JobFiles::beside(&self.output)
            .optional_input("--i", self.input.as_deref())
            .output("--o", &self.output)
    }
}

/// Builds the mask and writes it atomically.
pub fn run(args: &MaskArgs) -> anyhow::Result<()> {
    cryoflux_tools::mask::run(&args.settings())
}
