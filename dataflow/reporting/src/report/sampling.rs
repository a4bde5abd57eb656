//! What the report takes from RELION's `*_itNNN_sampling.star` (`data_sampling_general`,
//! refine.md §8.6): the HEALPix order and psi step of the orientation search, and the point
//! group.

use std::path::Path;

use anyhow::Context;
use cryoflux_formats::star::{StarFile, Value};

use super::model::number;

/// The orientation sampling of one iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    /// rlnHealpixOrder: directions on a HEALPix grid of this order (coarse search).
    pub healpix_order: Option<i64>,
    /// rlnPsiStep: in-plane step, degrees.
    pub psi_step_deg: Option<f64>,
    /// rlnSymmetryGroup, e.g. `C1`, `D2`.
    pub symmetry: Option<String>,
}

impl Sampling {
    /// Reads `path` (a file without `data_sampling_general` gives all fields `None`).
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let star = StarFile::read(path).context("cannot read the sampling file")?;
        let Some(general) = star.block("sampling_general") else {
            return Ok(Self {
                healpix_order: None,
                psi_step_deg: None,
                symmetry: None,
            });
        };
        Ok(Self {
            healpix_order: match general.pair("rlnHealpixOrder") {
                Some(Value::Int(order)) => Some(*order),
                _ => None,
            },
            psi_step_deg: number(general, "rlnPsiStep"),
            symmetry: match general.pair("rlnSymmetryGroup") {
                Some(Value::Text(group)) => Some(group.clone()),
                _ => None,
            },
        })
    }

    /// Angular step of the coarse search, degrees: 360/(6·2^order) from the HEALPix order
    /// (refine.md §4.1), else the psi step.
    pub fn angular_step_deg(&self) -> Option<f64> {
        match self.healpix_order {
            Some(order) if (0..=30).contains(&order) => Some(60.0 / f64::from(1u32 << order)),
            _ => self.psi_step_deg,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_relion_sampling_and_converts_the_order_to_degrees() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run_it001_sampling.star");
        std::fs::write(
            &path,
            "data_sampling_general\n_rlnHealpixOrder 2\n_rlnSymmetryGroup D2\n\
             _rlnPsiStep 7.5\n",
        )
        .unwrap();
        let sampling = Sampling::read(&path).unwrap();
        assert_eq!(sampling.healpix_order, Some(2));
        assert_eq!(sampling.symmetry.as_deref(), Some("D2"));
        assert_eq!(sampling.angular_step_deg(), Some(15.0));
        let psi_only = Sampling {
            healpix_order: None,
            ..sampling
        };
        assert_eq!(psi_only.angular_step_deg(), Some(7.5));
    }
}
