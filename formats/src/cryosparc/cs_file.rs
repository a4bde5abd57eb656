//! An open `.cs` file: the `.npy` header parsed and checked against the file length, the records
//! memory-mapped, and one field at a time decoded into a typed column.

use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::dtype::{CsField, CsScalar, RecordLayout, parse_descr};
use super::literal::{self, Literal};
use crate::error::{Error, Result};

/// The `.npy` magic string.
const MAGIC: &[u8] = b"\x93NUMPY";

/// A cryoSPARC dataset (`.cs`): a one-dimensional NumPy structured array, one record per row
/// (particle, micrograph, …), read column by column. Values are returned as stored, in the units
/// the field names carry (`_A` Å, `_rad` radians, `_kv` kV, `_mm` mm, shifts in px); converting
/// conventions is the importer's job.
#[derive(Debug)]
pub struct CsFile {
    path: PathBuf,
    bytes: Bytes,
    data_offset: usize,
    rows: usize,
    layout: RecordLayout,
}

/// The file's bytes: mapped from disk, or owned (in-memory parsing).
#[derive(Debug)]
enum Bytes {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(map) => map,
            Bytes::Owned(vec) => vec,
        }
    }
}

impl CsFile {
    /// Open `path` and parse its header (nothing else is read yet). Fails on a file that is not
    /// `.npy` version 1–3, is not a one-dimensional structured array, holds pickled Python
    /// objects (`|O` fields), or is shorter than its header says.
    ///
    /// Reading memory-maps the file and assumes nobody truncates it while it is open.
    pub fn open(path: impl AsRef<Path>) -> Result<CsFile> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let bytes = if len == 0 {
            Bytes::Owned(Vec::new())
        } else {
            // SAFETY: a read-only private map; see the doc comment for the truncation hazard.
            Bytes::Mapped(unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))?)
        };
        CsFile::from_parts(path, bytes)
    }

    /// Parse a `.cs` file held in memory; `path` names it in error messages only.
    pub fn from_bytes(path: impl AsRef<Path>, bytes: Vec<u8>) -> Result<CsFile> {
        CsFile::from_parts(path.as_ref(), Bytes::Owned(bytes))
    }

    fn from_parts(path: &Path, bytes: Bytes) -> Result<CsFile> {
        let bad = |message: String| Error::binary(path, message);
        if !bytes.starts_with(MAGIC) || bytes.len() < 10 {
            return Err(bad(
                "not a NumPy .npy file (a cryoSPARC .cs file starts with \\x93NUMPY)".to_owned(),
            ));
        }
        let (major, minor) = (bytes[6], bytes[7]);
        let (header_start, header_len) = match major {
            1 => (10, usize::from(u16::from_le_bytes([bytes[8], bytes[9]]))),
            2 | 3 if bytes.len() >= 12 => (
                12,
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            ),
            _ => {
                return Err(bad(format!(
                    ".npy format version {major}.{minor}; expected 1.0, 2.0 or 3.0"
                )));
            }
        };
        let data_offset = header_start + header_len;
        let header_bytes = bytes.get(header_start..data_offset).ok_or_else(|| {
            bad(format!(
                "truncated: the .npy header claims {header_len} bytes but the file has {}",
                bytes.len()
            ))
        })?;
        let header: String = if major == 3 {
            std::str::from_utf8(header_bytes)
                .map_err(|_| bad("the .npy header is not UTF-8".to_owned()))?
                .to_owned()
        } else {
            header_bytes.iter().map(|&b| char::from(b)).collect()
        };
        let header = literal::parse(&header)
            .map_err(|message| bad(format!("unreadable .npy header: {message}")))?;
        let (descr, shape) = header_entries(&header).map_err(&bad)?;
        let layout = parse_descr(descr).map_err(&bad)?;
        let rows = match shape {
            [Literal::Int(n)] => usize::try_from(*n).ok(),
            _ => None,
        }
        .ok_or_else(|| {
            bad(format!(
                "array shape {shape:?}; expected one dimension (rows,) as cryoSPARC writes"
            ))
        })?;
        let data_len = rows
            .checked_mul(layout.record_size)
            .and_then(|n| n.checked_add(data_offset))
            .ok_or_else(|| bad(format!("{rows} rows are more than any file can hold")))?;
        if bytes.len() < data_len {
            return Err(bad(format!(
                "truncated: {rows} records of {} bytes after a {data_offset}-byte header need \
                 {data_len} bytes, but the file has {}",
                layout.record_size,
                bytes.len()
            )));
        }
        Ok(CsFile {
            path: path.to_path_buf(),
            bytes,
            data_offset,
            rows,
            layout,
        })
    }

    /// The file this was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of records (rows).
    pub fn row_count(&self) -> usize {
        self.rows
    }

    /// Every named field, in record order (padding left out).
    pub fn fields(&self) -> &[CsField] {
        &self.layout.fields
    }

    /// The field names, in record order (`uid`, `blob/path`, `ctf/df1_A`, …).
    pub fn field_names(&self) -> Vec<&str> {
        self.layout.fields.iter().map(|f| f.name.as_str()).collect()
    }

    /// The field called `name`; the error lists the fields there are.
    pub fn field(&self, name: &str) -> Result<&CsField> {
        self.layout
            .fields
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| {
                Error::content(
                    &self.path,
                    format!(
                        "no field {name:?}; the file has {}",
                        self.field_names().join(", ")
                    ),
                )
            })
    }

    /// A numeric scalar field (bool, integer or float) as `f64`, one value per row. Integers
    /// beyond 2⁵³ lose precision: read ids with [`CsFile::column_u64`].
    pub fn column_f64(&self, name: &str) -> Result<Vec<f64>> {
        let field = self.scalar_field(name)?;
        self.numbers(field)
    }

    /// An integer or bool scalar field as `u64`, one value per row (`uid`, `blob/idx`, …).
    /// Fails on a float field or a negative value, naming the row.
    pub fn column_u64(&self, name: &str) -> Result<Vec<u64>> {
        let field = self.scalar_field(name)?;
        if matches!(field.scalar, CsScalar::Float(_)) {
            return Err(self.wrong_kind(field, "an integer field"));
        }
        self.records()
            .enumerate()
            .map(|(row, record)| {
                let bytes = &record[field.offset..field.offset + field.scalar.size()];
                let value = match field.scalar {
                    CsScalar::Bool => Some(u64::from(bytes[0] != 0)),
                    CsScalar::UInt(_) => Some(unsigned(bytes, field.big_endian)),
                    _ => u64::try_from(signed(bytes, field.big_endian)).ok(),
                };
                value.ok_or_else(|| {
                    Error::content(
                        &self.path,
                        format!(
                            "field {name:?}, row {row} (0-based): {} is negative; expected an \
                             unsigned value",
                            signed(bytes, field.big_endian)
                        ),
                    )
                })
            })
            .collect()
    }

    /// A string field (`S<n>` bytes or `U<n>` UTF-32) as text, one per row, with the trailing
    /// NUL padding removed. Fails on text that is not UTF-8, naming the row.
    pub fn column_strings(&self, name: &str) -> Result<Vec<String>> {
        let field = self.scalar_field(name)?;
        let size = field.scalar.size();
        self.records()
            .enumerate()
            .map(|(row, record)| {
                let bytes = &record[field.offset..field.offset + size];
                let text = match field.scalar {
                    CsScalar::Bytes(_) => {
                        let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
                        String::from_utf8(bytes[..end].to_vec()).ok()
                    }
                    CsScalar::Unicode(_) => utf32(bytes, field.big_endian),
                    _ => return Err(self.wrong_kind(field, "a string field (S<n> or U<n>)")),
                };
                text.ok_or_else(|| {
                    Error::content(
                        &self.path,
                        format!("field {name:?}, row {row} (0-based) is not valid text"),
                    )
                })
            })
            .collect()
    }

    /// A numeric field as one vector per row: a sub-array field (`alignments3D/pose`,
    /// `blob/shape`) flattened in C order, a scalar field as one-element vectors.
    pub fn column_vectors(&self, name: &str) -> Result<Vec<Vec<f64>>> {
        let field = self.field(name)?;
        let flat = self.numbers(field)?;
        let per_row = field.element_count();
        if per_row == 0 {
            return Ok(vec![Vec::new(); self.rows]);
        }
        Ok(flat.chunks_exact(per_row).map(<[f64]>::to_vec).collect())
    }

    /// Every element of a numeric field as `f64`, row after row.
    fn numbers(&self, field: &CsField) -> Result<Vec<f64>> {
        let size = field.scalar.size();
        if matches!(field.scalar, CsScalar::Bytes(_) | CsScalar::Unicode(_)) {
            return Err(self.wrong_kind(field, "a numeric field"));
        }
        let count = field.element_count();
        let mut out = Vec::with_capacity(self.rows * count);
        for record in self.records() {
            let elements = &record[field.offset..field.offset + size * count];
            for bytes in elements.chunks_exact(size) {
                out.push(number(field.scalar, bytes, field.big_endian));
            }
        }
        Ok(out)
    }

    /// The field `name`, which must not be a sub-array.
    fn scalar_field(&self, name: &str) -> Result<&CsField> {
        let field = self.field(name)?;
        if !field.shape.is_empty() {
            return Err(Error::content(
                &self.path,
                format!(
                    "field {name:?} is a sub-array of shape {:?}; read it with column_vectors",
                    field.shape
                ),
            ));
        }
        Ok(field)
    }

    fn wrong_kind(&self, field: &CsField, expected: &str) -> Error {
        Error::content(
            &self.path,
            format!(
                "field {:?} holds {:?}; expected {expected}",
                field.name, field.scalar
            ),
        )
    }

    /// Each record's bytes, in row order.
    fn records(&self) -> impl Iterator<Item = &[u8]> {
        let size = self.layout.record_size;
        let data = &self.bytes[self.data_offset..self.data_offset + self.rows * size];
        // A record of zero bytes (no fields) still counts as a row.
        (0..self.rows).map(move |row| &data[row * size..(row + 1) * size])
    }
}

/// The `descr` and `shape` entries of a `.npy` header dict, which must also say
/// `fortran_order` (True or False: a one-dimensional array is laid out the same either way).
fn header_entries(header: &Literal) -> std::result::Result<(&Literal, &[Literal]), String> {
    let Literal::Dict(entries) = header else {
        return Err("the .npy header is not a dict".to_owned());
    };
    let get = |key: &str| {
        entries
            .iter()
            .find(|(k, _)| matches!(k, Literal::Str(s) if s == key))
            .map(|(_, v)| v)
            .ok_or_else(|| format!("the .npy header has no {key:?} entry"))
    };
    let descr = get("descr")?;
    let Literal::Bool(_) = get("fortran_order")? else {
        return Err("the .npy header's fortran_order is not True or False".to_owned());
    };
    let Literal::Seq(shape) = get("shape")? else {
        return Err("the .npy header's shape is not a tuple".to_owned());
    };
    Ok((descr, shape))
}

/// An unsigned integer of 1–8 bytes.
fn unsigned(bytes: &[u8], big_endian: bool) -> u64 {
    let fold = |acc: u64, &b: &u8| (acc << 8) | u64::from(b);
    if big_endian {
        bytes.iter().fold(0, fold)
    } else {
        bytes.iter().rev().fold(0, fold)
    }
}

/// A two's-complement signed integer of 1–8 bytes.
fn signed(bytes: &[u8], big_endian: bool) -> i64 {
    let bits = 8 * bytes.len() as u32;
    let raw = unsigned(bytes, big_endian);
    let shift = 64 - bits;
    ((raw << shift) as i64) >> shift
}

/// One numeric element as `f64`.
fn number(scalar: CsScalar, bytes: &[u8], big_endian: bool) -> f64 {
    match scalar {
        CsScalar::Bool => f64::from(u8::from(bytes[0] != 0)),
        CsScalar::Int(_) => signed(bytes, big_endian) as f64,
        CsScalar::UInt(_) => unsigned(bytes, big_endian) as f64,
        CsScalar::Float(2) => f64::from(half::f16::from_bits(unsigned(bytes, big_endian) as u16)),
        CsScalar::Float(4) => f64::from(f32::from_bits(unsigned(bytes, big_endian) as u32)),
        CsScalar::Float(_) => f64::from_bits(unsigned(bytes, big_endian)),
        CsScalar::Bytes(_) | CsScalar::Unicode(_) => unreachable!("checked by the caller"),
    }
}

/// UTF-32 text with trailing NULs removed, or `None` if a code point is invalid.
fn utf32(bytes: &[u8], big_endian: bool) -> Option<String> {
    let text: Option<String> = bytes
        .chunks_exact(4)
        .map(|unit| char::from_u32(unsigned(unit, big_endian) as u32))
        .collect();
    text.map(|t| t.trim_end_matches('\0').to_owned())
}
