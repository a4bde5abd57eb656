//! `cryoflux demo`: the main job on the embedded default, from movies to a map (see
//! [`cryoflux_demo`]).

use std::path::PathBuf;

use anyhow::bail;
use cryoflux_demo::from_movies::MovieSizes;
use cryoflux_demo::{DemoSettings, Source};
use cryoflux_jobkit::job_directory::JobFiles;

/// Default SNR from movies: CTF estimation finds every micrograph within 120 Å already at 0.1
/// (the ice's Thon rings), but refining 500 dose-damaged movie particles stalls near 16 Å at
/// 0.1 and 0.2, and the automatic B-factor then has no shells to fit (measured); at 0.5 it
/// reaches the particle demo's resolution.
const MOVIE_SNR: f64 = 0.5;

/// Default SNR of directly simulated particles (the particle demo's).
const PARTICLE_SNR: f64 = 0.1;

/// Arguments of `cryoflux demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Output directory, a RELION project (created; its contents are overwritten).
    #[arg(long = "o", visible_alias = "output", default_value = "cryoflux_demo")]
    pub output: PathBuf,
    /// Where the particles come from: movies (simulated, motion-corrected, CTF-estimated,
    /// extracted) or particles (simulated directly).
    #[arg(long, value_name = "movies|particles", default_value = "movies")]
    pub from: String,
    /// Number of particles to simulate (from movies: spread evenly over the movies).
    #[arg(long = "n", default_value_t = 500)]
    pub count: usize,
    /// Signal-to-noise ratio of the particles (signal variance / noise variance; from movies,
    /// measured in the dose-summed movie against the counting noise). Default: 0.5 from movies
    /// (refinement of the dose-damaged movie particles stalls near 16 Å at 0.1–0.2), 0.1 from
    /// particles.
    #[arg(long)]
    pub snr: Option<f64>,
    /// Number of movies (with --from movies).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub movies: usize,
    /// Side of the square movie frames in px (with --from movies).
    #[arg(long = "movie_size", value_name = "px", default_value_t = 1024)]
    pub movie_size: usize,
    /// Frames per movie, 1 e/Å² each (with --from movies).
    #[arg(long, value_name = "N", default_value_t = 24)]
    pub frames: usize,
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
    fn settings(&self) -> anyhow::Result<DemoSettings> {
        let (source, snr) = match self.from.as_str() {
            "movies" => (
                Source::Movies(MovieSizes {
                    movies: self.movies,
                    movie_size: self.movie_size,
                    frames: self.frames,
                }),
                MOVIE_SNR,
            ),
            "particles" => (Source::Particles, PARTICLE_SNR),
            other => bail!("--from {other}: expected movies or particles"),
        };
        Ok(DemoSettings {
            output: self.output.clone(),
            count: self.count,
            snr: self.snr.unwrap_or(snr),
            seed: self.seed,
            iter: self.iter,
            threads: self.threads,
            source,
        })
    }
}

impl DemoArgs {
    /// The demo reads nothing; its directory is `--o`.
    pub fn files(&self) -> JobFiles {
        JobFiles::in_directory(&self.output)
    }
}

/// Runs the demo; prints the report.
pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    cryoflux_demo::run(&args.settings()?)
}
