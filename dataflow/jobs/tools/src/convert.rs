//! STAR ↔ Parquet particle tables, by file extension (`cryoflux convert`). Lossless both ways:
//! optics groups and any other blocks travel in the Parquet file's metadata; RELION 3.0
//! particle files are upgraded to 3.1 form (optics groups, origins in Å) on the way.

use std::path::Path;

use anyhow::Context;
use cryoflux_formats::table::{read_particle_table, write_particle_table};

/// Reads the table at `input` and writes it at `output`, in the format of its extension.
pub fn convert(input: &Path, output: &Path) -> anyhow::Result<()> {
    let table = read_particle_table(input).context("cannot read the input table")?;
    write_particle_table(&table, output).context("cannot write the output table")?;
    tracing::info!(
        "wrote {} ({} rows × {} columns from block data_{})",
        output.display(),
        table.rows.num_rows(),
        table.rows.num_columns(),
        table.main_block_name()
    );
    Ok(())
}
