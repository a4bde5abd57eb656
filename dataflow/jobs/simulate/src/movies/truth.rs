//! The files of a movie simulation besides the movies: `movies.star` (as an import writes it)
//! and the truth, in RELION's own formats where RELION has one.
//!
//! - `truth/particles.star`: every particle with `rlnMicrographName` (the motion-corrected
//!   micrograph's name, `movies/movieNNN.mrc` as motion correction writes it under its job
//!   directory), `rlnCoordinateX/Y` (frame-0 position, px), true `rlnAngleRot/Tilt/Psi`, zero
//!   origins and the particle's CTF; optics with the particle box and pixel size.
//! - `truth/micrographs.star`: one row per movie with the micrograph's true CTF and drift.
//! - `truth/motion/movieNNN.star`: the true global motion in the layout of a motion
//!   correction's per-movie file (`data_general`, `data_global_shift` with
//!   `rlnMicrographShiftX/Y` = −drift in movie pixels, the translation that aligns a frame).
//! - `truth/motion/movieNNN_tracks.star`: per-particle tracks in the layout of Bayesian
//!   polishing's `*_tracks.star` (`data_general` with `rlnParticleNumber`, then one block per
//!   particle, `data_0` …, with `rlnOriginXAngst/YAngst` = displacement from frame 0 in Å).
//! - `coordinates/movieNNN_pick.star`: what a picker writes (`rlnCoordinateX/Y`, whole pixels).

use std::path::Path;

use anyhow::Context;
use cryoflux_formats::star::{Column, DataBlock, StarFile, Value};

use super::{MovieSimulation, MovieTruth};

/// Optics columns shared by the movie and particle files.
fn optics_columns(config: &MovieSimulation, pixel: f64) -> Vec<Column> {
    let scope = &config.microscope;
    vec![
        Column::texts("rlnOpticsGroupName", ["opticsGroup1".to_string()]),
        Column::ints("rlnOpticsGroup", [1]),
        Column::floats("rlnMicrographOriginalPixelSize", [pixel]),
        Column::floats("rlnVoltage", [scope.voltage_kv]),
        Column::floats("rlnSphericalAberration", [scope.cs_mm]),
        Column::floats("rlnAmplitudeContrast", [scope.amplitude_contrast]),
    ]
}

/// `movies.star` as RELION's Import job writes it: `data_optics` and `data_movies`.
pub fn movies_star(truths: &[MovieTruth], config: &MovieSimulation, pixel: f64) -> StarFile {
    StarFile {
        blocks: vec![
            DataBlock::with_table("optics", optics_columns(config, pixel)),
            DataBlock::with_table(
                "movies",
                vec![
                    Column::texts(
                        "rlnMicrographMovieName",
                        truths.iter().map(|t| t.movie_name.clone()),
                    ),
                    Column::ints("rlnOpticsGroup", truths.iter().map(|_| 1)),
                ],
            ),
        ],
    }
}

/// The name motion correction gives movie `movie_name`'s micrograph, relative to its job
/// directory: the same path with the extension `.mrc`.
pub fn micrograph_name(movie_name: &str) -> String {
    Path::new(movie_name)
        .with_extension("mrc")
        .display()
        .to_string()
}

/// Writes every truth file into `dir` (and the picks next to it, in `../coordinates`).
pub fn write_truth(
    truths: &[MovieTruth],
    config: &MovieSimulation,
    box_size: usize,
    pixel: f64,
    dir: &Path,
) -> anyhow::Result<()> {
    let motion_dir = dir.join("motion");
    let picks_dir = dir.parent().unwrap_or(dir).join("coordinates");
    for d in [&motion_dir, &picks_dir] {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    particles_star(truths, config, box_size, pixel).write(&dir.join("particles.star"))?;
    micrographs_star(truths, config, pixel).write(&dir.join("micrographs.star"))?;
    for truth in truths {
        let stem = Path::new(&truth.movie_name)
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        global_motion_star(truth, config, pixel).write(&motion_dir.join(format!("{stem}.star")))?;
        tracks_star(truth).write(&motion_dir.join(format!("{stem}_tracks.star")))?;
        picks_star(truth).write(&picks_dir.join(format!("{stem}_pick.star")))?;
    }
    Ok(())
}

fn particles_star(
    truths: &[MovieTruth],
    config: &MovieSimulation,
    box_size: usize,
    pixel: f64,
) -> StarFile {
    let mut optics = optics_columns(config, pixel);
    optics.push(Column::floats("rlnImagePixelSize", [pixel]));
    optics.push(Column::ints("rlnImageSize", [box_size as i64]));
    optics.push(Column::ints("rlnImageDimensionality", [2]));
    let rows: Vec<(&MovieTruth, &super::MovieParticle)> = truths
        .iter()
        .flat_map(|t| t.particles.iter().map(move |p| (t, p)))
        .collect();
    let float = |label: &str, get: &dyn Fn(&super::MovieParticle) -> f64| {
        Column::floats(label, rows.iter().map(|(_, p)| get(p)))
    };
    let particles = vec![
        Column::texts(
            "rlnMicrographName",
            rows.iter().map(|(t, _)| micrograph_name(&t.movie_name)),
        ),
        float("rlnCoordinateX", &|p| p.coordinate[0]),
        float("rlnCoordinateY", &|p| p.coordinate[1]),
        float("rlnAngleRot", &|p| p.pose.angles.rot),
        float("rlnAngleTilt", &|p| p.pose.angles.tilt),
        float("rlnAnglePsi", &|p| p.pose.angles.psi),
        float("rlnOriginXAngst", &|p| p.pose.origin[0]),
        float("rlnOriginYAngst", &|p| p.pose.origin[1]),
        float("rlnDefocusU", &|p| p.ctf.defocus_u),
        float("rlnDefocusV", &|p| p.ctf.defocus_v),
        float("rlnDefocusAngle", &|p| p.ctf.defocus_angle_deg),
        Column::ints("rlnOpticsGroup", rows.iter().map(|_| 1)),
    ];
    StarFile {
        blocks: vec![
            DataBlock::with_table("optics", optics),
            DataBlock::with_table("particles", particles),
        ],
    }
}

fn micrographs_star(truths: &[MovieTruth], config: &MovieSimulation, pixel: f64) -> StarFile {
    let mut optics = optics_columns(config, pixel);
    optics.push(Column::floats("rlnMicrographPixelSize", [pixel]));
    let total_drift = |t: &MovieTruth| {
        t.drift
            .windows(2)
            .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
            .sum::<f64>()
    };
    let micrographs = vec![
        Column::texts(
            "rlnMicrographName",
            truths.iter().map(|t| micrograph_name(&t.movie_name)),
        ),
        Column::texts(
            "rlnMicrographMovieName",
            truths.iter().map(|t| t.movie_name.clone()),
        ),
        Column::ints("rlnOpticsGroup", truths.iter().map(|_| 1)),
        Column::floats("rlnDefocusU", truths.iter().map(|t| t.ctf.defocus_u)),
        Column::floats("rlnDefocusV", truths.iter().map(|t| t.ctf.defocus_v)),
        Column::floats(
            "rlnDefocusAngle",
            truths.iter().map(|t| t.ctf.defocus_angle_deg),
        ),
        Column::floats("rlnAccumMotionTotal", truths.iter().map(total_drift)),
    ];
    StarFile {
        blocks: vec![
            DataBlock::with_table("optics", optics),
            DataBlock::with_table("micrographs", micrographs),
        ],
    }
}

fn global_motion_star(truth: &MovieTruth, config: &MovieSimulation, pixel: f64) -> StarFile {
    let general = DataBlock::with_pairs(
        "general",
        vec![
            ("rlnImageSizeX", Value::Int(config.width as i64)),
            ("rlnImageSizeY", Value::Int(config.height as i64)),
            ("rlnImageSizeZ", Value::Int(config.frames as i64)),
            (
                "rlnMicrographMovieName",
                Value::Text(truth.movie_name.clone()),
            ),
            ("rlnMicrographBinning", Value::Float(1.0)),
            ("rlnMicrographOriginalPixelSize", Value::Float(pixel)),
            ("rlnMicrographDoseRate", Value::Float(config.dose_per_frame)),
            ("rlnMicrographPreExposure", Value::Float(0.0)),
            ("rlnVoltage", Value::Float(config.microscope.voltage_kv)),
            ("rlnMicrographStartFrame", Value::Int(1)),
            ("rlnMotionModelVersion", Value::Int(0)),
        ],
    );
    let shifts = DataBlock::with_table(
        "global_shift",
        vec![
            Column::ints("rlnMicrographFrameNumber", 1..=truth.drift.len() as i64),
            Column::floats(
                "rlnMicrographShiftX",
                truth.drift.iter().map(|d| -d[0] / pixel),
            ),
            Column::floats(
                "rlnMicrographShiftY",
                truth.drift.iter().map(|d| -d[1] / pixel),
            ),
        ],
    );
    StarFile {
        blocks: vec![general, shifts],
    }
}

fn tracks_star(truth: &MovieTruth) -> StarFile {
    let mut blocks = vec![DataBlock::with_pairs(
        "general",
        vec![(
            "rlnParticleNumber",
            Value::Int(truth.particles.len() as i64),
        )],
    )];
    blocks.extend(truth.particles.iter().enumerate().map(|(i, p)| {
        DataBlock::with_table(
            &i.to_string(),
            vec![
                Column::floats("rlnOriginXAngst", p.track.iter().map(|t| t[0])),
                Column::floats("rlnOriginYAngst", p.track.iter().map(|t| t[1])),
            ],
        )
    }));
    StarFile { blocks }
}

fn picks_star(truth: &MovieTruth) -> StarFile {
    StarFile {
        blocks: vec![DataBlock::with_table(
            "",
            vec![
                Column::floats(
                    "rlnCoordinateX",
                    truth.particles.iter().map(|p| p.coordinate[0].round()),
                ),
                Column::floats(
                    "rlnCoordinateY",
                    truth.particles.iter().map(|p| p.coordinate[1].round()),
                ),
            ],
        )],
    }
}
