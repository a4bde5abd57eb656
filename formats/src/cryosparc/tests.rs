use proptest::prelude::*;

use super::*;

/// A `.npy` file of format `major`.0 with header `dict` and data `records`, padded as NumPy
/// pads (to a multiple of 64 bytes, ending in a newline).
fn npy(major: u8, dict: &str, records: &[u8]) -> Vec<u8> {
    let prefix = if major == 1 { 10 } else { 12 };
    let mut header = dict.to_owned();
    while !(prefix + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY".to_vec();
    bytes.extend_from_slice(&[major, 0]);
    if major == 1 {
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(records);
    bytes
}

const DESCR: &str = "[('uid', '<u8'), ('blob/path', '|S8'), ('blob/shape', '>u4', (2,)), \
                     ('ctf/df1_A', '<f4'), ('d', '>f8'), ('n', '<i2'), ('ok', '|b1')]";

/// Two records of [`DESCR`].
fn two_records() -> Vec<u8> {
    let mut data = Vec::new();
    for (uid, path, shape, df, d, n, ok) in [
        (
            u64::MAX - 1,
            &b"a.mrc\0\0\0"[..],
            [64u32, 64],
            12345.5f32,
            -0.25f64,
            -3i16,
            1u8,
        ),
        (7, &b"dir/b.mr"[..], [128, 96], 20000.0, 1e300, 300, 0),
    ] {
        data.extend_from_slice(&uid.to_le_bytes());
        data.extend_from_slice(path);
        data.extend_from_slice(&shape[0].to_be_bytes());
        data.extend_from_slice(&shape[1].to_be_bytes());
        data.extend_from_slice(&df.to_le_bytes());
        data.extend_from_slice(&d.to_be_bytes());
        data.extend_from_slice(&n.to_le_bytes());
        data.push(ok);
    }
    data
}

fn open(bytes: Vec<u8>) -> crate::Result<CsFile> {
    CsFile::from_bytes("p.cs", bytes)
}

#[test]
fn reads_every_column_kind_in_every_version() {
    for major in [1, 2, 3] {
        let dict = format!("{{'descr': {DESCR}, 'fortran_order': False, 'shape': (2,), }}");
        let file = open(npy(major, &dict, &two_records())).unwrap();
        assert_eq!(file.row_count(), 2);
        assert_eq!(
            file.field_names(),
            [
                "uid",
                "blob/path",
                "blob/shape",
                "ctf/df1_A",
                "d",
                "n",
                "ok"
            ]
        );
        assert_eq!(file.column_u64("uid").unwrap(), [u64::MAX - 1, 7]);
        assert_eq!(
            file.column_strings("blob/path").unwrap(),
            ["a.mrc", "dir/b.mr"]
        );
        assert_eq!(
            file.column_vectors("blob/shape").unwrap(),
            [vec![64.0, 64.0], vec![128.0, 96.0]]
        );
        assert_eq!(file.column_f64("ctf/df1_A").unwrap(), [12345.5, 20000.0]);
        assert_eq!(file.column_f64("d").unwrap(), [-0.25, 1e300]);
        assert_eq!(file.column_f64("n").unwrap(), [-3.0, 300.0]);
        assert_eq!(file.column_u64("ok").unwrap(), [1, 0]);
        assert_eq!(file.column_vectors("n").unwrap(), [vec![-3.0], vec![300.0]]);
    }
}

#[test]
fn wrong_columns_are_clear_errors() {
    let dict = format!("{{'descr': {DESCR}, 'fortran_order': False, 'shape': (2,), }}");
    let file = open(npy(1, &dict, &two_records())).unwrap();
    for (result, needle) in [
        (
            file.column_f64("ctf/df2_A").map(|_| ()),
            "no field \"ctf/df2_A\"; the file has uid",
        ),
        (file.column_f64("blob/shape").map(|_| ()), "column_vectors"),
        (
            file.column_u64("ctf/df1_A").map(|_| ()),
            "expected an integer field",
        ),
        (
            file.column_u64("n").map(|_| ()),
            "row 0 (0-based): -3 is negative",
        ),
        (
            file.column_strings("uid").map(|_| ()),
            "expected a string field",
        ),
        (
            file.column_f64("blob/path").map(|_| ()),
            "expected a numeric field",
        ),
    ] {
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains("p.cs") && message.contains(needle),
            "{message}"
        );
    }
}

#[test]
fn bad_files_are_clear_errors() {
    let good = |shape: &str, descr: &str| {
        format!("{{'descr': {descr}, 'fortran_order': False, 'shape': {shape}, }}")
    };
    let records = two_records();
    for (bytes, needle) in [
        (b"PK\x03\x04".to_vec(), "not a NumPy .npy file"),
        (npy(4, &good("(2,)", DESCR), &records), "version 4.0"),
        (
            npy(1, &good("(3,)", DESCR), &records),
            "truncated: 3 records of 39 bytes",
        ),
        (npy(1, &good("(2, 2)", DESCR), &records), "one dimension"),
        (npy(1, &good("(2,)", "'<f4'"), &records), "plain array"),
        (
            npy(1, &good("(2,)", "[('blob/path', '|O')]"), &records),
            "pickled",
        ),
        (
            npy(1, "{'descr': [], 'shape': (0,)}", &[]),
            "no \"fortran_order\"",
        ),
        (npy(1, "{'descr': [", &[]), "unreadable .npy header"),
    ] {
        let message = open(bytes).unwrap_err().to_string();
        assert!(
            message.contains("p.cs") && message.contains(needle),
            "{message}"
        );
    }
    let mut cut = npy(1, &good("(2,)", DESCR), &records);
    cut.truncate(40);
    assert!(open(cut).unwrap_err().to_string().contains("truncated"));
}

#[test]
fn unicode_and_padding_fields() {
    let descr = "[('u', '<U3'), ('', '|V2'), ('f', '<f2')]";
    let dict = format!("{{'descr': {descr}, 'fortran_order': True, 'shape': (1,), }}");
    let mut data = Vec::new();
    for c in ['é', 'x', '\0'] {
        data.extend_from_slice(&(c as u32).to_le_bytes());
    }
    data.extend_from_slice(&[0, 0]);
    data.extend_from_slice(&half::f16::from_f32(1.5).to_bits().to_le_bytes());
    let file = open(npy(3, &dict, &data)).unwrap();
    assert_eq!(file.field_names(), ["u", "f"]);
    assert_eq!(file.column_strings("u").unwrap(), ["éx"]);
    assert_eq!(file.column_f64("f").unwrap(), [1.5]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Garbage headers and data give errors or columns, never a panic.
    #[test]
    fn garbage_never_panics(
        header in "\\PC{0,80}",
        cut in 0usize..200,
        flips in proptest::collection::vec((0usize..300, any::<u8>()), 0..8),
    ) {
        let _ = open(npy(1, &header, &[1, 2, 3]));
        let dict = format!("{{'descr': {DESCR}, 'fortran_order': False, 'shape': (2,), }}");
        let mut bytes = npy(2, &dict, &two_records());
        for (at, byte) in flips {
            let at = at % bytes.len();
            bytes[at] = byte;
        }
        bytes.truncate(bytes.len().saturating_sub(cut % 40));
        if let Ok(file) = open(bytes) {
            for name in file.field_names() {
                let _ = file.column_f64(name);
                let _ = file.column_u64(name);
                let _ = file.column_strings(name);
                let _ = file.column_vectors(name);
            }
        }
    }
}
