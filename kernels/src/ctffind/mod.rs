//! CTF estimation from micrographs, the job RELION's CtfFind runs through CTFFIND-4.1
//! (Rohou & Grigorieff 2015, J. Struct. Biol. 192:216), written from the paper.
//!
//! The pipeline, one module per step:
//! 1. [`spectrum`]: the average power spectrum of overlapping `box`-pixel tiles of a micrograph
//!    (or the mean of power spectra already computed, e.g. of movie frame groups), as a centred
//!    `box × box` [`Plane`](crate::grid::Plane).
//! 2. [`background`]: the amplitude spectrum (√power) minus a smooth radial background, kept
//!    from the low-resolution limit out to Nyquist ([`BandSpectrum`]).
//! 3. [`fit`]: a 1D exhaustive defocus search on the rotational average, a coarse 2D search of
//!    astigmatism, then Nelder–Mead ([`simplex`]) refinement of defocus U, V, angle (and phase
//!    shift) maximising the normalised cross-correlation with CTF² over the fitted band, with
//!    CTFFIND's Gaussian restraint on astigmatism.
//! 4. [`profile`]: the 1D equiphase average, fitted CTF² and per-frequency fit quality, and the
//!    fit resolution where that quality first drops below 0.75 (CTFFIND's criterion).
//! 5. [`diagnostic`]: CTFFIND's diagnostic image (spectrum beside the fitted CTF²).
//!
//! Every CTF value comes from [`crate::fourier::ctf::Ctf`], so estimated values mean exactly
//! what `rlnDefocusU`, `rlnDefocusV`, `rlnDefocusAngle` and `rlnPhaseShift` mean: defocus in Å,
//! positive = underfocus, U ≥ V, angle in degrees from x wrapped to (−90°, 90°] (CTFFIND's
//! convention, which RELION copies), phase shift in degrees.

pub mod background;
pub mod diagnostic;
pub mod fit;
pub mod profile;
pub mod settings;
pub mod simplex;
pub mod spectrum;
#[cfg(test)]
pub(crate) mod testkit;

pub use background::BandSpectrum;
pub use diagnostic::diagnostic_image;
pub use fit::{CtfEstimate, estimate_ctf};
pub use profile::FitProfile;
pub use settings::{CtfFindSettings, Microscope, PhaseShiftSearch};
pub use spectrum::{averaged_power_spectrum, mean_power_spectrum};

use crate::grid::GridError;

/// Why a CTF estimation could not run: every variant names the input or setting at fault and
/// what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CtfFindError {
    /// The micrograph is smaller than one spectrum tile.
    #[error(
        "micrograph of {width} × {height} px is smaller than the {box_size}-px spectrum box \
         (expected both sizes ≥ the box)"
    )]
    MicrographTooSmall {
        /// Micrograph width in pixels.
        width: usize,
        /// Micrograph height in pixels.
        height: usize,
        /// Spectrum box size in pixels.
        box_size: usize,
    },
    /// A micrograph or spectrum sample is NaN or infinite.
    #[error("{what}: sample {index} is {value} (expected finite values)")]
    NotFinite {
        /// Which input.
        what: &'static str,
        /// Row-major index of the first bad sample.
        index: usize,
        /// The value found.
        value: f32,
    },
    /// A setting outside its valid range.
    #[error("CTF estimation setting {what} = {value} is out of range (expected {expected})")]
    BadSetting {
        /// The setting's name with its unit.
        what: &'static str,
        /// The value found.
        value: f64,
        /// The valid range, in words.
        expected: &'static str,
    },
    /// The resolution band holds too few Fourier pixels to fit.
    #[error(
        "the band {min_resolution} Å … {max_resolution} Å holds {pixels} Fourier pixels of a \
         {box_size}-px box at {pixel_size} Å/px (expected at least {needed}); widen the band or \
         enlarge the box"
    )]
    EmptyBand {
        /// Low-resolution limit in Å.
        min_resolution: f64,
        /// High-resolution limit in Å.
        max_resolution: f64,
        /// Spectrum box in pixels.
        box_size: usize,
        /// Pixel size in Å.
        pixel_size: f64,
        /// Fourier pixels found in the band.
        pixels: usize,
        /// The minimum needed.
        needed: usize,
    },
    /// Bad grid shapes or CTF parameters.
    #[error(transparent)]
    Grid(#[from] GridError),
}
