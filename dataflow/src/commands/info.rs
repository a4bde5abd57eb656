//! `cryoflux info FILE`: what a STAR, MRC/MRCS or Parquet file holds, in a user's terms.

use std::path::PathBuf;

/// Arguments of `cryoflux info`.
#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    /// The file to describe (.star, .mrc, .mrcs, .map, .parquet).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// Prints a description of the file to standard output.
pub fn run(args: &InfoArgs) -> anyhow::Result<()> {
    print!("{}", cryoflux_tools::info::describe(&args.file)?);
    Ok(())
}
