//! `cryoflux bench reconstruct`: reconstruction time and peak memory against
//! `relion_reconstruct` on the same simulated particles, plus projection and FFT throughput.
//!
//! - Particles: `cryoflux simulate` of the bundled map resampled to each box (CTF, SNR 0.05).
//! - Reconstruction: `cryoflux reconstruct --ctf --j J` and `relion_reconstruct --ctf` run as
//!   child processes under `/usr/bin/time` (wall time and maximum resident set size measured
//!   the same way for both). RELION 3.1.3's relion_reconstruct has no thread option: it runs on
//!   one thread, so cryoflux is also timed with `--j 1`.
//! - Projection: central slices of the padded (×2), trilinear projector at box 128, uniform
//!   random orientations, over J threads and over one.
//! - FFT: forward real-to-complex 3D 128³ (parallel inside the transform) and 2D 256² (one
//!   image per thread), against numpy's pocketfft on one thread when Python numpy is
//!   installed (FFTW is not available to compare with here).
//!
//! Numbers are wall-clock times on a possibly shared machine; the best of `--repeats` runs is
//! reported for the in-process measurements.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cryoflux_kernels::fourier::fft;
use cryoflux_kernels::fourier::projector::{Projector, ProjectorOptions};
use cryoflux_kernels::fourier::rescale::resample;
use cryoflux_kernels::grid::{Image, Volume};
use rayon::prelude::*;

use super::run::{measure_child, memory_text, on_path, python_output};
use super::timing::best_of;
use cryoflux_simulate::assets::default_map;
use cryoflux_simulate::ctfs::{DefocusModel, Microscope};
use cryoflux_simulate::poses::uniform_rotation;
use cryoflux_simulate::rng::{Purpose, Rng};
use cryoflux_simulate::{PoseSource, SimulationConfig, simulate};

/// Arguments of `cryoflux bench reconstruct`.
#[derive(Debug, clap::Args)]
pub struct BenchReconstructArgs {
    /// Box sizes of the reconstruction benchmark (comma-separated).
    #[arg(long = "box", value_delimiter = ',', default_values_t = [128, 256])]
    pub boxes: Vec<usize>,
    /// Particles per box size.
    #[arg(long, default_value_t = 2000)]
    pub n: usize,
    /// Threads for cryoflux (and for the in-process measurements).
    #[arg(long = "j", default_value_t = 2, value_parser = cryoflux_jobkit::threads::worker_threads)]
    pub threads: usize,
    /// Slices for the projection throughput.
    #[arg(long, default_value_t = 2000)]
    pub slices: usize,
    /// Runs per in-process measurement; the best is reported.
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Directory for the scratch files (removed afterwards).
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    pub dir: PathBuf,
}

/// Run every measurement and print the report.
pub fn run(args: &BenchReconstructArgs) -> anyhow::Result<()> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()
        .context("cannot start the worker threads")?;
    let scratch = tempfile::Builder::new()
        .prefix("cryoflux-bench-reconstruct")
        .tempdir_in(&args.dir)?;
    for &n in &args.boxes {
        pool.install(|| reconstruction(scratch.path(), n, args))?;
    }
    projection(args, &pool)?;
    ffts(args, &pool)?;
    Ok(())
}

/// The bundled map resampled (Fourier padding) to box `n`.
fn map_of_box(n: usize) -> anyhow::Result<Volume> {
    Ok(resample(&default_map()?, n)?)
}

/// Simulates particles at box `n` and times both reconstructions.
fn reconstruction(scratch: &Path, n: usize, args: &BenchReconstructArgs) -> anyhow::Result<()> {
    let dir = scratch.join(format!("box{n}"));
    let map = map_of_box(n)?;
    let config = SimulationConfig {
        poses: PoseSource::Random {
            count: args.n,
            max_offset: 3.0,
        },
        seed: 1,
        snr: 0.05,
        add_noise: true,
        ctf: Some((
            Microscope::default(),
            DefocusModel {
                min: 10_000.0,
                max: 25_000.0,
                astigmatism: 500.0,
                spread: 50.0,
            },
        )),
        particles_per_micrograph: 50,
        scale_spread: 0.0,
        norm_spread: 0.0,
    };
    let summary = simulate(&map, &config, &dir)?;
    let star = summary.truth_star.to_string_lossy().into_owned();
    println!(
        "reconstruct: box {n} ({:.4} Å/px), {} particles with CTF, C1, padding 2, 10 gridding \
         rounds (simulated in {:.1} s)",
        map.pixel_size(),
        args.n,
        summary.seconds
    );
    let exe = std::env::current_exe().context("cannot locate the cryoflux executable")?;
    let threads = args.threads.to_string();
    let mut ours = Vec::new();
    for j in [threads.as_str(), "1"] {
        let out = format!("ours_j{j}.mrc");
        let cost = measure_child(
            &dir,
            &exe,
            &["reconstruct", "--i", &star, "--o", &out, "--ctf", "--j", j],
            &dir.join(format!("ours_j{j}.log")),
        )?;
        println!(
            "  cryoflux --j {j}: {:.1} s, {}",
            cost.seconds,
            memory_text(&cost)
        );
        ours.push(cost);
        if args.threads == 1 {
            break;
        }
    }
    if !on_path("relion_reconstruct") {
        println!("  relion_reconstruct not installed: no baseline");
        return Ok(());
    }
    let relion = measure_child(
        &dir,
        Path::new("relion_reconstruct"),
        &["--i", &star, "--o", "relion.mrc", "--ctf"],
        &dir.join("relion.log"),
    )?;
    println!(
        "  relion_reconstruct (one thread): {:.1} s, {}",
        relion.seconds,
        memory_text(&relion)
    );
    for (cost, j) in ours.iter().zip([args.threads, 1]) {
        let memory = match (cost.peak_mb, relion.peak_mb) {
            (Some(a), Some(b)) => format!(", memory cryoflux/RELION {:.2}×", a / b),
            _ => String::new(),
        };
        println!(
            "  ratio (--j {j}): cryoflux {:.2}× faster{memory}",
            relion.seconds / cost.seconds
        );
    }
    let agreement = map_correlation(&dir.join("ours_j1.mrc"), &dir.join("relion.mrc"))?;
    println!("  map correlation cryoflux vs RELION: {agreement:.5}");
    Ok(())
}

/// Pearson correlation of two maps of the same size.
fn map_correlation(a: &Path, b: &Path) -> anyhow::Result<f64> {
    let read = |p: &Path| -> anyhow::Result<Vec<f64>> {
        let file = cryoflux_formats::mrc::MrcFile::open(p)?;
        Ok(file.read_all()?.into_iter().map(f64::from).collect())
    };
    let (x, y) = (read(a)?, read(b)?);
    if x.len() != y.len() {
        bail!("{} and {} differ in size", a.display(), b.display());
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (mx, my) = (mean(&x), mean(&y));
    let (mut xy, mut xx, mut yy) = (0.0, 0.0, 0.0);
    for (p, q) in x.iter().zip(&y) {
        xy += (p - mx) * (q - my);
        xx += (p - mx).powi(2);
        yy += (q - my).powi(2);
    }
    Ok(xy / (xx * yy).sqrt())
}

/// Slices per second of the box-128 projector over the pool's threads and over one.
fn projection(args: &BenchReconstructArgs, pool: &rayon::ThreadPool) -> anyhow::Result<()> {
    let map = map_of_box(128)?;
    let projector = Projector::new(&map, &ProjectorOptions::default())?;
    let poses: Vec<_> = (0..args.slices)
        .map(|i| uniform_rotation(&mut Rng::stream(7, Purpose::Pose, i as u64)))
        .collect();
    let project_all = || -> anyhow::Result<usize> {
        let slices = poses
            .par_iter()
            .map(|a| projector.project(a, 128))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(slices.len())
    };
    let (many, _) = pool.install(|| best_of(args.repeats, project_all))?;
    let single = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let (one, _) = single.install(|| best_of(args.repeats, project_all))?;
    println!(
        "projection: box 128, padding 2, trilinear: {:.0} slices/s on {} threads, {:.0} on 1",
        args.slices as f64 / many,
        args.threads,
        args.slices as f64 / one
    );
    Ok(())
}

/// Forward r2c FFT rates in 3D (128³) and 2D (256²), and numpy's for comparison.
fn ffts(args: &BenchReconstructArgs, pool: &rayon::ThreadPool) -> anyhow::Result<()> {
    let volume = map_of_box(128)?;
    let volumes = 8;
    let (t3, _) = pool.install(|| {
        best_of(args.repeats, || {
            (0..volumes).for_each(|_| drop(fft::forward(&volume)));
            Ok(())
        })
    })?;
    let image = Image::from_fn(256, 1.0, |[x, y, _]| {
        ((x * 0.3).sin() * (y * 0.2).cos()) as f32
    })?;
    let images = 2000;
    let (t2, _) = pool.install(|| {
        best_of(args.repeats, || {
            (0..images)
                .into_par_iter()
                .for_each(|_| drop(fft::forward(&image)));
            Ok(())
        })
    })?;
    let single = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let (t2_one, _) = single.install(|| {
        best_of(args.repeats, || {
            (0..images).for_each(|_| drop(fft::forward(&image)));
            Ok(())
        })
    })?;
    println!(
        "FFT (cryoflux, rustfft, float32, RELION scaling and centring): 3D 128³ r2c {:.1}/s on \
         {} threads; 2D 256² r2c {:.0}/s on {} threads, {:.0}/s on 1",
        volumes as f64 / t3,
        args.threads,
        images as f64 / t2,
        args.threads,
        images as f64 / t2_one
    );
    match numpy_fft_rates(args.repeats) {
        Some((r3, r2)) => println!(
            "  numpy.fft (pocketfft, one thread, float32): 3D 128³ {r3:.1}/s, 2D 256² \
             {r2:.0}/s; cryoflux 2D on one thread is {:.2}× numpy",
            images as f64 / t2_one / r2
        ),
        None => println!("  numpy not available: no FFT baseline"),
    }
    Ok(())
}

/// numpy's rfftn rates (3D 128³, 2D 256² per second), best of `repeats`, if Python has numpy.
fn numpy_fft_rates(repeats: usize) -> Option<(f64, f64)> {
    let script = format!(
        "import numpy as np, time\n\
         v = np.random.rand(128, 128, 128).astype(np.float32)\n\
         i = np.random.rand(256, 256).astype(np.float32)\n\
         def best(f, k):\n    t = 1e9\n    for _ in range({repeats}):\n        s = time.perf_counter()\n        \
         [f() for _ in range(k)]\n        t = min(t, (time.perf_counter() - s) / k)\n    return t\n\
         print(1 / best(lambda: np.fft.rfftn(v), 4), 1 / best(lambda: np.fft.rfft2(i), 200))\n"
    );
    let text = python_output(&script)?;
    let mut rates = text.split_whitespace().filter_map(|v| v.parse().ok());
    Some((rates.next()?, rates.next()?))
}
