//! A small line-chart description rendered with `plotters` to SVG (text) and PNG, both written
//! atomically. Text uses the bundled DejaVu Sans (`assets/fonts`, Bitstream Vera licence), so
//! plots look the same on every machine and need no system fonts.

use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Context, anyhow};
use cryoflux_formats::atomic::write_atomically;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::register_font;

/// The bundled font, registered once as plotters' "sans-serif".
const FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Pixel size of rendered charts (SVG user units or PNG pixels).
pub const CHART_SIZE: (u32, u32) = (900, 600);

fn register_bundled_font() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok =
        *REGISTERED.get_or_init(|| register_font("sans-serif", FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(anyhow!("the bundled DejaVu Sans font could not be loaded"))
    }
}

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
}

/// A chart of several line series over shared axes.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    /// Caption above the plot.
    pub title: String,
    /// X-axis description (with its unit).
    pub x_label: String,
    /// Y-axis description (with its unit).
    pub y_label: String,
    /// The curves, drawn in order (later ones on top).
    pub series: Vec<Series>,
    /// Y-axis range; `None` fits all points.
    pub y_range: Option<Range<f64>>,
}

impl LineChart {
    /// The chart as an SVG document.
    pub fn to_svg(&self) -> anyhow::Result<String> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
            self.draw(&root)?;
            root.present()
                .map_err(|e| anyhow!("cannot render the SVG: {e:?}"))?;
        }
        Ok(svg)
    }

    /// Writes the chart as SVG to `path`, atomically.
    pub fn write_svg(&self, path: &Path) -> anyhow::Result<()> {
        let svg = self.to_svg()?;
        write_atomically(path, |w| {
            std::io::Write::write_all(w, svg.as_bytes())
                .map_err(|e| cryoflux_formats::Error::io(path, e))
        })?;
        Ok(())
    }

    /// Writes the chart as PNG to `path`, atomically (rendered into a temporary sibling file,
    /// then renamed).
    pub fn write_png(&self, path: &Path) -> anyhow::Result<()> {
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".cryoflux-")
            .suffix(".png")
            .tempfile_in(dir)
            .with_context(|| format!("{}: cannot create a temporary file", dir.display()))?;
        {
            let root = BitMapBackend::new(temp.path(), CHART_SIZE).into_drawing_area();
            self.draw(&root)?;
            root.present()
                .map_err(|e| anyhow!("{}: cannot write the PNG: {e:?}", path.display()))?;
        }
        temp.persist(path)
            .with_context(|| format!("{}: cannot write the PNG", path.display()))?;
        Ok(())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        register_bundled_font()?;
        let failed = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("cannot draw: {e:?}");
        root.fill(&WHITE).map_err(failed)?;
        let (x_range, y_range) = self.ranges();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 26))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(x_range, y_range)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style(("sans-serif", 16))
            .axis_desc_style(("sans-serif", 18))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(failed)?;
        for series in &self.series {
            let style = series.colour.stroke_width(series.width);
            let points = series
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite());
            let drawn = if series.dashed {
                chart.draw_series(DashedLineSeries::new(points, 8, 5, style))
            } else {
                chart.draw_series(LineSeries::new(points, style))
            };
            drawn
                .map_err(failed)?
                .label(series.name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
        }
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 16))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(failed)?;
        Ok(())
    }

    /// Axis ranges covering every finite point (y: `y_range` if set), with a little margin.
    fn ranges(&self) -> (Range<f64>, Range<f64>) {
        let finite = || {
            self.series
                .iter()
                .flat_map(|s| s.points.iter().copied())
                .filter(|(x, y)| x.is_finite() && y.is_finite())
        };
        let span = |values: Vec<f64>| {
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if !(lo.is_finite() && hi.is_finite()) {
                0.0..1.0
            } else if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
                lo - 0.5..hi + 0.5
            } else {
                let pad = 0.04 * (hi - lo);
                lo - pad..hi + pad
            }
        };
        let x = span(finite().map(|p| p.0).collect());
        let y = match &self.y_range {
            Some(range) => range.clone(),
            None => span(finite().map(|p| p.1).collect()),
        };
        (x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> LineChart {
        LineChart {
            title: "test chart".into(),
            x_label: "x (Å⁻¹)".into(),
            y_label: "y".into(),
            series: vec![
                Series {
                    name: "rising".into(),
                    points: vec![(0.0, 0.0), (1.0, 2.0), (f64::NAN, 1.0), (2.0, 3.0)],
                    colour: BLUE,
                    width: 2,
                    dashed: false,
                },
                Series {
                    name: "level".into(),
                    points: vec![(0.0, 1.0), (2.0, 1.0)],
                    colour: RED,
                    width: 1,
                    dashed: true,
                },
            ],
            y_range: None,
        }
    }

    #[test]
    fn svg_holds_the_curves_and_their_names() {
        let svg = chart().to_svg().unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..50]);
        assert!(svg.contains("rising") && svg.contains("level") && svg.contains("test chart"));
        assert!(svg.contains("<polyline"), "no line drawn");
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
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temporary left"
        );
        let missing = dir.path().join("no/such/dir/chart.png");
        assert!(chart().write_png(&missing).is_err());
    }
}
