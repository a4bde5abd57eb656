//! Cutting a square particle box out of a micrograph at a picked coordinate (px).
//!
//! RELION 3.1.3 places box pixel (n/2, n/2) on micrograph pixel
//! (trunc(x + bias_x), trunc(y + bias_y)), truncating toward zero (100.5 → 100, −0.5 → 0,
//! −1.5 → −1). Box pixels beyond the micrograph take the value of the nearest micrograph pixel
//! (edge rows and columns are repeated); a box that does not overlap the micrograph at all is
//! refused.

use super::ExtractError;
use crate::grid::{GridError, Image, Plane, check_box, check_pixel_size};

/// The micrograph pixel (x, y) under the box centre n/2 for a coordinate (x, y) in px (as
/// `rlnCoordinateX/Y`) and an integer `--extract_bias_x/y` in px: coordinate + bias truncated
/// toward zero. A non-finite coordinate is an error.
pub fn centre_pixel(coordinate_px: [f64; 2], bias_px: [i64; 2]) -> Result<[i64; 2], GridError> {
    let mut centre = [0; 2];
    for (axis, c) in centre.iter_mut().enumerate() {
        let value = coordinate_px[axis] + bias_px[axis] as f64;
        if !value.is_finite() {
            return Err(GridError::OutOfRange {
                what: "particle coordinate (px)",
                value,
                expected: "a finite number of micrograph pixels",
            });
        }
        *c = value.trunc() as i64;
    }
    Ok(centre)
}

/// The `box_size` × `box_size` box (even, px) whose pixel (n/2, n/2) is micrograph pixel
/// `centre_px`, with pixel size `pixel_size` Å; pixels beyond the micrograph repeat its nearest
/// edge pixel. Errors if the box does not overlap the micrograph.
pub fn extract_box(
    micrograph: &Plane,
    centre_px: [i64; 2],
    box_size: usize,
    pixel_size: f64,
) -> Result<Image, ExtractError> {
    check_box("particle box size (px)", box_size)?;
    check_pixel_size("micrograph pixel size (Å)", pixel_size)?;
    let (width, height) = (micrograph.width(), micrograph.height());
    let half = (box_size / 2) as i64;
    let first = [centre_px[0] - half, centre_px[1] - half];
    let overlaps = |first: i64, size: usize| first < size as i64 && first + box_size as i64 > 0;
    if !overlaps(first[0], width) || !overlaps(first[1], height) {
        return Err(ExtractError::OutsideMicrograph {
            centre_px,
            box_size,
            width,
            height,
        });
    }
    let clamp = |c: i64, size: usize| c.clamp(0, size as i64 - 1) as usize;
    let columns: Vec<usize> = (0..box_size as i64)
        .map(|i| clamp(first[0] + i, width))
        .collect();
    let mut data = Vec::with_capacity(box_size * box_size);
    for j in 0..box_size as i64 {
        let row = micrograph.row(clamp(first[1] + j, height));
        data.extend(columns.iter().map(|&x| row[x]));
    }
    Ok(Image::from_vec(box_size, pixel_size, data)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pixel (x, y) of this 300 × 260 micrograph is x + 1000 y, so a value names its pixel.
    fn labelled() -> Plane {
        Plane::from_fn(300, 260, |x, y| (x + 1000 * y) as f32)
    }

    #[test]
    fn centre_truncates_coordinate_plus_bias_toward_zero() {
        assert_eq!(centre_pixel([100.5, 120.99], [0, 0]).unwrap(), [100, 120]);
        assert_eq!(centre_pixel([-0.5, -1.5], [0, 0]).unwrap(), [0, -1]);
        // The bias is added before truncation: −0.5 + 1 = 0.5 → 0 (not trunc(−0.5) + 1 = 1).
        assert_eq!(centre_pixel([-0.5, 2.5], [1, -2]).unwrap(), [0, 0]);
        assert!(centre_pixel([f64::NAN, 0.0], [0, 0]).is_err());
    }

    #[test]
    fn box_centre_pixel_is_the_coordinate_and_y_runs_along_rows() {
        let b = extract_box(&labelled(), [100, 120], 64, 1.5).unwrap();
        assert_eq!(b.pixel_size(), 1.5);
        assert_eq!(b.get(32, 32), Some(100.0 + 120_000.0));
        assert_eq!(b.get(0, 0), Some(68.0 + 88_000.0));
        assert_eq!(b.get(63, 1), Some(131.0 + 89_000.0));
    }

    #[test]
    fn pixels_beyond_the_edge_repeat_the_nearest_edge_pixel() {
        let b = extract_box(&labelled(), [-10, 250], 64, 1.0).unwrap();
        for (i, &v) in b.data().iter().enumerate() {
            let x = (i % 64) as i64 - 32 - 10;
            let y = (i / 64) as i64 - 32 + 250;
            let expected = x.clamp(0, 299) + 1000 * y.clamp(0, 259);
            assert_eq!(v, expected as f32, "box pixel {i}");
        }
    }

    #[test]
    fn a_box_must_overlap_the_micrograph() {
        // RELION 3.1.3: x = 331 and −31 extract, 332 and −32 stop (box 64, width 300).
        let mic = labelled();
        for (centre, ok) in [
            ([331, 100], true),
            ([332, 100], false),
            ([-31, 100], true),
            ([-32, 100], false),
            ([100, 291], true),
            ([100, 292], false),
            ([100, -32], false),
        ] {
            let result = extract_box(&mic, centre, 64, 1.0);
            assert_eq!(result.is_ok(), ok, "{centre:?}: {result:?}");
        }
        let err = extract_box(&mic, [332, 100], 64, 1.0).unwrap_err();
        assert!(err.to_string().contains("completely outside"), "{err}");
        assert!(extract_box(&mic, [100, 100], 63, 1.0).is_err());
    }
}
