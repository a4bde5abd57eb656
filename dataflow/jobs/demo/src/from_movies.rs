//! The demo's first half from movies (the default): counting movies simulated into the project
//! (`cryoflux simulate --movies`: `movies/movieNNN.tif`, `gain.mrc`, `coordinates/`, `truth/`),
//! then RELION's preprocessing jobs, each called through its crate's `run`:
//!
//! | job | what | settings |
//! |---|---|---|
//! | `Import/job001/` | `movies.star` | the simulator's optics (3.0 Å/px, 300 kV, Cs 2.7 mm, Q0 0.1) |
//! | `MotionCorr/job002/` | `relion_run_motioncorr --use_own` | gain reference, dose weighting, global alignment (1 × 1 patches), B-factor 150 px² |
//! | `CtfFind/job003/` | CTFFIND-4.1 | see [`ctf_settings`] |
//! | `ManualPick/job004/` | the simulator's picks | `movies/movieNNN_manualpick.star` (true positions rounded to whole px) |
//! | `Extract/job005/` | `relion_preprocess --extract` | box 48 px, `--norm` (background radius 18 px, RELION's 75 % of the box radius), `--invert_contrast` |
//!
//! and the true poses of the extracted particles in `truth/extracted_particles.star`
//! ([`crate::extracted_truth`]). What motion correction and CTF estimation recovered is
//! measured against `truth/motion/` and `truth/micrographs.star`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use cryoflux_ctffind::settings::Settings as CtfSettings;
use cryoflux_extract::Settings as ExtractSettings;
use cryoflux_import::movies::{ImportKind, ImportSettings, import};
use cryoflux_kernels::grid::Volume;
use cryoflux_motioncorr::correct::output_path;
use cryoflux_motioncorr::settings::MotionCorrSettings;
use cryoflux_reporting::assess::{PreprocessingErrors, defocus_errors, global_shift_error};
use cryoflux_simulate::movies::{MovieSimulation, MovieTruth, simulate_movies};

use crate::extracted_truth::write_true_poses;
use crate::project::Project;
use crate::refinement::ParticleSet;

/// Box of the extracted particles in px (the bundled map's box, so the reference fits).
const EXTRACT_BOX_PX: usize = 48;

/// Background radius of `--norm` in px: RELION's default, 75 % of the box radius.
const BACKGROUND_RADIUS_PX: f64 = 0.75 * EXTRACT_BOX_PX as f64 / 2.0;

/// The movies to simulate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MovieSizes {
    /// Number of movies.
    pub movies: usize,
    /// Side of the square frames, px.
    pub movie_size: usize,
    /// Frames per movie (1 e/Å² each).
    pub frames: usize,
}

/// The particles the preprocessing made, and how well it recovered the truth.
#[derive(Debug, Clone)]
pub struct Preprocessed {
    /// Extracted particles and their true poses.
    pub particles: ParticleSet,
    /// Motion and CTF errors against the truth.
    pub errors: PreprocessingErrors,
}

/// The CtfFind job's settings for micrographs of `pixel` Å: tiles of 256 px (16 per 1024²
/// micrograph), a fit from 30 Å to 2.5 px (7.5 Å at 3 Å/px, inside Nyquist), defoci searched
/// from 0.5 to 5 µm in 250 Å steps, no astigmatism restraint.
pub fn ctf_settings(
    input: PathBuf,
    output_dir: PathBuf,
    pixel: f64,
    threads: usize,
) -> CtfSettings {
    CtfSettings {
        input,
        output_dir,
        box_size: 256,
        res_min: 30.0,
        res_max: 2.5 * pixel,
        df_min: 5_000.0,
        df_max: 50_000.0,
        threads,
        ..CtfSettings::default()
    }
}

/// Simulates movies of `truth` with about `count` particles in all at `snr` and runs the jobs
/// of the module doc.
pub fn preprocess(
    project: &mut Project,
    truth: &Volume,
    sizes: &MovieSizes,
    count: usize,
    snr: f64,
    seed: u64,
    threads: usize,
) -> anyhow::Result<Preprocessed> {
    let pixel = truth.pixel_size();
    let config = MovieSimulation {
        width: sizes.movie_size,
        height: sizes.movie_size,
        frames: sizes.frames,
        particles_per_movie: count.div_ceil(sizes.movies.max(1)),
        snr,
        ..MovieSimulation::typical(sizes.movies, seed)
    };
    let mut clock = Clock::start();
    let simulated = simulate_movies(truth, &config, Path::new("."))?;
    let movies = &simulated.movies;
    clock.step(&format!(
        "simulated {} movies with {} particles",
        movies.len(),
        movies.iter().map(|m| m.particles.len()).sum::<usize>()
    ));

    let scope = &config.microscope;
    let (movies_star, _) = import(&ImportSettings {
        kind: ImportKind::Movies,
        input: format!("movies/*.{}", config.format.extension()),
        output_dir: project.job("Import"),
        output_file: None,
        optics_group_name: "opticsGroup1".into(),
        optics_group_mtf: None,
        angpix: pixel,
        voltage_kv: scope.voltage_kv,
        cs_mm: scope.cs_mm,
        amplitude_contrast: scope.amplitude_contrast,
        beamtilt_x: 0.0,
        beamtilt_y: 0.0,
    })?;

    let motion_dir = project.job("MotionCorr");
    let motion = cryoflux_motioncorr::run::run(&MotionCorrSettings {
        gainref: Some(PathBuf::from("gain.mrc")),
        dose_weighting: true,
        dose_per_frame: config.dose_per_frame,
        threads,
        seed,
        ..MotionCorrSettings::new(movies_star, motion_dir.clone())
    })?;
    clock.step("motion-corrected");

    let ctf_dir = project.job("CtfFind");
    let ctf = cryoflux_ctffind::run(&ctf_settings(
        motion.star.clone(),
        ctf_dir.clone(),
        pixel,
        threads,
    ))?;
    clock.step("estimated the CTFs");

    let pick_dir = project.job("ManualPick");
    copy_picks(movies, &pick_dir)?;
    let extract_dir = project.job("Extract");
    let particles_star = extract_dir.join("particles.star");
    let extracted = cryoflux_extract::run(&ExtractSettings {
        coord_dir: Some(pick_dir),
        part_dir: extract_dir.clone(),
        norm: true,
        bg_radius: Some(BACKGROUND_RADIUS_PX),
        invert_contrast: true,
        j: threads,
        ..ExtractSettings::new(
            ctf.star.clone(),
            PICK_SUFFIX,
            particles_star.clone(),
            EXTRACT_BOX_PX,
        )
    })?;
    clock.step(&format!("extracted {} particles", extracted.particles));

    let true_poses = PathBuf::from("truth/extracted_particles.star");
    write_true_poses(&particles_star, movies, pixel, &true_poses)?;
    let shift_pairs: Vec<(PathBuf, PathBuf)> = movies
        .iter()
        .map(|m| {
            let stem = movie_stem(m);
            (
                output_path(&motion_dir, &m.movie_name, ".star"),
                Path::new("truth/motion").join(format!("{stem}.star")),
            )
        })
        .collect();
    let errors = PreprocessingErrors {
        shifts: global_shift_error(&shift_pairs)?,
        defocus: defocus_errors(&ctf.star, Path::new("truth/micrographs.star"))?,
    };
    Ok(Preprocessed {
        particles: ParticleSet {
            star: particles_star,
            true_poses,
            count: extracted.particles,
        },
        errors,
    })
}

/// Suffix of the picks in the ManualPick job (RELION's for manual picking).
const PICK_SUFFIX: &str = "_manualpick.star";

/// `movieNNN` of a movie.
fn movie_stem(movie: &MovieTruth) -> String {
    Path::new(&movie.movie_name)
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}

/// Copies the simulator's `coordinates/movieNNN_pick.star` to
/// `<pick_dir>movies/movieNNN_manualpick.star`, where extraction looks for the picks of
/// `MotionCorr/jobNNN/movies/movieNNN.mrc`.
fn copy_picks(movies: &[MovieTruth], pick_dir: &Path) -> anyhow::Result<()> {
    for movie in movies {
        let stem = movie_stem(movie);
        let source = Path::new("coordinates").join(format!("{stem}_pick.star"));
        let text = std::fs::read_to_string(&source)
            .with_context(|| format!("cannot read the picks {}", source.display()))?;
        let relative = Path::new(&movie.movie_name).with_extension("");
        let target = pick_dir.join(format!("{}{PICK_SUFFIX}", relative.display()));
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        cryoflux_formats::atomic::write_text(&target, &text)?;
    }
    Ok(())
}

/// Wall-clock time of each step, printed as it ends.
struct Clock(Instant);

impl Clock {
    fn start() -> Self {
        Self(Instant::now())
    }

    /// Prints `what` with the seconds since the previous step.
    fn step(&mut self, what: &str) {
        eprintln!(
            "cryoflux demo: {what} in {:.1} s",
            self.0.elapsed().as_secs_f64()
        );
        self.0 = Instant::now();
    }
}
