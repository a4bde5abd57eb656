//! `rlnImageName` values: `000012@Particles/stack.mrcs` names slice 12 (1-based, as RELION
//! counts) of an MRC stack; a name without `@` is a whole single-image file.

use std::path::Path;

use super::cells::abbreviate;
use crate::error::{Error, Result};

/// Where one particle image lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageName<'a> {
    /// 1-based slice number in the stack (`12` for `000012@…`); `None` for a single-image file
    /// named without `@`.
    pub index: Option<usize>,
    /// The stack or image file, as written (usually relative to the project directory).
    pub file: &'a str,
}

impl<'a> ImageName<'a> {
    /// Parse an `rlnImageName` value. `path` (the STAR file) and `row` (0-based particle row)
    /// only name the place in the error, which is returned for an empty file name or an index
    /// that is not a positive integer.
    pub fn parse(text: &'a str, path: &Path, row: usize) -> Result<Self> {
        let invalid = |why: &str| {
            Error::content(
                path,
                format!(
                    "rlnImageName of particle row {}: `{}` {why}; expected `N@stack.mrcs` \
                     with N counting from 1",
                    row + 1,
                    abbreviate(text)
                ),
            )
        };
        let (index, file) = match text.split_once('@') {
            None => (None, text),
            Some((digits, file)) => {
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid("has an index that is not a whole number"));
                }
                match digits.parse::<usize>() {
                    Ok(0) => return Err(invalid("has index 0")),
                    Ok(index) => (Some(index), file),
                    Err(_) => return Err(invalid("has an index too large to be a slice")),
                }
            }
        };
        if file.is_empty() {
            return Err(invalid("names no file"));
        }
        Ok(ImageName { index, file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ImageName<'_>> {
        ImageName::parse(text, Path::new("p.star"), 4)
    }

    #[test]
    fn stack_references_are_one_based() {
        let name = parse("000012@Particles/stack.mrcs").unwrap();
        assert_eq!(
            name,
            ImageName {
                index: Some(12),
                file: "Particles/stack.mrcs"
            }
        );
        assert_eq!(parse("1@a@b.mrcs").unwrap().file, "a@b.mrcs");
    }

    #[test]
    fn single_image_files_have_no_index() {
        assert_eq!(
            parse("particle.mrc").unwrap(),
            ImageName {
                index: None,
                file: "particle.mrc"
            }
        );
    }

    #[test]
    fn malformed_names_are_errors_naming_file_and_row() {
        for (text, why) in [
            ("0@a.mrcs", "index 0"),
            ("x@a.mrcs", "not a whole number"),
            ("@a.mrcs", "not a whole number"),
            ("-1@a.mrcs", "not a whole number"),
            ("12@", "names no file"),
            ("", "names no file"),
            ("99999999999999999999999@a.mrcs", "too large"),
        ] {
            let message = parse(text).unwrap_err().to_string();
            assert!(
                message.contains("p.star") && message.contains("row 5"),
                "{message}"
            );
            assert!(message.contains(why), "{text:?}: {message}");
        }
    }
}
