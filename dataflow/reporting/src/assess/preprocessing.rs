//! Motion correction and CTF estimation of simulated movies, measured against the truth that
//! `cryoflux simulate --movies` writes: the RMS error of the global shifts (px, over every frame
//! of every movie) and the mean defocus errors (|ΔU|, |ΔV| in Å, astigmatism angle in degrees,
//! modulo 180°).
//!
//! Shifts are read from per-movie STAR files in motion correction's layout (`data_global_shift`
//! with `rlnMicrographShiftX/Y` in movie px, frame by frame); the truth's
//! `truth/motion/movieNNN.star` has the same layout. Defoci are read from `data_micrographs`
//! (`rlnDefocusU/V` in Å, `rlnDefocusAngle` in degrees) of an estimate such as
//! `micrographs_ctf.star` and of the truth's `truth/micrographs.star`; micrographs are paired
//! by name, the estimate's name ending with the truth's (`MotionCorr/job002/movies/movie001.mrc`
//! ends with `movies/movie001.mrc`).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cryoflux_formats::star::{StarFile, Table};

/// RMS error of estimated global shifts against the true ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShiftError {
    /// √(mean over frames of |estimated − true|²), in movie px.
    pub rms_px: f64,
    /// Frames compared, over every movie.
    pub frames: usize,
}

/// Mean defocus errors of a CTF estimate against the true CTFs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DefocusErrors {
    /// Micrographs compared.
    pub micrographs: usize,
    /// Mean |ΔU| in Å.
    pub mean_abs_u_angst: f64,
    /// Mean |ΔV| in Å.
    pub mean_abs_v_angst: f64,
    /// Mean astigmatism-angle error in degrees (modulo 180°, so at most 90°).
    pub mean_angle_deg: f64,
}

/// What preprocessing recovered of the truth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PreprocessingErrors {
    /// Global motion.
    pub shifts: ShiftError,
    /// CTF estimation.
    pub defocus: DefocusErrors,
}

/// The loop `block` of `path`.
fn table(path: &Path, block: &str) -> anyhow::Result<Table> {
    StarFile::read(path)?
        .block(block)
        .and_then(|b| b.table.clone())
        .with_context(|| format!("{}: no data_{block} loop", path.display()))
}

/// The float column `label` of `table` read from `path`.
fn floats<'a>(table: &'a Table, label: &str, path: &Path) -> anyhow::Result<&'a [f64]> {
    table
        .floats(label)
        .with_context(|| format!("{}: no numeric {label} column", path.display()))
}

/// The global shifts (px) of a per-movie motion STAR file, frame by frame.
fn global_shifts(path: &Path) -> anyhow::Result<Vec<[f64; 2]>> {
    let shifts = table(path, "global_shift")?;
    let x = floats(&shifts, "rlnMicrographShiftX", path)?;
    let y = floats(&shifts, "rlnMicrographShiftY", path)?;
    Ok(x.iter().zip(y).map(|(&x, &y)| [x, y]).collect())
}

/// RMS error (px) over every frame of the (estimated, true) per-movie motion STAR files.
pub fn global_shift_error(pairs: &[(PathBuf, PathBuf)]) -> anyhow::Result<ShiftError> {
    let (mut sum, mut frames) = (0.0, 0);
    for (estimated, truth) in pairs {
        let (ours, true_shifts) = (global_shifts(estimated)?, global_shifts(truth)?);
        if ours.len() != true_shifts.len() {
            bail!(
                "{} has {} frames of shifts and {} has {}; expected the same frames",
                estimated.display(),
                ours.len(),
                truth.display(),
                true_shifts.len()
            );
        }
        for (a, b) in ours.iter().zip(&true_shifts) {
            sum += (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
            frames += 1;
        }
    }
    if frames == 0 {
        bail!("no frames to compare the global shifts over");
    }
    Ok(ShiftError {
        rms_px: (sum / frames as f64).sqrt(),
        frames,
    })
}

/// Difference of two astigmatism angles in degrees, modulo 180° (an axis and its opposite are
/// one axis).
pub fn angle_difference_deg(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(180.0);
    d.min(180.0 - d)
}

/// Mean errors of the micrographs of `estimated` against `truth` (see the module doc).
pub fn defocus_errors(estimated: &Path, truth: &Path) -> anyhow::Result<DefocusErrors> {
    let (ours, true_table) = (
        table(estimated, "micrographs")?,
        table(truth, "micrographs")?,
    );
    let names = |t: &Table, path: &Path| -> anyhow::Result<Vec<String>> {
        Ok(t.texts("rlnMicrographName")
            .with_context(|| format!("{}: no rlnMicrographName column", path.display()))?
            .to_vec())
    };
    let (our_names, true_names) = (names(&ours, estimated)?, names(&true_table, truth)?);
    let columns = |t: &Table, path: &Path| -> anyhow::Result<[Vec<f64>; 3]> {
        Ok([
            floats(t, "rlnDefocusU", path)?.to_vec(),
            floats(t, "rlnDefocusV", path)?.to_vec(),
            floats(t, "rlnDefocusAngle", path)?.to_vec(),
        ])
    };
    let ([u, v, a], [tu, tv, ta]) = (columns(&ours, estimated)?, columns(&true_table, truth)?);
    let mut sums = [0.0; 3];
    for (i, name) in our_names.iter().enumerate() {
        let Some(j) = true_names.iter().position(|t| Path::new(name).ends_with(t)) else {
            bail!(
                "{}: micrograph {name} is not in {}",
                estimated.display(),
                truth.display()
            );
        };
        sums[0] += (u[i] - tu[j]).abs();
        sums[1] += (v[i] - tv[j]).abs();
        sums[2] += angle_difference_deg(a[i], ta[j]);
    }
    let n = our_names.len();
    if n == 0 {
        bail!("{}: no micrographs to compare", estimated.display());
    }
    Ok(DefocusErrors {
        micrographs: n,
        mean_abs_u_angst: sums[0] / n as f64,
        mean_abs_v_angst: sums[1] / n as f64,
        mean_angle_deg: sums[2] / n as f64,
    })
}

impl PreprocessingErrors {
    /// The numbers as one JSON object (px, Å, degrees as in the structs).
    pub fn to_json(&self) -> String {
        let (s, d) = (&self.shifts, &self.defocus);
        format!(
            "{{\"global_shift_rms_error_px\": {}, \"frames\": {}, \"micrographs\": {}, \
             \"mean_abs_defocus_u_error_angst\": {}, \"mean_abs_defocus_v_error_angst\": {}, \
             \"mean_defocus_angle_error_deg\": {}}}",
            super::report::number(s.rms_px),
            s.frames,
            d.micrographs,
            super::report::number(d.mean_abs_u_angst),
            super::report::number(d.mean_abs_v_angst),
            super::report::number(d.mean_angle_deg),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryoflux_formats::star::{Column, DataBlock};

    fn write(path: &Path, block: &str, columns: Vec<Column>) {
        StarFile {
            blocks: vec![DataBlock::with_table(block, columns)],
        }
        .write(path)
        .unwrap();
    }

    #[test]
    fn shift_error_is_the_rms_over_every_frame() {
        let dir = tempfile::tempdir().unwrap();
        let shifts = |name: &str, x: [f64; 2], y: [f64; 2]| {
            let path = dir.path().join(name);
            write(
                &path,
                "global_shift",
                vec![
                    Column::floats("rlnMicrographShiftX", x),
                    Column::floats("rlnMicrographShiftY", y),
                ],
            );
            path
        };
        let ours = shifts("ours.star", [0.0, 3.0], [0.0, 4.0]);
        let truth = shifts("truth.star", [0.0, 0.0], [0.0, 0.0]);
        let error = global_shift_error(&[(ours.clone(), truth.clone())]).unwrap();
        // Frame errors 0 and 5 px: RMS √(25/2).
        assert!((error.rms_px - 12.5_f64.sqrt()).abs() < 1e-12);
        assert_eq!(error.frames, 2);
        let short = dir.path().join("short.star");
        write(
            &short,
            "global_shift",
            vec![
                Column::floats("rlnMicrographShiftX", [0.0]),
                Column::floats("rlnMicrographShiftY", [0.0]),
            ],
        );
        let message = global_shift_error(&[(ours, short)])
            .unwrap_err()
            .to_string();
        assert!(message.contains("expected the same frames"), "{message}");
    }

    #[test]
    fn defocus_errors_pair_micrographs_by_name_and_fold_angles() {
        let dir = tempfile::tempdir().unwrap();
        let micrographs = |name: &str, names: [&str; 2], u: [f64; 2], angle: [f64; 2]| {
            let path = dir.path().join(name);
            write(
                &path,
                "micrographs",
                vec![
                    Column::texts("rlnMicrographName", names.map(String::from)),
                    Column::floats("rlnDefocusU", u),
                    Column::floats("rlnDefocusV", u.map(|u| u - 100.0)),
                    Column::floats("rlnDefocusAngle", angle),
                ],
            );
            path
        };
        let ours = micrographs(
            "ours.star",
            [
                "MotionCorr/job002/movies/b.mrc",
                "MotionCorr/job002/movies/a.mrc",
            ],
            [20_100.0, 10_000.0],
            [179.0, 30.0],
        );
        let truth = micrographs(
            "truth.star",
            ["movies/a.mrc", "movies/b.mrc"],
            [10_050.0, 20_000.0],
            [40.0, 1.0],
        );
        let e = defocus_errors(&ours, &truth).unwrap();
        assert_eq!(e.micrographs, 2);
        assert!((e.mean_abs_u_angst - 75.0).abs() < 1e-9);
        assert!((e.mean_abs_v_angst - 75.0).abs() < 1e-9);
        // 179° vs 1° is 2° apart; 30° vs 40° is 10°.
        assert!((e.mean_angle_deg - 6.0).abs() < 1e-9);
        let json = PreprocessingErrors {
            shifts: ShiftError {
                rms_px: 0.5,
                frames: 4,
            },
            defocus: e,
        }
        .to_json();
        assert!(
            json.contains("\"mean_defocus_angle_error_deg\": 6.0"),
            "{json}"
        );
    }
}
