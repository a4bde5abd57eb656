//! Which format a file holds, decided by its extension, as RELION and its users name files.

use std::path::Path;

use crate::error::{Error, Result};

/// The file formats cryoflux reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// STAR metadata (`.star`).
    Star,
    /// MRC volume or image stack (`.mrc`, `.mrcs`, `.map`, `.st`).
    Mrc,
    /// Parquet particle table (`.parquet`, `.pq`).
    Parquet,
}

impl FileKind {
    /// The kind of `path`, from its (case-insensitive) extension; a directory is an error.
    pub fn from_path(path: &Path) -> Result<Self> {
        if path.is_dir() {
            return Err(Error::content(
                path,
                "is a directory; expected a file (.star, .mrc/.mrcs/.map or .parquet)",
            ));
        }
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("star") => Ok(FileKind::Star),
            Some("mrc" | "mrcs" | "map" | "st") => Ok(FileKind::Mrc),
            Some("parquet" | "pq") => Ok(FileKind::Parquet),
            other => Err(Error::content(
                path,
                format!(
                    "unknown file extension {}; expected .star, .mrc/.mrcs/.map or .parquet",
                    other.map_or_else(|| "(none)".to_owned(), |e| format!(".{e}"))
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_extensions() {
        assert_eq!(
            FileKind::from_path(Path::new("run_data.star")).unwrap(),
            FileKind::Star
        );
        assert_eq!(
            FileKind::from_path(Path::new("p.MRCS")).unwrap(),
            FileKind::Mrc
        );
        assert_eq!(
            FileKind::from_path(Path::new("t.parquet")).unwrap(),
            FileKind::Parquet
        );
        let message = FileKind::from_path(Path::new("x.txt"))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("x.txt") && message.contains(".txt"),
            "{message}"
        );
    }

    #[test]
    fn a_directory_is_named_as_one() {
        let dir = std::env::temp_dir();
        let message = FileKind::from_path(&dir).unwrap_err().to_string();
        assert_eq!(
            message,
            format!(
                "{}: is a directory; expected a file (.star, .mrc/.mrcs/.map or .parquet)",
                dir.display()
            )
        );
    }
}
