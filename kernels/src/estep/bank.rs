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
use crate::grid::FourierImage;
use crate::projector::Projector;

/// Projects slices of one projector onto the first pixels of a window: the reusable scratch
/// of [`Projector::project_into`] at the window size plus the gather indices.
pub(super) struct SliceProjector<'a> {
    projector: &'a Projector,
    gather: Vec<usize>,
    scratch: FourierImage,
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
            projector.ori_size(),
        )?;
        let pixel = projector.pixel_size() * window.ori_size() as f64 / size as f64;
        Ok(Self {
            projector,
            gather: window.half_indices(size)?,
            scratch: FourierImage::zeros(size, pixel)?,
        })
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
        self.projector.project_into(a, &mut self.scratch);
        let values = self.scratch.data();
        for (i, ((re, im), &j)) in re
            .iter_mut()
            .zip(im.iter_mut())
            .zip(&self.gather)
            .enumerate()
        {
            let f = factor.map_or(1.0, |f| f[i]);
            *re = values[j].re * f;
            *im = values[j].im * f;
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
    use crate::euler::euler_to_matrix;

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
        for (i, &[kx, ky]) in window.pixels()[..re.len()].iter().enumerate() {
            let v = fresh.value_at(kx as i64, ky as i64, 0).unwrap();
            assert_eq!((re[i], im[i]), (v.re, v.im));
        }
        assert!(bank.slice(2).is_none());
        assert!(ProjectionBank::new(&projector, &window, 26, rotations).is_err());
    }
}
