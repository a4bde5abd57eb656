//! The one error type of the formats crate: every variant names the file and says what was
//! found and what was expected, so a user can fix the input without reading our code.

use std::path::{Path, PathBuf};

/// Where in a text file a problem sits: 1-based line, and the column label or field if known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextLocation {
    /// 1-based line number.
    pub line: usize,
    /// The STAR label (`rlnDefocusU`) or field the problem concerns, if any.
    pub field: Option<String>,
}

impl std::fmt::Display for TextLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(field) = &self.field {
            write!(f, ", {field}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong reading or writing a cryo-EM file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The operating system refused a read, write, create or rename.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What the operating system said (shown in the message, not repeated as a source).
        cause: std::io::Error,
    },
    /// A text file (STAR) broke its grammar or a column held a value of the wrong kind.
    #[error("{}: {location}: {message}", path.display())]
    Syntax {
        /// The file concerned.
        path: PathBuf,
        /// The line (and field) at fault.
        location: TextLocation,
        /// What was found and what was expected.
        message: String,
    },
    /// A binary file (MRC/MRCS) or its header disagrees with itself or with the format.
    #[error("{}: {message}", path.display())]
    Binary {
        /// The file concerned.
        path: PathBuf,
        /// What was found and what was expected.
        message: String,
    },
    /// The file is well-formed but lacks what the task at hand needs (a block, a column…).
    #[error("{}: {message}", path.display())]
    Content {
        /// The file concerned.
        path: PathBuf,
        /// What was found and what was expected.
        message: String,
    },
    /// Arrow or Parquet reported a problem with a particle table.
    #[error("{}: {message}", path.display())]
    Table {
        /// The file concerned.
        path: PathBuf,
        /// What was found and what was expected.
        message: String,
    },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            cause: source,
        }
    }

    /// A syntax or value error at `line` (1-based) of `path`, optionally about `field`.
    pub fn syntax(
        path: impl AsRef<Path>,
        line: usize,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Error::Syntax {
            path: path.as_ref().to_path_buf(),
            location: TextLocation {
                line,
                field: field.map(str::to_owned),
            },
            message: message.into(),
        }
    }

    /// A binary-format error in `path`.
    pub fn binary(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::Binary {
            path: path.as_ref().to_path_buf(),
            message: message.into(),
        }
    }

    /// `path` lacks something the current task requires.
    pub fn content(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::Content {
            path: path.as_ref().to_path_buf(),
            message: message.into(),
        }
    }

    /// An Arrow/Parquet error while handling the table in `path`.
    pub fn table(path: impl AsRef<Path>, message: impl std::fmt::Display) -> Self {
        Error::Table {
            path: path.as_ref().to_path_buf(),
            message: message.to_string(),
        }
    }
}

/// Result alias used throughout the formats crate.
pub type Result<T> = std::result::Result<T, Error>;
