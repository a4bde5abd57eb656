//! `cryoflux bench …`: throughput measurements reported as ratios against a baseline measured
//! in the same run on the same machine (never as pass/fail timings).

pub mod io;
pub mod movies;
pub mod reconstruct;
pub mod refine;
mod run;
mod timing;

use clap::Subcommand;

/// Arguments of `cryoflux bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// What to measure.
    #[command(subcommand)]
    pub target: BenchTarget,
}

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchTarget {
    /// File input: STAR parse vs Python starfile, Parquet read, MRC stack read vs raw disk read.
    Io(io::BenchIoArgs),
    /// Motion correction throughput (movies/hour) and memory vs relion_run_motioncorr
    /// --use_own on the same simulated counting movies, with shift errors against the truth.
    Movies(movies::BenchMoviesArgs),
    /// Reconstruction time and memory vs relion_reconstruct; projection and FFT throughput.
    Reconstruct(reconstruct::BenchReconstructArgs),
    /// 3D auto-refinement vs relion_refine_mpi on the same simulated particles: time, memory,
    /// resolution and pose errors against the truth.
    Refine(refine::BenchRefineArgs),
}

/// Run the chosen benchmark and print its report.
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    match &args.target {
        BenchTarget::Io(io_args) => io::run(io_args),
        BenchTarget::Movies(args) => movies::run(args),
        BenchTarget::Reconstruct(args) => reconstruct::run(args),
        BenchTarget::Refine(args) => refine::run(args),
    }
}
