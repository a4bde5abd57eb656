//! Re-extraction offsets (`relion_preprocess --reextract_data_star`), RELION 3.1.3's
//! arithmetic, established by running it:
//! - `--recenter`: the refined origin (`rlnOriginXAngst/YAngst`, Å) in micrograph pixels,
//!   s = origin / micrograph pixel size (the micrographs STAR file's `rlnMicrographPixelSize`,
//!   not the particles' `rlnImagePixelSize`), is rounded half away from zero, r = round(s); the
//!   coordinate moves by −r px (it keeps its fraction: 100.5 → 99.5) and the origin keeps the
//!   sub-pixel remainder (s − r)·pixel size Å. E.g. at 1.5 Å/px, origin (2.0, −2.0) Å moves
//!   (100, 100) to (99, 101) and leaves origin (0.5, −0.5) Å; (0.75, −0.75) Å → (99, 101),
//!   (−0.75, 0.75) Å.
//! - `--reset_offsets`: coordinates unchanged, origins 0.
//! - neither: both unchanged.
//!
//! The new coordinate is then extracted like any other ([`super::particle_box::centre_pixel`]).

/// What re-extraction does with a particle's refined origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetHandling {
    /// Keep coordinates and origins as they are (no flag).
    Keep,
    /// `--reset_offsets`: keep coordinates, set origins to 0 Å.
    Reset,
    /// `--recenter`: move the coordinate by the whole-pixel part of the origin ([`recentre`]).
    Recentre,
}

impl OffsetHandling {
    /// The (coordinate px, origin Å) pair re-extraction writes for a particle at
    /// `coordinate_px` with origin `origin_angstrom`, micrograph pixel size
    /// `micrograph_pixel_size` Å.
    pub fn apply(
        self,
        coordinate_px: [f64; 2],
        origin_angstrom: [f64; 2],
        micrograph_pixel_size: f64,
    ) -> ([f64; 2], [f64; 2]) {
        match self {
            Self::Keep => (coordinate_px, origin_angstrom),
            Self::Reset => (coordinate_px, [0.0; 2]),
            Self::Recentre => recentre(coordinate_px, origin_angstrom, micrograph_pixel_size),
        }
    }
}

/// `--recenter` (see the module doc): returns the new coordinate (px) and the remaining
/// origin (Å) for a particle at `coordinate_px` with refined origin `origin_angstrom`, on a
/// micrograph of pixel size `micrograph_pixel_size` Å.
pub fn recentre(
    coordinate_px: [f64; 2],
    origin_angstrom: [f64; 2],
    micrograph_pixel_size: f64,
) -> ([f64; 2], [f64; 2]) {
    let mut coordinate = coordinate_px;
    let mut origin = [0.0; 2];
    for axis in 0..2 {
        let shift = origin_angstrom[axis] / micrograph_pixel_size;
        // f64::round rounds half away from zero, as RELION's ROUND does.
        let whole = shift.round();
        coordinate[axis] -= whole;
        origin[axis] = (shift - whole) * micrograph_pixel_size;
    }
    (coordinate, origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recentring_matches_relion_3_1_3_output() {
        // (coordinate px, origin Å) → RELION's written (coordinate, origin), at 1.5 Å/px.
        let cases = [
            ([100.0, 100.0], [3.0, -4.5], [98.0, 103.0], [0.0, 0.0]),
            ([100.0, 100.0], [2.0, -2.0], [99.0, 101.0], [0.5, -0.5]),
            ([100.0, 100.0], [2.3, -2.3], [98.0, 102.0], [-0.7, 0.7]),
            ([100.5, 100.7], [1.0, -1.0], [99.5, 101.7], [-0.5, 0.5]),
            ([100.0, 100.0], [0.75, -0.75], [99.0, 101.0], [-0.75, 0.75]),
            ([100.0, 100.0], [0.7, -0.8], [100.0, 101.0], [0.7, 0.7]),
            ([100.0, 100.0], [5.25, -5.25], [96.0, 104.0], [-0.75, 0.75]),
            ([100.0, 100.0], [-2.25, 2.25], [102.0, 98.0], [0.75, -0.75]),
            ([100.3, 100.6], [-1.3, -2.9], [101.3, 102.6], [0.2, 0.1]),
        ];
        for (coordinate, origin, new_coordinate, new_origin) in cases {
            let (c, o) = OffsetHandling::Recentre.apply(coordinate, origin, 1.5);
            for axis in 0..2 {
                assert!(
                    (c[axis] - new_coordinate[axis]).abs() < 1e-9,
                    "{coordinate:?} {origin:?}: {c:?}"
                );
                assert!(
                    (o[axis] - new_origin[axis]).abs() < 1e-6,
                    "{coordinate:?} {origin:?}: {o:?}"
                );
            }
        }
    }

    #[test]
    fn keep_and_reset_leave_the_coordinate() {
        let (c, o) = OffsetHandling::Reset.apply([100.3, 7.0], [2.0, -3.0], 1.5);
        assert_eq!((c, o), ([100.3, 7.0], [0.0, 0.0]));
        let (c, o) = OffsetHandling::Keep.apply([100.3, 7.0], [2.0, -3.0], 1.5);
        assert_eq!((c, o), ([100.3, 7.0], [2.0, -3.0]));
    }
}
