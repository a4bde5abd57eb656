//! `cryoflux assess`: a refinement of simulated particles against the simulation's truth —
//! angular and offset errors, FSC against the true map, gold-standard FSC (see
//! [`cryoflux_reporting::assess`] for the definitions).

use std::path::PathBuf;

use cryoflux_jobkit::job_directory::JobFiles;
use cryoflux_reporting::assess::{AssessInputs, assess, assess_aligned};

/// Arguments of `cryoflux assess`.
#[derive(Debug, clap::Args)]
pub struct AssessArgs {
    /// The refinement's particles (run_data.star, or a Parquet table).
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// The true poses (truth.star written by `cryoflux simulate`).
    #[arg(long, value_name = "FILE")]
    pub truth: PathBuf,
    /// Refined map (e.g. run_class001.mrc), compared with --truth_map.
    #[arg(long, value_name = "FILE.mrc", requires = "truth_map")]
    pub map: Option<PathBuf>,
    /// True map, compared with --map.
    #[arg(long = "truth_map", value_name = "FILE.mrc", requires = "map")]
    pub truth_map: Option<PathBuf>,
    /// First unfiltered half map (e.g. run_half1_class001_unfil.mrc), compared with --half2.
    #[arg(long, value_name = "FILE.mrc", requires = "half2")]
    pub half1: Option<PathBuf>,
    /// Second unfiltered half map.
    #[arg(long, value_name = "FILE.mrc", requires = "half1")]
    pub half2: Option<PathBuf>,
    /// Point group of the refinement (RELION symbol); angular errors are minimised over it.
    #[arg(long, default_value = "C1")]
    pub sym: String,
    /// Also estimate the refinement's own frame (a global rotation or mirror relative to the
    /// truth, from the poses) and measure the angular errors and the FSC against the truth
    /// again in it.
    #[arg(long)]
    pub align: bool,
    /// Also write the numbers to this JSON file (atomically).
    #[arg(long, value_name = "FILE.json")]
    pub json: Option<PathBuf>,
}

impl AssessArgs {
    /// What the job reads and writes (it has no job directory: it reads another job's).
    pub fn files(&self) -> JobFiles {
        let mut files = JobFiles::without_directory()
            .input("--data", &self.data)
            .input("--truth", &self.truth);
        for (flag, path) in [
            ("--map", &self.map),
            ("--truth_map", &self.truth_map),
            ("--half1", &self.half1),
            ("--half2", &self.half2),
        ] {
            files = files.optional_input(flag, path.as_deref());
        }
        match &self.json {
            Some(json) => files.output("--json", json),
            None => files,
        }
    }
}

/// Measures, prints the table, writes the JSON file if asked.
pub fn run(args: &AssessArgs) -> anyhow::Result<()> {
    let inputs = AssessInputs {
        data: args.data.clone(),
        truth: args.truth.clone(),
        symmetry: args.sym.clone(),
        map_and_truth: args.map.clone().zip(args.truth_map.clone()),
        half_maps: args.half1.clone().zip(args.half2.clone()),
    };
    let assessment = if args.align {
        assess_aligned(&inputs)?
    } else {
        assess(&inputs)?
    };
    print!("{}", assessment.table());
    if let Some(path) = &args.json {
        assessment.write_json(path)?;
    }
    Ok(())
}
