//! Orientation sampling: HEALPix directions × psi, symmetry reduction, oversampling children and local neighbourhoods.
//!
//! RELION's 3D orientation grid (refine.md §7, `src/healpix_sampling.cpp`): coarse viewing
//! directions = centres of the HEALPix pixels at order `o` reduced to one asymmetric unit of the
//! point group ([`directions`]), times in-plane angles ψ_j = j·360/n_ψ with
//! n_ψ = ceil(360/psi_step) (default psi_step = the HEALPix step 360/(6·2^o)). A coarse
//! orientation (direction, ψ) oversampled by `k` orders becomes the 4^k HEALPix children of its
//! pixel times 2^k ψ values `ψ − step/2 + (j + ½)·step/2^k`. All angles are in degrees.

mod directions;
mod local;

use glam::{DMat3, DVec3};

pub use directions::Direction;
pub use local::{DEFAULT_SIGMA_CUTOFF, LocalPrior, LocalSearch};

use crate::geometry::euler::{EulerAngles, euler_to_matrix};
use crate::geometry::healpix::{self, Healpix, HealpixError};
use crate::geometry::symmetry::SymmetryGroup;

/// Why an orientation sampling could not be built or queried.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SamplingError {
    /// Bad HEALPix order (coarse or coarse + oversampling).
    #[error(transparent)]
    Healpix(#[from] HealpixError),
    /// A psi step that is not a positive number of degrees up to 360.
    #[error("psi step {0} degrees is invalid; expected a finite value in (0, 360]")]
    PsiStep(f64),
    /// No direction survived the symmetry reduction and tilt limit (RELION's icosahedral cuts
    /// are empty at order 1 for I, I2, I3, Ih, I3h; RELION then fails too).
    #[error(
        "no viewing direction left at HEALPix order {order} for symmetry {symmetry}; use a finer order or a looser tilt limit"
    )]
    NoDirections {
        /// The coarse HEALPix order.
        order: u32,
        /// The point group, canonical spelling.
        symmetry: String,
    },
    /// A direction or psi index beyond the sampling.
    #[error("{what} index {index} is out of range; the sampling has {len}")]
    Index {
        /// "direction" or "psi".
        what: &'static str,
        /// The index asked for.
        index: usize,
        /// How many there are.
        len: usize,
    },
}

/// Optional settings of an [`OrientationSampling`] (RELION's `--psi_step`, `--limit_tilt`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SamplingOptions {
    /// Requested psi step in degrees (rounded down to 360/ceil(360/step)); `None` = the HEALPix
    /// angular step of the order (RELION's default `--psi_step -1`).
    pub psi_step_deg: Option<f64>,
    /// Tilt limit in degrees: positive keeps side views (|tilt'| ≥ limit), negative keeps top
    /// views (|tilt'| ≤ |limit|), tilt' = tilt folded into [−90, 90]; `None` = no limit.
    pub limit_tilt_deg: Option<f64>,
}

/// RELION's coarse orientation grid for one HEALPix order and point group.
#[derive(Debug, Clone)]
pub struct OrientationSampling {
    healpix: Healpix,
    symmetry: SymmetryGroup,
    psi_step_deg: f64,
    directions: Vec<Direction>,
    /// `symmetry.order()` RELION direction copies per direction, for local searches.
    direction_copies: Vec<DVec3>,
    psis: Vec<f64>,
}

impl OrientationSampling {
    /// The grid at HEALPix `order` (0–13) for `symmetry`, with RELION's default psi step.
    ///
    /// ```
    /// use cryoflux_kernels::geometry::{sampling::OrientationSampling, symmetry::SymmetryGroup};
    /// let d2 = SymmetryGroup::parse("D2").unwrap();
    /// let sampling = OrientationSampling::new(2, &d2).unwrap(); // 15° steps
    /// assert_eq!((sampling.directions().len(), sampling.psis().len()), (48, 24));
    /// let a = sampling.matrix(0, 0).unwrap(); // RELION's A for (rot, tilt, psi = 0)
    /// assert!((a.row(2) - sampling.directions()[0].vector()).length() < 1e-12);
    /// ```
    pub fn new(order: u32, symmetry: &SymmetryGroup) -> Result<Self, SamplingError> {
        Self::with_options(order, symmetry, SamplingOptions::default())
    }

    /// The grid with explicit options.
    pub fn with_options(
        order: u32,
        symmetry: &SymmetryGroup,
        options: SamplingOptions,
    ) -> Result<Self, SamplingError> {
        let healpix = Healpix::new(order)?;
        let requested = options
            .psi_step_deg
            .unwrap_or_else(|| healpix::angular_step_deg(order));
        if !(requested.is_finite() && requested > 0.0 && requested <= 360.0) {
            return Err(SamplingError::PsiStep(requested));
        }
        let nr_psi = (360.0 / requested).ceil() as usize;
        let psi_step_deg = 360.0 / nr_psi as f64;
        let psis = (0..nr_psi).map(|j| j as f64 * psi_step_deg).collect();
        let directions = directions::reduced_directions(healpix, symmetry, options.limit_tilt_deg);
        if directions.is_empty() {
            return Err(SamplingError::NoDirections {
                order,
                symmetry: symmetry.point_group().to_string(),
            });
        }
        let direction_copies = directions
            .iter()
            .flat_map(|d| {
                symmetry
                    .relion_direction_copies(d.vector())
                    .collect::<Vec<_>>()
            })
            .collect();
        Ok(Self {
            healpix,
            symmetry: symmetry.clone(),
            psi_step_deg,
            directions,
            direction_copies,
            psis,
        })
    }

    /// HEALPix order of the coarse directions.
    pub fn order(&self) -> u32 {
        self.healpix.order()
    }

    /// The point group the directions were reduced by.
    pub fn symmetry(&self) -> &SymmetryGroup {
        &self.symmetry
    }

    /// Actual psi step in degrees (360 / number of psi values).
    pub fn psi_step_deg(&self) -> f64 {
        self.psi_step_deg
    }

    /// Angular step in degrees at `oversampling` orders above the coarse order
    /// (360/(6·2^(order+oversampling)), RELION's `getAngularSampling`).
    pub fn angular_step_deg(&self, oversampling: u32) -> f64 {
        healpix::angular_step_deg(self.order() + oversampling)
    }

    /// Coarse viewing directions, in RELION's order.
    pub fn directions(&self) -> &[Direction] {
        &self.directions
    }

    /// Coarse psi angles in degrees, [0, 360).
    pub fn psis(&self) -> &[f64] {
        &self.psis
    }

    /// Number of coarse orientations (directions × psi).
    pub fn len(&self) -> usize {
        self.directions.len() * self.psis.len()
    }

    /// Always false: construction fails rather than produce an empty sampling.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn direction(&self, idir: usize) -> Result<&Direction, SamplingError> {
        self.directions.get(idir).ok_or(SamplingError::Index {
            what: "direction",
            index: idir,
            len: self.directions.len(),
        })
    }

    fn psi(&self, ipsi: usize) -> Result<f64, SamplingError> {
        self.psis.get(ipsi).copied().ok_or(SamplingError::Index {
            what: "psi",
            index: ipsi,
            len: self.psis.len(),
        })
    }

    /// Euler angles of coarse orientation (direction `idir`, psi `ipsi`).
    pub fn euler(&self, idir: usize, ipsi: usize) -> Result<EulerAngles, SamplingError> {
        let d = self.direction(idir)?;
        Ok(EulerAngles::new(d.rot, d.tilt, self.psi(ipsi)?))
    }

    /// Rotation matrix of coarse orientation (`idir`, `ipsi`) (see [`crate::geometry::euler`]).
    pub fn matrix(&self, idir: usize, ipsi: usize) -> Result<DMat3, SamplingError> {
        Ok(self.euler(idir, ipsi)?.to_matrix())
    }

    /// All coarse orientations as (direction index, psi index, angles), direction-major.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize, EulerAngles)> + '_ {
        self.directions
            .iter()
            .enumerate()
            .flat_map(move |(idir, d)| {
                self.psis
                    .iter()
                    .enumerate()
                    .map(move |(ipsi, &psi)| (idir, ipsi, EulerAngles::new(d.rot, d.tilt, psi)))
            })
    }

    /// The 8^`oversampling` fine orientations of coarse orientation (`idir`, `ipsi`), in
    /// RELION's order: for each child direction (HEALPix children at order + oversampling,
    /// face y outer, x inner), each child psi. Oversampling 0 gives the coarse orientation.
    /// Child psi values are not wrapped (the first child of ψ = 0 is negative), as in RELION.
    pub fn oversampled(
        &self,
        idir: usize,
        ipsi: usize,
        oversampling: u32,
    ) -> Result<Vec<EulerAngles>, SamplingError> {
        let coarse = self.euler(idir, ipsi)?;
        if oversampling == 0 {
            return Ok(vec![coarse]);
        }
        let fine = Healpix::new(self.order() + oversampling)?;
        let children = self
            .healpix
            .children(self.directions[idir].ipix, oversampling)?;
        let nr_psi = 1usize << oversampling;
        let fine_psis: Vec<f64> = (0..nr_psi)
            .map(|j| {
                coarse.psi - 0.5 * self.psi_step_deg
                    + (0.5 + j as f64) * self.psi_step_deg / nr_psi as f64
            })
            .collect();
        children
            .into_iter()
            .map(|ipix| Ok(Direction::from_centre(fine.centre(ipix)?, ipix)))
            .collect::<Result<Vec<Direction>, SamplingError>>()
            .map(|dirs| {
                dirs.iter()
                    .flat_map(|d| {
                        fine_psis
                            .iter()
                            .map(|&psi| EulerAngles::new(d.rot, d.tilt, psi))
                    })
                    .collect()
            })
    }
}

/// RELION's random perturbation of a sampled orientation: `A·A(p, p, p)` with
/// `p = perturbation_instance · coarse angular step` in degrees (`rlnSamplingPerturbInstance`
/// times [`OrientationSampling::angular_step_deg`]`(0)`), re-expressed as Euler angles.
pub fn perturbed(angles: EulerAngles, perturbation_deg: f64) -> EulerAngles {
    let p = perturbation_deg;
    EulerAngles::from_matrix(&(angles.to_matrix() * euler_to_matrix(p, p, p)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::euler::rotation_angle_between;

    #[test]
    fn counts_follow_the_relion_table() {
        let c1 = SymmetryGroup::c1();
        for (order, dirs, psis) in [(0, 12, 6), (1, 48, 12), (2, 192, 24), (3, 768, 48)] {
            let s = OrientationSampling::new(order, &c1).unwrap();
            assert_eq!(
                (s.directions().len(), s.psis().len()),
                (dirs, psis),
                "order {order}"
            );
            assert_eq!(s.len(), dirs * psis);
            assert_eq!(s.iter().count(), s.len());
        }
        let d2 = OrientationSampling::new(2, &SymmetryGroup::parse("D2").unwrap()).unwrap();
        assert_eq!(d2.len(), 1152);
    }

    #[test]
    fn psi_step_rounds_to_a_divisor_of_360() {
        let c1 = SymmetryGroup::c1();
        let options = SamplingOptions {
            psi_step_deg: Some(7.0),
            limit_tilt_deg: None,
        };
        let s = OrientationSampling::with_options(1, &c1, options).unwrap();
        assert_eq!(s.psis().len(), 52);
        assert!((s.psi_step_deg() - 360.0 / 52.0).abs() < 1e-12);
        assert!((s.psis()[51] - 51.0 * 360.0 / 52.0).abs() < 1e-9);
        for bad in [0.0, -1.0, f64::NAN, 400.0] {
            let options = SamplingOptions {
                psi_step_deg: Some(bad),
                limit_tilt_deg: None,
            };
            assert!(matches!(
                OrientationSampling::with_options(1, &c1, options),
                Err(SamplingError::PsiStep(_))
            ));
        }
        assert!(matches!(
            OrientationSampling::new(14, &c1),
            Err(SamplingError::Healpix(_))
        ));
    }

    #[test]
    fn indices_are_checked() {
        let s = OrientationSampling::new(0, &SymmetryGroup::c1()).unwrap();
        assert!(s.euler(11, 5).is_ok());
        assert!(matches!(
            s.euler(12, 0),
            Err(SamplingError::Index {
                what: "direction",
                ..
            })
        ));
        assert!(matches!(
            s.matrix(0, 6),
            Err(SamplingError::Index { what: "psi", .. })
        ));
        let m = s.matrix(4, 1).unwrap();
        assert!((m.row(2) - s.directions()[4].vector()).length() < 1e-15);
    }

    #[test]
    fn oversampled_children_surround_their_parent() {
        let s = OrientationSampling::new(2, &SymmetryGroup::c1()).unwrap();
        let (idir, ipsi) = (77, 3);
        let coarse = s.euler(idir, ipsi).unwrap();
        let fine = s.oversampled(idir, ipsi, 1).unwrap();
        assert_eq!(fine.len(), 8);
        // Psi children at ψ ∓ step/4, the two psi values of each child direction adjacent.
        assert!((fine[0].psi - (coarse.psi - 3.75)).abs() < 1e-12);
        assert!((fine[1].psi - (coarse.psi + 3.75)).abs() < 1e-12);
        assert_eq!((fine[0].rot, fine[0].tilt), (fine[1].rot, fine[1].tilt));
        // Every child is within one coarse pixel radius of the parent direction.
        let parent = s.directions()[idir].vector();
        let radius = Healpix::new(2).unwrap().max_pixel_radius();
        for f in &fine {
            let v = crate::geometry::euler::euler_to_direction(f.rot, f.tilt);
            assert!(v.angle_between(parent) <= radius);
        }
        assert_eq!(s.oversampled(idir, ipsi, 2).unwrap().len(), 64);
        assert_eq!(s.oversampled(idir, ipsi, 0).unwrap(), vec![coarse]);
        assert!(s.oversampled(idir, ipsi, 12).is_err());
    }

    #[test]
    fn perturbation_rotates_by_a_fixed_small_angle() {
        let a = EulerAngles::new(10.0, 80.0, 200.0 - 360.0);
        let p = perturbed(a, 0.3 * 7.5);
        let angle = rotation_angle_between(&a.to_matrix(), &p.to_matrix());
        let expected = rotation_angle_between(&DMat3::IDENTITY, &euler_to_matrix(2.25, 2.25, 2.25));
        assert!((angle - expected).abs() < 1e-9 && angle > 1.0);
        assert_eq!(perturbed(a, 0.0), EulerAngles::from_matrix(&a.to_matrix()));
    }
}
