//! STAR files (RELION 3.0, 3.1, 4, 5): reading, writing, typed columns and the 3.0 → 3.1 upgrade.

pub mod document;
pub mod labels;

pub use document::{Column, ColumnData, DataBlock, StarFile, Table, Value};
