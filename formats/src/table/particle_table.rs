//! [`ParticleTable`]: the main loop of a STAR file as an Arrow batch, with the file's other
//! blocks (optics groups, key–value blocks) kept alongside for lossless round trips.

use std::path::Path;

use arrow_array::RecordBatch;

use super::arrow_convert::{record_batch_to_table, table_to_record_batch};
use crate::error::{Error, Result};
use crate::star::StarFile;

/// A particle table: RELION-labelled columns in Arrow form plus the rest of its STAR file.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticleTable {
    /// One row per particle (or per micrograph/movie for such files); columns named by RELION
    /// label, in the units of the label registry (Å, degrees, …).
    pub rows: RecordBatch,
    /// Every block of the source file in order; the main block's `table` is `None` here
    /// because its rows live in [`ParticleTable::rows`].
    pub blocks: StarFile,
    /// Index into `blocks.blocks` of the block whose loop `rows` holds.
    pub main_block: usize,
}

impl ParticleTable {
    /// Split a STAR file into its main loop (the `particles` block if present, else the block
    /// with the most rows) and everything else. `path` names the source in errors.
    pub fn from_star(mut star: StarFile, path: &Path) -> Result<Self> {
        let main_block = main_block_index(&star).ok_or_else(|| {
            Error::content(
                path,
                "no loop_ table found; expected a particle (or other) loop",
            )
        })?;
        let table = star.blocks[main_block]
            .table
            .take()
            .expect("main block has a table");
        Ok(ParticleTable {
            rows: table_to_record_batch(&table),
            blocks: star,
            main_block,
        })
    }

    /// Reassemble the STAR file: the other blocks unchanged, the main block's loop from `rows`.
    pub fn to_star(&self, path: &Path) -> Result<StarFile> {
        let mut star = self.blocks.clone();
        let block = star.blocks.get_mut(self.main_block).ok_or_else(|| {
            Error::table(
                path,
                format!("main block index {} is out of range", self.main_block),
            )
        })?;
        block.table = Some(record_batch_to_table(&self.rows, path)?);
        Ok(star)
    }

    /// The optics groups (`data_optics` loop) as a second Arrow batch, if the file has one.
    pub fn optics(&self) -> Option<RecordBatch> {
        let table = self.blocks.block("optics")?.table.as_ref()?;
        Some(table_to_record_batch(table))
    }

    /// Name of the main block (`particles` for RELION 3.1+ particle files).
    pub fn main_block_name(&self) -> &str {
        &self.blocks.blocks[self.main_block].name
    }
}

/// The block holding the main loop: `particles` if it has one, otherwise the largest loop
/// (the first of equals).
fn main_block_index(star: &StarFile) -> Option<usize> {
    let with_table = |i: &usize| star.blocks[*i].table.is_some();
    let by_name = (0..star.blocks.len())
        .filter(with_table)
        .find(|&i| star.blocks[i].name == "particles");
    by_name.or_else(|| {
        (0..star.blocks.len())
            .filter(with_table)
            .rev()
            .max_by_key(|&i| star.blocks[i].table.as_ref().map_or(0, |t| t.rows()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::star::{Column, ColumnData, DataBlock, Table, Value};

    fn loop_block(name: &str, rows: usize) -> DataBlock {
        let column = Column {
            label: "rlnOpticsGroup".into(),
            data: ColumnData::Int(vec![1; rows]),
        };
        DataBlock {
            name: name.into(),
            pairs: vec![],
            table: Table::from_columns(vec![column]),
        }
    }

    #[test]
    fn picks_particles_block_and_round_trips() {
        let star = StarFile {
            blocks: vec![
                loop_block("optics", 3),
                loop_block("particles", 2),
                DataBlock {
                    name: "general".into(),
                    pairs: vec![("rlnFinalResolution".into(), Value::Float(3.5))],
                    table: None,
                },
            ],
        };
        let table = ParticleTable::from_star(star.clone(), Path::new("x.star")).unwrap();
        assert_eq!(table.main_block_name(), "particles");
        assert_eq!(table.rows.num_rows(), 2);
        assert_eq!(table.optics().unwrap().num_rows(), 3);
        assert_eq!(table.to_star(Path::new("x.star")).unwrap(), star);
    }

    #[test]
    fn without_particles_block_takes_largest_loop() {
        let star = StarFile {
            blocks: vec![loop_block("a", 3), loop_block("b", 7), loop_block("c", 7)],
        };
        let table = ParticleTable::from_star(star, Path::new("x.star")).unwrap();
        assert_eq!(table.main_block_name(), "b");
    }

    #[test]
    fn file_without_loop_is_an_error() {
        let star = StarFile {
            blocks: vec![DataBlock {
                name: "general".into(),
                ..Default::default()
            }],
        };
        let message = ParticleTable::from_star(star, Path::new("x.star"))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("x.star") && message.contains("loop_"),
            "{message}"
        );
    }
}
