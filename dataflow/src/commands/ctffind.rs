//! `cryoflux ctffind`: CTF estimation of aligned micrographs, like `relion_run_ctffind` (see
//! [`cryoflux_ctffind`]).

use std::path::PathBuf;

use cryoflux_ctffind::{outputs, run as run_job, settings::Settings};
use cryoflux_jobkit::job_directory::JobFiles;

/// Arguments of `cryoflux ctffind` (relion_run_ctffind's names, units and defaults).
#[derive(Debug, clap::Args)]
pub struct CtffindArgs {
    /// STAR file with all input micrographs (e.g. MotionCorr/job002/corrected_micrographs.star).
    #[arg(long = "i", visible_alias = "input", value_name = "FILE.star")]
    pub input: PathBuf,
    /// Output directory, e.g. CtfFind/job003/.
    #[arg(long = "o", value_name = "DIR", default_value = "CtfEstimate/")]
    pub output: PathBuf,
    /// Size of the boxes whose power spectra are averaged, in pixels.
    #[arg(long = "Box", value_name = "px", default_value_t = 512)]
    pub box_size: usize,
    /// Minimum resolution (in Å) included in the fit.
    #[arg(long = "ResMin", value_name = "Å", default_value_t = 100.0)]
    pub res_min: f64,
    /// Maximum resolution (in Å) included in the fit.
    #[arg(long = "ResMax", value_name = "Å", default_value_t = 7.0)]
    pub res_max: f64,
    /// Minimum defocus searched, in Å.
    #[arg(long = "dFMin", value_name = "Å", default_value_t = 10_000.0)]
    pub df_min: f64,
    /// Maximum defocus searched, in Å.
    #[arg(long = "dFMax", value_name = "Å", default_value_t = 50_000.0)]
    pub df_max: f64,
    /// Defocus step of the search, in Å.
    #[arg(long = "FStep", value_name = "Å", default_value_t = 250.0)]
    pub f_step: f64,
    /// Expected astigmatism in Å (the restraint's σ); 0 = no restraint.
    #[arg(long = "dAst", value_name = "Å", default_value_t = 0.0)]
    pub d_ast: f64,
    /// Estimate the phase shift (e.g. from a phase plate).
    #[arg(long = "do_phaseshift")]
    pub do_phaseshift: bool,
    /// Minimum phase shift, in degrees.
    #[arg(long = "phase_min", value_name = "degrees", default_value_t = 0.0)]
    pub phase_min: f64,
    /// Maximum phase shift, in degrees.
    #[arg(long = "phase_max", value_name = "degrees", default_value_t = 180.0)]
    pub phase_max: f64,
    /// Step of the phase-shift search, in degrees.
    #[arg(long = "phase_step", value_name = "degrees", default_value_t = 10.0)]
    pub phase_step: f64,
    /// Estimate from rlnMicrographNameNoDW instead of rlnMicrographName.
    #[arg(long = "use_noDW")]
    pub use_no_dw: bool,
    /// Keep the results of micrographs already estimated in the output directory.
    #[arg(long = "only_do_unfinished")]
    pub only_do_unfinished: bool,
    /// Number of micrographs processed at once.
    #[arg(long = "j", value_name = "N", default_value_t = 1, value_parser = cryoflux_jobkit::threads::worker_threads)]
    pub threads: usize,
}

impl CtffindArgs {
    /// The job's settings.
    fn settings(&self) -> Settings {
        Settings {
            input: self.input.clone(),
            output_dir: self.output.clone(),
            box_size: self.box_size,
            res_min: self.res_min,
            res_max: self.res_max,
            df_min: self.df_min,
            df_max: self.df_max,
            f_step: self.f_step,
            d_ast: self.d_ast,
            do_phaseshift: self.do_phaseshift,
            phase_min: self.phase_min,
            phase_max: self.phase_max,
            phase_step: self.phase_step,
            use_no_dw: self.use_no_dw,
            only_do_unfinished: self.only_do_unfinished,
            threads: self.threads,
        }
    }
}

impl CtffindArgs {
    /// What the job reads and writes; its directory is `--o`.
    pub fn files(&self) -> JobFiles {
        JobFiles::in_directory(&self.output)
            .input("--i", &self.input)
            .outputs_in(
                "--o",
                &self.output,
                &[outputs::STAR_NAME, outputs::PARQUET_NAME],
            )
    }
}

/// Runs the job and logs what it did.
pub fn run(args: &CtffindArgs) -> anyhow::Result<()> {
    let summary = run_job(&args.settings())?;
    tracing::info!(
        "estimated the CTF of {} micrographs ({} kept from an earlier run, {} skipped) → {}",
        summary.estimated,
        summary.reused,
        summary.failed.len(),
        summary.star.display()
    );
    Ok(())
}
