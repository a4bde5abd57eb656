//! Motion correction of one movie, RELION's `--use_own` steps in order: read the frames to sum,
//! multiply by the gain, replace defects and hot pixels, bin early, align globally, align
//! patches and fit the polynomial model, sum (dose-weighted and/or not), bin late.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use cryoflux_formats::movie::Movie;
use cryoflux_kernels::fourier::fft::plane::{forward, inverse};
use cryoflux_kernels::grid::{Plane, PlaneSpectrum};
use cryoflux_kernels::motion::align::{AlignSettings, align_frames};
use cryoflux_kernels::motion::binning::bin_plane;
use cryoflux_kernels::motion::defects::{
    BadPixelMask, HOT_PIXEL_SIGMA, detect_hot_pixels, replace_bad_pixels,
};
use cryoflux_kernels::motion::dose::{DoseSettings, DoseWeighting, dose_weight};
use cryoflux_kernels::motion::frames::{apply_global_shifts, sum_aligned, sum_with_local_shifts};
use cryoflux_kernels::motion::gain::apply_gain;
use cryoflux_kernels::motion::patches::{PatchSettings, align_patches};
use cryoflux_kernels::motion::polynomial::{
    MAX_FIT_RMSD, PolynomialFit, PolynomialMotion, fit_polynomial,
};
use cryoflux_kernels::random::mix;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::settings::MotionCorrSettings;

/// One movie to correct, as dealt to a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MovieItem {
    /// Row of the movie in the input STAR file (0-based).
    pub index: usize,
    /// `rlnMicrographMovieName` as written.
    pub movie: String,
    /// The movie's pixel size in Å (`rlnMicrographOriginalPixelSize`, or `--angpix`).
    pub pixel_size: f64,
    /// Acceleration voltage in kV (`rlnVoltage`, or `--voltage`).
    pub voltage_kv: f64,
}

/// What is shared by every movie of a run: the settings and the oriented gain and defects.
#[derive(Debug, Clone)]
pub struct Detector {
    /// The run's settings.
    pub settings: MotionCorrSettings,
    /// The gain reference, oriented (`--gain_rot`, `--gain_flip`), if any.
    pub gain: Option<Plane>,
    /// The known bad pixels of the detector (`--defect_file`), if any.
    pub defects: Option<Defects>,
}

/// A detector's known bad pixels, as `--defect_file` gives them.
#[derive(Debug, Clone)]
pub enum Defects {
    /// Rectangles of a MotionCor2 defect file: [x, y, w, h] in px.
    Rectangles(Vec<[usize; 4]>),
    /// A defect map (nonzero = bad) of the frames' size.
    Map(BadPixelMask),
}

/// The result of correcting one movie.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrectedMovie {
    /// The movie's frame size in px (unbinned) and number of frames.
    pub size: [usize; 3],
    /// Global shift per summed frame, in unbinned movie px (frame 0 of the sum: [0, 0]).
    pub shifts: Vec<[f64; 2]>,
    /// Hot pixels found and replaced (x, y in px).
    pub hot_pixels: Vec<(usize, usize)>,
    /// The local motion model, if patches were aligned and the fit accepted.
    pub local: Option<LocalMotion>,
    /// The dose-weighted sum (if `--dose_weighting`).
    pub dose_weighted: Option<Plane>,
    /// The sum without dose weighting (if no dose weighting, or `--save_noDW`).
    pub plain: Option<Plane>,
    /// Wall-clock time of each step.
    pub times: StepTimes,
}

/// Wall-clock seconds spent in each step of correcting a movie.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepTimes {
    /// Reading and decoding the frames.
    pub read: f64,
    /// Gain, defects and hot pixels, early binning and the forward transforms.
    pub prepare: f64,
    /// Global alignment.
    pub align: f64,
    /// Patch alignment and the polynomial fit.
    pub local: f64,
    /// Dose weighting, summing and late binning.
    pub sum: f64,
}

impl StepTimes {
    /// The step names and times, in order.
    pub fn steps(&self) -> [(&'static str, f64); 5] {
        [
            ("read", self.read),
            ("gain, defects and transforms", self.prepare),
            ("global alignment", self.align),
            ("patch alignment", self.local),
            ("dose weighting and sum", self.sum),
        ]
    }

    /// Adds `other`'s times to these.
    pub fn add(&mut self, other: &StepTimes) {
        self.read += other.read;
        self.prepare += other.prepare;
        self.align += other.align;
        self.local += other.local;
        self.sum += other.sum;
    }
}

/// Patch observations and the polynomial model fitted to them.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalMotion {
    /// The fit; its model is in the (possibly early-binned) pixels of the alignment.
    pub fit: PolynomialFit,
    /// Observations (patch centre px, frame, local shift px), in the alignment's pixels.
    pub observations: Vec<cryoflux_kernels::motion::patches::PatchObservation>,
    /// Whether the model was accepted (fit RMSD below RELION's limit).
    pub accepted: bool,
}

/// Corrects `item`'s movie; errors name the movie and what was wrong.
pub fn correct_movie(item: &MovieItem, detector: &Detector) -> anyhow::Result<CorrectedMovie> {
    let s = &detector.settings;
    let movie = Movie::open(&item.movie)?;
    let (width, height, count) = (movie.width(), movie.height(), movie.frame_count());
    let first = s.first_frame_sum.max(1) - 1;
    let last = if s.last_frame_sum <= 0 {
        count
    } else {
        (s.last_frame_sum as usize).min(count)
    };
    ensure!(
        last > first + 1,
        "{}: {count} frame(s), frames {}–{last} to sum; at least two frames are needed to align",
        item.movie,
        first + 1
    );
    let mut times = StepTimes::default();
    let mut clock = Instant::now();
    let mut lap = || {
        let seconds = clock.elapsed().as_secs_f64();
        clock = Instant::now();
        seconds
    };
    let mut frames = (first..last)
        .into_par_iter()
        .map(|f| Ok(Plane::from_vec(width, height, movie.read_frame(f)?)?))
        .collect::<anyhow::Result<Vec<Plane>>>()?;
    times.read = lap();
    if let Some(gain) = &detector.gain {
        frames.par_iter_mut().try_for_each(|frame| {
            apply_gain(frame, gain).with_context(|| {
                format!(
                    "{}: the gain reference does not fit the movie's {width} × {height} px frames",
                    item.movie
                )
            })
        })?;
    }
    let (bad_pixels, hot_pixels) = bad_pixels(&frames, detector, item)?;
    let bin = s.bin_factor.max(1.0);
    let early = bin > 1.0 && s.early_binning;
    let seed = mix(s.seed ^ mix(item.index as u64));
    // Each frame is repaired, binned and transformed, and freed as soon as it is: the real
    // frames and their spectra are never all in memory together.
    let mut spectra = frames
        .into_par_iter()
        .enumerate()
        .map(|(f, mut frame)| {
            if bad_pixels.count() > 0 {
                replace_bad_pixels(&mut frame, &bad_pixels, seed, f)?;
            }
            if early {
                frame = bin_plane(&frame, bin)?;
            }
            Ok(forward(&frame))
        })
        .collect::<anyhow::Result<Vec<PlaneSpectrum>>>()?;
    let scale = if early { bin } else { 1.0 };
    times.prepare = lap();
    let align = AlignSettings {
        bfactor: s.bfactor / (scale * scale),
        ccf_downsample: s.ccf_downsample,
        max_iter: s.max_iter,
        ..AlignSettings::default()
    };
    let alignment = align_frames(&spectra, &align)
        .with_context(|| format!("{}: global alignment", item.movie))?;
    times.align = lap();
    let pixel = item.pixel_size * scale;
    let dose = s
        .dose_weighting
        .then(|| {
            let exposure = DoseSettings::new(
                s.dose_per_frame,
                s.preexposure + first as f64 * s.dose_per_frame,
                item.voltage_kv,
            )?;
            DoseWeighting::new(pixel, exposure)
        })
        .transpose()?;
    let plain_wanted = !s.dose_weighting || s.save_nodw;
    let late = |plane: Plane| -> anyhow::Result<Plane> {
        Ok(if bin > 1.0 && !early {
            bin_plane(&plane, bin)?
        } else {
            plane
        })
    };
    let (local, sums) = if s.local_alignment() {
        apply_global_shifts(&mut spectra, &alignment.shifts)?;
        local_sums(spectra, s, align, dose.as_ref(), plain_wanted, item)?
    } else {
        let sum = |dose| -> anyhow::Result<Plane> {
            Ok(inverse(&sum_aligned(&spectra, &alignment.shifts, dose)?))
        };
        let sums = Sums {
            dose_weighted: dose.as_ref().map(|d| sum(Some(d))).transpose()?,
            plain: plain_wanted.then(|| sum(None)).transpose()?,
        };
        (None, sums)
    };
    let dose_weighted = sums.dose_weighted.map(late).transpose()?;
    let plain = sums.plain.map(late).transpose()?;
    times.sum = lap();
    Ok(CorrectedMovie {
        times,
        size: [width, height, count],
        shifts: alignment
            .shifts
            .iter()
            .map(|v| [v[0] * scale, v[1] * scale])
            .collect(),
        hot_pixels,
        local,
        dose_weighted,
        plain,
    })
}

/// A movie's sums before late binning: dose-weighted and/or plain.
struct Sums {
    dose_weighted: Option<Plane>,
    plain: Option<Plane>,
}

/// The detector's known defects and the movie's hot pixels (unless `--skip_defect`, then none),
/// and the hot pixels alone.
fn bad_pixels(
    frames: &[Plane],
    detector: &Detector,
    item: &MovieItem,
) -> anyhow::Result<(BadPixelMask, Vec<(usize, usize)>)> {
    let (width, height) = (frames[0].width(), frames[0].height());
    if detector.settings.skip_defect {
        return Ok((BadPixelMask::none(width, height), Vec::new()));
    }
    let mut mask = match &detector.defects {
        Some(Defects::Rectangles(rectangles)) => {
            BadPixelMask::from_rectangles(width, height, rectangles.iter().copied())
        }
        Some(Defects::Map(mask)) if (mask.width(), mask.height()) == (width, height) => {
            mask.clone()
        }
        Some(Defects::Map(mask)) => bail!(
            "{}: the defect map is {} × {} px, the movie's frames {width} × {height} px",
            item.movie,
            mask.width(),
            mask.height()
        ),
        None => BadPixelMask::none(width, height),
    };
    // Rows in parallel, frames added in order: the same sum for any number of threads.
    let mut sum = Plane::zeros(width, height);
    sum.data_mut()
        .par_chunks_mut(width)
        .enumerate()
        .for_each(|(y, row)| {
            for frame in frames {
                for (s, v) in row.iter_mut().zip(frame.row(y)) {
                    *s += v;
                }
            }
        });
    let hot = detect_hot_pixels(&sum, &mask, HOT_PIXEL_SIGMA)?;
    for &(x, y) in &hot {
        mask.mark(x, y);
    }
    Ok((mask, hot))
}

/// The local path, from the globally aligned spectra (consumed): patch alignment and the
/// polynomial fit, then the sums of the frames moved by the model if it was accepted (by the
/// global shifts alone otherwise).
fn local_sums(
    spectra: Vec<PlaneSpectrum>,
    s: &MotionCorrSettings,
    align: AlignSettings,
    dose: Option<&DoseWeighting>,
    plain_wanted: bool,
    item: &MovieItem,
) -> anyhow::Result<(Option<LocalMotion>, Sums)> {
    // The aligned frames in real space, transformed once: the patches align them and the
    // plain local sum resamples them.
    let aligned: Vec<Plane> = spectra.par_iter().map(inverse).collect();
    let local = local_motion(&aligned, s, align, item)?;
    let model = local.accepted.then_some(&local.fit.motion);
    let zero = vec![[0.0; 2]; spectra.len()];
    let plain = match (plain_wanted, model) {
        (false, _) => None,
        (true, Some(m)) => Some(local_sum(&aligned, m)?),
        (true, None) => Some(inverse(&sum_aligned(&spectra, &zero, None)?)),
    };
    drop(aligned);
    let dose_weighted = match (dose, model) {
        (None, _) => None,
        (Some(d), None) => Some(inverse(&sum_aligned(&spectra, &zero, Some(d))?)),
        (Some(d), Some(m)) => {
            let count = spectra.len();
            let weighted: Vec<Plane> = spectra
                .into_par_iter()
                .enumerate()
                .map(|(f, mut spectrum)| {
                    dose_weight(&mut spectrum, f, count, d);
                    inverse(&spectrum)
                })
                .collect();
            Some(local_sum(&weighted, m)?)
        }
    };
    Ok((
        Some(local),
        Sums {
            dose_weighted,
            plain,
        },
    ))
}

/// Patch alignment of the globally aligned frames and the polynomial fit.
fn local_motion(
    aligned: &[Plane],
    s: &MotionCorrSettings,
    align: AlignSettings,
    item: &MovieItem,
) -> anyhow::Result<LocalMotion> {
    let (width, height) = (aligned[0].width(), aligned[0].height());
    let patches = PatchSettings {
        patch_x: s.patch_x,
        patch_y: s.patch_y,
        group_frames: s.group_frames,
        align,
    };
    let observations = align_patches(aligned, &patches)
        .with_context(|| format!("{}: patch alignment", item.movie))?;
    let fit = fit_polynomial(&observations, width, height)
        .with_context(|| format!("{}: local motion model", item.movie))?;
    let accepted = fit.accepted(MAX_FIT_RMSD).is_some();
    Ok(LocalMotion {
        fit,
        observations,
        accepted,
    })
}

/// The sum of the globally aligned `frames`, each moved by the local model.
fn local_sum(frames: &[Plane], model: &PolynomialMotion) -> anyhow::Result<Plane> {
    let (width, height) = (frames[0].width() as f64, frames[0].height() as f64);
    let rows = frames[0].height();
    // The model along every row of every frame, evaluated once: then each pixel costs a
    // quadratic in x.
    let along: Vec<[[f64; 3]; 2]> = (0..frames.len() * rows)
        .map(|i| model.along_row((i % rows) as f64 / height - 0.5, (i / rows) as f64))
        .collect();
    Ok(sum_with_local_shifts(frames, |x, y, f| {
        let [cx, cy] = &along[f * rows + y as usize];
        let x = x / width - 0.5;
        [
            cx[0] + x * (cx[1] + x * cx[2]),
            cy[0] + x * (cy[1] + x * cy[2]),
        ]
    })?)
}

/// Path of `movie`'s outputs under `output_dir` with `suffix` replacing its extension: the
/// movie's path as written, without a leading `/` or `../` components (RELION keeps the
/// directories under the job directory).
pub fn output_path(output_dir: &Path, movie: &str, suffix: &str) -> std::path::PathBuf {
    let relative: std::path::PathBuf = Path::new(movie)
        .components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .collect();
    let stem = relative.with_extension("");
    output_dir.join(format!("{}{suffix}", stem.display()))
}
