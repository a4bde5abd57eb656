//! The flags of `cryoflux motioncorr`: `relion_run_motioncorr`'s names, units and defaults.

use std::path::PathBuf;

/// A motion-correction run.
#[derive(Debug, Clone, PartialEq)]
pub struct MotionCorrSettings {
    /// `--i`: movies STAR file (`data_optics` + `data_movies`, as an import writes it).
    pub input: PathBuf,
    /// `--o`: output directory (e.g. `MotionCorr/job002/`).
    pub output_dir: PathBuf,
    /// `--first_frame_sum`: first frame summed and aligned, 1-based (default 1).
    pub first_frame_sum: usize,
    /// `--last_frame_sum`: last frame, 1-based; ≤ 0 means the last frame of the movie.
    pub last_frame_sum: i64,
    /// `--bin_factor`: binning of the output micrograph (may be non-integer; default 1).
    pub bin_factor: f64,
    /// `--bfactor`: B-factor of the alignment envelope in px² of the unbinned movie (150).
    pub bfactor: f64,
    /// `--gainref`: gain reference (MRC or TIFF) the raw frames are multiplied by.
    pub gainref: Option<PathBuf>,
    /// `--gain_rot`: rotate the gain reference this many times 90° clockwise (0–3).
    pub gain_rot: i64,
    /// `--gain_flip`: 0 none, 1 flip Y (upside down), 2 flip X (left to right).
    pub gain_flip: i64,
    /// `--defect_file`: MotionCor2 defect file (`x y w h` per line) or defect map (MRC/TIFF,
    /// nonzero = bad).
    pub defect_file: Option<PathBuf>,
    /// `--patch_x`: patches across for local alignment (local alignment when both > 2).
    pub patch_x: usize,
    /// `--patch_y`: patches down.
    pub patch_y: usize,
    /// `--group_frames`: frames averaged per group before local alignment (default 1).
    pub group_frames: usize,
    /// `--dose_weighting`: write the dose-weighted sum.
    pub dose_weighting: bool,
    /// `--angpix`: pixel size in Å for dose weighting; ≤ 0 takes the optics table's
    /// `rlnMicrographOriginalPixelSize`.
    pub angpix: f64,
    /// `--voltage` in kV for dose weighting; ≤ 0 takes the optics table's `rlnVoltage`.
    pub voltage: f64,
    /// `--dose_per_frame` in e/Å² (default 1).
    pub dose_per_frame: f64,
    /// `--preexposure` in e/Å² (default 0).
    pub preexposure: f64,
    /// `--skip_defect`: no hot-pixel detection (and, as in RELION, no defect file).
    pub skip_defect: bool,
    /// `--save_noDW`: also write the sum without dose weighting (`_noDW.mrc`).
    pub save_nodw: bool,
    /// `--max_iter`: alignment iterations (default 5).
    pub max_iter: usize,
    /// `--ccf_downsample`: cross-correlation grid as a fraction of the frame, 0 = automatic.
    pub ccf_downsample: f64,
    /// `--early_binning` (default on when binning): bin the frames before aligning.
    pub early_binning: bool,
    /// `--dose_motionstats_cutoff` in e/Å² (default 4): early/late split of the accumulated
    /// motion.
    pub dose_motionstats_cutoff: f64,
    /// `--float16`: write micrographs as 16-bit floats (MRC mode 12), as RELION 4.
    pub float16: bool,
    /// `--only_do_unfinished`: skip movies whose micrograph and metadata already exist.
    pub only_do_unfinished: bool,
    /// `--j`: worker threads, one movie each at a time (default: all cores).
    pub threads: usize,
    /// Seed of the random replacement of bad pixels.
    pub seed: u64,
}

impl MotionCorrSettings {
    /// RELION's defaults for `input` → `output_dir` (no gain, whole movie, global alignment
    /// only, no dose weighting).
    pub fn new(input: PathBuf, output_dir: PathBuf) -> Self {
        Self {
            input,
            output_dir,
            first_frame_sum: 1,
            last_frame_sum: -1,
            bin_factor: 1.0,
            bfactor: 150.0,
            gainref: None,
            gain_rot: 0,
            gain_flip: 0,
            defect_file: None,
            patch_x: 1,
            patch_y: 1,
            group_frames: 1,
            dose_weighting: false,
            angpix: -1.0,
            voltage: -1.0,
            dose_per_frame: 1.0,
            preexposure: 0.0,
            skip_defect: false,
            save_nodw: false,
            max_iter: 5,
            ccf_downsample: 0.0,
            early_binning: true,
            dose_motionstats_cutoff: 4.0,
            float16: false,
            only_do_unfinished: false,
            threads: 1,
            seed: 1,
        }
    }

    /// Whether local (patch) alignment runs: both patch counts above 2, as in RELION.
    pub fn local_alignment(&self) -> bool {
        self.patch_x > 2 && self.patch_y > 2
    }
}
