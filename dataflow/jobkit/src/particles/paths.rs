//! Where the image file named by `rlnImageName` lives on disc.
//!
//! RELION resolves relative names against the project directory, which is the current working
//! directory of the job. So do we, first; when the file is not there we also try the directory
//! of the particle file itself, so that a self-contained folder (particles.star next to
//! particles.mrcs, as `cryoflux simulate` and `relion_project` write them) works from anywhere.
//! Absolute names are used as they are.

use std::path::{Path, PathBuf};

use anyhow::bail;

/// The existing file that `name` (as written in `rlnImageName`, after the `N@`) refers to:
/// `name` itself if absolute; else `./name` if it exists; else `<star_dir>/name` if that
/// exists. Otherwise an error naming the particle file, the row (0-based `row`, shown from 1)
/// and every place tried.
pub fn resolve_image_file(name: &str, star_path: &Path, row: usize) -> anyhow::Result<PathBuf> {
    let direct = PathBuf::from(name);
    let mut tried = vec![direct.clone()];
    if direct.is_file() {
        return Ok(direct);
    }
    if direct.is_relative() {
        let star_dir = star_path.parent().unwrap_or(Path::new(""));
        let beside = star_dir.join(name);
        if beside.is_file() {
            return Ok(beside);
        }
        if beside != direct {
            tried.push(beside);
        }
    }
    let tried: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
    bail!(
        "{}: particle row {}: image file {name} not found (tried {}; relative names are \
         resolved against the current directory, then the particle file's directory)",
        star_path.display(),
        row + 1,
        tried.join(" and ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn falls_back_to_the_star_files_directory_and_names_both_places() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stack.mrcs"), b"x").unwrap();
        let star = dir.path().join("particles.star");
        let found = resolve_image_file("stack.mrcs", &star, 0).unwrap();
        assert_eq!(found, dir.path().join("stack.mrcs"));
        let absolute = dir.path().join("stack.mrcs");
        assert_eq!(
            resolve_image_file(absolute.to_str().unwrap(), Path::new("x.star"), 0).unwrap(),
            absolute
        );
        let message = resolve_image_file("missing.mrcs", &star, 6)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("row 7")
                && message.contains("missing.mrcs not found")
                && message.contains(&dir.path().join("missing.mrcs").display().to_string()),
            "{message}"
        );
    }
}
