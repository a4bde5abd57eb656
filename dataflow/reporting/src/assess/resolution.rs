//! Resolution from the Fourier shell correlation of two maps on disc: a refined map against the
//! truth, or the two unfiltered half maps (gold standard).
//!
//! The FSC is computed over the whole box without a mask, on the maps as written (for RELION and
//! cryoflux alike), so it is comparable between programs but, like RELION's unmasked
//! `rlnGoldStandardFsc`, somewhat pessimistic next to a masked post-processing FSC.

use std::path::Path;

use anyhow::bail;
use cryoflux_kernels::grid::Volume;
use cryoflux_kernels::resolution::fsc::{fsc_real, resolution_shell, shell_to_angstrom};

use cryoflux_jobkit::maps::read_map;

/// Resolutions (Å) where an FSC curve first drops below the usual thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct FscResolution {
    /// Resolution at FSC 0.5 in Å (the criterion for a map against a noise-free truth).
    pub at_0_5: f64,
    /// Resolution at FSC 0.143 in Å (the criterion between independent half maps).
    pub at_0_143: f64,
    /// Nyquist resolution (2 × pixel size) in Å: the best either can be.
    pub nyquist: f64,
    /// The FSC per shell 0 … N/2.
    pub curve: Vec<f64>,
}

/// The FSC between the maps at `a` and `b` (see [`read_pair`]).
pub fn map_fsc(a: &Path, b: &Path) -> anyhow::Result<FscResolution> {
    let (x, y) = read_pair(a, b)?;
    fsc_resolution(&x, &y)
}

/// The maps at `a` and `b`, which must share box and pixel size (relative difference below
/// 10⁻³).
pub fn read_pair(a: &Path, b: &Path) -> anyhow::Result<(Volume, Volume)> {
    let (x, y) = (read_map(a, None)?, read_map(b, None)?);
    if x.n() != y.n() {
        bail!(
            "{} has box {} but {} has box {}; expected maps of the same box",
            a.display(),
            x.n(),
            b.display(),
            y.n()
        );
    }
    let (p, q) = (x.pixel_size(), y.pixel_size());
    if (p - q).abs() > 1e-3 * p.max(q) {
        bail!(
            "{} has {p} Å/pixel but {} has {q} Å/pixel; expected the same pixel size",
            a.display(),
            b.display()
        );
    }
    Ok((x, y))
}

/// The FSC between two maps of the same box and its resolutions (pixel size of `x`).
pub fn fsc_resolution(x: &Volume, y: &Volume) -> anyhow::Result<FscResolution> {
    let curve = fsc_real(x, y)?;
    let p = x.pixel_size();
    let at = |threshold| shell_to_angstrom(resolution_shell(&curve, threshold), x.n(), p);
    Ok(FscResolution {
        at_0_5: at(0.5),
        at_0_143: at(0.143),
        nyquist: 2.0 * p,
        curve,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryoflux_jobkit::maps::{Grids, write_grids};

    fn write(dir: &Path, name: &str, map: Volume) -> std::path::PathBuf {
        let path = dir.join(name);
        write_grids(&path, &Grids::Volume(map)).unwrap();
        path
    }

    #[test]
    fn identical_maps_reach_nyquist_and_mismatches_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let blob = |p: f64| {
            Volume::from_fn(16, p, |[x, y, z]| {
                (-(x * x + 2.0 * y * y + z * z) / 6.0).exp() as f32
            })
            .unwrap()
        };
        let a = write(dir.path(), "a.mrc", blob(2.0));
        let same = map_fsc(&a, &a).unwrap();
        assert_eq!((same.at_0_5, same.at_0_143, same.nyquist), (4.0, 4.0, 4.0));
        assert_eq!(same.curve.len(), 9);
        let other_pixel = write(dir.path(), "b.mrc", blob(2.5));
        let err = map_fsc(&a, &other_pixel).unwrap_err().to_string();
        assert!(err.contains("pixel size"), "{err}");
        let small = write(dir.path(), "c.mrc", Volume::zeros(8, 2.0).unwrap());
        let err = map_fsc(&a, &small).unwrap_err().to_string();
        assert!(err.contains("box 16") && err.contains("box 8"), "{err}");
    }
}
