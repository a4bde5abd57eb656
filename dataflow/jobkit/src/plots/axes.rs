//! Title, axis descriptions and tick style shared by every chart, and the plotters set-up that
//! draws them: title above, light grid, labelled axes.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::render::drawing_error;

/// A chart's cartesian drawing context with f64 axes.
pub(crate) type Cartesian<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Most tick labels on an integer axis (iterations); more would crowd.
const MAX_INTEGER_TICKS: usize = 12;

/// What a chart's title and axes say.
#[derive(Debug, Clone, PartialEq)]
pub struct Axes {
    /// Caption above the plot.
    pub title: String,
    /// X-axis description (with its unit).
    pub x_label: String,
    /// Y-axis description (with its unit).
    pub y_label: String,
    /// The x axis counts something (iterations): ticks at whole numbers only.
    pub integer_x: bool,
    /// The y axis counts something (particles): tick labels without decimals.
    pub integer_y: bool,
}

impl Axes {
    /// Axes with continuous x.
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            integer_x: false,
            integer_y: false,
        }
    }

    /// The same axes with ticks at whole x values only.
    pub fn with_integer_x(self) -> Self {
        Self {
            integer_x: true,
            ..self
        }
    }

    /// The same axes with y tick labels written without decimals (use for counts, whose
    /// ticks plotters places at whole numbers once the range exceeds a few units).
    pub fn with_integer_y(self) -> Self {
        Self {
            integer_y: true,
            ..self
        }
    }

    /// Draws the title on `area`, then the axes and grid over `x` × `y` below it, and returns
    /// the context to draw data in.
    pub(crate) fn draw<'a, DB: DrawingBackend>(
        &self,
        area: &'a DrawingArea<DB, Shift>,
        x: Range<f64>,
        y: Range<f64>,
    ) -> anyhow::Result<Cartesian<'a, DB>> {
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(x.clone(), y.clone())
            .map_err(drawing_error)?;
        let whole = |v: &f64| format!("{v:.0}");
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style(("sans-serif", 16))
            .axis_desc_style(("sans-serif", 18))
            .light_line_style(RGBColor(235, 235, 235));
        if self.integer_x {
            mesh.x_labels(integer_ticks(&x)).x_label_formatter(&whole);
        }
        if self.integer_y {
            mesh.y_labels(integer_ticks(&y)).y_label_formatter(&whole);
        }
        mesh.draw().map_err(drawing_error)?;
        Ok(chart)
    }
}

/// How many ticks to ask plotters for on an integer axis over `x` so that it picks a step of
/// at least 1 (plotters takes the finest 1-2-5 step giving at most that many ticks).
fn integer_ticks(x: &Range<f64>) -> usize {
    let whole_numbers = (x.end.floor() - x.start.ceil()).max(0.0) as usize + 1;
    whole_numbers.clamp(2, MAX_INTEGER_TICKS)
}

/// A range covering `values` with a 4 % margin each side (a unit span around a single value,
/// 0 … 1 when there is none).
pub(crate) fn padded_span(values: impl Iterator<Item = f64>) -> Range<f64> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !(lo.is_finite() && hi.is_finite()) {
        0.0..1.0
    } else if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        lo - 0.5..hi + 0.5
    } else {
        let pad = 0.04 * (hi - lo);
        lo - pad..hi + pad
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_axes_ask_for_at_most_one_tick_per_whole_number() {
        assert_eq!(integer_ticks(&(0.6..3.4)), 3);
        assert_eq!(integer_ticks(&(0.5..0.9)), 2);
        assert_eq!(integer_ticks(&(-1.0..100.0)), MAX_INTEGER_TICKS);
    }

    #[test]
    fn spans_pad_and_survive_degenerate_input() {
        let span = padded_span([0.0, 10.0, f64::NAN].into_iter());
        assert!((span.start + 0.4).abs() < 1e-12 && (span.end - 10.4).abs() < 1e-12);
        assert_eq!(padded_span([2.0].into_iter()), 1.5..2.5);
        assert_eq!(padded_span(std::iter::empty()), 0.0..1.0);
    }
}
