//! MotionCor2 defect files (`-DefectFile`): one rectangle of bad camera pixels per line, four
//! whitespace-separated non-negative integers `x y w h` in px (the rectangle's first column and
//! row, then its width and height), in the coordinates of the movie as MotionCor2 reads it; no
//! orientation change is applied here. Blank lines are skipped.

use std::path::Path;

use crate::error::{Error, Result};

/// A rectangle of defective pixels, in px.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefectRect {
    /// First column (0-based), px.
    pub x: usize,
    /// First row (0-based), px.
    pub y: usize,
    /// Width, px.
    pub width: usize,
    /// Height, px.
    pub height: usize,
}

/// Read the MotionCor2 defect file at `path`.
pub fn read_defect_file(path: impl AsRef<Path>) -> Result<Vec<DefectRect>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_defects(path, &text)
}

/// Parse defect-file `text`; `path` names it in error messages, which give the 1-based line.
pub fn parse_defects(path: &Path, text: &str) -> Result<Vec<DefectRect>> {
    let mut rects = Vec::new();
    for (line_index, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let bad = |message: String| Error::syntax(path, line_index + 1, None, message);
        if fields.len() != 4 {
            return Err(bad(format!(
                "{} fields in {line:?}; expected 4 integers `x y w h` (px)",
                fields.len()
            )));
        }
        let mut values = [0usize; 4];
        for ((value, field), name) in values.iter_mut().zip(&fields).zip(["x", "y", "w", "h"]) {
            *value = field.parse().map_err(|_| {
                bad(format!(
                    "{name} = {field:?} is not a non-negative integer (px)"
                ))
            })?;
        }
        let [x, y, width, height] = values;
        rects.push(DefectRect {
            x,
            y,
            width,
            height,
        });
    }
    Ok(rects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rectangles_and_skips_blank_lines() {
        let rects = parse_defects(Path::new("d.txt"), "0 10 1 4096\n\n  5\t6 7 8  \n").unwrap();
        assert_eq!(
            rects,
            vec![
                DefectRect {
                    x: 0,
                    y: 10,
                    width: 1,
                    height: 4096
                },
                DefectRect {
                    x: 5,
                    y: 6,
                    width: 7,
                    height: 8
                },
            ]
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        for (text, needle) in [
            ("1 2 3 4\n1 2 3\n", "3 fields"),
            ("1 2 3 4\n\n1 -2 3 4\n", "y = \"-2\""),
            ("1 2 3 4\n1 2 3.5 4\n", "w = \"3.5\""),
        ] {
            let message = parse_defects(Path::new("defects.txt"), text)
                .unwrap_err()
                .to_string();
            assert!(message.contains("defects.txt"), "{message}");
            let line = if text.contains("\n\n") {
                "line 3"
            } else {
                "line 2"
            };
            assert!(
                message.contains(line) && message.contains(needle),
                "{message}"
            );
        }
    }
}
