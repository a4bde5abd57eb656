//! The translational part of the hidden-variable grid and its Gaussian prior (refine.md §1.3,
//! §1.5), in Å relative to the particle's rounded previous offset.
//!
//! Coarse translations: (i·δ, j·δ) for integers i, j (x outer, y inner) with
//! |(i·δ, j·δ)| ≤ range, plus the perturbation ρ·δ on both axes. Each coarse cell splits into
//! 2^o × 2^o fine translations t − δ/2 + (j + ½)·δ/2^o per axis (o = oversampling order; the
//! coarse centre itself is not a fine point when o > 0). The prior of a coarse translation t
//! (shared by its fine children) is exp(−|o_round·p + t − o_prior|²/(2σ_off²)), evaluated in
//! Å throughout (RELION mixes pixels and Å here, refine.md §1.5 [quirk]), divided by its mean
//! over the coarse grid.

use super::EstepError;

/// The search settings of one iteration, in Å (RELION's rlnOffsetRange, rlnOffsetStep, …).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TranslationSearch {
    /// Radius of the search disc in Å (rlnOffsetRange).
    pub range_angst: f64,
    /// Coarse step δ in Å (rlnOffsetStep, the coarse step).
    pub step_angst: f64,
    /// Perturbation ρ·δ in Å added to x and y of every translation (0 for none).
    pub perturbation_angst: f64,
    /// Width σ_off of the offset prior in Å (rlnSigmaOffsetsAngst).
    pub sigma_offset_angst: f64,
    /// Centre of the offset prior in Å: rlnOriginX/YPriorAngst, or (0, 0), the box centre.
    pub prior_centre_angst: [f64; 2],
}

/// The coarse translations of one particle with their priors; see the module doc.
#[derive(Debug, Clone, PartialEq)]
pub struct TranslationGrid {
    pixel_size: f64,
    step_angst: f64,
    oversampling: u32,
    coarse: Vec<[f64; 2]>,
    priors: Vec<f64>,
}

impl TranslationGrid {
    /// The grid of `search` at `oversampling` orders for a particle whose image was pre-shifted
    /// by `rounded_offset_px` pixels, with pixel size `pixel_size` Å.
    pub fn new(
        search: &TranslationSearch,
        oversampling: u32,
        rounded_offset_px: [i64; 2],
        pixel_size: f64,
    ) -> Result<Self, EstepError> {
        crate::grid::check_pixel_size("translation grid pixel size (Å)", pixel_size)?;
        let positive = |what, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(v)
            } else {
                Err(EstepError::invalid(what, v, "a positive finite number"))
            }
        };
        let step = positive("offset step (Å)", search.step_angst)?;
        let sigma = positive("offset prior σ (Å)", search.sigma_offset_angst)?;
        let range = search.range_angst;
        if !(range.is_finite() && range >= 0.0) {
            return Err(EstepError::invalid(
                "offset range (Å)",
                range,
                "a finite number ≥ 0",
            ));
        }
        if oversampling > 8 {
            return Err(EstepError::invalid(
                "translational oversampling order",
                oversampling,
                "≤ 8",
            ));
        }
        let perturbation = search.perturbation_angst;
        if !perturbation.is_finite() {
            return Err(EstepError::invalid(
                "offset perturbation (Å)",
                perturbation,
                "finite",
            ));
        }
        let max_index = (range / step).ceil() as i64;
        let limit = range * range * (1.0 + 1e-9);
        let coarse: Vec<[f64; 2]> = (-max_index..=max_index)
            .flat_map(|i| (-max_index..=max_index).map(move |j| [i as f64 * step, j as f64 * step]))
            .filter(|[x, y]| x * x + y * y <= limit)
            .map(|[x, y]| [x + perturbation, y + perturbation])
            .collect();
        let origin = rounded_offset_px.map(|o| o as f64 * pixel_size);
        let raw: Vec<f64> = coarse
            .iter()
            .map(|t| {
                let dx = origin[0] + t[0] - search.prior_centre_angst[0];
                let dy = origin[1] + t[1] - search.prior_centre_angst[1];
                -(dx * dx + dy * dy) / (2.0 * sigma * sigma)
            })
            .collect();
        // Normalise in log space first so that far-off priors do not underflow to 0.
        let top = raw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let unnormalised: Vec<f64> = raw.iter().map(|l| (l - top).exp()).collect();
        let mean = unnormalised.iter().sum::<f64>() / unnormalised.len() as f64;
        Ok(Self {
            pixel_size,
            step_angst: step,
            oversampling,
            coarse,
            priors: unnormalised.iter().map(|p| p / mean).collect(),
        })
    }

    /// Number of coarse translations.
    pub fn len(&self) -> usize {
        self.coarse.len()
    }

    /// Always false: the grid holds at least the (perturbed) zero translation.
    pub fn is_empty(&self) -> bool {
        self.coarse.is_empty()
    }

    /// Pixel size in Å.
    pub fn pixel_size(&self) -> f64 {
        self.pixel_size
    }

    /// Oversampling order o (2^o × 2^o fine translations per coarse one).
    pub fn oversampling(&self) -> u32 {
        self.oversampling
    }

    /// Coarse translations in Å (x, y), relative to the rounded previous offset.
    pub fn coarse_angst(&self) -> &[[f64; 2]] {
        &self.coarse
    }

    /// Prior of each coarse translation, divided by the mean over the grid.
    pub fn priors(&self) -> &[f64] {
        &self.priors
    }

    /// The fine translations (Å) of coarse translation `index` (x outer, y inner); `None` when
    /// the index is out of range.
    pub fn fine_angst(&self, index: usize) -> Option<Vec<[f64; 2]>> {
        let [cx, cy] = *self.coarse.get(index)?;
        let count = 1usize << self.oversampling;
        let fine_step = self.step_angst / count as f64;
        let axis = |c: f64| -> Vec<f64> {
            if self.oversampling == 0 {
                return vec![c];
            }
            (0..count)
                .map(|j| c - 0.5 * self.step_angst + (j as f64 + 0.5) * fine_step)
                .collect()
        };
        let ys = axis(cy);
        Some(
            axis(cx)
                .into_iter()
                .flat_map(|x| ys.iter().map(move |&y| [x, y]))
                .collect(),
        )
    }

    /// A translation in Å converted to pixels of the particle box.
    pub fn to_pixels(&self, t_angst: [f64; 2]) -> [f64; 2] {
        t_angst.map(|t| t / self.pixel_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(range: f64, step: f64) -> TranslationSearch {
        TranslationSearch {
            range_angst: range,
            step_angst: step,
            perturbation_angst: 0.0,
            sigma_offset_angst: 10.0,
            prior_centre_angst: [0.0, 0.0],
        }
    }

    #[test]
    fn relion_default_disc_has_21_points() {
        // GUI "5 px range, 1 px step" = range 5, coarse step 2 (pixels of 1 Å here).
        let g = TranslationGrid::new(&search(5.0, 2.0), 1, [0, 0], 1.0).unwrap();
        assert_eq!(g.len(), 21);
        assert_eq!(
            TranslationGrid::new(&search(0.0, 2.0), 1, [0, 0], 1.0)
                .unwrap()
                .len(),
            1
        );
        let mean = g.priors().iter().sum::<f64>() / g.len() as f64;
        assert!((mean - 1.0).abs() < 1e-12);
    }

    #[test]
    fn fine_children_tile_the_coarse_cell() {
        let mut s = search(3.0, 2.0);
        s.perturbation_angst = 0.25;
        let g = TranslationGrid::new(&s, 1, [0, 0], 1.5).unwrap();
        let i = g
            .coarse_angst()
            .iter()
            .position(|t| *t == [2.25, 0.25])
            .unwrap();
        let fine = g.fine_angst(i).unwrap();
        assert_eq!(
            fine,
            vec![[1.75, -0.25], [1.75, 0.75], [2.75, -0.25], [2.75, 0.75]]
        );
        assert_eq!(g.to_pixels([3.0, -1.5]), [2.0, -1.0]);
        assert!(g.fine_angst(g.len()).is_none());
    }

    #[test]
    fn prior_is_centred_on_the_prior_origin_in_angstrom() {
        let mut s = search(4.0, 1.0);
        s.prior_centre_angst = [3.0, 0.0];
        s.sigma_offset_angst = 2.0;
        // Rounded offset of 1 pixel of 2 Å puts the prior centre at t = (1, 0) Å.
        let g = TranslationGrid::new(&s, 0, [1, 0], 2.0).unwrap();
        let best = (0..g.len())
            .max_by(|&a, &b| g.priors()[a].total_cmp(&g.priors()[b]))
            .unwrap();
        assert_eq!(g.coarse_angst()[best], [1.0, 0.0]);
        let at = |t: [f64; 2]| g.priors()[g.coarse_angst().iter().position(|c| *c == t).unwrap()];
        let expected = (-(4.0f64) / 8.0).exp();
        assert!((at([3.0, 0.0]) / at([1.0, 0.0]) - expected).abs() < 1e-12);
        assert!(TranslationGrid::new(&search(1.0, 0.0), 0, [0, 0], 1.0).is_err());
    }
}
