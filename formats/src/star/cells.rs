//! Turning token text into typed cells: loop columns and key–value items get the type their
//! label has in the registry ([`super::labels::kind_of`]); numeric cells are parsed straight
//! into `f64`/`i64` vectors without an intermediate `String`.

use super::document::{ColumnData, Value};
use super::labels::{ValueKind, kind_of, lookup, must_be_finite};
use super::number::{parse_f64, parse_i64};

/// A cell whose text is not a value of the label's kind; says what was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongKind {
    /// The kind the label requires.
    pub expected: ValueKind,
    /// The label's unit when it must be a finite number (see
    /// [`super::labels::FINITE_LABELS`]) and the cell was NaN or infinite.
    pub not_finite: Option<&'static str>,
}

impl WrongKind {
    /// A cell that does not parse as `expected`.
    fn kind(expected: ValueKind) -> Self {
        WrongKind {
            expected,
            not_finite: None,
        }
    }

    /// A NaN or infinite cell of a label that must be finite.
    fn not_finite(label: &str) -> Self {
        WrongKind {
            expected: ValueKind::Float,
            not_finite: Some(lookup(label).map_or("", |info| info.unit)),
        }
    }

    /// A message naming the offending text and the expected kind, e.g.
    /// ``expected a real number, found `abc` ``.
    pub fn message(&self, found: &str) -> String {
        let expected = match (self.expected, self.not_finite) {
            (_, Some("")) => "a finite real number".to_owned(),
            (_, Some(unit)) => format!("a finite real number ({unit})"),
            (ValueKind::Float, None) => "a real number".to_owned(),
            (ValueKind::Int, None) => "an integer".to_owned(),
            (ValueKind::Text, None) => "text".to_owned(),
        };
        format!("expected {expected}, found `{}`", abbreviate(found))
    }
}

/// The first 60 characters of `text`, with `…` when cut, for error messages.
pub fn abbreviate(text: &str) -> String {
    const LIMIT: usize = 60;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Parse one key–value item's value according to its label's kind.
pub fn parse_value(label: &str, text: &str) -> Result<Value, WrongKind> {
    let expected = kind_of(label);
    let value = match expected {
        ValueKind::Float => parse_f64(text).map(Value::Float),
        ValueKind::Int => parse_i64(text).map(Value::Int),
        ValueKind::Text => Some(Value::Text(text.to_owned())),
    }
    .ok_or(WrongKind::kind(expected))?;
    match value {
        Value::Float(v) if !v.is_finite() && must_be_finite(label) => {
            Err(WrongKind::not_finite(label))
        }
        value => Ok(value),
    }
}

/// A loop column being filled row by row, with its label when its values must be finite
/// ([`must_be_finite`]).
#[derive(Debug)]
pub struct ColumnBuilder(ColumnData, Option<&'static str>);

impl ColumnBuilder {
    /// An empty column typed for `label`.
    pub fn for_label(label: &str) -> Self {
        let data = match kind_of(label) {
            ValueKind::Float => ColumnData::Float(Vec::new()),
            ValueKind::Int => ColumnData::Int(Vec::new()),
            ValueKind::Text => ColumnData::Text(Vec::new()),
        };
        let finite = lookup(label)
            .filter(|info| must_be_finite(info.name))
            .map(|info| info.name);
        ColumnBuilder(data, finite)
    }

    /// An empty column of the same type.
    pub fn empty_like(&self) -> Self {
        let data = match &self.0 {
            ColumnData::Float(_) => ColumnData::Float(Vec::new()),
            ColumnData::Int(_) => ColumnData::Int(Vec::new()),
            ColumnData::Text(_) => ColumnData::Text(Vec::new()),
        };
        ColumnBuilder(data, self.1)
    }

    /// Make room for `rows` more cells.
    pub fn reserve(&mut self, rows: usize) {
        match &mut self.0 {
            ColumnData::Float(cells) => cells.reserve(rows),
            ColumnData::Int(cells) => cells.reserve(rows),
            ColumnData::Text(cells) => cells.reserve(rows),
        }
    }

    /// Move the cells of `other` (a column of the same type) to the end of this one.
    pub fn append(&mut self, other: ColumnBuilder) {
        match (&mut self.0, other.0) {
            (ColumnData::Float(cells), ColumnData::Float(more)) => cells.extend(more),
            (ColumnData::Int(cells), ColumnData::Int(more)) => cells.extend(more),
            (ColumnData::Text(cells), ColumnData::Text(more)) => cells.extend(more),
            _ => unreachable!("chunks of one column are built by empty_like and share its type"),
        }
    }

    /// Append the cell written as `text`.
    pub fn push(&mut self, text: &str) -> Result<(), WrongKind> {
        match &mut self.0 {
            ColumnData::Float(cells) => match (parse_f64(text), self.1) {
                (Some(value), Some(label)) if !value.is_finite() => {
                    return Err(WrongKind::not_finite(label));
                }
                (Some(value), _) => cells.push(value),
                (None, _) => return Err(WrongKind::kind(ValueKind::Float)),
            },
            ColumnData::Int(cells) => match parse_i64(text) {
                Some(value) => cells.push(value),
                None => return Err(WrongKind::kind(ValueKind::Int)),
            },
            ColumnData::Text(cells) => cells.push(text.to_owned()),
        }
        Ok(())
    }

    /// The finished cells, with spare capacity released.
    pub fn finish(self) -> ColumnData {
        match self.0 {
            ColumnData::Float(mut cells) => {
                cells.shrink_to_fit();
                ColumnData::Float(cells)
            }
            ColumnData::Int(mut cells) => {
                cells.shrink_to_fit();
                ColumnData::Int(cells)
            }
            ColumnData::Text(mut cells) => {
                cells.shrink_to_fit();
                ColumnData::Text(cells)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_typed_by_label() {
        let mut resolution = ColumnBuilder::for_label("rlnAngstromResolution");
        resolution.push("15000.5").unwrap();
        resolution.push("nan").unwrap();
        assert_eq!(
            resolution.push("abc"),
            Err(WrongKind::kind(ValueKind::Float))
        );
        match resolution.finish() {
            ColumnData::Float(cells) => assert_eq!((cells.len(), cells[0]), (2, 15000.5)),
            other => panic!("expected floats, got {other:?}"),
        }
        let mut group = ColumnBuilder::for_label("rlnOpticsGroup");
        group.push("2.000000").unwrap();
        assert_eq!(group.push("1.5"), Err(WrongKind::kind(ValueKind::Int)));
        assert_eq!(group.finish(), ColumnData::Int(vec![2]));
        let mut unknown = ColumnBuilder::for_label("wrpPickingScore");
        unknown.push("0.5").unwrap();
        assert_eq!(unknown.finish(), ColumnData::Text(vec!["0.5".into()]));
    }

    #[test]
    fn geometry_labels_refuse_nan_and_infinity() {
        let mut rot = ColumnBuilder::for_label("rlnAngleRot");
        rot.push("12.5").unwrap();
        for bad in ["nan", "NaN", "inf", "-inf"] {
            let error = rot.push(bad).unwrap_err();
            assert_eq!(
                error.message(bad),
                format!("expected a finite real number (degrees), found `{bad}`")
            );
        }
        assert_eq!(
            rot.empty_like().push("nan"),
            Err(WrongKind::not_finite("rlnAngleRot"))
        );
        assert_eq!(rot.finish(), ColumnData::Float(vec![12.5]));
        let error = parse_value("rlnVoltage", "nan").unwrap_err();
        assert_eq!(
            error.message("nan"),
            "expected a finite real number (kV), found `nan`"
        );
        assert_eq!(
            parse_value("rlnFinalResolution", "inf"),
            Ok(Value::Float(f64::INFINITY))
        );
    }

    #[test]
    fn values_are_typed_by_label() {
        assert_eq!(
            parse_value("rlnFinalResolution", "3.21"),
            Ok(Value::Float(3.21))
        );
        assert_eq!(parse_value("rlnNrClasses", "1"), Ok(Value::Int(1)));
        assert_eq!(
            parse_value("rlnMaskName", "m.mrc"),
            Ok(Value::Text("m.mrc".into()))
        );
        let error = parse_value("rlnNrClasses", "one").unwrap_err();
        assert_eq!(error.message("one"), "expected an integer, found `one`");
    }

    #[test]
    fn long_texts_are_abbreviated_in_messages() {
        let long = "x".repeat(100);
        let short = abbreviate(&long);
        assert_eq!(short.chars().count(), 61);
        assert!(short.ends_with('…'));
        assert_eq!(abbreviate("short"), "short");
    }
}
