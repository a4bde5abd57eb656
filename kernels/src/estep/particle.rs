//! One particle image prepared for scoring (refine.md §1.2): pre-shifted by its rounded old
//! offset, masked for alignment, transformed, and gathered onto the [`FourierWindow`].
//!
//! Steps: (1) move the image by the rounded previous offset o_round (whole pixels, no
//! wrap-around, zero fill), so that sampled translations are relative to it; (2) keep its
//! transform *unmasked* (what gets backprojected); (3) apply the soft circular alignment mask
//! (radius and raised-cosine edge in pixels, edge outside the radius) filling the outside with
//! the mean of the outside ([`MaskFill::Mean`], RELION `--zero_mask`) or with Gaussian noise of
//! the group's spectrum σ² ([`MaskFill::Noise`], RELION's default); (4) transform, and gather
//! the window pixels of both images, the CTF (evaluated on the N-box frequency grid), 1/σ² per
//! pixel, and the per-shell power of the masked image beyond the window.

use super::{EstepError, FourierWindow};
use crate::fourier::ctf::{Ctf, CtfVariant};
use crate::fourier::fft;
use crate::grid::{FourierImage, Image};
use crate::mask::{soft_mask_outside, soft_sphere};
use crate::random::SplitMix64;

/// What replaces the image outside the alignment mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskFill {
    /// The (1 − mask)-weighted mean of the outside (RELION `--zero_mask`: ≈ 0 for normalised
    /// images).
    Mean,
    /// Gaussian noise with the particle's noise spectrum σ²(r) (RELION's default), from a
    /// SplitMix64/Box–Muller stream of this seed (use e.g. the particle's index).
    Noise {
        /// Seed of the noise stream.
        seed: u64,
    },
}

/// The soft circular alignment mask of refine.md §1.2: 1 within `radius_px`, a raised cosine
/// to 0 over the next `edge_px` pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParticleMask {
    /// Radius in pixels: RELION's particle_diameter/(2·pixel size).
    pub radius_px: f64,
    /// Width of the raised-cosine edge outside the radius, in pixels (RELION `--maskedge`, 5).
    pub edge_px: f64,
    /// What fills the outside.
    pub fill: MaskFill,
}

impl ParticleMask {
    /// RELION's mask for a particle diameter in Å at `pixel_size` Å/pixel: radius d/(2p)
    /// pixels, 5-pixel edge.
    pub fn for_diameter(diameter_angst: f64, pixel_size: f64, fill: MaskFill) -> Self {
        Self {
            radius_px: diameter_angst / (2.0 * pixel_size),
            edge_px: 5.0,
            fill,
        }
    }
}

/// Everything needed to prepare one particle.
#[derive(Debug, Clone)]
pub struct ParticleInput<'a> {
    /// The particle image (box N, pixel size in Å), norm-corrected by the caller if `--norm`.
    pub image: &'a Image,
    /// The previous offset rounded to whole pixels (x, y): rlnOriginX/YAngst / p, rounded.
    pub rounded_offset_px: [i64; 2],
    /// The alignment mask.
    pub mask: ParticleMask,
    /// The particle's CTF, or `None` to compare with the bare projection (CTF ≡ 1).
    pub ctf: Option<Ctf>,
    /// Which form of the CTF (phase flipped, intact first peak, …).
    pub ctf_variant: CtfVariant,
    /// Noise power σ²(r) of the particle's group per shell r = 0 … N/2 (RELION units:
    /// variance of each of the real and imaginary parts).
    pub sigma2: &'a [f64],
    /// Intensity scale S of the particle's group (1 without `--scale`).
    pub scale: f64,
}

/// A particle ready for scoring; arrays are indexed like the window's pixels (DC first).
#[derive(Debug, Clone)]
pub struct PreparedParticle<'w> {
    window: &'w FourierWindow,
    pixel_size: f64,
    rounded_offset_px: [i64; 2],
    scale: f64,
    ctf_model: Option<Ctf>,
    ctf_variant: CtfVariant,
    sigma2: Vec<f64>,
    masked_transform: FourierImage,
    masked: (Vec<f32>, Vec<f32>),
    unmasked: (Vec<f32>, Vec<f32>),
    ctf: Vec<f32>,
    inv_sigma2: Vec<f32>,
    power_beyond: Vec<f64>,
    log_norm: f64,
}

impl<'w> PreparedParticle<'w> {
    /// Prepares `input` for the current window `window` (see the module doc).
    pub fn new(window: &'w FourierWindow, input: &ParticleInput<'_>) -> Result<Self, EstepError> {
        let n = window.ori_size();
        crate::grid::check_same_box("particle image vs E-step window", n, input.image.n())?;
        check_inputs(window, input)?;
        let pixel_size = input.image.pixel_size();
        let shifted = shift_without_wrap(input.image, input.rounded_offset_px)?;
        let unmasked_transform = fft::forward(&shifted);
        let masked_image = apply_mask(shifted, &input.mask, input.sigma2)?;
        let masked_transform = fft::forward(&masked_image);
        let gather = |f: &FourierImage| -> (Vec<f32>, Vec<f32>) {
            window
                .pixels()
                .iter()
                .map(|&[kx, ky]| {
                    let v = f.value_at(kx as i64, ky as i64, 0).unwrap_or_default();
                    (v.re, v.im)
                })
                .unzip()
        };
        let ctf = window
            .pixels()
            .iter()
            .map(|&[kx, ky]| match &input.ctf {
                Some(c) => {
                    c.value_at_pixel(kx as i64, ky as i64, n, pixel_size, input.ctf_variant) as f32
                }
                None => 1.0,
            })
            .collect();
        let inv_sigma2 = window
            .shells()
            .iter()
            .map(|&r| {
                let s = input.sigma2[r as usize];
                if s > 0.0 { (1.0 / s) as f32 } else { 0.0 }
            })
            .collect();
        let log_norm = window.shells()[1..]
            .iter()
            .map(|&r| (2.0 * std::f64::consts::PI * input.sigma2[r as usize]).ln())
            .sum();
        let mut power_beyond = vec![0.0; n / 2 + 1];
        for (i, v) in masked_transform.data().iter().enumerate() {
            let [kx, ky, _] = masked_transform.frequency(i);
            let r = masked_transform.shell(i);
            if !masked_transform.is_redundant(i) && r <= n / 2 && !window.contains(kx, ky) {
                power_beyond[r] += v.norm_sqr() as f64;
            }
        }
        Ok(Self {
            window,
            pixel_size,
            rounded_offset_px: input.rounded_offset_px,
            scale: input.scale,
            ctf_model: input.ctf,
            ctf_variant: input.ctf_variant,
            sigma2: input.sigma2[..=n / 2].to_vec(),
            masked: gather(&masked_transform),
            unmasked: gather(&unmasked_transform),
            masked_transform,
            ctf,
            inv_sigma2,
            power_beyond,
            log_norm,
        })
    }

    /// The window the arrays are laid out on.
    pub fn window(&self) -> &'w FourierWindow {
        self.window
    }

    /// Pixel size in Å.
    pub fn pixel_size(&self) -> f64 {
        self.pixel_size
    }

    /// The rounded previous offset (pixels) the image was moved by.
    pub fn rounded_offset_px(&self) -> [i64; 2] {
        self.rounded_offset_px
    }

    /// Intensity scale S of the particle's group.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The CTF model (`None`: CTF ≡ 1) and variant, for brute-force re-evaluation.
    pub fn ctf_model(&self) -> (Option<&Ctf>, CtfVariant) {
        (self.ctf_model.as_ref(), self.ctf_variant)
    }

    /// σ²(r), shells 0 … N/2.
    pub fn sigma2(&self) -> &[f64] {
        &self.sigma2
    }

    /// The full transform of the masked, pre-shifted image (N box).
    pub fn masked_transform(&self) -> &FourierImage {
        &self.masked_transform
    }

    /// Masked image on the window (real parts, imaginary parts).
    pub fn masked(&self) -> (&[f32], &[f32]) {
        (&self.masked.0, &self.masked.1)
    }

    /// Unmasked image on the window (real parts, imaginary parts), for backprojection.
    pub fn unmasked(&self) -> (&[f32], &[f32]) {
        (&self.unmasked.0, &self.unmasked.1)
    }

    /// CTF value of each window pixel (1 without a CTF).
    pub fn ctf(&self) -> &[f32] {
        &self.ctf
    }

    /// 1/σ²(r) of each window pixel; the DC entry is 1/σ²(0), or 0 when σ²(0) ≤ 0.
    pub fn inv_sigma2(&self) -> &[f32] {
        &self.inv_sigma2
    }

    /// Σ|X(k)|² of the masked image per shell (0 … N/2) over the non-redundant pixels outside
    /// the current window (0 for shells fully inside it).
    pub fn power_beyond(&self) -> &[f64] {
        &self.power_beyond
    }

    /// ½·Σ|X(k)|² beyond the current window: the constant second line of d² (refine.md §1.4).
    pub fn half_power_beyond(&self) -> f64 {
        0.5 * self.power_beyond.iter().sum::<f64>()
    }

    /// Σ ln(2π·σ²(r(k))) over the current window without DC: the normalisation of dLL.
    pub fn log_norm(&self) -> f64 {
        self.log_norm
    }
}

fn check_inputs(window: &FourierWindow, input: &ParticleInput<'_>) -> Result<(), EstepError> {
    let n = window.ori_size();
    if input.sigma2.len() < n / 2 + 1 {
        return Err(EstepError::invalid(
            "noise spectrum σ² (shells)",
            input.sigma2.len(),
            format!("{} shells (0 … N/2)", n / 2 + 1),
        ));
    }
    let current = window.current_size() / 2;
    if let Some((r, s)) = (1..=current)
        .map(|r| (r, input.sigma2[r]))
        .find(|(_, s)| !(s.is_finite() && *s > 0.0))
    {
        return Err(EstepError::invalid(
            "noise spectrum σ²",
            format!("{s} in shell {r}"),
            "positive finite values in shells 1 … current_size/2",
        ));
    }
    if !(input.scale.is_finite() && input.scale > 0.0) {
        return Err(EstepError::invalid(
            "group intensity scale S",
            input.scale,
            "> 0",
        ));
    }
    for (what, v) in [
        ("mask radius (pixels)", input.mask.radius_px),
        ("mask edge (pixels)", input.mask.edge_px),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(EstepError::invalid(what, v, "a finite number ≥ 0"));
        }
    }
    Ok(())
}

/// The image moved by whole pixels `offset` (content at r goes to r + offset), zero-filled.
fn shift_without_wrap(image: &Image, offset: [i64; 2]) -> Result<Image, EstepError> {
    let n = image.n() as i64;
    if offset.iter().any(|o| o.abs() >= n) {
        return Err(EstepError::invalid(
            "rounded previous offset (pixels)",
            format!("({}, {})", offset[0], offset[1]),
            format!("less than the box size {n} in magnitude"),
        ));
    }
    let mut out = Image::zeros(image.n(), image.pixel_size())?;
    for y in 0..n {
        let sy = y - offset[1];
        if !(0..n).contains(&sy) {
            continue;
        }
        for x in 0..n {
            let sx = x - offset[0];
            if (0..n).contains(&sx) {
                out.data_mut()[(y * n + x) as usize] = image.data()[(sy * n + sx) as usize];
            }
        }
    }
    Ok(out)
}

fn apply_mask(mut image: Image, mask: &ParticleMask, sigma2: &[f64]) -> Result<Image, EstepError> {
    match mask.fill {
        MaskFill::Mean => soft_mask_outside(&mut image, mask.radius_px, mask.edge_px)?,
        MaskFill::Noise { seed } => {
            let weights =
                soft_sphere::<2>(image.n(), image.pixel_size(), mask.radius_px, mask.edge_px)?;
            let noise = coloured_noise(image.n(), image.pixel_size(), sigma2, seed)?;
            for ((v, &m), &e) in image
                .data_mut()
                .iter_mut()
                .zip(weights.data())
                .zip(noise.data())
            {
                *v = m * *v + (1.0 - m) * e;
            }
        }
    }
    Ok(image)
}

/// Real-space noise whose transform has independent real and imaginary parts of variance
/// σ²(r) in shells 0 … N/2 (0 in the corners beyond): white noise of unit variance, whose
/// transform has variance 1/N² per value, coloured by √(2·N²·σ²(r)). Colouring a real image's
/// transform keeps it Hermitian, so the noise is exactly real.
fn coloured_noise(
    n: usize,
    pixel_size: f64,
    sigma2: &[f64],
    seed: u64,
) -> Result<Image, EstepError> {
    let mut g = SplitMix64::new(seed);
    let white = Image::from_vec(
        n,
        pixel_size,
        (0..n * n).map(|_| g.next_normal() as f32).collect(),
    )?;
    let mut f = fft::forward(&white);
    let nn = (n * n) as f64;
    for i in 0..f.data().len() {
        let r = f.shell(i);
        let gain = if r <= n / 2 {
            (2.0 * nn * sigma2[r].max(0.0)).sqrt()
        } else {
            0.0
        };
        f.data_mut()[i] *= gain as f32;
    }
    Ok(fft::inverse(&f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fourier::spectrum::power_spectrum;
    use crate::grid::test_noise::uniform;

    fn input<'a>(image: &'a Image, sigma2: &'a [f64], fill: MaskFill) -> ParticleInput<'a> {
        ParticleInput {
            image,
            rounded_offset_px: [0, 0],
            mask: ParticleMask {
                radius_px: 5.0,
                edge_px: 2.0,
                fill,
            },
            ctf: None,
            ctf_variant: CtfVariant::default(),
            sigma2,
            scale: 1.0,
        }
    }

    #[test]
    fn whole_pixel_pre_shift_moves_content_without_wrapping() {
        let img = Image::from_fn(8, 1.0, |[x, y, _]| (x + 10.0 * y) as f32).unwrap();
        let out = shift_without_wrap(&img, [2, -1]).unwrap();
        assert_eq!(out.get(5, 3), img.get(3, 4));
        assert_eq!(out.get(1, 3), Some(0.0));
        assert_eq!(out.get(4, 7), Some(0.0));
        assert!(shift_without_wrap(&img, [8, 0]).is_err());
    }

    #[test]
    fn noise_fill_has_the_requested_spectrum() {
        let n = 32;
        let sigma2: Vec<f64> = (0..=n / 2).map(|r| 1e-3 / (1.0 + r as f64)).collect();
        let noise = coloured_noise(n, 1.0, &sigma2, 3).unwrap();
        let p = power_spectrum(&fft::forward(&noise));
        // |X|² = re² + im² has mean 2σ²; compare averaged over a band of shells.
        let ratio: f64 = (4..14).map(|r| p[r] / (2.0 * sigma2[r])).sum::<f64>() / 10.0;
        assert!((ratio - 1.0).abs() < 0.1, "{ratio}");
    }

    #[test]
    fn arrays_follow_the_window_and_power_beyond_completes_parseval() {
        let n = 16;
        let img = Image::from_vec(n, 2.0, uniform(9, n * n)).unwrap();
        let sigma2 = vec![0.5; n / 2 + 1];
        let w = FourierWindow::new(n, 10).unwrap();
        let p = PreparedParticle::new(&w, &input(&img, &sigma2, MaskFill::Mean)).unwrap();
        assert_eq!(p.masked().0.len(), w.len());
        assert_eq!(p.inv_sigma2()[3], 2.0);
        assert!((p.log_norm() - (w.len() - 1) as f64 * (std::f64::consts::PI).ln()).abs() < 1e-9);
        // Window power (without DC) + power beyond = all non-redundant power up to N/2, no DC.
        let f = p.masked_transform();
        let total: f64 = (0..f.data().len())
            .filter(|&i| !f.is_redundant(i) && f.shell(i) <= n / 2 && f.shell(i) > 0)
            .map(|i| f.data()[i].norm_sqr() as f64)
            .sum();
        let (re, im) = p.masked();
        let inside: f64 = (1..w.len())
            .map(|i| (re[i] * re[i] + im[i] * im[i]) as f64)
            .sum();
        assert!((inside + 2.0 * p.half_power_beyond() - total).abs() < 1e-6 * total);
        assert!(p.power_beyond()[2] == 0.0 && p.power_beyond()[7] > 0.0);
        // The unmasked image is the plain transform.
        let plain = fft::forward(&img);
        let [kx, ky] = w.pixels()[4];
        let v = plain.value_at(kx as i64, ky as i64, 0).unwrap();
        assert_eq!((p.unmasked().0[4], p.unmasked().1[4]), (v.re, v.im));
    }

    #[test]
    fn bad_inputs_are_refused_with_their_names() {
        let n = 8;
        let img = Image::zeros(n, 1.0).unwrap();
        let w = FourierWindow::new(n, 8).unwrap();
        let short = vec![1.0; 3];
        let err = PreparedParticle::new(&w, &input(&img, &short, MaskFill::Mean)).unwrap_err();
        assert!(err.to_string().contains("σ²"), "{err}");
        let mut zero = vec![1.0; 5];
        zero[2] = 0.0;
        let err = PreparedParticle::new(&w, &input(&img, &zero, MaskFill::Mean)).unwrap_err();
        assert!(err.to_string().contains("shell 2"), "{err}");
        let other = FourierWindow::new(10, 8).unwrap();
        assert!(PreparedParticle::new(&other, &input(&img, &[1.0; 6], MaskFill::Mean)).is_err());
    }
}
