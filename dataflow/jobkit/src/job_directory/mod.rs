//! A job's files and its job directory, as RELION keeps them: what a job reads and writes
//! ([`files`]: no job writes over one of its own inputs), the marker files that say how the
//! last job in a directory ended ([`markers`]: `RELION_JOB_EXIT_SUCCESS`,
//! `RELION_JOB_EXIT_FAILURE`, and cryoflux's running marker), and one run's life in its
//! directory ([`run`]: checks before any work, leftovers of a killed run removed, markers
//! replaced). The command dispatch runs every job through [`run::JobRun`], so the rules live
//! here only.
//!
//! The rule for inputs (also in ARCHITECTURE.md): an input file is refused when its directory
//! holds `RELION_JOB_EXIT_FAILURE`, or holds no `RELION_JOB_EXIT_SUCCESS` but cryoflux's running
//! marker or a `.cryoflux-*.partial` temporary file (the job writing there was killed or is
//! still running), and that job claimed the file ([`files::Claim`]: cryoflux's markers list
//! the outputs of a job that shares its directory; RELION's empty markers, leftover temporary
//! files and jobs that own their directory claim every file). A directory without any of these
//! (hand-made inputs) and RELION's own job directories (which hold RELION's success marker)
//! are accepted. Inputs in the job's own directory are not checked: a rerun there replaces the
//! markers.

pub mod files;
pub mod markers;
pub mod run;

use std::path::PathBuf;

pub use files::JobFiles;
pub use run::JobRun;

/// Why a job may not start, or could not keep its directory's markers.
#[derive(Debug, thiserror::Error)]
pub enum JobDirectoryError {
    /// An output file is one of the job's inputs (same path after following links).
    #[error(
        "{output_flag} would write {output} over the input given by {input_flag} ({input}); \
         choose another output (nothing was written)"
    )]
    Overwrite {
        /// The flag naming the output (e.g. `--o`).
        output_flag: String,
        /// The output file that would replace the input.
        output: PathBuf,
        /// The flag naming the input (e.g. `--i`).
        input_flag: String,
        /// The input as given.
        input: PathBuf,
    },
    /// An input comes from a directory whose last job failed.
    #[error(
        "{flag} {path}: its job directory {directory} holds {marker}, so the job that wrote it \
         failed; rerun that job (or delete the marker if you know the file is complete)",
        marker = markers::FAILURE
    )]
    FailedJob {
        /// The flag naming the input.
        flag: String,
        /// The input as given.
        path: PathBuf,
        /// Its directory.
        directory: PathBuf,
    },
    /// An input comes from a directory whose job did not finish (killed, or still running).
    #[error(
        "{flag} {path}: its job directory {directory} holds {evidence} and no {success}, so the \
         job writing there was killed or is still running and its outputs may be incomplete; \
         rerun that job first",
        success = markers::SUCCESS
    )]
    UnfinishedJob {
        /// The flag naming the input.
        flag: String,
        /// The input as given.
        path: PathBuf,
        /// Its directory.
        directory: PathBuf,
        /// What shows the job unfinished (the running marker or a temporary file's name).
        evidence: String,
    },
    /// A marker or leftover file could not be written or removed.
    #[error("{path}: cannot {action}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The operating system's reason.
        source: std::io::Error,
    },
}
