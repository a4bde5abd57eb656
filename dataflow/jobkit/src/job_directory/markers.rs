//! The marker files of a job directory and what they say about the files in it: RELION's
//! `RELION_JOB_EXIT_SUCCESS` and `RELION_JOB_EXIT_FAILURE` (empty files, as RELION writes
//! them), cryoflux's running marker (present from a job's start to its end, so a killed job
//! leaves it behind), and the `.cryoflux-*.partial` temporary files of
//! [`cryoflux_formats::atomic`] that a killed job leaves.

use std::path::{Path, PathBuf};

use cryoflux_formats::atomic::{TEMP_PREFIX, TEMP_SUFFIX};

use super::JobDirectoryError;
use super::files::{Claim, Input, parent_directory, resolve};

/// RELION's marker of a job that finished.
pub const SUCCESS: &str = "RELION_JOB_EXIT_SUCCESS";

/// RELION's marker of a job that stopped with an error.
pub const FAILURE: &str = "RELION_JOB_EXIT_FAILURE";

/// cryoflux's marker of a job that started and has not ended (it holds the process id and the
/// command line, for whoever finds it).
pub const RUNNING: &str = ".cryoflux-job-running";

/// How the last job in a directory ended, as its markers say, and which files it claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryState {
    /// `RELION_JOB_EXIT_SUCCESS` is there (whatever else is).
    Finished,
    /// `RELION_JOB_EXIT_FAILURE` is there and no success marker.
    Failed(Claim),
    /// No marker of an end, but a running marker or temporary file (named here).
    Unfinished(String, Claim),
    /// No marker at all: a hand-made directory.
    Unmarked,
}

/// The state of `directory` (unreadable or missing directories count as unmarked; reading the
/// input itself then reports the problem).
pub fn state(directory: &Path) -> DirectoryState {
    if directory.join(SUCCESS).exists() {
        DirectoryState::Finished
    } else if directory.join(FAILURE).exists() {
        DirectoryState::Failed(claim_of(&directory.join(FAILURE)))
    } else if directory.join(RUNNING).exists() {
        DirectoryState::Unfinished(RUNNING.to_string(), claim_of(&directory.join(RUNNING)))
    } else {
        match temporary_files(directory).first() {
            Some(temp) => DirectoryState::Unfinished(
                temp.file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                Claim::Directory,
            ),
            None => DirectoryState::Unmarked,
        }
    }
}

/// The claim a marker file records (every file when it cannot be read).
fn claim_of(marker: &Path) -> Claim {
    std::fs::read_to_string(marker).map_or(Claim::Directory, |text| Claim::parse(&text))
}

/// The `.cryoflux-*.partial` files directly in `directory`, sorted.
pub fn temporary_files(directory: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(TEMP_PREFIX) && n.ends_with(TEMP_SUFFIX))
        })
        .map(|entry| entry.path())
        .collect();
    found.sort();
    found
}

/// Refuses `input` when its directory holds a failed or unfinished job that claimed it (module
/// doc of [`super`]); inputs in `own_directory` (resolved) are not checked.
pub(crate) fn check_input(
    input: &Input,
    own_directory: Option<&Path>,
) -> Result<(), JobDirectoryError> {
    let resolved = resolve(&input.path);
    let directory = parent_directory(&resolved);
    if own_directory == Some(directory.as_path()) {
        return Ok(());
    }
    match state(&directory) {
        DirectoryState::Finished | DirectoryState::Unmarked => Ok(()),
        DirectoryState::Failed(claim) | DirectoryState::Unfinished(_, claim)
            if !claim.covers(&resolved) =>
        {
            Ok(())
        }
        DirectoryState::Failed(_) => Err(JobDirectoryError::FailedJob {
            flag: input.flag.clone(),
            path: input.path.clone(),
            directory,
        }),
        DirectoryState::Unfinished(evidence, _) => Err(JobDirectoryError::UnfinishedJob {
            flag: input.flag.clone(),
            path: input.path.clone(),
            directory,
            evidence,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, name: &str) {
        std::fs::write(dir.join(name), b"").unwrap();
    }

    #[test]
    fn markers_decide_in_order_success_failure_running_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(state(d), DirectoryState::Unmarked);
        touch(d, ".cryoflux-abc123.partial");
        assert_eq!(
            state(d),
            DirectoryState::Unfinished(".cryoflux-abc123.partial".into(), Claim::Directory)
        );
        touch(d, RUNNING);
        assert_eq!(
            state(d),
            DirectoryState::Unfinished(RUNNING.into(), Claim::Directory)
        );
        touch(d, FAILURE);
        assert_eq!(state(d), DirectoryState::Failed(Claim::Directory));
        touch(d, SUCCESS);
        assert_eq!(state(d), DirectoryState::Finished);
    }

    #[test]
    fn inputs_of_failed_or_unfinished_jobs_are_refused_except_in_the_own_directory() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().canonicalize().unwrap();
        let input = Input {
            flag: "--i".into(),
            path: d.join("particles.star"),
        };
        check_input(&input, None).unwrap();
        touch(&d, RUNNING);
        let message = check_input(&input, None).unwrap_err().to_string();
        assert!(
            message.contains("--i") && message.contains(RUNNING) && message.contains("killed"),
            "{message}"
        );
        check_input(&input, Some(&d)).unwrap();
        touch(&d, FAILURE);
        let message = check_input(&input, None).unwrap_err().to_string();
        assert!(message.contains(FAILURE), "{message}");
        touch(&d, SUCCESS);
        check_input(&input, None).unwrap();
    }

    #[test]
    fn a_failed_job_that_claimed_its_outputs_leaves_other_files_usable() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().canonicalize().unwrap();
        let claim = Claim::Outputs(vec![(false, d.join("out.mrc")), (true, d.join("run"))]);
        std::fs::write(d.join(FAILURE), format!("# cryoflux\n{}", claim.to_text())).unwrap();
        let input = |name: &str| Input {
            flag: "--i".into(),
            path: d.join(name),
        };
        check_input(&input("truth.mrc"), None).unwrap();
        check_input(&input("run2_data.star"), None).unwrap();
        for claimed in ["out.mrc", "run_it001_data.star"] {
            let message = check_input(&input(claimed), None).unwrap_err().to_string();
            assert!(
                message.contains(claimed) && message.contains(FAILURE),
                "{message}"
            );
        }
    }
}
