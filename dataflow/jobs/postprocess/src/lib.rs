//! Post-processing of two refined half maps, like `relion_postprocess` (RELION 3.1): the
//! gold-standard FSC with the phase-randomisation mask correction ([`fsc_correction`]), the
//! resolution at FSC 0.143, and the sharpened average map ([`bfactor`]); then EMDB-ready outputs
//! ([`outputs`]): sharpened maps, a RELION-compatible STAR file, the FSC as EMDB XML, and FSC and
//! Guinier plots (drawn with [`cryoflux_jobkit::plots`]).
//!
//! Units: Å for resolutions and pixel sizes, Å² for B-factors, Fourier shells r = round(|k|)
//! (resolution n·p/r) for curves, which run over shells 0 … n/2.
//!
//! ```no_run
//! use cryoflux_postprocess::{HalfMaps, postprocess, settings::Settings};
//! # use cryoflux_kernels::grid::Volume;
//! # fn load() -> (Volume, Volume, Volume) { unimplemented!() }
//! # fn main() -> anyhow::Result<()> {
//! let (half1, half2, mask) = load(); // e.g. with postprocess::inputs
//! let maps = HalfMaps::new(half1, half2, Some(mask))?;
//! let result = postprocess(&maps, &Settings::default())?;
//! println!("{:.2} Å, B = {:.0} Å²", result.fsc.resolution, result.sharpened.bfactor);
//! # Ok(()) }
//! ```

pub mod bfactor;
pub mod fsc_correction;
pub mod inputs;
pub mod outputs;
pub mod settings;

use anyhow::{bail, ensure};
use cryoflux_jobkit::maps::same_pixel_size;
use cryoflux_kernels::grid::Volume;

use bfactor::{Sharpened, sharpen};
use fsc_correction::{FscAnalysis, analyse};
use settings::Settings;

/// How far a mask value may stray outside [0, 1] (RELION's tolerance).
const MASK_RANGE_TOLERANCE: f32 = 1e-6;

/// Two half maps of the same box and pixel size, and optionally a soft mask (values in [0, 1],
/// same box) carrying the half maps' pixel size.
#[derive(Debug, Clone, PartialEq)]
pub struct HalfMaps {
    half1: Volume,
    half2: Volume,
    mask: Option<Volume>,
}

impl HalfMaps {
    /// Checks the maps against each other (errors name "half map 1", "half map 2", "mask").
    pub fn new(half1: Volume, half2: Volume, mask: Option<Volume>) -> anyhow::Result<Self> {
        let (n, p) = (half1.n(), half1.pixel_size());
        ensure!(
            half2.n() == n,
            "half map 2 is {0}×{0}×{0} voxels but half map 1 is {n}×{n}×{n}: the half maps must \
             have the same box",
            half2.n()
        );
        ensure!(
            same_pixel_size(p, half2.pixel_size()),
            "half map 2 has {} Å/voxel but half map 1 has {p} Å/voxel: the half maps must have \
             the same pixel size",
            half2.pixel_size()
        );
        for (name, map) in [("half map 1", &half1), ("half map 2", &half2)] {
            let bad = map.data().iter().filter(|v| !v.is_finite()).count();
            ensure!(
                bad == 0,
                "{name} has {bad} non-finite voxels (NaN or infinite)"
            );
        }
        let mask = match mask {
            Some(mask) => Some(checked_mask(mask, n, p)?),
            None => None,
        };
        Ok(HalfMaps { half1, half2, mask })
    }

    /// The first half map.
    pub fn half1(&self) -> &Volume {
        &self.half1
    }

    /// The second half map.
    pub fn half2(&self) -> &Volume {
        &self.half2
    }

    /// The mask, if any.
    pub fn mask(&self) -> Option<&Volume> {
        self.mask.as_ref()
    }
}

fn checked_mask(mask: Volume, n: usize, p: f64) -> anyhow::Result<Volume> {
    ensure!(
        mask.n() == n,
        "the mask is {0}×{0}×{0} voxels but the half maps are {n}×{n}×{n}: the mask must have \
         the half maps' box",
        mask.n()
    );
    let outside = |m: &&f32| {
        !(m.is_finite() && **m >= -MASK_RANGE_TOLERANCE && **m <= 1.0 + MASK_RANGE_TOLERANCE)
    };
    let bad = mask.data().iter().filter(outside).count();
    if bad > 0 {
        let (lo, hi) = mask
            .data()
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &m| {
                (lo.min(m), hi.max(m))
            });
        bail!(
            "the mask has {bad} voxels outside [0, 1] (minimum {lo}, maximum {hi}): a soft mask \
             must run from 0 (solvent) to 1 (particle); make one with relion_mask_create"
        );
    }
    Ok(mask.with_pixel_size(p)?)
}

/// Everything a post-processing run computed.
#[derive(Debug, Clone, PartialEq)]
pub struct Postprocessed {
    /// FSC curves and the final resolution.
    pub fsc: FscAnalysis,
    /// The sharpened map, its Guinier plots and B-factor.
    pub sharpened: Sharpened,
    /// The sharpened map times the mask, when a mask was given.
    pub masked_map: Option<Volume>,
    /// Things the user should know (suspicious inputs, weak masks), one sentence each.
    pub warnings: Vec<String>,
}

/// Runs the whole post-processing of `maps` (see the module doc).
pub fn postprocess(maps: &HalfMaps, settings: &Settings) -> anyhow::Result<Postprocessed> {
    let mut warnings = Vec::new();
    if maps.half1.data() == maps.half2.data() {
        warnings.push(
            "the two half maps are identical: their FSC is 1 at every resolution, so the \
             resolution is meaningless; post-process two independently refined halves"
                .into(),
        );
    }
    let fsc = analyse(
        &maps.half1,
        &maps.half2,
        maps.mask.as_ref(),
        settings,
        &mut warnings,
    )?;
    let average = average(&maps.half1, &maps.half2)?;
    let sharpened = sharpen(
        &average,
        &fsc.final_curve,
        fsc.resolution,
        settings,
        &mut warnings,
    )?;
    let masked_map = maps.mask.as_ref().map(|mask| {
        let mut map = sharpened.map.clone();
        map.data_mut()
            .iter_mut()
            .zip(mask.data())
            .for_each(|(v, m)| *v *= m);
        map
    });
    Ok(Postprocessed {
        fsc,
        sharpened,
        masked_map,
        warnings,
    })
}

/// ½(half1 + half2).
fn average(half1: &Volume, half2: &Volume) -> anyhow::Result<Volume> {
    let data = half1
        .data()
        .iter()
        .zip(half2.data())
        .map(|(a, b)| 0.5 * (a + b))
        .collect();
    Ok(Volume::from_vec(half1.n(), half1.pixel_size(), data)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(n: usize, p: f64, value: f32) -> Volume {
        Volume::from_vec(n, p, vec![value; n * n * n]).unwrap()
    }

    #[test]
    fn mismatched_inputs_are_refused_with_reasons() {
        let a = filled(8, 1.5, 0.0);
        let err = HalfMaps::new(a.clone(), filled(10, 1.5, 0.0), None).unwrap_err();
        assert!(err.to_string().contains("same box"), "{err}");
        let err = HalfMaps::new(a.clone(), filled(8, 1.6, 0.0), None).unwrap_err();
        assert!(err.to_string().contains("same pixel size"), "{err}");
        let err = HalfMaps::new(a.clone(), a.clone(), Some(filled(6, 1.5, 1.0))).unwrap_err();
        assert!(err.to_string().contains("mask"), "{err}");
        let mut bad_mask = filled(8, 1.5, 0.5);
        bad_mask.data_mut()[3] = 1.2;
        bad_mask.data_mut()[4] = -0.1;
        let err = HalfMaps::new(a.clone(), a.clone(), Some(bad_mask)).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("2 voxels outside [0, 1]") && text.contains("1.2"),
            "{text}"
        );
        let mut nan = a.clone();
        nan.data_mut()[0] = f32::NAN;
        assert!(HalfMaps::new(nan, a.clone(), None).is_err());
        // A mask with another header pixel size takes the half maps' one.
        let maps = HalfMaps::new(a.clone(), a, Some(filled(8, 1.0, 1.0))).unwrap();
        assert_eq!(maps.mask().unwrap().pixel_size(), 1.5);
        assert!(same_pixel_size(1.5, 1.5004) && !same_pixel_size(1.5, 1.51));
    }
}
