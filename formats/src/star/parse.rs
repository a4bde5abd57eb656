//! Reading STAR text into a [`StarFile`].
//!
//! The grammar is RELION's, line by line: `data_NAME` opens a block; `_label value` is a
//! key–value item; `loop_` followed by `_label` lines (an optional `#N` after each is a comment)
//! opens the block's table, whose rows are one line each. A loop ends at `stop_`, at a key–value
//! item, at the next `data_` or `loop_`, or at the end of the file; blank lines and `#` comments
//! may appear anywhere, including inside a loop. A loop with zero rows is valid. Cells are typed
//! by their label ([`super::labels`]); unknown labels are kept as text.
//!
//! Every problem is an [`Error::Syntax`] naming the file, the 1-based line, the label when there
//! is one, what was found and what was expected.

use std::collections::HashMap;
use std::path::Path;

use super::cells::{ColumnBuilder, abbreviate, parse_value};
use super::document::{Column, DataBlock, StarFile, Table};
use super::lexer::{Keyword, LineKind, Tokens, classify, is_label, keyword, next_line};
use super::rows::{OpenLoop, next_token, read_rows};
use crate::error::{Error, Result};

impl StarFile {
    /// Read and parse the STAR file at `path`.
    pub fn read(path: &Path) -> Result<StarFile> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            let valid = &bytes[..e.valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            Error::syntax(path, line, None, "the file is not UTF-8 text")
        })?;
        StarFile::parse(text, path)
    }

    /// Parse STAR `text`; `path` is only used to name the source in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<StarFile> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut parser = Parser {
            path,
            blocks: Vec::new(),
            labels_seen: HashMap::new(),
            open: None,
        };
        let (mut offset, mut number) = (0, 1);
        while let Some((line, next)) = next_line(text, offset) {
            if let Some(open) = parser.open.as_mut().filter(|open| !open.labels.is_empty())
                && classify(line) == LineKind::Values
            {
                (offset, number) = read_rows(text, offset, number, open, path)?;
                continue;
            }
            parser.line(line, number)?;
            (offset, number) = (next, number + 1);
        }
        parser.finish_loop()?;
        Ok(StarFile {
            blocks: parser.blocks,
        })
    }
}

struct Parser<'p> {
    path: &'p Path,
    blocks: Vec<DataBlock>,
    /// Labels of the current block (items and loop columns) with the line that defined them.
    labels_seen: HashMap<String, usize>,
    open: Option<OpenLoop>,
}

impl Parser<'_> {
    fn line(&mut self, line: &str, number: usize) -> Result<()> {
        let path = self.path;
        let mut tokens = Tokens::new(line);
        let Some(first) = next_token(path, &mut tokens, number)? else {
            return Ok(());
        };
        match keyword(&first) {
            Some(Keyword::Data(name)) => {
                expect_end(path, &mut tokens, number, first.text)?;
                self.finish_loop()?;
                self.labels_seen.clear();
                self.blocks.push(DataBlock {
                    name: name.to_owned(),
                    ..DataBlock::default()
                });
                Ok(())
            }
            Some(Keyword::Loop) => {
                expect_end(path, &mut tokens, number, "loop_")?;
                self.start_loop(number)
            }
            Some(Keyword::Stop) => {
                expect_end(path, &mut tokens, number, "stop_")?;
                self.finish_loop()
            }
            Some(Keyword::Unsupported) => Err(Error::syntax(
                path,
                number,
                None,
                format!(
                    "`{}` frames are not part of RELION's STAR dialect",
                    first.text
                ),
            )),
            None if is_label(&first) => self.label(&first.text[1..], tokens, number),
            None => match self.open {
                Some(_) => Err(Error::syntax(
                    path,
                    number,
                    None,
                    "loop_ has no labels before its first row",
                )),
                None => {
                    let place = if self.blocks.is_empty() {
                        "before any data_ block"
                    } else {
                        "outside a loop_ and without a _label"
                    };
                    let message = format!("value `{}` {place}", abbreviate(first.text));
                    Err(Error::syntax(path, number, None, message))
                }
            },
        }
    }

    fn start_loop(&mut self, line: usize) -> Result<()> {
        self.finish_loop()?;
        let message = match self.blocks.last() {
            None => "loop_ before any data_ block".to_owned(),
            Some(block) if block.table.is_some() => format!(
                "block data_{} already has a loop_; one table per block is allowed",
                block.name
            ),
            Some(_) => {
                self.open = Some(OpenLoop {
                    line,
                    labels: Vec::new(),
                    columns: Vec::new(),
                    in_rows: false,
                });
                return Ok(());
            }
        };
        Err(Error::syntax(self.path, line, None, message))
    }

    /// A `_label` line: a column of the loop being declared, or a key–value item.
    fn label(&mut self, label: &str, mut tokens: Tokens<'_>, line: usize) -> Result<()> {
        let path = self.path;
        if label.is_empty() {
            return Err(Error::syntax(
                path,
                line,
                None,
                "`_` must be followed by a label name",
            ));
        }
        let Some(block) = self.blocks.last() else {
            return Err(Error::syntax(
                path,
                line,
                Some(label),
                "label before any data_ block",
            ));
        };
        if let Some(first) = self.labels_seen.get(label) {
            let message = format!(
                "label appears twice in block data_{} (first at line {first})",
                block.name
            );
            return Err(Error::syntax(path, line, Some(label), message));
        }
        self.labels_seen.insert(label.to_owned(), line);
        if let Some(open) = self.open.as_mut().filter(|open| !open.in_rows) {
            open.labels.push(label.to_owned());
            open.columns.push(ColumnBuilder::for_label(label));
            return expect_end(path, &mut tokens, line, label);
        }
        let Some(value) = next_token(path, &mut tokens, line)? else {
            return Err(Error::syntax(
                path,
                line,
                Some(label),
                "label has no value on its line",
            ));
        };
        let parsed = parse_value(label, value.text)
            .map_err(|wrong| Error::syntax(path, line, Some(label), wrong.message(value.text)))?;
        expect_end(path, &mut tokens, line, value.text)?;
        self.finish_loop()?;
        if let Some(block) = self.blocks.last_mut() {
            block.pairs.push((label.to_owned(), parsed));
        }
        Ok(())
    }

    /// Close the open loop, if any, storing its table in the current block.
    fn finish_loop(&mut self) -> Result<()> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        if open.labels.is_empty() {
            return Err(Error::syntax(
                self.path,
                open.line,
                None,
                "loop_ has no labels",
            ));
        }
        let columns = open
            .labels
            .into_iter()
            .zip(open.columns)
            .map(|(label, builder)| Column {
                label,
                data: builder.finish(),
            })
            .collect();
        let table = Table::from_columns(columns).ok_or_else(|| {
            Error::syntax(
                self.path,
                open.line,
                None,
                "loop columns have different lengths",
            )
        })?;
        if let Some(block) = self.blocks.last_mut() {
            block.table = Some(table);
        }
        Ok(())
    }
}

/// Fail if anything but a comment follows on the line.
fn expect_end(path: &Path, tokens: &mut Tokens<'_>, line: usize, after: &str) -> Result<()> {
    match next_token(path, tokens, line)? {
        None => Ok(()),
        Some(extra) => {
            let message = format!(
                "unexpected `{}` after `{}`",
                abbreviate(extra.text),
                abbreviate(after)
            );
            Err(Error::syntax(path, line, None, message))
        }
    }
}
