//! The refinement report (`cryoflux report`): one self-contained HTML page, plus each figure
//! as PNG and SVG, showing what a 3D auto-refine run did. It reads only the files both
//! cryoflux and RELION 3.1 write (`<root>_itNNN_half1_model.star`, `_itNNN_data.star`,
//! optionally `_itNNN_sampling.star` and `<root>_model.star`), so it works on either.
//!
//! Steps, one module each: find the run ([`locate`]), read its files ([`history`], from
//! [`model`], [`sampling`], [`poses`], [`timing`]), build the figures ([`charts`], with
//! [`directions`] for the angular distribution) and write them ([`figures`]), then the page
//! ([`html`]).
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! let report = cryoflux_reporting::report::write_report("Refine3D/job001".as_ref(), None)?;
//! println!("{} with {} figures", report.html.display(), report.figures);
//! # Ok(()) }
//! ```

mod base64;
pub mod charts;
pub mod directions;
pub mod figures;
pub mod history;
pub mod html;
pub mod locate;
pub mod model;
pub mod poses;
pub mod sampling;
pub mod timing;

use std::path::{Path, PathBuf};

use cryoflux_formats::atomic::write_text;

use figures::{Slot, draw_all};
use history::JobHistory;
use locate::RunFiles;

/// Default file name of the page, in the job directory.
pub const DEFAULT_PAGE: &str = "report.html";

/// What [`write_report`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// The HTML page.
    pub html: PathBuf,
    /// The folder of PNG and SVG figures (`<page stem>_figures` beside the page).
    pub figure_dir: PathBuf,
    /// Figures drawn.
    pub figures: usize,
    /// Why each missing figure is missing.
    pub missing: Vec<String>,
    /// The run's final resolution (or its last iteration's), Å.
    pub resolution_angst: Option<f64>,
    /// Number of the last iteration.
    pub last_iteration: Option<u32>,
}

/// Reports on the run in `input` (a job directory or an output root): writes the figures,
/// then the page at `output` (default `<job directory>/report.html`), each file atomically.
pub fn write_report(input: &Path, output: Option<&Path>) -> anyhow::Result<Written> {
    let run = RunFiles::find(input)?;
    let html_path = match output {
        Some(path) => path.to_path_buf(),
        None => run.dir().join(DEFAULT_PAGE),
    };
    let page_dir = match html_path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let stem = html_path
        .file_stem()
        .map_or_else(|| "report".into(), |s| s.to_string_lossy().into_owned());
    let figure_dir = page_dir.join(format!("{stem}_figures"));

    let history = JobHistory::read(run)?;
    for note in &history.notes {
        tracing::warn!("{note}");
    }
    let slots = draw_all(&history, &figure_dir)?;
    let text = html::page(&history, &slots, &page_dir)?;
    write_text(&html_path, &text)?;
    let missing: Vec<String> = slots.iter().filter_map(Slot::missing_note).collect();
    Ok(Written {
        figures: slots.len() - missing.len(),
        missing,
        resolution_angst: history.final_resolution(),
        last_iteration: history.last().map(|i| i.number),
        html: html_path,
        figure_dir,
    })
}
