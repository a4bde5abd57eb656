//! cryoSPARC's pose (`alignments3D/pose`: an axis-angle rotation vector, radians) as RELION's
//! rotation matrix and Euler angles (degrees), both directions.
//!
//! A rotation vector `v` (axis `v/|v|`, angle `|v|` radians, counter-clockwise) stands for the
//! right-handed rotation matrix `R(v) = exp([v]×)`. cryoSPARC's `R(v)` maps image coordinates to
//! map coordinates, so RELION's matrix (map → image, see [`super::euler`]) is its transpose:
//! `A = R(v)ᵀ = R(−v)`. This is the convention pyem's `csparc2star.py` uses (its `expmap`
//! builds `R(v)ᵀ` directly, then decomposes it with RELION's ZYZ convention).

use glam::{DMat3, DQuat, DVec3};

use super::euler::EulerAngles;

/// RELION's rotation matrix `A = R(v)ᵀ` for the cryoSPARC rotation vector `pose_rad`
/// (radians); the zero vector gives the identity.
pub fn matrix_from_cryosparc_pose(pose_rad: DVec3) -> DMat3 {
    DMat3::from_quat(DQuat::from_scaled_axis(pose_rad)).transpose()
}

/// RELION's Euler angles (rot, tilt, psi in degrees, canonical ranges as
/// [`EulerAngles::from_matrix`]) of the cryoSPARC rotation vector `pose_rad` (radians).
pub fn euler_from_cryosparc_pose(pose_rad: DVec3) -> EulerAngles {
    EulerAngles::from_matrix(&matrix_from_cryosparc_pose(pose_rad))
}

/// The cryoSPARC rotation vector (radians, angle in [0, π]) of RELION's Euler angles (degrees):
/// the inverse of [`euler_from_cryosparc_pose`] up to equivalent angle triplets.
pub fn cryosparc_pose_from_euler(angles: EulerAngles) -> DVec3 {
    let q = DQuat::from_mat3(&angles.to_matrix().transpose()).normalize();
    // q and −q are the same rotation; w ≥ 0 picks the angle in [0, π].
    if q.w < 0.0 { -q } else { q }.to_scaled_axis()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::euler::rotation_angle_between;

    fn close(a: EulerAngles, b: [f64; 3]) -> bool {
        (a.rot - b[0]).abs() < 1e-9 && (a.tilt - b[1]).abs() < 1e-9 && (a.psi - b[2]).abs() < 1e-9
    }

    #[test]
    fn rotation_about_z_is_an_in_plane_rotation_psi() {
        // R(θ ẑ)ᵀ = RELION's Rz(θ) = A(rot 0, tilt 0, psi θ).
        let angles = euler_from_cryosparc_pose(DVec3::new(0.0, 0.0, 30f64.to_radians()));
        assert!(close(angles, [0.0, 0.0, 30.0]), "{angles:?}");
    }

    #[test]
    fn rotation_about_y_is_a_tilt() {
        // R(θ ŷ)ᵀ = [[c, 0, −s], [0, 1, 0], [s, 0, c]] = RELION's Ry(θ).
        let angles = euler_from_cryosparc_pose(DVec3::new(0.0, 50f64.to_radians(), 0.0));
        assert!(close(angles, [0.0, 50.0, 0.0]), "{angles:?}");
    }

    #[test]
    fn zero_vector_is_the_identity() {
        assert_eq!(matrix_from_cryosparc_pose(DVec3::ZERO), DMat3::IDENTITY);
    }

    #[test]
    fn matrix_is_the_transpose_of_rodrigues_formula() {
        // R(v) = I + sin θ K + (1 − cos θ) K², K = [w]×, written out by hand.
        let v = DVec3::new(0.3, -1.1, 0.7);
        let (theta, w) = (v.length(), v.normalize());
        let k = DMat3::from_cols(
            DVec3::new(0.0, w.z, -w.y),
            DVec3::new(-w.z, 0.0, w.x),
            DVec3::new(w.y, -w.x, 0.0),
        );
        let r = DMat3::IDENTITY + k * theta.sin() + k * k * (1.0 - theta.cos());
        let a = matrix_from_cryosparc_pose(v);
        assert!(a.abs_diff_eq(r.transpose(), 1e-12), "{a} vs {r}");
    }

    #[test]
    fn euler_angles_round_trip_through_the_rotation_vector() {
        for (rot, tilt, psi) in [
            (10.0, 20.0, 30.0),
            (-170.0, 95.0, 179.0),
            (45.0, 179.5, -60.0),
            (120.0, 0.5, -150.0),
        ] {
            let angles = EulerAngles::new(rot, tilt, psi);
            let pose = cryosparc_pose_from_euler(angles);
            assert!(pose.length() <= std::f64::consts::PI + 1e-12);
            let back = euler_from_cryosparc_pose(pose);
            let error = rotation_angle_between(&angles.to_matrix(), &back.to_matrix());
            assert!(error < 1e-9, "{angles:?} → {pose} → {back:?}: {error}°");
            assert!(close(back, [rot, tilt, psi]), "{angles:?} → {back:?}");
        }
    }
}
