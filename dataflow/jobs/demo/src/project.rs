//! The demo's output directory as a RELION project: the process works inside it while the demo
//! runs (RELION's jobs name their files relative to the project directory, and so do ours), and
//! each step gets the next job directory, `<Kind>/jobNNN/`, numbered from 1 in order.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// The project being worked in; dropping it returns to the directory the process came from.
#[derive(Debug)]
pub struct Project {
    /// The current directory before [`Project::enter`].
    previous: PathBuf,
    /// Number of the next job directory.
    next_job: usize,
}

impl Project {
    /// Creates `dir` if needed and makes it the process's current directory.
    pub fn enter(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the output directory {}", dir.display()))?;
        let previous = std::env::current_dir().context("cannot read the current directory")?;
        std::env::set_current_dir(dir)
            .with_context(|| format!("cannot enter the output directory {}", dir.display()))?;
        Ok(Self {
            previous,
            next_job: 1,
        })
    }

    /// The next job directory of `kind` (e.g. `MotionCorr/job002/`), relative to the project.
    pub fn job(&mut self, kind: &str) -> PathBuf {
        let dir = PathBuf::from(format!("{kind}/job{:03}/", self.next_job));
        self.next_job += 1;
        dir
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        // Nothing sensible remains to be done if the old directory has gone.
        let _ = std::env::set_current_dir(&self.previous);
    }
}
