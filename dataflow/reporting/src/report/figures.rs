//! Draws every figure of the report into a folder, as `<id>.png` and `<id>.svg` (both written
//! atomically), or records why a figure cannot be drawn.

use std::path::{Path, PathBuf};

use cryoflux_jobkit::plots::Plot;

use super::charts::{self, Built};
use super::history::JobHistory;

/// A figure written to disc.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Short name: file stem and HTML id (`resolution`, `fsc`, …).
    pub id: &'static str,
    /// Heading shown above it.
    pub title: &'static str,
    /// What it shows and where the numbers come from.
    pub caption: String,
    /// The PNG file (rendered with the bundled font).
    pub png: PathBuf,
    /// The SVG file.
    pub svg: PathBuf,
}

/// One place in the report: a figure, or the reason it is missing.
#[derive(Debug, Clone, PartialEq)]
pub enum Slot {
    /// Drawn and written.
    Drawn(Figure),
    /// Not drawn: the run's files do not give it.
    Missing {
        /// Short name of the figure.
        id: &'static str,
        /// Heading it would have had.
        title: &'static str,
        /// Why it is missing.
        reason: String,
    },
}

impl Slot {
    /// "title: reason" for a missing figure, `None` for a drawn one.
    pub fn missing_note(&self) -> Option<String> {
        match self {
            Slot::Missing { title, reason, .. } => Some(format!("{title}: {reason}")),
            Slot::Drawn(_) => None,
        }
    }
}

/// Draws every figure of `history` into `dir` (created if missing), in report order.
pub fn draw_all(history: &JobHistory, dir: &Path) -> anyhow::Result<Vec<Slot>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("{}: cannot create the folder: {e}", dir.display()))?;
    Ok(vec![
        save(
            dir,
            "resolution",
            "Resolution and angular sampling per iteration",
            charts::resolution(history),
        )?,
        save(
            dir,
            "fsc",
            "Gold-standard FSC of the last iterations",
            charts::fsc(history),
        )?,
        save(
            dir,
            "angular_distribution",
            "Angular distribution",
            charts::angular_distribution(history),
        )?,
        save(dir, "offsets", "Offsets", charts::offsets(history))?,
        save(
            dir,
            "angle_change",
            "Angle change between the last two iterations",
            charts::angle_change(history),
        )?,
        save(
            dir,
            "time",
            "Time per iteration",
            charts::time_per_iteration(history),
        )?,
    ])
}

/// Writes a built figure as `dir/<id>.png` and `dir/<id>.svg`.
fn save<P: Plot>(
    dir: &Path,
    id: &'static str,
    title: &'static str,
    built: Built<P>,
) -> anyhow::Result<Slot> {
    let (plot, caption) = match built {
        Ok(built) => built,
        Err(reason) => return Ok(Slot::Missing { id, title, reason }),
    };
    let (png, svg) = (dir.join(format!("{id}.png")), dir.join(format!("{id}.svg")));
    plot.write_png(&png)?;
    plot.write_svg(&svg)?;
    Ok(Slot::Drawn(Figure {
        id,
        title,
        caption,
        png,
        svg,
    }))
}
