//! One micrograph's CTF as the job reports it, and CTFFIND 4.1's two text outputs for it: the
//! `.txt` summary (comment header, then one 7-column line: micrograph number, defocus 1 and 2
//! in Å, azimuth of astigmatism in degrees, phase shift in radians, cross-correlation, fit
//! resolution in Å) and the `_ctffind4.log` lines that RELION reads (`Estimated defocus
//! values`, `Estimated azimuth of astigmatism`, `Score`, `Thon rings with good fit up to`).

use std::path::Path;

use anyhow::{Context, bail};
use cryoflux_kernels::ctffind::{CtfEstimate, CtfFindSettings};

use crate::inputs::Micrograph;

/// A micrograph's fitted CTF in RELION's STAR units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CtfResult {
    /// `rlnDefocusU` in Å (≥ V, positive = underfocus).
    pub defocus_u: f64,
    /// `rlnDefocusV` in Å.
    pub defocus_v: f64,
    /// `rlnDefocusAngle`: angle of the U axis from x in degrees.
    pub defocus_angle_deg: f64,
    /// `rlnPhaseShift` in degrees (0 without `--do_phaseshift`).
    pub phase_shift_deg: f64,
    /// `rlnCtfFigureOfMerit`: the fit's cross-correlation.
    pub figure_of_merit: f64,
    /// `rlnCtfMaxResolution`: fit resolution in Å.
    pub max_resolution: f64,
}

impl From<&CtfEstimate> for CtfResult {
    fn from(e: &CtfEstimate) -> Self {
        Self {
            defocus_u: e.defocus_u,
            defocus_v: e.defocus_v,
            defocus_angle_deg: e.defocus_angle_deg,
            phase_shift_deg: e.phase_shift_deg,
            figure_of_merit: e.figure_of_merit,
            max_resolution: e.max_resolution_angstrom,
        }
    }
}

/// The comment header of the `.txt` summary: input, microscope and search.
fn header(micrograph: &Micrograph, search: &CtfFindSettings) -> String {
    format!(
        "# Output from cryoflux ctffind {} (CTFFIND 4.1's method)\n\
         # Input file: {} ; Number of micrographs: 1\n\
         # Pixel size: {:.3} Angstroms ; acceleration voltage: {:.1} keV ; spherical \
         aberration: {:.2} mm ; amplitude contrast: {:.2}\n\
         # Box size: {} pixels ; min. res.: {:.1} Angstroms ; max. res.: {:.1} Angstroms ; \
         min. def.: {:.1} Angstroms; max. def. {:.1} Angstroms\n",
        env!("CARGO_PKG_VERSION"),
        micrograph.source,
        micrograph.pixel_size,
        micrograph.voltage_kv,
        micrograph.cs_mm,
        micrograph.amplitude_contrast,
        search.box_size,
        search.min_resolution,
        search.max_resolution,
        search.defocus_min,
        search.defocus_max,
    )
}

/// The `.txt` summary of `result` (CTFFIND 4.1's layout).
pub fn summary_text(
    micrograph: &Micrograph,
    search: &CtfFindSettings,
    result: &CtfResult,
) -> String {
    format!(
        "{}# Columns: #1 - micrograph number; #2 - defocus 1 [Angstroms]; #3 - defocus 2; #4 - \
         azimuth of astigmatism; #5 - additional phase shift [radians]; #6 - cross \
         correlation; #7 - spacing (in Angstroms) up to which CTF rings were fit successfully\n\
         {:.6} {:.6} {:.6} {:.6} {:.6} {:.6} {:.6}\n",
        header(micrograph, search),
        1.0,
        result.defocus_u,
        result.defocus_v,
        result.defocus_angle_deg,
        result.phase_shift_deg.to_radians(),
        result.figure_of_merit,
        result.max_resolution,
    )
}

/// The `_ctffind4.log` of `result`: the inputs, then CTFFIND's result lines and file names.
pub fn log_text(
    micrograph: &Micrograph,
    search: &CtfFindSettings,
    result: &CtfResult,
    summary: &Path,
    diagnostic: &Path,
) -> String {
    let phase = if search.phase_shift.is_some() {
        let radians = result.phase_shift_deg.to_radians();
        format!(
            "Additional phase shift          : {:.3} degrees ({radians:.3} radians) ({:.3} pi)\n",
            result.phase_shift_deg,
            radians / std::f64::consts::PI
        )
    } else {
        String::new()
    };
    format!(
        "{}\nEstimated defocus values        : {:.2} , {:.2} Angstroms\n\
         Estimated azimuth of astigmatism: {:.2} degrees\n{phase}\
         Score                           : {:.5}\n\
         Pixel size for fitting          : {:.3} Angstroms\n\
         Thon rings with good fit up to  : {:.1} Angstroms\n\n\
         Summary of results                          : {}\n\
         Diagnostic images                           : {}\n",
        header(micrograph, search),
        result.defocus_u,
        result.defocus_v,
        result.defocus_angle_deg,
        result.figure_of_merit,
        micrograph.pixel_size,
        result.max_resolution,
        summary.display(),
        diagnostic.display(),
    )
}

/// Reads back the result line of a `.txt` summary (for `--only_do_unfinished`).
pub fn read_summary(path: &Path) -> anyhow::Result<CtfResult> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .with_context(|| format!("{}: no result line (expected 7 numbers)", path.display()))?;
    let values = line
        .split_whitespace()
        .map(str::parse::<f64>)
        .collect::<Result<Vec<_>, _>>()
        .ok()
        .filter(|v| v.len() == 7 && v.iter().all(|x| x.is_finite()));
    let Some(v) = values else {
        bail!(
            "{}: result line {line:?} is not 7 finite numbers (expected CTFFIND's columns)",
            path.display()
        );
    };
    Ok(CtfResult {
        defocus_u: v[1],
        defocus_v: v[2],
        defocus_angle_deg: v[3],
        phase_shift_deg: v[4].to_degrees(),
        figure_of_merit: v[5],
        max_resolution: v[6],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micrograph() -> Micrograph {
        Micrograph {
            name: "M/a.mrc".into(),
            source: "M/a.mrc".into(),
            optics_group: 1,
            pixel_size: 1.8,
            voltage_kv: 300.0,
            cs_mm: 2.7,
            amplitude_contrast: 0.1,
        }
    }

    const RESULT: CtfResult = CtfResult {
        defocus_u: 14073.25,
        defocus_v: 13975.5,
        defocus_angle_deg: -34.5,
        phase_shift_deg: 28.5,
        figure_of_merit: 0.125,
        max_resolution: 5.375,
    };

    #[test]
    fn summary_round_trips_and_has_ctffinds_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        let text = summary_text(&micrograph(), &CtfFindSettings::default(), &RESULT);
        assert!(text.lines().nth(4).unwrap().starts_with("# Columns: #1"));
        assert_eq!(
            text.lines().last().unwrap(),
            "1.000000 14073.250000 13975.500000 -34.500000 0.497419 0.125000 5.375000"
        );
        std::fs::write(&path, &text).unwrap();
        let back = read_summary(&path).unwrap();
        assert_eq!(back.defocus_u, RESULT.defocus_u);
        assert!((back.phase_shift_deg - RESULT.phase_shift_deg).abs() < 1e-4);
        assert_eq!(back.max_resolution, RESULT.max_resolution);
        std::fs::write(&path, "# header only\n").unwrap();
        assert!(
            read_summary(&path)
                .unwrap_err()
                .to_string()
                .contains("no result line")
        );
    }

    #[test]
    fn log_has_the_lines_relion_reads() {
        let log = log_text(
            &micrograph(),
            &CtfFindSettings::default(),
            &RESULT,
            Path::new("a.txt"),
            Path::new("a.ctf"),
        );
        assert!(log.contains("Estimated defocus values        : 14073.25 , 13975.50 Angstroms\n"));
        assert!(log.contains("Estimated azimuth of astigmatism: -34.50 degrees\n"));
        assert!(log.contains("Thon rings with good fit up to  : 5.4 Angstroms\n"));
        assert!(!log.contains("Additional phase shift"));
    }
}
