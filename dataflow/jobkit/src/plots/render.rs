//! Rendering any figure ([`Plot`]) to an SVG document or a PNG file, both written atomically.
//! Text uses the bundled DejaVu Sans (`assets/fonts`, Bitstream Vera licence), so PNGs look the
//! same on every machine and need no system fonts.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Context, anyhow};
use cryoflux_formats::atomic::write_atomically;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::register_font;

/// The bundled font, registered once as plotters' "sans-serif".
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Default pixel size of a figure (SVG user units or PNG pixels).
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

/// The error of a failed plotters drawing call.
pub(crate) fn drawing_error(e: impl std::fmt::Debug) -> anyhow::Error {
    anyhow!("cannot draw: {e:?}")
}

/// A figure that can draw itself on any plotters backend, and so be saved as SVG or PNG.
pub trait Plot {
    /// Pixel size of the figure (SVG user units or PNG pixels).
    fn size(&self) -> (u32, u32) {
        CHART_SIZE
    }

    /// Draw the figure on `area` (already filled white).
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> anyhow::Result<()>;

    /// The figure as an SVG document.
    fn to_svg(&self) -> anyhow::Result<String> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, self.size()).into_drawing_area();
            paint(self, &root)?;
            root.present()
                .map_err(|e| anyhow!("cannot render the SVG: {e:?}"))?;
        }
        Ok(svg)
    }

    /// Writes the figure as SVG to `path`, atomically.
    fn write_svg(&self, path: &Path) -> anyhow::Result<()> {
        let svg = self.to_svg()?;
        write_atomically(path, |w| {
            std::io::Write::write_all(w, svg.as_bytes())
                .map_err(|e| cryoflux_formats::Error::io(path, e))
        })?;
        Ok(())
    }

    /// Writes the figure as PNG to `path`, atomically (rendered into a temporary sibling file,
    /// then renamed).
    fn write_png(&self, path: &Path) -> anyhow::Result<()> {
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".cryoflux-").suffix(".png");
        // Figures are ordinary files (rw-r--r--), not private temporary files.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        let temp = builder
            .tempfile_in(dir)
            .with_context(|| format!("{}: cannot create a temporary file", dir.display()))?;
        {
            let root = BitMapBackend::new(temp.path(), self.size()).into_drawing_area();
            paint(self, &root)?;
            root.present()
                .map_err(|e| anyhow!("{}: cannot write the PNG: {e:?}", path.display()))?;
        }
        temp.persist(path)
            .with_context(|| format!("{}: cannot write the PNG", path.display()))?;
        Ok(())
    }
}

/// White background, bundled font, then the figure.
fn paint<P: Plot + ?Sized, DB: DrawingBackend>(
    plot: &P,
    root: &DrawingArea<DB, Shift>,
) -> anyhow::Result<()> {
    register_bundled_font()?;
    root.fill(&WHITE).map_err(drawing_error)?;
    plot.draw(root)
}
