//! Plots of post-processing (and later of refinement reports): a general line chart
//! ([`chart`]) and the two standard cryo-EM plots built on it, FSC curves against spatial
//! frequency ([`fsc_plot`]) and Guinier plots ([`guinier_plot`]).

pub mod chart;
mod fsc;
mod guinier;

pub use chart::{LineChart, Series};
pub use fsc::{NamedCurve, fsc_plot};
pub use guinier::guinier_plot;

use plotters::style::RGBColor;

/// Colours given to a plot's curves in order: black, green, blue, red, orange, purple.
const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 0, 0),
    RGBColor(0, 150, 0),
    RGBColor(0, 70, 220),
    RGBColor(220, 0, 0),
    RGBColor(230, 140, 0),
    RGBColor(140, 0, 170),
];

/// Colour of reference lines (thresholds, fits).
const REFERENCE: RGBColor = RGBColor(120, 120, 120);

/// The `i`-th palette colour (cycling).
fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}
