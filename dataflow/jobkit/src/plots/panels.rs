//! Several line charts stacked top to bottom in one figure (e.g. resolution and angular
//! sampling over the same iterations).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::chart::LineChart;
use super::render::{CHART_SIZE, Plot};

/// Height of each panel, pixels.
const PANEL_HEIGHT: u32 = 420;

/// Line charts drawn one below the other, each with its own title and axes.
#[derive(Debug, Clone, PartialEq)]
pub struct Panels(pub Vec<LineChart>);

impl Plot for Panels {
    fn size(&self) -> (u32, u32) {
        (CHART_SIZE.0, PANEL_HEIGHT * self.0.len().max(1) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        let areas = area.split_evenly((self.0.len().max(1), 1));
        for (chart, panel) in self.0.iter().zip(&areas) {
            chart.draw(panel)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plots::{Axes, Series};

    #[test]
    fn every_panel_is_drawn_and_the_figure_grows_with_them() {
        let panel = |title: &str| {
            LineChart::new(
                Axes::new(title, "iteration", "value").with_integer_x(),
                vec![Series {
                    name: title.into(),
                    points: vec![(1.0, 2.0), (2.0, 1.0)],
                    colour: BLACK,
                    width: 2,
                    dashed: false,
                    markers: true,
                }],
            )
        };
        let panels = Panels(vec![panel("upper"), panel("lower")]);
        assert_eq!(panels.size(), (CHART_SIZE.0, 2 * PANEL_HEIGHT));
        let svg = panels.to_svg().unwrap();
        assert!(svg.contains("upper") && svg.contains("lower"));
        let thick_lines = svg.matches(r#"stroke-width="2""#).count();
        assert_eq!(thick_lines, 4, "a curve and its legend line per panel");
        assert_eq!(svg.matches("<circle").count(), 4, "a marker per point");
    }
}
