//! Gain reference geometry and gain correction, as `relion_run_motioncorr --gain_rot
//! --gain_flip` (MotionCor2's `-RotGain`/`-FlipGain`). Sizes in pixels; the gain is unitless.
//!
//! Orientation: pixel (x, y) of a [`Plane`] is column x of row y of the file, and
//! `relion_display` draws row 0 at the top (y down). One rotation turns the image 90° clockwise
//! as displayed: the top-left pixel goes to the top-right and a `w × h` gain becomes `h × w`.
//! The flip is applied after the rotations (checked against RELION 3.1.3 `--use_own` for every
//! rotation and flip on a 128 × 96 movie with a random gain).

use crate::grid::{GridError, Plane};

/// The mirror applied after the rotations (`--gain_flip`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GainFlip {
    /// `--gain_flip 0`: no mirror.
    None,
    /// `--gain_flip 1`: upside down (row y goes to row h−1−y).
    UpsideDown,
    /// `--gain_flip 2`: left to right (column x goes to column w−1−x).
    LeftRight,
}

/// How to orient a gain reference before it is applied to the frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GainGeometry {
    /// Number of 90° clockwise rotations (as displayed, y down), 0–3 (`--gain_rot`).
    pub rotations: u8,
    /// Mirror applied after the rotations (`--gain_flip`).
    pub flip: GainFlip,
}

impl GainGeometry {
    /// The geometry of RELION's `--gain_rot` (0–3) and `--gain_flip` (0 none, 1 upside down,
    /// 2 left to right); any other value is an error naming the flag.
    pub fn from_relion(gain_rot: i64, gain_flip: i64) -> Result<Self, GridError> {
        let rotations =
            u8::try_from(gain_rot)
                .ok()
                .filter(|r| *r <= 3)
                .ok_or(GridError::OutOfRange {
                    what: "--gain_rot (number of 90° clockwise rotations)",
                    value: gain_rot as f64,
                    expected: "0, 1, 2 or 3",
                })?;
        let flip = match gain_flip {
            0 => GainFlip::None,
            1 => GainFlip::UpsideDown,
            2 => GainFlip::LeftRight,
            _ => {
                return Err(GridError::OutOfRange {
                    what: "--gain_flip",
                    value: gain_flip as f64,
                    expected: "0 (none), 1 (upside down) or 2 (left to right)",
                });
            }
        };
        Ok(Self { rotations, flip })
    }

    /// The gain oriented as the frames: rotated, then flipped. Odd rotation counts swap width
    /// and height (px).
    pub fn orient(&self, gain: &Plane) -> Plane {
        let mut out = gain.clone();
        for _ in 0..self.rotations {
            out = rotate_clockwise(&out);
        }
        let (w, h) = (out.width(), out.height());
        match self.flip {
            GainFlip::None => out,
            GainFlip::UpsideDown => Plane::from_fn(w, h, |x, y| at(&out, x, h - 1 - y)),
            GainFlip::LeftRight => Plane::from_fn(w, h, |x, y| at(&out, w - 1 - x, y)),
        }
    }
}

/// Pixel (x, y) of a plane, for coordinates known to be inside it.
fn at(plane: &Plane, x: usize, y: usize) -> f32 {
    plane.data()[y * plane.width() + x]
}

/// One 90° clockwise turn as displayed with y down: new (x', y') = old (y', h−1−x'), so the new
/// plane is h wide and w high.
fn rotate_clockwise(plane: &Plane) -> Plane {
    let h = plane.height();
    Plane::from_fn(h, plane.width(), |x, y| at(plane, y, h - 1 - x))
}

/// Gain correction: multiplies `frame` pixel by pixel by the (already oriented) `gain`, as
/// RELION does with raw frames. A gain of another size (px) is an error.
pub fn apply_gain(frame: &mut Plane, gain: &Plane) -> Result<(), GridError> {
    if (frame.width(), frame.height()) != (gain.width(), gain.height()) {
        return Err(GridError::Mismatch {
            what: "gain reference after --gain_rot/--gain_flip",
            expected: format!("the frame size {} × {} px", frame.width(), frame.height()),
            found: format!("{} × {} px", gain.width(), gain.height()),
        });
    }
    for (v, g) in frame.data_mut().iter_mut().zip(gain.data()) {
        *v *= g;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 3 × 2 gain
    /// ```text
    /// a b c      (row 0, displayed on top)
    /// d e f
    /// ```
    fn gain() -> Plane {
        Plane::from_vec(3, 2, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap()
    }

    fn oriented(rot: i64, flip: i64) -> Plane {
        GainGeometry::from_relion(rot, flip)
            .unwrap()
            .orient(&gain())
    }

    #[test]
    fn rotations_turn_clockwise_as_displayed() {
        // Clockwise with y down: the left column (a over d) becomes the top row read right to
        // left (d a), and a 3 × 2 gain becomes 2 × 3.
        let one = oriented(1, 0);
        assert_eq!((one.width(), one.height()), (2, 3));
        assert_eq!(one.data(), &[4.0, 1.0, 5.0, 2.0, 6.0, 3.0]);
        assert_eq!(oriented(2, 0).data(), &[6.0, 5.0, 4.0, 3.0, 2.0, 1.0]);
        let three = oriented(3, 0);
        assert_eq!((three.width(), three.height()), (2, 3));
        assert_eq!(three.data(), &[3.0, 6.0, 2.0, 5.0, 1.0, 4.0]);
        assert_eq!(oriented(0, 0), gain());
    }

    #[test]
    fn flips_mirror_after_the_rotation() {
        assert_eq!(oriented(0, 1).data(), &[4.0, 5.0, 6.0, 1.0, 2.0, 3.0]);
        assert_eq!(oriented(0, 2).data(), &[3.0, 2.0, 1.0, 6.0, 5.0, 4.0]);
        // Rotate (d a / e b / f c), then upside down: (f c / e b / d a). Flipping first would
        // give (a d / b e / c f) instead.
        assert_eq!(oriented(1, 1).data(), &[6.0, 3.0, 5.0, 2.0, 4.0, 1.0]);
        assert_eq!(oriented(1, 2).data(), &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    }

    #[test]
    fn bad_flags_and_sizes_are_errors() {
        assert!(GainGeometry::from_relion(4, 0).is_err());
        assert!(GainGeometry::from_relion(-1, 0).is_err());
        assert!(GainGeometry::from_relion(0, 3).is_err());
        let mut frame = Plane::from_fn(3, 2, |x, _| x as f32);
        let err = apply_gain(&mut frame, &oriented(1, 0)).unwrap_err();
        assert!(err.to_string().contains("3 × 2"), "{err}");
        apply_gain(&mut frame, &gain()).unwrap();
        assert_eq!(frame.data(), &[0.0, 2.0, 6.0, 0.0, 5.0, 12.0]);
    }
}
