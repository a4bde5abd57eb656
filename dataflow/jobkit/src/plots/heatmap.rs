//! Heat maps: rectangular cells coloured by a value on the viridis scale, with a colour bar
//! (e.g. particle counts over viewing directions). Cells with value 0 are drawn light grey, so
//! "none" stands apart from "few".

use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::Axes;
use super::render::{Plot, drawing_error};

/// Width of the colour bar's drawing area, pixels.
const COLOUR_BAR_WIDTH: u32 = 130;
/// Colour of cells whose value is 0.
const EMPTY: RGBColor = RGBColor(235, 235, 235);
/// Viridis (matplotlib's perceptually uniform map) at 0, 1/8, …, 1.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

/// One rectangle of a heat map.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Extent along x (x-axis unit).
    pub x: Range<f64>,
    /// Extent along y (y-axis unit).
    pub y: Range<f64>,
    /// The value its colour shows (≥ 0).
    pub value: f64,
}

/// Cells over fixed axis ranges, coloured from 0 (dark) to the largest value (yellow).
#[derive(Debug, Clone, PartialEq)]
pub struct HeatMap {
    /// Title and axis descriptions.
    pub axes: Axes,
    /// X-axis range.
    pub x_range: Range<f64>,
    /// Y-axis range.
    pub y_range: Range<f64>,
    /// The cells (need not cover the ranges).
    pub cells: Vec<Cell>,
    /// What the colour bar shows (with its unit).
    pub value_label: String,
}

impl Plot for HeatMap {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        let (width, _) = area.dim_in_pixel();
        let (map_area, bar_area) = area.split_horizontally(width.saturating_sub(COLOUR_BAR_WIDTH));
        let top = self.max_value();
        let mut chart = self
            .axes
            .draw(&map_area, self.x_range.clone(), self.y_range.clone())?;
        chart
            .draw_series(self.cells.iter().map(|c| {
                Rectangle::new(
                    [(c.x.start, c.y.start), (c.x.end, c.y.end)],
                    colour_of(c.value, top).filled(),
                )
            }))
            .map_err(drawing_error)?;
        self.draw_colour_bar(&bar_area, top)
    }
}

impl HeatMap {
    /// The largest finite cell value (1 when there is none above 0, so colours stay defined).
    fn max_value(&self) -> f64 {
        let top = self
            .cells
            .iter()
            .map(|c| c.value)
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        if top > 0.0 { top } else { 1.0 }
    }

    /// A vertical bar of the colour scale from 0 to `top`, labelled with values.
    fn draw_colour_bar<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        top: f64,
    ) -> anyhow::Result<()> {
        let steps = 64;
        let mut bar = ChartBuilder::on(area)
            .caption(" ", ("sans-serif", 24))
            .margin(16)
            .margin_left(0)
            .x_label_area_size(50)
            .right_y_label_area_size(70)
            .build_cartesian_2d(0.0..1.0, 0.0..top)
            .map_err(drawing_error)?;
        bar.configure_mesh()
            .disable_x_mesh()
            .disable_y_mesh()
            .disable_x_axis()
            .y_desc(&self.value_label)
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .draw()
            .map_err(drawing_error)?;
        bar.draw_series((0..steps).map(|i| {
            let (lo, hi) = (
                top * i as f64 / steps as f64,
                top * (i + 1) as f64 / steps as f64,
            );
            Rectangle::new(
                [(0.0, lo), (1.0, hi)],
                viridis(0.5 * (lo + hi) / top).filled(),
            )
        }))
        .map_err(drawing_error)?;
        Ok(())
    }
}

/// Colour of `value` on a scale from 0 to `top`: grey for 0, viridis above.
fn colour_of(value: f64, top: f64) -> RGBColor {
    if value > 0.0 {
        viridis(value / top)
    } else {
        EMPTY
    }
}

/// The viridis colour at `t` ∈ [0, 1] (clamped), linearly interpolated between anchors.
pub fn viridis(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let position = t * (VIRIDIS.len() - 1) as f64;
    let i = (position as usize).min(VIRIDIS.len() - 2);
    let f = position - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + f * (f64::from(b) - f64::from(a))).round() as u8;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_runs_from_purple_to_yellow_and_clamps() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(2.0), viridis(1.0));
        assert_eq!(viridis(0.0625), RGBColor(70, 23, 103));
        assert_eq!(colour_of(0.0, 5.0), EMPTY);
    }

    #[test]
    fn cells_and_colour_bar_are_drawn() {
        let map = HeatMap {
            axes: Axes::new("directions", "rot (°)", "tilt (°)"),
            x_range: -180.0..180.0,
            y_range: 0.0..180.0,
            cells: vec![
                Cell {
                    x: -180.0..0.0,
                    y: 0.0..90.0,
                    value: 3.0,
                },
                Cell {
                    x: 0.0..180.0,
                    y: 90.0..180.0,
                    value: 0.0,
                },
            ],
            value_label: "particles".into(),
        };
        let svg = map.to_svg().unwrap();
        let top = viridis(1.0);
        let yellow = format!("rgb({},{},{})", top.0, top.1, top.2).to_lowercase();
        assert!(svg.to_lowercase().contains("#fde725") || svg.contains(&yellow));
        assert!(
            svg.matches("<rect").count() >= 2 + 64,
            "cells and the colour bar"
        );
        assert!(svg.contains("particles"));
    }
}
