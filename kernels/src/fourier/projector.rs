//! Central-slice projection of a reference volume in Fourier space (refine.md §0.3, §2.1).
//!
//! Building: the map is (optionally) divided by the gridding pre-correction sinc²(|x|/(pN))
//! (sinc for nearest neighbour), zero-padded to pN with its origin at pN/2, transformed (RELION
//! scaling, centred) and multiplied by pad³·N, so that a central slice equals the 2D transform
//! of the line-integral projection of the N box. Only |k| ≤ pad·r_max is kept.
//! Projecting: output pixel (kx, ky) of the 2D half array reads the 3D grid at
//! pad·(kx·a0 + ky·a1), a0 and a1 the first two rows of RELION's matrix A, i.e. the projection
//! image(x, y) = ∫ V(Aᵀ·(x, y, z)) dz.

use crate::fourier::fft;
use crate::fourier::padded::PaddedGeometry;
use crate::grid::{
    CentredGrid, Complex32, FourierImage, GridError, Interpolation, Volume, check_box, half_width,
    wrapped_to_logical,
};
use glam::DMat3;

/// How a [`Projector`] is built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProjectorOptions {
    /// Padding factor (RELION `--pad`, default 2): the map is zero-padded to `padding·N`.
    pub padding: usize,
    /// Largest frequency kept, in shells of the unpadded box (default and maximum N/2).
    pub r_max: Option<usize>,
    /// Interpolation used by [`Projector::project`] (and the matching gridding correction).
    pub interpolation: Interpolation,
    /// Divide the map by sinc² (trilinear) or sinc (nearest neighbour) before transforming.
    pub gridding_correction: bool,
}

impl Default for ProjectorOptions {
    /// RELION's refine defaults: padding 2, Nyquist, trilinear, with gridding pre-correction.
    fn default() -> Self {
        Self {
            padding: 2,
            r_max: None,
            interpolation: Interpolation::Trilinear,
            gridding_correction: true,
        }
    }
}

/// A reference volume's padded, centred 3D transform, ready for slice extraction.
#[derive(Debug, Clone)]
pub struct Projector {
    geometry: PaddedGeometry,
    grid: CentredGrid<Complex32>,
}

/// Real-space gridding correction factor at distance `r` pixels in a padded box `padded`:
/// sinc²(r/padded) for trilinear, sinc(r/padded) for nearest neighbour (sinc(x) = sin(πx)/(πx)).
pub fn gridding_factor(r: f64, padded: usize, interpolation: Interpolation) -> f64 {
    let x = r / padded as f64;
    let sinc = if x == 0.0 {
        1.0
    } else {
        (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
    };
    match interpolation {
        Interpolation::Trilinear => sinc * sinc,
        Interpolation::NearestNeighbour => sinc,
    }
}

impl Projector {
    /// Builds the projector of `volume` (box N, pixel size Å) with `options`.
    pub fn new(volume: &Volume, options: &ProjectorOptions) -> Result<Self, GridError> {
        let n = volume.n();
        let geometry = PaddedGeometry::new(
            n,
            volume.pixel_size(),
            options.padding,
            options.r_max,
            options.interpolation,
        )?;
        let (pad, r_max) = (geometry.padding, geometry.r_max);
        let padded_n = pad * n;
        let mut padded = Volume::zeros(padded_n, volume.pixel_size())?;
        let offset = (padded_n - n) / 2;
        for (i, &v) in volume.data().iter().enumerate() {
            let [x, y, z] = Volume::logical_of(n, i);
            let corrected = if options.gridding_correction {
                let r = ((x * x + y * y + z * z) as f64).sqrt();
                v as f64 / gridding_factor(r, padded_n, options.interpolation)
            } else {
                v as f64
            };
            let at = |c: i64| (c + (n / 2) as i64) as usize + offset;
            padded.data_mut()[(at(z) * padded_n + at(y)) * padded_n + at(x)] = corrected as f32;
        }
        let transform = fft::forward(&padded);
        let radius = pad * r_max;
        let scale = (pad.pow(3) * n) as f32;
        let mut grid = CentredGrid::zeros(radius);
        let r2 = (radius * radius) as i64;
        for (i, v) in transform.data().iter().enumerate() {
            let [kx, ky, kz] = transform.frequency(i);
            if kx * kx + ky * ky + kz * kz <= r2
                && let Some(j) = grid.index_of(kx, ky, kz)
            {
                grid.data_mut()[j] = *v * scale;
            }
        }
        Ok(Self { geometry, grid })
    }

    /// The volume's box (N, pixels) and pixel size (Å), the padding factor, the largest kept
    /// frequency (shells of the unpadded box) and the interpolation used by
    /// [`project`](Self::project).
    pub fn geometry(&self) -> &PaddedGeometry {
        &self.geometry
    }

    /// The padded, centred 3D transform (frequencies in padded voxels).
    pub fn grid(&self) -> &CentredGrid<Complex32> {
        &self.grid
    }

    /// The 2D transform of the projection along pose `a` (RELION's matrix A), on a half array
    /// of box `out_size` (even) whose integer frequencies are those of the N box; its pixel size
    /// is p·N/out_size. Frequencies beyond min(r_max, out_size/2) are zero.
    pub fn project(&self, a: &DMat3, out_size: usize) -> Result<FourierImage, GridError> {
        check_box("projection size", out_size)?;
        let g = &self.geometry;
        let pixel = g.pixel_size * g.ori_size as f64 / out_size as f64;
        let mut out = FourierImage::zeros(out_size, pixel)?;
        self.project_into(a, &mut out);
        Ok(out)
    }

    /// As [`project`](Self::project), writing into an existing half array (any even box).
    pub fn project_into(&self, a: &DMat3, out: &mut FourierImage) {
        let n = out.n();
        let h = half_width(n);
        let g = &self.geometry;
        let r_out = g.r_max.min(n / 2) as i64;
        let pad = g.padding as f64;
        let (a0, a1) = (a.row(0) * pad, a.row(1) * pad);
        for (row, values) in out.data_mut().chunks_mut(h).enumerate() {
            let ky = wrapped_to_logical(row, n);
            for (kx, v) in values.iter_mut().enumerate() {
                let kx = kx as i64;
                *v = if kx * kx + ky * ky > r_out * r_out {
                    Complex32::default()
                } else {
                    let q = a0 * kx as f64 + a1 * ky as f64;
                    self.grid.interpolate(q.to_array(), g.interpolation)
                };
            }
        }
    }
}
