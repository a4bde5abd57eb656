//! The `cryoflux` command: parse the arguments, run the job, report errors as one paragraph.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cryoflux_dataflow::cli::Cli::parse();
    cryoflux_dataflow::logging::init(cli.verbose);
    match cryoflux_dataflow::commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
