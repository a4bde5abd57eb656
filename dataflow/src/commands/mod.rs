//! One file per subcommand; [`run`] dispatches a parsed [`Command`] to it. `relion_flags` holds
//! the RELION-only options `refine` accepts.

pub mod assess;
pub mod bench;
pub mod convert;
pub mod ctffind;
pub mod demo;
pub mod extract;
pub mod image;
pub mod import;
pub mod info;
pub mod mask;
pub mod motioncorr;
pub mod postprocess;
pub mod project;
pub mod reconstruct;
pub mod refine;
pub mod relion_flags;
pub mod report;
pub mod simulate;

use cryoflux_jobkit::job_directory::{JobFiles, JobRun};

use crate::cli::Command;

/// Run one subcommand to completion in its job directory: before any work its outputs are
/// checked against its inputs and its inputs against their directories' markers, then
/// RELION's `RELION_JOB_EXIT_SUCCESS` or `RELION_JOB_EXIT_FAILURE` marks how it ended
/// ([`cryoflux_jobkit::job_directory`]).
pub fn run(command: Command) -> anyhow::Result<()> {
    let job = JobRun::start(&files(&command))?;
    let result = dispatch(command);
    let marked = job.finish(result.is_ok());
    result?;
    Ok(marked?)
}

/// What `command` reads and writes, and its job directory.
fn files(command: &Command) -> JobFiles {
    match command {
        Command::Demo(args) => args.files(),
        Command::Convert(args) => args.files(),
        Command::Info(_) | Command::Bench(_) | Command::Report(_) => JobFiles::without_directory(),
        Command::Assess(args) => args.files(),
        Command::Simulate(args) => args.files(),
        Command::Project(args) => args.files(),
        Command::Reconstruct(args) => args.files(),
        Command::Refine(args) => args.files(),
        Command::Image(args) => args.files(),
        Command::Import(args) => args.files(),
        Command::Extract(args) => args.files(),
        Command::Ctffind(args) => args.files(),
        Command::Mask(args) => args.files(),
        Command::Motioncorr(args) => args.files(),
        Command::Postprocess(args) => args.files(),
    }
}

/// Runs `command`'s job.
fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Demo(args) => demo::run(&args),
        Command::Convert(args) => convert::run(&args),
        Command::Info(args) => info::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Assess(args) => assess::run(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Project(args) => project::run(&args),
        Command::Reconstruct(args) => reconstruct::run(&args),
        Command::Refine(args) => refine::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Image(args) => image::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Extract(args) => extract::run(&args),
        Command::Ctffind(args) => ctffind::run(&args),
        Command::Mask(args) => mask::run(&args),
        Command::Motioncorr(args) => motioncorr::run(&args),
        Command::Postprocess(args) => postprocess::run(&args),
    }
}
