//! Reading what `cryoflux postprocess` needs from disk: the two half maps (the second one found
//! from the first's name as RELION does), the mask, and a detector MTF curve; every problem is
//! reported with the file it comes from.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cryoflux_formats::mrc::MrcFile;
use cryoflux_formats::star::StarFile;
use cryoflux_kernels::resolution::sharpening::Mtf;

use cryoflux_jobkit::maps::same_pixel_size;

use super::HalfMaps;
use cryoflux_jobkit::maps::read_map;

/// The other half map's path: the last "half1" in the file name becomes "half2" (or "half2"
/// becomes "half1"), as `relion_postprocess --i` derives it.
pub fn other_half(path: &Path) -> anyhow::Result<PathBuf> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{}: not a file name", path.display()))?;
    let swapped = [("half1", "half2"), ("half2", "half1")]
        .iter()
        .find_map(|(from, to)| {
            name.rfind(from)
                .map(|at| format!("{}{to}{}", &name[..at], &name[at + from.len()..]))
        });
    match swapped {
        Some(other) => Ok(path.with_file_name(other)),
        None => bail!(
            "{}: the file name contains neither \"half1\" nor \"half2\", so the other half map \
             cannot be found; give both with --half1 and --half2",
            path.display()
        ),
    }
}

/// The voxel size (Å) an MRC file's header gives (0 when unset).
fn header_pixel_size(path: &Path, what: &str) -> anyhow::Result<f64> {
    let mrc = MrcFile::open(path).with_context(|| format!("cannot read the {what}"))?;
    Ok(f64::from(mrc.voxel_size()[0]))
}

/// Reads and checks the half maps and the mask. The pixel size is `angpix` (Å) if given (a
/// warning says so when it overrides a different header value), else the half maps' header
/// value; warnings go onto `warnings`.
pub fn read_half_maps(
    half1: &Path,
    half2: &Path,
    mask: Option<&Path>,
    angpix: Option<f64>,
    warnings: &mut Vec<String>,
) -> anyhow::Result<HalfMaps> {
    let what = match mask {
        Some(m) => format!(
            "{}, {} with mask {}",
            half1.display(),
            half2.display(),
            m.display()
        ),
        None => format!("{} and {}", half1.display(), half2.display()),
    };
    let p1 = header_pixel_size(half1, "half map 1")?;
    let p2 = header_pixel_size(half2, "half map 2")?;
    if !same_pixel_size(p1, p2) {
        bail!(
            "{} has {p1} Å/voxel but {} has {p2} Å/voxel: the half maps must have the same \
             pixel size",
            half1.display(),
            half2.display()
        );
    }
    let pixel_size = match angpix {
        Some(p) => {
            if !same_pixel_size(p, p1) {
                warnings.push(format!(
                    "using --angpix {p} Å instead of the half maps' header value {p1} Å"
                ));
            }
            p
        }
        None if p1 > 0.0 => p1,
        None => bail!(
            "{}: the header gives no pixel size ({p1} Å); give it with --angpix",
            half1.display()
        ),
    };
    let mask = match mask {
        Some(path) => {
            let p = header_pixel_size(path, "mask")?;
            if p > 0.0 && !same_pixel_size(p, pixel_size) {
                warnings.push(format!(
                    "{}: the mask's header says {p} Å/voxel, the half maps {pixel_size} Å/voxel; \
                     using the mask as it is, voxel for voxel",
                    path.display()
                ));
            }
            Some(read_map(path, Some(pixel_size))?)
        }
        None => None,
    };
    let (map1, map2) = (
        read_map(half1, Some(pixel_size))?,
        read_map(half2, Some(pixel_size))?,
    );
    HalfMaps::new(map1, map2, mask).with_context(|| format!("cannot post-process {what}"))
}

/// Reads a detector MTF from a STAR file (columns rlnResolutionInversePixel, in 1/pixel of the
/// detector, and rlnMtfValue), converting frequencies to Å⁻¹ with the detector pixel size
/// `detector_pixel` (Å).
pub fn read_mtf(path: &Path, detector_pixel: f64) -> anyhow::Result<Mtf> {
    const FREQUENCY: &str = "rlnResolutionInversePixel";
    const VALUE: &str = "rlnMtfValue";
    let star = StarFile::read(path).context("cannot read the MTF file")?;
    let table = star
        .blocks
        .iter()
        .filter_map(|b| b.table.as_ref())
        .find(|t| t.floats(FREQUENCY).is_some() && t.floats(VALUE).is_some())
        .with_context(|| {
            format!(
                "{}: no table with numeric columns {FREQUENCY} and {VALUE}",
                path.display()
            )
        })?;
    let frequency = table
        .floats(FREQUENCY)
        .unwrap_or_default()
        .iter()
        .map(|f| f / detector_pixel)
        .collect();
    let value = table.floats(VALUE).unwrap_or_default().to_vec();
    Mtf::new(frequency, value).with_context(|| format!("{}: unusable MTF curve", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_other_half_is_found_like_relion_does() {
        let other = other_half(Path::new("Refine3D/job001/run_half1_class001_unfil.mrc"));
        assert_eq!(
            other.unwrap(),
            Path::new("Refine3D/job001/run_half2_class001_unfil.mrc")
        );
        let back = other_half(Path::new("half1/run_half2.mrc")).unwrap();
        assert_eq!(back, Path::new("half1/run_half1.mrc"));
        let err = other_half(Path::new("half1/map.mrc")).unwrap_err();
        assert!(err.to_string().contains("--half1"), "{err}");
    }

    #[test]
    fn mtf_frequencies_are_converted_to_inverse_angstrom() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mtf.star");
        std::fs::write(
            &path,
            "data_\nloop_\n_rlnResolutionInversePixel\n_rlnMtfValue\n0.0 1.0\n0.25 0.6\n0.5 0.3\n",
        )
        .unwrap();
        let mtf = read_mtf(&path, 0.5).unwrap();
        // 0.25 / pixel of 0.5 Å is 0.5 Å⁻¹.
        assert!((mtf.at(0.5) - 0.6).abs() < 1e-12 && (mtf.at(0.75) - 0.45).abs() < 1e-12);
        std::fs::write(&path, "data_\nloop_\n_rlnMtfValue\n1.0\n").unwrap();
        let err = read_mtf(&path, 1.0).unwrap_err();
        assert!(
            format!("{err:#}").contains("rlnResolutionInversePixel"),
            "{err:#}"
        );
    }
}
