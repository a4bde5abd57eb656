//! `cryoflux motioncorr`: motion correction of movies like `relion_run_motioncorr --use_own`
//! (see [`cryoflux_motioncorr`]).

use std::path::PathBuf;

use cryoflux_jobkit::job_directory::JobFiles;
use cryoflux_motioncorr::run::run as run_motioncorr;
use cryoflux_motioncorr::settings::MotionCorrSettings;

/// Arguments of `cryoflux motioncorr` (relion_run_motioncorr's names, units and defaults).
#[derive(Debug, clap::Args)]
pub struct MotionCorrArgs {
    /// STAR file with the movies (data_optics + data_movies, as `cryoflux import` writes it).
    #[arg(long = "i", visible_alias = "input", value_name = "movies.star")]
    pub input: PathBuf,
    /// Output directory, e.g. MotionCorr/job002/.
    #[arg(long = "o", visible_alias = "output", value_name = "DIR")]
    pub output: PathBuf,
    /// First movie frame used in the output sum (1-based).
    #[arg(long = "first_frame_sum", default_value_t = 1)]
    pub first_frame_sum: usize,
    /// Last movie frame used in the output sum (0 or negative: all).
    #[arg(long = "last_frame_sum", default_value_t = -1, allow_negative_numbers = true)]
    pub last_frame_sum: i64,
    /// Binning factor (can be non-integer).
    #[arg(long = "bin_factor", default_value_t = 1.0)]
    pub bin_factor: f64,
    /// B-factor (px²) of the alignment envelope.
    #[arg(long, value_name = "px²", default_value_t = 150.0)]
    pub bfactor: f64,
    /// Gain reference (MRC or TIFF) the frames are multiplied by.
    #[arg(long, value_name = "FILE")]
    pub gainref: Option<PathBuf>,
    /// Rotate the gain reference this number of times 90° clockwise (as shown in relion_display).
    #[arg(long = "gain_rot", default_value_t = 0)]
    pub gain_rot: i64,
    /// Flip the gain reference: 0 no, 1 flip Y (upside down), 2 flip X (left to right).
    #[arg(long = "gain_flip", default_value_t = 0)]
    pub gain_flip: i64,
    /// MotionCor2-style defect file (x y w h per line) or defect map (1 = bad).
    #[arg(long = "defect_file", value_name = "FILE")]
    pub defect_file: Option<PathBuf>,
    /// Patches in X for local alignment (local alignment when both > 2).
    #[arg(long = "patch_x", default_value_t = 1)]
    pub patch_x: usize,
    /// Patches in Y.
    #[arg(long = "patch_y", default_value_t = 1)]
    pub patch_y: usize,
    /// Average this many frames before calculating local shifts.
    #[arg(long = "group_frames", default_value_t = 1)]
    pub group_frames: usize,
    /// Write the dose-weighted sum.
    #[arg(long = "dose_weighting")]
    pub dose_weighting: bool,
    /// Pixel size in Å (≤ 0: the optics table's rlnMicrographOriginalPixelSize).
    #[arg(long, value_name = "Å", default_value_t = -1.0, allow_negative_numbers = true)]
    pub angpix: f64,
    /// Voltage in kV for dose weighting (≤ 0: the optics table's rlnVoltage).
    #[arg(long, value_name = "kV", default_value_t = -1.0, allow_negative_numbers = true)]
    pub voltage: f64,
    /// Electron dose per frame in e/Å².
    #[arg(long = "dose_per_frame", value_name = "e/Å²", default_value_t = 1.0)]
    pub dose_per_frame: f64,
    /// Pre-exposure in e/Å².
    #[arg(long, value_name = "e/Å²", default_value_t = 0.0)]
    pub preexposure: f64,
    /// Skip hot pixel detection (and the defect file).
    #[arg(long = "skip_defect")]
    pub skip_defect: bool,
    /// Also save the aligned sum without dose weighting (_noDW.mrc).
    #[arg(long = "save_noDW")]
    pub save_nodw: bool,
    /// Maximum number of alignment iterations.
    #[arg(long = "max_iter", default_value_t = 5)]
    pub max_iter: usize,
    /// Size of the cross-correlation grid as a fraction of the frame (0: automatic from the
    /// B-factor).
    #[arg(long = "ccf_downsample", default_value_t = 0.0)]
    pub ccf_downsample: f64,
    /// Bin before aligning (the default when --bin_factor > 1).
    #[arg(long = "early_binning")]
    pub early_binning: bool,
    /// Bin only the final sum.
    #[arg(long = "no_early_binning", conflicts_with = "early_binning")]
    pub no_early_binning: bool,
    /// Dose (e/Å²) splitting early from late accumulated motion.
    #[arg(long = "dose_motionstats_cutoff", default_value_t = 4.0)]
    pub dose_motionstats_cutoff: f64,
    /// Write micrographs as 16-bit floats (MRC mode 12).
    #[arg(long)]
    pub float16: bool,
    /// Only correct movies whose micrograph and metadata do not exist yet.
    #[arg(long = "only_do_unfinished")]
    pub only_do_unfinished: bool,
    /// Worker threads, one movie each at a time (default: all cores); results do not depend on
    /// it.
    #[arg(long = "j", visible_alias = "threads", value_name = "N", value_parser = cryoflux_jobkit::threads::worker_threads)]
    pub threads: Option<usize>,
    /// Seed of the random replacement of defect pixels.
    #[arg(long, visible_alias = "random_seed", default_value_t = 1)]
    pub seed: u64,
}

impl MotionCorrArgs {
    /// The run the flags ask for.
    fn settings(&self) -> MotionCorrSettings {
        let threads = self.threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        MotionCorrSettings {
            first_frame_sum: self.first_frame_sum,
            last_frame_sum: self.last_frame_sum,
            bin_factor: self.bin_factor,
            bfactor: self.bfactor,
            gainref: self.gainref.clone(),
            gain_rot: self.gain_rot,
            gain_flip: self.gain_flip,
            defect_file: self.defect_file.clone(),
            patch_x: self.patch_x,
            patch_y: self.patch_y,
            group_frames: self.group_frames,
            dose_weighting: self.dose_weighting,
            angpix: self.angpix,
            voltage: self.voltage,
            dose_per_frame: self.dose_per_frame,
            preexposure: self.preexposure,
            skip_defect: self.skip_defect,
            save_nodw: self.save_nodw,
            max_iter: self.max_iter,
            ccf_downsample: self.ccf_downsample,
            early_binning: !self.no_early_binning,
            dose_motionstats_cutoff: self.dose_motionstats_cutoff,
            float16: self.float16,
            only_do_unfinished: self.only_do_unfinished,
            threads,
            seed: self.seed,
            ..MotionCorrSettings::new(self.input.clone(), self.output.clone())
        }
    }
}

impl MotionCorrArgs {
    /// What the job reads and writes; its directory is `--o`.
    pub fn files(&self) -> JobFiles {
        JobFiles::in_directory(&self.output)
            .input("--i", &self.input)
            .optional_input("--gainref", self.gainref.as_deref())
            .optional_input("--defect_file", self.defect_file.as_deref())
            .outputs_in("--o", &self.output, &["corrected_micrographs.star"])
    }
}

/// Corrects the movies and logs one summary line.
pub fn run(args: &MotionCorrArgs) -> anyhow::Result<()> {
    let summary = run_motioncorr(&args.settings())?;
    tracing::info!(
        "corrected {} movies in {:.2} s ({:.0} movies/hour){} → {}",
        summary.corrected,
        summary.seconds,
        summary.corrected as f64 * 3600.0 / summary.seconds,
        if summary.failed.is_empty() {
            String::new()
        } else {
            format!(", {} skipped", summary.failed.len())
        },
        summary.star.display()
    );
    let total: f64 = summary.times.steps().iter().map(|(_, t)| t).sum();
    if total > 0.0 {
        let shares: Vec<String> = summary
            .times
            .steps()
            .iter()
            .map(|(step, t)| format!("{step} {:.0} %", 100.0 * t / total))
            .collect();
        tracing::info!("time per step: {}", shares.join(", "));
    }
    Ok(())
}
