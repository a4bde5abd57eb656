//! RELION Euler angles (ZYZ: rot, tilt, psi in degrees) and rotation matrices, both directions.
