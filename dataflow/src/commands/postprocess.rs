//! `cryoflux postprocess`: mask-corrected gold-standard FSC, resolution, B-factor sharpening and
//! EMDB-ready outputs from two half maps, with `relion_postprocess`'s flags. The work is done by
//! [`cryoflux_postprocess`]; this file only maps flags to settings and reports.
//!
//! One difference from RELION: the automatic B-factor is on by default (`--auto_bfac` is
//! accepted and changes nothing); `--adhoc_bfac B` replaces it (`--adhoc_bfac 0`: no
//! sharpening).

use std::path::PathBuf;

use anyhow::Context;

use cryoflux_jobkit::job_directory::JobFiles;
use cryoflux_postprocess::inputs::{other_half, read_half_maps, read_mtf};
use cryoflux_postprocess::outputs::{InputNames, OUTPUT_SUFFIXES, write_all};
use cryoflux_postprocess::postprocess;
use cryoflux_postprocess::settings::{BfactorChoice, LowPass, Settings};

/// Arguments of `cryoflux postprocess` (RELION's names; hyphenated spellings work too).
#[derive(Debug, clap::Args)]
pub struct PostprocessArgs {
    /// Half map 1, e.g. Refine3D/job001/run_half1_class001_unfil.mrc; half map 2 is the same
    /// name with "half2" unless --half2 is given.
    #[arg(long = "i", visible_alias = "half1", value_name = "FILE")]
    pub half1: PathBuf,
    /// Half map 2 (default: --i with "half1" replaced by "half2").
    #[arg(long = "half2", visible_alias = "i2", value_name = "FILE")]
    pub half2: Option<PathBuf>,
    /// Soft solvent mask (values in [0, 1], 1 = particle), e.g. from `cryoflux mask`.
    #[arg(long, value_name = "FILE")]
    pub mask: Option<PathBuf>,
    /// Output root: writes ROOT.mrc, ROOT_masked.mrc, ROOT.star, ROOT_fsc.xml and
    /// ROOT_{fsc,guinier}.{png,svg}.
    #[arg(
        long = "o",
        visible_alias = "out",
        value_name = "ROOT",
        default_value = "postprocess"
    )]
    pub output: PathBuf,
    /// Pixel size in Å (default, or ≤ 0: the half maps' header value).
    #[arg(long, value_name = "Å", allow_hyphen_values = true)]
    pub angpix: Option<f64>,
    /// Detector MTF as a STAR file (rlnResolutionInversePixel, rlnMtfValue) to divide out.
    #[arg(long, value_name = "FILE.star")]
    pub mtf: Option<PathBuf>,
    /// Pixel size of the original micrographs, Å, for --mtf (default: the map's pixel size).
    #[arg(long = "mtf_angpix", value_name = "Å")]
    pub mtf_angpix: Option<f64>,
    /// Fit the B-factor to the Guinier plot (the default; accepted for RELION compatibility).
    #[arg(long = "auto_bfac", conflicts_with = "adhoc_bfac")]
    pub auto_bfac: bool,
    /// Lowest resolution (Å) in the B-factor fit.
    #[arg(long = "autob_lowres", value_name = "Å", default_value_t = 10.0)]
    pub autob_lowres: f64,
    /// Highest resolution (Å) in the B-factor fit; 0: up to where FSC weighting ends.
    #[arg(long = "autob_highres", value_name = "Å", default_value_t = 0.0)]
    pub autob_highres: f64,
    /// Use this B-factor (Å², e.g. -100 to sharpen; 0: none) instead of fitting one.
    #[arg(long = "adhoc_bfac", value_name = "Å²", allow_hyphen_values = true)]
    pub adhoc_bfac: Option<f64>,
    /// Do not weight shells by √(2·FSC/(1 + FSC)) (then consider --low_pass).
    #[arg(long = "skip_fsc_weighting")]
    pub skip_fsc_weighting: bool,
    /// Low-pass the final map at this resolution, Å (0: no low-pass; negative: at the final
    /// resolution).
    #[arg(
        long = "low_pass",
        value_name = "Å",
        default_value_t = 0.0,
        allow_hyphen_values = true
    )]
    pub low_pass: f64,
    /// Width of the low-pass filter's raised-cosine edge, in Fourier shells.
    #[arg(
        long = "filter_edge_width",
        value_name = "SHELLS",
        default_value_t = 2.0
    )]
    pub filter_edge_width: f64,
    /// Randomise phases from the shell where the unmasked FSC drops below this value.
    #[arg(long = "randomize_at_fsc", value_name = "FSC", default_value_t = 0.8)]
    pub randomize_at_fsc: f64,
    /// Randomise phases from this resolution (Å) instead.
    #[arg(long = "randomize_at_A", alias = "randomize_at_a", value_name = "Å")]
    pub randomize_at_angstrom: Option<f64>,
    /// Keep the mask even when the unmasked FSC gives a better resolution.
    #[arg(long = "force_mask")]
    pub force_mask: bool,
    /// Seed of the phase randomisation (same seed, same curves).
    #[arg(long = "random_seed", value_name = "SEED", default_value_t = 0)]
    pub random_seed: u64,
}

impl PostprocessArgs {
    fn settings(&self) -> Settings {
        Settings {
            randomise_at_fsc: self.randomize_at_fsc,
            randomise_at_angstrom: self.randomize_at_angstrom,
            force_mask: self.force_mask,
            bfactor: match self.adhoc_bfac {
                Some(b) => BfactorChoice::AdHoc(b),
                None => BfactorChoice::Auto {
                    lowest: self.autob_lowres,
                    highest: self.autob_highres,
                },
            },
            fsc_weighting: !self.skip_fsc_weighting,
            low_pass: match self.low_pass {
                d if d > 0.0 => LowPass::At(d),
                d if d < 0.0 => LowPass::AtFinalResolution,
                _ => LowPass::Off,
            },
            filter_edge_width: self.filter_edge_width,
            mtf: None,
            seed: self.random_seed,
        }
    }
}

impl PostprocessArgs {
    /// What the job reads (half maps, the derived half-2 partner included) and writes (every
    /// file under the output root); its directory is the root's.
    pub fn files(&self) -> JobFiles {
        let half2 = match &self.half2 {
            Some(path) => Some(("--half2", path.clone())),
            None => other_half(&self.half1)
                .ok()
                .map(|path| ("--i (its half2 partner)", path)),
        };
        let mut files = JobFiles::beside(&self.output)
            .input("--i", &self.half1)
            .optional_input("--mask", self.mask.as_deref())
            .optional_input("--mtf", self.mtf.as_deref());
        if let Some((flag, path)) = half2 {
            files = files.input(flag, path);
        }
        files.outputs_under_root("--o", &self.output, &OUTPUT_SUFFIXES)
    }
}

/// Post-process the half maps and write every output.
pub fn run(args: &PostprocessArgs) -> anyhow::Result<()> {
    let half2 = match &args.half2 {
        Some(path) => path.clone(),
        None => other_half(&args.half1)?,
    };
    let mut warnings = Vec::new();
    let angpix = args.angpix.filter(|&p| p > 0.0);
    let maps = read_half_maps(
        &args.half1,
        &half2,
        args.mask.as_deref(),
        angpix,
        &mut warnings,
    )?;
    let pixel_size = maps.half1().pixel_size();
    let mut settings = args.settings();
    if let Some(path) = &args.mtf {
        let detector_pixel = args.mtf_angpix.unwrap_or(pixel_size);
        settings.mtf = Some(read_mtf(path, detector_pixel)?);
    }

    let result = postprocess(&maps, &settings)?;
    for warning in warnings.iter().chain(&result.warnings) {
        tracing::warn!("{warning}");
    }
    let names = InputNames {
        half1: args.half1.display().to_string(),
        half2: half2.display().to_string(),
        mask: args.mask.as_ref().map(|m| m.display().to_string()),
    };
    let written = write_all(&args.output, &result, &names).context("cannot write the outputs")?;
    for path in &written {
        tracing::debug!("wrote {}", path.display());
    }

    let fsc = &result.fsc;
    let curve = if fsc.uses_mask {
        "mask-corrected"
    } else {
        "unmasked"
    };
    let bfactor = match &result.sharpened.fit {
        Some(fit) => format!(
            "B-factor {:.1} Å² (Guinier fit over {} shells, r² {:.3})",
            result.sharpened.bfactor, fit.points, fit.r_squared
        ),
        None => format!("B-factor {:.1} Å² (given)", result.sharpened.bfactor),
    };
    tracing::info!(
        "final resolution {:.2} Å (FSC 0.143, {curve}), {bfactor}; wrote {}.mrc and {} more \
         files",
        fsc.resolution,
        args.output.display(),
        written.len() - 1
    );
    Ok(())
}
