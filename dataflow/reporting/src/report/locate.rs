//! Finding a refinement run on disc: its output root (`Refine3D/job001/run`) and iterations,
//! from the `<root>_itNNN_half1_model.star` files that both cryoflux and RELION 3.1 write.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// File-name ending that marks one finished iteration of a run.
const MODEL_SUFFIX: &str = "_half1_model.star";

/// The files of one refinement run: output root and iteration numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFiles {
    /// Output root, e.g. `Refine3D/job001/run` (files are `<root>_itNNN_…`, `<root>_data.star`).
    pub root: PathBuf,
    /// Numbers of the iterations with a half-1 model file, ascending (0 = the start).
    pub iterations: Vec<u32>,
}

impl RunFiles {
    /// The run in `input`: a job directory holding one run (the most recently written one if
    /// there are several, e.g. after a continuation), or an output root such as
    /// `Refine3D/job001/run`. Errors name the path when it does not exist, is empty, or holds
    /// no iterations.
    pub fn find(input: &Path) -> anyhow::Result<Self> {
        let (dir, wanted) = if input.is_dir() {
            (input.to_path_buf(), None)
        } else {
            let stem = input.file_name().and_then(|n| n.to_str());
            let dir = match input.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            };
            match stem {
                Some(stem) if dir.is_dir() => (dir, Some(stem.to_string())),
                _ => bail!(
                    "{}: no such job directory or output root (give a Refine3D job directory \
                     or a root like Refine3D/job001/run)",
                    input.display()
                ),
            }
        };
        let names = file_names(&dir)?;
        if names.is_empty() {
            bail!("{}: the job directory is empty", dir.display());
        }
        let mut runs: Vec<(String, Vec<u32>)> = Vec::new();
        for (stem, iteration) in names.iter().filter_map(|n| parse_model_name(n)) {
            if wanted.as_deref().is_some_and(|w| w != stem) {
                continue;
            }
            match runs.iter_mut().find(|(s, _)| s == stem) {
                Some((_, iterations)) => iterations.push(iteration),
                None => runs.push((stem.to_string(), vec![iteration])),
            }
        }
        let shown = match &wanted {
            Some(stem) => dir.join(format!("{stem}_itNNN{MODEL_SUFFIX}")),
            None => dir.join(format!("*_itNNN{MODEL_SUFFIX}")),
        };
        if runs.is_empty() {
            bail!(
                "{}: no refinement iterations found (no {} files)",
                input.display(),
                shown.display()
            );
        }
        let latest = |(stem, iterations): &(String, Vec<u32>)| {
            let last = iterations.iter().max().copied().unwrap_or(0);
            let path = dir.join(format!("{stem}_it{last:03}{MODEL_SUFFIX}"));
            std::fs::metadata(path).and_then(|m| m.modified()).ok()
        };
        runs.sort_by_key(|run| latest(run));
        let (stem, mut iterations) = runs.pop().unwrap_or_default();
        for (other, _) in &runs {
            tracing::warn!(
                "{} also holds the run {other}; reporting on {stem}, the most recent (give \
                 {} to choose)",
                dir.display(),
                dir.join(other).display()
            );
        }
        iterations.sort_unstable();
        iterations.dedup();
        Ok(Self {
            root: dir.join(stem),
            iterations,
        })
    }

    /// The job directory (the root's folder).
    pub fn dir(&self) -> &Path {
        self.root.parent().unwrap_or(Path::new("."))
    }

    /// `<root><suffix>`, e.g. `suffix = "_model.star"`.
    pub fn file(&self, suffix: &str) -> PathBuf {
        let mut name = self.root.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    }

    /// `<root>_itNNN<suffix>`, e.g. `iteration_file(3, "_data.star")`.
    pub fn iteration_file(&self, iteration: u32, suffix: &str) -> PathBuf {
        self.file(&format!("{}{suffix}", iteration_prefix(iteration)))
    }

    /// Files of iteration `iteration` (`<root>_itNNN_*`) in the job directory.
    pub fn iteration_files(&self, iteration: u32) -> anyhow::Result<Vec<PathBuf>> {
        let stem = self.root.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let prefix = format!("{stem}{}_", iteration_prefix(iteration));
        Ok(file_names(self.dir())?
            .into_iter()
            .filter(|n| n.starts_with(&prefix))
            .map(|n| self.dir().join(n))
            .collect())
    }
}

/// `_itNNN` (at least three digits, as RELION writes).
fn iteration_prefix(iteration: u32) -> String {
    format!("_it{iteration:03}")
}

/// Names of the entries of `dir` that are valid UTF-8.
fn file_names(dir: &Path) -> anyhow::Result<Vec<String>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("{}: cannot list", dir.display()))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("{}: cannot list", dir.display()))?;
        if let Some(name) = entry.file_name().to_str() {
            names.push(name.to_string());
        }
    }
    Ok(names)
}

/// (`stem`, NNN) of a file named `<stem>_itNNN_half1_model.star`.
fn parse_model_name(name: &str) -> Option<(&str, u32)> {
    let head = name.strip_suffix(MODEL_SUFFIX)?;
    let at = head.rfind("_it")?;
    let digits = &head[at + 3..];
    if digits.len() < 3 || !digits.bytes().all(|b| b.is_ascii_digit()) || at == 0 {
        return None;
    }
    Some((&head[..at], digits.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, names: &[&str]) {
        for name in names {
            std::fs::write(dir.join(name), "").unwrap();
        }
    }

    #[test]
    fn model_file_names_give_stem_and_iteration() {
        assert_eq!(
            parse_model_name("run_it012_half1_model.star"),
            Some(("run", 12))
        );
        assert_eq!(
            parse_model_name("run_ct3_it1000_half1_model.star"),
            Some(("run_ct3", 1000))
        );
        for bad in [
            "run_it12_half1_model.star",
            "run_it012_half2_model.star",
            "_it012_half1_model.star",
            "run_itx12_half1_model.star",
        ] {
            assert_eq!(parse_model_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_job_directory_or_a_root_finds_the_iterations() {
        let dir = tempfile::tempdir().unwrap();
        touch(
            dir.path(),
            &[
                "run_it002_half1_model.star",
                "run_it001_half1_model.star",
                "run_it001_data.star",
                "run_it010_data.star",
                "note.txt",
            ],
        );
        let run = RunFiles::find(dir.path()).unwrap();
        assert_eq!(run.root, dir.path().join("run"));
        assert_eq!(run.iterations, vec![1, 2]);
        assert_eq!(RunFiles::find(&dir.path().join("run")).unwrap(), run);
        assert_eq!(
            run.iteration_file(1, "_data.star"),
            dir.path().join("run_it001_data.star")
        );
        let files = run.iteration_files(1).unwrap();
        assert_eq!(files.len(), 2, "{files:?}");
    }

    #[test]
    fn missing_empty_and_iterationless_inputs_are_named_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/job");
        let message = RunFiles::find(&missing).unwrap_err().to_string();
        assert!(message.contains("no/such/job") && message.contains("no such job"));
        let message = RunFiles::find(dir.path()).unwrap_err().to_string();
        assert!(message.contains("empty"), "{message}");
        touch(dir.path(), &["run_data.star"]);
        let message = RunFiles::find(dir.path()).unwrap_err().to_string();
        assert!(message.contains("no refinement iterations"), "{message}");
        touch(dir.path(), &["run_it001_half1_model.star"]);
        let message = RunFiles::find(&dir.path().join("other"))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("other_itNNN_half1_model.star"),
            "{message}"
        );
    }
}
