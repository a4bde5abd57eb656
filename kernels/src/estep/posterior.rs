//! From scores to posterior weights (refine.md §1.4, §1.6): priors, the log-sum-exp shift by
//! the smallest d², the 700 cut, the significance threshold holding a mass fraction, Pmax and
//! the per-particle log-likelihood dLL. All in f64, summed in a fixed order.

use super::EstepError;
use super::exp::exp;

/// Samples whose d² exceeds the smallest by more than this get weight 0 (RELION's double
/// precision cut; exp(−700) ≈ 10⁻³⁰⁴).
pub const LOG_WEIGHT_CUTOFF: f64 = 700.0;

/// Unnormalised weights w(θ) = π̃(θ)·exp(−(d²(θ) − min d²)) of one pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// w(θ) per sample, in the order of the scores.
    pub weights: Vec<f64>,
    /// Σ_θ w(θ).
    pub sum: f64,
    /// min_θ d²(θ) over the evaluated samples.
    pub min_diff2: f64,
}

impl Weights {
    /// Pmax = max_θ w(θ)/Σw (rlnMaxValueProbDistribution).
    pub fn max_probability(&self) -> f64 {
        self.weights.iter().copied().fold(0.0, f64::max) / self.sum
    }
}

/// Weights of samples with squared differences `diff2` and priors `priors` (π̃, any positive
/// scale; both in the same order).
pub fn weights(diff2: &[f64], priors: &[f64]) -> Result<Weights, EstepError> {
    let mut weights = diff2.to_vec();
    let (sum, min_diff2) = weigh(&mut weights, Priors::PerSample(priors))?;
    Ok(Weights {
        weights,
        sum,
        min_diff2,
    })
}

/// The priors of the samples of a pass.
#[derive(Debug, Clone, Copy)]
pub(super) enum Priors<'a> {
    /// One prior per sample.
    PerSample(&'a [f64]),
    /// Sample i has prior `rotations[i / n]·translations[i mod n]`, n = translations.len()
    /// (all rotations × all translations, rotation-major).
    Product {
        rotations: &'a [f64],
        translations: &'a [f64],
    },
}

/// Replaces the squared differences in `values` by their weights π̃·exp(−(d² − min d²))
/// (as [`weights`], without a copy of the samples); returns (Σw, min d²).
pub(super) fn weigh(values: &mut [f64], priors: Priors<'_>) -> Result<(f64, f64), EstepError> {
    let count = match priors {
        Priors::PerSample(p) => p.len(),
        Priors::Product {
            rotations,
            translations,
        } => rotations.len() * translations.len(),
    };
    if values.is_empty() || values.len() != count {
        return Err(EstepError::invalid(
            "scores and priors",
            format!("{} scores, {count} priors", values.len()),
            "the same non-zero number",
        ));
    }
    let mut min_diff2 = f64::INFINITY;
    for &d in values.iter() {
        if !d.is_finite() {
            return Err(EstepError::invalid("squared difference d²", d, "finite"));
        }
        min_diff2 = min_diff2.min(d);
    }
    let bad_prior = |p: &f64| !(p.is_finite() && *p >= 0.0);
    let prior_error = |p: f64| EstepError::invalid("sample prior", p, "finite and ≥ 0");
    match priors {
        Priors::PerSample(p) => {
            if let Some(&p) = p.iter().find(|p| bad_prior(p)) {
                return Err(prior_error(p));
            }
            for (d, &p) in values.iter_mut().zip(p) {
                *d = weight(*d - min_diff2, p);
            }
        }
        Priors::Product {
            rotations,
            translations,
        } => {
            // Finite, non-negative factors whose largest product is finite: so is every product.
            if let Some(&p) = rotations.iter().chain(translations).find(|p| bad_prior(p)) {
                return Err(prior_error(p));
            }
            let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
            if bad_prior(&(max(rotations) * max(translations))) {
                return Err(prior_error(max(rotations) * max(translations)));
            }
            for (row, &pr) in values.chunks_mut(translations.len()).zip(rotations) {
                for (d, &pt) in row.iter_mut().zip(translations) {
                    *d = weight(*d - min_diff2, pr * pt);
                }
            }
        }
    }
    let sum = sum(values);
    if sum <= 0.0 {
        return Err(EstepError::invalid(
            "sum of posterior weights",
            sum,
            "> 0 (some sample near the best one needs a non-zero prior)",
        ));
    }
    Ok((sum, min_diff2))
}

/// π̃·exp(−excess), 0 beyond the cut (branch-free, so that the loops over samples vectorise).
#[inline(always)]
fn weight(excess: f64, prior: f64) -> f64 {
    let w = prior * exp(-excess);
    if excess > LOG_WEIGHT_CUTOFF { 0.0 } else { w }
}

/// Σ values in a fixed order: four interleaved partial sums (so that the adds pipeline), then
/// those in order and the rest.
fn sum(values: &[f64]) -> f64 {
    let (chunks, rest) = values.as_chunks::<4>();
    let mut lanes = [0.0f64; 4];
    for chunk in chunks {
        for (s, v) in lanes.iter_mut().zip(chunk) {
            *s += v;
        }
    }
    lanes.iter().chain(rest).sum()
}

/// The significance threshold of a pass and how many samples reach it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Significance {
    /// Smallest weight of the shortest descending prefix holding more than the fraction.
    pub threshold: f64,
    /// Number of samples with weight ≥ threshold (rlnNrOfSignificantSamples in pass 1).
    pub count: usize,
}

/// RELION's adaptive significance (refine.md §1.6): sort the non-zero weights descending, take
/// the shortest prefix whose cumulative sum exceeds `fraction`·Σw (`--adaptive_fraction`,
/// 0.999); its smallest weight is the threshold. With `max_significant` = Some(m)
/// (`--maxsig`), a threshold admitting more than m samples is raised to the m-th largest weight.
pub fn significance(
    weights: &[f64],
    fraction: f64,
    max_significant: Option<usize>,
) -> Result<Significance, EstepError> {
    let total = || weights.iter().filter(|&&w| w > 0.0).sum();
    significance_given_total(weights, total, fraction, max_significant)
}

/// [`significance`] with the sum of the positive weights given (it is computed only once
/// the other arguments are checked).
pub(super) fn significance_given_total(
    weights: &[f64],
    total: impl FnOnce() -> f64,
    fraction: f64,
    max_significant: Option<usize>,
) -> Result<Significance, EstepError> {
    if !(fraction > 0.0 && fraction <= 1.0) {
        return Err(EstepError::invalid(
            "adaptive fraction",
            fraction,
            "in (0, 1]",
        ));
    }
    if max_significant == Some(0) {
        return Err(EstepError::invalid(
            "maximum number of significant samples",
            0,
            "≥ 1",
        ));
    }
    let total: f64 = total();
    if total <= 0.0 || total.is_nan() {
        return Err(EstepError::invalid(
            "posterior weights",
            "no positive weight",
            "at least one positive weight",
        ));
    }
    // Only weights ≥ (1 − fraction)·Σw/count can be in the prefix: all smaller ones together
    // hold less than (1 − fraction)·Σw, so the larger ones already exceed the target. Sorting
    // just those candidates gives the same threshold as sorting everything.
    let floor = (1.0 - fraction) * total / weights.len() as f64;
    let mut sorted: Vec<f64> = weights
        .iter()
        .copied()
        .filter(|&w| w > 0.0 && w >= floor)
        .collect();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let target = fraction * total;
    let mut cumulative = 0.0;
    let mut end = sorted.len() - 1;
    for (i, &w) in sorted.iter().enumerate() {
        cumulative += w;
        if cumulative > target {
            end = i;
            break;
        }
    }
    if let Some(m) = max_significant {
        end = end.min(m - 1);
    }
    let threshold = sorted[end];
    // Every weight ≥ threshold (> 0, ≥ floor) is a candidate: count them in the sorted list.
    let count = sorted.partition_point(|&w| w >= threshold);
    Ok(Significance { threshold, count })
}

/// dLL = ln Σw − min d² − `log_norm` (refine.md §1.4; `log_norm` = Σ ln(2πσ²) over the current
/// window, [`PreparedParticle::log_norm`](super::PreparedParticle::log_norm)).
pub fn log_likelihood(weights: &Weights, log_norm: f64) -> f64 {
    weights.sum.ln() - weights.min_diff2 - log_norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_set_is_the_minimal_prefix_reaching_the_fraction() {
        // Masses 0.5, 0.3, 0.15, 0.0495, 0.0005 (shuffled): 0.999 needs the first four.
        let w = [0.15, 0.0005, 0.5, 0.0495, 0.3, 0.0];
        let s = significance(&w, 0.999, None).unwrap();
        assert_eq!((s.threshold, s.count), (0.0495, 4));
        let s = significance(&w, 0.6, None).unwrap();
        assert_eq!((s.threshold, s.count), (0.3, 2));
        // Reaching the fraction is not enough, the prefix must exceed it (exact binary values).
        let s = significance(&[0.5, 0.25, 0.125, 0.125], 0.5, None).unwrap();
        assert_eq!((s.threshold, s.count), (0.25, 2));
        let s = significance(&w, 0.999, Some(2)).unwrap();
        assert_eq!((s.threshold, s.count), (0.3, 2));
        let s = significance(&w, 1.0, None).unwrap();
        assert_eq!(s.count, 5, "zero weights are never significant");
        let kept: f64 = w.iter().filter(|&&x| x >= 0.0495).sum();
        assert!(kept >= 0.999 * w.iter().sum::<f64>());
        assert!(significance(&w, 0.0, None).is_err());
        assert!(significance(&[0.0], 0.9, None).is_err());
    }

    #[test]
    fn candidate_filter_gives_the_threshold_of_a_full_sort() {
        let w: Vec<f64> = crate::grid::test_noise::uniform(3, 5000)
            .iter()
            .map(|&u| (-40.0 * (u as f64 + 0.5)).exp())
            .collect();
        for fraction in [0.5, 0.9, 0.999, 0.999999] {
            let mut sorted = w.clone();
            sorted.sort_by(|a, b| b.total_cmp(a));
            let total: f64 = w.iter().sum();
            let mut cumulative = 0.0;
            let end = sorted.iter().position(|&x| {
                cumulative += x;
                cumulative > fraction * total
            });
            let s = significance(&w, fraction, None).unwrap();
            assert_eq!(s.threshold, sorted[end.unwrap()], "{fraction}");
            assert_eq!(s.count, end.unwrap() + 1, "{fraction}");
        }
    }

    #[test]
    fn ties_at_the_threshold_are_all_significant() {
        let s = significance(&[0.4, 0.2, 0.2, 0.2], 0.5, None).unwrap();
        assert_eq!((s.threshold, s.count), (0.2, 4));
    }

    #[test]
    fn weights_normalise_apply_priors_and_the_cut() {
        let d2 = [1000.0, 1001.0, 1000.5, 1000.0 + 701.0];
        let priors = [1.0, 2.0, 0.5, 1.0];
        let w = weights(&d2, &priors).unwrap();
        assert_eq!(w.min_diff2, 1000.0);
        assert_eq!(w.weights[3], 0.0);
        assert!((w.weights[1] - 2.0 * (-1.0f64).exp()).abs() < 1e-15);
        let total: f64 = w.weights.iter().map(|x| x / w.sum).sum();
        assert!((total - 1.0).abs() < 1e-15);
        assert!((w.max_probability() - 1.0 / w.sum).abs() < 1e-15);
        assert!(weights(&d2, &priors[1..]).is_err());
        assert!(weights(&[f64::NAN], &[1.0]).is_err());
        assert!(weights(&[1.0], &[0.0]).is_err());
    }

    #[test]
    fn product_priors_weigh_as_their_explicit_list() {
        let d2: Vec<f64> = (0..12).map(|i| 50.0 + 0.7 * i as f64).collect();
        let (rotations, translations) = ([0.5, 2.0, 1.0], [1.0, 0.25, 3.0, 0.0]);
        let listed: Vec<f64> = rotations
            .iter()
            .flat_map(|r| translations.iter().map(move |t| r * t))
            .collect();
        let w = weights(&d2, &listed).unwrap();
        let mut product = d2.clone();
        let priors = Priors::Product {
            rotations: &rotations,
            translations: &translations,
        };
        assert_eq!(weigh(&mut product, priors).unwrap(), (w.sum, w.min_diff2));
        assert_eq!(product, w.weights);
        let bad = Priors::Product {
            rotations: &[1.0, f64::NAN, 1.0],
            translations: &translations,
        };
        assert!(weigh(&mut d2.clone(), bad).is_err());
        let huge = Priors::Product {
            rotations: &[1e300, 1.0, 1.0],
            translations: &[1e300, 1.0, 1.0, 1.0],
        };
        assert!(weigh(&mut d2.clone(), huge).is_err());
        assert!(weigh(&mut d2[1..].to_vec(), priors).is_err());
    }

    #[test]
    fn log_likelihood_matches_the_direct_sum() {
        // Direct: ln Σ π̃·exp(−d²) − Σ ln(2πσ²), fine in f64 while d² stays moderate.
        let d2 = [12.5, 13.0, 40.0, 12.75, 300.0];
        let priors = [0.5, 1.5, 1.0, 1.0, 1.0];
        let log_norm = -37.25;
        let direct = d2
            .iter()
            .zip(&priors)
            .map(|(d, p): (&f64, &f64)| p * (-d).exp())
            .sum::<f64>()
            .ln()
            - log_norm;
        let w = weights(&d2, &priors).unwrap();
        assert!((log_likelihood(&w, log_norm) - direct).abs() < 1e-12);
    }
}
