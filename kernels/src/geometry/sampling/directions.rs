//! RELION's coarse list of viewing directions: HEALPix centres folded to (rot, tilt), reduced to
//! one asymmetric unit (refine.md §7.1–7.2, `HealpixSampling::setOrientations`).

use glam::DVec3;

use crate::geometry::euler::{deg_to_rad, euler_to_direction, rad_to_deg};
use crate::geometry::healpix::{Healpix, PixelCentre};
use crate::geometry::symmetry::{AsymmetricUnit, SymmetryGroup};

/// The greedy seam clean-up only runs below this many directions (RELION's cost guard).
const GREEDY_LIMIT: usize = 4000;

/// One coarse viewing direction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Direction {
    /// Azimuth in degrees, [−180, 180].
    pub rot: f64,
    /// Tilt (colatitude) in degrees, [0, 180].
    pub tilt: f64,
    /// NESTED HEALPix index of the pixel it is the centre of.
    pub ipix: u64,
}

impl Direction {
    /// RELION's direction of a HEALPix pixel centre: rot = φ, tilt = acos z (degrees), rot folded
    /// into [−180, 180] (`getDirectionFromHealPix` + `checkDirection`).
    pub(super) fn from_centre(centre: PixelCentre, ipix: u64) -> Self {
        let mut rot = rad_to_deg(centre.phi);
        if rot > 180.0 {
            rot -= 360.0;
        }
        Self {
            rot,
            tilt: rad_to_deg(centre.z.acos()),
            ipix,
        }
    }

    /// Unit viewing direction in map coordinates (RELION's `Euler_angles2direction`).
    pub fn vector(&self) -> DVec3 {
        euler_to_direction(self.rot, self.tilt)
    }
}

/// RELION's `--limit_tilt` filter: with `limit > 0` keep |tilt'| ≥ limit (side views), with
/// `limit < 0` keep |tilt'| ≤ |limit| (top views), where tilt' is the tilt folded into
/// [−90, 90]. Limits with |limit| ≥ 90 keep everything.
pub(super) fn keep_for_tilt_limit(tilt: f64, limit: f64) -> bool {
    if limit.abs() >= 90.0 {
        return true;
    }
    let folded = if tilt > 90.0 { tilt - 180.0 } else { tilt };
    (limit > 0.0 && folded.abs() >= limit.abs()) || (limit < 0.0 && folded.abs() <= limit.abs())
}

/// The symmetry-reduced coarse directions at a HEALPix order, in RELION's order: all pixel
/// centres in NESTED order; the group's geometric asymmetric-unit cut; then, if fewer than 4000
/// remain, a greedy pass dropping any direction within 0.5·max_pixrad of a symmetry copy of an
/// already kept one; finally the optional tilt limit.
pub(super) fn reduced_directions(
    healpix: Healpix,
    symmetry: &SymmetryGroup,
    limit_tilt_deg: Option<f64>,
) -> Vec<Direction> {
    let unit = AsymmetricUnit::new(symmetry.point_group());
    let cut: Vec<(Direction, DVec3)> = healpix
        .centres()
        .zip(0..)
        .map(|(centre, ipix)| {
            let d = Direction::from_centre(centre, ipix);
            (d, d.vector())
        })
        .filter(|(d, v)| unit.contains(d.rot, d.tilt, *v))
        .collect();
    let kept = if cut.len() < GREEDY_LIMIT {
        remove_symmetry_mates(cut, symmetry, 0.5 * rad_to_deg(healpix.max_pixel_radius()))
    } else {
        cut
    };
    kept.into_iter()
        .map(|(d, _)| d)
        .filter(|d| limit_tilt_deg.is_none_or(|limit| keep_for_tilt_limit(d.tilt, limit)))
        .collect()
}

/// Greedy, in list order: keep a direction unless some symmetry copy of an already kept one lies
/// within `max_angle_deg` of it.
fn remove_symmetry_mates(
    candidates: Vec<(Direction, DVec3)>,
    symmetry: &SymmetryGroup,
    max_angle_deg: f64,
) -> Vec<(Direction, DVec3)> {
    let cos_max = deg_to_rad(max_angle_deg).cos();
    let mut kept_copies: Vec<DVec3> = Vec::new();
    let mut kept = Vec::new();
    for (d, v) in candidates {
        if kept_copies.iter().any(|copy| copy.dot(v) > cos_max) {
            continue;
        }
        kept_copies.extend(symmetry.relion_direction_copies(v));
        kept.push((d, v));
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directions(order: u32, symbol: &str) -> Vec<Direction> {
        let symmetry = SymmetryGroup::parse(symbol).unwrap();
        reduced_directions(Healpix::new(order).unwrap(), &symmetry, None)
    }

    #[test]
    fn c1_keeps_every_pixel_in_nested_order() {
        let dirs = directions(2, "C1");
        assert_eq!(dirs.len(), 192);
        assert!(dirs.iter().zip(0..).all(|(d, i)| d.ipix == i));
        assert!(
            dirs.iter()
                .all(|d| (-180.0..=180.0).contains(&d.rot) && (0.0..=180.0).contains(&d.tilt))
        );
    }

    #[test]
    fn reduced_sets_cover_the_sphere_once() {
        // Every C1 direction must be within one pixel radius of a symmetry copy of a kept one,
        // and the count is about npix/|G|. Only for groups where RELION's cut achieves this: its
        // I2/I4 units and the coarse C7/D7 lists leave gaps of up to ~1.6 pixel radii, and for
        // groups with inversion or mirrors its direction copies are not the physical ones.
        for (symbol, order) in [
            ("D2", 2),
            ("C4", 3),
            ("D3", 3),
            ("T", 3),
            ("O", 3),
            ("I1", 3),
        ] {
            let symmetry = SymmetryGroup::parse(symbol).unwrap();
            let healpix = Healpix::new(order).unwrap();
            let kept = directions(order, symbol);
            let copies: Vec<DVec3> = kept
                .iter()
                .flat_map(|d| symmetry.relion_direction_copies(d.vector()))
                .collect();
            let radius = healpix.max_pixel_radius();
            for d in directions(order, "C1") {
                let v = d.vector();
                let nearest = copies
                    .iter()
                    .map(|c| c.angle_between(v))
                    .fold(f64::INFINITY, f64::min);
                assert!(
                    nearest <= radius,
                    "{symbol} o{order}: ({}, {}) uncovered",
                    d.rot,
                    d.tilt
                );
            }
            let expected = healpix.npix() as f64 / symmetry.order() as f64;
            let ratio = kept.len() as f64 / expected;
            assert!(
                (0.7..1.4).contains(&ratio),
                "{symbol} o{order}: {} vs {expected}",
                kept.len()
            );
        }
    }

    #[test]
    fn tilt_limit() {
        assert!(keep_for_tilt_limit(100.0, 70.0) && !keep_for_tilt_limit(100.0, 85.0));
        assert!(keep_for_tilt_limit(170.0, -10.0) && !keep_for_tilt_limit(150.0, -10.0));
        assert!(keep_for_tilt_limit(0.0, -91.0));
        let symmetry = SymmetryGroup::c1();
        let side = reduced_directions(Healpix::new(2).unwrap(), &symmetry, Some(60.0));
        assert!(!side.is_empty() && side.len() < 192);
        assert!(side.iter().all(|d| (d.tilt - 90.0).abs() <= 30.0));
    }
}
