//! `cryoflux demo`: the main job on the embedded default, start to finish (see
//! [`cryoflux_demo`]).

use std::path::PathBuf;

use cryoflux_demo::DemoSettings;
use cryoflux_jobkit::job_directory::JobFiles;

/// Arguments of `cryoflux demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Output directory (created; its subfolders are overwritten).
    #[arg(long = "o", visible_alias = "output", default_value = "cryoflux_demo")]
    pub output: PathBuf,
    /// Number of particles to simulate.
    #[arg(long = "n", default_value_t = 500)]
    pub count: usize,
    /// Signal-to-noise ratio of the simulated images (signal variance / noise variance).
    #[arg(long, default_value_t = 0.1)]
    pub snr: f64,
    /// Seed of the simulation and the refinement (results are identical for a seed whatever
    /// the thread count).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Largest number of refinement iterations before the final one (the refinement stops
    /// earlier when it converges).
    #[arg(long, default_value_t = 25)]
    pub iter: usize,
    /// Worker threads (default: all cores).
    #[arg(long = "j", visible_alias = "threads", value_parser = cryoflux_jobkit::threads::worker_threads)]
    pub threads: Option<usize>,
}

impl DemoArgs {
    /// What the flags ask for.
    fn settings(&self) -> DemoSettings {
        DemoSettings {
            output: self.output.clone(),
            count: self.count,
            snr: self.snr,
            seed: self.seed,
            iter: self.iter,
            threads: self.threads,
        }
    }
}

impl DemoArgs {
    /// The demo reads nothing; its directory is `--o`.
    pub fn files(&self) -> JobFiles {
        JobFiles::in_directory(&self.output)
    }
}

/// Simulates, refines, post-processes and assesses; prints the report.
pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    cryoflux_demo::run(&args.settings())
}
