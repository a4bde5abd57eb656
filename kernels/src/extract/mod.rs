//! Particle extraction from a micrograph, as `relion_preprocess --extract` in RELION 3.1.3 does
//! it, pixel for pixel (checked side by side against RELION through `cryoflux extract` in `tests/extract.rs`).
//!
//! Units: coordinates and biases in micrograph pixels (`rlnCoordinateX/Y`, x along a row, y
//! along the rows: micrograph row 0 is MRC y = 0); boxes and background radii in pixels of the
//! box they apply to; pixel sizes and origins (`rlnOriginXAngst/YAngst`) in Å.
//!
//! One particle goes through these steps, in RELION's order (each checked against its output):
//! 1. [`particle_box::centre_pixel`]: coordinate + bias, truncated toward zero, is the
//!    micrograph pixel under box pixel (n/2, n/2);
//! 2. [`particle_box::extract_box`]: the `--extract_size` box, pixels beyond the micrograph
//!    edge taking the value of the nearest edge pixel (a box entirely outside is an error, as
//!    in RELION);
//! 3. `--scale` ([`pipeline::rescale`]): Fourier cropping/padding, mean and amplitudes kept,
//!    enlarging also cutting frequencies beyond the old Nyquist circle; pixel size ×
//!    extract_size / scale ([`particle_pixel_size`]);
//! 4. `--window`: real-space crop/zero-pad about pixel n/2
//!    ([`crate::fourier::rescale::window_real`] with fill 0);
//! 5. `--norm` ([`normalise::normalise`]): `--white_dust`/`--black_dust` on the raw box,
//!    then the background ramp (unless `--no_ramp`), then background mean 0 and stddev 1;
//! 6. `--invert_contrast`: multiply by −1 (after normalisation, so dust thresholds apply to
//!    the uninverted image).
//!
//! Re-extraction arithmetic (`--recenter`, `--reset_offsets`) lives in [`recentre`].

pub mod background;
pub mod normalise;
pub mod particle_box;
pub mod pipeline;
pub mod recentre;

pub use normalise::{Normalisation, normalise};
pub use particle_box::{centre_pixel, extract_box};
pub use pipeline::{ExtractSettings, extract_particle, particle_pixel_size, rescale};
pub use recentre::{OffsetHandling, recentre};

use crate::grid::GridError;

/// Why a particle could not be extracted or normalised.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExtractError {
    /// The box does not overlap the micrograph at all (RELION stops with "lies completely
    /// outside micrograph").
    #[error(
        "particle box of {box_size} px centred on micrograph pixel ({}, {}) lies completely \
         outside the {width} × {height} px micrograph (expected the box to overlap it)",
        centre_px[0], centre_px[1]
    )]
    OutsideMicrograph {
        /// The micrograph pixel under the box centre, (x, y) in px.
        centre_px: [i64; 2],
        /// The box size in px.
        box_size: usize,
        /// Micrograph width in px.
        width: usize,
        /// Micrograph height in px.
        height: usize,
    },
    /// No pixel of the box lies outside the background radius.
    #[error(
        "background radius {bg_radius_px} px leaves no background pixel in a {box_size} px box \
         (expected a positive radius below {box_size}/√2 px)"
    )]
    NoBackground {
        /// The background radius in px.
        bg_radius_px: f64,
        /// The box size in px.
        box_size: usize,
    },
    /// The background has zero standard deviation, so it cannot be scaled to stddev 1.
    #[error(
        "background (pixels beyond {bg_radius_px} px) of a {box_size} px box is flat \
         (stddev 0); expected a varying background to normalise"
    )]
    FlatBackground {
        /// The background radius in px.
        bg_radius_px: f64,
        /// The box size in px.
        box_size: usize,
    },
    /// A bad size, pixel size or parameter.
    #[error(transparent)]
    Grid(#[from] GridError),
}
