//! Real-space masks: soft spheres, RELION's `softMaskOutsideMap`, and soft masks grown from a
//! map like `relion_mask_create --ini_threshold --extend_inimask --width_soft_edge`.
//!
//! Radii, extensions and edge widths are in pixels; distances are measured from the box origin
//! n/2 (spheres) or, for map-derived masks, as exact Euclidean distances between voxel centres.

mod distance;

use crate::grid::{GridError, RealGrid, Volume};
use distance::squared_distance_to;
use std::f64::consts::PI;

/// Raised-cosine fall-off: 1 at d ≤ 0, 0 at d ≥ width, ½ + ½·cos(π·d/width) in between.
fn cosine_edge(d: f64, width: f64) -> f64 {
    if d <= 0.0 {
        1.0
    } else if d >= width {
        0.0
    } else {
        0.5 + 0.5 * (PI * d / width).cos()
    }
}

fn check_non_negative(what: &'static str, value: f64) -> Result<(), GridError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(GridError::OutOfRange {
            what,
            value,
            expected: "a finite number ≥ 0 (pixels)",
        })
    }
}

/// A soft sphere (disc for images) centred at n/2: 1 within `radius` pixels, a raised cosine to
/// 0 over the next `edge` pixels (RELION's particle and solvent masks put the edge outside R).
pub fn soft_sphere<const D: usize>(
    n: usize,
    pixel_size: f64,
    radius: f64,
    edge: f64,
) -> Result<RealGrid<D>, GridError> {
    check_non_negative("soft sphere radius", radius)?;
    check_non_negative("soft sphere edge width", edge)?;
    RealGrid::from_fn(n, pixel_size, |[x, y, z]| {
        let r = (x * x + y * y + z * z).sqrt();
        cosine_edge(r - radius, edge) as f32
    })
}

/// RELION's `softMaskOutsideMap`: with m the [`soft_sphere`] of `radius` and `edge` pixels, the
/// background b is the (1−m)-weighted mean of the map, and every value v becomes m·v + (1−m)·b.
/// Reconstructions use radius n/2 and edge 3 so that only the corners are flattened.
pub fn soft_mask_outside<const D: usize>(
    grid: &mut RealGrid<D>,
    radius: f64,
    edge: f64,
) -> Result<(), GridError> {
    let mask = soft_sphere::<D>(grid.n(), grid.pixel_size(), radius, edge)?;
    let (mut sum, mut weight) = (0.0, 0.0);
    for (&v, &m) in grid.data().iter().zip(mask.data()) {
        sum += (1.0 - m as f64) * v as f64;
        weight += 1.0 - m as f64;
    }
    let background = if weight > 0.0 { sum / weight } else { 0.0 };
    for (v, &m) in grid.data_mut().iter_mut().zip(mask.data()) {
        let m = m as f64;
        *v = (m * *v as f64 + (1.0 - m) * background) as f32;
    }
    Ok(())
}

/// A soft mask grown from a map, like `relion_mask_create`: voxels ≥ `threshold` form the
/// initial binary mask; it is dilated by `extend` pixels (voxels at distance < extend from it
/// join) or, for negative `extend`, eroded (voxels at distance < |extend| from the outside
/// leave); voxels outside it at distance d < `soft_width` pixels get ½ + ½·cos(π·d/soft_width).
/// Values are in [0, 1]. Matches `relion_mask_create` voxel for voxel on a test map.
pub fn mask_from_map(
    map: &Volume,
    threshold: f64,
    extend: f64,
    soft_width: f64,
) -> Result<Volume, GridError> {
    if !extend.is_finite() {
        return Err(GridError::OutOfRange {
            what: "mask extension",
            value: extend,
            expected: "a finite number of pixels",
        });
    }
    check_non_negative("mask soft-edge width", soft_width)?;
    let n = map.n();
    let mut binary: Vec<bool> = map.data().iter().map(|&v| v as f64 >= threshold).collect();
    if extend > 0.0 {
        let d2 = squared_distance_to(&binary, n);
        binary = d2.iter().map(|&d| d < extend * extend).collect();
    } else if extend < 0.0 {
        let outside: Vec<bool> = binary.iter().map(|b| !b).collect();
        let d2 = squared_distance_to(&outside, n);
        binary = d2.iter().map(|&d| d >= extend * extend).collect();
    }
    let d2 = squared_distance_to(&binary, n);
    let values = d2
        .iter()
        .map(|&d| cosine_edge(d.sqrt(), soft_width) as f32)
        .collect();
    Volume::from_vec(n, map.pixel_size(), values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Image;

    #[test]
    fn soft_sphere_has_the_cosine_edge_outside_the_radius() {
        let m = soft_sphere::<3>(16, 1.0, 4.0, 2.0).unwrap();
        assert_eq!(m.get(12, 8, 8), Some(1.0)); // r = 4
        assert!((m.get(13, 8, 8).unwrap() - 0.5).abs() < 1e-6); // r = 5
        assert_eq!(m.get(14, 8, 8), Some(0.0)); // r = 6
        let disc = soft_sphere::<2>(8, 1.0, 2.0, 0.0).unwrap();
        assert_eq!(disc.sum(), 13.0);
        assert!(soft_sphere::<2>(8, 1.0, -1.0, 1.0).is_err());
    }

    #[test]
    fn soft_mask_outside_replaces_corners_by_their_mean() {
        let mut img = Image::from_fn(
            16,
            1.0,
            |[x, y, _]| if x * x + y * y > 36.0 { 2.0 } else { 5.0 },
        )
        .unwrap();
        soft_mask_outside(&mut img, 6.0, 1.0).unwrap();
        assert_eq!(img.get(8, 8), Some(5.0));
        assert!((img.get(0, 0).unwrap() - 2.0).abs() < 1e-5);
    }

    #[test]
    fn map_mask_thresholds_extends_and_softens() {
        // A single bright voxel at the centre.
        let map = Volume::from_fn(16, 1.0, |[x, y, z]| {
            if x == 0.0 && y == 0.0 && z == 0.0 {
                1.0
            } else {
                0.0
            }
        })
        .unwrap();
        let m = mask_from_map(&map, 0.5, 3.0, 4.0).unwrap();
        assert_eq!(m.get(10, 8, 8), Some(1.0)); // distance 2 < 3: inside the extension
        assert!((m.get(11, 8, 8).unwrap() - 0.5 - 0.5 * (PI / 4.0).cos() as f32).abs() < 1e-6); // 1 beyond it
        assert!((m.get(12, 8, 8).unwrap() - 0.5).abs() < 1e-6); // 2 beyond it: half-way down the edge
        assert_eq!(m.get(14, 8, 8), Some(0.0));
        let eroded = mask_from_map(&m, 0.99, -2.0, 0.0).unwrap();
        assert_eq!(eroded.get(8, 8, 8), Some(1.0));
        assert_eq!(eroded.get(10, 8, 8), Some(0.0));
        assert!(mask_from_map(&map, 0.5, 1.0, -1.0).is_err());
    }
}
