//! `--norm` of `relion_preprocess` (RELION 3.1.3): dust removal, background ramp, and scaling
//! to background mean 0 and stddev 1. The background is the pixels strictly beyond
//! `--bg_radius` px from the box centre ([`super::background`]).
//!
//! The steps, in RELION's order, each checked against its output:
//! 1. with `--white_dust w` / `--black_dust b` (σ units), the raw box's background mean μ and
//!    stddev σ are measured; every pixel above μ + w·σ (white) or below μ − b·σ (black) is
//!    replaced by a normal deviate N(μ, σ²) (random, so only the replaced set and the
//!    distribution are RELION's; the draws come from the caller's keyed stream);
//! 2. unless `--no_ramp`, the least-squares plane through the background is subtracted from
//!    every pixel;
//! 3. the background mean is subtracted and every pixel divided by the background stddev
//!    (population, 1/N).

use super::ExtractError;
use super::background::{background_pixels, fit_ramp, mean_std};
use crate::grid::{GridError, Image};
use crate::random::SplitMix64;

/// The normalisation options of `relion_preprocess --norm`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalisation {
    /// `--bg_radius`: background = pixels strictly farther than this from the box centre, in
    /// px of the final (scaled, re-windowed) box. Required (RELION has no default).
    pub bg_radius_px: f64,
    /// Subtract the fitted background plane (RELION's default; `--no_ramp` sets false).
    pub ramp: bool,
    /// `--white_dust`: replace pixels more than this many background σ above the background
    /// mean (None: RELION's −1, no removal).
    pub white_dust_sigma: Option<f64>,
    /// `--black_dust`: replace pixels more than this many background σ below the background
    /// mean (None: RELION's −1, no removal).
    pub black_dust_sigma: Option<f64>,
}

impl Normalisation {
    /// `--norm --bg_radius r` with RELION's defaults otherwise (ramp, no dust removal).
    pub fn with_radius(bg_radius_px: f64) -> Self {
        Self {
            bg_radius_px,
            ramp: true,
            white_dust_sigma: None,
            black_dust_sigma: None,
        }
    }
}

/// Normalises `image` as `relion_preprocess --norm` does (see the module doc); `random`
/// supplies the dust replacements (untouched without dust removal). Errors on a bad radius or
/// dust threshold, a radius that leaves no background, or a flat background.
pub fn normalise(
    image: &Image,
    settings: &Normalisation,
    random: &mut SplitMix64,
) -> Result<Image, ExtractError> {
    let pixels = background_pixels(image.n(), settings.bg_radius_px)?;
    let n = image.n();
    let mut work = image.clone();
    remove_dust(&mut work, &pixels, settings, random)?;
    if settings.ramp {
        let [a, b, c] = fit_ramp(&work, &pixels);
        let half = (n / 2) as f64;
        for (i, v) in work.data_mut().iter_mut().enumerate() {
            let (x, y) = ((i % n) as f64 - half, (i / n) as f64 - half);
            *v = (f64::from(*v) - (a * x + b * y + c)) as f32;
        }
    }
    let (mean, std) = mean_std(&work, &pixels);
    if std <= 0.0 || !std.is_finite() {
        return Err(ExtractError::FlatBackground {
            bg_radius_px: settings.bg_radius_px,
            box_size: n,
        });
    }
    for v in work.data_mut() {
        *v = ((f64::from(*v) - mean) / std) as f32;
    }
    Ok(work)
}

/// Step 1 of [`normalise`]: replaces white and black dust pixels (thresholds in background σ)
/// by N(μ, σ²) draws, in row-major order.
fn remove_dust(
    image: &mut Image,
    pixels: &[(usize, [f64; 2])],
    settings: &Normalisation,
    random: &mut SplitMix64,
) -> Result<(), ExtractError> {
    let check = |what, sigma: Option<f64>| match sigma {
        Some(s) if !(s.is_finite() && s > 0.0) => Err(GridError::OutOfRange {
            what,
            value: s,
            expected: "a positive number of background standard deviations",
        }),
        _ => Ok(sigma),
    };
    let white = check("white dust threshold (σ)", settings.white_dust_sigma)?;
    let black = check("black dust threshold (σ)", settings.black_dust_sigma)?;
    if white.is_none() && black.is_none() {
        return Ok(());
    }
    let (mean, std) = mean_std(image, pixels);
    let above = white.map_or(f64::INFINITY, |w| mean + w * std);
    let below = black.map_or(f64::NEG_INFINITY, |b| mean - b * std);
    for v in image.data_mut() {
        let value = f64::from(*v);
        if value > above || value < below {
            *v = (mean + std * random.next_normal()) as f32;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64 box of keyed normal noise (σ 2, mean 5) plus a ramp 0.03·x − 0.05·y.
    fn noisy_ramp() -> Image {
        let mut random = SplitMix64::keyed(3, &[1]);
        let mut image =
            Image::from_fn(64, 1.0, |[x, y, _]| (5.0 + 0.03 * x - 0.05 * y) as f32).unwrap();
        for v in image.data_mut() {
            *v += (2.0 * random.next_normal()) as f32;
        }
        image
    }

    fn background_stats(image: &Image, radius: f64) -> (f64, f64) {
        mean_std(image, &background_pixels(image.n(), radius).unwrap())
    }

    fn max_diff(a: &Image, b: &Image) -> f32 {
        a.data()
            .iter()
            .zip(b.data())
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn background_ends_with_mean_zero_stddev_one_and_no_ramp() {
        let image = noisy_ramp();
        let mut random = SplitMix64::new(0);
        for ramp in [true, false] {
            let settings = Normalisation {
                ramp,
                ..Normalisation::with_radius(20.0)
            };
            let out = normalise(&image, &settings, &mut random).unwrap();
            let (mean, std) = background_stats(&out, 20.0);
            assert!(
                mean.abs() < 1e-6 && (std - 1.0).abs() < 1e-6,
                "{mean} {std}"
            );
            let [a, b, _] = fit_ramp(&out, &background_pixels(64, 20.0).unwrap());
            if ramp {
                assert!(a.abs() < 1e-6 && b.abs() < 1e-6, "ramp left: {a} {b}");
            } else {
                // The ramp stays, scaled by 1/σ (σ ≈ 2 plus the ramp's own spread).
                assert!(a > 0.005 && b < -0.01, "ramp removed: {a} {b}");
            }
        }
    }

    #[test]
    fn ramp_removal_ignores_added_planes_and_mean_removal_ignores_constants() {
        let image = noisy_ramp();
        let mut random = SplitMix64::new(0);
        let shifted = |f: &dyn Fn(f64, f64) -> f64| {
            let mut out = image.clone();
            for (i, v) in out.data_mut().iter_mut().enumerate() {
                *v += f((i % 64) as f64 - 32.0, (i / 64) as f64 - 32.0) as f32;
            }
            out
        };
        let with_ramp = Normalisation::with_radius(25.0);
        let base = normalise(&image, &with_ramp, &mut random).unwrap();
        let tilted = normalise(
            &shifted(&|x, y| 0.2 * x + 0.1 * y - 7.0),
            &with_ramp,
            &mut random,
        );
        assert!(max_diff(&base, &tilted.unwrap()) < 1e-4);
        let no_ramp = Normalisation {
            ramp: false,
            ..with_ramp
        };
        let base = normalise(&image, &no_ramp, &mut random).unwrap();
        let offset = normalise(&shifted(&|_, _| -7.0), &no_ramp, &mut random).unwrap();
        assert!(max_diff(&base, &offset) < 1e-4);
        let tilted = normalise(&shifted(&|x, _| 0.2 * x), &no_ramp, &mut random).unwrap();
        assert!(max_diff(&base, &tilted) > 0.5);
    }

    #[test]
    fn dust_beyond_the_thresholds_is_replaced_by_background_like_noise() {
        let mut image = noisy_ramp();
        // A white speck (+40) at the centre and a black one (−40) in the background.
        image.data_mut()[32 * 64 + 32] = 45.0;
        image.data_mut()[2 * 64 + 2] = -35.0;
        let settings = Normalisation {
            white_dust_sigma: Some(5.0),
            black_dust_sigma: Some(5.0),
            ..Normalisation::with_radius(20.0)
        };
        let out = normalise(&image, &settings, &mut SplitMix64::keyed(9, &[4])).unwrap();
        assert!(out.data()[32 * 64 + 32].abs() < 5.0, "white dust kept");
        assert!(out.data()[2 * 64 + 2].abs() < 5.0, "black dust kept");
        // Same stream, same answer; dust thresholds far away change nothing.
        let again = normalise(&image, &settings, &mut SplitMix64::keyed(9, &[4])).unwrap();
        assert_eq!(out, again);
        let only_white = Normalisation {
            black_dust_sigma: None,
            ..settings
        };
        let out = normalise(&image, &only_white, &mut SplitMix64::new(1)).unwrap();
        assert!(
            out.data()[2 * 64 + 2] < -5.0,
            "black speck must stay without --black_dust"
        );
        let lax = Normalisation {
            white_dust_sigma: Some(100.0),
            black_dust_sigma: Some(100.0),
            ..settings
        };
        let plain = Normalisation::with_radius(20.0);
        let mut random = SplitMix64::new(1);
        assert_eq!(
            normalise(&image, &lax, &mut random).unwrap(),
            normalise(&image, &plain, &mut random).unwrap()
        );
    }

    #[test]
    fn bad_settings_are_refused_with_the_reason() {
        let image = noisy_ramp();
        let mut random = SplitMix64::new(0);
        let err = normalise(&image, &Normalisation::with_radius(-1.0), &mut random).unwrap_err();
        assert!(err.to_string().contains("background radius"), "{err}");
        let err = normalise(&image, &Normalisation::with_radius(46.0), &mut random).unwrap_err();
        assert!(matches!(err, ExtractError::NoBackground { .. }), "{err}");
        let flat = Image::from_fn(64, 1.0, |_| 1.0).unwrap();
        let err = normalise(&flat, &Normalisation::with_radius(20.0), &mut random).unwrap_err();
        assert!(matches!(err, ExtractError::FlatBackground { .. }), "{err}");
        let dusty = Normalisation {
            white_dust_sigma: Some(0.0),
            ..Normalisation::with_radius(20.0)
        };
        assert!(normalise(&image, &dusty, &mut random).is_err());
    }
}
