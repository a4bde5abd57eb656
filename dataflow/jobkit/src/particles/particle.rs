//! One particle as a job sees it: where its image is, its optics group, its pose and CTF, and
//! its half set.

use cryoflux_kernels::fourier::ctf::CtfParams;
use cryoflux_kernels::geometry::euler::EulerAngles;
use glam::DMat3;

use super::stacks::ImageLocation;

/// One particle's pose in RELION's terms.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Pose {
    /// `rlnAngleRot`, `rlnAngleTilt`, `rlnAnglePsi` in degrees.
    pub angles: EulerAngles,
    /// `rlnOriginXAngst`, `rlnOriginYAngst` in Å: the image shows the projection moved by −origin.
    pub origin: [f64; 2],
}

impl Pose {
    /// RELION's rotation matrix A of this pose (maps map coordinates to image coordinates).
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
