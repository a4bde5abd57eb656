//! STAR files (RELION 3.0, 3.1, 4, 5): reading, writing, typed columns and the 3.0 → 3.1 upgrade.
//!
//! - [`StarFile::read`] / [`StarFile::parse`] turn text into blocks of typed columns
//!   ([`document`]), typed by the label registry ([`labels`]).
//! - [`StarFile::write`] / [`StarFile::to_writer`] / [`StarFile::to_string`] write RELION 3.1's
//!   layout, losslessly.

mod cells;
pub mod document;
pub mod labels;
mod lexer;
mod number;
mod parse;
mod render;
mod write;

pub use document::{Column, ColumnData, DataBlock, StarFile, Table, Value};
