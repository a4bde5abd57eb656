//! The particles' fields gathered from a cryoSPARC output (`particles.cs`) and its passthrough
//! files, joined by `uid`: a field is taken from the first file that has it, the main file
//! first (pyem's rule), and a passthrough's rows are reordered to the main file's uids.
//!
//! Single-precision fields are read as the shortest decimal that gives back the same
//! stored value (`2.7`, not `2.700000047683716`), the number NumPy and pyem print.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cryoflux_formats::cryosparc::{CsFile, CsScalar};

/// One `.cs` file and, for a passthrough, the row holding each main-file row's uid.
struct Part {
    file: CsFile,
    /// `rows[i]`: this file's row for main-file row `i`; `None` for the main file itself.
    rows: Option<Vec<usize>>,
}

/// A cryoSPARC particle set: the main file's rows, every field of it and of its passthroughs.
pub struct CsParticles {
    parts: Vec<Part>,
    count: usize,
}

impl CsParticles {
    /// Opens `main` and `passthroughs`. Every passthrough must have a `uid` for each particle
    /// of `main` (extra rows are ignored); the error names the file, the row counts and the
    /// first missing uid.
    pub fn open(main: &Path, passthroughs: &[PathBuf]) -> anyhow::Result<CsParticles> {
        let open = |path: &Path| {
            CsFile::open(path).with_context(|| format!("cannot read {}", path.display()))
        };
        let file = open(main)?;
        let uids = file.column_u64("uid")?;
        let count = file.row_count();
        let mut parts = vec![Part { file, rows: None }];
        for path in passthroughs {
            let file = open(path)?;
            let rows = rows_of(&uids, &file.column_u64("uid")?).map_err(|(row, uid)| {
                anyhow::anyhow!(
                    "passthrough {} ({} rows) has no particle with uid {uid} (row {row} of {}, \
                     {count} rows); expected the passthrough of the same cryoSPARC output",
                    path.display(),
                    file.row_count(),
                    main.display()
                )
            })?;
            parts.push(Part {
                file,
                rows: Some(rows),
            });
        }
        Ok(CsParticles { parts, count })
    }

    /// Number of particles (rows of the main file).
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no particles.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// A numeric field as one value per particle (units as its name says), if present.
    pub fn numbers(&self, name: &str) -> anyhow::Result<Option<Vec<f64>>> {
        let values = self.column(name, |file| file.column_f64(name))?;
        Ok(match self.is_short_float(name) {
            true => values.map(|v| v.into_iter().map(shortest_decimal).collect()),
            false => values,
        })
    }

    /// A numeric sub-array field (`blob/shape`, `alignments3D/pose`) with exactly `width`
    /// values per particle, if present.
    pub fn vectors(&self, name: &str, width: usize) -> anyhow::Result<Option<Vec<Vec<f64>>>> {
        let Some(mut rows) = self.column(name, |file| file.column_vectors(name))? else {
            return Ok(None);
        };
        if self.is_short_float(name) {
            for value in rows.iter_mut().flatten() {
                *value = shortest_decimal(*value);
            }
        }
        if let Some(row) = rows.first().filter(|row| row.len() != width) {
            bail!(
                "{}: field {name:?} has {} values per particle; expected {width}",
                self.part(name)
                    .map_or(Path::new(""), |p| p.file.path())
                    .display(),
                row.len()
            );
        }
        Ok(Some(rows))
    }

    /// A string field, one per particle, if present.
    pub fn strings(&self, name: &str) -> anyhow::Result<Option<Vec<String>>> {
        self.column(name, |file| file.column_strings(name))
    }

    /// An unsigned integer field (`blob/idx`, `alignments3D/split`), if present.
    pub fn integers(&self, name: &str) -> anyhow::Result<Option<Vec<u64>>> {
        self.column(name, |file| file.column_u64(name))
    }

    /// An error for a field no file has, naming the files read and why the field is needed.
    pub fn missing(&self, name: &str, why: &str) -> anyhow::Error {
        let files: Vec<String> = self
            .parts
            .iter()
            .map(|p| p.file.path().display().to_string())
            .collect();
        anyhow::anyhow!(
            "no field {name:?} in {}; it is needed {why} (give the passthrough file that has \
             it with --passthrough)",
            files.join(", ")
        )
    }

    /// Whether field `name` is stored as float32.
    fn is_short_float(&self, name: &str) -> bool {
        self.part(name)
            .and_then(|p| p.file.field(name).ok())
            .is_some_and(|f| matches!(f.scalar, CsScalar::Float(4)))
    }

    fn part(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.file.field(name).is_ok())
    }

    /// Field `name` read by `read` from the first file that has it, in main-file row order.
    fn column<T: Clone>(
        &self,
        name: &str,
        read: impl Fn(&CsFile) -> cryoflux_formats::Result<Vec<T>>,
    ) -> anyhow::Result<Option<Vec<T>>> {
        let Some(part) = self.part(name) else {
            return Ok(None);
        };
        let values = read(&part.file)?;
        Ok(Some(match &part.rows {
            None => values,
            Some(rows) => rows.iter().map(|&r| values[r].clone()).collect(),
        }))
    }
}

/// The shortest decimal that rounds to the same float32 as `stored` (a float32 value widened
/// to f64).
fn shortest_decimal(stored: f64) -> f64 {
    (stored as f32).to_string().parse().unwrap_or(stored)
}

/// For each uid of `wanted`, its row in `have`; on failure the first wanted row (and its uid)
/// that `have` lacks.
fn rows_of(wanted: &[u64], have: &[u64]) -> Result<Vec<usize>, (usize, u64)> {
    let index: HashMap<u64, usize> = have.iter().enumerate().map(|(r, &u)| (u, r)).collect();
    wanted
        .iter()
        .enumerate()
        .map(|(row, uid)| index.get(uid).copied().ok_or((row, *uid)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{rows_of, shortest_decimal};

    #[test]
    fn float32_values_read_as_the_decimal_they_were_written_as() {
        assert_eq!(shortest_decimal(f64::from(2.7f32)), 2.7);
        assert_eq!(shortest_decimal(f64::from(14005.52f32)), 14005.52);
        assert_eq!(shortest_decimal(f64::from(-0.1f32)), -0.1);
    }

    #[test]
    fn passthrough_rows_follow_the_main_files_uids() {
        assert_eq!(rows_of(&[7, 3, 9], &[9, 3, 1, 7]), Ok(vec![3, 1, 0]));
        assert_eq!(rows_of(&[7, 4], &[7, 3]), Err((1, 4)));
    }
}
