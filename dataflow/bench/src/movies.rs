//! `cryoflux bench movies`: motion-correction throughput (movies per hour) and peak memory of
//! `cryoflux motioncorr` against `relion_run_motioncorr --use_own` on the same simulated
//! counting movies (by default 4096² px × 40 frames, LZW TIFF, 1 e/Å² per frame, gain
//! reference, dose weighting), both with the same threads; plus each one's global-shift error
//! against the simulation's truth and cryoflux's time per step. Both programs run as child
//! processes under `/usr/bin/time`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use cryoflux_reporting::assess::global_shift_error;
use cryoflux_simulate::assets::default_map;
use cryoflux_simulate::movies::{MovieSimulation, simulate_movies};

use super::run::{ChildCost, measure_child, memory_text, on_path};

/// Arguments of `cryoflux bench movies`.
#[derive(Debug, clap::Args)]
pub struct BenchMoviesArgs {
    /// Number of movies.
    #[arg(long, default_value_t = 4)]
    pub movies: usize,
    /// Frame width and height in pixels.
    #[arg(long, default_value_t = 4096)]
    pub size: usize,
    /// Frames per movie.
    #[arg(long, default_value_t = 40)]
    pub frames: usize,
    /// Patches per side for local alignment (1: global alignment only).
    #[arg(long, default_value_t = 1)]
    pub patches: usize,
    /// Threads for both programs.
    #[arg(long = "j", default_value_t = 2, value_parser = cryoflux_jobkit::threads::worker_threads)]
    pub threads: usize,
    /// Directory for the scratch files (removed afterwards).
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    pub dir: PathBuf,
}

/// Simulates the movies, times both programs and prints the report.
pub fn run(args: &BenchMoviesArgs) -> anyhow::Result<()> {
    let scratch = tempfile::Builder::new()
        .prefix("cryoflux-bench-movies")
        .tempdir_in(&args.dir)?;
    let dir = scratch.path();
    let config = MovieSimulation {
        width: args.size,
        height: args.size,
        frames: args.frames,
        particles_per_movie: (args.size / 48).pow(2) / 8,
        ..MovieSimulation::typical(args.movies, 1)
    };
    let summary = simulate_movies(&default_map()?, &config, dir)?;
    println!(
        "movies: {} × {}² px × {} frames (LZW TIFF counts, {} e/Å² per frame, gain), simulated in \
         {:.1} s; {} patches per side; --j {}",
        args.movies,
        args.size,
        args.frames,
        config.dose_per_frame,
        summary.seconds,
        args.patches,
        args.threads
    );
    let patches = args.patches.to_string();
    let threads = args.threads.to_string();
    let common = [
        "--i",
        "movies.star",
        "--gainref",
        "gain.mrc",
        "--dose_weighting",
        "--dose_per_frame",
        "1",
        "--patch_x",
        &patches,
        "--patch_y",
        &patches,
        "--j",
        &threads,
    ];
    let exe = std::env::current_exe().context("cannot locate the cryoflux executable")?;
    let mut ours_args = vec!["motioncorr", "--o", "MotionCorr/cryoflux/"];
    ours_args.extend(common);
    let ours = measure_child(dir, &exe, &ours_args, &dir.join("cryoflux.log"))?;
    report(
        "cryoflux motioncorr",
        &ours,
        args.movies,
        dir,
        "MotionCorr/cryoflux",
    )?;
    if let Some(line) = ours.log.lines().find(|l| l.contains("time per step")) {
        println!("    {}", line.split("INFO ").last().unwrap_or(line));
    }
    if !on_path("relion_run_motioncorr") {
        println!("  relion_run_motioncorr not installed: no baseline");
        return Ok(());
    }
    let mut relion_args = vec!["--o", "MotionCorr/relion/", "--use_own"];
    relion_args.extend(common);
    let relion = measure_child(
        dir,
        Path::new("relion_run_motioncorr"),
        &relion_args,
        &dir.join("relion.log"),
    )?;
    report(
        "relion_run_motioncorr --use_own",
        &relion,
        args.movies,
        dir,
        "MotionCorr/relion",
    )?;
    println!(
        "  cryoflux is {:.2}× RELION's throughput",
        relion.seconds / ours.seconds
    );
    Ok(())
}

/// Prints one program's throughput, memory and shift error.
fn report(
    name: &str,
    cost: &ChildCost,
    movies: usize,
    dir: &Path,
    job: &str,
) -> anyhow::Result<()> {
    println!(
        "  {name}: {:.1} s = {:.0} movies/hour, {}, global-shift RMS error {:.3} px",
        cost.seconds,
        movies as f64 * 3600.0 / cost.seconds,
        memory_text(cost),
        shift_error(dir, job, movies)?
    );
    Ok(())
}

/// RMS distance (px) of a job's global shifts from the truth, over every frame of every movie.
fn shift_error(dir: &Path, job: &str, movies: usize) -> anyhow::Result<f64> {
    let pairs: Vec<(PathBuf, PathBuf)> = (1..=movies)
        .map(|m| {
            let name = format!("movie{m:03}.star");
            (
                dir.join(job).join("movies").join(&name),
                dir.join("truth/motion").join(&name),
            )
        })
        .collect();
    Ok(global_shift_error(&pairs)?.rms_px)
}
