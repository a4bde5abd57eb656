//! RELION Euler angles (ZYZ: rot, tilt, psi in degrees) and rotation matrices, both directions.
//!
//! The rotation matrix is RELION's `A = Rz(psi)·Ry(tilt)·Rz(rot)` (`src/euler.cpp`) with
//! `Rz(t) = [[c, s, 0], [−s, c, 0], [0, 0, 1]]` and `Ry(t) = [[c, 0, −s], [0, 1, 0], [s, 0, c]]`
//! (rows written left to right). It maps map coordinates to image (projection-frame) coordinates:
//! - `A.row(0)`, `A.row(1)`: the image x and y axes expressed in map coordinates; the central
//!   slice of a projection at image frequency (kx, ky) is the 3D transform at
//!   `kx·A.row(0) + ky·A.row(1)`;
//! - `A.row(2)`: the viewing (projection) direction in map coordinates,
//!   `(sin tilt·cos rot, sin tilt·sin rot, cos tilt)`;
//! - a map point `r` lands at image position `(A·r).x, (A·r).y` (pixels or Å, same unit as `r`).
//!
//! glam's `DMat3` is column-major: matrices are built with [`DMat3::from_rows`] so that
//! `a.row(i)` is row `i` of RELION's `A`.
//!
//! All angles crossing this module's boundary are in **degrees**.

use std::f64::consts::PI;

use glam::{DMat3, DVec3};

/// Below this `|sin tilt|` a matrix is treated as a pure rotation about z (tilt 0 or 180°) and
/// all in-plane rotation goes into psi, as RELION does (16 single-precision epsilons).
const GIMBAL_LOCK_SIN: f64 = 16.0 * f32::EPSILON as f64;

/// A pose's orientation as RELION's three Euler angles, in degrees
/// (`rlnAngleRot`, `rlnAngleTilt`, `rlnAnglePsi`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EulerAngles {
    /// First rotation, about the map z axis (degrees).
    pub rot: f64,
    /// Second rotation, about the new y axis (degrees); 0 = looking down the map z axis.
    pub tilt: f64,
    /// Third, in-plane rotation about the viewing direction (degrees).
    pub psi: f64,
}

impl EulerAngles {
    /// Angles in degrees.
    pub const fn new(rot: f64, tilt: f64, psi: f64) -> Self {
        Self { rot, tilt, psi }
    }

    /// RELION's rotation matrix `A` for these angles (see the module doc for its meaning).
    pub fn to_matrix(self) -> DMat3 {
        euler_to_matrix(self.rot, self.tilt, self.psi)
    }

    /// Canonical angles of a rotation matrix: rot, psi in (−180, 180], tilt in [0, 180].
    pub fn from_matrix(a: &DMat3) -> Self {
        let (rot, tilt, psi) = matrix_to_euler(a);
        Self { rot, tilt, psi }
    }
}

/// RELION's rotation matrix `A = Rz(psi)·Ry(tilt)·Rz(rot)` for angles in degrees.
/// `A.row(2)` is the viewing direction; see the module doc.
pub fn euler_to_matrix(rot_deg: f64, tilt_deg: f64, psi_deg: f64) -> DMat3 {
    let (sa, ca) = deg_to_rad(rot_deg).sin_cos();
    let (sb, cb) = deg_to_rad(tilt_deg).sin_cos();
    let (sg, cg) = deg_to_rad(psi_deg).sin_cos();
    DMat3::from_rows(
        DVec3::new(cg * cb * ca - sg * sa, cg * cb * sa + sg * ca, -cg * sb),
        DVec3::new(-sg * cb * ca - cg * sa, -sg * cb * sa + cg * ca, sg * sb),
        DVec3::new(sb * ca, sb * sa, cb),
    )
}

/// Euler angles (rot, tilt, psi) in degrees of a rotation matrix `A` (RELION's convention):
/// rot and psi in (−180, 180], tilt in [0, 180]. When |sin tilt| is ~0 (below ~2·10⁻⁶) rot is
/// set to 0 and the whole in-plane rotation goes into psi, as `Euler_matrix2angles` does.
/// The input is assumed to be a proper rotation; other matrices give meaningless angles.
pub fn matrix_to_euler(a: &DMat3) -> (f64, f64, f64) {
    let m = |i: usize, j: usize| a.row(i)[j];
    let sin_tilt = m(0, 2).hypot(m(1, 2));
    let (rot, tilt, psi) = if sin_tilt > GIMBAL_LOCK_SIN {
        (
            m(2, 1).atan2(m(2, 0)),
            sin_tilt.atan2(m(2, 2)),
            m(1, 2).atan2(-m(0, 2)),
        )
    } else if m(2, 2) > 0.0 {
        // A = Rz(rot + psi): all of it into psi.
        (0.0, 0.0, (-m(1, 0)).atan2(m(0, 0)))
    } else {
        // A = Rz(psi)·Ry(180)·Rz(rot) depends on psi − rot only.
        (0.0, std::f64::consts::PI, m(1, 0).atan2(-m(0, 0)))
    };
    (
        wrap_degrees(rad_to_deg(rot)),
        rad_to_deg(tilt),
        wrap_degrees(rad_to_deg(psi)),
    )
}

/// Unit viewing direction `(sin tilt·cos rot, sin tilt·sin rot, cos tilt)` in map coordinates
/// for (rot, tilt) in degrees; equals `euler_to_matrix(rot, tilt, psi).row(2)` for any psi.
pub fn euler_to_direction(rot_deg: f64, tilt_deg: f64) -> DVec3 {
    let (sa, ca) = deg_to_rad(rot_deg).sin_cos();
    let (sb, cb) = deg_to_rad(tilt_deg).sin_cos();
    DVec3::new(sb * ca, sb * sa, cb)
}

/// (rot, tilt) in degrees of a viewing direction (need not be normalised, must be non-zero):
/// rot in (−180, 180], tilt in [0, 180]; rot = 0 on the poles.
pub fn direction_to_euler(dir: DVec3) -> (f64, f64) {
    let r_xy = dir.x.hypot(dir.y);
    let tilt = rad_to_deg(r_xy.atan2(dir.z));
    let rot = if r_xy > GIMBAL_LOCK_SIN * dir.length() {
        wrap_degrees(rad_to_deg(dir.y.atan2(dir.x)))
    } else {
        0.0
    };
    (rot, tilt)
}

/// Degrees to radians with RELION's rounding (`x·π/180`, its `DEG2RAD`), so that angles on the
/// exact borders of asymmetric units land on the same side as in RELION.
pub fn deg_to_rad(angle_deg: f64) -> f64 {
    angle_deg * PI / 180.0
}

/// Radians to degrees with RELION's rounding (`x·180/π`, its `RAD2DEG`).
pub fn rad_to_deg(angle_rad: f64) -> f64 {
    angle_rad * 180.0 / PI
}

/// An angle in degrees wrapped into (−180, 180].
pub fn wrap_degrees(angle_deg: f64) -> f64 {
    let w = angle_deg - 360.0 * (angle_deg / 360.0).round();
    if w <= -180.0 { w + 360.0 } else { w }
}

/// Geodesic distance between two rotations, in degrees [0, 180]: the rotation angle of
/// `a1·a2ᵀ`. Accurate for small angles too (uses both the trace and the antisymmetric part).
pub fn rotation_angle_between(a1: &DMat3, a2: &DMat3) -> f64 {
    let d = *a1 * a2.transpose();
    let m = |i: usize, j: usize| d.row(i)[j];
    let twice_sin = DVec3::new(m(2, 1) - m(1, 2), m(0, 2) - m(2, 0), m(1, 0) - m(0, 1)).length();
    let twice_cos = m(0, 0) + m(1, 1) + m(2, 2) - 1.0;
    rad_to_deg(twice_sin.atan2(twice_cos))
}

/// RELION's pose-change metric (`calculateAngularDistance`, used to monitor convergence): the
/// mean, over the three rows (image x axis, image y axis, viewing direction), of the angle in
/// degrees between corresponding rows of `a1` and `a2`.
pub fn mean_row_angle_between(a1: &DMat3, a2: &DMat3) -> f64 {
    (0..3)
        .map(|i| {
            let (u, v) = (a1.row(i), a2.row(i));
            rad_to_deg(u.cross(v).length().atan2(u.dot(v)))
        })
        .sum::<f64>()
        / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random angles in degrees, beyond the principal ranges.
    fn random_angles(n: usize) -> Vec<(f64, f64, f64)> {
        let mut random = crate::random::SplitMix64::new(1);
        let mut next = move || random.next_unit();
        (0..n)
            .map(|_| {
                (
                    next() * 720.0 - 360.0,
                    next() * 360.0 - 180.0,
                    next() * 720.0 - 360.0,
                )
            })
            .collect()
    }

    fn assert_mat_eq(a: &DMat3, b: &DMat3, tol: f64) {
        assert!(a.abs_diff_eq(*b, tol), "matrices differ:\n{a}\n{b}");
    }

    #[test]
    fn hand_computed_matrices() {
        // rot = 90 alone: Rz(90) = [[0, 1, 0], [−1, 0, 0], [0, 0, 1]].
        let rz = DMat3::from_rows(DVec3::Y, -DVec3::X, DVec3::Z);
        assert_mat_eq(&euler_to_matrix(90.0, 0.0, 0.0), &rz, 1e-15);
        // psi = 90 alone gives the same matrix.
        assert_mat_eq(&euler_to_matrix(0.0, 0.0, 90.0), &rz, 1e-15);
        // tilt = 90 alone: Ry(90) = [[0, 0, −1], [0, 1, 0], [1, 0, 0]]; views along +x.
        let ry = DMat3::from_rows(-DVec3::Z, DVec3::Y, DVec3::X);
        assert_mat_eq(&euler_to_matrix(0.0, 90.0, 0.0), &ry, 1e-15);
        // (rot, tilt, psi) = (90, 90, 90): Rz(90)·Ry(90)·Rz(90), multiplied out by hand:
        // Ry(90)·Rz(90) = [[0,0,−1],[−1,0,0],[0,1,0]]; Rz(90)· that = [[−1,0,0],[0,0,1],[0,1,0]].
        let expected = DMat3::from_rows(-DVec3::X, DVec3::Z, DVec3::Y);
        assert_mat_eq(&euler_to_matrix(90.0, 90.0, 90.0), &expected, 1e-15);
        // Explicit product of the elementary matrices for a generic triple.
        let rz_of = |t: f64| {
            let (s, c) = deg_to_rad(t).sin_cos();
            DMat3::from_rows(DVec3::new(c, s, 0.0), DVec3::new(-s, c, 0.0), DVec3::Z)
        };
        let (s, c) = deg_to_rad(37.0).sin_cos();
        let ry_37 = DMat3::from_rows(DVec3::new(c, 0.0, -s), DVec3::Y, DVec3::new(s, 0.0, c));
        let product = rz_of(-121.0) * ry_37 * rz_of(23.0);
        assert_mat_eq(&euler_to_matrix(23.0, 37.0, -121.0), &product, 1e-14);
    }

    /// RELION oracle: a 32³ map (1 Å/px) holding one voxel at map position (5, −3, 7) from the
    /// centre, projected by `relion_project --i pt.mrc --ang ang.star --o proj` (3.1.3) at the
    /// angles below; the brightest pixel of each projection, relative to the image centre, must be
    /// `(A·r).x, (A·r).y` rounded to the nearest pixel.
    #[test]
    fn point_projects_where_relion_project_puts_it() {
        let r = DVec3::new(5.0, -3.0, 7.0);
        let relion_peaks = [
            ((0.0, 0.0, 0.0), (5.0, -3.0)),
            ((90.0, 0.0, 0.0), (-3.0, -5.0)),
            ((0.0, 90.0, 0.0), (-7.0, -3.0)),
            ((0.0, 0.0, 90.0), (-3.0, -5.0)),
            ((30.0, 40.0, 50.0), (-5.0, -1.0)),
            ((-120.0, 135.0, 10.0), (-4.0, 7.0)),
        ];
        for ((rot, tilt, psi), (px, py)) in relion_peaks {
            let image = euler_to_matrix(rot, tilt, psi) * r;
            assert!(
                (image.x - px).abs() <= 0.5 && (image.y - py).abs() <= 0.5,
                "({rot}, {tilt}, {psi}): A·r = {image}, RELION peak at ({px}, {py})"
            );
        }
    }

    #[test]
    fn matrix_is_proper_rotation_and_row2_is_direction() {
        for (rot, tilt, psi) in random_angles(50) {
            let a = euler_to_matrix(rot, tilt, psi);
            assert_mat_eq(&(a * a.transpose()), &DMat3::IDENTITY, 1e-14);
            assert!((a.determinant() - 1.0).abs() < 1e-14);
            assert!((a.row(2) - euler_to_direction(rot, tilt)).length() < 1e-15);
        }
    }

    #[test]
    fn round_trip_matrix_angles_matrix() {
        for (rot, tilt, psi) in random_angles(200) {
            let a = euler_to_matrix(rot, tilt, psi);
            let (r, t, p) = matrix_to_euler(&a);
            assert!(
                r > -180.0 && r <= 180.0 && p > -180.0 && p <= 180.0,
                "{r} {p}"
            );
            assert!((0.0..=180.0).contains(&t), "{t}");
            assert_mat_eq(&euler_to_matrix(r, t, p), &a, 1e-12);
        }
    }

    #[test]
    fn canonical_angles_are_recovered_exactly() {
        let (r, t, p) = matrix_to_euler(&euler_to_matrix(-35.0, 120.0, 170.0));
        assert!((r + 35.0).abs() < 1e-12 && (t - 120.0).abs() < 1e-12 && (p - 170.0).abs() < 1e-12);
        // Negative tilt is folded: (rot, −tilt, psi) ≡ (rot + 180, tilt, psi + 180).
        let (r, t, p) = matrix_to_euler(&euler_to_matrix(10.0, -30.0, 20.0));
        assert!((r + 170.0).abs() < 1e-12 && (t - 30.0).abs() < 1e-12 && (p + 160.0).abs() < 1e-12);
    }

    #[test]
    fn degenerate_tilts_put_everything_into_psi() {
        // tilt 0: only rot + psi matters.
        let (r, t, p) = matrix_to_euler(&euler_to_matrix(30.0, 0.0, 40.0));
        assert_eq!((r, t), (0.0, 0.0));
        assert!((p - 70.0).abs() < 1e-12);
        // tilt 180: only psi − rot matters.
        let (r, t, p) = matrix_to_euler(&euler_to_matrix(30.0, 180.0, 40.0));
        assert_eq!((r, t), (0.0, 180.0));
        assert!((p - 10.0).abs() < 1e-12);
        // Tiny tilt below the threshold is also snapped; the matrix is preserved to ~1e-7.
        let a = euler_to_matrix(50.0, 1e-5, -20.0);
        let (r, t, p) = matrix_to_euler(&a);
        assert_eq!((r, t), (0.0, 0.0));
        assert_mat_eq(&euler_to_matrix(r, t, p), &a, 1e-6);
    }

    #[test]
    fn direction_round_trip_and_poles() {
        for (rot, tilt, _) in random_angles(100) {
            let d = euler_to_direction(rot, tilt);
            let (r, t) = direction_to_euler(d * 3.0);
            assert!((euler_to_direction(r, t) - d).length() < 1e-12);
            assert!((0.0..=180.0).contains(&t) && r > -180.0 && r <= 180.0);
        }
        assert_eq!(direction_to_euler(DVec3::Z), (0.0, 0.0));
        assert_eq!(direction_to_euler(-DVec3::Z), (0.0, 180.0));
        let (r, t) = direction_to_euler(DVec3::new(0.0, -1.0, 0.0));
        assert!((r + 90.0).abs() < 1e-12 && (t - 90.0).abs() < 1e-12);
    }

    #[test]
    fn wrap_degrees_range() {
        assert_eq!(wrap_degrees(-180.0), 180.0);
        assert_eq!(wrap_degrees(180.0), 180.0);
        assert!((wrap_degrees(540.0 + 1.0) + 179.0).abs() < 1e-12);
        assert!((wrap_degrees(-721.0) + 1.0).abs() < 1e-12);
    }

    #[test]
    fn distances_between_rotations() {
        let a = euler_to_matrix(10.0, 20.0, 30.0);
        assert!(rotation_angle_between(&a, &a).abs() < 1e-12);
        // An extra in-plane rotation of 7° is a 7° rotation; it leaves row 2 fixed and turns
        // rows 0 and 1 by 7°, so RELION's row mean is 14/3.
        let b = euler_to_matrix(10.0, 20.0, 37.0);
        assert!((rotation_angle_between(&a, &b) - 7.0).abs() < 1e-10);
        assert!((mean_row_angle_between(&a, &b) - 14.0 / 3.0).abs() < 1e-10);
        // Tiny angles stay accurate.
        let c = euler_to_matrix(10.0, 20.0, 30.0 + 1e-6);
        assert!((rotation_angle_between(&a, &c) - 1e-6).abs() < 1e-12);
        // Half turn.
        let d = DMat3::from_rotation_x(std::f64::consts::PI) * a;
        assert!((rotation_angle_between(&a, &d) - 180.0).abs() < 1e-10);
    }

    #[test]
    fn euler_angles_struct_round_trip() {
        let e = EulerAngles::new(-100.0, 45.0, 60.0);
        let back = EulerAngles::from_matrix(&e.to_matrix());
        assert!((back.rot - e.rot).abs() < 1e-12);
        assert!((back.tilt - e.tilt).abs() < 1e-12);
        assert!((back.psi - e.psi).abs() < 1e-12);
    }
}
