//! Line charts: several named curves over shared axes (FSC, Guinier, values per iteration).

use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{Axes, padded_span};
use super::render::{Plot, drawing_error};

/// Radius of point markers, pixels.
const MARKER_RADIUS: i32 = 4;

/// One named curve of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// (x, y) points in drawing order; non-finite points are skipped.
    pub points: Vec<(f64, f64)>,
    /// Line colour.
    pub colour: RGBColor,
    /// Line width in pixels.
    pub width: u32,
    /// Draw dashed (reference lines, fits) instead of solid.
    pub dashed: bool,
    /// Mark each point with a dot (for few points, e.g. one per iteration).
    pub markers: bool,
}

/// A chart of several line series over shared axes.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    /// Title and axis descriptions.
    pub axes: Axes,
    /// The curves, drawn in order (later ones on top).
    pub series: Vec<Series>,
    /// X-axis range; `None` fits all points.
    pub x_range: Option<Range<f64>>,
    /// Y-axis range; `None` fits all points.
    pub y_range: Option<Range<f64>>,
}

impl Plot for LineChart {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        let (x_range, y_range) = self.ranges();
        let mut chart = self.axes.draw(area, x_range, y_range)?;
        for series in &self.series {
            let style = series.colour.stroke_width(series.width);
            let points = || {
                series
                    .points
                    .iter()
                    .copied()
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
            };
            let drawn = if series.dashed {
                chart.draw_series(DashedLineSeries::new(points(), 8, 5, style))
            } else {
                chart.draw_series(LineSeries::new(points(), style))
            };
            drawn
                .map_err(drawing_error)?
                .label(series.name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
            if series.markers {
                chart
                    .draw_series(
                        points().map(|p| Circle::new(p, MARKER_RADIUS, series.colour.filled())),
                    )
                    .map_err(drawing_error)?;
            }
        }
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 16))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(drawing_error)?;
        Ok(())
    }
}

impl LineChart {
    /// A chart of `series` with axes fitted to the points.
    pub fn new(axes: Axes, series: Vec<Series>) -> Self {
        Self {
            axes,
            series,
            x_range: None,
            y_range: None,
        }
    }

    /// Axis ranges: the set ones, otherwise covering every finite point with a little margin.
    fn ranges(&self) -> (Range<f64>, Range<f64>) {
        let finite = || {
            self.series
                .iter()
                .flat_map(|s| s.points.iter().copied())
                .filter(|(x, y)| x.is_finite() && y.is_finite())
        };
        let x = match &self.x_range {
            Some(range) => range.clone(),
            None => padded_span(finite().map(|p| p.0)),
        };
        let y = match &self.y_range {
            Some(range) => range.clone(),
            None => padded_span(finite().map(|p| p.1)),
        };
        (x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> LineChart {
        LineChart::new(
            Axes::new("test chart", "x (Å⁻¹)", "y"),
            vec![
                Series {
                    name: "rising".into(),
                    points: vec![(0.0, 0.0), (1.0, 2.0), (f64::NAN, 1.0), (2.0, 3.0)],
                    colour: BLUE,
                    width: 2,
                    dashed: false,
                    markers: true,
                },
                Series {
                    name: "level".into(),
                    points: vec![(0.0, 1.0), (2.0, 1.0)],
                    colour: RED,
                    width: 1,
                    dashed: true,
                    markers: false,
                },
            ],
        )
    }

    #[test]
    fn svg_holds_the_curves_and_their_names() {
        let svg = chart().to_svg().unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..50]);
        assert!(svg.contains("rising") && svg.contains("level") && svg.contains("test chart"));
        assert!(
            svg.contains(r##"stroke="#0000FF""##),
            "the blue curve is not drawn"
        );
        assert_eq!(
            svg.matches("<circle").count(),
            3,
            "one marker per finite point"
        );
        let (x, y) = chart().ranges();
        assert!(x.start < 0.0 && x.end > 2.0 && y.start < 0.0 && y.end > 3.0);
    }

    #[test]
    fn png_is_written_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chart.png");
        chart().write_png(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644, "readable by all, like other outputs");
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temporary left"
        );
        let missing = dir.path().join("no/such/dir/chart.png");
        assert!(chart().write_png(&missing).is_err());
    }
}
