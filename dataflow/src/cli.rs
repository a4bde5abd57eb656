//! Command-line grammar. Flags mirror RELION's names where RELION has one (`--i`, `--o`), so a
//! RELION user's habits carry over; each also has a clearer long alias.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// cryoflux: cryo-EM single-particle refinement as a dataflow.
///
/// Reads and writes RELION's STAR and MRC files, so RELION users can switch without converting
/// anything, and Parquet particle tables for pandas/polars/Arrow users.
#[derive(Debug, Parser)]
#[command(name = "cryoflux", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// More log output (-v debug, -vv trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The job to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands, one file each under `commands/`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Convert a particle table between STAR and Parquet (format chosen by file extension).
    ///
    /// `.star` ↔ `.parquet`/`.pq`. The conversion is lossless both ways: optics groups and
    /// any other blocks travel in the Parquet file's metadata. RELION 3.0 particle files are
    /// upgraded to 3.1 form (optics groups, origins in Å) on the way.
    Convert(ConvertArgs),
    /// Describe a file: STAR (blocks, columns, rows, optics groups), MRC/MRCS (mode, size,
    /// voxel size, statistics) or Parquet (schema, rows).
    Info(InfoArgs),
}

/// Arguments of `cryoflux convert`.
#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// Input file: a RELION STAR file or a Parquet particle table.
    #[arg(value_name = "IN", required_unless_present = "input_flag")]
    pub input: Option<PathBuf>,
    /// Output file; its extension (.star, .parquet) picks the format.
    #[arg(value_name = "OUT", required_unless_present = "output_flag")]
    pub output: Option<PathBuf>,
    /// Input file, RELION style (same as IN).
    #[arg(
        long = "i",
        visible_alias = "input",
        value_name = "FILE",
        conflicts_with = "input"
    )]
    pub input_flag: Option<PathBuf>,
    /// Output file, RELION style (same as OUT).
    #[arg(
        long = "o",
        visible_alias = "output",
        value_name = "FILE",
        conflicts_with = "output"
    )]
    pub output_flag: Option<PathBuf>,
}

impl ConvertArgs {
    /// The input path, whichever way it was given.
    pub fn input(&self) -> &std::path::Path {
        self.input
            .as_deref()
            .or(self.input_flag.as_deref())
            .expect("clap requires an input")
    }

    /// The output path, whichever way it was given.
    pub fn output(&self) -> &std::path::Path {
        self.output
            .as_deref()
            .or(self.output_flag.as_deref())
            .expect("clap requires an output")
    }
}

/// Arguments of `cryoflux info`.
#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    /// The file to describe (.star, .mrc, .mrcs, .map, .parquet).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn convert_accepts_relion_flags() {
        let cli = Cli::parse_from(["cryoflux", "convert", "--i", "a.star", "--o", "b.parquet"]);
        let Command::Convert(args) = cli.command else {
            panic!("expected convert")
        };
        assert_eq!(args.input(), std::path::Path::new("a.star"));
        assert_eq!(args.output(), std::path::Path::new("b.parquet"));
    }
}
