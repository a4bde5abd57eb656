//! Writing a [`StarFile`] in RELION 3.1's layout: each block preceded by `# version 30001`, then
//! `data_NAME`, its key–value items, and its `loop_` with `_rlnLabel #N` headers and one row
//! per line, cells right-aligned like RELION's (numbers to 12 characters, text to 10).
//!
//! Values are written losslessly ([`super::render`]): reading the output back gives the same
//! numbers bit for bit and the same text. RELION 3.1.3 and Python `starfile` read the result.

use std::io::Write;
use std::path::Path;

use super::document::{ColumnData, DataBlock, StarFile, Table, Value};
use super::lexer::is_blank;
use super::render::{push_float, push_int, push_text};
use crate::atomic::write_atomically;
use crate::error::{Error, Result};

/// The comment RELION 3.1+ puts before every block and uses to tell 3.1 files from 3.0 ones.
const VERSION_LINE: &str = "# version 30001";

/// Name used for the destination in errors of [`StarFile::to_writer`] and
/// [`StarFile::to_string`], which have no file path.
const STREAM: &str = "<STAR output>";

impl StarFile {
    /// Write the file to `path` atomically: a reader sees the old file or the complete new one.
    pub fn write(&self, path: &Path) -> Result<()> {
        write_atomically(path, |writer| self.write_to(writer, path))
    }

    /// Write the file to `writer`.
    pub fn to_writer<W: Write>(&self, writer: &mut W) -> Result<()> {
        self.write_to(writer, Path::new(STREAM))
    }

    /// The file as a string (fails only on text no STAR quoting can hold, see
    /// [`StarFile::write`]).
    pub fn to_string(&self) -> Result<String> {
        let mut bytes = Vec::new();
        self.to_writer(&mut bytes)?;
        String::from_utf8(bytes).map_err(|e| Error::content(STREAM, e.to_string()))
    }

    fn write_to<W: Write>(&self, writer: &mut W, path: &Path) -> Result<()> {
        let mut out = String::new();
        for block in &self.blocks {
            block_to_text(block, &mut out, path)?;
            writer
                .write_all(out.as_bytes())
                .map_err(|e| Error::io(path, e))?;
            out.clear();
        }
        Ok(())
    }
}

fn block_to_text(block: &DataBlock, out: &mut String, path: &Path) -> Result<()> {
    if !is_word(&block.name) {
        return Err(bad_name("block name", &block.name, path));
    }
    out.push('\n');
    out.push_str(VERSION_LINE);
    out.push_str("\n\ndata_");
    out.push_str(&block.name);
    out.push_str("\n\n");
    let width = block
        .pairs
        .iter()
        .map(|(label, _)| label.len())
        .max()
        .unwrap_or(0);
    for (label, value) in &block.pairs {
        check_label(label, path)?;
        out.push('_');
        out.push_str(label);
        out.extend(std::iter::repeat_n(' ', width + 2 - label.len()));
        match value {
            Value::Float(x) => push_float(out, *x),
            Value::Int(i) => push_int(out, *i),
            Value::Text(text) => {
                push_text(out, text).map_err(|_| unwritable(block, label, None, path))?
            }
        }
        out.push('\n');
    }
    if let Some(table) = &block.table {
        if !block.pairs.is_empty() {
            out.push('\n');
        }
        table_to_text(block, table, out, path)?;
    }
    out.push('\n');
    Ok(())
}

fn table_to_text(block: &DataBlock, table: &Table, out: &mut String, path: &Path) -> Result<()> {
    out.push_str("loop_\n");
    for (index, column) in table.columns().iter().enumerate() {
        check_label(&column.label, path)?;
        if column.data.len() != table.rows() {
            let message = format!(
                "block data_{}, column {}: {} cells but the table has {} rows",
                block.name,
                column.label,
                column.data.len(),
                table.rows()
            );
            return Err(Error::content(path, message));
        }
        out.push_str(&format!("_{} #{}\n", column.label, index + 1));
    }
    let mut cell = String::new();
    for row in 0..table.rows() {
        for column in table.columns() {
            cell.clear();
            let width = match &column.data {
                ColumnData::Float(cells) => {
                    push_float(&mut cell, cells[row]);
                    12
                }
                ColumnData::Int(cells) => {
                    push_int(&mut cell, cells[row]);
                    12
                }
                ColumnData::Text(cells) => {
                    push_text(&mut cell, &cells[row])
                        .map_err(|_| unwritable(block, &column.label, Some(row), path))?;
                    10
                }
            };
            let length = cell.chars().count();
            out.extend(std::iter::repeat_n(' ', width.max(length) - length + 1));
            out.push_str(&cell);
        }
        out.push('\n');
    }
    Ok(())
}

/// Block names and labels are written bare, so they must be single words. An empty block name
/// is allowed (`data_`, as RELION 3.0 writes it); an empty label is not.
fn is_word(name: &str) -> bool {
    !name.bytes().any(|b| is_blank(b) || b == b'\n')
}

fn check_label(label: &str, path: &Path) -> Result<()> {
    if label.is_empty() || !is_word(label) {
        return Err(bad_name("label", label, path));
    }
    Ok(())
}

fn bad_name(what: &str, name: &str, path: &Path) -> Error {
    let message = format!("{what} `{name}` cannot be written: it must be one word without spaces");
    Error::content(path, message)
}

fn unwritable(block: &DataBlock, label: &str, row: Option<usize>, path: &Path) -> Error {
    let place = row.map_or(String::new(), |row| format!(", row {}", row + 1));
    Error::content(
        path,
        format!(
            "block data_{}, {label}{place}: the text holds a line break or both quote characters \
             followed by whitespace, which STAR cannot represent",
            block.name
        ),
    )
}
