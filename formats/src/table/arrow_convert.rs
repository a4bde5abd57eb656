//! Column-wise conversion between STAR [`Table`]s and Arrow [`RecordBatch`]es.
//! Float columns become `Float64`, integers `Int64`, text `Utf8`; each field carries the
//! label's physical unit from the registry as field metadata (`unit`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

use crate::error::{Error, Result};
use crate::star::labels;
use crate::star::{Column, ColumnData, Table};

/// Arrow batch with one column per STAR column, in the same order and with the same labels.
pub fn table_to_record_batch(table: &Table) -> RecordBatch {
    let mut fields = Vec::with_capacity(table.columns().len());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(table.columns().len());
    for column in table.columns() {
        let (data_type, array): (DataType, ArrayRef) = match &column.data {
            ColumnData::Float(v) => (DataType::Float64, Arc::new(Float64Array::from(v.clone()))),
            ColumnData::Int(v) => (DataType::Int64, Arc::new(Int64Array::from(v.clone()))),
            ColumnData::Text(v) => (DataType::Utf8, Arc::new(StringArray::from_iter_values(v))),
        };
        let mut field = Field::new(column.label.as_str(), data_type, false);
        if let Some(info) = labels::lookup(&column.label).filter(|info| !info.unit.is_empty()) {
            field = field.with_metadata(HashMap::from([("unit".to_owned(), info.unit.to_owned())]));
        }
        fields.push(field);
        arrays.push(array);
    }
    let schema = Arc::new(Schema::new(fields));
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(table.rows()));
    RecordBatch::try_new_with_options(schema, arrays, &options)
        .expect("columns of a STAR table have equal lengths and match their fields")
}

/// STAR table from an Arrow batch. Floating-point columns become float columns, integer
/// columns integer columns, and string columns text; `path` names the source in errors.
/// Nulls and other Arrow types are rejected with the column's name. A column whose label is in
/// the registry must hold that label's kind, as it would in a STAR file (integers widen to
/// reals, integral reals narrow to integers); anything else is an error naming the column's
/// Arrow type and the kind expected, and a NaN or infinite value of a label that must be finite
/// ([`labels::FINITE_LABELS`]) is an error naming its row.
pub fn record_batch_to_table(batch: &RecordBatch, path: &Path) -> Result<Table> {
    let mut table = Table::with_rows(batch.num_rows());
    for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
        let label = field.name();
        if array.null_count() > 0 {
            return Err(Error::table(
                path,
                format!(
                    "column {label} has {} missing values; STAR has no nulls",
                    array.null_count()
                ),
            ));
        }
        let data = column_data(array.as_ref()).ok_or_else(|| {
            Error::table(
                path,
                format!(
                    "column {label} has Arrow type {}; expected a number or string column",
                    field.data_type()
                ),
            )
        })?;
        let data = as_registered_kind(label, data, field.data_type(), path)?;
        if table.column(label).is_some() {
            return Err(Error::table(path, format!("column {label} appears twice")));
        }
        table.set_column(Column {
            label: label.clone(),
            data,
        });
    }
    Ok(table)
}

/// `data` (column `label`, read from Arrow type `arrow_type`) as the kind the label registry
/// gives `label`; unregistered labels keep whatever kind they have.
fn as_registered_kind(
    label: &str,
    data: ColumnData,
    arrow_type: &DataType,
    path: &Path,
) -> Result<ColumnData> {
    let Some(info) = labels::lookup(label) else {
        return Ok(data);
    };
    let unit = if info.unit.is_empty() {
        String::new()
    } else {
        format!(" ({})", info.unit)
    };
    let wrong = |expected: &str| {
        Error::table(
            path,
            format!(
                "column {label} has Arrow type {arrow_type}; expected {expected}{unit}, as \
                 {label} holds in RELION"
            ),
        )
    };
    let data = match (info.kind, data) {
        (labels::ValueKind::Float, ColumnData::Int(values)) => {
            ColumnData::Float(values.iter().map(|&v| v as f64).collect())
        }
        (labels::ValueKind::Int, ColumnData::Float(values)) => {
            let integral = values.iter().all(|v| v.fract() == 0.0 && v.abs() < 9.2e18);
            if !integral {
                return Err(wrong("integers"));
            }
            ColumnData::Int(values.iter().map(|&v| v as i64).collect())
        }
        (labels::ValueKind::Float, data @ ColumnData::Float(_))
        | (labels::ValueKind::Int, data @ ColumnData::Int(_))
        | (labels::ValueKind::Text, data @ ColumnData::Text(_)) => data,
        (labels::ValueKind::Float, ColumnData::Text(_)) => {
            return Err(wrong("a floating-point column"));
        }
        (labels::ValueKind::Int, ColumnData::Text(_)) => {
            return Err(wrong("an integer column"));
        }
        (labels::ValueKind::Text, _) => return Err(wrong("a string column")),
    };
    if let ColumnData::Float(values) = &data
        && labels::must_be_finite(label)
        && let Some(row) = values.iter().position(|v| !v.is_finite())
    {
        return Err(Error::table(
            path,
            format!(
                "column {label}, row {} (1-based): {}; expected a finite number{unit}",
                row + 1,
                values[row]
            ),
        ));
    }
    Ok(data)
}

/// Typed cells of one Arrow array, or `None` for types STAR cannot hold.
fn column_data(array: &dyn Array) -> Option<ColumnData> {
    fn ints<T: arrow_array::ArrowPrimitiveType>(array: &dyn Array) -> ColumnData
    where
        T::Native: Into<i128>,
    {
        let values = array.as_primitive::<T>().values();
        ColumnData::Int(
            values
                .iter()
                .map(|&v| i64::try_from(v.into()).unwrap_or(i64::MAX))
                .collect(),
        )
    }
    Some(match array.data_type() {
        DataType::Float64 => {
            ColumnData::Float(array.as_primitive::<Float64Type>().values().to_vec())
        }
        DataType::Float32 => ColumnData::Float(
            array
                .as_primitive::<Float32Type>()
                .values()
                .iter()
                .map(|&v| f64::from(v))
                .collect(),
        ),
        DataType::Int64 => ColumnData::Int(array.as_primitive::<Int64Type>().values().to_vec()),
        DataType::Int32 => ints::<Int32Type>(array),
        DataType::Int16 => ints::<Int16Type>(array),
        DataType::Int8 => ints::<Int8Type>(array),
        DataType::UInt64 => ints::<UInt64Type>(array),
        DataType::UInt32 => ints::<UInt32Type>(array),
        DataType::UInt16 => ints::<UInt16Type>(array),
        DataType::UInt8 => ints::<UInt8Type>(array),
        DataType::Utf8 => ColumnData::Text(
            array
                .as_string::<i32>()
                .iter()
                .map(|s| s.unwrap_or("").to_owned())
                .collect(),
        ),
        DataType::LargeUtf8 => ColumnData::Text(
            array
                .as_string::<i64>()
                .iter()
                .map(|s| s.unwrap_or("").to_owned())
                .collect(),
        ),
        DataType::Utf8View => ColumnData::Text(
            array
                .as_string_view()
                .iter()
                .map(|s| s.unwrap_or("").to_owned())
                .collect(),
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        Table::from_columns(vec![
            Column {
                label: "rlnImageName".into(),
                data: ColumnData::Text(vec!["1@a.mrcs".into(), "2@a.mrcs".into()]),
            },
            Column {
                label: "rlnDefocusU".into(),
                data: ColumnData::Float(vec![12000.5, 15000.25]),
            },
            Column {
                label: "rlnOpticsGroup".into(),
                data: ColumnData::Int(vec![1, 2]),
            },
        ])
        .unwrap()
    }

    #[test]
    fn round_trip_keeps_types_and_values() {
        let table = sample();
        let batch = table_to_record_batch(&table);
        assert_eq!(batch.schema().field(1).data_type(), &DataType::Float64);
        assert_eq!(
            batch
                .schema()
                .field(1)
                .metadata()
                .get("unit")
                .map(String::as_str),
            Some("Å")
        );
        assert_eq!(
            record_batch_to_table(&batch, Path::new("t")).unwrap(),
            table
        );
    }

    #[test]
    fn narrower_arrow_types_are_widened() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("rlnAngleRot", DataType::Float32, false),
            Field::new("rlnRandomSubset", DataType::UInt8, false),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(arrow_array::Float32Array::from(vec![1.5f32])),
                Arc::new(arrow_array::UInt8Array::from(vec![2u8])),
            ],
        )
        .unwrap();
        let table = record_batch_to_table(&batch, Path::new("t")).unwrap();
        assert_eq!(table.floats("rlnAngleRot"), Some(&[1.5][..]));
        assert_eq!(table.ints("rlnRandomSubset"), Some(&[2][..]));
    }

    fn one_column(field: Field, array: ArrayRef) -> Result<Table> {
        let batch = RecordBatch::try_new(Arc::new(Schema::new(vec![field])), vec![array]).unwrap();
        record_batch_to_table(&batch, Path::new("p.parquet"))
    }

    #[test]
    fn wrong_type_of_a_known_label_names_both_types() {
        let text = Arc::new(StringArray::from(vec!["12.5"]));
        let message = one_column(Field::new("rlnAngleRot", DataType::Utf8, false), text)
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "p.parquet: column rlnAngleRot has Arrow type Utf8; expected a floating-point column \
             (degrees), as rlnAngleRot holds in RELION"
        );
        let halves = Arc::new(Float64Array::from(vec![1.0, 2.5]));
        let message = one_column(
            Field::new("rlnRandomSubset", DataType::Float64, false),
            halves,
        )
        .unwrap_err()
        .to_string();
        assert!(message.contains("Float64; expected integers"), "{message}");
        let numbers = Arc::new(Int64Array::from(vec![1]));
        let message = one_column(Field::new("rlnImageName", DataType::Int64, false), numbers)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("Int64; expected a string column"),
            "{message}"
        );
        let integral = Arc::new(Float64Array::from(vec![1.0, 2.0]));
        let table = one_column(
            Field::new("rlnRandomSubset", DataType::Float64, false),
            integral,
        );
        assert_eq!(table.unwrap().ints("rlnRandomSubset"), Some(&[1, 2][..]));
        let unknown = Arc::new(Int64Array::from(vec![7]));
        let table = one_column(Field::new("wrpScore", DataType::Int64, false), unknown).unwrap();
        assert_eq!(table.ints("wrpScore"), Some(&[7][..]));
    }

    #[test]
    fn nan_in_a_geometry_column_names_its_row() {
        let angles = Arc::new(Float64Array::from(vec![1.0, f64::NAN]));
        let message = one_column(Field::new("rlnAngleTilt", DataType::Float64, false), angles)
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "p.parquet: column rlnAngleTilt, row 2 (1-based): NaN; expected a finite number \
             (degrees)"
        );
    }

    #[test]
    fn unsupported_type_names_the_column() {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "rlnFlag",
            DataType::Boolean,
            false,
        )]));
        let batch = RecordBatch::try_new(
            schema,
            vec![Arc::new(arrow_array::BooleanArray::from(vec![true]))],
        )
        .unwrap();
        let message = record_batch_to_table(&batch, Path::new("p.parquet"))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("p.parquet")
                && message.contains("rlnFlag")
                && message.contains("Boolean"),
            "{message}"
        );
    }
}
