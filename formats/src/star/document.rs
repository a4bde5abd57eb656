//! The in-memory model of a STAR file: data blocks holding key–value pairs and at most one
//! `loop_` table each, with columns already typed by the label registry
//! ([`crate::star::labels`]). Labels are stored without their leading underscore
//! (`rlnDefocusU`), exactly as RELION names them.

/// One value of a key–value item (`_rlnFinalResolution 3.21`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A real number (units given by the label's registry entry).
    Float(f64),
    /// An integer (counts, indices, group numbers).
    Int(i64),
    /// Anything else: names, paths, unknown labels (kept verbatim, unquoted).
    Text(String),
}

/// The typed cells of one loop column, one entry per row.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// Real-valued column, e.g. `rlnDefocusU` in Å or `rlnAngleRot` in degrees.
    Float(Vec<f64>),
    /// Integer column, e.g. `rlnOpticsGroup` or `rlnRandomSubset`.
    Int(Vec<i64>),
    /// Text column, e.g. `rlnImageName` (`N@stack.mrcs`) or any label we do not know.
    Text(Vec<String>),
}

impl ColumnData {
    /// Number of rows in the column.
    pub fn len(&self) -> usize {
        match self {
            ColumnData::Float(v) => v.len(),
            ColumnData::Int(v) => v.len(),
            ColumnData::Text(v) => v.len(),
        }
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at `row` as a [`Value`].
    pub fn get(&self, row: usize) -> Value {
        match self {
            ColumnData::Float(v) => Value::Float(v[row]),
            ColumnData::Int(v) => Value::Int(v[row]),
            ColumnData::Text(v) => Value::Text(v[row].clone()),
        }
    }
}

/// A named loop column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Label without the leading underscore, e.g. `rlnImageName`.
    pub label: String,
    /// The cells, typed by the label registry.
    pub data: ColumnData,
}

impl Column {
    /// A column of real numbers.
    pub fn floats(label: &str, values: impl IntoIterator<Item = f64>) -> Self {
        Column {
            label: label.into(),
            data: ColumnData::Float(values.into_iter().collect()),
        }
    }

    /// A column of integers.
    pub fn ints(label: &str, values: impl IntoIterator<Item = i64>) -> Self {
        Column {
            label: label.into(),
            data: ColumnData::Int(values.into_iter().collect()),
        }
    }

    /// A column of text cells.
    pub fn texts(label: &str, values: impl IntoIterator<Item = String>) -> Self {
        Column {
            label: label.into(),
            data: ColumnData::Text(values.into_iter().collect()),
        }
    }
}

/// A `loop_` table stored column by column. All columns have the same number of rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    columns: Vec<Column>,
    rows: usize,
}

impl Table {
    /// An empty table with `rows` rows and no columns yet.
    pub fn with_rows(rows: usize) -> Self {
        Table {
            columns: Vec::new(),
            rows,
        }
    }

    /// Build a table from columns; `None` if their lengths differ or a label repeats.
    pub fn from_columns(columns: Vec<Column>) -> Option<Self> {
        let rows = columns.first().map_or(0, |c| c.data.len());
        let same_length = columns.iter().all(|c| c.data.len() == rows);
        let unique = columns
            .iter()
            .enumerate()
            .all(|(i, c)| columns[..i].iter().all(|d| d.label != c.label));
        (same_length && unique).then_some(Table { columns, rows })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns in file order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The column called `label`, if present.
    pub fn column(&self, label: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.label == label)
    }

    /// Mutable access to the column called `label`, if present.
    pub fn column_mut(&mut self, label: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.label == label)
    }

    /// Append a column, or replace the one with the same label. Panics if its length differs
    /// from [`Table::rows`] — a programming error, not an input error.
    pub fn set_column(&mut self, column: Column) {
        assert_eq!(
            column.data.len(),
            self.rows,
            "column {} has the wrong length",
            column.label
        );
        match self.columns.iter_mut().find(|c| c.label == column.label) {
            Some(existing) => *existing = column,
            None => self.columns.push(column),
        }
    }

    /// Remove and return the column called `label`.
    pub fn remove_column(&mut self, label: &str) -> Option<Column> {
        let index = self.columns.iter().position(|c| c.label == label)?;
        Some(self.columns.remove(index))
    }

    /// The float cells of `label`, if present and real-valued.
    pub fn floats(&self, label: &str) -> Option<&[f64]> {
        match &self.column(label)?.data {
            ColumnData::Float(v) => Some(v),
            _ => None,
        }
    }

    /// The integer cells of `label`, if present and integer-valued.
    pub fn ints(&self, label: &str) -> Option<&[i64]> {
        match &self.column(label)?.data {
            ColumnData::Int(v) => Some(v),
            _ => None,
        }
    }

    /// The text cells of `label`, if present and textual.
    pub fn texts(&self, label: &str) -> Option<&[String]> {
        match &self.column(label)?.data {
            ColumnData::Text(v) => Some(v),
            _ => None,
        }
    }

    /// The number in column `label` at `row` (a real or integer cell), if the column exists
    /// and is numeric.
    pub fn number(&self, label: &str, row: usize) -> Option<f64> {
        match &self.column(label)?.data {
            ColumnData::Float(v) => Some(v[row]),
            ColumnData::Int(v) => Some(v[row] as f64),
            ColumnData::Text(_) => None,
        }
    }
}

/// One `data_NAME` block.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DataBlock {
    /// The text after `data_` (may be empty, as in RELION 3.0 particle files).
    pub name: String,
    /// Key–value items in file order, labels without the leading underscore.
    pub pairs: Vec<(String, Value)>,
    /// The block's `loop_` table, if it has one.
    pub table: Option<Table>,
}

impl DataBlock {
    /// A block `data_NAME` holding one `loop_` table built from `columns`.
    ///
    /// Panics if the columns differ in length or repeat a label: callers build their columns
    /// from the same rows, so that is a programming error, not an input error.
    pub fn with_table(name: &str, columns: Vec<Column>) -> Self {
        let table = Table::from_columns(columns)
            .unwrap_or_else(|| panic!("data_{name}: columns of unequal length or repeated labels"));
        DataBlock {
            name: name.into(),
            pairs: Vec::new(),
            table: Some(table),
        }
    }

    /// A block `data_NAME` of key–value items.
    pub fn with_pairs(name: &str, pairs: Vec<(&str, Value)>) -> Self {
        DataBlock {
            name: name.into(),
            pairs: pairs.into_iter().map(|(l, v)| (l.to_string(), v)).collect(),
            table: None,
        }
    }

    /// The value of key–value item `label`, if present.
    pub fn pair(&self, label: &str) -> Option<&Value> {
        self.pairs.iter().find(|(l, _)| l == label).map(|(_, v)| v)
    }
}

/// A whole STAR file: its data blocks in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StarFile {
    /// Blocks in the order they appear in the file.
    pub blocks: Vec<DataBlock>,
}

impl StarFile {
    /// The first block called `name` (without `data_`), if any.
    pub fn block(&self, name: &str) -> Option<&DataBlock> {
        self.blocks.iter().find(|b| b.name == name)
    }

    /// Mutable access to the first block called `name`.
    pub fn block_mut(&mut self, name: &str) -> Option<&mut DataBlock> {
        self.blocks.iter_mut().find(|b| b.name == name)
    }
}
