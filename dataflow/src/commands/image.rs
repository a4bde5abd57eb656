//! `cryoflux image`: everyday map and image operations, like `relion_image_handler` (see
//! [`cryoflux_tools::image`]).
//!

use std::path::PathBuf;

use cryoflux_jobkit::job_directory::JobFiles;
use cryoflux_tools::image::ImageSettings;

/// Arguments of `cryoflux image`.
#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    /// Input map (.mrc), image, or stack of images (.mrcs).
    #[arg(long = "i", visible_alias = "input", value_name = "FILE")]
    pub input: PathBuf,
    /// Output file (needed for any operation that changes the data).
    #[arg(long = "o", visible_alias = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Pixel size of the input in Å, overriding its header.
    #[arg(long, value_name = "Å")]
    pub angpix: Option<f64>,
    /// Resample (Fourier crop or pad) to about this pixel size in Å; the new box is
    /// round(N·p/A) made even, and the exact new pixel size N·p/new box.
    #[arg(long = "rescale_angpix", value_name = "Å")]
    pub rescale_angpix: Option<f64>,
    /// Crop or pad (with zeros) to this box in real space, keeping the centre.
    #[arg(long = "new_box", value_name = "PIXELS")]
    pub new_box: Option<usize>,
    /// Low-pass filter to this resolution in Å (raised-cosine edge).
    #[arg(long, value_name = "Å")]
    pub lowpass: Option<f64>,
    /// High-pass filter from this resolution in Å (raised-cosine edge).
    #[arg(long, value_name = "Å")]
    pub highpass: Option<f64>,
    /// Width of the filters' raised-cosine edge in Fourier shells.
    #[arg(long = "filter_edge_width", default_value_t = 2.0)]
    pub filter_edge_width: f64,
    /// Apply this B-factor in Å²: amplitudes × exp(−B·s²/4); negative sharpens.
    #[arg(long, value_name = "Å²", allow_negative_numbers = true)]
    pub bfactor: Option<f64>,
    /// Print mean, standard deviation, minimum and maximum of the input (per image of a stack).
    #[arg(long)]
    pub stats: bool,
    /// Print the Fourier shell correlation between the input and this map or image.
    #[arg(long, value_name = "FILE")]
    pub fsc: Option<PathBuf>,
}

impl ImageArgs {
    /// What the flags ask for.
    fn settings(&self) -> ImageSettings {
        ImageSettings {
            input: self.input.clone(),
            output: self.output.clone(),
            angpix: self.angpix,
            rescale_angpix: self.rescale_angpix,
            new_box: self.new_box,
            lowpass: self.lowpass,
            highpass: self.highpass,
            filter_edge_width: self.filter_edge_width,
            bfactor: self.bfactor,
            stats: self.stats,
            fsc: self.fsc.clone(),
        }
    }
}

impl ImageArgs {
    /// What the job reads and writes; its directory is the output's (none when it only
    /// prints).
    pub fn files(&self) -> JobFiles {
        let files = match &self.output {
            Some(output) => JobFiles::beside(output).output("--o", output),
            None => JobFiles::without_directory(),
        };
        files
            .input("--i", &self.input)
            .optional_input("--fsc", self.fsc.as_deref())
    }
}

/// Processes the file and prints what was asked for.
pub fn run(args: &ImageArgs) -> anyhow::Result<()> {
    print!("{}", cryoflux_tools::image::run(&args.settings())?);
    Ok(())
}
