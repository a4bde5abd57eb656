//! Reading and writing [`ParticleTable`]s as zstd-compressed Parquet. The non-main STAR blocks
//! travel as STAR text in the file's key–value metadata (see the module documentation of
//! [`crate::table`]).

use std::fs::File;
use std::path::Path;

use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use super::{MAIN_BLOCK_KEY, ParticleTable, STAR_BLOCKS_KEY};
use crate::atomic::write_atomically;
use crate::error::{Error, Result};
use crate::star::StarFile;

/// Rows per Parquet row group: large enough for fast scans, small enough to stream.
const ROW_GROUP_ROWS: usize = 64 * 1024;

/// Write `table` to `path` as Parquet (zstd level 3), atomically.
pub fn write_parquet(table: &ParticleTable, path: &Path) -> Result<()> {
    let metadata = vec![
        KeyValue::new(STAR_BLOCKS_KEY.to_owned(), table.blocks.to_string()?),
        KeyValue::new(MAIN_BLOCK_KEY.to_owned(), table.main_block.to_string()),
    ];
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).expect("zstd level 3 is valid"),
        ))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_key_value_metadata(Some(metadata))
        .build();
    write_atomically(path, |out| {
        let mut writer = ArrowWriter::try_new(out, table.rows.schema(), Some(properties))
            .map_err(|e| Error::table(path, e))?;
        writer
            .write(&table.rows)
            .map_err(|e| Error::table(path, e))?;
        writer.close().map_err(|e| Error::table(path, e))?;
        Ok(())
    })
}

/// Read a particle table from Parquet. Files written by other tools (pandas, polars) are
/// accepted: without cryoflux metadata the table becomes a lone `particles` block.
pub fn read_parquet(path: &Path) -> Result<ParticleTable> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| Error::table(path, e))?;
    let metadata = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .cloned()
        .unwrap_or_default();
    let value_of = |key: &str| {
        metadata
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.clone())
    };
    let schema = builder.schema().clone();
    let batches = builder
        .with_batch_size(ROW_GROUP_ROWS)
        .build()
        .map_err(|e| Error::table(path, e))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::table(path, e))?;
    let rows = concat_row_groups(&schema, &batches, path)?;

    let (blocks, main_block) = match (value_of(STAR_BLOCKS_KEY), value_of(MAIN_BLOCK_KEY)) {
        (Some(text), Some(index)) => {
            let blocks = StarFile::parse(&text, path)?;
            let index: usize = index.trim().parse().map_err(|_| {
                Error::table(
                    path,
                    format!("metadata {MAIN_BLOCK_KEY} = {index:?} is not a block index"),
                )
            })?;
            if index >= blocks.blocks.len() {
                return Err(Error::table(
                    path,
                    format!(
                        "metadata {MAIN_BLOCK_KEY} = {index} but only {} blocks are stored",
                        blocks.blocks.len()
                    ),
                ));
            }
            (blocks, index)
        }
        _ => {
            let block = crate::star::DataBlock {
                name: "particles".into(),
                ..Default::default()
            };
            (
                StarFile {
                    blocks: vec![block],
                },
                0,
            )
        }
    };
    Ok(ParticleTable {
        rows,
        blocks,
        main_block,
    })
}

/// One batch holding all rows of `batches` (Parquet is read in row-group-sized pieces).
fn concat_row_groups(
    schema: &arrow_schema::SchemaRef,
    batches: &[arrow_array::RecordBatch],
    path: &Path,
) -> Result<arrow_array::RecordBatch> {
    match batches {
        [single] => Ok(single.clone()),
        _ => {
            arrow_select::concat::concat_batches(schema, batches).map_err(|e| Error::table(path, e))
        }
    }
}
