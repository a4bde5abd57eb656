//! Typed access to the columns of one STAR table (particles or optics) with errors that name
//! the file, the block and every missing label, so a job says at once what its input lacks.

use std::path::Path;

use anyhow::bail;
use cryoflux_formats::star::Table;

/// One table of a particle file, with where it came from (for messages).
#[derive(Debug, Clone, Copy)]
pub struct Columns<'a> {
    table: &'a Table,
    path: &'a Path,
    block: &'a str,
}

impl<'a> Columns<'a> {
    /// `table`, read from block `data_<block>` of the file at `path`.
    pub fn new(table: &'a Table, path: &'a Path, block: &'a str) -> Self {
        Self { table, path, block }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.table.rows()
    }

    /// The numeric cells of each of `labels` (integers are converted), or an error naming the
    /// file, the block, every missing or non-numeric label, and `why` they are needed.
    pub fn required<const K: usize>(
        &self,
        labels: [&str; K],
        why: &str,
    ) -> anyhow::Result<[Vec<f64>; K]> {
        let missing: Vec<&str> = labels
            .iter()
            .copied()
            .filter(|l| self.numbers(l).is_none())
            .collect();
        if !missing.is_empty() {
            bail!(
                "{}: block data_{} lacks the numeric column(s) {} needed {why}",
                self.path.display(),
                self.block,
                missing.join(", ")
            );
        }
        Ok(labels.map(|l| self.numbers(l).unwrap_or_default()))
    }

    /// The numeric cells of `label` (integers converted), if the column exists and is numeric.
    pub fn numbers(&self, label: &str) -> Option<Vec<f64>> {
        if let Some(values) = self.table.floats(label) {
            return Some(values.to_vec());
        }
        self.table
            .ints(label)
            .map(|values| values.iter().map(|&v| v as f64).collect())
    }

    /// The integer cells of `label`, if the column exists and holds integers.
    pub fn ints(&self, label: &str) -> Option<&'a [i64]> {
        self.table.ints(label)
    }

    /// The text cells of `label`, or an error naming the file and block.
    pub fn texts(&self, label: &str, why: &str) -> anyhow::Result<&'a [String]> {
        match self.table.texts(label) {
            Some(values) => Ok(values),
            None => bail!(
                "{}: block data_{} lacks the column {label} needed {why}",
                self.path.display(),
                self.block
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryoflux_formats::star::{Column, ColumnData};

    fn table() -> Table {
        Table::from_columns(vec![
            Column {
                label: "rlnDefocusU".into(),
                data: ColumnData::Float(vec![1.0, 2.0]),
            },
            Column {
                label: "rlnImageSize".into(),
                data: ColumnData::Int(vec![48, 64]),
            },
        ])
        .unwrap()
    }

    #[test]
    fn integers_read_as_numbers_and_missing_labels_are_all_named() {
        let t = table();
        let c = Columns::new(&t, Path::new("p.star"), "particles");
        let [d, s] = c.required(["rlnDefocusU", "rlnImageSize"], "here").unwrap();
        assert_eq!((d, s), (vec![1.0, 2.0], vec![48.0, 64.0]));
        let message = c
            .required(
                ["rlnDefocusU", "rlnDefocusV", "rlnVoltage"],
                "for CTF correction",
            )
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("p.star")
                && message.contains("data_particles")
                && message.contains("rlnDefocusV, rlnVoltage")
                && message.contains("for CTF correction"),
            "{message}"
        );
        assert!(c.texts("rlnImageName", "to read images").is_err());
    }
}
