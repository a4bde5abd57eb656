//! Soft solvent masks, like `relion_mask_create`.
//!
//! From a map: optionally low-pass filtered first (`--lowpass`), voxels ≥ `--ini_threshold` form
//! a binary mask, grown by `--extend_inimask` pixels (shrunk when negative), then given a
//! raised-cosine edge `--width_soft_edge` pixels wide outside it. Without a map (or with
//! `--sphere_radius`): a sphere of that radius in pixels with the same kind of edge outside it
//! (relion_mask_create `--denovo --outer_radius`). Values are in [0, 1].

use std::path::PathBuf;

use anyhow::{Context, bail};
use cryoflux_kernels::fourier::fft;
use cryoflux_kernels::fourier::filter::low_pass_angstrom;
use cryoflux_kernels::grid::Volume;
use cryoflux_kernels::mask::{mask_from_map, soft_sphere};

use cryoflux_jobkit::maps::{Grids, read_volume, write_grids};
use cryoflux_jobkit::memory::{ensure_available, float32_grid_bytes};

/// Edge width of the input low-pass filter in shells (RELION's default).
const LOWPASS_EDGE_SHELLS: f64 = 2.0;

/// The mask `cryoflux mask` makes (its flags).
#[derive(Debug, Clone, PartialEq)]
pub struct MaskSettings {
    /// Map to threshold (or whose box and pixel size a sphere mask takes).
    pub input: Option<PathBuf>,
    /// Output mask (MRC, float32, values in [0, 1]).
    pub output: PathBuf,
    /// Threshold of the initial binary mask (map units).
    pub ini_threshold: f64,
    /// Grow the binary mask by this many pixels (negative: shrink).
    pub extend_inimask: f64,
    /// Width in pixels of the raised-cosine soft edge added outside the binary mask.
    pub width_soft_edge: f64,
    /// Low-pass filter the map to this resolution in Å before thresholding.
    pub lowpass: Option<f64>,
    /// Pixel size in Å (overrides the map header; sets the sphere mask's header).
    pub angpix: Option<f64>,
    /// Make a soft sphere of this radius in pixels instead of thresholding a map.
    pub sphere_radius: Option<f64>,
    /// Box of the sphere mask in pixels when there is no --i map.
    pub box_size: Option<usize>,
    /// Invert the final mask (1 − mask).
    pub invert: bool,
}

/// Build the mask and write it atomically.
pub fn run(args: &MaskSettings) -> anyhow::Result<()> {
    let map = args
        .input
        .as_deref()
        .map(|path| read_volume(path, args.angpix))
        .transpose()?;
    let mut mask = match (args.sphere_radius, &map) {
        (Some(radius), _) => {
            let (n, pixel) = match (&map, args.box_size) {
                (Some(map), _) => (map.n(), map.pixel_size()),
                (None, Some(n)) => {
                    ensure_available(
                        &format!("a {n}³ float32 mask"),
                        float32_grid_bytes(n, 3, 1),
                        "choose a smaller --box",
                    )?;
                    (n, args.angpix.unwrap_or(1.0))
                }
                (None, None) => {
                    bail!("a sphere mask needs a box: give --box N (or a map with --i)")
                }
            };
            soft_sphere::<3>(n, pixel, radius, args.width_soft_edge)?
        }
        (None, Some(map)) => threshold_mask(map, args)?,
        (None, None) => bail!("give a map to threshold (--i) or a sphere radius (--sphere_radius)"),
    };
    if mask.data().iter().all(|&v| v <= 0.0) {
        bail!(
            "refusing to write an all-zero mask to {}: nothing is left inside it (check \
             --extend_inimask {} and --sphere_radius)",
            args.output.display(),
            args.extend_inimask
        );
    }
    if args.invert {
        mask.data_mut().iter_mut().for_each(|v| *v = 1.0 - *v);
    }
    let inside = mask.data().iter().filter(|&&v| v >= 0.5).count();
    write_grids(&args.output, &Grids::Volume(mask))
        .with_context(|| format!("cannot write the mask {}", args.output.display()))?;
    tracing::info!(
        "wrote mask {} ({inside} voxels ≥ 0.5)",
        args.output.display()
    );
    Ok(())
}

/// The thresholded, extended, soft-edged mask of `map` (low-pass filtered first if asked).
fn threshold_mask(map: &Volume, args: &MaskSettings) -> anyhow::Result<Volume> {
    let filtered;
    let source = match args.lowpass {
        Some(d) => {
            let mut f = fft::forward(map);
            low_pass_angstrom(&mut f, d, LOWPASS_EDGE_SHELLS)?;
            filtered = fft::inverse(&f);
            &filtered
        }
        None => map,
    };
    let max = source
        .data()
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    if max.is_nan() || f64::from(max) < args.ini_threshold {
        bail!(
            "refusing to write an all-zero mask to {}: no voxel of the map{} reaches \
             --ini_threshold {} (its maximum is {max}); choose a threshold below the maximum",
            args.output.display(),
            if args.lowpass.is_some() {
                " after --lowpass"
            } else {
                ""
            },
            args.ini_threshold
        );
    }
    Ok(mask_from_map(
        source,
        args.ini_threshold,
        args.extend_inimask,
        args.width_soft_edge,
    )?)
}
