//! One particle as a job sees it: where its image is, its optics group, its pose and CTF, and
//! its half set.

use cryoflux_kernels::ctf::CtfParams;
use cryoflux_kernels::euler::EulerAngles;
use glam::DMat3;

use super::stacks::ImageLocation;

/// A particle's pose in RELION's conventions: Euler angles in degrees (`rlnAngleRot`,
/// `rlnAngleTilt`, `rlnAnglePsi`) and the origin in Å (`rlnOriginXAngst`, `rlnOriginYAngst`).
/// The observed image is the projection moved by −origin, so moving the image by +origin
/// centres the particle.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Pose {
    /// Orientation (degrees).
    pub angles: EulerAngles,
    /// Origin (x, y) in Å.
    pub origin: [f64; 2],
}

impl Pose {
    /// RELION's rotation matrix A of the orientation (rows 0, 1: image axes in map coordinates).
    pub fn matrix(&self) -> DMat3 {
        self.angles.to_matrix()
    }
}

/// One row of a particle set.
#[derive(Debug, Clone, PartialEq)]
pub struct Particle {
    /// 0-based row in the particle table (shown from 1 in messages).
    pub row: usize,
    /// Index of the particle's optics group in [`super::ParticleSet::optics`].
    pub optics_group: usize,
    /// Where its image is.
    pub image: ImageLocation,
    /// Its pose, when the set was loaded with poses.
    pub pose: Option<Pose>,
    /// Its CTF parameters (optics-group constants filled in, already validated), when the set
    /// was loaded with CTFs.
    pub ctf: Option<CtfParams>,
    /// Its half set (`rlnRandomSubset`, 1 or 2), if the file assigns one.
    pub random_subset: Option<i64>,
}
