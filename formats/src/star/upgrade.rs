//! Upgrading a RELION 3.0 particle table to 3.1 form, matching `relion_convert_star` 3.1.3:
//!
//! - the per-particle optics columns `rlnAmplitudeContrast`, `rlnBeamTiltX`, `rlnBeamTiltY`,
//!   `rlnSphericalAberration`, `rlnVoltage` move to `data_optics`, and `rlnMagnification` +
//!   `rlnDetectorPixelSize` become `rlnImagePixelSize` = detector pixel (µm) · 10⁴ /
//!   magnification, in Å;
//! - particles with the same values of those columns share an optics group, numbered from 1 in
//!   order of first appearance and named `opticsGroupN`;
//! - `rlnOpticsGroup` is appended to the particles, then the pixel origins `rlnOriginX/Y/Z`
//!   and their priors are replaced by `rlnOriginX/Y/ZAngst` (and `…PriorAngst`) = pixels ×
//!   pixel size, appended in that order. Other columns keep their order.
//!
//! Unlike RELION, the optics table also gets `rlnImageDimensionality` 2 (unless the particles
//! carry that column themselves); `rlnImageSize` is not known from a 3.0 file and can be set
//! later from the stacks with [`ParticleStar::set_image_size`]. Where RELION writes origins
//! multiplied by an uninitialised pixel size when the file has none, this is an error.

use std::collections::HashMap;
use std::path::Path;

use super::document::{Column, ColumnData, Table};
use super::particles::{ParticleFormat, ParticleStar};
use crate::error::{Error, Result};

/// RELION 3.0 per-particle labels that describe optics, in the order RELION writes them into
/// `data_optics`.
const OPTICS_LABELS: [&str; 5] = [
    "rlnAmplitudeContrast",
    "rlnBeamTiltX",
    "rlnBeamTiltY",
    "rlnSphericalAberration",
    "rlnVoltage",
];

/// Values that define an optics group: the optics labels and the pixel size.
const KEY_LENGTH: usize = OPTICS_LABELS.len() + 1;

/// RELION 3.0 origins in pixels and their 3.1 counterparts in Å, in RELION's output order.
const ORIGINS: [(&str, &str); 6] = [
    ("rlnOriginX", "rlnOriginXAngst"),
    ("rlnOriginY", "rlnOriginYAngst"),
    ("rlnOriginZ", "rlnOriginZAngst"),
    ("rlnOriginXPrior", "rlnOriginXPriorAngst"),
    ("rlnOriginYPrior", "rlnOriginYPriorAngst"),
    ("rlnOriginZPrior", "rlnOriginZPriorAngst"),
];

/// Upgrade the particle table of a RELION 3.0 file (see the module documentation).
/// `fallback_pixel_size` (Å) is used when the table has no `rlnMagnification` and
/// `rlnDetectorPixelSize`; without either, pixel origins cannot be converted and are an error.
/// `path` names the file in errors.
pub fn upgrade_v30(
    mut table: Table,
    path: &Path,
    fallback_pixel_size: Option<f64>,
) -> Result<ParticleStar> {
    if table.column("rlnOpticsGroup").is_some() {
        return Err(Error::content(
            path,
            "the particle table has rlnOpticsGroup but the file has no data_optics block",
        ));
    }
    let rows = table.rows();
    let mut optics_columns = Vec::new();
    for label in OPTICS_LABELS {
        if let Some(values) = take_floats(&mut table, label, path)? {
            optics_columns.push((label, values));
        }
    }
    let magnification = take_floats(&mut table, "rlnMagnification", path)?;
    let detector_pixel = take_floats(&mut table, "rlnDetectorPixelSize", path)?;
    let pixel_sizes = match (magnification, detector_pixel, fallback_pixel_size) {
        (Some(magnification), Some(detector), _) => Some(pixel_sizes_from_magnification(
            &magnification,
            &detector,
            path,
        )?),
        (_, _, Some(size)) if size.is_finite() && size > 0.0 => Some(vec![size; rows]),
        (_, _, Some(size)) => {
            return Err(Error::content(
                path,
                format!("pixel size {size} Å is not positive"),
            ));
        }
        _ => None,
    };
    if let Some(sizes) = pixel_sizes {
        optics_columns.push(("rlnImagePixelSize", sizes));
    }

    let (groups, first_rows) = assign_groups(rows, &optics_columns);
    let mut optics = Table::with_rows(first_rows.len());
    let numbers: Vec<i64> = (1..=first_rows.len() as i64).collect();
    let names = numbers.iter().map(|n| format!("opticsGroup{n}")).collect();
    optics.set_column(int_column("rlnOpticsGroup", numbers));
    optics.set_column(Column {
        label: "rlnOpticsGroupName".into(),
        data: ColumnData::Text(names),
    });
    for (label, values) in &optics_columns {
        let per_group = first_rows.iter().map(|&row| values[row]).collect();
        optics.set_column(Column {
            label: (*label).into(),
            data: ColumnData::Float(per_group),
        });
    }
    if table.column("rlnImageDimensionality").is_none() {
        optics.set_column(int_column(
            "rlnImageDimensionality",
            vec![2; first_rows.len()],
        ));
    }

    table.set_column(int_column("rlnOpticsGroup", groups));
    let pixel_sizes = optics_columns
        .iter()
        .find(|(label, _)| *label == "rlnImagePixelSize")
        .map(|(_, sizes)| sizes);
    for (pixels_label, angst_label) in ORIGINS {
        let Some(pixels) = take_floats(&mut table, pixels_label, path)? else {
            continue;
        };
        let Some(sizes) = pixel_sizes else {
            return Err(Error::content(
                path,
                format!(
                    "{pixels_label} is in pixels, and converting it to {angst_label} (Å) needs \
                     the pixel size, but the file has no rlnMagnification and \
                     rlnDetectorPixelSize; give the pixel size explicitly"
                ),
            ));
        };
        let angst = pixels.iter().zip(sizes).map(|(p, size)| p * size).collect();
        table.set_column(Column {
            label: angst_label.into(),
            data: ColumnData::Float(angst),
        });
    }
    Ok(ParticleStar {
        optics,
        particles: table,
        source_format: ParticleFormat::Relion30,
    })
}

/// Pixel size in Å of every particle: detector pixel (µm) · 10⁴ / magnification.
fn pixel_sizes_from_magnification(
    magnification: &[f64],
    detector_pixel: &[f64],
    path: &Path,
) -> Result<Vec<f64>> {
    magnification
        .iter()
        .zip(detector_pixel)
        .enumerate()
        .map(|(row, (&magnification, &detector))| {
            let size = detector * 1e4 / magnification;
            if size.is_finite() && size > 0.0 {
                Ok(size)
            } else {
                Err(Error::content(
                    path,
                    format!(
                        "particle row {}: rlnDetectorPixelSize {detector} µm and \
                         rlnMagnification {magnification} give no positive pixel size",
                        row + 1
                    ),
                ))
            }
        })
        .collect()
}

/// Number the distinct combinations of optics values from 1 in order of first appearance.
/// Returns each row's group and the first row of each group.
fn assign_groups(rows: usize, columns: &[(&str, Vec<f64>)]) -> (Vec<i64>, Vec<usize>) {
    let mut group_of_key: HashMap<[u64; KEY_LENGTH], i64> = HashMap::new();
    let mut first_rows = Vec::new();
    let groups = (0..rows)
        .map(|row| {
            let mut key = [0u64; KEY_LENGTH];
            for (slot, (_, values)) in key.iter_mut().zip(columns) {
                *slot = values[row].to_bits();
            }
            *group_of_key.entry(key).or_insert_with(|| {
                first_rows.push(row);
                first_rows.len() as i64
            })
        })
        .collect();
    (groups, first_rows)
}

fn int_column(label: &str, values: Vec<i64>) -> Column {
    Column {
        label: label.into(),
        data: ColumnData::Int(values),
    }
}

/// Remove column `label` and return its cells as reals (integers are widened); `None` when
/// absent; an error when it holds text.
fn take_floats(table: &mut Table, label: &str, path: &Path) -> Result<Option<Vec<f64>>> {
    match table.remove_column(label).map(|column| column.data) {
        None => Ok(None),
        Some(ColumnData::Float(values)) => Ok(Some(values)),
        Some(ColumnData::Int(values)) => Ok(Some(values.into_iter().map(|v| v as f64).collect())),
        Some(ColumnData::Text(_)) => Err(Error::content(
            path,
            format!("column {label} of the particle table holds text, expected numbers"),
        )),
    }
}
