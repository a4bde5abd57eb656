//! What a STAR, MRC/MRCS or Parquet file holds, in a user's terms.

use std::path::Path;

use anyhow::{Context, bail};
use cryoflux_formats::FileKind;
use cryoflux_formats::mrc::MrcFile;
use cryoflux_formats::star::{ColumnData, StarFile, Value, labels};
use cryoflux_formats::table::read_parquet;

/// A description of the file at `path` (STAR, MRC/MRCS or Parquet, by extension), for
/// standard output.
pub fn describe(path: &Path) -> anyhow::Result<String> {
    Ok(match FileKind::from_path(path)? {
        FileKind::Star => {
            let star = StarFile::read(path)?;
            if star.blocks.is_empty() {
                bail!(
                    "{}: no data_ block (the file is empty or holds only comments); expected a \
                     STAR file with at least one data_ block",
                    path.display()
                );
            }
            describe_star(&star)
        }
        FileKind::Parquet => describe_parquet(path)?,
        FileKind::Mrc => describe_mrc(&MrcFile::open(path)?)?,
    })
}

/// Blocks, their key–value items and loop columns (with units), and optics groups.
fn describe_star(star: &StarFile) -> String {
    let mut out = String::new();
    for block in &star.blocks {
        let rows = block.table.as_ref().map_or(0, |t| t.rows());
        out += &format!(
            "data_{}: {} key-value items, {} rows\n",
            block.name,
            block.pairs.len(),
            rows
        );
        for (label, value) in &block.pairs {
            out += &format!("  _{label} = {}{}\n", value_text(value), unit_suffix(label));
        }
        if let Some(table) = &block.table {
            for column in table.columns() {
                let kind = match column.data {
                    ColumnData::Float(_) => "float",
                    ColumnData::Int(_) => "int",
                    ColumnData::Text(_) => "text",
                };
                out += &format!(
                    "  _{} ({kind}{})\n",
                    column.label,
                    unit_suffix(&column.label)
                );
            }
        }
    }
    if let Some(optics) = star.block("optics").and_then(|b| b.table.as_ref()) {
        out += &format!("optics groups: {}\n", optics.rows());
        if let Some(names) = optics.texts("rlnOpticsGroupName") {
            for (row, name) in names.iter().enumerate() {
                let pixel = optics
                    .floats("rlnImagePixelSize")
                    .map(|p| format!(", {} Å/px", p[row]));
                out += &format!("  {name}{}\n", pixel.unwrap_or_default());
            }
        }
    }
    out
}

/// Schema (column, Arrow type, unit) and row count of a Parquet particle table.
fn describe_parquet(path: &Path) -> anyhow::Result<String> {
    let table = read_parquet(path).context("cannot read the Parquet table")?;
    let mut out = format!(
        "Parquet particle table: {} rows × {} columns (main block data_{})\n",
        table.rows.num_rows(),
        table.rows.num_columns(),
        table.main_block_name()
    );
    for field in table.rows.schema().fields() {
        let unit = field
            .metadata()
            .get("unit")
            .map(|u| format!(", {u}"))
            .unwrap_or_default();
        out += &format!("  {} ({}{unit})\n", field.name(), field.data_type());
    }
    let others: Vec<_> = table
        .blocks
        .blocks
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != table.main_block)
        .collect();
    for (_, block) in others {
        let rows = block.table.as_ref().map_or(0, |t| t.rows());
        out += &format!("  with block data_{} ({} rows)\n", block.name, rows);
    }
    Ok(out)
}

/// Mode, size, voxel size, header and computed statistics, and the first non-finite voxel.
fn describe_mrc(file: &MrcFile) -> anyhow::Result<String> {
    let [nx, ny, nz] = file.dims();
    let [px, py, pz] = file.voxel_size();
    let header = file.header();
    let computed = file.stats()?;
    let is_stack = header.ispg == 0 && nz > 1;
    let mut out = format!(
        "MRC {}: {nx} × {ny} × {nz} voxels, mode {} ({}), {:?} endian\n",
        if is_stack { "image stack" } else { "volume" },
        file.mode().code(),
        file.mode().name(),
        header.endian,
    );
    out += &if is_stack {
        format!("pixel size: {px} × {py} Å; {nz} images\n")
    } else {
        format!("voxel size: {px} × {py} × {pz} Å\n")
    };
    let stored = header.stats();
    out += &format!(
        "header statistics:   min {} max {} mean {} rms {}\n",
        stored.min, stored.max, stored.mean, stored.rms
    );
    out += &format!(
        "computed statistics: min {} max {} mean {} rms {}\n",
        computed.min, computed.max, computed.mean, computed.rms
    );
    if let Some(bad) = file.find_non_finite()? {
        out += &format!("warning: {bad}\n");
    }
    Ok(out)
}

fn value_text(value: &Value) -> String {
    match value {
        Value::Float(v) => v.to_string(),
        Value::Int(v) => v.to_string(),
        Value::Text(v) => v.clone(),
    }
}

fn unit_suffix(label: &str) -> String {
    labels::lookup(label)
        .filter(|info| !info.unit.is_empty())
        .map(|info| format!(", {}", info.unit))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_star_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.star");
        for text in ["", "# only a comment\n\n"] {
            std::fs::write(&path, text).unwrap();
            let message = describe(&path).unwrap_err().to_string();
            assert_eq!(
                message,
                format!(
                    "{}: no data_ block (the file is empty or holds only comments); expected a \
                     STAR file with at least one data_ block",
                    path.display()
                )
            );
        }
        std::fs::write(&path, "data_x\n_rlnNrClasses 1\n").unwrap();
        assert!(
            describe(&path)
                .unwrap()
                .starts_with("data_x: 1 key-value items")
        );
    }
}
