//! Image formation without noise, as RELION models it (refine.md §1.1): the Fourier central
//! slice of the map at the pose (trilinear interpolation on a padding-2 transform with gridding
//! pre-correction, as relion_project), times the CTF, moved by −origin, back to real space.
//!
//! Images are in the map's units times pixels (line integrals through the map in pixel steps),
//! on the map's box and pixel size.

use cryoflux_kernels::fourier::ctf::{Ctf, CtfParams, CtfVariant};
use cryoflux_kernels::fourier::fft;
use cryoflux_kernels::fourier::projector::{Projector, ProjectorOptions};
use cryoflux_kernels::fourier::shift::shift;
use cryoflux_kernels::grid::{FourierImage, GridError, Image, Volume};

use cryoflux_jobkit::particles::Pose;

/// Makes noise-free particle images of one map.
#[derive(Debug, Clone)]
pub struct ImageFormer {
    projector: Projector,
}

impl ImageFormer {
    /// Prepares the map's padded 3D transform (padding 2, trilinear, gridding pre-correction).
    pub fn new(map: &Volume) -> Result<Self, GridError> {
        Ok(Self {
            projector: Projector::new(map, &ProjectorOptions::default())?,
        })
    }

    /// Box size of the images (pixels), the map's.
    pub fn box_size(&self) -> usize {
        self.projector.geometry().ori_size
    }

    /// Pixel size of the images (Å), the map's.
    pub fn pixel_size(&self) -> f64 {
        self.projector.geometry().pixel_size
    }

    /// The centred transform of the projection at `pose`'s orientation, multiplied by the CTF
    /// when one is given (origin not applied yet).
    pub fn centred_transform(
        &self,
        pose: &Pose,
        ctf: Option<&CtfParams>,
    ) -> Result<FourierImage, GridError> {
        let n = self.box_size();
        let mut f = self.projector.project(&pose.matrix(), n)?;
        if let Some(params) = ctf {
            let ctf = Ctf::new(*params)?.image(n, self.pixel_size(), CtfVariant::default())?;
            for (v, c) in f.data_mut().iter_mut().zip(ctf.data()) {
                *v *= *c;
            }
        }
        Ok(f)
    }

    /// The observed noise-free image: [`centred_transform`](Self::centred_transform) moved by
    /// −origin and inverse transformed.
    pub fn image(&self, pose: &Pose, ctf: Option<&CtfParams>) -> Result<Image, GridError> {
        let mut f = self.centred_transform(pose, ctf)?;
        shift(&mut f, [-pose.origin[0], -pose.origin[1]]);
        Ok(fft::inverse(&f))
    }
}

/// Variance over the whole box of the real image whose centred transform is `f` (RELION
/// scaling), by Parseval: Σ over the full Fourier plane without the DC term of |F(k)|². Moving
/// the image (a phase ramp) does not change it.
pub fn variance_of_transform(f: &FourierImage) -> f64 {
    let n = f.n();
    f.data()
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let [kx, ky, _] = f.frequency(i);
            // Columns kx = 0 and kx = n/2 hold their own conjugates; the others stand for two.
            let weight = if kx == 0 || kx as usize == n / 2 {
                1.0
            } else {
                2.0
            };
            if kx == 0 && ky == 0 {
                0.0
            } else {
                weight * v.norm_sqr() as f64
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryoflux_kernels::geometry::euler::EulerAngles;

    fn blob_map() -> Volume {
        Volume::from_fn(16, 2.0, |[x, y, z]| {
            let r2 = (x - 2.0).powi(2) + (y + 1.0).powi(2) + z * z;
            (-r2 / 4.0).exp() as f32
        })
        .unwrap()
    }

    #[test]
    fn origin_moves_the_image_content_by_minus_origin() {
        let former = ImageFormer::new(&blob_map()).unwrap();
        let pose = Pose::default();
        let centred = former.image(&pose, None).unwrap();
        let moved = former
            .image(
                &Pose {
                    origin: [4.0, -6.0],
                    ..pose
                },
                None,
            )
            .unwrap();
        // Origin (4, −6) Å = (2, −3) pixels: content moves by (−2, +3) pixels.
        for y in 3..13 {
            for x in 3..13 {
                let a = moved.get(x - 2, y + 3).unwrap();
                let b = centred.get(x, y).unwrap();
                assert!((a - b).abs() < 1e-4, "{x} {y}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn parseval_variance_matches_the_real_image() {
        let former = ImageFormer::new(&blob_map()).unwrap();
        let pose = Pose {
            angles: EulerAngles::new(30.0, 60.0, -20.0),
            origin: [1.3, -0.7],
        };
        let ctf = CtfParams {
            voltage_kv: 300.0,
            cs_mm: 2.7,
            amplitude_contrast: 0.1,
            defocus_u: 12_000.0,
            defocus_v: 11_000.0,
            ..CtfParams::default()
        };
        let f = former.centred_transform(&pose, Some(&ctf)).unwrap();
        let img = former.image(&pose, Some(&ctf)).unwrap();
        let n = img.data().len() as f64;
        let mean = img.sum() / n;
        let var = img
            .data()
            .iter()
            .map(|&v| (v as f64 - mean).powi(2))
            .sum::<f64>()
            / n;
        let parseval = variance_of_transform(&f);
        assert!(var > 0.0);
        assert!((parseval - var).abs() < 1e-3 * var, "{parseval} vs {var}");
    }
}
