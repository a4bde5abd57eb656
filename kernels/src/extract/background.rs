//! The background of a particle box: pixels strictly farther than `bg_radius` px from the box
//! centre n/2 (x² + y² > r² in logical pixel coordinates), its mean and standard deviation
//! (population, 1/N) and the least-squares plane (ramp) through it. All sums in f64.

use super::ExtractError;
use crate::grid::{GridError, Image};

/// The background pixels of an `n` box for radius `bg_radius_px` (px): their indices and
/// logical coordinates (x, y) in px relative to pixel n/2. Errors unless the radius is positive
/// and finite and leaves at least one pixel.
pub fn background_pixels(
    n: usize,
    bg_radius_px: f64,
) -> Result<Vec<(usize, [f64; 2])>, ExtractError> {
    if !(bg_radius_px.is_finite() && bg_radius_px > 0.0) {
        return Err(GridError::OutOfRange {
            what: "background radius (px)",
            value: bg_radius_px,
            expected: "a positive number of pixels (RELION has no default: --bg_radius is required)",
        }
        .into());
    }
    let half = (n / 2) as f64;
    let r2 = bg_radius_px * bg_radius_px;
    let pixels: Vec<_> = (0..n * n)
        .map(|i| (i, [(i % n) as f64 - half, (i / n) as f64 - half]))
        .filter(|(_, [x, y])| x * x + y * y > r2)
        .collect();
    if pixels.is_empty() {
        return Err(ExtractError::NoBackground {
            bg_radius_px,
            box_size: n,
        });
    }
    Ok(pixels)
}

/// Mean and population standard deviation of `image` over `pixels` (from
/// [`background_pixels`]), in the image's units.
pub fn mean_std(image: &Image, pixels: &[(usize, [f64; 2])]) -> (f64, f64) {
    let count = pixels.len() as f64;
    let value = |i: usize| f64::from(image.data()[i]);
    let mean = pixels.iter().map(|&(i, _)| value(i)).sum::<f64>() / count;
    let var = pixels
        .iter()
        .map(|&(i, _)| (value(i) - mean).powi(2))
        .sum::<f64>()
        / count;
    (mean, var.sqrt())
}

/// The least-squares plane a·x + b·y + c through `image` over `pixels` (x, y in px from pixel
/// n/2): returns [a, b, c] (image units per px, per px, and at the centre). Background rings
/// are never degenerate, so the 3 × 3 normal equations are solved directly.
pub fn fit_ramp(image: &Image, pixels: &[(usize, [f64; 2])]) -> [f64; 3] {
    let mut normal = [[0.0f64; 3]; 3];
    let mut rhs = [0.0f64; 3];
    for &(i, [x, y]) in pixels {
        let basis = [x, y, 1.0];
        let v = f64::from(image.data()[i]);
        for r in 0..3 {
            rhs[r] += basis[r] * v;
            for c in 0..3 {
                normal[r][c] += basis[r] * basis[c];
            }
        }
    }
    solve3(normal, rhs)
}

/// Solves the 3 × 3 system `m · s = rhs` by Cramer's rule (a singular system gives zeros).
fn solve3(m: [[f64; 3]; 3], rhs: [f64; 3]) -> [f64; 3] {
    let det = |a: [[f64; 3]; 3]| {
        a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
            - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
            + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
    };
    let d = det(m);
    if d == 0.0 {
        return [0.0; 3];
    }
    let mut solution = [0.0; 3];
    for (col, s) in solution.iter_mut().enumerate() {
        let mut replaced = m;
        for row in 0..3 {
            replaced[row][col] = rhs[row];
        }
        *s = det(replaced) / d;
    }
    solution
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background_is_strictly_outside_the_radius() {
        let pixels = background_pixels(8, 3.0).unwrap();
        // (3, 0) lies on the circle: not background; (3, 1) does.
        assert!(!pixels.iter().any(|(_, c)| *c == [3.0, 0.0]));
        assert!(pixels.iter().any(|(_, c)| *c == [3.0, 1.0]));
        let expected = (0..64)
            .filter(|i| {
                let (x, y) = ((i % 8) as i64 - 4, (i / 8) as i64 - 4);
                x * x + y * y > 9
            })
            .count();
        assert_eq!(pixels.len(), expected);
        assert!(matches!(
            background_pixels(8, 6.0),
            Err(ExtractError::NoBackground { .. })
        ));
        assert!(background_pixels(8, 0.0).is_err());
        assert!(background_pixels(8, f64::NAN).is_err());
    }

    #[test]
    fn a_plane_is_fitted_exactly_and_its_statistics_are_analytic() {
        let image = Image::from_fn(16, 1.0, |[x, y, _]| (0.25 * x - 0.5 * y + 3.0) as f32).unwrap();
        let pixels = background_pixels(16, 5.0).unwrap();
        let [a, b, c] = fit_ramp(&image, &pixels);
        assert!((a - 0.25).abs() < 1e-9 && (b + 0.5).abs() < 1e-9 && (c - 3.0).abs() < 1e-9);
        let constant = Image::from_fn(16, 1.0, |_| 2.5).unwrap();
        assert_eq!(mean_std(&constant, &pixels), (2.5, 0.0));
        // All but the centre pixel (+1): 127 values +1 and 128 values −1, so mean −1/255 and
        // population variance 1 − 1/255².
        let checker = Image::from_fn(
            16,
            1.0,
            |[x, _, _]| if x as i64 % 2 == 0 { 1.0 } else { -1.0 },
        )
        .unwrap();
        let all = background_pixels(16, 0.1).unwrap();
        assert_eq!(all.len(), 255);
        let (mean, std) = mean_std(&checker, &all);
        assert!((mean + 1.0 / 255.0).abs() < 1e-15, "{mean}");
        assert!(
            (std - (1.0 - 1.0 / 255f64.powi(2)).sqrt()).abs() < 1e-15,
            "{std}"
        );
    }
}
