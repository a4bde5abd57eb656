//! `cryoflux report JOBDIR`: one self-contained HTML page (and PNG/SVG figures) about a 3D
//! refinement run by cryoflux or RELION 3.1. The work is done by [`cryoflux_reporting::report`]; this file
//! only maps arguments and prints what was written.

use std::path::PathBuf;

use cryoflux_reporting::report::write_report;

/// Arguments of `cryoflux report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Refine3D job directory (e.g. Refine3D/job001) or output root (Refine3D/job001/run).
    #[arg(value_name = "JOBDIR")]
    pub job: PathBuf,
    /// The HTML page to write (default JOBDIR/report.html); figures go to
    /// PAGESTEM_figures/ beside it.
    #[arg(long = "o", visible_alias = "out", value_name = "FILE.html")]
    pub output: Option<PathBuf>,
}

/// Write the report and say where it is.
pub fn run(args: &ReportArgs) -> anyhow::Result<()> {
    let written = write_report(&args.job, args.output.as_deref())?;
    for missing in &written.missing {
        tracing::warn!("figure left out: {missing}");
    }
    let resolution = written
        .resolution_angst
        .map_or("unknown resolution".into(), |r| format!("{r:.2} Å"));
    let iteration = written
        .last_iteration
        .map_or(String::new(), |i| format!(" after iteration {i}"));
    tracing::info!(
        "{resolution}{iteration}; wrote {} with {} figures (PNG and SVG in {})",
        written.html.display(),
        written.figures,
        written.figure_dir.display()
    );
    Ok(())
}
