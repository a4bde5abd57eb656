//! Bar charts: one filled bar per x interval (histograms, or one value per iteration), and the
//! binning of values into a histogram ([`histogram`]).

use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{Axes, padded_span};
use super::render::{Plot, drawing_error};

/// One bar: its x interval and its height.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Interval the bar covers on the x axis (x-axis unit).
    pub range: Range<f64>,
    /// Height (y-axis unit: a count for histograms).
    pub value: f64,
}

/// A chart of bars of one colour.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// Title and axis descriptions.
    pub axes: Axes,
    /// The bars, in any order.
    pub bars: Vec<Bar>,
    /// Fill colour.
    pub colour: RGBColor,
}

impl Plot for BarChart {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        let finite = || {
            self.bars
                .iter()
                .filter(|b| b.value.is_finite() && b.range.start.is_finite())
        };
        let x = padded_span(finite().flat_map(|b| [b.range.start, b.range.end]));
        let top = finite().map(|b| b.value).fold(0.0, f64::max);
        let y = 0.0..if top > 0.0 { 1.08 * top } else { 1.0 };
        let mut chart = self.axes.draw(area, x, y)?;
        chart
            .draw_series(finite().map(|b| {
                Rectangle::new(
                    [(b.range.start, 0.0), (b.range.end, b.value)],
                    self.colour.filled(),
                )
            }))
            .map_err(drawing_error)?;
        Ok(())
    }
}

/// Counts of the finite `values` in `bins` equal intervals of `range` (a value equal to
/// `range.end` counts in the last bin; values outside the range are left out). No bins for an
/// empty or reversed range or `bins == 0`.
pub fn histogram(values: &[f64], bins: usize, range: Range<f64>) -> Vec<Bar> {
    let width = (range.end - range.start) / bins as f64;
    if bins == 0 || !width.is_finite() || width <= 0.0 {
        return Vec::new();
    }
    let mut counts = vec![0usize; bins];
    for &v in values {
        if v.is_finite() && (range.contains(&v) || v == range.end) {
            let bin = (((v - range.start) / width) as usize).min(bins - 1);
            counts[bin] += 1;
        }
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| Bar {
            range: range.start + i as f64 * width..range.start + (i + 1) as f64 * width,
            value: count as f64,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_counts_each_value_once_with_the_end_in_the_last_bin() {
        let values = [0.0, 0.5, 1.0, 1.5, 2.0, 2.0, -0.1, 2.1, f64::NAN];
        let bars = histogram(&values, 4, 0.0..2.0);
        let counts: Vec<f64> = bars.iter().map(|b| b.value).collect();
        assert_eq!(counts, vec![1.0, 1.0, 1.0, 3.0]);
        assert_eq!(bars[1].range, 0.5..1.0);
        assert!(histogram(&values, 0, 0.0..2.0).is_empty());
        assert!(histogram(&values, 3, 1.0..1.0).is_empty());
    }

    #[test]
    fn bars_are_drawn_as_filled_rectangles() {
        let chart = BarChart {
            axes: Axes::new("counts", "x (Å)", "particles"),
            bars: histogram(&[0.2, 0.7, 0.8], 2, 0.0..1.0),
            colour: BLUE,
        };
        let svg = chart.to_svg().unwrap();
        assert_eq!(
            svg.matches("<rect").count() - 1,
            2,
            "background and two bars"
        );
        assert!(svg.contains("particles"));
    }
}
