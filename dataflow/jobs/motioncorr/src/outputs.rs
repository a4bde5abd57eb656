//! The files of a motion correction, as RELION 3.1 writes them: per movie the micrograph
//! (`<movie>.mrc`, `<movie>_noDW.mrc`), its metadata (`<movie>.star`: `data_general`,
//! `data_global_shift`, `data_local_motion_model`, `data_hot_pixels`, `data_local_shift`) and a
//! plot of the global shifts (`<movie>_shifts.svg`, where RELION writes EPS); for the run
//! `corrected_micrographs.star` with the accumulated motion per micrograph.

use std::path::Path;

use anyhow::Context;
use cryoflux_formats::mrc::{MrcStackWriter, WriteMode};
use cryoflux_formats::star::{Column, DataBlock, StarFile, Table, Value};
use cryoflux_jobkit::plots::{Axes, LineChart, Plot, Series, colour};
use cryoflux_kernels::grid::Plane;
use cryoflux_kernels::motion::statistics::AccumulatedMotion;

use crate::correct::{CorrectedMovie, MovieItem};
use crate::settings::MotionCorrSettings;

/// RELION's marker for a frame whose shift was not observed (outside the summed frames).
pub const UNOBSERVED: f64 = -9999.0;

/// Writes a micrograph as a one-section MRC file of pixel size `pixel` Å, atomically.
pub fn write_micrograph(
    path: &Path,
    plane: &Plane,
    pixel: f64,
    float16: bool,
) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mode = if float16 {
        WriteMode::Float16
    } else {
        WriteMode::Float32
    };
    let mut writer =
        MrcStackWriter::create(path, plane.width(), plane.height(), pixel as f32, mode)?;
    writer.push(plane.data())?;
    writer.finish()?;
    Ok(())
}

/// The per-movie metadata STAR file of `corrected` (shifts in unbinned movie px).
pub fn metadata_star(
    item: &MovieItem,
    corrected: &CorrectedMovie,
    s: &MotionCorrSettings,
) -> StarFile {
    let [width, height, count] = corrected.size;
    let first = s.first_frame_sum.max(1) - 1;
    let version = i64::from(corrected.local.as_ref().is_some_and(|l| l.accepted));
    let mut general: Vec<(&str, Value)> = vec![
        ("rlnImageSizeX", Value::Int(width as i64)),
        ("rlnImageSizeY", Value::Int(height as i64)),
        ("rlnImageSizeZ", Value::Int(count as i64)),
        ("rlnMicrographMovieName", Value::Text(item.movie.clone())),
    ];
    if let Some(gain) = &s.gainref {
        general.push((
            "rlnMicrographGainName",
            Value::Text(gain.display().to_string()),
        ));
    }
    if let Some(defects) = &s.defect_file {
        general.push((
            "rlnMicrographDefectFile",
            Value::Text(defects.display().to_string()),
        ));
    }
    general.extend([
        ("rlnMicrographBinning", Value::Float(s.bin_factor)),
        (
            "rlnMicrographOriginalPixelSize",
            Value::Float(item.pixel_size),
        ),
        ("rlnMicrographDoseRate", Value::Float(s.dose_per_frame)),
        ("rlnMicrographPreExposure", Value::Float(s.preexposure)),
        ("rlnVoltage", Value::Float(item.voltage_kv)),
        ("rlnMicrographStartFrame", Value::Int(first as i64 + 1)),
        ("rlnMotionModelVersion", Value::Int(version)),
    ]);
    let shift = |f: usize, axis: usize| match f.checked_sub(first) {
        Some(i) if i < corrected.shifts.len() => corrected.shifts[i][axis],
        _ => UNOBSERVED,
    };
    let mut blocks = vec![
        DataBlock::with_pairs("general", general),
        DataBlock::with_table(
            "global_shift",
            vec![
                Column::ints("rlnMicrographFrameNumber", 1..=count as i64),
                Column::floats("rlnMicrographShiftX", (0..count).map(|f| shift(f, 0))),
                Column::floats("rlnMicrographShiftY", (0..count).map(|f| shift(f, 1))),
            ],
        ),
    ];
    if let Some(local) = corrected.local.as_ref().filter(|l| l.accepted) {
        let coefficients = local.fit.motion.coefficients;
        blocks.push(DataBlock::with_table(
            "local_motion_model",
            vec![
                Column::ints("rlnMotionModelCoeffsIdx", 0..coefficients.len() as i64),
                Column::floats("rlnMotionModelCoeff", coefficients),
            ],
        ));
    }
    if !corrected.hot_pixels.is_empty() {
        let hot = &corrected.hot_pixels;
        blocks.push(DataBlock::with_table(
            "hot_pixels",
            vec![
                Column::floats("rlnCoordinateX", hot.iter().map(|p| p.0 as f64)),
                Column::floats("rlnCoordinateY", hot.iter().map(|p| p.1 as f64)),
            ],
        ));
    }
    if let Some(local) = &corrected.local {
        let scale = corrected.size[0] as f64 / aligned_width(corrected, s);
        let o = &local.observations;
        blocks.push(DataBlock::with_table(
            "local_shift",
            vec![
                Column::ints(
                    "rlnMicrographFrameNumber",
                    o.iter()
                        .map(|o| (o.frame - 0.5).round() as i64 + first as i64 + 1),
                ),
                Column::floats("rlnCoordinateX", o.iter().map(|o| o.centre[0] * scale)),
                Column::floats("rlnCoordinateY", o.iter().map(|o| o.centre[1] * scale)),
                Column::floats("rlnMicrographShiftX", o.iter().map(|o| o.shift[0] * scale)),
                Column::floats("rlnMicrographShiftY", o.iter().map(|o| o.shift[1] * scale)),
            ],
        ));
    }
    StarFile { blocks }
}

/// Width in px of the frames the alignment ran on (binned when binning early).
fn aligned_width(corrected: &CorrectedMovie, s: &MotionCorrSettings) -> f64 {
    let width = corrected.size[0] as f64;
    if s.bin_factor > 1.0 && s.early_binning {
        (width / s.bin_factor).floor()
    } else {
        width
    }
}

/// The plot of the global shifts (px) of one movie, frame by frame.
pub fn shifts_plot(movie: &str, shifts: &[[f64; 2]]) -> LineChart {
    let series = |name: &str, i: usize| Series {
        name: name.into(),
        points: shifts
            .iter()
            .enumerate()
            .map(|(f, s)| ((f + 1) as f64, s[i]))
            .collect(),
        colour: colour(i + 1),
        width: 2,
        dashed: false,
        markers: true,
    };
    LineChart::new(
        Axes::new(&format!("Global shifts of {movie}"), "frame", "shift (px)").with_integer_x(),
        vec![series("x", 0), series("y", 1)],
    )
}

/// Writes the shifts plot as SVG.
pub fn write_shifts_plot(path: &Path, movie: &str, shifts: &[[f64; 2]]) -> anyhow::Result<()> {
    shifts_plot(movie, shifts).write_svg(path)
}

/// One corrected micrograph's row of `corrected_micrographs.star`.
#[derive(Debug, Clone, PartialEq)]
pub struct MicrographRow {
    /// `rlnMicrographName`.
    pub micrograph: String,
    /// `rlnMicrographMetadata`.
    pub metadata: String,
    /// `rlnOpticsGroup`.
    pub optics_group: i64,
    /// `rlnAccumMotionTotal/Early/Late` (px).
    pub motion: AccumulatedMotion,
}

/// `corrected_micrographs.star`: the input optics table with `rlnMicrographPixelSize` (Å,
/// after binning) added, and one row per corrected micrograph.
pub fn corrected_micrographs_star(
    optics: &Table,
    bin_factor: f64,
    rows: &[MicrographRow],
) -> StarFile {
    let mut optics = optics.clone();
    if let Some(original) = optics
        .floats("rlnMicrographOriginalPixelSize")
        .map(<[f64]>::to_vec)
    {
        optics.set_column(Column::floats(
            "rlnMicrographPixelSize",
            original.iter().map(|p| p * bin_factor),
        ));
    }
    StarFile {
        blocks: vec![
            DataBlock {
                name: "optics".into(),
                pairs: Vec::new(),
                table: Some(optics),
            },
            DataBlock::with_table(
                "micrographs",
                vec![
                    Column::texts(
                        "rlnMicrographName",
                        rows.iter().map(|r| r.micrograph.clone()),
                    ),
                    Column::texts(
                        "rlnMicrographMetadata",
                        rows.iter().map(|r| r.metadata.clone()),
                    ),
                    Column::ints("rlnOpticsGroup", rows.iter().map(|r| r.optics_group)),
                    Column::floats("rlnAccumMotionTotal", rows.iter().map(|r| r.motion.total)),
                    Column::floats("rlnAccumMotionEarly", rows.iter().map(|r| r.motion.early)),
                    Column::floats("rlnAccumMotionLate", rows.iter().map(|r| r.motion.late)),
                ],
            ),
        ],
    }
}
