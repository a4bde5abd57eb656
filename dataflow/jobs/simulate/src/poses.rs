//! Particle poses: orientation (RELION Euler angles, degrees) and origin (Å), drawn uniformly
//! or read from a STAR file.
//!
//! Orientations are uniform on SO(3) (Haar measure): a random unit quaternion by Shoemake's
//! method, turned into RELION's matrix A and then into canonical Euler angles. Origins are
//! uniform in the square [−max, max]² Å, so they are sub-pixel and continuous. The observed
//! image is the projection moved by −origin (refine.md §0.4).

use cryoflux_jobkit::particles::Pose;
use glam::{DMat3, DQuat};

use cryoflux_kernels::geometry::euler::EulerAngles;

use super::rng::Rng;
use super::star_in::ParticleRows;
use super::star_out::round_decimals;

/// A rotation matrix drawn uniformly from SO(3) (Shoemake's uniform unit quaternion).
pub fn uniform_rotation(rng: &mut Rng) -> DMat3 {
    let (u1, u2, u3) = (rng.uniform(), rng.uniform(), rng.uniform());
    let (a, b) = ((1.0 - u1).sqrt(), u1.sqrt());
    let (s2, c2) = (std::f64::consts::TAU * u2).sin_cos();
    let (s3, c3) = (std::f64::consts::TAU * u3).sin_cos();
    DMat3::from_quat(DQuat::from_xyzw(a * s2, a * c2, b * s3, b * c3).normalize())
}

/// A pose with a uniform random orientation and an origin uniform in [−max_offset, max_offset]²
/// Å (no offset when `max_offset` is 0); angles and origins are rounded to 10⁻⁶ ° and Å.
pub fn random_pose(rng: &mut Rng, max_offset: f64) -> Pose {
    let EulerAngles { rot, tilt, psi } = EulerAngles::from_matrix(&uniform_rotation(rng));
    let angles = EulerAngles::new(
        round_decimals(rot, 6),
        round_decimals(tilt, 6),
        round_decimals(psi, 6),
    );
    let mut offset = || {
        if max_offset > 0.0 {
            round_decimals(rng.uniform_in(-max_offset, max_offset), 6)
        } else {
            0.0
        }
    };
    let origin = [offset(), offset()];
    Pose { angles, origin }
}

/// The poses of every row of a STAR table: `rlnAngleRot`, `rlnAngleTilt`, `rlnAnglePsi`
/// (required), origins from `rlnOriginXAngst/YAngst` (Å), else RELION 3.0's `rlnOriginX/Y`
/// (pixels, times `pixel_size` Å), else zero.
pub fn poses_from_star(rows: &ParticleRows, pixel_size: f64) -> anyhow::Result<Vec<Pose>> {
    let [rot, tilt, psi] = rows.required_floats(["rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi"])?;
    let origin = |angst: &str, pixels: &str| match (rows.floats(angst), rows.floats(pixels)) {
        (Some(a), _) => a.to_vec(),
        (None, Some(p)) => p.iter().map(|v| v * pixel_size).collect(),
        (None, None) => vec![0.0; rows.len()],
    };
    let (ox, oy) = (
        origin("rlnOriginXAngst", "rlnOriginX"),
        origin("rlnOriginYAngst", "rlnOriginY"),
    );
    Ok((0..rows.len())
        .map(|i| Pose {
            angles: EulerAngles::new(rot[i], tilt[i], psi[i]),
            origin: [ox[i], oy[i]],
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Purpose;

    #[test]
    fn uniform_rotations_have_isotropic_viewing_directions_and_psi() {
        let n = 20_000;
        let (mut z, mut z2, mut cos_psi) = (0.0, 0.0, 0.0);
        for i in 0..n {
            let pose = random_pose(&mut Rng::stream(5, Purpose::Pose, i), 3.0);
            let a = pose.matrix();
            let back = Pose {
                angles: EulerAngles::from_matrix(&a),
                ..pose
            };
            assert!(back.matrix().abs_diff_eq(a, 1e-9));
            assert_eq!(round_decimals(pose.angles.tilt, 6), pose.angles.tilt);
            assert!(pose.origin.iter().all(|o| o.abs() <= 3.0));
            let dz = a.row(2).z;
            z += dz;
            z2 += dz * dz;
            cos_psi += pose.angles.psi.to_radians().cos();
        }
        let n = n as f64;
        assert!((z / n).abs() < 0.02, "mean z {}", z / n);
        assert!((z2 / n - 1.0 / 3.0).abs() < 0.01, "mean z² {}", z2 / n);
        assert!((cos_psi / n).abs() < 0.02);
    }
}
