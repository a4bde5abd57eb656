//! Row operations on STAR loop tables that the job needs: picking rows, stacking the tables of
//! several micrographs, and setting a column to one value.

use cryoflux_formats::star::{Column, ColumnData, Table};

/// The rows `rows` of `table` (in that order), every column kept.
pub fn select_rows(table: &Table, rows: &[usize]) -> Table {
    let columns = table
        .columns()
        .iter()
        .map(|column| Column {
            label: column.label.clone(),
            data: match &column.data {
                ColumnData::Float(v) => ColumnData::Float(rows.iter().map(|&r| v[r]).collect()),
                ColumnData::Int(v) => ColumnData::Int(rows.iter().map(|&r| v[r]).collect()),
                ColumnData::Text(v) => {
                    ColumnData::Text(rows.iter().map(|&r| v[r].clone()).collect())
                }
            },
        })
        .collect();
    Table::from_columns(columns).expect("the columns of one table, equally long")
}

/// `tables` one after the other. Errors unless every table has the same labels, in the same
/// order and of the same kind, as the first (the message names the first difference).
pub fn concatenate(tables: &[Table]) -> Result<Table, String> {
    let Some(first) = tables.first() else {
        return Ok(Table::default());
    };
    let mut columns: Vec<Column> = first.columns().to_vec();
    for (index, table) in tables.iter().enumerate().skip(1) {
        let labels = |t: &Table| {
            t.columns()
                .iter()
                .map(|c| c.label.clone())
                .collect::<Vec<_>>()
        };
        if labels(table) != labels(first) {
            return Err(format!(
                "table {index} has columns {:?}, expected the columns of the first table {:?}",
                labels(table),
                labels(first)
            ));
        }
        for (column, other) in columns.iter_mut().zip(table.columns()) {
            match (&mut column.data, &other.data) {
                (ColumnData::Float(a), ColumnData::Float(b)) => a.extend_from_slice(b),
                (ColumnData::Int(a), ColumnData::Int(b)) => a.extend_from_slice(b),
                (ColumnData::Text(a), ColumnData::Text(b)) => a.extend_from_slice(b),
                _ => {
                    return Err(format!(
                        "column {} of table {index} holds another kind of value than in the \
                         first table",
                        column.label
                    ));
                }
            }
        }
    }
    Ok(Table::from_columns(columns).expect("equal lengths and labels of the first table"))
}

/// Sets column `label` of `table` to `value` in every row, replacing it in place or appending
/// it (RELION's set-or-add of a label).
pub fn set_float(table: &mut Table, label: &str, value: f64) {
    let rows = table.rows();
    table.set_column(Column::floats(label, std::iter::repeat_n(value, rows)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(offset: i64) -> Table {
        Table::from_columns(vec![
            Column::floats("rlnCoordinateX", [1.0, 2.0, 3.0]),
            Column::ints("rlnClassNumber", [offset, offset + 1, offset + 2]),
            Column::texts("rlnMicrographName", ["a", "b", "c"].map(String::from)),
        ])
        .unwrap()
    }

    #[test]
    fn rows_are_selected_and_stacked_in_order() {
        let picked = select_rows(&table(0), &[2, 0]);
        assert_eq!(picked.floats("rlnCoordinateX"), Some(&[3.0, 1.0][..]));
        assert_eq!(picked.texts("rlnMicrographName").unwrap(), ["c", "a"]);
        let both = concatenate(&[picked, table(10)]).unwrap();
        assert_eq!(both.rows(), 5);
        assert_eq!(both.ints("rlnClassNumber"), Some(&[2, 0, 10, 11, 12][..]));
        assert_eq!(both.number("rlnClassNumber", 3), Some(11.0));
        assert_eq!(both.number("rlnMicrographName", 3), None);
        let mut other = table(0);
        other.remove_column("rlnClassNumber");
        let err = concatenate(&[table(0), other]).unwrap_err();
        assert!(err.contains("expected the columns"), "{err}");
    }

    #[test]
    fn a_set_column_replaces_in_place_or_appends() {
        let mut t = table(0);
        set_float(&mut t, "rlnCoordinateX", 7.0);
        set_float(&mut t, "rlnCtfBfactor", 0.5);
        let labels: Vec<_> = t.columns().iter().map(|c| c.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "rlnCoordinateX",
                "rlnClassNumber",
                "rlnMicrographName",
                "rlnCtfBfactor"
            ]
        );
        assert_eq!(t.floats("rlnCoordinateX"), Some(&[7.0; 3][..]));
    }
}
