//! `cryoflux convert IN OUT`: particle tables between STAR and Parquet, losslessly.

use anyhow::Context;
use cryoflux_formats::table::{read_particle_table, write_particle_table};

use crate::cli::ConvertArgs;

/// Read the input table and write it in the format of the output's extension.
pub fn run(args: &ConvertArgs) -> anyhow::Result<()> {
    let (input, output) = (args.input(), args.output());
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
