//! The `cryoflux` command: expand a YAML configuration if one is given, parse the arguments, run
//! the job, report errors as one paragraph.

use std::process::ExitCode;

use clap::FromArgMatches;
use clap::error::{ContextKind, ContextValue};
use cryoflux_jobkit::logging;

mod cli;
mod commands;
mod config;

use cli::Cli;

fn main() -> ExitCode {
    let (args, origins) = match config::expand(std::env::args_os().collect()) {
        Ok(expanded) => expanded,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::from(2);
        }
    };
    let parsed = cli::grammar()
        .try_get_matches_from(args)
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) => {
            let from_config = match error.get(ContextKind::InvalidArg) {
                Some(ContextValue::String(flag)) => origins.locate(flag),
                _ => None,
            };
            match from_config {
                Some(location) => {
                    eprintln!("error in configuration {location}:");
                    let _ = error.print();
                    return ExitCode::from(2);
                }
                None => error.exit(),
            }
        }
    };
    logging::init(cli.verbose);
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
