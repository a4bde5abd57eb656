//! RELION's geometric cut of viewing directions to one asymmetric unit of a point group
//! (`removeSymmetryEquivalentPointsGeometric`, inherited from Xmipp; refine.md §7.2 step 1).
//!
//! Each group keeps directions inside a rot/tilt box (degrees) and/or on the non-negative side of
//! a few planes through symmetry axes. The cut is deliberately generous at the borders; the
//! greedy removal in [`crate::geometry::sampling`] then drops the remaining symmetry mates.
//! Comparisons are exactly RELION's (inclusive bounds, `rot == 0` special cases) so that HEALPix
//! centres lying on a border fall on the same side.

use glam::DVec3;

use super::point_group::{IcosahedralSetting, PointGroup};
use crate::geometry::euler::euler_to_matrix;

/// A half-space test `dot(direction, normal) ≥ 0` (or `≤ 0` when `non_positive`).
#[derive(Debug, Clone, Copy)]
struct HalfSpace {
    normal: DVec3,
    non_positive: bool,
}

impl HalfSpace {
    fn keeps(&self, dir: DVec3) -> bool {
        let d = dir.dot(self.normal);
        if self.non_positive {
            d <= 0.0
        } else {
            d >= 0.0
        }
    }
}

/// Inclusive rot/tilt box, degrees.
#[derive(Debug, Clone, Copy)]
struct RotTiltBox {
    rot_min: f64,
    rot_max: f64,
    tilt_max: f64,
}

impl RotTiltBox {
    fn keeps(&self, rot: f64, tilt: f64) -> bool {
        rot >= self.rot_min && rot <= self.rot_max && tilt <= self.tilt_max
    }
}

/// The direction filter of one point group: `(box or (rot == 0 if allowed)) and all half-spaces`.
#[derive(Debug, Clone)]
pub struct AsymmetricUnit {
    rot_tilt: Option<RotTiltBox>,
    also_rot_zero: bool,
    half_spaces: Vec<HalfSpace>,
}

/// A tilt bound that never excludes anything (tilt ≤ 180 always).
const ANY_TILT: f64 = f64::INFINITY;

fn rot_tilt(rot_min: f64, rot_max: f64, tilt_max: f64) -> Option<RotTiltBox> {
    Some(RotTiltBox {
        rot_min,
        rot_max,
        tilt_max,
    })
}

/// Unit normals `≥ 0`, optionally rotated by `A(0, tilt, 0)` first (RELION's I1/I3/I4 settings).
fn half_spaces(normals: &[[f64; 3]], tilt_deg: f64, non_positive: bool) -> Vec<HalfSpace> {
    let a = euler_to_matrix(0.0, tilt_deg, 0.0);
    normals
        .iter()
        .map(|&n| {
            let v = DVec3::from_array(n);
            let v = if tilt_deg == 0.0 { v } else { a * v };
            HalfSpace {
                normal: v.normalize(),
                non_positive,
            }
        })
        .collect()
}

// Plane normals, as RELION lists them (only their direction matters).
const T_PLANES: [[f64; 3]; 3] = [
    [-0.942809, 0.0, 0.0],
    [0.471405, 0.272165, 0.7698],
    [0.471404, 0.816497, 0.0],
];
const TD_PLANES: [[f64; 3]; 3] = [
    [-0.942809, 0.0, 0.0],
    [0.471405, 0.272165, 0.7698],
    [0.0, 0.471405, -0.666667],
];
// RELION's literal decimals (not exact 1/√2) are kept so that border decisions agree with it.
#[allow(clippy::approx_constant)]
const TH_PLANES: [[f64; 3]; 3] = [
    [-0.816496, 0.0, 0.0],
    [0.707107, 0.408248, -0.57735],
    [-0.408248, -0.707107, 0.0],
];
const O_PLANES: [[f64; 3]; 3] = [[0.0, -1.0, 1.0], [1.0, 1.0, 0.0], [-1.0, 1.0, 0.0]];
/// I2 setting (also used, rotated by tilt 90°, for I1 and, rotated by 31.717°, for I3).
const I_PLANES: [[f64; 3]; 3] = [
    [0.0, 1.0, 0.0],
    [-0.4999999839058737, -0.8090170074556163, 0.3090169861701543],
    [0.4999999839058737, -0.8090170074556163, 0.3090169861701543],
];
/// I4 (and the first three planes of I3h/I4h), used with `≤ 0` for I4 and I4h, `≥ 0` for I3h.
const I4_PLANES: [[f64; 3]; 3] = [
    [0.0, 0.0, 1.0],
    [0.187592467856686, -0.303530987314591, -0.491123477863004],
    [0.187592467856686, 0.303530987314591, -0.491123477863004],
];
/// Tilt (degrees) that takes the I2 planes to the I3/I4 settings.
const I34_TILT: f64 = 31.7174745559;

impl AsymmetricUnit {
    /// The cut RELION applies for this group.
    pub fn new(group: PointGroup) -> Self {
        let only = |rot_tilt| Self {
            rot_tilt,
            also_rot_zero: false,
            half_spaces: Vec::new(),
        };
        let planes = |half_spaces| Self {
            rot_tilt: None,
            also_rot_zero: false,
            half_spaces,
        };
        match group {
            PointGroup::Cn(n) => {
                let n = f64::from(n);
                only(rot_tilt(-180.0 / n, 180.0 / n, ANY_TILT))
            }
            PointGroup::Ci | PointGroup::Cs | PointGroup::Dn(1) => {
                only(rot_tilt(f64::NEG_INFINITY, f64::INFINITY, 90.0))
            }
            PointGroup::Cnv(n) => only(rot_tilt(0.0, 180.0 / f64::from(n), ANY_TILT)),
            PointGroup::Cnh(n) => {
                let n = f64::from(n);
                only(rot_tilt(-180.0 / n, 180.0 / n, 90.0))
            }
            PointGroup::Sn(n) => {
                let n = f64::from(n);
                only(rot_tilt(-180.0 * 2.0 / n, 180.0 * 2.0 / n, 90.0))
            }
            PointGroup::Dn(n) => {
                let n = f64::from(n);
                only(rot_tilt(-180.0 / n + 90.0, 180.0 / n + 90.0, 90.0))
            }
            PointGroup::Dnv(n) | PointGroup::Dnh(n) => {
                only(rot_tilt(90.0, 180.0 / f64::from(n) + 90.0, 90.0))
            }
            PointGroup::T => Self {
                rot_tilt: rot_tilt(90.0, 150.0, ANY_TILT),
                also_rot_zero: true,
                half_spaces: half_spaces(&T_PLANES, 0.0, false),
            },
            PointGroup::Td => planes(half_spaces(&TD_PLANES, 0.0, false)),
            PointGroup::Th => planes(half_spaces(&TH_PLANES, 0.0, false)),
            PointGroup::O => Self {
                rot_tilt: rot_tilt(45.0, 135.0, 90.0),
                also_rot_zero: true,
                half_spaces: half_spaces(&O_PLANES, 0.0, false),
            },
            PointGroup::Oh => Self {
                rot_tilt: rot_tilt(90.0, 135.0, 90.0),
                also_rot_zero: false,
                half_spaces: half_spaces(&O_PLANES, 0.0, false),
            },
            PointGroup::I(setting) => planes(match setting {
                IcosahedralSetting::I2 => half_spaces(&I_PLANES, 0.0, false),
                IcosahedralSetting::I1 => half_spaces(&I_PLANES, 90.0, false),
                IcosahedralSetting::I3 => half_spaces(&I_PLANES, I34_TILT, false),
                IcosahedralSetting::I4 => half_spaces(&I4_PLANES, -I34_TILT, true),
            }),
            PointGroup::Ih(setting) => planes(match setting {
                IcosahedralSetting::I2 => {
                    let mut h = half_spaces(&I_PLANES[..2], 0.0, false);
                    h.extend(half_spaces(&[[1.0, 0.0, 0.0]], 0.0, false));
                    h
                }
                IcosahedralSetting::I1 => {
                    let mut h = half_spaces(&I_PLANES[..2], 90.0, false);
                    h.extend(half_spaces(&[[1.0, 0.0, 0.0]], 90.0, false));
                    h
                }
                IcosahedralSetting::I3 => {
                    let mut h = half_spaces(&I4_PLANES, I34_TILT, false);
                    h.extend(half_spaces(&[[0.0, 1.0, 0.0]], 0.0, false));
                    h
                }
                IcosahedralSetting::I4 => {
                    let mut h = half_spaces(&I4_PLANES, -I34_TILT, true);
                    h.extend(half_spaces(&[[0.0, 1.0, 0.0]], 0.0, false));
                    h
                }
            }),
        }
    }

    /// Whether the direction (rot, tilt in degrees, as RELION folds them: rot ∈ [−180, 180],
    /// tilt ∈ [0, 180]; `dir` the matching unit vector) survives the cut.
    pub fn contains(&self, rot_deg: f64, tilt_deg: f64, dir: DVec3) -> bool {
        let in_box = match self.rot_tilt {
            Some(b) => b.keeps(rot_deg, tilt_deg) || (self.also_rot_zero && rot_deg == 0.0),
            None => true,
        };
        in_box && self.half_spaces.iter().all(|h| h.keeps(dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::euler::euler_to_direction;

    fn keeps(group: &str, rot: f64, tilt: f64) -> bool {
        let unit = AsymmetricUnit::new(PointGroup::parse(group).unwrap());
        unit.contains(rot, tilt, euler_to_direction(rot, tilt))
    }

    #[test]
    fn box_cuts_follow_relion_bounds() {
        assert!(keeps("C4", 45.0, 170.0) && keeps("C4", -45.0, 10.0));
        assert!(!keeps("C4", 46.0, 10.0));
        assert!(keeps("D2", 0.0, 90.0) && keeps("D2", 180.0, 90.0) && keeps("D2", 90.0, 10.0));
        assert!(!keeps("D2", 90.0, 91.0) && !keeps("D2", -1.0, 10.0));
        assert!(keeps("D1", -170.0, 90.0) && !keeps("D1", -170.0, 90.5));
        assert!(keeps("C3v", 0.0, 150.0) && !keeps("C3v", -0.5, 150.0));
        assert!(keeps("D3h", 150.0, 60.0) && !keeps("D3h", 151.0, 60.0));
    }

    #[test]
    fn tetrahedral_rot_zero_exception() {
        // rot = 0 bypasses T's rot box (the half-space tests still apply); top view passes.
        assert!(keeps("T", 0.0, 0.0));
        assert!(!keeps("T", 10.0, 0.0));
    }

    #[test]
    fn icosahedral_units_hold_about_a_sixtieth_of_the_sphere() {
        // Fraction of a Fibonacci sphere inside the cut: the cut is a spherical triangle of area
        // 4π/60 for I (all settings) and 4π/120 for Ih, give or take boundary points.
        let n = 20_000;
        for (symbol, expected) in [
            ("I1", 60.0),
            ("I2", 60.0),
            ("I3", 60.0),
            ("I4", 60.0),
            ("I2h", 120.0),
            ("I3h", 120.0),
        ] {
            let unit = AsymmetricUnit::new(PointGroup::parse(symbol).unwrap());
            let inside = (0..n)
                .filter(|&i| {
                    let z = 1.0 - (2.0 * i as f64 + 1.0) / n as f64;
                    let phi = i as f64 * std::f64::consts::PI * (3.0 - 5f64.sqrt());
                    let r = (1.0 - z * z).sqrt();
                    let dir = DVec3::new(r * phi.cos(), r * phi.sin(), z);
                    let (rot, tilt) = crate::geometry::euler::direction_to_euler(dir);
                    unit.contains(rot, tilt, dir)
                })
                .count();
            let fraction = inside as f64 / n as f64;
            assert!(
                (fraction * expected - 1.0).abs() < 0.05,
                "{symbol}: {fraction}"
            );
        }
    }
}
