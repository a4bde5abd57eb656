//! Summary statistics of per-particle errors (degrees or Å, whatever unit the values carry):
//! mean, median, 90th percentile and maximum.

/// Summary of a set of non-negative per-particle errors, in the unit of the values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorStats {
    /// Number of values summarised.
    pub count: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// 50th percentile.
    pub median: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Largest value.
    pub max: f64,
}

impl ErrorStats {
    /// The statistics of `values` (`None` when empty). Percentiles interpolate linearly between
    /// the two nearest ranks, as `numpy.percentile` does by default.
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Some(ErrorStats {
            count: sorted.len(),
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
            median: percentile(&sorted, 0.5),
            p90: percentile(&sorted, 0.9),
            max: sorted[sorted.len() - 1],
        })
    }
}

/// The `q`-quantile (0 ≤ q ≤ 1) of non-empty ascending `sorted`, linearly interpolated between
/// ranks ⌊q·(n−1)⌋ and ⌈q·(n−1)⌉.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let (below, above) = (position.floor() as usize, position.ceil() as usize);
    let fraction = position - below as f64;
    sorted[below] + (sorted[above] - sorted[below]) * fraction
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_match_numpy_percentiles() {
        // numpy.mean/median/percentile(·, 90) of these values: 4.6, 4.5, 7.2 (sorted
        // [1, 2, 3, 4, 4, 5, 5, 6, 7, 9]: rank 0.9·9 = 8.1 → 7 + 0.1·(9 − 7)).
        let stats = ErrorStats::of(&[1.0, 2.0, 4.0, 7.0, 9.0, 5.0, 3.0, 6.0, 4.0, 5.0]).unwrap();
        assert_eq!(stats.count, 10);
        assert!((stats.mean - 4.6).abs() < 1e-12);
        assert!((stats.median - 4.5).abs() < 1e-12);
        assert!((stats.p90 - 7.2).abs() < 1e-12);
        assert_eq!(stats.max, 9.0);
    }

    #[test]
    fn one_value_and_no_value() {
        let one = ErrorStats::of(&[3.5]).unwrap();
        assert_eq!(
            (one.mean, one.median, one.p90, one.max),
            (3.5, 3.5, 3.5, 3.5)
        );
        assert!(ErrorStats::of(&[]).is_none());
    }
}
