//! The job's files, as RELION 3.1.3's CtfFind job writes them: per micrograph the diagnostic
//! `<stem>.ctf` (float32 MRC, box × box px), the `<stem>.txt` summary and `<stem>_ctffind4.log`
//! ([`crate::paths`]); then `micrographs_ctf.star` (the input's `data_optics` block unchanged,
//! and `data_micrographs` with `rlnMicrographName`, `rlnOpticsGroup`, `rlnCtfImage`,
//! `rlnDefocusU`, `rlnDefocusV`, `rlnCtfAstigmatism`, `rlnDefocusAngle`,
//! `rlnCtfFigureOfMerit`, `rlnCtfMaxResolution` and, with `--do_phaseshift`, `rlnPhaseShift`;
//! defoci in Å, angles in degrees) and its Parquet copy `micrographs_ctf.parquet`. Every file is
//! written atomically.

use std::path::{Path, PathBuf};

use anyhow::Context;
use cryoflux_formats::atomic::write_text;
use cryoflux_formats::mrc::{WriteMode, write_volume};
use cryoflux_formats::star::{Column, DataBlock, StarFile, Table};
use cryoflux_formats::table::{ParticleTable, table_to_record_batch, write_parquet};
use cryoflux_kernels::ctffind::CtfFindSettings;

use crate::inputs::Micrograph;
use crate::micrograph::MicrographFit;
use crate::paths::with_suffix;
use crate::result::{CtfResult, log_text, summary_text};

/// Name of the job's main output in the output directory.
pub const STAR_NAME: &str = "micrographs_ctf.star";

/// Name of the Parquet copy of the micrographs table.
pub const PARQUET_NAME: &str = "micrographs_ctf.parquet";

/// Writes `stem.ctf`, `stem.txt` and `stem_ctffind4.log` for `fit` and returns the result.
pub fn write_micrograph_files(
    stem: &Path,
    micrograph: &Micrograph,
    search: &CtfFindSettings,
    fit: &MicrographFit,
) -> anyhow::Result<CtfResult> {
    if let Some(parent) = stem.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let result = CtfResult::from(&fit.estimate);
    let (diagnostic, summary) = (with_suffix(stem, ".ctf"), with_suffix(stem, ".txt"));
    let image = &fit.diagnostic;
    write_volume(
        &diagnostic,
        image.data(),
        [image.width(), image.height(), 1],
        micrograph.pixel_size as f32,
        WriteMode::Float32,
    )?;
    write_text(&summary, &summary_text(micrograph, search, &result))?;
    write_text(
        &with_suffix(stem, "_ctffind4.log"),
        &log_text(micrograph, search, &result, &summary, &diagnostic),
    )?;
    Ok(result)
}

/// One row of the output table: the micrograph, its result and its diagnostic image's path.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    /// The input micrograph.
    pub micrograph: &'a Micrograph,
    /// Its fitted CTF.
    pub result: CtfResult,
    /// `<stem>.ctf`, written into `rlnCtfImage` as `<stem>.ctf:mrc`.
    pub diagnostic: PathBuf,
}

/// `micrographs_ctf.star`'s content: `optics` unchanged, then the micrographs table.
pub fn micrographs_ctf_star(optics: &Table, rows: &[Row<'_>], phase_shift: bool) -> StarFile {
    let float = |label: &str, value: fn(&CtfResult) -> f64| {
        Column::floats(label, rows.iter().map(|r| value(&r.result)))
    };
    let mut columns = vec![
        Column::texts(
            "rlnMicrographName",
            rows.iter().map(|r| r.micrograph.name.clone()),
        ),
        Column::ints(
            "rlnOpticsGroup",
            rows.iter().map(|r| r.micrograph.optics_group),
        ),
        Column::texts(
            "rlnCtfImage",
            rows.iter()
                .map(|r| format!("{}:mrc", r.diagnostic.display())),
        ),
        float("rlnDefocusU", |r| r.defocus_u),
        float("rlnDefocusV", |r| r.defocus_v),
        float("rlnCtfAstigmatism", |r| r.defocus_u - r.defocus_v),
        float("rlnDefocusAngle", |r| r.defocus_angle_deg),
        float("rlnCtfFigureOfMerit", |r| r.figure_of_merit),
        float("rlnCtfMaxResolution", |r| r.max_resolution),
    ];
    if phase_shift {
        columns.push(float("rlnPhaseShift", |r| r.phase_shift_deg));
    }
    StarFile {
        blocks: vec![
            DataBlock {
                name: "optics".into(),
                pairs: Vec::new(),
                table: Some(optics.clone()),
            },
            DataBlock::with_table("micrographs", columns),
        ],
    }
}

/// Writes `star` as `micrographs_ctf.star` and `micrographs_ctf.parquet` in `output_dir`;
/// returns the STAR file's path.
pub fn write_tables(star: StarFile, output_dir: &Path) -> anyhow::Result<PathBuf> {
    let path = output_dir.join(STAR_NAME);
    star.write(&path)?;
    let mut blocks = star;
    let main_block = blocks.blocks.len() - 1;
    let table = blocks.blocks[main_block]
        .table
        .take()
        .context("the micrographs block has a table")?;
    let parquet = ParticleTable {
        rows: table_to_record_batch(&table),
        blocks,
        main_block,
    };
    write_parquet(&parquet, &output_dir.join(PARQUET_NAME))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryoflux_formats::table::read_parquet;

    #[test]
    fn table_has_relions_columns_and_a_parquet_twin() {
        let micrograph = Micrograph {
            name: "MotionCorr/job002/m.mrc".into(),
            source: "MotionCorr/job002/m.mrc".into(),
            optics_group: 1,
            pixel_size: 1.8,
            voltage_kv: 300.0,
            cs_mm: 2.7,
            amplitude_contrast: 0.1,
        };
        let result = CtfResult {
            defocus_u: 12000.0,
            defocus_v: 11500.0,
            defocus_angle_deg: 30.0,
            phase_shift_deg: 45.0,
            figure_of_merit: 0.2,
            max_resolution: 6.0,
        };
        let rows = [Row {
            micrograph: &micrograph,
            result,
            diagnostic: PathBuf::from("CtfFind/job003/m.ctf"),
        }];
        let optics = Table::from_columns(vec![Column::ints("rlnOpticsGroup", [1])]).unwrap();
        let star = micrographs_ctf_star(&optics, &rows, true);
        let table = star.blocks[1].table.as_ref().unwrap();
        let labels: Vec<&str> = table.columns().iter().map(|c| c.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "rlnMicrographName",
                "rlnOpticsGroup",
                "rlnCtfImage",
                "rlnDefocusU",
                "rlnDefocusV",
                "rlnCtfAstigmatism",
                "rlnDefocusAngle",
                "rlnCtfFigureOfMerit",
                "rlnCtfMaxResolution",
                "rlnPhaseShift"
            ]
        );
        assert_eq!(table.floats("rlnCtfAstigmatism"), Some(&[500.0][..]));
        assert_eq!(
            table.texts("rlnCtfImage").unwrap()[0],
            "CtfFind/job003/m.ctf:mrc"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = write_tables(star.clone(), dir.path()).unwrap();
        assert_eq!(StarFile::read(&path).unwrap(), star);
        let parquet = read_parquet(&dir.path().join(PARQUET_NAME)).unwrap();
        assert_eq!(parquet.main_block_name(), "micrographs");
        assert_eq!(parquet.rows.num_rows(), 1);
        let without_phase = micrographs_ctf_star(&optics, &rows, false);
        let table = without_phase.blocks[1].table.as_ref().unwrap();
        assert!(table.column("rlnPhaseShift").is_none());
    }
}
