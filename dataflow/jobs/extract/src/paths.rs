//! File names of an extraction, built from a micrograph name as RELION 3.1.3 builds them
//! (established by running `relion_preprocess`):
//! - the micrograph name loses its pipeline prefix: everything up to and including the first
//!   path component `jobNNN/` (three or more digits), e.g. `MotionCorr/job002/Movies/mic1.mrc`
//!   → `Movies/mic1.mrc`; a name without one is kept whole;
//! - coordinates: `<coord_dir><that name without extension><coord_suffix>`;
//! - particle stack: `<part_dir><that name without extension>.mrcs`, and beside it the
//!   micrograph's own particle table `…_extract.star`.
//!
//! Directories are joined as text, with a `/` added when missing, as RELION does.

use std::path::{Path, PathBuf};

/// The micrograph name without its pipeline prefix (see the module doc).
pub fn without_pipeline_prefix(micrograph: &str) -> &str {
    let mut start = 0;
    for (i, component) in micrograph.split_inclusive('/').enumerate() {
        let is_job = component
            .strip_prefix("job")
            .and_then(|rest| rest.strip_suffix('/'))
            .is_some_and(|digits| digits.len() >= 3 && digits.bytes().all(|b| b.is_ascii_digit()));
        if is_job {
            let consumed: usize = micrograph
                .split_inclusive('/')
                .take(i + 1)
                .map(str::len)
                .sum();
            start = consumed;
            break;
        }
    }
    &micrograph[start..]
}

/// `name` without its extension (the text from the last `.` of the last path component on).
pub fn without_extension(name: &str) -> &str {
    let file_start = name.rfind('/').map_or(0, |i| i + 1);
    match name[file_start..].rfind('.') {
        Some(dot) => &name[..file_start + dot],
        None => name,
    }
}

/// `dir` as a prefix ending in `/` (empty stays empty).
fn directory_prefix(dir: &Path) -> String {
    let text = dir.to_string_lossy().into_owned();
    if text.is_empty() || text.ends_with('/') {
        text
    } else {
        text + "/"
    }
}

/// The coordinate file of `micrograph`: `<coord_dir><name without prefix and extension><suffix>`,
/// or, without `coord_dir`, `<micrograph without extension><suffix>` beside the micrograph.
pub fn coordinate_file(micrograph: &str, coord_dir: Option<&Path>, coord_suffix: &str) -> PathBuf {
    let base = match coord_dir {
        Some(dir) => directory_prefix(dir) + without_extension(without_pipeline_prefix(micrograph)),
        None => without_extension(micrograph).to_owned(),
    };
    PathBuf::from(base + coord_suffix)
}

/// The stem of `micrograph`'s outputs in `part_dir`: `<part_dir><name without prefix and
/// extension>`; the stack is the stem + `.mrcs`, its particle table the stem + `_extract.star`.
pub fn output_stem(micrograph: &str, part_dir: &Path) -> String {
    directory_prefix(part_dir) + without_extension(without_pipeline_prefix(micrograph))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_relion_3_1_3() {
        // Each case checked with relion_preprocess (the paths it looked for).
        let cases = [
            (
                "MotionCorr/job002/Movies/mic1.mrc",
                "C/Movies/mic1_pick.star",
            ),
            ("mics/m1.mrc", "C/mics/m1_pick.star"),
            ("A/job12/m2.mrc", "C/A/job12/m2_pick.star"),
            ("A/B/job002/m3.mrc", "C/m3_pick.star"),
            ("A/job002/B/job003/m4.mrc", "C/B/job003/m4_pick.star"),
            ("job002/m5.mrc", "C/m5_pick.star"),
            ("Xjob002/m6.mrc", "C/Xjob002/m6_pick.star"),
        ];
        for (micrograph, expected) in cases {
            let path = coordinate_file(micrograph, Some(Path::new("C")), "_pick.star");
            assert_eq!(path, PathBuf::from(expected), "{micrograph}");
        }
        assert_eq!(
            coordinate_file("a/b.c/mic", None, ".star"),
            PathBuf::from("a/b.c/mic.star")
        );
        assert_eq!(
            output_stem(
                "MotionCorr/job002/Movies/mic1.mrc",
                Path::new("Extract/job006/")
            ),
            "Extract/job006/Movies/mic1"
        );
    }
}
