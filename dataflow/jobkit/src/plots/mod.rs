//! Plots of post-processing and refinement reports, rendered with plotters and the bundled font
//! to SVG and PNG ([`Plot`]): line charts ([`LineChart`], stacked as [`Panels`]), bar charts and
//! histograms ([`BarChart`], [`histogram`]), heat maps ([`HeatMap`]), and the two standard
//! cryo-EM plots built on line charts, FSC curves against spatial frequency ([`fsc_plot`]) and
//! Guinier plots ([`guinier_plot`]).

mod axes;
mod bars;
mod chart;
mod fsc;
mod guinier;
mod heatmap;
mod panels;
mod render;

pub use axes::Axes;
pub use bars::{Bar, BarChart, histogram};
pub use chart::{LineChart, Series};
pub use fsc::{NamedCurve, fsc_plot};
pub use guinier::guinier_plot;
pub use heatmap::{Cell, HeatMap, viridis};
pub use panels::Panels;
pub use render::{CHART_SIZE, Plot};

/// A colour (red, green, blue, 0–255), as the figures take it.
pub use plotters::style::RGBColor;

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
pub const REFERENCE: RGBColor = RGBColor(120, 120, 120);

/// The `i`-th palette colour (cycling): black, green, blue, red, orange, purple.
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}
