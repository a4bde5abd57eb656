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

use crate::cli::Command;

/// Run one subcommand to completion.
pub fn run(command: Command) -> anyhow::Result<()> {
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
