//! What a job reads and writes, named by the flags that gave them, and the check that no output
//! lands on an input. Paths are compared after resolving them (absolute, `..` and symbolic
//! links followed, hard links by device and inode), so `./p.star`, `../d/p.star` and a link to
//! `p.star` are all `p.star`. An output root that expands to several files is checked file by
//! file ([`JobFiles::outputs_under_root`]), or, when the job writes an open set of names under
//! it (refine's `ROOT_itNNN_…`), as every name starting with `ROOT_` or `ROOT.`
//! ([`JobFiles::outputs_with_prefix`]).

use std::path::{Path, PathBuf};

use super::JobDirectoryError;

/// One input file.
#[derive(Debug, Clone)]
pub(crate) struct Input {
    /// The flag that named it (e.g. `--i`, or `--i (its half2 partner)`).
    pub(crate) flag: String,
    /// The path as given.
    pub(crate) path: PathBuf,
}

/// One output, or an open set of outputs under a root.
#[derive(Debug, Clone)]
enum Output {
    /// One file.
    File { flag: String, path: PathBuf },
    /// Every file whose name starts with the root's name followed by `_` or `.`.
    Prefix { flag: String, root: PathBuf },
}

/// The files of one job run and its job directory (where the markers go; none for a job that
/// only reads, such as `info`).
#[derive(Debug, Clone, Default)]
pub struct JobFiles {
    inputs: Vec<Input>,
    outputs: Vec<Output>,
    directory: Option<PathBuf>,
    owns_directory: bool,
}

/// Which files of its directory a job run may write, as its running and failure markers record
/// it, so that a failed or killed job makes only its own files suspect in a directory shared
/// with others. Recorded one line each: `output PATH`, `output-prefix ROOT` (resolved paths);
/// no such line (RELION's empty markers, a leftover temporary file, a job that owns its
/// directory) claims every file of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Every file in the directory.
    Directory,
    /// These files (`false`) and files under these roots (`true`), resolved.
    Outputs(Vec<(bool, PathBuf)>),
}

impl Claim {
    /// The marker lines of this claim.
    pub fn to_text(&self) -> String {
        match self {
            Claim::Directory => String::new(),
            Claim::Outputs(outputs) => outputs
                .iter()
                .map(|(prefix, path)| {
                    let kind = if *prefix { "output-prefix" } else { "output" };
                    format!("{kind} {}\n", path.display())
                })
                .collect(),
        }
    }

    /// The claim recorded in a marker's `text` (other lines are comments).
    pub fn parse(text: &str) -> Claim {
        let outputs: Vec<(bool, PathBuf)> = text
            .lines()
            .filter_map(|line| {
                if let Some(root) = line.strip_prefix("output-prefix ") {
                    Some((true, PathBuf::from(root)))
                } else {
                    line.strip_prefix("output ")
                        .map(|path| (false, PathBuf::from(path)))
                }
            })
            .collect();
        if outputs.is_empty() {
            Claim::Directory
        } else {
            Claim::Outputs(outputs)
        }
    }

    /// Whether the file at `resolved` (see [`resolve`]) is one the job may have written.
    pub fn covers(&self, resolved: &Path) -> bool {
        match self {
            Claim::Directory => true,
            Claim::Outputs(outputs) => outputs.iter().any(|(prefix, path)| {
                if *prefix {
                    under_prefix(path, resolved).is_some()
                } else {
                    same_file(path, resolved)
                }
            }),
        }
    }
}

/// The directory a file or output root lies in (`.` for a bare name).
pub fn parent_directory(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl JobFiles {
    /// A job that writes no job directory (a reader such as `info`, or a report written into
    /// another job's directory): its outputs are still checked against its inputs.
    pub fn without_directory() -> Self {
        Self::default()
    }

    /// A job that owns `directory` (RELION's job directory; created if missing): its markers
    /// go there and speak for every file in it.
    pub fn in_directory(directory: impl Into<PathBuf>) -> Self {
        Self {
            directory: Some(directory.into()),
            owns_directory: true,
            ..Self::default()
        }
    }

    /// A job whose markers go in the directory `output` (a file or an output root) lies in,
    /// and speak for its declared outputs only (the directory may hold other jobs' files).
    pub fn beside(output: &Path) -> Self {
        Self {
            directory: Some(parent_directory(output)),
            ..Self::default()
        }
    }

    /// What this job's markers claim ([`Claim`]).
    pub fn claim(&self) -> Claim {
        if self.owns_directory {
            return Claim::Directory;
        }
        Claim::Outputs(
            self.outputs
                .iter()
                .map(|output| match output {
                    Output::File { path, .. } => (false, resolve(path)),
                    Output::Prefix { root, .. } => (true, resolve(root)),
                })
                .collect(),
        )
    }

    /// The job directory, if the job has one.
    pub fn directory(&self) -> Option<&Path> {
        self.directory.as_deref()
    }

    /// Drops the job directory (a process of a multi-process run that writes nothing).
    pub fn without_markers(mut self) -> Self {
        self.directory = None;
        self
    }

    /// An input file named by `flag`, whose job directory must hold a finished job.
    pub fn input(mut self, flag: &str, path: impl Into<PathBuf>) -> Self {
        self.inputs.push(Input {
            flag: flag.to_string(),
            path: path.into(),
        });
        self
    }

    /// [`JobFiles::input`] when `path` is given.
    pub fn optional_input(self, flag: &str, path: Option<&Path>) -> Self {
        match path {
            Some(path) => self.input(flag, path),
            None => self,
        }
    }

    /// An output file named by `flag`.
    pub fn output(mut self, flag: &str, path: impl Into<PathBuf>) -> Self {
        self.outputs.push(Output::File {
            flag: flag.to_string(),
            path: path.into(),
        });
        self
    }

    /// The outputs `root` + each of `suffixes` (e.g. `ROOT` + `.mrc`, `_masked.mrc`).
    pub fn outputs_under_root(mut self, flag: &str, root: &Path, suffixes: &[&str]) -> Self {
        for suffix in suffixes {
            let mut name = root.as_os_str().to_owned();
            name.push(suffix);
            self = self.output(flag, PathBuf::from(name));
        }
        self
    }

    /// The outputs `directory/name` for each of `names`.
    pub fn outputs_in(mut self, flag: &str, directory: &Path, names: &[&str]) -> Self {
        for name in names {
            self = self.output(flag, directory.join(name));
        }
        self
    }

    /// Every file named `ROOT_…` or `ROOT.…` beside `root` (an open set of outputs).
    pub fn outputs_with_prefix(mut self, flag: &str, root: impl Into<PathBuf>) -> Self {
        self.outputs.push(Output::Prefix {
            flag: flag.to_string(),
            root: root.into(),
        });
        self
    }

    /// The inputs, in the order given.
    pub(crate) fn inputs(&self) -> &[Input] {
        &self.inputs
    }

    /// Refuses the first output that would land on an input.
    pub fn check_overwrites(&self) -> Result<(), JobDirectoryError> {
        for input in &self.inputs {
            let resolved = resolve(&input.path);
            for output in &self.outputs {
                let (flag, hit) = match output {
                    Output::File { flag, path } => (
                        flag,
                        same_file(&resolve(path), &resolved).then(|| path.clone()),
                    ),
                    Output::Prefix { flag, root } => (flag, under_prefix(root, &resolved)),
                };
                if let Some(output) = hit {
                    return Err(JobDirectoryError::Overwrite {
                        output_flag: flag.clone(),
                        output,
                        input_flag: input.flag.clone(),
                        input: input.path.clone(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// `path` made absolute with links followed: the whole path if it exists, else its directory
/// (if that exists) joined with its name, else `path` made absolute as written.
pub fn resolve(path: &Path) -> PathBuf {
    if let Ok(real) = path.canonicalize() {
        return real;
    }
    let absolute =
        lexically_normal(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
    match (absolute.parent(), absolute.file_name()) {
        (Some(dir), Some(name)) => dir
            .canonicalize()
            .map_or_else(|_| absolute.clone(), |dir| dir.join(name)),
        _ => absolute,
    }
}

/// `path` with `.` and `..` removed by their spelling (for parts that do not exist yet, which
/// the writer would create).
fn lexically_normal(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

/// Whether two resolved paths are one file: equal, or (both existing) the same inode.
fn same_file(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(a), Ok(b)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return a.dev() == b.dev() && a.ino() == b.ino();
        }
    }
    false
}

/// The file `resolved` as an output under the prefix `root`, if its name is `ROOT_…`/`ROOT.…`
/// in the root's directory.
fn under_prefix(root: &Path, resolved: &Path) -> Option<PathBuf> {
    let root = resolve(root);
    let stem = root.file_name()?.to_str()?;
    let name = resolved.file_name()?.to_str()?;
    let rest = name.strip_prefix(stem)?;
    let same_directory = resolved.parent() == root.parent();
    (same_directory && (rest.starts_with('_') || rest.starts_with('.')))
        .then(|| root.with_file_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(files: &JobFiles) -> String {
        files.check_overwrites().unwrap_err().to_string()
    }

    #[test]
    fn an_output_equal_to_an_input_is_refused_with_both_flags() {
        let dir = tempfile::tempdir().unwrap();
        let star = dir.path().join("p.star");
        std::fs::write(&star, "data_\n").unwrap();
        let files = JobFiles::beside(&star)
            .input("--i", &star)
            .output("--o", dir.path().join(".").join("p.star"));
        let message = refused(&files);
        assert!(
            message.contains("--o") && message.contains("--i"),
            "{message}"
        );
        assert!(message.contains("p.star"), "{message}");
    }

    #[test]
    fn links_and_relative_spellings_are_followed() {
        let dir = tempfile::tempdir().unwrap();
        let map = dir.path().join("half1.mrc");
        std::fs::write(&map, b"x").unwrap();
        let link = dir.path().join("link.mrc");
        std::os::unix::fs::symlink(&map, &link).unwrap();
        let files = JobFiles::without_directory()
            .input("--i", &link)
            .output("--o", dir.path().join("sub/../half1.mrc"));
        assert!(refused(&files).contains("half1.mrc"));
        let hard = dir.path().join("hard.mrc");
        std::fs::hard_link(&map, &hard).unwrap();
        let files = JobFiles::without_directory()
            .input("--i", &map)
            .output("--o", &hard);
        assert!(refused(&files).contains("hard.mrc"));
    }

    #[test]
    fn a_root_expands_to_each_of_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let half = dir.path().join("x_half1.mrc");
        std::fs::write(&half, b"x").unwrap();
        let root = dir.path().join("x_half1");
        let files = JobFiles::beside(&root)
            .input("--i", &half)
            .outputs_under_root("--o", &root, &[".mrc", ".star"]);
        assert!(refused(&files).contains("x_half1.mrc"));
        // Another root does not clash with the same input.
        let files = JobFiles::beside(&root)
            .input("--i", &half)
            .outputs_under_root("--o", &dir.path().join("x"), &[".mrc", "_masked.mrc"]);
        files.check_overwrites().unwrap();
    }

    #[test]
    fn a_prefix_covers_every_name_under_the_root_only() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("run_it003_data.star");
        std::fs::write(&data, b"x").unwrap();
        let files = JobFiles::without_directory()
            .input("--i", &data)
            .outputs_with_prefix("--o", dir.path().join("run"));
        assert!(refused(&files).contains("run_it003_data.star"));
        for root in ["run2", "other/run"] {
            JobFiles::without_directory()
                .input("--i", &data)
                .outputs_with_prefix("--o", dir.path().join(root))
                .check_overwrites()
                .unwrap();
        }
    }
}
