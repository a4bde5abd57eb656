//! What a post-processing run is asked to do, in physical units (Å, Å², Fourier shells), with
//! `relion_postprocess`'s defaults.

use cryoflux_kernels::resolution::sharpening::Mtf;

/// Where the B-factor used for sharpening comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum BfactorChoice {
    /// Fit a line to the Guinier plot of the FSC-weighted map between `lowest` and `highest`
    /// resolution (Å); B = 4 · slope. `highest` 0 sets no high-resolution limit: the fit then
    /// runs to where FSC weighting zeroes the map (as RELION does).
    Auto {
        /// Lowest resolution included, Å (RELION's `--autob_lowres`, 10).
        lowest: f64,
        /// Highest resolution included, Å (RELION's `--autob_highres`, 0).
        highest: f64,
    },
    /// Use this B-factor (Å²; negative sharpens, 0 leaves the map unsharpened).
    AdHoc(f64),
}

/// The final low-pass filter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LowPass {
    /// No low-pass filter (RELION's default: FSC weighting already damps the noise).
    Off,
    /// At the final (FSC 0.143) resolution.
    AtFinalResolution,
    /// At this resolution, Å.
    At(f64),
}

/// Everything a post-processing run needs besides the maps.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Randomise phases from the first shell where the unmasked FSC drops below this value.
    pub randomise_at_fsc: f64,
    /// Randomise phases from this resolution (Å) instead, if given.
    pub randomise_at_angstrom: Option<f64>,
    /// Keep the masked, corrected FSC even where the unmasked one reaches further.
    pub force_mask: bool,
    /// How the sharpening B-factor is chosen.
    pub bfactor: BfactorChoice,
    /// Weight each shell by √(2·FSC/(1 + FSC)) before sharpening.
    pub fsc_weighting: bool,
    /// The final low-pass filter.
    pub low_pass: LowPass,
    /// Width of the low-pass filter's raised-cosine edge, in Fourier shells.
    pub filter_edge_width: f64,
    /// Detector MTF to divide out, with frequencies already in Å⁻¹ of the map.
    pub mtf: Option<Mtf>,
    /// Seed of the phase randomisation (the same seed gives the same curves).
    pub seed: u64,
}

impl Default for Settings {
    /// `relion_postprocess --auto_bfac` with its defaults.
    fn default() -> Self {
        Settings {
            randomise_at_fsc: 0.8,
            randomise_at_angstrom: None,
            force_mask: false,
            bfactor: BfactorChoice::Auto {
                lowest: 10.0,
                highest: 0.0,
            },
            fsc_weighting: true,
            low_pass: LowPass::Off,
            filter_edge_width: 2.0,
            mtf: None,
            seed: 0,
        }
    }
}
