//! Generators of each point group in RELION's orientation (refine.md §6.1, `src/symmetries.cpp`)
//! and their closure into the full operator list.
//!
//! Axes are written in exact closed form (golden ratio φ, √2, √3, …) rather than RELION's
//! 7–10 digit decimals, so that the closed group is exact to ~1e-15; the two agree to ~1e-9.

use glam::{DMat3, DVec3};

use super::point_group::{IcosahedralSetting, PointGroup};

/// Two operators closer than this (max abs element difference) are the same operator; RELION's
/// closure uses the same 1e-6 tolerance.
const SAME_OPERATOR: f64 = 1e-6;

/// One generating element of a point group, in map coordinates.
#[derive(Debug, Clone, Copy)]
pub(super) enum Generator {
    /// All rotations by 360°·k/fold (k = 1 … fold−1) about a unit axis.
    Rotation { fold: u32, axis: DVec3 },
    /// Reflection through the plane with this unit normal.
    Mirror { normal: DVec3 },
    /// Point inversion r → −r.
    Inversion,
}

impl Generator {
    fn rotation(fold: u32, axis: DVec3) -> Self {
        Self::Rotation {
            fold,
            axis: axis.normalize(),
        }
    }

    fn mirror(normal: DVec3) -> Self {
        Self::Mirror {
            normal: normal.normalize(),
        }
    }

    /// The non-identity matrices this generator contributes.
    fn elements(self) -> Vec<DMat3> {
        match self {
            Self::Rotation { fold, axis } => (1..fold)
                .map(|k| {
                    let angle = std::f64::consts::TAU * f64::from(k) / f64::from(fold);
                    DMat3::from_axis_angle(axis, angle)
                })
                .collect(),
            Self::Mirror { normal } => {
                let column = |j: usize| {
                    let mut e = DVec3::ZERO;
                    e[j] = 1.0;
                    e - 2.0 * normal[j] * normal
                };
                vec![DMat3::from_cols(column(0), column(1), column(2))]
            }
            Self::Inversion => vec![-DMat3::IDENTITY],
        }
    }
}

/// Golden ratio φ = (1 + √5)/2.
fn phi() -> f64 {
    (1.0 + 5f64.sqrt()) / 2.0
}

/// Generators of the rotation part of an icosahedral setting: (2-fold, 5-fold, 3-fold) axes.
/// The 3-fold is implied by the other two; it is listed to mirror RELION's definition.
fn icosahedral_generators(setting: IcosahedralSetting) -> Vec<Generator> {
    let p = phi();
    let (two, five, three) = match setting {
        IcosahedralSetting::I1 => (
            DVec3::X,
            DVec3::new(p, 0.0, -1.0),
            DVec3::new(p, 1.0 / p, 0.0),
        ),
        IcosahedralSetting::I2 => (
            DVec3::Z,
            DVec3::new(1.0, 0.0, p),
            DVec3::new(0.0, 1.0 / p, p),
        ),
        IcosahedralSetting::I3 => (
            DVec3::new(-1.0, 0.0, p),
            DVec3::Z,
            DVec3::new(
                -0.491_123_477_863_004_4,
                0.356_822_076_470_517_9,
                0.794_654_475_375_942_8,
            ),
        ),
        IcosahedralSetting::I4 => (
            DVec3::new(1.0, 0.0, p),
            DVec3::new(2.0, 0.0, 1.0),
            DVec3::new(
                0.491_123_477_863_004_4,
                0.356_822_076_470_517_9,
                0.794_654_475_375_942_8,
            ),
        ),
    };
    vec![
        Generator::rotation(2, two),
        Generator::rotation(5, five),
        Generator::rotation(3, three),
    ]
}

/// Normal of the extra mirror plane of Ih in each setting (RELION's choice).
fn icosahedral_mirror(setting: IcosahedralSetting) -> DVec3 {
    let p = phi();
    match setting {
        IcosahedralSetting::I1 => -DVec3::Z,
        IcosahedralSetting::I2 => DVec3::X,
        IcosahedralSetting::I3 => DVec3::new(p, 0.0, 1.0),
        IcosahedralSetting::I4 => DVec3::new(p, 0.0, -1.0),
    }
}

/// RELION's generators for a point group (refine.md §6.1 table).
pub(super) fn generators(group: PointGroup) -> Vec<Generator> {
    use Generator as G;
    // Tetrahedral 2-fold: (0, √(2/3), √(1/3)), RELION's (0, 0.816496, 0.577350).
    let tetra_two = DVec3::new(0.0, 2f64.sqrt(), 1.0);
    let z_fold = |n: u32| G::rotation(n, DVec3::Z);
    match group {
        PointGroup::Cn(n) => vec![z_fold(n)],
        PointGroup::Ci => vec![G::Inversion],
        PointGroup::Cs => vec![G::mirror(DVec3::Z)],
        PointGroup::Cnv(n) => vec![z_fold(n), G::mirror(DVec3::Y)],
        PointGroup::Cnh(n) => vec![z_fold(n), G::mirror(DVec3::Z)],
        PointGroup::Sn(n) => vec![z_fold(n / 2), G::Inversion],
        PointGroup::Dn(n) => vec![z_fold(n), G::rotation(2, DVec3::X)],
        PointGroup::Dnv(n) => vec![z_fold(n), G::rotation(2, DVec3::X), G::mirror(DVec3::X)],
        PointGroup::Dnh(n) => vec![z_fold(n), G::rotation(2, DVec3::X), G::mirror(DVec3::Z)],
        PointGroup::T => vec![z_fold(3), G::rotation(2, tetra_two)],
        // Mirror normal (√2, √6, 0) ∝ (1, √3, 0).
        PointGroup::Td => vec![
            z_fold(3),
            G::rotation(2, tetra_two),
            G::mirror(DVec3::new(1.0, 3f64.sqrt(), 0.0)),
        ],
        PointGroup::Th => vec![z_fold(3), G::rotation(2, -tetra_two), G::Inversion],
        PointGroup::O => vec![G::rotation(3, DVec3::ONE), z_fold(4)],
        PointGroup::Oh => vec![
            G::rotation(3, DVec3::ONE),
            z_fold(4),
            G::mirror(DVec3::new(0.0, 1.0, 1.0)),
        ],
        PointGroup::I(setting) => icosahedral_generators(setting),
        PointGroup::Ih(setting) => {
            let mut gens = icosahedral_generators(setting);
            gens.push(G::mirror(icosahedral_mirror(setting)));
            gens
        }
    }
}

/// True when the group is generated with an inversion (Ci, Sn, Th); RELION then pairs each
/// improper operator with `L = diag(1, 1, −1)` (see [`super::SymmetryGroup::relion_direction_copies`]).
pub(super) fn has_inversion(gens: &[Generator]) -> bool {
    gens.iter().any(|g| matches!(g, Generator::Inversion))
}

fn contains(ops: &[DMat3], m: &DMat3) -> bool {
    ops.iter().any(|op| op.abs_diff_eq(*m, SAME_OPERATOR))
}

/// All operators generated by `gens`, identity first, then in breadth-first order of discovery.
/// Each generator is added only if the group built so far lacks it, so a redundant generator given
/// with limited precision (RELION's icosahedral 3-folds) never enters the list.
pub(super) fn close_group(gens: &[Generator]) -> Vec<DMat3> {
    let mut ops = vec![DMat3::IDENTITY];
    let mut multipliers: Vec<DMat3> = Vec::new();
    for generator in gens {
        let new: Vec<DMat3> = generator
            .elements()
            .into_iter()
            .filter(|m| !contains(&ops, m))
            .collect();
        if new.is_empty() {
            continue;
        }
        multipliers.extend(&new);
        // Breadth-first: multiply every known operator by every generator element until no
        // product is new.
        let mut frontier = ops.clone();
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for x in &frontier {
                for g in &multipliers {
                    let product = *x * *g;
                    if !contains(&ops, &product) {
                        ops.push(product);
                        next.push(product);
                    }
                }
            }
            frontier = next;
        }
    }
    ops
}
