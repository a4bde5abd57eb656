//! The layout shared by a [`Projector`](super::projector::Projector) and a
//! [`BackProjector`](super::backprojector::BackProjector): the map's box and pixel size, how much
//! its Fourier grid is padded, how far in frequency it reaches, and how it is interpolated.

use crate::grid::{GridError, Interpolation, check_box};

/// Box, pixel size, padding, frequency limit and interpolation of a padded, centred 3D Fourier
/// grid built for a map of box N. The grid covers frequencies |k| ≤ `padding`·`r_max` in padded
/// voxels; frequency k (in shells of the N box) sits at `padding`·k on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaddedGeometry {
    /// Box size N (pixels, even) of the unpadded map.
    pub ori_size: usize,
    /// Pixel size (Å) of the unpadded map.
    pub pixel_size: f64,
    /// Padding factor (RELION `--pad`, ≥ 1): the grid is that of a `padding`·N box.
    pub padding: usize,
    /// Largest frequency on the grid, in shells of the unpadded box (≤ N/2).
    pub r_max: usize,
    /// Interpolation used to read (projector) or spread (backprojector) values on the grid,
    /// and hence for the gridding correction.
    pub interpolation: Interpolation,
}

impl PaddedGeometry {
    /// The geometry for box `ori_size` (N) and `pixel_size` Å with a padding factor and an
    /// optional frequency limit in shells (default and maximum N/2); checks box, padding and
    /// limit (not the pixel size).
    pub(crate) fn new(
        ori_size: usize,
        pixel_size: f64,
        padding: usize,
        r_max: Option<usize>,
        interpolation: Interpolation,
    ) -> Result<Self, GridError> {
        check_box("projector/backprojector box", ori_size)?;
        if padding == 0 {
            return Err(GridError::OutOfRange {
                what: "padding factor",
                value: 0.0,
                expected: "≥ 1",
            });
        }
        let r = r_max.unwrap_or(ori_size / 2);
        if r > ori_size / 2 {
            return Err(GridError::OutOfRange {
                what: "r_max (shells)",
                value: r as f64,
                expected: "≤ N/2",
            });
        }
        Ok(Self {
            ori_size,
            pixel_size,
            padding,
            r_max: r,
            interpolation,
        })
    }
}
