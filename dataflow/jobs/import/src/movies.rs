//! Importing movies or micrographs like `relion_import --do_movies | --do_micrographs`: every
//! file matching the wildcard `--i`, sorted by name, becomes a row of `data_movies`
//! (`rlnMicrographMovieName`) or `data_micrographs` (`rlnMicrographName`), all in one optics
//! group whose constants the flags give. The output lands in `--odir` as `--ofile`.

use std::path::PathBuf;

use anyhow::{Context, bail, ensure};
use cryoflux_formats::star::{Column, DataBlock, StarFile};

/// What is imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// Dose-fractionated movies (`--do_movies`): `data_movies`, original pixel size.
    Movies,
    /// Summed micrographs (`--do_micrographs`): `data_micrographs`, with the micrograph pixel
    /// size as well.
    Micrographs,
}

/// The flags of a movie or micrograph import (RELION's names and defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportSettings {
    /// Movies or micrographs.
    pub kind: ImportKind,
    /// Wildcard of the files (`--i`, e.g. `Movies/*.tiff`), as written into the STAR file.
    pub input: String,
    /// Output directory (`--odir`, e.g. `Import/job001/`).
    pub output_dir: PathBuf,
    /// Output file name inside it (`--ofile`; default `movies.star` / `micrographs.star`).
    pub output_file: Option<String>,
    /// `--optics_group_name` (default `opticsGroup1`).
    pub optics_group_name: String,
    /// `--optics_group_mtf`: the detector's MTF STAR file, if given.
    pub optics_group_mtf: Option<String>,
    /// `--angpix`: pixel size of the files in Å (default 1.0).
    pub angpix: f64,
    /// `--kV`: acceleration voltage in kV (default 300).
    pub voltage_kv: f64,
    /// `--Cs`: spherical aberration in mm (default 2.7).
    pub cs_mm: f64,
    /// `--Q0`: amplitude contrast (default 0.1).
    pub amplitude_contrast: f64,
    /// `--beamtilt_x` in mrad (default 0).
    pub beamtilt_x: f64,
    /// `--beamtilt_y` in mrad (default 0).
    pub beamtilt_y: f64,
}

/// The files of wildcard `pattern`, sorted, as the pattern names them (relative stays
/// relative).
pub fn matching_files(pattern: &str) -> anyhow::Result<Vec<String>> {
    let paths =
        glob::glob(pattern).with_context(|| format!("--i {pattern}: not a valid wildcard"))?;
    let mut files = Vec::new();
    for path in paths {
        let path = path.with_context(|| format!("--i {pattern}: cannot read a matching path"))?;
        if path.is_file() {
            files.push(path.display().to_string());
        }
    }
    files.sort();
    Ok(files)
}

/// Writes the import's STAR file and returns its path and the number of files imported.
/// Errors name the flag at fault; nothing is written when no file matches.
pub fn import(settings: &ImportSettings) -> anyhow::Result<(PathBuf, usize)> {
    for (flag, value) in [("--angpix", settings.angpix), ("--kV", settings.voltage_kv)] {
        ensure!(
            value.is_finite() && value > 0.0,
            "{flag} {value}; expected a positive number"
        );
    }
    ensure!(
        settings.cs_mm.is_finite() && (0.0..=1.0).contains(&settings.amplitude_contrast),
        "--Cs {} and --Q0 {}: expected a finite Cs and 0 ≤ Q0 ≤ 1",
        settings.cs_mm,
        settings.amplitude_contrast
    );
    let files = matching_files(&settings.input)?;
    if files.is_empty() {
        bail!("--i {}: no file matches", settings.input);
    }
    let (block, label, default_name) = match settings.kind {
        ImportKind::Movies => ("movies", "rlnMicrographMovieName", "movies.star"),
        ImportKind::Micrographs => ("micrographs", "rlnMicrographName", "micrographs.star"),
    };
    let star = StarFile {
        blocks: vec![
            DataBlock::with_table("optics", optics_columns(settings)),
            DataBlock::with_table(
                block,
                vec![
                    Column::texts(label, files.iter().cloned()),
                    Column::ints("rlnOpticsGroup", files.iter().map(|_| 1)),
                ],
            ),
        ],
    };
    std::fs::create_dir_all(&settings.output_dir)
        .with_context(|| format!("cannot create {}", settings.output_dir.display()))?;
    let path = settings
        .output_dir
        .join(settings.output_file.as_deref().unwrap_or(default_name));
    star.write(&path)?;
    Ok((path, files.len()))
}

/// The one optics group: RELION 3.1's columns in RELION's order (as relion_import 3.1.3
/// writes them).
fn optics_columns(settings: &ImportSettings) -> Vec<Column> {
    let mut columns = vec![
        Column::texts("rlnOpticsGroupName", [settings.optics_group_name.clone()]),
        Column::ints("rlnOpticsGroup", [1]),
    ];
    if let Some(mtf) = &settings.optics_group_mtf {
        columns.push(Column::texts("rlnMtfFileName", [mtf.clone()]));
    }
    if settings.kind == ImportKind::Micrographs {
        columns.push(Column::floats("rlnMicrographPixelSize", [settings.angpix]));
    }
    columns.push(Column::floats(
        "rlnMicrographOriginalPixelSize",
        [settings.angpix],
    ));
    columns.push(Column::floats("rlnVoltage", [settings.voltage_kv]));
    columns.push(Column::floats("rlnSphericalAberration", [settings.cs_mm]));
    columns.push(Column::floats(
        "rlnAmplitudeContrast",
        [settings.amplitude_contrast],
    ));
    if settings.beamtilt_x != 0.0 || settings.beamtilt_y != 0.0 {
        columns.push(Column::floats("rlnBeamTiltX", [settings.beamtilt_x]));
        columns.push(Column::floats("rlnBeamTiltY", [settings.beamtilt_y]));
    }
    columns
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn settings(dir: &Path, kind: ImportKind) -> ImportSettings {
        ImportSettings {
            kind,
            input: format!("{}/raw/*.tiff", dir.display()),
            output_dir: dir.join("Import/job001"),
            output_file: None,
            optics_group_name: "opticsGroup1".into(),
            optics_group_mtf: None,
            angpix: 0.885,
            voltage_kv: 300.0,
            cs_mm: 2.7,
            amplitude_contrast: 0.1,
            beamtilt_x: 0.0,
            beamtilt_y: 0.0,
        }
    }

    #[test]
    fn movies_matching_the_wildcard_are_listed_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("raw")).unwrap();
        for name in ["b.tiff", "a.tiff", "c.mrc"] {
            std::fs::write(dir.path().join("raw").join(name), b"x").unwrap();
        }
        let (path, count) = import(&settings(dir.path(), ImportKind::Movies)).unwrap();
        assert_eq!(count, 2);
        let star = StarFile::read(&path).unwrap();
        let movies = star.block("movies").unwrap().table.as_ref().unwrap();
        let names = movies.texts("rlnMicrographMovieName").unwrap();
        assert!(names[0].ends_with("raw/a.tiff") && names[1].ends_with("raw/b.tiff"));
        let optics = star.block("optics").unwrap().table.as_ref().unwrap();
        assert_eq!(
            optics.floats("rlnMicrographOriginalPixelSize").unwrap(),
            [0.885]
        );
        assert!(optics.column("rlnMicrographPixelSize").is_none());
    }

    #[test]
    fn no_match_is_an_error_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path(), ImportKind::Micrographs);
        let message = import(&s).unwrap_err().to_string();
        assert!(message.contains("no file matches"), "{message}");
        assert!(!s.output_dir.exists());
    }
}
