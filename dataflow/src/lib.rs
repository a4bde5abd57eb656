//! Job assembly, iteration drivers, checkpoints and the `cryoflux` command line.
//!
//! The binary (`src/main.rs`) only parses arguments ([`cli`]) and calls [`commands::run`];
//! each subcommand lives in its own file under [`commands`]. Any subcommand can also be driven
//! by a YAML file whose keys are its flags ([`config`]).

pub mod assess;
pub mod cli;
pub mod commands;
pub mod config;
pub mod logging;
pub mod maps;
pub mod particles;
pub mod plots;
pub mod postprocess;
pub mod reconstruct;
pub mod refine;
pub mod report;
pub mod simulate;
