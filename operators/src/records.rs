//! Records that every job family shares: a particle's CTF ([`CtfRecord`]) and pose
//! ([`PoseRecord`]), and a real-space map ([`MapRecord`]). Job-specific records live with
//! their operators (the refinement's in [`crate::refine::records`]).
//!
//! These are the serializable counterparts of kernel types (`CtfParams`, `Volume`, Euler
//! angles): serialization stays at this boundary, the kernels know nothing of serde.
//!
//! Units: lengths in Å unless named `_px`/`size` (pixels); angles in degrees.

use cryoflux_kernels::fourier::ctf::CtfParams;
use cryoflux_kernels::geometry::euler::{EulerAngles, euler_to_matrix};
use cryoflux_kernels::grid::{GridError, Volume};
use glam::DMat3;
use serde::{Deserialize, Serialize};

/// A particle's CTF parameters (the fields of [`CtfParams`], in its units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CtfRecord {
    /// Acceleration voltage (kV).
    pub voltage_kv: f64,
    /// Spherical aberration (mm).
    pub cs_mm: f64,
    /// Amplitude contrast, 0 … 1.
    pub amplitude_contrast: f64,
    /// Defocus along the major axis (Å, positive = underfocus).
    pub defocus_u: f64,
    /// Defocus along the minor axis (Å).
    pub defocus_v: f64,
    /// Angle of the major axis from x (degrees).
    pub defocus_angle_deg: f64,
    /// Phase shift (degrees).
    pub phase_shift_deg: f64,
    /// Envelope B-factor (Å²).
    pub bfactor: f64,
    /// Overall CTF scale.
    pub scale: f64,
}

impl From<&CtfParams> for CtfRecord {
    fn from(p: &CtfParams) -> Self {
        Self {
            voltage_kv: p.voltage_kv,
            cs_mm: p.cs_mm,
            amplitude_contrast: p.amplitude_contrast,
            defocus_u: p.defocus_u,
            defocus_v: p.defocus_v,
            defocus_angle_deg: p.defocus_angle_deg,
            phase_shift_deg: p.phase_shift_deg,
            bfactor: p.bfactor,
            scale: p.scale,
        }
    }
}

impl CtfRecord {
    /// The kernel's parameter set.
    pub fn params(&self) -> CtfParams {
        CtfParams {
            voltage_kv: self.voltage_kv,
            cs_mm: self.cs_mm,
            amplitude_contrast: self.amplitude_contrast,
            defocus_u: self.defocus_u,
            defocus_v: self.defocus_v,
            defocus_angle_deg: self.defocus_angle_deg,
            phase_shift_deg: self.phase_shift_deg,
            bfactor: self.bfactor,
            scale: self.scale,
        }
    }
}

/// A pose in RELION's conventions: Euler angles (degrees) and origin (Å); the observed image
/// is the projection moved by −origin.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PoseRecord {
    /// rlnAngleRot (degrees).
    pub rot: f64,
    /// rlnAngleTilt (degrees).
    pub tilt: f64,
    /// rlnAnglePsi (degrees).
    pub psi: f64,
    /// rlnOriginXAngst, rlnOriginYAngst (Å).
    pub origin_angst: [f64; 2],
}

impl PoseRecord {
    /// RELION's rotation matrix A of the angles.
    pub fn matrix(&self) -> DMat3 {
        euler_to_matrix(self.rot, self.tilt, self.psi)
    }

    /// The pose of `angles` and `origin_angst`.
    pub fn new(angles: EulerAngles, origin_angst: [f64; 2]) -> Self {
        Self {
            rot: angles.rot,
            tilt: angles.tilt,
            psi: angles.psi,
            origin_angst,
        }
    }
}

/// A real-space map on the wire: box N (pixels), voxel size (Å), N³ values (x fastest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapRecord {
    /// Box N (pixels).
    pub box_size: usize,
    /// Voxel size (Å).
    pub pixel_size: f64,
    /// N³ voxel values.
    pub data: Vec<f32>,
}

impl MapRecord {
    /// The record of `volume`.
    pub fn from_volume(volume: &Volume) -> Self {
        Self {
            box_size: volume.n(),
            pixel_size: volume.pixel_size(),
            data: volume.data().to_vec(),
        }
    }

    /// The map as a kernel volume.
    pub fn to_volume(&self) -> Result<Volume, GridError> {
        Volume::from_vec(self.box_size, self.pixel_size, self.data.clone())
    }
}
