//! `cryoflux convert IN OUT`: particle tables between STAR and Parquet, losslessly.

use cryoflux_jobkit::job_directory::JobFiles;
use std::path::{Path, PathBuf};

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
    pub fn input(&self) -> &Path {
        self.input
            .as_deref()
            .or(self.input_flag.as_deref())
            .expect("clap requires an input")
    }

    /// The output path, whichever way it was given.
    pub fn output(&self) -> &Path {
        self.output
            .as_deref()
            .or(self.output_flag.as_deref())
            .expect("clap requires an output")
    }
}

impl ConvertArgs {
    /// What the job reads and writes; its directory is the output's.
    pub fn files(&self) -> JobFiles {
        JobFiles::beside(self.output())
            .input("--i", self.input())
            .output("--o", self.output())
    }
}

/// Reads the input table and writes it in the format of the output's extension.
pub fn run(args: &ConvertArgs) -> anyhow::Result<()> {
    cryoflux_tools::convert::convert(args.input(), args.output())
}
