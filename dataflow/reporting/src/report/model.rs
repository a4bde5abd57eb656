//! What the report takes from a `*_model.star` file (RELION 3.1 layout, refine.md §8.4): the
//! current resolution, pixel size and box from `data_model_general`, and the gold-standard FSC
//! per Fourier shell from `data_model_class_1`.

use std::path::Path;

use anyhow::{Context, anyhow};
use cryoflux_formats::star::{DataBlock, StarFile, Value};

/// The gold-standard FSC of the two half maps per Fourier shell.
#[derive(Debug, Clone, PartialEq)]
pub struct FscCurve {
    /// Spatial frequency of each shell, Å⁻¹ (rlnResolution).
    pub frequency: Vec<f64>,
    /// FSC of each shell (rlnGoldStandardFsc).
    pub fsc: Vec<f64>,
}

/// The model-file values one iteration contributes to the report.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelStats {
    /// rlnCurrentResolution, Å (infinite before the first iteration in RELION's it000 file).
    pub resolution_angst: f64,
    /// rlnPixelSize, Å per pixel.
    pub pixel_size: Option<f64>,
    /// rlnOriginalImageSize: the particle box side, pixels.
    pub box_size: Option<i64>,
    /// The FSC table, when the file has one.
    pub fsc: Option<FscCurve>,
}

impl ModelStats {
    /// Reads `path`; errors name the file and the missing block or item.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let star = StarFile::read(path).context("cannot read the model file")?;
        let general = star
            .block("model_general")
            .ok_or_else(|| anyhow!("{}: no data_model_general block", path.display()))?;
        let resolution_angst = number(general, "rlnCurrentResolution").ok_or_else(|| {
            anyhow!(
                "{}: data_model_general has no numeric rlnCurrentResolution",
                path.display()
            )
        })?;
        let fsc = star
            .block("model_class_1")
            .and_then(|b| b.table.as_ref())
            .and_then(|t| {
                Some(FscCurve {
                    frequency: t.floats("rlnResolution")?.to_vec(),
                    fsc: t.floats("rlnGoldStandardFsc")?.to_vec(),
                })
            });
        Ok(Self {
            resolution_angst,
            pixel_size: number(general, "rlnPixelSize"),
            box_size: match general.pair("rlnOriginalImageSize") {
                Some(Value::Int(n)) => Some(*n),
                _ => None,
            },
            fsc,
        })
    }
}

/// A key–value item of `block` as a number (integers widened).
pub fn number(block: &DataBlock, label: &str) -> Option<f64> {
    match block.pair(label)? {
        Value::Float(x) => Some(*x),
        Value::Int(n) => Some(*n as f64),
        Value::Text(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: &str = "
data_model_general

_rlnOriginalImageSize 48
_rlnCurrentResolution 10.8
_rlnPixelSize 1.8

data_model_class_1

loop_
_rlnSpectralIndex #1
_rlnResolution #2
_rlnGoldStandardFsc #3
0 0.0 1.0
1 0.011574 0.98
";

    #[test]
    fn reads_resolution_geometry_and_fsc() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run_it001_half1_model.star");
        std::fs::write(&path, MODEL).unwrap();
        let stats = ModelStats::read(&path).unwrap();
        assert_eq!(stats.resolution_angst, 10.8);
        assert_eq!((stats.pixel_size, stats.box_size), (Some(1.8), Some(48)));
        let fsc = stats.fsc.unwrap();
        assert_eq!(fsc.frequency, vec![0.0, 0.011574]);
        assert_eq!(fsc.fsc, vec![1.0, 0.98]);
    }

    #[test]
    fn a_model_without_resolution_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad_model.star");
        std::fs::write(&path, "data_model_general\n_rlnPixelSize 1.8\n").unwrap();
        let message = ModelStats::read(&path).unwrap_err().to_string();
        assert!(
            message.contains("bad_model.star") && message.contains("rlnCurrentResolution"),
            "{message}"
        );
    }
}
