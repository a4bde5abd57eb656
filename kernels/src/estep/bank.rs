//! Central slices on the window pixels, projected on the fly or precomputed once per iteration
//! for a fixed list of rotations ([`ProjectionBank`]).
//!
//! In a global search every particle of a half set evaluates the same coarse orientations, so
//! their slices (raw projections, without CTF: those are particle-independent) can be made
//! once per iteration and read by all particles: the pass-1 cost then is the squared
//! differences alone. The bank stores the slices at a window size s as split-complex f32
//! arrays on the first [`FourierWindow::len_for`]`(s)` window pixels; since smaller windows
//! are prefixes, one bank serves every request of size ≤ s. Memory: rotations × pixels × 8
//! bytes (4 608 orientations at 7.5°, coarse size 26: ≈ 10 MB). Building it is the one place
//! in this module that uses rayon (slices are independent; the result does not depend on the
//! thread count); it happens once per iteration, outside the per-particle loop.

use glam::DMat3;
use rayon::prelude::*;

use super::{EstepError, FourierWindow, OrientationPlan};
use crate::fourier::projector::Projector;
use crate::grid::{Complex32, FourierImage, Interpolation};

/// Projects slices of one projector onto the first pixels of a window.
///
/// Trilinear projectors (RELION's default) are read directly: pixels are visited in scan
/// order (ky, then kx) so that neighbouring pixels read neighbouring grid cells, positions
/// are computed in f64 and the interpolation is done in f32, with the same neighbours and
/// weights as [`Projector::project_into`] (values agree to f32 rounding). Other
/// interpolations go through [`Projector::project_into`] at the window size and a gather.
pub(super) struct SliceProjector<'a> {
    projector: &'a Projector,
    mode: Mode,
}

enum Mode {
    /// Window index and frequency of every pixel within the projector's r_max, in scan order;
    /// whether some window pixels lie beyond r_max (they stay 0).
    Direct {
        scan: Vec<(u32, [f64; 2])>,
        truncated: bool,
    },
    /// Half-array index of every window pixel and the scratch slice at the window size.
    Gather {
        gather: Vec<usize>,
        scratch: FourierImage,
    },
}

impl<'a> SliceProjector<'a> {
    /// For the window pixels of `size` (even, ≤ the window's current size).
    pub(super) fn new(
        projector: &'a Projector,
        window: &FourierWindow,
        size: usize,
    ) -> Result<Self, EstepError> {
        crate::grid::check_same_box(
            "projector box vs window box",
            window.ori_size(),
            projector.geometry().ori_size,
        )?;
        let len = window.len_for(size)?;
        let mode = match projector.geometry().interpolation {
            Interpolation::Trilinear => {
                let r_max = projector.geometry().r_max as i32;
                let mut scan: Vec<(u32, [f64; 2])> = window.pixels()[..len]
                    .iter()
                    .enumerate()
                    .filter(|(_, [kx, ky])| kx * kx + ky * ky <= r_max * r_max)
                    .map(|(i, &[kx, ky])| (i as u32, [kx as f64, ky as f64]))
                    .collect();
                scan.sort_by(|a, b| {
                    (a.1[1], a.1[0])
                        .partial_cmp(&(b.1[1], b.1[0]))
                        .unwrap_or(std::cmp::Ordering::Equal)
                });
                Mode::Direct {
                    truncated: scan.len() < len,
                    scan,
                }
            }
            Interpolation::NearestNeighbour => {
                let pixel =
                    projector.geometry().pixel_size * window.ori_size() as f64 / size as f64;
                Mode::Gather {
                    gather: window.half_indices(size)?,
                    scratch: FourierImage::zeros(size, pixel)?,
                }
            }
        };
        Ok(Self { projector, mode })
    }

    /// Writes the slice at rotation `a` times `factor` (per pixel) into (`re`, `im`); all
    /// four slices have the window length of this projector.
    pub(super) fn project(
        &mut self,
        a: &DMat3,
        factor: Option<&[f32]>,
        re: &mut [f32],
        im: &mut [f32],
    ) {
        let f = |i: usize| factor.map_or(1.0, |f| f[i]);
        match &mut self.mode {
            Mode::Gather { gather, scratch } => {
                self.projector.project_into(a, scratch);
                let values = scratch.data();
                for (i, ((re, im), &j)) in re
                    .iter_mut()
                    .zip(im.iter_mut())
                    .zip(gather.iter())
                    .enumerate()
                {
                    *re = values[j].re * f(i);
                    *im = values[j].im * f(i);
                }
            }
            Mode::Direct { scan, truncated } => {
                if *truncated {
                    re.fill(0.0);
                    im.fill(0.0);
                }
                let grid = self.projector.grid();
                let (nx, ny) = grid.dims();
                let plane = nx * ny;
                let offset = grid.radius() as f64 + 1.0;
                let d = grid.data();
                let pad = self.projector.geometry().padding as f64;
                let (a0, a1) = (a.row(0) * pad, a.row(1) * pad);
                let lerp = |a: Complex32, b: Complex32, t: f32| a * (1.0 - t) + b * t;
                for &(i, [kx, ky]) in scan.iter() {
                    let q = a0 * kx + a1 * ky;
                    let (q, conjugate) = if q.x < 0.0 { (-q, true) } else { (q, false) };
                    // All three coordinates are ≥ 0 here (x after the Friedel flip, y and z
                    // after the offset R + 1 > |q|), so truncation is the floor.
                    let (x, y, z) = (q.x, q.y + offset, q.z + offset);
                    let (x0, y0, z0) = (x as usize, y as usize, z as usize);
                    let fx = (x - x0 as f64) as f32;
                    let fy = (y - y0 as f64) as f32;
                    let fz = (z - z0 as f64) as f32;
                    let c = (z0 * ny + y0) * nx + x0;
                    let at = |c: usize| {
                        lerp(
                            lerp(d[c], d[c + 1], fx),
                            lerp(d[c + nx], d[c + nx + 1], fx),
                            fy,
                        )
                    };
                    let v = lerp(at(c), at(c + plane), fz);
                    let v = if conjugate { v.conj() } else { v };
                    let i = i as usize;
                    re[i] = v.re * f(i);
                    im[i] = v.im * f(i);
                }
            }
        }
    }
}

/// Precomputed central slices; see the module doc.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionBank {
    ori_size: usize,
    size: usize,
    pixels: usize,
    rotations: Vec<DMat3>,
    re: Vec<f32>,
    im: Vec<f32>,
}

impl ProjectionBank {
    /// The slices of `projector` at `rotations` on the window pixels of `size` (even, ≤ the
    /// window's current size).
    pub fn new(
        projector: &Projector,
        window: &FourierWindow,
        size: usize,
        rotations: Vec<DMat3>,
    ) -> Result<Self, EstepError> {
        SliceProjector::new(projector, window, size)?;
        let pixels = window.len_for(size)?;
        let (mut re, mut im) = (
            vec![0.0; rotations.len() * pixels],
            vec![0.0; rotations.len() * pixels],
        );
        if pixels > 0 {
            re.par_chunks_mut(pixels)
                .zip(im.par_chunks_mut(pixels))
                .zip(&rotations)
                .try_for_each_init(
                    || SliceProjector::new(projector, window, size),
                    |slicer, ((re, im), a)| -> Result<(), EstepError> {
                        slicer
                            .as_mut()
                            .map_err(|e| e.clone())?
                            .project(a, None, re, im);
                        Ok(())
                    },
                )?;
        }
        Ok(Self {
            ori_size: window.ori_size(),
            size,
            pixels,
            rotations,
            re,
            im,
        })
    }

    /// The slices of every coarse orientation of `plan` (index direction·n_psi + psi, as
    /// [`OrientationPlan::coarse_index`]) at window `size`.
    pub fn for_plan(
        projector: &Projector,
        window: &FourierWindow,
        size: usize,
        plan: &OrientationPlan<'_>,
    ) -> Result<Self, EstepError> {
        Self::new(projector, window, size, plan.coarse_matrices().to_vec())
    }

    /// Box size N of the particles the slices are for.
    pub fn ori_size(&self) -> usize {
        self.ori_size
    }

    /// Window size (pixels) the slices were made at.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Number of slices.
    pub fn len(&self) -> usize {
        self.rotations.len()
    }

    /// Whether the bank holds no slice.
    pub fn is_empty(&self) -> bool {
        self.rotations.is_empty()
    }

    /// Rotation of slice `i`.
    pub fn rotation(&self, i: usize) -> Option<&DMat3> {
        self.rotations.get(i)
    }

    /// Slice `i` (real parts, imaginary parts) on the window pixels of the bank's size.
    pub fn slice(&self, i: usize) -> Option<(&[f32], &[f32])> {
        (i < self.rotations.len()).then(|| {
            let r = i * self.pixels..(i + 1) * self.pixels;
            (&self.re[r.clone()], &self.im[r])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estep::testkit::{N, blob_projector};
    use crate::geometry::euler::euler_to_matrix;

    #[test]
    fn bank_slices_equal_fresh_projections() {
        let projector = blob_projector(1);
        let window = FourierWindow::new(N, 24).unwrap();
        let rotations = vec![
            euler_to_matrix(10.0, 20.0, 30.0),
            euler_to_matrix(-70.0, 100.0, 5.0),
        ];
        let bank = ProjectionBank::new(&projector, &window, 16, rotations.clone()).unwrap();
        assert_eq!((bank.len(), bank.size(), bank.ori_size()), (2, 16, N));
        let fresh = projector.project(&rotations[1], N).unwrap();
        let (re, im) = bank.slice(1).unwrap();
        assert_eq!(re.len(), window.len_for(16).unwrap());
        let peak = fresh.data().iter().map(|v| v.norm()).fold(0.0, f32::max);
        for (i, &[kx, ky]) in window.pixels()[..re.len()].iter().enumerate() {
            let v = fresh.value_at(kx as i64, ky as i64, 0).unwrap();
            let err = (v - Complex32::new(re[i], im[i])).norm();
            assert!(
                err <= 1e-6 * peak,
                "pixel {i} ({kx}, {ky}): {err} vs peak {peak}"
            );
        }
        assert!(bank.slice(2).is_none());
        // Nearest neighbour (gather path) and a projector limited below the window (zeros).
        let volume = crate::estep::testkit::blob_volume(N, crate::estep::testkit::PIXEL, 1);
        for (interpolation, r_max) in [
            (Interpolation::NearestNeighbour, None),
            (Interpolation::Trilinear, Some(5)),
        ] {
            let options = crate::fourier::projector::ProjectorOptions {
                interpolation,
                r_max,
                ..Default::default()
            };
            let other = Projector::new(&volume, &options).unwrap();
            let bank = ProjectionBank::new(&other, &window, 16, rotations.clone()).unwrap();
            let fresh = other.project(&rotations[0], N).unwrap();
            let (re, im) = bank.slice(0).unwrap();
            for (i, &[kx, ky]) in window.pixels()[..re.len()].iter().enumerate() {
                let v = fresh.value_at(kx as i64, ky as i64, 0).unwrap();
                assert!(
                    (v - Complex32::new(re[i], im[i])).norm() <= 1e-6 * peak,
                    "{interpolation:?} pixel {i}"
                );
            }
            assert!(
                r_max.is_none()
                    || re
                        .iter()
                        .skip(window.len_for(10).unwrap())
                        .all(|&v| v == 0.0)
            );
        }
        assert!(ProjectionBank::new(&projector, &window, 26, rotations).is_err());
    }
}
