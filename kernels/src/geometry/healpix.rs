//! HEALPix (NESTED) directions at orders 0–13, as RELION samples projection directions
//! (Górski et al. 2005, ApJ 622:759; RELION's `src/Healpix_2.15a`).
//!
//! At order `o` the sphere is cut into `12·4^o` equal-area pixels (`Nside = 2^o` per face side).
//! A pixel's position is `(z, φ)`: `z = cos θ` of the colatitude θ and the azimuth φ in radians
//! [0, 2π); RELION's viewing direction of the pixel is `rot = φ`, `tilt = θ` (in degrees, see
//! [`crate::geometry::sampling`]). NESTED index = `face·Nside² + interleave(x bits, y bits)`,
//! where x, y are the pixel's coordinates within its base face (x on even bits, y on odd bits).
//! Centres are computed with the same floating-point operations as RELION so that border decisions agree.

use std::f64::consts::{FRAC_PI_2, TAU};

use glam::DVec3;

/// Largest supported order (RELION's 32-bit `Healpix_Base` stops at 13: 805 306 368 pixels).
pub const MAX_ORDER: u32 = 13;

/// Ring number (in units of Nside) of each base face's southern corner.
const FACE_RING: [i64; 12] = [2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4];
/// Azimuth (in units of π/4) of each base face's centre.
const FACE_PHI: [i64; 12] = [1, 3, 5, 7, 0, 2, 4, 6, 1, 3, 5, 7];

/// Why a HEALPix query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HealpixError {
    /// The order is above [`MAX_ORDER`].
    #[error("HEALPix order {0} is not supported; expected 0..={MAX_ORDER}")]
    Order(u32),
    /// A pixel index outside `0..npix`.
    #[error("HEALPix pixel {ipix} does not exist at order {order}; expected 0..{npix}")]
    Pixel {
        /// The index asked for.
        ipix: u64,
        /// The grid's order.
        order: u32,
        /// Number of pixels at that order.
        npix: u64,
    },
    /// Face coordinates outside the 12 faces or `0..Nside`.
    #[error("HEALPix face coordinates (x {x}, y {y}, face {face}) invalid at order {order}")]
    FaceCoordinates {
        /// Position along the face's x axis.
        x: u64,
        /// Position along the face's y axis.
        y: u64,
        /// Base face, 0–11.
        face: u32,
        /// The grid's order.
        order: u32,
    },
}

/// Position of a pixel on its base face: `x`, `y` in `0..Nside`, `face` in `0..12`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaceCoordinates {
    /// Position along the face's x axis (north-east direction), `0..Nside`.
    pub x: u64,
    /// Position along the face's y axis (north-west direction), `0..Nside`.
    pub y: u64,
    /// Base face, `0..12`.
    pub face: u32,
}

/// Centre of a pixel: `z = cos(colatitude)` in [−1, 1] and azimuth `phi` in radians [0, 2π).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PixelCentre {
    /// Cosine of the colatitude (tilt); +1 is the north pole (map +z).
    pub z: f64,
    /// Azimuth (rot) in radians, [0, 2π).
    pub phi: f64,
}

impl PixelCentre {
    /// Unit vector `(sin θ cos φ, sin θ sin φ, z)` in map coordinates.
    pub fn direction(self) -> DVec3 {
        let sin_theta = ((1.0 - self.z) * (1.0 + self.z)).sqrt();
        DVec3::new(
            sin_theta * self.phi.cos(),
            sin_theta * self.phi.sin(),
            self.z,
        )
    }
}

/// A NESTED HEALPix grid of a given order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Healpix {
    order: u32,
}

/// Angular sampling step in degrees that RELION associates with an order: 360/(6·2^order)
/// (60° at order 0, 7.5° at order 3). Used for both the direction spacing and the psi step.
pub fn angular_step_deg(order: u32) -> f64 {
    360.0 / (6.0 * 2f64.powi(order as i32))
}

/// Spreads the low 32 bits of `v` onto the even bit positions.
fn spread_bits(v: u64) -> u64 {
    let mut v = v & 0xFFFF_FFFF;
    v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
    v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
    v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    v = (v | (v << 2)) & 0x3333_3333_3333_3333;
    (v | (v << 1)) & 0x5555_5555_5555_5555
}

/// Gathers the even bits of `v` into the low 32 bits (inverse of [`spread_bits`]).
fn compact_bits(v: u64) -> u64 {
    let mut v = v & 0x5555_5555_5555_5555;
    v = (v | (v >> 1)) & 0x3333_3333_3333_3333;
    v = (v | (v >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    v = (v | (v >> 4)) & 0x00FF_00FF_00FF_00FF;
    v = (v | (v >> 8)) & 0x0000_FFFF_0000_FFFF;
    (v | (v >> 16)) & 0xFFFF_FFFF
}

impl Healpix {
    /// The grid of this order (0..=[`MAX_ORDER`]).
    pub fn new(order: u32) -> Result<Self, HealpixError> {
        if order > MAX_ORDER {
            return Err(HealpixError::Order(order));
        }
        Ok(Self { order })
    }

    /// The order `o` (Nside = 2^o).
    pub fn order(self) -> u32 {
        self.order
    }

    /// Pixels along each side of a base face, 2^order.
    pub fn nside(self) -> u64 {
        1 << self.order
    }

    /// Number of pixels, 12·Nside².
    pub fn npix(self) -> u64 {
        12 * self.nside() * self.nside()
    }

    /// Solid angle of every pixel, steradians (4π/npix).
    pub fn pixel_area(self) -> f64 {
        2.0 * TAU / self.npix() as f64
    }

    fn check_pixel(self, ipix: u64) -> Result<(), HealpixError> {
        if ipix < self.npix() {
            Ok(())
        } else {
            Err(HealpixError::Pixel {
                ipix,
                order: self.order,
                npix: self.npix(),
            })
        }
    }

    /// Face coordinates of a NESTED pixel index.
    pub fn nest_to_xyf(self, ipix: u64) -> Result<FaceCoordinates, HealpixError> {
        self.check_pixel(ipix)?;
        Ok(self.nest_to_xyf_unchecked(ipix))
    }

    fn nest_to_xyf_unchecked(self, ipix: u64) -> FaceCoordinates {
        let face_pixels = self.nside() * self.nside();
        let within = ipix % face_pixels;
        FaceCoordinates {
            x: compact_bits(within),
            y: compact_bits(within >> 1),
            face: (ipix / face_pixels) as u32,
        }
    }

    /// NESTED pixel index of face coordinates.
    pub fn xyf_to_nest(self, xyf: FaceCoordinates) -> Result<u64, HealpixError> {
        let FaceCoordinates { x, y, face } = xyf;
        if x >= self.nside() || y >= self.nside() || face >= 12 {
            return Err(HealpixError::FaceCoordinates {
                x,
                y,
                face,
                order: self.order,
            });
        }
        Ok(self.xyf_to_nest_unchecked(xyf))
    }

    fn xyf_to_nest_unchecked(self, FaceCoordinates { x, y, face }: FaceCoordinates) -> u64 {
        u64::from(face) * self.nside() * self.nside() + (spread_bits(x) | (spread_bits(y) << 1))
    }

    /// Centre of a NESTED pixel.
    pub fn centre(self, ipix: u64) -> Result<PixelCentre, HealpixError> {
        self.check_pixel(ipix)?;
        Ok(self.centre_unchecked(ipix))
    }

    /// Centres of all pixels, in NESTED order.
    pub fn centres(self) -> impl Iterator<Item = PixelCentre> {
        (0..self.npix()).map(move |ipix| self.centre_unchecked(ipix))
    }

    fn centre_unchecked(self, ipix: u64) -> PixelCentre {
        let FaceCoordinates { x, y, face } = self.nest_to_xyf_unchecked(ipix);
        let (x, y, face) = (x as i64, y as i64, face as usize);
        let nside = self.nside() as i64;
        let nl4 = 4 * nside;
        // Same factors and operation order as Healpix 2.15a.
        let fact2 = 4.0 / self.npix() as f64;
        let fact1 = (2 * nside) as f64 * fact2;
        // Ring index counted from the north pole, 1 ..= 4·Nside − 1.
        let ring = (FACE_RING[face] << self.order) - x - y - 1;
        let (pixels_in_ring_quarter, z, shift) = if ring < nside {
            (ring, 1.0 - (ring * ring) as f64 * fact2, 0)
        } else if ring > 3 * nside {
            let nr = nl4 - ring;
            (nr, (nr * nr) as f64 * fact2 - 1.0, 0)
        } else {
            (nside, (2 * nside - ring) as f64 * fact1, (ring - nside) & 1)
        };
        let nr = pixels_in_ring_quarter;
        // Integer division truncating toward zero, as in C.
        let mut jp = (FACE_PHI[face] * nr + x - y + 1 + shift) / 2;
        if jp > nl4 {
            jp -= nl4;
        }
        if jp < 1 {
            jp += nl4;
        }
        let phi = (jp as f64 - (shift + 1) as f64 * 0.5) * (FRAC_PI_2 / nr as f64);
        PixelCentre { z, phi }
    }

    /// NESTED index of the pixel containing direction `(z, phi)` (phi in radians, any range).
    pub fn pixel_of(self, z: f64, phi: f64) -> u64 {
        let nside = self.nside() as i64;
        let z = z.clamp(-1.0, 1.0);
        let za = z.abs();
        let tt = phi.rem_euclid(TAU) / FRAC_PI_2; // [0, 4)
        let (x, y, face) = if za <= 2.0 / 3.0 {
            let t1 = nside as f64 * (0.5 + tt);
            let t2 = nside as f64 * (z * 0.75);
            let jp = (t1 - t2) as i64; // index of the ascending edge line
            let jm = (t1 + t2) as i64; // index of the descending edge line
            let (ifp, ifm) = (jp >> self.order, jm >> self.order);
            let face = if ifp == ifm {
                (ifp | 4) as u32
            } else if ifp < ifm {
                ifp as u32
            } else {
                (ifm + 8) as u32
            };
            (jm & (nside - 1), nside - (jp & (nside - 1)) - 1, face)
        } else {
            let ntt = (tt as i64).min(3);
            let tp = tt - ntt as f64;
            let tmp = nside as f64 * (3.0 * (1.0 - za)).sqrt();
            let jp = ((tp * tmp) as i64).min(nside - 1);
            let jm = (((1.0 - tp) * tmp) as i64).min(nside - 1);
            if z >= 0.0 {
                (nside - jm - 1, nside - jp - 1, ntt as u32)
            } else {
                (jp, jm, ntt as u32 + 8)
            }
        };
        self.xyf_to_nest_unchecked(FaceCoordinates {
            x: x as u64,
            y: y as u64,
            face,
        })
    }

    /// Largest angular distance (radians) from a pixel centre to any point of its pixel, as
    /// RELION computes it (`Healpix_Base::max_pixrad`).
    pub fn max_pixel_radius(self) -> f64 {
        let nside = self.nside() as f64;
        let a = PixelCentre {
            z: 2.0 / 3.0,
            phi: std::f64::consts::PI / (4.0 * nside),
        }
        .direction();
        let t1 = (1.0 - 1.0 / nside).powi(2);
        let b = PixelCentre {
            z: 1.0 - t1 / 3.0,
            phi: 0.0,
        }
        .direction();
        a.cross(b).length().atan2(a.dot(b))
    }

    /// The `4^extra_order` NESTED indices at order `order + extra_order` inside pixel `ipix`,
    /// in RELION's oversampling order (face y outer, face x inner).
    pub fn children(self, ipix: u64, extra_order: u32) -> Result<Vec<u64>, HealpixError> {
        self.check_pixel(ipix)?;
        let fine = Healpix::new(self.order + extra_order)?;
        let FaceCoordinates { x, y, face } = self.nest_to_xyf_unchecked(ipix);
        let f = 1u64 << extra_order;
        Ok((f * y..f * (y + 1))
            .flat_map(|fy| {
                (f * x..f * (x + 1)).map(move |fx| {
                    fine.xyf_to_nest_unchecked(FaceCoordinates { x: fx, y: fy, face })
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic uniform directions on the sphere (xorshift).
    fn uniform_directions(n: usize) -> Vec<(f64, f64)> {
        let mut s: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n).map(|_| (2.0 * next() - 1.0, TAU * next())).collect()
    }

    #[test]
    fn pixel_counts_and_steps() {
        for order in 0..=8 {
            let h = Healpix::new(order).unwrap();
            assert_eq!(h.npix(), 12 * 4u64.pow(order));
            assert_eq!(h.centres().count() as u64, h.npix());
        }
        assert_eq!(angular_step_deg(0), 60.0);
        assert_eq!(angular_step_deg(2), 15.0);
        assert_eq!(angular_step_deg(3), 7.5);
        assert_eq!(angular_step_deg(5), 1.875);
        assert!(matches!(Healpix::new(14), Err(HealpixError::Order(14))));
        let h = Healpix::new(1).unwrap();
        assert!(matches!(
            h.centre(48),
            Err(HealpixError::Pixel { ipix: 48, .. })
        ));
        let bad = FaceCoordinates {
            x: 2,
            y: 0,
            face: 0,
        };
        assert!(h.xyf_to_nest(bad).is_err());
    }

    #[test]
    fn known_centres() {
        let close = |c: PixelCentre, z: f64, phi: f64| {
            (c.z - z).abs() < 1e-15 && (c.phi - phi).abs() < 1e-15
        };
        let h0 = Healpix::new(0).unwrap();
        use std::f64::consts::{FRAC_PI_4, PI};
        // Base pixels: northern row at z = 2/3, φ = π/4 + k·π/2; equator at φ = k·π/2;
        // southern row at z = −2/3.
        assert!(close(h0.centre(0).unwrap(), 2.0 / 3.0, FRAC_PI_4));
        assert!(close(h0.centre(3).unwrap(), 2.0 / 3.0, 7.0 * FRAC_PI_4));
        assert!(close(h0.centre(4).unwrap(), 0.0, 0.0));
        assert!(close(h0.centre(6).unwrap(), 0.0, PI));
        assert!(close(h0.centre(11).unwrap(), -2.0 / 3.0, 7.0 * FRAC_PI_4));
        // Order 1: pixel 3 is the northern corner of face 0 (z = 1 − 1/12, φ = π/4);
        // pixel 0 its southern corner (ring 3, z = 1/3).
        let h1 = Healpix::new(1).unwrap();
        assert!(close(h1.centre(3).unwrap(), 1.0 - 1.0 / 12.0, FRAC_PI_4));
        assert!(close(h1.centre(0).unwrap(), 1.0 / 3.0, FRAC_PI_4));
    }

    #[test]
    fn centres_are_distinct_and_in_their_own_pixel() {
        for order in 0..=4 {
            let h = Healpix::new(order).unwrap();
            let dirs: Vec<DVec3> = h.centres().map(PixelCentre::direction).collect();
            for (i, c) in h.centres().enumerate() {
                assert!((0.0..TAU).contains(&c.phi) && (-1.0..=1.0).contains(&c.z));
                assert_eq!(h.pixel_of(c.z, c.phi), i as u64, "order {order}");
            }
            // Nearest other centre is at least ~0.5 step away.
            let min_sep = (0..dirs.len())
                .flat_map(|i| (0..i).map(move |j| (i, j)))
                .map(|(i, j)| dirs[i].angle_between(dirs[j]))
                .fold(f64::INFINITY, f64::min);
            assert!(
                min_sep.to_degrees() > 0.5 * angular_step_deg(order),
                "order {order}"
            );
        }
    }

    #[test]
    fn xyf_round_trip() {
        let h = Healpix::new(5).unwrap();
        for ipix in (0..h.npix()).step_by(97) {
            let xyf = h.nest_to_xyf(ipix).unwrap();
            assert_eq!(h.xyf_to_nest(xyf).unwrap(), ipix);
        }
    }

    #[test]
    fn pixels_have_equal_area() {
        // Uniform random directions fall into each of the 48 order-1 pixels with probability
        // 1/48: counts must agree within 5 standard deviations.
        let h = Healpix::new(1).unwrap();
        let n = 96_000;
        let mut counts = vec![0usize; h.npix() as usize];
        for (z, phi) in uniform_directions(n) {
            counts[h.pixel_of(z, phi) as usize] += 1;
        }
        let expected = n as f64 / 48.0;
        let sigma = (expected * (1.0 - 1.0 / 48.0)).sqrt();
        for (i, &c) in counts.iter().enumerate() {
            assert!(
                (c as f64 - expected).abs() < 5.0 * sigma,
                "pixel {i}: {c} vs {expected}"
            );
        }
        assert!((h.pixel_area() * 48.0 - 2.0 * TAU).abs() < 1e-12);
    }

    #[test]
    fn max_pixel_radius_bounds_every_point() {
        for order in [1, 3] {
            let h = Healpix::new(order).unwrap();
            let r = h.max_pixel_radius();
            let worst = uniform_directions(40_000)
                .into_iter()
                .map(|(z, phi)| {
                    let c = h.centre(h.pixel_of(z, phi)).unwrap();
                    PixelCentre { z, phi }
                        .direction()
                        .angle_between(c.direction())
                })
                .fold(0.0, f64::max);
            assert!(worst <= r * (1.0 + 1e-9), "order {order}: {worst} > {r}");
            assert!(
                worst > 0.85 * r,
                "order {order}: bound {r} far from attained {worst}"
            );
        }
    }

    #[test]
    fn children_follow_relion_order_and_nest() {
        let h = Healpix::new(2).unwrap();
        // One level: children of p are 4p … 4p+3, RELION's (y outer, x inner) order coincides.
        assert_eq!(h.children(37, 1).unwrap(), vec![148, 149, 150, 151]);
        // Two levels: 16 children, all of which lie inside the parent pixel.
        let kids = h.children(37, 2).unwrap();
        assert_eq!(kids.len(), 16);
        let fine = Healpix::new(4).unwrap();
        for &k in &kids {
            let c = fine.centre(k).unwrap();
            assert_eq!(h.pixel_of(c.z, c.phi), 37);
        }
        // (y outer, x inner): x runs fastest, then y steps by one after 4 children.
        let first = fine.nest_to_xyf(kids[0]).unwrap();
        let fifth = fine.nest_to_xyf(kids[4]).unwrap();
        assert_eq!(
            fine.nest_to_xyf(kids[1]).unwrap(),
            FaceCoordinates {
                x: first.x + 1,
                ..first
            }
        );
        assert_eq!(
            fifth,
            FaceCoordinates {
                y: first.y + 1,
                ..first
            }
        );
        assert!(h.children(37, 12).is_err());
    }
}
