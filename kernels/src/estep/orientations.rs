//! The orientational part of the hidden-variable grid (refine.md §1.3, §1.5, §7.4): which
//! coarse orientations a particle evaluates, with which prior, and their rotation matrices with
//! the iteration's random perturbation applied. Angles are in degrees.
//!
//! An [`OrientationPlan`] is built once per iteration and shared by all particles: it holds the
//! perturbed matrix `A·A(p, p, p)` of every coarse orientation (p = perturbation in degrees,
//! RELION's rlnSamplingPerturbInstance × coarse step, as
//! [`crate::geometry::sampling::perturbed`]) and makes the oversampled children on demand. A particle's list of [`CoarseOrientation`]s comes
//! from the global direction pdf or a local prior; priors are divided by their mean over the
//! list (refine.md §1.4: π̃).

use glam::DMat3;

use super::EstepError;
use crate::geometry::euler::euler_to_matrix;
use crate::geometry::healpix::Healpix;
use crate::geometry::sampling::{LocalPrior, OrientationSampling, SamplingError};

/// One coarse orientation to evaluate: indices into the sampling's directions and psi angles,
/// and its prior (relative to the mean over the evaluated list).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoarseOrientation {
    /// Index into [`OrientationSampling::directions`].
    pub direction: usize,
    /// Index into [`OrientationSampling::psis`].
    pub psi: usize,
    /// Prior π̃ of this orientation (mean 1 over the list).
    pub prior: f64,
}

/// The perturbed coarse rotation matrices of one iteration; see the module doc.
#[derive(Debug, Clone)]
pub struct OrientationPlan<'s> {
    sampling: &'s OrientationSampling,
    oversampling: u32,
    perturbation: DMat3,
    coarse: Vec<DMat3>,
}

impl<'s> OrientationPlan<'s> {
    /// The plan for `sampling` refined by `oversampling` HEALPix orders in the fine pass, with
    /// every rotation perturbed by `perturbation_deg` degrees (0 for none).
    pub fn new(
        sampling: &'s OrientationSampling,
        oversampling: u32,
        perturbation_deg: f64,
    ) -> Result<Self, EstepError> {
        Healpix::new(sampling.order() + oversampling).map_err(SamplingError::from)?;
        if !perturbation_deg.is_finite() {
            return Err(EstepError::invalid(
                "orientation perturbation (degrees)",
                perturbation_deg,
                "finite",
            ));
        }
        let p = perturbation_deg;
        let perturbation = euler_to_matrix(p, p, p);
        let coarse = sampling
            .iter()
            .map(|(_, _, angles)| angles.to_matrix() * perturbation)
            .collect();
        Ok(Self {
            sampling,
            oversampling,
            perturbation,
            coarse,
        })
    }

    /// The coarse sampling.
    pub fn sampling(&self) -> &'s OrientationSampling {
        self.sampling
    }

    /// Orientational oversampling order of the fine pass.
    pub fn oversampling(&self) -> u32 {
        self.oversampling
    }

    /// All perturbed coarse matrices, at index [`coarse_index`](Self::coarse_index).
    pub fn coarse_matrices(&self) -> &[DMat3] {
        &self.coarse
    }

    /// Index direction·n_psi + psi of a coarse orientation in [`coarse_matrices`](Self::coarse_matrices)
    /// (and in a [`ProjectionBank`](super::ProjectionBank) built for this plan).
    pub fn coarse_index(&self, o: &CoarseOrientation) -> Result<usize, EstepError> {
        let (dirs, psis) = (self.sampling.directions().len(), self.sampling.psis().len());
        if o.direction >= dirs {
            return Err(SamplingError::Index {
                what: "direction",
                index: o.direction,
                len: dirs,
            }
            .into());
        }
        if o.psi >= psis {
            return Err(SamplingError::Index {
                what: "psi",
                index: o.psi,
                len: psis,
            }
            .into());
        }
        Ok(o.direction * psis + o.psi)
    }

    /// Perturbed rotation matrix of a coarse orientation.
    pub fn coarse_matrix(&self, o: &CoarseOrientation) -> Result<DMat3, EstepError> {
        Ok(self.coarse[self.coarse_index(o)?])
    }

    /// Perturbed rotation matrices of the 8^oversampling fine children of a coarse
    /// orientation, in RELION's order ([`OrientationSampling::oversampled`]).
    pub fn fine_matrices(&self, o: &CoarseOrientation) -> Result<Vec<DMat3>, EstepError> {
        self.coarse_index(o)?;
        Ok(self
            .sampling
            .oversampled(o.direction, o.psi, self.oversampling)?
            .into_iter()
            .map(|angles| angles.to_matrix() * self.perturbation)
            .collect())
    }
}

/// Divides the priors by their mean; refuses an empty list or one whose priors sum to 0.
fn normalised(
    mut list: Vec<CoarseOrientation>,
    what: &'static str,
) -> Result<Vec<CoarseOrientation>, EstepError> {
    let sum: f64 = list.iter().map(|o| o.prior).sum();
    if list.is_empty() || !(sum.is_finite() && sum > 0.0) {
        return Err(EstepError::invalid(
            what,
            format!("{} orientations with prior sum {sum}", list.len()),
            "at least one orientation with a positive prior",
        ));
    }
    let mean = sum / list.len() as f64;
    list.iter_mut().for_each(|o| o.prior /= mean);
    Ok(list)
}

/// All coarse orientations of a global search (refine.md §1.5, mode 0): prior pdf_direction(d)
/// for every psi, or uniform when `pdf_direction` is `None`. Directions whose pdf is exactly 0
/// are skipped entirely, as RELION does.
pub fn global_orientations(
    sampling: &OrientationSampling,
    pdf_direction: Option<&[f64]>,
) -> Result<Vec<CoarseOrientation>, EstepError> {
    let dirs = sampling.directions().len();
    if let Some(pdf) = pdf_direction {
        if pdf.len() != dirs {
            return Err(EstepError::invalid(
                "pdf_direction length",
                pdf.len(),
                format!("{dirs} (one per coarse direction)"),
            ));
        }
        if let Some(bad) = pdf.iter().find(|p| !(p.is_finite() && **p >= 0.0)) {
            return Err(EstepError::invalid(
                "pdf_direction value",
                bad,
                "finite and ≥ 0",
            ));
        }
    }
    let list = (0..dirs)
        .map(|d| pdf_direction.map_or(1.0, |pdf| pdf[d]))
        .enumerate()
        .filter(|&(_, p)| p > 0.0)
        .flat_map(|(direction, prior)| {
            (0..sampling.psis().len()).map(move |psi| CoarseOrientation {
                direction,
                psi,
                prior,
            })
        })
        .collect();
    normalised(list, "global orientation prior")
}

/// The coarse orientations of a local search (refine.md §1.5, mode 1): every kept direction ×
/// every kept psi of `prior`, with the product of their Gaussian weights.
pub fn local_orientations(prior: &LocalPrior) -> Result<Vec<CoarseOrientation>, EstepError> {
    let list = prior
        .directions
        .iter()
        .flat_map(|&(direction, wd)| {
            prior.psis.iter().map(move |&(psi, wp)| CoarseOrientation {
                direction,
                psi,
                prior: wd * wp,
            })
        })
        .collect();
    normalised(list, "local orientation prior")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::sampling::LocalSearch;
    use crate::geometry::symmetry::SymmetryGroup;

    fn c1(order: u32) -> OrientationSampling {
        OrientationSampling::new(order, &SymmetryGroup::parse("C1").unwrap()).unwrap()
    }

    #[test]
    fn plan_matrices_are_the_perturbed_sampling() {
        let s = c1(1);
        let plan = OrientationPlan::new(&s, 1, 3.0).unwrap();
        let o = CoarseOrientation {
            direction: 5,
            psi: 7,
            prior: 1.0,
        };
        let expected =
            crate::geometry::sampling::perturbed(s.euler(5, 7).unwrap(), 3.0).to_matrix();
        assert!((plan.coarse_matrix(&o).unwrap() - expected).abs_diff_eq(DMat3::ZERO, 1e-12));
        let fine = plan.fine_matrices(&o).unwrap();
        assert_eq!(fine.len(), 8);
        let child = crate::geometry::sampling::perturbed(s.oversampled(5, 7, 1).unwrap()[3], 3.0)
            .to_matrix();
        assert!((fine[3] - child).abs_diff_eq(DMat3::ZERO, 1e-12));
        let bad = CoarseOrientation {
            direction: s.directions().len(),
            ..o
        };
        assert!(plan.coarse_matrix(&bad).is_err());
        assert!(OrientationPlan::new(&s, 13, 0.0).is_err());
    }

    #[test]
    fn global_list_skips_zero_pdf_directions_and_has_mean_prior_one() {
        let s = c1(0);
        let mut pdf = vec![1.0; s.directions().len()];
        pdf[2] = 0.0;
        pdf[3] = 3.0;
        let list = global_orientations(&s, Some(&pdf)).unwrap();
        assert_eq!(list.len(), (s.directions().len() - 1) * s.psis().len());
        assert!(list.iter().all(|o| o.direction != 2));
        let mean = list.iter().map(|o| o.prior).sum::<f64>() / list.len() as f64;
        assert!((mean - 1.0).abs() < 1e-12);
        let p = |d| list.iter().find(|o| o.direction == d).unwrap().prior;
        assert!((p(3) / p(0) - 3.0).abs() < 1e-12);
        assert!(global_orientations(&s, Some(&pdf[1..])).is_err());
        assert!(global_orientations(&s, Some(&vec![0.0; pdf.len()])).is_err());
    }

    #[test]
    fn local_list_is_the_product_of_direction_and_psi_weights() {
        let s = c1(2);
        let local = s.local_prior(s.euler(10, 4).unwrap(), &LocalSearch::isotropic(15.0));
        let list = local_orientations(&local).unwrap();
        assert_eq!(list.len(), local.directions.len() * local.psis.len());
        let best = list
            .iter()
            .max_by(|a, b| a.prior.total_cmp(&b.prior))
            .unwrap();
        assert_eq!((best.direction, best.psi), (10, 4));
    }
}
