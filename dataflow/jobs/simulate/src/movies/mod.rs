//! Ground-truth movies (`cryoflux simulate --movies N`): dose-fractionated counting movies of
//! micrographs whose particles sit at known coordinates and poses and move along known tracks
//! (polish-and-initial-model.md §A.9).
//!
//! Per movie: particles at random non-overlapping positions (at least one box apart and one box
//! from the edges), uniform random orientations, the micrograph's astigmatic CTF (each particle
//! at its own defocus within `defocus_spread` of the micrograph's), tracks = global drift + local
//! motion from the polishing prior ([`motion`]), dose-dependent damage and counting noise
//! ([`render`]), vitreous ice that moves with the global drift ([`ice`]: smooth thickness
//! variations, and the amorphous ice's granularity imaged through the CTF, the main source of
//! the micrograph's Thon rings),
//! a detector gain the raw frames must be multiplied by, and a few hot pixels.
//!
//! **SNR** means what it means for `cryoflux simulate`'s particles, measured on the
//! dose-summed, gain-corrected movie: the mean over particles of the variance of the noise-free
//! CTF-modulated projection in its box, over the variance of the counting noise. With N_px
//! electrons per pixel summed over frames, the noise variance is N_px and the signal is
//! N_px·c·S, so the contrast is c = √(SNR / (N_px·var S)).
//!
//! Files (paths relative to the output directory): `movies/movieNNN.tif` (raw counts as a
//! counting camera writes them: LZW-compressed 8-bit TIFF, 16-bit when a count exceeds 255) or,
//! with [`MovieFormat::Mrc`], `movies/movieNNN.mrcs` (float32 MRC stacks), `gain.mrc`, `movies.star` (what `cryoflux import` gives)
//! and the truth ([`truth`]). Every random draw comes from a stream keyed by (seed, purpose,
//! movie/frame), so the files are identical for a seed whatever the thread count.

pub mod ice;
pub mod motion;
pub mod render;
pub mod truth;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, ensure};
use cryoflux_formats::movie::{TiffCompression, TiffSample, write_tiff_stack};
use cryoflux_formats::mrc::{MrcStackWriter, WriteMode};
use cryoflux_jobkit::particles::Pose;
use cryoflux_kernels::fourier::ctf::CtfParams;
use cryoflux_kernels::grid::{Plane, Volume};
use rayon::prelude::*;

use crate::ctfs::{DefocusModel, Microscope};
use crate::formation::{ImageFormer, variance_of_transform};
use crate::poses::random_pose;
use crate::rng::{Purpose, Rng};
use motion::{MotionModel, global_drift, local_tracks};
use render::RenderedParticle;

/// Everything a movie simulation needs besides the map (whose box and pixel size are the
/// particles' and the movies').
#[derive(Debug, Clone, PartialEq)]
pub struct MovieSimulation {
    /// Number of movies.
    pub movies: usize,
    /// Frame width in pixels.
    pub width: usize,
    /// Frame height in pixels.
    pub height: usize,
    /// Frames per movie (≥ 2).
    pub frames: usize,
    /// Exposure per frame in e/Å².
    pub dose_per_frame: f64,
    /// Particles per movie (fewer when they do not fit without overlapping).
    pub particles_per_movie: usize,
    /// Particle SNR in the dose-summed movie (see the module doc).
    pub snr: f64,
    /// Beam-induced motion.
    pub motion: MotionModel,
    /// Microscope constants.
    pub microscope: Microscope,
    /// Defocus distribution (per movie; `spread` per particle).
    pub defocus: DefocusModel,
    /// Standard deviation of ln g, the gain reference's per-pixel log-gain (0 = flat gain).
    pub gain_spread: f64,
    /// Number of hot pixels on the detector.
    pub hot_pixels: usize,
    /// The vitreous ice: thickness variations and granularity (see [`ice`]).
    pub ice: ice::IceModel,
    /// File format of the movies.
    pub format: MovieFormat,
    /// Seed of every random stream.
    pub seed: u64,
}

/// File format of simulated movies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovieFormat {
    /// LZW-compressed integer TIFF (`.tif`), as K3 and Falcon counting cameras write.
    Tiff,
    /// Float32 MRC image stacks (`.mrcs`).
    Mrc,
}

impl MovieFormat {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            MovieFormat::Tiff => "tif",
            MovieFormat::Mrc => "mrcs",
        }
    }
}

impl MovieSimulation {
    /// A small counting data set: `movies` movies of 512² px and 24 frames at 1 e/Å² per frame,
    /// 30 particles each at SNR 0.05, 10 Å of drift and RELION's default local prior, typical
    /// defoci, 300 Å of ice, 5 % gain variation and 4 hot pixels.
    pub fn typical(movies: usize, seed: u64) -> Self {
        Self {
            movies,
            width: 512,
            height: 512,
            frames: 24,
            dose_per_frame: 1.0,
            particles_per_movie: 30,
            snr: 0.05,
            motion: MotionModel::default(),
            microscope: Microscope::default(),
            defocus: DefocusModel {
                spread: 0.0,
                ..DefocusModel::typical()
            },
            gain_spread: 0.05,
            hot_pixels: 4,
            ice: ice::IceModel::default(),
            format: MovieFormat::Tiff,
            seed,
        }
    }
}

/// The truth of one particle of a movie.
#[derive(Debug, Clone, PartialEq)]
pub struct MovieParticle {
    /// Position in frame 0, in pixels (x, y), where a perfect picker would put it.
    pub coordinate: [f64; 2],
    /// Orientation (origin zero: the coordinate is the centre).
    pub pose: Pose,
    /// The particle's CTF.
    pub ctf: CtfParams,
    /// Displacement from frame 0 in every frame, in Å (global drift + local motion).
    pub track: Vec<[f64; 2]>,
}

/// The truth of one movie.
#[derive(Debug, Clone, PartialEq)]
pub struct MovieTruth {
    /// The movie's file, as written in `movies.star`.
    pub movie_name: String,
    /// The micrograph's CTF (the particles' mean defocus).
    pub ctf: CtfParams,
    /// The global drift in every frame, in Å (frame 0: zero).
    pub drift: Vec<[f64; 2]>,
    /// The particles.
    pub particles: Vec<MovieParticle>,
}

/// What a movie simulation wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct MovieSummary {
    /// The truth of every movie.
    pub movies: Vec<MovieTruth>,
    /// `movies.star`.
    pub movies_star: PathBuf,
    /// The contrast c of the module doc (per unit of map density × pixel).
    pub contrast: f64,
    /// Wall-clock time in seconds.
    pub seconds: f64,
}

/// Simulates movies of `map` into `out_dir` (created if needed); see the module doc.
pub fn simulate_movies(
    map: &Volume,
    config: &MovieSimulation,
    out_dir: &Path,
) -> anyhow::Result<MovieSummary> {
    let start = Instant::now();
    check(config, map.n())?;
    let former = ImageFormer::new(map)?;
    let pixel = map.pixel_size();
    let truths: Vec<MovieTruth> = (0..config.movies)
        .map(|m| movie_truth(config, m, map.n(), pixel))
        .collect();
    let particles: Vec<(&MovieParticle, f64)> = truths
        .iter()
        .flat_map(|t| t.particles.iter())
        .map(|p| {
            let f = former.centred_transform(&p.pose, Some(&p.ctf))?;
            Ok((p, variance_of_transform(&f)))
        })
        .collect::<anyhow::Result<_>>()?;
    ensure!(!particles.is_empty(), "no particle fits on the movies");
    let signal_variance = particles.iter().map(|(_, v)| v).sum::<f64>() / particles.len() as f64;
    ensure!(
        signal_variance > 0.0,
        "the map's projections are flat: is the map empty?"
    );
    let dose_px = config.dose_per_frame * pixel * pixel;
    let contrast = (config.snr / (dose_px * config.frames as f64 * signal_variance)).sqrt();

    std::fs::create_dir_all(out_dir.join("movies"))
        .with_context(|| format!("cannot create {}", out_dir.join("movies").display()))?;
    let gain = gain_reference(config);
    write_plane(&out_dir.join("gain.mrc"), &gain, pixel)?;
    let hot = hot_pixels(config);
    for (m, truth) in truths.iter().enumerate() {
        let rendered = truth
            .particles
            .par_iter()
            .map(|p| RenderedParticle::new(&former.image(&p.pose, None)?, &p.ctf))
            .collect::<Result<Vec<_>, _>>()?;
        let ice = ice::IceField::new(
            &config.ice,
            (config.width, config.height),
            pixel,
            &truth.ctf,
            config.seed,
            m,
        )?;
        let frames: Vec<Plane> = (0..config.frames)
            .into_par_iter()
            .map(|f| {
                let drift = [truth.drift[f][0] / pixel, truth.drift[f][1] / pixel];
                let exposure = config.dose_per_frame * (f as f64 + 0.5);
                let mut canvas = ice.at(drift, exposure, contrast);
                for (particle, image) in truth.particles.iter().zip(&rendered) {
                    let centre = [
                        particle.coordinate[0] + particle.track[f][0] / pixel,
                        particle.coordinate[1] + particle.track[f][1] / pixel,
                    ];
                    image.draw(&mut canvas, centre, exposure, config.microscope.voltage_kv);
                }
                let stream = (m * config.frames + f) as u64;
                counts(&canvas, &gain, &hot, dose_px, contrast, config.seed, stream)
            })
            .collect();
        let path = out_dir.join(&truth.movie_name);
        match config.format {
            MovieFormat::Mrc => write_movie(&path, &frames, pixel)?,
            MovieFormat::Tiff => write_counts_tiff(&path, &frames)?,
        }
    }
    let movies_star = out_dir.join("movies.star");
    truth::movies_star(&truths, config, pixel).write(&movies_star)?;
    truth::write_truth(&truths, config, map.n(), pixel, &out_dir.join("truth"))?;
    Ok(MovieSummary {
        movies: truths,
        movies_star,
        contrast,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Refuses configurations that cannot give a meaningful simulation.
fn check(config: &MovieSimulation, box_size: usize) -> anyhow::Result<()> {
    ensure!(config.movies > 0, "0 movies; expected at least 1");
    ensure!(
        config.frames >= 2,
        "{} frames per movie; expected at least 2",
        config.frames
    );
    ensure!(
        config.width >= 3 * box_size && config.height >= 3 * box_size,
        "movie size {}×{} px; expected at least 3 particle boxes ({} px) each way",
        config.width,
        config.height,
        3 * box_size
    );
    ensure!(
        config.dose_per_frame.is_finite() && config.dose_per_frame > 0.0,
        "dose per frame {} e/Å²; expected a finite value > 0",
        config.dose_per_frame
    );
    ensure!(
        config.snr.is_finite() && config.snr > 0.0,
        "SNR {}; expected a finite value > 0",
        config.snr
    );
    ensure!(
        config.gain_spread.is_finite() && (0.0..=1.0).contains(&config.gain_spread),
        "gain spread {}; expected 0 … 1",
        config.gain_spread
    );
    ensure!(
        config.ice.contrast.is_finite()
            && (0.0..0.5).contains(&config.ice.contrast)
            && config.ice.length.is_finite()
            && config.ice.length > 0.0,
        "ice contrast {} and length {} Å; expected 0 ≤ contrast < 0.5 and length > 0",
        config.ice.contrast,
        config.ice.length
    );
    ensure!(
        config.ice.thickness.is_finite() && (0.0..=5000.0).contains(&config.ice.thickness),
        "ice thickness {} Å; expected 0 … 5000 Å",
        config.ice.thickness
    );
    Ok(())
}

/// The truth of movie `m`: particle positions, poses, CTFs and tracks.
fn movie_truth(config: &MovieSimulation, m: usize, box_size: usize, pixel: f64) -> MovieTruth {
    let mut rng = Rng::stream(config.seed, Purpose::MovieParticles, m as u64);
    let margin = box_size as f64;
    let spacing = box_size as f64;
    let mut coordinates: Vec<[f64; 2]> = Vec::new();
    for _ in 0..config.particles_per_movie * 50 {
        if coordinates.len() == config.particles_per_movie {
            break;
        }
        let c = [
            rng.uniform_in(margin, config.width as f64 - margin),
            rng.uniform_in(margin, config.height as f64 - margin),
        ]
        .map(|v| (v * 100.0).round() / 100.0);
        if coordinates
            .iter()
            .all(|o| (o[0] - c[0]).hypot(o[1] - c[1]) >= spacing)
        {
            coordinates.push(c);
        }
    }
    let drift = global_drift(&config.motion, config.frames, config.seed, m);
    let positions: Vec<[f64; 2]> = coordinates.iter().map(|c| c.map(|v| v * pixel)).collect();
    let local = local_tracks(
        &config.motion,
        &positions,
        config.frames,
        config.dose_per_frame,
        config.seed,
        m,
    );
    let first = m * config.particles_per_movie;
    let particles = coordinates
        .into_iter()
        .zip(local)
        .enumerate()
        .map(|(i, (coordinate, local))| MovieParticle {
            coordinate,
            pose: random_pose(&mut rng, 0.0),
            ctf: config
                .defocus
                .draw(&config.microscope, config.seed, m, first + i),
            track: drift
                .iter()
                .zip(&local)
                .map(|(g, r)| [g[0] + r[0], g[1] + r[1]])
                .collect(),
        })
        .collect();
    let mean_defocus = DefocusModel {
        spread: 0.0,
        ..config.defocus
    };
    MovieTruth {
        movie_name: format!("movies/movie{:03}.{}", m + 1, config.format.extension()),
        ctf: mean_defocus.draw(&config.microscope, config.seed, m, first),
        drift,
        particles,
    }
}

/// The gain reference g (corrected frame = raw × g): exp(spread·z) per pixel, z ~ N(0, 1).
fn gain_reference(config: &MovieSimulation) -> Plane {
    let mut rng = Rng::stream(config.seed, Purpose::Gain, 0);
    let data = (0..config.width * config.height)
        .map(|_| (config.gain_spread * rng.normal()).exp() as f32)
        .collect();
    Plane::from_vec(config.width, config.height, data).unwrap_or_else(|e| unreachable!("{e}"))
}

/// Pixel indices of the detector's hot pixels.
fn hot_pixels(config: &MovieSimulation) -> Vec<usize> {
    let mut rng = Rng::stream(config.seed, Purpose::HotPixels, 0);
    (0..config.hot_pixels)
        .map(|_| (rng.uniform() * (config.width * config.height) as f64) as usize)
        .collect()
}

/// Raw counts of one frame whose signal canvas is `canvas` (see [`render`]).
fn counts(
    canvas: &Plane,
    gain: &Plane,
    hot: &[usize],
    dose_px: f64,
    contrast: f64,
    seed: u64,
    stream: u64,
) -> Plane {
    let mut rng = Rng::stream(seed, Purpose::Counts, stream);
    let mut data: Vec<f32> = canvas
        .data()
        .iter()
        .zip(gain.data())
        .map(|(&s, &g)| {
            let mean = dose_px * (1.0 - contrast * f64::from(s)).max(0.0) / f64::from(g);
            rng.poisson(mean) as f32
        })
        .collect();
    for &i in hot {
        data[i] += rng.poisson(20.0 * dose_px) as f32;
    }
    Plane::from_vec(canvas.width(), canvas.height(), data).unwrap_or_else(|e| unreachable!("{e}"))
}

/// Writes `frames` as one float32 MRC image stack (a movie), atomically.
fn write_movie(path: &Path, frames: &[Plane], pixel: f64) -> anyhow::Result<()> {
    let (width, height) = (frames[0].width(), frames[0].height());
    let mut writer = MrcStackWriter::create(path, width, height, pixel as f32, WriteMode::Float32)?;
    for frame in frames {
        writer.push(frame.data())?;
    }
    writer.finish()?;
    Ok(())
}

/// Writes count frames as an LZW-compressed TIFF, 8-bit when every count fits, else 16-bit.
fn write_counts_tiff(path: &Path, frames: &[Plane]) -> anyhow::Result<()> {
    let largest = frames
        .iter()
        .flat_map(|f| f.data().iter())
        .fold(0.0f32, |m, &v| m.max(v));
    let sample = if largest <= 255.0 {
        TiffSample::U8
    } else {
        TiffSample::U16
    };
    let (width, height) = (frames[0].width(), frames[0].height());
    write_tiff_stack(
        path,
        width,
        height,
        frames.iter().map(Plane::data),
        sample,
        TiffCompression::Lzw,
    )?;
    Ok(())
}

/// Writes one plane as a single-image float32 MRC file, atomically.
fn write_plane(path: &Path, plane: &Plane, pixel: f64) -> anyhow::Result<()> {
    write_movie(path, std::slice::from_ref(plane), pixel)
}
