//! One particle from micrograph to final box, with `relion_preprocess --extract`'s options in
//! RELION 3.1.3's order (see [`super`]): box, `--scale`, `--window`, `--norm`,
//! `--invert_contrast`.

use super::ExtractError;
use super::normalise::{Normalisation, normalise};
use super::particle_box::{centre_pixel, extract_box};
use crate::fourier::fft;
use crate::fourier::filter::low_pass;
use crate::fourier::rescale::{window_fourier, window_real};
use crate::grid::{Image, Plane, check_box, check_pixel_size};
use crate::random::SplitMix64;

/// The per-particle options of `relion_preprocess --extract`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExtractSettings {
    /// `--extract_size`: box cut from the micrograph, px (even).
    pub extract_size: usize,
    /// `--extract_bias_x/y`: added to the coordinate before truncation, micrograph px.
    pub bias_px: [i64; 2],
    /// `--scale`: Fourier-rescaled box, px (even; see [`rescale`]); None for RELION's −1 (no
    /// rescaling).
    pub scale: Option<usize>,
    /// `--window`: real-space re-windowed box after scaling, px (even; padding is 0); None for
    /// RELION's −1.
    pub window: Option<usize>,
    /// `--norm` and its options; None without `--norm`.
    pub normalisation: Option<Normalisation>,
    /// `--invert_contrast`: multiply by −1 after normalisation.
    pub invert_contrast: bool,
}

impl ExtractSettings {
    /// `--extract --extract_size n` and nothing else.
    pub fn plain(extract_size: usize) -> Self {
        Self {
            extract_size,
            bias_px: [0, 0],
            scale: None,
            window: None,
            normalisation: None,
            invert_contrast: false,
        }
    }

    /// The final box size in px: `--window` if given, else `--scale`, else `--extract_size`.
    pub fn output_size(&self) -> usize {
        self.window.or(self.scale).unwrap_or(self.extract_size)
    }
}

/// Pixel size of extracted particles, Å: micrograph pixel size × extract_size / scale (the
/// micrograph's without `--scale`; `--window` keeps it), as RELION writes `rlnImagePixelSize`.
pub fn particle_pixel_size(
    micrograph_pixel_size: f64,
    extract_size: usize,
    scale: Option<usize>,
) -> f64 {
    scale.map_or(micrograph_pixel_size, |s| {
        micrograph_pixel_size * extract_size as f64 / s as f64
    })
}

/// Extracts the particle at `coordinate_px` (x, y in micrograph px, `rlnCoordinateX/Y`) from
/// `micrograph` (pixel size `micrograph_pixel_size` Å) as `relion_preprocess --extract` does;
/// the result's pixel size is [`particle_pixel_size`]. `random` draws the dust replacements
/// only (key it by micrograph and particle for thread-independent results).
pub fn extract_particle(
    micrograph: &Plane,
    micrograph_pixel_size: f64,
    coordinate_px: [f64; 2],
    settings: &ExtractSettings,
    random: &mut SplitMix64,
) -> Result<Image, ExtractError> {
    check_pixel_size("micrograph pixel size (Å)", micrograph_pixel_size)?;
    for (what, size) in [
        ("--scale box (px)", settings.scale),
        ("--window box (px)", settings.window),
    ] {
        if let Some(n) = size {
            check_box(what, n)?;
        }
    }
    let centre = centre_pixel(coordinate_px, settings.bias_px)?;
    let mut image = extract_box(
        micrograph,
        centre,
        settings.extract_size,
        micrograph_pixel_size,
    )?;
    if let Some(n) = settings.scale {
        image = rescale(&image, n)?;
    }
    if let Some(n) = settings.window {
        image = window_real(&image, n, 0.0)?;
    }
    if let Some(normalisation) = &settings.normalisation {
        image = normalise(&image, normalisation, random)?;
    }
    if settings.invert_contrast {
        image.data_mut().iter_mut().for_each(|v| *v = -*v);
    }
    Ok(image)
}

/// `--scale`: the box resampled to `new_n` px by Fourier cropping or zero-padding, amplitudes
/// and mean kept, pixel size × n / new_n (as [`crate::fourier::rescale::resample`]). When
/// enlarging, `relion_preprocess` also zeroes every frequency beyond the old box's Nyquist
/// radius n/2 (|k| > n/2, a circular cut; measured against RELION 3.1.3), so this does too.
pub fn rescale(image: &Image, new_n: usize) -> Result<Image, ExtractError> {
    let mut spectrum = window_fourier(&fft::forward(image), new_n)?;
    if new_n > image.n() {
        low_pass(&mut spectrum, (image.n() / 2) as f64, 0.0)?;
    }
    Ok(fft::inverse(&spectrum))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A smooth 200 × 180 micrograph: a Gaussian blob (σ 4 px) at (90, 70) on a ramp.
    fn micrograph() -> Plane {
        Plane::from_fn(200, 180, |x, y| {
            let d2 = (x as f64 - 90.0).powi(2) + (y as f64 - 70.0).powi(2);
            (10.0 * (-d2 / 32.0).exp() + 0.01 * x as f64) as f32
        })
    }

    /// [`micrograph`] plus keyed N(0, 1) noise.
    fn noisy_micrograph() -> Plane {
        let mut random = SplitMix64::keyed(5, &[0]);
        let mut mic = micrograph();
        mic.data_mut()
            .iter_mut()
            .for_each(|v| *v += random.next_normal() as f32);
        mic
    }

    #[test]
    fn pixel_size_follows_extract_size_over_scale() {
        assert_eq!(particle_pixel_size(1.5, 64, Some(48)), 2.0);
        assert_eq!(particle_pixel_size(1.5, 64, Some(80)), 1.2);
        assert_eq!(particle_pixel_size(1.5, 64, None), 1.5);
    }

    #[test]
    fn scaling_keeps_the_blob_at_the_centre_with_its_amplitude() {
        let settings = ExtractSettings {
            scale: Some(32),
            ..ExtractSettings::plain(64)
        };
        let out = extract_particle(
            &micrograph(),
            1.0,
            [90.7, 70.2],
            &settings,
            &mut SplitMix64::new(0),
        )
        .unwrap();
        assert_eq!((out.n(), out.pixel_size()), (32, 2.0));
        // Sampled at 2 px the blob peaks at the centre pixel with nearly its full height.
        let peak = out.get(16, 16).unwrap();
        assert!((peak - (10.0 + 0.9)).abs() < 0.1, "peak {peak}");
        assert!(out.data().iter().all(|&v| v <= peak));
    }

    #[test]
    fn enlarging_keeps_no_frequency_beyond_the_old_nyquist_radius() {
        let mic = noisy_micrograph();
        let settings = ExtractSettings {
            scale: Some(80),
            ..ExtractSettings::plain(64)
        };
        let out =
            extract_particle(&mic, 1.0, [90.0, 70.0], &settings, &mut SplitMix64::new(0)).unwrap();
        assert_eq!((out.n(), out.pixel_size()), (80, 0.8));
        let spectrum = fft::forward(&out);
        let original = fft::forward(&extract_box(&mic, [90, 70], 64, 1.0).unwrap());
        for (i, v) in spectrum.data().iter().enumerate() {
            let [kx, ky, _] = spectrum.frequency(i);
            if kx * kx + ky * ky > 32 * 32 {
                assert!(v.norm() < 1e-6, "({kx}, {ky}) kept: {v}");
            } else if ky.abs() < 32 && kx < 32 {
                let before = original.value_at(kx, ky, 0).unwrap();
                assert!((v - before).norm() < 1e-5, "({kx}, {ky}): {v} vs {before}");
            }
        }
    }

    #[test]
    fn window_pads_with_zeros_and_invert_follows_normalisation() {
        let mic = noisy_micrograph();
        let settings = ExtractSettings {
            window: Some(80),
            ..ExtractSettings::plain(64)
        };
        let out =
            extract_particle(&mic, 1.0, [90.0, 70.0], &settings, &mut SplitMix64::new(0)).unwrap();
        assert_eq!(
            (out.get(7, 40), out.get(8, 8)),
            (Some(0.0), mic.get(58, 38))
        );
        let norm = Normalisation::with_radius(20.0);
        let plain = ExtractSettings {
            normalisation: Some(norm),
            ..ExtractSettings::plain(64)
        };
        let inverted = ExtractSettings {
            invert_contrast: true,
            ..plain
        };
        let mut random = SplitMix64::new(0);
        let a = extract_particle(&mic, 1.0, [90.0, 70.0], &plain, &mut random).unwrap();
        let b = extract_particle(&mic, 1.0, [90.0, 70.0], &inverted, &mut random).unwrap();
        assert!(a.data().iter().zip(b.data()).all(|(x, y)| *x == -*y));
        // White dust is judged on the uninverted box: the blob (≈ +10) is replaced either way.
        let dusty = Normalisation {
            white_dust_sigma: Some(3.0),
            ..norm
        };
        let settings = ExtractSettings {
            normalisation: Some(dusty),
            invert_contrast: true,
            ..plain
        };
        let out = extract_particle(&mic, 1.0, [90.0, 70.0], &settings, &mut random).unwrap();
        assert!(out.get(32, 32).unwrap().abs() < 10.0 && b.get(32, 32).unwrap() < -5.0);
    }

    #[test]
    fn bad_sizes_are_refused() {
        let mic = micrograph();
        let mut random = SplitMix64::new(0);
        let odd = ExtractSettings {
            scale: Some(47),
            ..ExtractSettings::plain(64)
        };
        let err = extract_particle(&mic, 1.0, [90.0, 70.0], &odd, &mut random).unwrap_err();
        assert!(err.to_string().contains("--scale"), "{err}");
        assert!(
            extract_particle(
                &mic,
                0.0,
                [90.0, 70.0],
                &ExtractSettings::plain(64),
                &mut random
            )
            .is_err()
        );
    }
}
