//! Motion correction of movies (RELION's `relion_run_motioncorr --use_own`): frame preparation (gain, defects, hot pixels), shifting, summing, binning and dose weighting; pixels (px), Å and e/Å².

pub mod binning;
pub mod defects;
pub mod dose;
pub mod frames;
pub mod gain;
