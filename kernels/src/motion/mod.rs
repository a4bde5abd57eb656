//! Motion correction of movies: the numerics of RELION 3.1.3's own implementation
//! (`relion_run_motioncorr --use_own`). Shifts are in movie pixels (px), B-factors in px²,
//! doses in e/Å², coordinates in px with the origin at pixel (0, 0).
//!
//! - [`gain`]: gain reference orientation (`--gain_rot`, `--gain_flip`) and application.
//! - [`defects`]: defect files and maps, hot-pixel detection, bad-pixel replacement.
//! - [`binning`]: Fourier binning (`--bin_factor`).
//! - [`align`]: global alignment of a frame stack (per-frame shifts that align onto frame 0).
//! - [`patches`]: the same alignment on a grid of patches, giving local shift observations.
//! - [`polynomial`]: RELION's third-order polynomial local motion model and its fit.
//! - [`frames`]: shifting and summing frames, globally (Fourier) or by a local field (real
//!   space).
//! - [`dose`]: dose weighting by the critical exposure.
//! - [`statistics`]: accumulated motion (total, early, late) from the global shifts.

pub mod align;
pub mod binning;
pub mod defects;
pub mod dose;
pub mod frames;
pub mod gain;
pub mod patches;
pub mod polynomial;
pub mod statistics;
#[cfg(test)]
mod test_movie;
