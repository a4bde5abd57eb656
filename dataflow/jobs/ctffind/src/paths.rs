//! Where RELION's CtfFind job puts a micrograph's files: the micrograph's path without its
//! extension under the output directory, after dropping the producing job's `Dir/jobNNN/`
//! prefix (`MotionCorr/job002/Movies/m1.mrc` → `CtfFind/job003/Movies/m1`), then `.ctf` (the
//! diagnostic MRC), `.txt` (CTFFIND's result line) and `_ctffind4.log`.

use std::path::{Component, Path, PathBuf};

/// Whether `name` is a RELION job directory name (`job` and digits).
fn is_job_directory(name: &str) -> bool {
    name.strip_prefix("job")
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// The output path of `micrograph` under `output_dir` without extension.
///
/// Root, `.` and `..` components are dropped so that every output stays inside `output_dir`.
pub fn output_stem(output_dir: &Path, micrograph: &str) -> PathBuf {
    let parts: Vec<&str> = Path::new(micrograph)
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => part.to_str(),
            _ => None,
        })
        .collect();
    let kept = if parts.len() > 2 && is_job_directory(parts[1]) {
        &parts[2..]
    } else {
        &parts[..]
    };
    let mut stem = output_dir.to_path_buf();
    stem.extend(kept);
    stem.set_extension("");
    stem
}

/// `stem` with `suffix` appended to its file name (`.ctf`, `.txt`, `_ctffind4.log`).
pub fn with_suffix(stem: &Path, suffix: &str) -> PathBuf {
    let mut name = stem.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_prefix_is_dropped_and_other_paths_kept() {
        let out = Path::new("CtfFind/job003");
        assert_eq!(
            output_stem(out, "MotionCorr/job002/Movies/m1.mrc"),
            Path::new("CtfFind/job003/Movies/m1")
        );
        assert_eq!(
            output_stem(out, "Movies/sub/m1.mrc"),
            Path::new("CtfFind/job003/Movies/sub/m1")
        );
        assert_eq!(
            output_stem(out, "/data/../m1.mrc"),
            Path::new("CtfFind/job003/data/m1")
        );
        assert_eq!(
            output_stem(out, "MotionCorr/jobs/m1.mrc"),
            Path::new("CtfFind/job003/MotionCorr/jobs/m1")
        );
        let stem = output_stem(out, "m.1.mrc");
        assert_eq!(
            with_suffix(&stem, "_ctffind4.log"),
            Path::new("CtfFind/job003/m.1_ctffind4.log")
        );
    }
}
