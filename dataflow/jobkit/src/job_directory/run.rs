//! One job run in its job directory, as RELION's pipeliner keeps it: before any work the
//! outputs are checked against the inputs and the inputs against their directories' markers;
//! then the temporary files a killed run left are removed, the markers of the previous run are
//! removed and the running marker written; at the end `RELION_JOB_EXIT_SUCCESS` or
//! `RELION_JOB_EXIT_FAILURE` (with the running marker's record of the files the job claimed)
//! replaces the running marker. A job that fails in a directory it
//! created and wrote nothing to leaves no directory (there is no output to mark).

use std::path::{Path, PathBuf};

use super::JobDirectoryError;
use super::files::{JobFiles, resolve};
use super::markers::{self, FAILURE, RUNNING, SUCCESS};

/// A job that has started in its directory; [`JobRun::finish`] marks how it ended.
#[derive(Debug)]
#[must_use = "a started job must be finished to mark its directory"]
pub struct JobRun {
    directory: Option<PathBuf>,
    created_directory: bool,
    /// The running marker's text, which the failure marker keeps (the files claimed).
    record: String,
}

impl JobRun {
    /// Checks `files` (no output over an input, no input from a failed or unfinished job) and,
    /// if the job has a directory, prepares it: created if missing, `.cryoflux-*.partial`
    /// leftovers and old markers removed, running marker written. Nothing is touched when a
    /// check fails.
    pub fn start(files: &JobFiles) -> Result<JobRun, JobDirectoryError> {
        files.check_overwrites()?;
        let own = files.directory().map(resolve);
        for input in files.inputs() {
            markers::check_input(input, own.as_deref())?;
        }
        let Some(directory) = files.directory() else {
            return Ok(JobRun {
                directory: None,
                created_directory: false,
                record: String::new(),
            });
        };
        let created_directory = !directory.exists();
        std::fs::create_dir_all(directory).map_err(|source| JobDirectoryError::Io {
            path: directory.to_path_buf(),
            action: "create the job directory",
            source,
        })?;
        for leftover in markers::temporary_files(directory) {
            tracing::info!(
                "removing {}, left by an earlier run that was killed",
                leftover.display()
            );
            remove(&leftover)?;
        }
        remove(&directory.join(SUCCESS))?;
        remove(&directory.join(FAILURE))?;
        let command: Vec<String> = std::env::args().collect();
        let record = format!(
            "# cryoflux job, pid {}\n# {}\n{}",
            std::process::id(),
            command.join(" "),
            files.claim().to_text()
        );
        write(&directory.join(RUNNING), &record)?;
        Ok(JobRun {
            directory: Some(directory.to_path_buf()),
            created_directory,
            record,
        })
    }

    /// Marks the end: `RELION_JOB_EXIT_SUCCESS` if `succeeded`, else `RELION_JOB_EXIT_FAILURE`
    /// (written before the running marker is removed, so a kill in between still reads as
    /// ended).
    pub fn finish(self, succeeded: bool) -> Result<(), JobDirectoryError> {
        let Some(directory) = self.directory else {
            return Ok(());
        };
        let running = directory.join(RUNNING);
        if !succeeded && self.created_directory && only_holds(&directory, RUNNING) {
            remove(&running)?;
            return std::fs::remove_dir(&directory).map_err(|source| JobDirectoryError::Io {
                path: directory,
                action: "remove the empty job directory",
                source,
            });
        }
        if succeeded {
            write(&directory.join(SUCCESS), "")?;
        } else {
            write(&directory.join(FAILURE), &self.record)?;
        }
        remove(&running)
    }
}

/// Whether `directory` holds exactly one entry, `name`.
fn only_holds(directory: &Path, name: &str) -> bool {
    std::fs::read_dir(directory).is_ok_and(|entries| {
        let names: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        names.len() == 1 && names[0] == name
    })
}

/// Removes `path`; a missing file is fine.
fn remove(path: &Path) -> Result<(), JobDirectoryError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(JobDirectoryError::Io {
            path: path.to_path_buf(),
            action: "remove it",
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Writes a marker (small; a torn write still marks the directory).
fn write(path: &Path, text: &str) -> Result<(), JobDirectoryError> {
    std::fs::write(path, text).map_err(|source| JobDirectoryError::Io {
        path: path.to_path_buf(),
        action: "write the job marker",
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_run_cleans_leftovers_and_replaces_markers() {
        let dir = tempfile::tempdir().unwrap();
        let job = dir.path().join("Simulate");
        std::fs::create_dir(&job).unwrap();
        for leftover in [".cryoflux-x1.partial", FAILURE, "particles.mrcs"] {
            std::fs::write(job.join(leftover), b"").unwrap();
        }
        let files = JobFiles::in_directory(&job).output("--o", job.join("particles.star"));
        let run = JobRun::start(&files).unwrap();
        assert_eq!(names(&job), [RUNNING, "particles.mrcs"]);
        run.finish(true).unwrap();
        assert_eq!(names(&job), [SUCCESS, "particles.mrcs"]);
        JobRun::start(&files).unwrap().finish(false).unwrap();
        assert_eq!(names(&job), [FAILURE, "particles.mrcs"]);
    }

    #[test]
    fn a_failure_in_a_new_empty_directory_leaves_no_directory() {
        let dir = tempfile::tempdir().unwrap();
        let job = dir.path().join("Refine3D/job001");
        let files = JobFiles::in_directory(&job);
        JobRun::start(&files).unwrap().finish(false).unwrap();
        assert!(!job.exists());
    }

    #[test]
    fn a_refused_start_touches_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let star = dir.path().join("p.star");
        std::fs::write(&star, b"data_\n").unwrap();
        std::fs::write(dir.path().join(".cryoflux-x1.partial"), b"").unwrap();
        let files = JobFiles::beside(&star)
            .input("--i", &star)
            .output("--o", &star);
        assert!(JobRun::start(&files).is_err());
        assert_eq!(names(dir.path()), [".cryoflux-x1.partial", "p.star"]);
    }
}
