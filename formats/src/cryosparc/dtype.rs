//! NumPy structured dtypes as `.npy` headers describe them (`descr`): a list of fields
//! `(name, typestr)` or `(name, typestr, shape)`, laid out one after another in each record.

use super::literal::Literal;

/// What one element of a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsScalar {
    /// NumPy `b1`: one byte, 0 or not.
    Bool,
    /// Signed integer of this many bytes (`i1`, `i2`, `i4`, `i8`).
    Int(usize),
    /// Unsigned integer of this many bytes (`u1`, `u2`, `u4`, `u8`).
    UInt(usize),
    /// IEEE float of this many bytes (`f2`, `f4`, `f8`).
    Float(usize),
    /// Fixed-length byte string (`S<n>`), NUL-padded, of this many bytes.
    Bytes(usize),
    /// Fixed-length UTF-32 string (`U<n>`) of this many characters.
    Unicode(usize),
}

impl CsScalar {
    /// Bytes one element takes in a record.
    pub fn size(self) -> usize {
        match self {
            CsScalar::Bool => 1,
            CsScalar::Int(n) | CsScalar::UInt(n) | CsScalar::Float(n) | CsScalar::Bytes(n) => n,
            CsScalar::Unicode(chars) => 4 * chars,
        }
    }
}

/// One named field of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsField {
    /// The field's name, e.g. `ctf/df1_A` (cryoSPARC puts the unit in the name).
    pub name: String,
    /// What each element holds.
    pub scalar: CsScalar,
    /// Whether multi-byte elements are big-endian (`>` in the typestr).
    pub big_endian: bool,
    /// Sub-array shape (`[2]` for `blob/shape`); empty for a scalar field.
    pub shape: Vec<usize>,
    /// Byte offset of the field within a record.
    pub offset: usize,
}

impl CsField {
    /// Elements per record: the product of [`CsField::shape`] (1 for a scalar field).
    pub fn element_count(&self) -> usize {
        self.shape.iter().product()
    }
}

/// The record layout: named fields (padding dropped) and the record size in bytes.
#[derive(Debug, Clone)]
pub(super) struct RecordLayout {
    pub(super) fields: Vec<CsField>,
    pub(super) record_size: usize,
}

/// Records larger than this are not a cryoSPARC dataset (and would risk overflow).
const MAX_RECORD_SIZE: usize = 1 << 30;

/// Parse a structured `descr`; errors say which field and what was expected.
pub(super) fn parse_descr(descr: &Literal) -> Result<RecordLayout, String> {
    let Literal::Seq(entries) = descr else {
        return Err(format!(
            "descr is {descr:?}, a plain array; expected a structured array (a list of named \
             fields) as cryoSPARC writes"
        ));
    };
    let mut fields = Vec::with_capacity(entries.len());
    let mut offset = 0usize;
    for entry in entries {
        let Literal::Seq(parts) = entry else {
            return Err(format!(
                "descr entry {entry:?} is not a (name, type[, shape]) tuple"
            ));
        };
        let (name, typestr, shape) = match parts.as_slice() {
            [Literal::Str(name), Literal::Str(typestr)] => (name, typestr, Vec::new()),
            [Literal::Str(name), Literal::Str(typestr), shape] => {
                (name, typestr, parse_shape(name, shape)?)
            }
            [Literal::Str(name), Literal::Seq(_), ..] => {
                return Err(format!(
                    "field {name:?} is a nested structure; expected a plain or sub-array field"
                ));
            }
            _ => {
                return Err(format!(
                    "descr entry {entry:?} is not a (name, type[, shape]) tuple"
                ));
            }
        };
        let (scalar, big_endian, element_size) = parse_typestr(name, typestr)?;
        let count = shape
            .iter()
            .try_fold(1usize, |acc, &n| acc.checked_mul(n))
            .ok_or_else(|| format!("field {name:?} has a sub-array shape {shape:?} too large"))?;
        let size = element_size
            .checked_mul(count)
            .filter(|&size| size <= MAX_RECORD_SIZE)
            .ok_or_else(|| format!("field {name:?} is larger than {MAX_RECORD_SIZE} bytes"))?;
        if let Some(scalar) = scalar {
            if name.is_empty() {
                return Err(format!("a {typestr} field has no name"));
            }
            if fields.iter().any(|f: &CsField| &f.name == name) {
                return Err(format!("field {name:?} appears twice"));
            }
            fields.push(CsField {
                name: name.clone(),
                scalar,
                big_endian,
                shape,
                offset,
            });
        }
        offset += size;
        if offset > MAX_RECORD_SIZE {
            return Err(format!("records are larger than {MAX_RECORD_SIZE} bytes"));
        }
    }
    Ok(RecordLayout {
        fields,
        record_size: offset,
    })
}

/// A sub-array shape: a tuple of non-negative integers (or one integer).
fn parse_shape(name: &str, shape: &Literal) -> Result<Vec<usize>, String> {
    let dims = match shape {
        Literal::Int(n) => vec![*n],
        Literal::Seq(items) => items
            .iter()
            .map(|item| match item {
                Literal::Int(n) => Ok(*n),
                _ => Err(format!(
                    "field {name:?} has shape {shape:?}; expected integers"
                )),
            })
            .collect::<Result<Vec<i64>, String>>()?,
        _ => {
            return Err(format!(
                "field {name:?} has shape {shape:?}; expected a tuple"
            ));
        }
    };
    dims.into_iter()
        .map(|n| {
            usize::try_from(n)
                .map_err(|_| format!("field {name:?} has a negative sub-array extent {n}"))
        })
        .collect()
}

/// A typestr such as `<f4`, `|S32`, `>u8`: the element type (`None` for `V` padding), whether
/// it is big-endian, and its size in bytes.
fn parse_typestr(name: &str, typestr: &str) -> Result<(Option<CsScalar>, bool, usize), String> {
    let unsupported = |why: &str| {
        format!(
            "field {name:?} has type {typestr:?}{why}; expected b1, i1–i8, u1–u8, f2/f4/f8, S<n> \
             or U<n>"
        )
    };
    let mut chars = typestr.chars();
    let big_endian = match chars.next() {
        Some('>') => true,
        Some('<' | '|' | '=') => false,
        _ => return Err(unsupported(" without a byte-order mark")),
    };
    let kind = chars.next().ok_or_else(|| unsupported(""))?;
    let digits = chars.as_str();
    if kind == 'O' {
        return Err(format!(
            "field {name:?} holds Python objects (|O), which a .npy file can only store pickled; \
             re-save the dataset with cryosparc-tools' Dataset.save, which writes strings as \
             fixed-length S<n> fields"
        ));
    }
    let size: usize = digits.parse().map_err(|_| unsupported(""))?;
    let scalar = match (kind, size) {
        ('b', 1) => CsScalar::Bool,
        ('i', 1 | 2 | 4 | 8) => CsScalar::Int(size),
        ('u', 1 | 2 | 4 | 8) => CsScalar::UInt(size),
        ('f', 2 | 4 | 8) => CsScalar::Float(size),
        ('S', _) => CsScalar::Bytes(size),
        ('U', _) if size <= MAX_RECORD_SIZE / 4 => CsScalar::Unicode(size),
        ('V', _) => return Ok((None, big_endian, size)),
        _ => return Err(unsupported("")),
    };
    Ok((Some(scalar), big_endian, scalar.size()))
}

#[cfg(test)]
mod tests {
    use super::super::literal::parse;
    use super::*;

    #[test]
    fn lays_out_fields_with_padding_and_sub_arrays() {
        let descr = parse(
            "[('uid', '<u8'), ('blob/path', '|S12'), ('', '|V4'), ('blob/shape', '>u4', (2,)), \
             ('pose', '<f4', (3,)), ('name', '<U3')]",
        )
        .unwrap();
        let layout = parse_descr(&descr).unwrap();
        let summary: Vec<(&str, CsScalar, bool, Vec<usize>, usize)> = layout
            .fields
            .iter()
            .map(|f| {
                (
                    f.name.as_str(),
                    f.scalar,
                    f.big_endian,
                    f.shape.clone(),
                    f.offset,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("uid", CsScalar::UInt(8), false, vec![], 0),
                ("blob/path", CsScalar::Bytes(12), false, vec![], 8),
                ("blob/shape", CsScalar::UInt(4), true, vec![2], 24),
                ("pose", CsScalar::Float(4), false, vec![3], 32),
                ("name", CsScalar::Unicode(3), false, vec![], 44),
            ]
        );
        assert_eq!(layout.record_size, 56);
    }

    #[test]
    fn refuses_objects_plain_arrays_and_odd_types() {
        for (descr, needle) in [
            ("[('blob/path', '|O')]", "pickled"),
            ("'<f4'", "plain array"),
            ("[('c', '<c8')]", "\"<c8\""),
            ("[('a', '<f4'), ('a', '<f4')]", "twice"),
            ("[('a', [('b', '<f4')])]", "nested"),
            ("[('a', '<f4', (-1,))]", "negative"),
        ] {
            let message = parse_descr(&parse(descr).unwrap()).unwrap_err();
            assert!(message.contains(needle), "{descr}: {message}");
        }
    }
}
