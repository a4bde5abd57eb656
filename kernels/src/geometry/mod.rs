//! Orientation geometry, as RELION defines it: Euler angles and rotation matrices, point-group
//! symmetry, HEALPix directions, and the orientation sampling of refinement built from them.
//!
//! Units and conventions: angles are in degrees at every public interface (radians only
//! inside [`healpix`]'s pixel positions `(z, φ)`); Euler angles are RELION's ZYZ (rot, tilt,
//! psi) and a pose is RELION's matrix `A = Rz(psi)·Ry(tilt)·Rz(rot)`, mapping map coordinates
//! to image coordinates, whose row 2 is the viewing direction ([`euler`]). Symmetry operators
//! act on map coordinates with RELION's axis conventions ([`symmetry`]).

pub mod cryosparc_pose;
pub mod euler;
pub mod healpix;
pub mod sampling;
pub mod symmetry;
