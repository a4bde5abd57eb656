//! Reading the rows of a `loop_`: one line per row, one value per label, typed by column.
//!
//! Rows are the bulk of every particle file, so they are read in a fast path: the run of row
//! lines (blank and comment lines included) is found first, then cut into chunks of about
//! [`CHUNK_BYTES`] at line boundaries, which are parsed in parallel (rayon) into their own
//! columns and appended in file order. The result, and the first error in file order, do not
//! depend on the number of threads.

use std::path::Path;

use rayon::prelude::*;

use super::cells::ColumnBuilder;
use super::lexer::{LineKind, Token, Tokens, classify, next_line};
use crate::error::{Error, Result};

/// Size of the pieces of a run of rows parsed in parallel; runs shorter than this are parsed
/// on the calling thread.
const CHUNK_BYTES: usize = 1 << 20;

/// A `loop_` being read: its labels, the typed columns filled so far, and whether its rows
/// have started (after which a `_label` line is a key–value item, not another column).
pub struct OpenLoop {
    /// Line of the `loop_` keyword.
    pub line: usize,
    /// Labels in header order, without underscores.
    pub labels: Vec<String>,
    /// One column per label.
    pub columns: Vec<ColumnBuilder>,
    /// True once a row has been read.
    pub in_rows: bool,
}

/// Read the run of rows that starts at byte `offset` of `text`, which is line `line`, into
/// `open`. Returns the offset and line number of the first line after the run (a keyword or
/// label line, or the end of the text).
pub fn read_rows(
    text: &str,
    offset: usize,
    line: usize,
    open: &mut OpenLoop,
    path: &Path,
) -> Result<(usize, usize)> {
    read_rows_in_chunks(text, offset, line, open, path, CHUNK_BYTES)
}

/// [`read_rows`] with chunks of at least `chunk_bytes`.
fn read_rows_in_chunks(
    text: &str,
    offset: usize,
    line: usize,
    open: &mut OpenLoop,
    path: &Path,
    chunk_bytes: usize,
) -> Result<(usize, usize)> {
    open.in_rows = true;
    // (start offset, its line number) of each chunk, then the end of the run.
    let mut cuts = vec![(offset, line)];
    let (mut end, mut next_number) = (offset, line);
    while let Some((content, next)) = next_line(text, end) {
        if classify(content) == LineKind::Structure {
            break;
        }
        (end, next_number) = (next, next_number + 1);
        if end - cuts[cuts.len() - 1].0 >= chunk_bytes {
            cuts.push((end, next_number));
        }
    }
    if cuts[cuts.len() - 1].0 != end {
        cuts.push((end, next_number));
    }
    let rows_at_most = next_number - line;
    for column in &mut open.columns {
        column.reserve(rows_at_most);
    }
    let header = Header {
        labels: &open.labels,
        line: open.line,
        path,
    };
    if cuts.len() == 2 {
        header.read_chunk(&text[offset..end], line, &mut open.columns)?;
    } else {
        let templates = &open.columns;
        let parsed: Vec<Result<Vec<ColumnBuilder>>> = cuts
            .par_windows(2)
            .map(|pair| {
                let ((start, first_line), (stop, _)) = (pair[0], pair[1]);
                let mut columns: Vec<ColumnBuilder> =
                    templates.iter().map(ColumnBuilder::empty_like).collect();
                header.read_chunk(&text[start..stop], first_line, &mut columns)?;
                Ok(columns)
            })
            .collect();
        for chunk in parsed {
            for (column, part) in open.columns.iter_mut().zip(chunk?) {
                column.append(part);
            }
        }
    }
    Ok((end, next_number))
}

/// What reading a row needs to know about its loop.
struct Header<'a> {
    labels: &'a [String],
    /// Line of the `loop_` keyword.
    line: usize,
    path: &'a Path,
}

impl Header<'_> {
    /// Parse every line of `chunk` (rows, blank lines, comments; `first_line` is the number of
    /// its first line) into `columns`.
    fn read_chunk(
        &self,
        chunk: &str,
        first_line: usize,
        columns: &mut [ColumnBuilder],
    ) -> Result<()> {
        let (mut offset, mut line) = (0, first_line);
        while let Some((content, next)) = next_line(chunk, offset) {
            let mut tokens = Tokens::new(content);
            if let Some(first) = next_token(self.path, &mut tokens, line)? {
                self.row(columns, first, tokens, line)?;
            }
            (offset, line) = (next, line + 1);
        }
        Ok(())
    }

    /// Read one loop row: exactly one value per label, typed by its column.
    fn row(
        &self,
        columns: &mut [ColumnBuilder],
        first: Token<'_>,
        mut tokens: Tokens<'_>,
        line: usize,
    ) -> Result<()> {
        let path = self.path;
        let expected = columns.len();
        let mut cell = Some(first);
        for (index, column) in columns.iter_mut().enumerate() {
            let Some(token) = cell else {
                return Err(Error::syntax(path, line, None, self.count_message(index)));
            };
            column.push(token.text).map_err(|wrong| {
                Error::syntax(
                    path,
                    line,
                    Some(&self.labels[index]),
                    wrong.message(token.text),
                )
            })?;
            cell = next_token(path, &mut tokens, line)?;
        }
        if cell.is_some() {
            let found = expected + 1 + tokens.filter(|token| token.is_ok()).count();
            return Err(Error::syntax(path, line, None, self.count_message(found)));
        }
        Ok(())
    }

    fn count_message(&self, found: usize) -> String {
        format!(
            "loop row has {found} values but the loop_ at line {} declares {} labels",
            self.line,
            self.labels.len()
        )
    }
}

/// The next token of a line, or the error for an unterminated quote.
pub fn next_token<'a>(
    path: &Path,
    tokens: &mut Tokens<'a>,
    line: usize,
) -> Result<Option<Token<'a>>> {
    tokens.next().transpose().map_err(|quote| {
        let message = format!(
            "unterminated {} quote starting at column {}",
            quote.quote, quote.column
        );
        Error::syntax(path, line, None, message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::star::document::ColumnData;

    const ROWS: &str = "1@a.mrcs 1.5 1\n\n# comment\n2@a.mrcs 2.5 2\n3@a.mrcs 3.5 1\n\
                        4@a.mrcs 4.5 2\n   \n5@a.mrcs 5.5 1\n_rlnNext 1\n";

    fn open_loop() -> OpenLoop {
        let labels: Vec<String> = ["rlnImageName", "rlnDefocusU", "rlnOpticsGroup"]
            .map(String::from)
            .to_vec();
        let columns = labels.iter().map(|l| ColumnBuilder::for_label(l)).collect();
        OpenLoop {
            line: 2,
            labels,
            columns,
            in_rows: false,
        }
    }

    fn read(text: &str, chunk_bytes: usize) -> Result<(Vec<ColumnData>, usize, usize)> {
        let mut open = open_loop();
        let (end, line) =
            read_rows_in_chunks(text, 0, 10, &mut open, Path::new("c.star"), chunk_bytes)?;
        Ok((
            open.columns
                .into_iter()
                .map(ColumnBuilder::finish)
                .collect(),
            end,
            line,
        ))
    }

    #[test]
    fn chunked_reading_equals_sequential_reading() {
        let whole = read(ROWS, CHUNK_BYTES).unwrap();
        assert_eq!(whole.0[1], ColumnData::Float(vec![1.5, 2.5, 3.5, 4.5, 5.5]));
        assert_eq!((whole.1, whole.2), (ROWS.find("_rlnNext").unwrap(), 18));
        for chunk_bytes in [1, 7, 16, 40] {
            assert_eq!(
                read(ROWS, chunk_bytes).unwrap(),
                whole,
                "chunks of {chunk_bytes}"
            );
        }
    }

    #[test]
    fn chunked_errors_are_the_first_in_file_order() {
        let text = ROWS.replace("4.5", "x").replace("2.5 2", "2.5");
        for chunk_bytes in [1, 16, CHUNK_BYTES] {
            let message = read(&text, chunk_bytes).unwrap_err().to_string();
            assert!(
                message.starts_with("c.star: line 13: loop row has 2 values"),
                "{message}"
            );
        }
        let text = ROWS.replace("4.5", "x");
        let message = read(&text, 1).unwrap_err().to_string();
        assert!(
            message.starts_with("c.star: line 15, rlnDefocusU: expected a real number"),
            "{message}"
        );
    }
}
