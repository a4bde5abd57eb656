//! The refinement's frame relative to the truth's, for refinements that converged to a rotated
//! or mirrored copy of the structure (possible when the reference is too blurred to fix the
//! orientation or the hand: a 40 Å low-pass of a 60 Å particle is nearly an ellipsoid).
//!
//! If the refined map is the truth transformed, `V_ref(r) = V_true(M·r)` with `M` orthogonal,
//! then every particle's refined pose `A` relates to its true pose `B` by `M = Bᵀ·A` when `M` is
//! a rotation, and by `M = Bᵀ·F·A` when `M` is improper (a mirror: the wrong hand), with
//! `F = diag(1, 1, −1)` (flipping the projection axis changes no projection). Each particle
//! thus proposes an `M` of each kind; the frame is the proposal shared by the most particles
//! (within [`FRAME_TOLERANCE_DEG`], up to the map's symmetry), averaged over them. Offsets are
//! unchanged by `M` (it fixes the map origin and `F` leaves the image plane alone).

use cryoflux_kernels::geometry::euler::rotation_angle_between;
use cryoflux_kernels::geometry::symmetry::SymmetryGroup;
use cryoflux_kernels::grid::Volume;
use glam::{DMat3, DVec3};

use super::poses::{Matching, Pose, PoseTable};

/// Proposals within this angle (degrees) of each other count as one frame.
pub const FRAME_TOLERANCE_DEG: f64 = 15.0;

/// Largest number of particles whose proposals are tried as the frame (evenly spread).
const CANDIDATES: usize = 200;

/// `diag(1, 1, −1)`: flips the projection axis.
const FLIP_Z: DMat3 = DMat3::from_cols(DVec3::X, DVec3::Y, DVec3::NEG_Z);

/// The transform taking the truth's frame to the refinement's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// `M` with `V_refined(r) = V_true(M·r)` (map coordinates; det −1 when mirrored).
    pub transform: DMat3,
    /// True when `M` is improper: the refinement has the opposite hand.
    pub mirrored: bool,
    /// Rotation angle of `M` (or of `M·F` when mirrored), degrees.
    pub angle_deg: f64,
    /// Fraction (0–1) of the matched particles whose proposal lies within
    /// [`FRAME_TOLERANCE_DEG`] of `M`.
    pub fraction: f64,
}

/// The frame shared by most matched particles, or `None` without particles.
pub fn estimate_frame(
    data: &PoseTable,
    truth: &PoseTable,
    matching: &Matching,
    symmetry: &SymmetryGroup,
) -> Option<Frame> {
    let proposals = |mirrored: bool| -> Vec<DMat3> {
        matching
            .pairs
            .iter()
            .map(|&(d, t)| proposal(&data.poses[d], &truth.poses[t], mirrored))
            .collect()
    };
    let rotations: Vec<DMat3> = symmetry
        .operators()
        .iter()
        .copied()
        .filter(|r| r.determinant() > 0.0)
        .collect();
    let step = matching.pairs.len().div_ceil(CANDIDATES).max(1);
    let mut best: Option<(usize, bool, DMat3)> = None;
    for mirrored in [false, true] {
        let all = proposals(mirrored);
        for candidate in all.iter().step_by(step) {
            let count = all
                .iter()
                .filter(|m| closest_mate(m, candidate, &rotations).1 < FRAME_TOLERANCE_DEG)
                .count();
            if best.is_none_or(|(c, _, _)| count > c) {
                best = Some((count, mirrored, *candidate));
            }
        }
    }
    let (_, mirrored, seed) = best?;
    let members: Vec<DMat3> = proposals(mirrored)
        .iter()
        .map(|m| closest_mate(m, &seed, &rotations))
        .filter(|(_, angle)| *angle < FRAME_TOLERANCE_DEG)
        .map(|(mate, _)| mate)
        .collect();
    let sum = members.iter().fold(DMat3::ZERO, |s, m| s + *m);
    let transform = nearest_orthogonal(sum * (1.0 / members.len() as f64));
    let proper = if mirrored {
        transform * FLIP_Z
    } else {
        transform
    };
    Some(Frame {
        transform,
        mirrored,
        angle_deg: rotation_angle_between(&proper, &DMat3::IDENTITY),
        fraction: members.len() as f64 / matching.pairs.len() as f64,
    })
}

/// The truth's poses carried into the refinement's frame: `B·M`, or `F·B·M` when mirrored.
pub fn poses_in_frame(truth: &PoseTable, frame: &Frame) -> PoseTable {
    let poses = truth
        .poses
        .iter()
        .map(|p| Pose {
            rotation: if frame.mirrored {
                FLIP_Z * p.rotation * frame.transform
            } else {
                p.rotation * frame.transform
            },
            origin_angst: p.origin_angst,
        })
        .collect();
    PoseTable {
        path: truth.path.clone(),
        names: truth.names.clone(),
        poses,
    }
}

/// The truth map in the refinement's frame, `V(M·r)`, by trilinear interpolation (zero
/// outside the box).
pub fn map_in_frame(map: &Volume, frame: &Frame) -> anyhow::Result<Volume> {
    let n = map.n();
    let h = (n / 2) as f64;
    let sample = |q: DVec3| -> f32 {
        let [x, y, z] = [q.x + h, q.y + h, q.z + h];
        let (x0, y0, z0) = (x.floor(), y.floor(), z.floor());
        let (fx, fy, fz) = (x - x0, y - y0, z - z0);
        let mut value = 0.0;
        for (dz, wz) in [(0, 1.0 - fz), (1, fz)] {
            for (dy, wy) in [(0, 1.0 - fy), (1, fy)] {
                for (dx, wx) in [(0, 1.0 - fx), (1, fx)] {
                    let at = |c: f64, d: i64| usize::try_from(c as i64 + d).ok();
                    if let (Some(i), Some(j), Some(k)) = (at(x0, dx), at(y0, dy), at(z0, dz))
                        && let Some(v) = map.get(i, j, k)
                    {
                        value += wx * wy * wz * f64::from(v);
                    }
                }
            }
        }
        value as f32
    };
    Ok(Volume::from_fn(n, map.pixel_size(), |[x, y, z]| {
        sample(frame.transform * DVec3::new(x, y, z))
    })?)
}

/// One particle's proposal for `M` (see the module doc).
fn proposal(refined: &Pose, true_pose: &Pose, mirrored: bool) -> DMat3 {
    let b = true_pose.rotation.transpose();
    if mirrored {
        b * FLIP_Z * refined.rotation
    } else {
        b * refined.rotation
    }
}

/// The symmetry mate `m·R` closest to `target`, and its angle to it in degrees.
fn closest_mate(m: &DMat3, target: &DMat3, rotations: &[DMat3]) -> (DMat3, f64) {
    rotations
        .iter()
        .map(|r| {
            let mate = *m * *r;
            (mate, rotation_angle_between(&mate, target))
        })
        .fold((*m, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a })
}

/// The orthogonal matrix nearest to `m` (its polar factor, by Newton's iteration
/// `X ← (X + X⁻ᵀ)/2`), keeping the sign of the determinant.
fn nearest_orthogonal(m: DMat3) -> DMat3 {
    let mut x = m;
    for _ in 0..30 {
        let next = (x + x.inverse().transpose()) * 0.5;
        let change = (0..3)
            .map(|i| (next.col(i) - x.col(i)).length())
            .sum::<f64>();
        x = next;
        if change < 1e-14 {
            break;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::poses::{match_by_image, pose_errors};
    use cryoflux_kernels::geometry::euler::euler_to_matrix;
    use std::path::PathBuf;

    fn table(rotations: &[DMat3]) -> PoseTable {
        PoseTable {
            path: PathBuf::from("t.star"),
            names: (1..=rotations.len())
                .map(|i| format!("{i}@p.mrcs"))
                .collect(),
            poses: rotations
                .iter()
                .map(|r| Pose {
                    rotation: *r,
                    origin_angst: [0.0; 2],
                })
                .collect(),
        }
    }

    fn truth_rotations() -> Vec<DMat3> {
        (0..40)
            .map(|i| {
                let f = i as f64;
                euler_to_matrix(f * 37.0 % 360.0, f * 23.0 % 180.0, f * 71.0 % 360.0)
            })
            .collect()
    }

    #[test]
    fn a_rotated_and_mirrored_refinement_is_recognised() {
        let truth = table(&truth_rotations());
        let m = euler_to_matrix(30.0, 120.0, -50.0);
        for mirrored in [false, true] {
            // 30 particles in the frame, 10 elsewhere.
            let refined: Vec<DMat3> = truth
                .poses
                .iter()
                .enumerate()
                .map(|(i, p)| match (i < 30, mirrored) {
                    (true, false) => p.rotation * m,
                    (true, true) => FLIP_Z * p.rotation * m * FLIP_Z,
                    (false, _) => euler_to_matrix(i as f64 * 11.0, 90.0, 0.0),
                })
                .collect();
            let data = table(&refined);
            let matching = match_by_image(&data, &truth).unwrap();
            let c1 = SymmetryGroup::c1();
            let frame = estimate_frame(&data, &truth, &matching, &c1).unwrap();
            assert_eq!(frame.mirrored, mirrored);
            assert!((frame.fraction - 0.75).abs() < 1e-12, "{frame:?}");
            let expected = if mirrored { m * FLIP_Z } else { m };
            assert!(rotation_angle_between(&frame.transform, &expected) < 1e-6);
            let moved = poses_in_frame(&truth, &frame);
            let (errors, _) = pose_errors(&data, &moved, &matching, &c1);
            assert!(errors[..30].iter().all(|e| *e < 1e-6), "{errors:?}");
        }
    }

    #[test]
    fn the_truth_map_follows_the_frame() {
        let blob = |c: [f64; 3]| {
            Volume::from_fn(16, 2.0, move |[x, y, z]| {
                (-((x - c[0]).powi(2) + (y - c[1]).powi(2) + (z - c[2]).powi(2)) / 4.0).exp() as f32
            })
            .unwrap()
        };
        // V'(r) = V(M·r): a blob at c moves to Mᵀ·c.
        let m = euler_to_matrix(90.0, 0.0, 0.0);
        let frame = Frame {
            transform: m,
            mirrored: false,
            angle_deg: 90.0,
            fraction: 1.0,
        };
        let c = DVec3::new(4.0, 1.0, -2.0);
        let moved = map_in_frame(&blob(c.to_array()), &frame).unwrap();
        let expected = blob((m.transpose() * c).to_array());
        let worst = moved
            .data()
            .iter()
            .zip(expected.data())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(worst < 1e-5, "{worst}");
    }
}
