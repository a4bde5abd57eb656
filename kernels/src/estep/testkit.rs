//! Fixtures shared by the E-step tests: a deterministic "random-ish" volume of Gaussian blobs
//! and particles simulated from it at known poses (projection, CTF, shift, white noise).

use glam::DMat3;

use super::{MaskFill, ParticleInput, ParticleMask};
use crate::fourier::ctf::{Ctf, CtfParams, CtfVariant};
use crate::fourier::fft;
use crate::fourier::projector::{Projector, ProjectorOptions};
use crate::grid::test_noise::uniform;
use crate::grid::{Image, Volume};
use crate::random::SplitMix64;

/// Box size (pixels) and pixel size (Å) of the test particles.
pub(crate) const N: usize = 32;
pub(crate) const PIXEL: f64 = 3.0;

/// A map of 24 Gaussian blobs (widths 1.2–2.4 px) inside a ball of radius n/4 pixels.
pub(crate) fn blob_volume(n: usize, pixel_size: f64, seed: u64) -> Volume {
    let u = uniform(seed, 24 * 5);
    let blobs: Vec<([f64; 3], f64, f64)> = u
        .chunks(5)
        .map(|c| {
            let centre = [c[0], c[1], c[2]].map(|v| v as f64 * n as f64 * 0.45);
            let r = centre.iter().map(|v| v * v).sum::<f64>().sqrt();
            let limit = n as f64 / 4.0;
            let centre = if r > limit {
                centre.map(|v| v * limit / r)
            } else {
                centre
            };
            (centre, 1.8 + 1.2 * c[3] as f64, 1.0 + c[4] as f64)
        })
        .collect();
    Volume::from_fn(n, pixel_size, |x| {
        blobs
            .iter()
            .map(|(c, s, a)| {
                let d2: f64 = (0..3).map(|i| (x[i] - c[i]).powi(2)).sum();
                a * (-d2 / (2.0 * s * s)).exp()
            })
            .sum::<f64>() as f32
    })
    .unwrap()
}

/// The projector of [`blob_volume`] with RELION's defaults (padding 2, trilinear).
pub(crate) fn blob_projector(seed: u64) -> Projector {
    Projector::new(&blob_volume(N, PIXEL, seed), &ProjectorOptions::default()).unwrap()
}

/// A 300 kV CTF with Cs 2.7 mm, 10 % amplitude contrast and the given defocus (Å).
pub(crate) fn test_ctf(defocus_angst: f64) -> Ctf {
    Ctf::new(CtfParams {
        voltage_kv: 300.0,
        cs_mm: 2.7,
        amplitude_contrast: 0.1,
        defocus_u: defocus_angst,
        defocus_v: defocus_angst * 0.95,
        defocus_angle_deg: 30.0,
        ..CtfParams::default()
    })
    .unwrap()
}

/// The image of pose `a` with origin `origin_px` (the observed image is the CTF-modulated
/// projection moved by −origin), plus white noise of real-space standard deviation
/// `noise_std` from `seed`.
pub(crate) fn simulate(
    projector: &Projector,
    a: &DMat3,
    origin_px: [f64; 2],
    ctf: Option<&Ctf>,
    noise_std: f64,
    seed: u64,
) -> Image {
    let n = projector.geometry().ori_size;
    let p = projector.geometry().pixel_size;
    let mut f = projector.project(a, n).unwrap();
    if let Some(c) = ctf {
        let img = c.image(n, p, CtfVariant::default()).unwrap();
        f.data_mut()
            .iter_mut()
            .zip(img.data())
            .for_each(|(v, &c)| *v *= c);
    }
    crate::fourier::shift::shift(&mut f, [-origin_px[0] * p, -origin_px[1] * p]);
    let mut image = fft::inverse(&f);
    let mut g = SplitMix64::new(seed);
    image
        .data_mut()
        .iter_mut()
        .for_each(|v| *v += (noise_std * g.next_normal()) as f32);
    image
}

/// σ²(r) of white noise of real-space standard deviation `std` in an n box: std²/(2n²).
pub(crate) fn white_sigma2(n: usize, std: f64) -> Vec<f64> {
    vec![std * std / (2.0 * (n * n) as f64); n / 2 + 1]
}

/// A particle input with a 12-pixel mask (3-pixel edge).
pub(crate) fn particle_input<'a>(
    image: &'a Image,
    sigma2: &'a [f64],
    ctf: Option<Ctf>,
    rounded_offset_px: [i64; 2],
    fill: MaskFill,
) -> ParticleInput<'a> {
    ParticleInput {
        image,
        rounded_offset_px,
        mask: ParticleMask {
            radius_px: 12.0,
            edge_px: 3.0,
            fill,
        },
        ctf,
        ctf_variant: CtfVariant::default(),
        sigma2,
        scale: 1.0,
    }
}

/// Real-space standard deviation of an image.
pub(crate) fn image_std(image: &Image) -> f64 {
    let n = image.data().len() as f64;
    let mean = image.sum() / n;
    (image
        .data()
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt()
}

/// A known pose on the fine grid: child `child` of coarse orientation `coarse`, and fine
/// translation `child_t` of coarse translation `coarse_t`.
pub(crate) struct Truth {
    pub rotation: DMat3,
    pub translation_angst: [f64; 2],
}

impl Truth {
    pub(crate) fn on_fine_grid(
        plan: &super::OrientationPlan<'_>,
        grid: &super::TranslationGrid,
        coarse: super::CoarseOrientation,
        child: usize,
        coarse_t: usize,
        child_t: usize,
    ) -> Self {
        Self {
            rotation: plan.fine_matrices(&coarse).unwrap()[child],
            translation_angst: grid.fine_angst(coarse_t).unwrap()[child_t],
        }
    }

    /// The particle origin in pixels for a given rounded previous offset.
    pub(crate) fn origin_px(&self, rounded_offset_px: [i64; 2]) -> [f64; 2] {
        [0, 1].map(|i| rounded_offset_px[i] as f64 + self.translation_angst[i] / PIXEL)
    }
}
