//! Point-group symmetry (C_n, C_nv, C_nh, S_n, D_n, D_nv, D_nh, T, T_d, T_h, O, O_h, I1–I4,
//! I1h–I4h) with RELION's axis conventions: parsing of `--sym` symbols, the full operator list,
//! symmetry-equivalent poses and viewing directions, and symmetry-aware pose distances.
//!
//! Operators are 3×3 matrices `R` acting on map coordinates (det +1 for rotations, −1 for
//! mirrors and inversion); a map with this symmetry satisfies `V(R·r) = V(r)`. A pose `A`
//! (see [`crate::geometry::euler`]) gives the same projection as `A·R` for a rotation `R`, and as
//! `diag(1, 1, −1)·A·R` for an improper `R` (flipping the projection axis does not change a
//! projection); [`SymmetryGroup::equivalent_rotations`] returns those proper rotations.

mod asymmetric_unit;
mod generators;
mod point_group;

use std::str::FromStr;

use glam::{DMat3, DVec3};

pub use asymmetric_unit::AsymmetricUnit;
pub use point_group::{IcosahedralSetting, MAX_FOLD, PointGroup};

use crate::geometry::euler::rotation_angle_between;

/// Why a symmetry symbol was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SymmetryError {
    /// The symbol is not a RELION point group.
    #[error(
        "unknown symmetry group {0:?}; accepted (case-insensitive, 1 ≤ n ≤ 99): C1, Cn, Ci, Cs, \
         Cnv, Cnh, Sn (n even), Dn, Dnv, Dnh, T, Td, Th, O, Oh, I, I1, I2, I3, I4, Ih, I1h, I2h, \
         I3h, I4h"
    )]
    UnknownSymmetry(String),
    /// The symbol names a group that RELION cannot build either.
    #[error("symmetry group {symbol:?} is not supported: {reason}")]
    Unsupported {
        /// The symbol as given.
        symbol: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// `diag(1, 1, −1)`: flips the projection (image z) axis.
const FLIP_Z: DMat3 = DMat3::from_cols(DVec3::X, DVec3::Y, DVec3::NEG_Z);

/// A point group with its full list of operators (identity first).
#[derive(Debug, Clone)]
pub struct SymmetryGroup {
    group: PointGroup,
    operators: Vec<DMat3>,
    /// RELION pairs operators derived from an inversion generator with `L = diag(1, 1, −1)`;
    /// true for those (improper operators of Ci, Sn, Th).
    relion_flip_z: Vec<bool>,
}

impl SymmetryGroup {
    /// The group named by a RELION symbol (case-insensitive), e.g. `"C1"`, `"d7"`, `"I3"`.
    ///
    /// ```
    /// use cryoflux_kernels::geometry::{euler::euler_to_matrix, symmetry::SymmetryGroup};
    /// let c4 = SymmetryGroup::parse("c4").unwrap();
    /// assert_eq!(c4.order(), 4);
    /// // rot + 90° is a C4 symmetry mate: zero angular error.
    /// let (a, b) = (euler_to_matrix(10.0, 30.0, 40.0), euler_to_matrix(100.0, 30.0, 40.0));
    /// assert!(c4.angular_distance(&a, &b) < 1e-9);
    /// assert!(SymmetryGroup::parse("X7").is_err());
    /// ```
    pub fn parse(symbol: &str) -> Result<Self, SymmetryError> {
        Ok(Self::new(PointGroup::parse(symbol)?))
    }

    /// The group C1 (identity only).
    pub fn c1() -> Self {
        Self::new(PointGroup::Cn(1))
    }

    /// Builds the operator list of a point group by closing RELION's generators.
    pub fn new(group: PointGroup) -> Self {
        let gens = generators::generators(group);
        let operators = generators::close_group(&gens);
        let inversion = generators::has_inversion(&gens);
        let relion_flip_z = operators
            .iter()
            .map(|r| inversion && r.determinant() < 0.0)
            .collect();
        Self {
            group,
            operators,
            relion_flip_z,
        }
    }

    /// The point group.
    pub fn point_group(&self) -> PointGroup {
        self.group
    }

    /// All operators `R` (map coordinates, det ±1), identity first.
    pub fn operators(&self) -> &[DMat3] {
        &self.operators
    }

    /// Number of operators, identity included.
    pub fn order(&self) -> usize {
        self.operators.len()
    }

    /// True for C1.
    pub fn is_c1(&self) -> bool {
        self.operators.len() == 1
    }

    /// RELION's left matrix `L` paired with operator `i`: `diag(1, 1, −1)` for improper operators
    /// of groups generated with an inversion, identity otherwise.
    pub fn relion_left(&self, i: usize) -> DMat3 {
        if self.relion_flip_z.get(i).copied().unwrap_or(false) {
            FLIP_Z
        } else {
            DMat3::IDENTITY
        }
    }

    /// All proper rotations giving the same projections as pose `a` (one per operator, `a`
    /// itself first): `a·R`, or `diag(1, 1, −1)·a·R` for improper `R`.
    pub fn equivalent_rotations<'a>(&'a self, a: &'a DMat3) -> impl Iterator<Item = DMat3> + 'a {
        self.operators.iter().map(move |r| {
            let ar = *a * *r;
            if r.determinant() < 0.0 {
                FLIP_Z * ar
            } else {
                ar
            }
        })
    }

    /// The symmetry copies RELION compares when it reduces or searches viewing directions:
    /// `L·Rᵀ·dir` for every operator (identity first). For rotation groups these are exactly the
    /// viewing directions of [`Self::equivalent_rotations`]; for groups with mirrors or inversion
    /// RELION's `L` bookkeeping differs from that (**[quirk]**), reproduced here on purpose.
    pub fn relion_direction_copies(&self, dir: DVec3) -> impl Iterator<Item = DVec3> + '_ {
        self.operators
            .iter()
            .zip(&self.relion_flip_z)
            .map(move |(r, &flip)| {
                let copy = r.transpose() * dir;
                if flip { FLIP_Z * copy } else { copy }
            })
    }

    /// Smallest `metric(a1, a2')` over the poses `a2'` equivalent to `a2`. Use
    /// [`crate::geometry::euler::rotation_angle_between`] for the geodesic angle or
    /// [`crate::geometry::euler::mean_row_angle_between`] for RELION's convergence monitor.
    pub fn min_distance(
        &self,
        a1: &DMat3,
        a2: &DMat3,
        metric: impl Fn(&DMat3, &DMat3) -> f64,
    ) -> f64 {
        self.equivalent_rotations(a2)
            .map(|b| metric(a1, &b))
            .fold(f64::INFINITY, f64::min)
    }

    /// Symmetry-aware angular error in degrees: the smallest rotation angle between `a1` and any
    /// pose equivalent to `a2` (e.g. refined pose versus ground truth).
    pub fn angular_distance(&self, a1: &DMat3, a2: &DMat3) -> f64 {
        self.min_distance(a1, a2, rotation_angle_between)
    }
}

impl FromStr for SymmetryGroup {
    type Err = SymmetryError;

    fn from_str(symbol: &str) -> Result<Self, Self::Err> {
        Self::parse(symbol)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::euler::{euler_to_matrix, mean_row_angle_between};

    const ALL: [&str; 33] = [
        "C1", "C2", "C5", "C12", "Ci", "Cs", "C1v", "C3v", "C4h", "S2", "S4", "S6", "D1", "D2",
        "D3", "D7", "D1v", "D2v", "D3h", "D4h", "T", "Td", "Th", "O", "Oh", "I1", "I2", "I3", "I4",
        "I1h", "I2h", "I3h", "I4h",
    ];

    fn index_of(ops: &[DMat3], m: &DMat3, tol: f64) -> Option<usize> {
        ops.iter().position(|op| op.abs_diff_eq(*m, tol))
    }

    #[test]
    fn groups_are_closed_with_expected_orders() {
        for symbol in ALL {
            let group = SymmetryGroup::parse(symbol).unwrap();
            let ops = group.operators();
            assert_eq!(ops.len(), group.point_group().order(), "{symbol}");
            assert_eq!(ops[0], DMat3::IDENTITY, "{symbol}");
            for (i, a) in ops.iter().enumerate() {
                assert!((a.determinant().abs() - 1.0).abs() < 1e-12, "{symbol}");
                assert!(
                    (*a * a.transpose()).abs_diff_eq(DMat3::IDENTITY, 1e-12),
                    "{symbol}"
                );
                assert_eq!(
                    index_of(ops, a, 1e-6),
                    Some(i),
                    "{symbol}: duplicate operator"
                );
                for b in ops {
                    assert!(
                        index_of(ops, &(*a * *b), 1e-9).is_some(),
                        "{symbol}: not closed"
                    );
                }
            }
        }
    }

    #[test]
    fn orders_of_named_families() {
        let order = |s: &str| SymmetryGroup::parse(s).unwrap().order();
        assert_eq!(
            [
                order("C7"),
                order("D7"),
                order("C7v"),
                order("C7h"),
                order("D7v"),
                order("D7h")
            ],
            [7, 14, 14, 14, 28, 28]
        );
        assert_eq!(
            [order("T"), order("O"), order("I"), order("Oh"), order("Ih")],
            [12, 24, 60, 48, 120]
        );
    }

    #[test]
    fn relion_axis_conventions() {
        let has = |s: &str, m: DMat3| {
            index_of(SymmetryGroup::parse(s).unwrap().operators(), &m, 1e-12).is_some()
        };
        let half_turn =
            |axis: DVec3| DMat3::from_axis_angle(axis.normalize(), std::f64::consts::PI);
        // Dn: n-fold on z, a 2-fold on x.
        assert!(has(
            "D3",
            DMat3::from_rotation_z(std::f64::consts::TAU / 3.0)
        ));
        assert!(has("D3", half_turn(DVec3::X)) && !has("D3", half_turn(DVec3::Y)));
        // I1 and I2 share the 2-folds on x, y, z and differ by a quarter turn: I2 has a 5-fold
        // on (1, 0, φ), I1 on (φ, 0, 1); I3 has its 5-fold on z.
        let phi = (1.0 + 5f64.sqrt()) / 2.0;
        let fifth_turn =
            |axis: DVec3| DMat3::from_axis_angle(axis.normalize(), std::f64::consts::TAU / 5.0);
        assert!(has("I1", half_turn(DVec3::X)) && has("I1", half_turn(DVec3::Z)));
        assert!(has("I2", fifth_turn(DVec3::new(1.0, 0.0, phi))));
        assert!(!has("I2", fifth_turn(DVec3::new(phi, 0.0, 1.0))));
        assert!(has("I1", fifth_turn(DVec3::new(phi, 0.0, 1.0))));
        assert!(!has("I1", fifth_turn(DVec3::new(1.0, 0.0, phi))));
        assert!(has("I3", fifth_turn(DVec3::Z)) && !has("I2", fifth_turn(DVec3::Z)));
        // O: 4-fold on z.
        assert!(has(
            "O",
            DMat3::from_rotation_z(std::f64::consts::FRAC_PI_2)
        ));
        // Cnv mirror ⟂ y, Cnh mirror ⟂ z.
        assert!(has("C2v", DMat3::from_diagonal(DVec3::new(1.0, -1.0, 1.0))));
        assert!(has("C2h", DMat3::from_diagonal(DVec3::new(1.0, 1.0, -1.0))));
    }

    #[test]
    fn equivalent_rotations_are_proper_and_give_same_projection_geometry() {
        let a = euler_to_matrix(20.0, 50.0, -70.0);
        for symbol in ["D3", "Oh", "S4", "I3h"] {
            let group = SymmetryGroup::parse(symbol).unwrap();
            let copies: Vec<DMat3> = group.equivalent_rotations(&a).collect();
            assert_eq!(copies.len(), group.order());
            assert_eq!(copies[0], a);
            for c in &copies {
                assert!((c.determinant() - 1.0).abs() < 1e-12, "{symbol}");
            }
        }
    }

    #[test]
    fn relion_direction_copies_apply_left_flip_only_for_inversion_groups() {
        let dir = DVec3::new(0.3, -0.4, 0.866_025_403_784_438_6);
        // Ci: RELION's copy of d under the inversion is (−x, −y, z).
        let ci: Vec<DVec3> = SymmetryGroup::parse("Ci")
            .unwrap()
            .relion_direction_copies(dir)
            .collect();
        assert_eq!(ci.len(), 2);
        assert!((ci[1] - DVec3::new(-dir.x, -dir.y, dir.z)).length() < 1e-15);
        // Cs: mirror ⟂ z, L = I: the copy is the mirrored direction.
        let cs: Vec<DVec3> = SymmetryGroup::parse("Cs")
            .unwrap()
            .relion_direction_copies(dir)
            .collect();
        assert!((cs[1] - DVec3::new(dir.x, dir.y, -dir.z)).length() < 1e-15);
        // Rotation groups: copies are Rᵀ·d.
        let d2 = SymmetryGroup::parse("D2").unwrap();
        for (copy, r) in d2.relion_direction_copies(dir).zip(d2.operators()) {
            assert!((copy - r.transpose() * dir).length() < 1e-15);
        }
        assert_eq!(d2.relion_left(1), DMat3::IDENTITY);
    }

    #[test]
    fn symmetric_angular_distance() {
        let c1 = SymmetryGroup::c1();
        let c4 = SymmetryGroup::parse("C4").unwrap();
        let a = euler_to_matrix(10.0, 30.0, 40.0);
        // A 90° turn about the map z axis (rot + 90) is a C4 symmetry mate: distance 0 in C4.
        let b = euler_to_matrix(100.0, 30.0, 40.0);
        assert!(c4.angular_distance(&a, &b) < 1e-10);
        assert!((c1.angular_distance(&a, &b) - 90.0).abs() < 1e-10);
        // 93° becomes 3° under C4.
        let c = euler_to_matrix(103.0, 30.0, 40.0);
        assert!((c4.angular_distance(&a, &c) - 3.0).abs() < 1e-10);
        // RELION's row-mean metric is also zero for a mate.
        assert!(c4.min_distance(&a, &b, mean_row_angle_between) < 1e-6);
        // Symmetric in its arguments.
        let d = euler_to_matrix(-50.0, 120.0, 5.0);
        let o = SymmetryGroup::parse("O").unwrap();
        assert!((o.angular_distance(&a, &d) - o.angular_distance(&d, &a)).abs() < 1e-9);
        assert!(o.angular_distance(&a, &d) <= c1.angular_distance(&a, &d));
    }

    #[test]
    fn from_str_reports_unknown_symbol() {
        let err = "X7".parse::<SymmetryGroup>().unwrap_err();
        assert_eq!(err, SymmetryError::UnknownSymmetry("X7".into()));
        assert!(err.to_string().contains("\"X7\""));
    }
}
