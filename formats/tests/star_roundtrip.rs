//! Writing then reading gives back exactly what was written — every float bit for bit (NaN as
//! NaN), every integer, every representable text — and the layout is RELION 3.1's.

use std::path::Path;

use cryoflux_formats::star::labels::{LABELS, ValueKind};
use cryoflux_formats::star::{Column, ColumnData, DataBlock, StarFile, Table, Value};
use proptest::prelude::*;

/// Equality that tells -0.0 from 0.0 and counts NaN equal to NaN.
fn same_float(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => same_float(*x, *y),
        _ => a == b,
    }
}

fn same_column(a: &ColumnData, b: &ColumnData) -> bool {
    match (a, b) {
        (ColumnData::Float(x), ColumnData::Float(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_float(*p, *q))
        }
        _ => a == b,
    }
}

fn same_file(a: &StarFile, b: &StarFile) -> bool {
    a.blocks.len() == b.blocks.len()
        && a.blocks.iter().zip(&b.blocks).all(|(x, y)| {
            x.name == y.name
                && x.pairs.len() == y.pairs.len()
                && x.pairs
                    .iter()
                    .zip(&y.pairs)
                    .all(|((l, v), (m, w))| l == m && same_value(v, w))
                && match (&x.table, &y.table) {
                    (None, None) => true,
                    (Some(s), Some(t)) => {
                        s.rows() == t.rows()
                            && s.columns().len() == t.columns().len()
                            && s.columns()
                                .iter()
                                .zip(t.columns())
                                .all(|(c, d)| c.label == d.label && same_column(&c.data, &d.data))
                    }
                    _ => false,
                }
        })
}

fn labels_of(kind: ValueKind) -> Vec<&'static str> {
    LABELS
        .iter()
        .filter(|info| info.kind == kind)
        .map(|info| info.name)
        .collect()
}

/// Text STAR can hold: printable ASCII, tabs and a little Unicode, but not a quote of each
/// kind followed by whitespace (no quoting could delimit that).
fn star_text() -> impl Strategy<Value = String> {
    "[ -~\t]{0,12}|[Åλ\"' _#]{0,6}".prop_filter("representable", |text| {
        let closes = |quote: char| {
            text.as_bytes()
                .windows(2)
                .any(|w| w[0] == quote as u8 && (w[1] == b' ' || w[1] == b'\t'))
        };
        !(closes('"') && closes('\''))
    })
}

/// A column typed like its label: floats and integers under registry labels of that kind,
/// text under text labels or unknown ones.
fn column(rows: usize) -> impl Strategy<Value = Column> {
    let floats = (
        prop::sample::select(labels_of(ValueKind::Float)),
        prop::collection::vec(any::<f64>(), rows),
    )
        .prop_map(|(label, cells)| Column {
            label: label.into(),
            data: ColumnData::Float(cells),
        });
    let ints = (
        prop::sample::select(labels_of(ValueKind::Int)),
        prop::collection::vec(any::<i64>(), rows),
    )
        .prop_map(|(label, cells)| Column {
            label: label.into(),
            data: ColumnData::Int(cells),
        });
    let known_text = prop::sample::select(labels_of(ValueKind::Text)).prop_map(String::from);
    let texts = (
        known_text
            .boxed()
            .prop_union("[a-z][A-Za-z0-9_]{0,8}".boxed()),
        prop::collection::vec(star_text(), rows),
    )
        .prop_map(|(label, cells)| Column {
            label,
            data: ColumnData::Text(cells),
        });
    prop_oneof![floats, ints, texts]
}

fn table() -> impl Strategy<Value = Table> {
    (0usize..12).prop_flat_map(|rows| {
        prop::collection::vec(column(rows), 1..6).prop_map(|mut columns| {
            let mut seen = std::collections::HashSet::new();
            columns.retain(|c| seen.insert(c.label.clone()));
            Table::from_columns(columns).expect("unique labels, equal lengths")
        })
    })
}

fn value() -> impl Strategy<Value = (String, Value)> {
    prop_oneof![
        (
            prop::sample::select(labels_of(ValueKind::Float)),
            any::<f64>()
        )
            .prop_map(|(l, x)| (l.to_owned(), Value::Float(x))),
        (
            prop::sample::select(labels_of(ValueKind::Int)),
            any::<i64>()
        )
            .prop_map(|(l, i)| (l.to_owned(), Value::Int(i))),
        (
            prop::sample::select(labels_of(ValueKind::Text)),
            star_text()
        )
            .prop_map(|(l, t)| (l.to_owned(), Value::Text(t))),
    ]
}

fn block() -> impl Strategy<Value = DataBlock> {
    (
        "[A-Za-z0-9_]{0,10}",
        prop::collection::vec(value(), 0..4),
        prop::option::of(table()),
    )
        .prop_map(|(name, mut pairs, table)| {
            let mut seen: std::collections::HashSet<String> = table
                .iter()
                .flat_map(|t| t.columns().iter().map(|c| c.label.clone()))
                .collect();
            pairs.retain(|(label, _)| seen.insert(label.clone()));
            DataBlock { name, pairs, table }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn write_then_read_gives_the_same_file(blocks in prop::collection::vec(block(), 0..4)) {
        let star = StarFile { blocks };
        let text = star.to_string().unwrap();
        let back = StarFile::parse(&text, Path::new("roundtrip.star")).unwrap();
        prop_assert!(same_file(&star, &back), "{:?}\n{}\n{:?}", star, text, back);
    }
}

#[test]
fn layout_is_relion_31() {
    let mut table = Table::with_rows(2);
    table.set_column(Column {
        label: "rlnImageName".into(),
        data: ColumnData::Text(vec!["1@a.mrcs".into(), "2@a.mrcs".into()]),
    });
    table.set_column(Column {
        label: "rlnDefocusU".into(),
        data: ColumnData::Float(vec![15000.5, 1e-7]),
    });
    table.set_column(Column {
        label: "rlnOpticsGroup".into(),
        data: ColumnData::Int(vec![1, 12]),
    });
    let star = StarFile {
        blocks: vec![
            DataBlock {
                name: "general".into(),
                pairs: vec![
                    ("rlnFinalResolution".into(), Value::Float(3.2)),
                    ("rlnMaskName".into(), Value::Text("my mask.mrc".into())),
                ],
                table: None,
            },
            DataBlock {
                name: "particles".into(),
                pairs: vec![],
                table: Some(table),
            },
        ],
    };
    let expected = "\n# version 30001\n\ndata_general\n\n\
                    _rlnFinalResolution  3.2\n_rlnMaskName         \"my mask.mrc\"\n\n\
                    \n# version 30001\n\ndata_particles\n\nloop_\n\
                    _rlnImageName #1\n_rlnDefocusU #2\n_rlnOpticsGroup #3\n\
                    \x20  1@a.mrcs      15000.5            1\n\
                    \x20  2@a.mrcs         1e-7           12\n\n";
    assert_eq!(star.to_string().unwrap(), expected);
}

#[test]
fn write_is_atomic_and_reports_unwritable_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.star");
    let good = StarFile {
        blocks: vec![DataBlock {
            name: "a".into(),
            ..DataBlock::default()
        }],
    };
    good.write(&path).unwrap();
    let mut table = Table::with_rows(2);
    table.set_column(Column {
        label: "rlnMicrographName".into(),
        data: ColumnData::Text(vec!["fine".into(), "two\nlines".into()]),
    });
    let bad = StarFile {
        blocks: vec![DataBlock {
            name: "m".into(),
            pairs: vec![],
            table: Some(table),
        }],
    };
    let message = bad.write(&path).unwrap_err().to_string();
    assert!(
        message.contains("out.star") && message.contains("data_m, rlnMicrographName, row 2"),
        "{message}"
    );
    assert_eq!(
        StarFile::read(&path).unwrap(),
        good,
        "the old file is untouched"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
}

#[test]
fn unwritable_names_are_errors() {
    let spaced = StarFile {
        blocks: vec![DataBlock {
            name: "a b".into(),
            ..DataBlock::default()
        }],
    };
    assert!(
        spaced
            .to_string()
            .unwrap_err()
            .to_string()
            .contains("block name `a b`")
    );
    let pair = StarFile {
        blocks: vec![DataBlock {
            name: "a".into(),
            pairs: vec![(String::new(), Value::Int(1))],
            table: None,
        }],
    };
    assert!(
        pair.to_string()
            .unwrap_err()
            .to_string()
            .contains("label ``")
    );
    let quotes = StarFile {
        blocks: vec![DataBlock {
            name: "a".into(),
            pairs: vec![("rlnMaskName".into(), Value::Text("a\" b' c".into()))],
            table: None,
        }],
    };
    assert!(
        quotes
            .to_string()
            .unwrap_err()
            .to_string()
            .contains("data_a, rlnMaskName:")
    );
}
