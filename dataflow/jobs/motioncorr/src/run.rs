//! A `cryoflux motioncorr` run: the movies of `--i` corrected one per worker at a time, each
//! movie's files written by the worker that corrected it, then `corrected_micrographs.star`
//! with the movies that succeeded, in input order. A movie that fails is reported (file and
//! reason) and left out; the run fails only when no movie could be corrected.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, anyhow, bail, ensure};
use cryoflux_formats::movie::{Movie, read_defect_file};
use cryoflux_formats::star::StarFile;
use cryoflux_jobkit::batch::run_per_movie;
use cryoflux_jobkit::micrographs::{MicrographSet, SetKind};
use cryoflux_kernels::grid::Plane;
use cryoflux_kernels::motion::defects::BadPixelMask;
use cryoflux_kernels::motion::gain::GainGeometry;
use cryoflux_kernels::motion::statistics::{AccumulatedMotion, DoseSchedule, accumulated_motion};

use crate::correct::{
    CorrectedMovie, Defects, Detector, MovieItem, StepTimes, correct_movie, output_path,
};
use crate::outputs::{
    MicrographRow, UNOBSERVED, corrected_micrographs_star, metadata_star, write_micrograph,
    write_shifts_plot,
};
use crate::settings::MotionCorrSettings;

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub struct MotionCorrSummary {
    /// Movies corrected (or found finished with `--only_do_unfinished`).
    pub corrected: usize,
    /// Movies that failed: (movie, reason).
    pub failed: Vec<(String, String)>,
    /// `corrected_micrographs.star`.
    pub star: PathBuf,
    /// Time per step, summed over the movies corrected in this run (worker seconds).
    pub times: StepTimes,
    /// Wall-clock time in seconds.
    pub seconds: f64,
}

/// Runs the motion correction `settings` describes.
pub fn run(settings: &MotionCorrSettings) -> anyhow::Result<MotionCorrSummary> {
    let start = Instant::now();
    check(settings)?;
    let movies = MicrographSet::read(&settings.input, SetKind::Movies)?;
    let detector = Arc::new(Detector {
        settings: settings.clone(),
        gain: read_gain(settings)?,
        defects: read_defects(settings)?,
    });
    let items: Vec<MovieItem> = (0..movies.names.len())
        .map(|i| {
            Ok(MovieItem {
                index: i,
                movie: movies.names[i].clone(),
                pixel_size: if settings.angpix > 0.0 {
                    settings.angpix
                } else {
                    movies.original_pixel_size(i)?
                },
                voltage_kv: if settings.voltage > 0.0 {
                    settings.voltage
                } else {
                    movies.optics_value(i, "rlnVoltage")?
                },
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let outcomes = run_per_movie(
        settings.threads,
        "MotionCorrection",
        items.clone(),
        move |item| process(item, &detector).map_err(|e| format!("{e:#}")),
    )?;
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    let mut times = StepTimes::default();
    for (item, outcome) in items.iter().zip(outcomes) {
        match outcome {
            Ok((motion, spent)) => {
                times.add(&spent);
                rows.push(MicrographRow {
                    micrograph: relion_name(&output_path(
                        &settings.output_dir,
                        &item.movie,
                        ".mrc",
                    )),
                    metadata: relion_name(&output_path(&settings.output_dir, &item.movie, ".star")),
                    optics_group: movies.optics_groups[item.index],
                    motion,
                });
            }
            Err(reason) => {
                tracing::warn!("skipped {}: {reason}", item.movie);
                failed.push((item.movie.clone(), reason));
            }
        }
    }
    if rows.is_empty() {
        bail!(
            "no movie of {} could be corrected; the first failure: {}",
            settings.input.display(),
            failed.first().map_or("none", |f| f.1.as_str())
        );
    }
    let star = settings.output_dir.join("corrected_micrographs.star");
    corrected_micrographs_star(&movies.optics, settings.bin_factor.max(1.0), &rows).write(&star)?;
    Ok(MotionCorrSummary {
        corrected: rows.len(),
        failed,
        star,
        times,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Corrects one movie and writes its files; returns its accumulated motion and step times
/// (with writing counted in the sum step).
fn process(
    item: &MovieItem,
    detector: &Detector,
) -> anyhow::Result<(AccumulatedMotion, StepTimes)> {
    let s = &detector.settings;
    let micrograph = output_path(&s.output_dir, &item.movie, ".mrc");
    let metadata = output_path(&s.output_dir, &item.movie, ".star");
    if s.only_do_unfinished && micrograph.exists() && metadata.exists() {
        return Ok((finished_motion(&metadata, s)?, StepTimes::default()));
    }
    let corrected = correct_movie(item, detector)?;
    let writing = Instant::now();
    let pixel = item.pixel_size * s.bin_factor.max(1.0);
    let main = corrected
        .dose_weighted
        .as_ref()
        .or(corrected.plain.as_ref());
    let main = main.ok_or_else(|| anyhow!("{}: no sum was made", item.movie))?;
    write_micrograph(&micrograph, main, pixel, s.float16)?;
    if let (Some(plain), true) = (&corrected.plain, s.dose_weighting) {
        write_micrograph(
            &output_path(&s.output_dir, &item.movie, "_noDW.mrc"),
            plain,
            pixel,
            s.float16,
        )?;
    }
    write_shifts_plot(
        &output_path(&s.output_dir, &item.movie, "_shifts.svg"),
        &item.movie,
        &corrected.shifts,
    )?;
    metadata_star(item, &corrected, s).write(&metadata)?;
    let motion = motion_of(&corrected, s)?;
    let mut times = corrected.times;
    times.sum += writing.elapsed().as_secs_f64();
    tracing::info!(
        "{}: {} frames aligned, {:.2} px accumulated motion, {} hot pixels{}",
        item.movie,
        corrected.shifts.len(),
        motion.total,
        corrected.hot_pixels.len(),
        match &corrected.local {
            Some(l) if l.accepted => format!(
                ", local model RMSD {:.3}/{:.3} px",
                l.fit.rmsd[0], l.fit.rmsd[1]
            ),
            Some(_) => ", local model rejected".to_string(),
            None => String::new(),
        }
    );
    Ok((motion, times))
}

/// The accumulated motion of a corrected movie.
fn motion_of(
    corrected: &CorrectedMovie,
    s: &MotionCorrSettings,
) -> anyhow::Result<AccumulatedMotion> {
    Ok(accumulated_motion(&corrected.shifts, &schedule(s))?)
}

/// The dose schedule of the accumulated motion statistics.
fn schedule(s: &MotionCorrSettings) -> DoseSchedule {
    DoseSchedule {
        first_frame: s.first_frame_sum.max(1) - 1,
        dose_per_frame: s.dose_per_frame,
        pre_exposure: s.preexposure,
        cutoff: s.dose_motionstats_cutoff,
    }
}

/// The accumulated motion of a movie corrected by an earlier run, from its metadata file.
fn finished_motion(metadata: &Path, s: &MotionCorrSettings) -> anyhow::Result<AccumulatedMotion> {
    let star = StarFile::read(metadata)?;
    let table = star
        .block("global_shift")
        .and_then(|b| b.table.as_ref())
        .ok_or_else(|| anyhow!("{}: no data_global_shift", metadata.display()))?;
    let (x, y) = (
        table.floats("rlnMicrographShiftX"),
        table.floats("rlnMicrographShiftY"),
    );
    let (Some(x), Some(y)) = (x, y) else {
        bail!(
            "{}: data_global_shift lacks rlnMicrographShiftX/Y",
            metadata.display()
        );
    };
    let shifts: Vec<[f64; 2]> = x
        .iter()
        .zip(y)
        .filter(|(x, _)| **x != UNOBSERVED)
        .map(|(&x, &y)| [x, y])
        .collect();
    Ok(accumulated_motion(&shifts, &schedule(s))?)
}

/// Refuses settings RELION would refuse, naming the flag.
fn check(s: &MotionCorrSettings) -> anyhow::Result<()> {
    ensure!(
        s.bin_factor.is_finite() && s.bin_factor >= 1.0,
        "--bin_factor {}; expected ≥ 1",
        s.bin_factor
    );
    ensure!(
        s.bfactor.is_finite() && s.bfactor > 0.0,
        "--bfactor {}; expected > 0 px²",
        s.bfactor
    );
    ensure!(
        s.first_frame_sum >= 1,
        "--first_frame_sum {}; expected ≥ 1",
        s.first_frame_sum
    );
    ensure!(s.max_iter >= 1, "--max_iter {}; expected ≥ 1", s.max_iter);
    ensure!(
        s.group_frames >= 1,
        "--group_frames {}; expected ≥ 1",
        s.group_frames
    );
    if s.dose_weighting {
        ensure!(
            s.dose_per_frame.is_finite() && s.dose_per_frame > 0.0,
            "--dose_per_frame {}; expected > 0 e/Å² with --dose_weighting",
            s.dose_per_frame
        );
    }
    GainGeometry::from_relion(s.gain_rot, s.gain_flip).context("--gain_rot/--gain_flip")?;
    Ok(())
}

/// The gain reference, oriented as `--gain_rot`/`--gain_flip` ask.
fn read_gain(s: &MotionCorrSettings) -> anyhow::Result<Option<Plane>> {
    let Some(path) = &s.gainref else {
        return Ok(None);
    };
    let plane = first_frame(path).with_context(|| format!("--gainref {}", path.display()))?;
    let geometry = GainGeometry::from_relion(s.gain_rot, s.gain_flip)?;
    Ok(Some(geometry.orient(&plane)))
}

/// The detector's known defects: a defect map for MRC/TIFF files, else a defect file.
fn read_defects(s: &MotionCorrSettings) -> anyhow::Result<Option<Defects>> {
    let Some(path) = &s.defect_file else {
        return Ok(None);
    };
    if s.skip_defect {
        return Ok(None);
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ["mrc", "mrcs", "tif", "tiff"].contains(&extension.as_str()) {
        let map = first_frame(path).with_context(|| format!("--defect_file {}", path.display()))?;
        return Ok(Some(Defects::Map(BadPixelMask::from_defect_map(&map))));
    }
    let rectangles = read_defect_file(path)?
        .into_iter()
        .map(|r| [r.x, r.y, r.width, r.height])
        .collect();
    Ok(Some(Defects::Rectangles(rectangles)))
}

/// The first image of an MRC or TIFF file, as a plane.
fn first_frame(path: &Path) -> anyhow::Result<Plane> {
    let file = Movie::open(path)?;
    Ok(Plane::from_vec(
        file.width(),
        file.height(),
        file.read_frame(0)?,
    )?)
}

/// `path` as RELION writes it in STAR files (without `./` components).
fn relion_name(path: &Path) -> String {
    path.components()
        .filter(|c| *c != std::path::Component::CurDir)
        .collect::<PathBuf>()
        .display()
        .to_string()
}
