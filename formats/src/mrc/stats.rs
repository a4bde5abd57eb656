//! Density statistics of an MRC data block (min, max, mean, RMS deviation), accumulated image by
//! image in `f64` with Chan et al.'s pairwise update so a stack of millions of voxels loses no
//! precision and never needs to be held in memory.

/// Summary of the densities in a map or stack, in the file's density units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Smallest density (DMIN).
    pub min: f32,
    /// Largest density (DMAX).
    pub max: f32,
    /// Mean density (DMEAN).
    pub mean: f32,
    /// Root-mean-square deviation from the mean, i.e. the population standard deviation (RMS,
    /// as MRC2014 defines it; RELION's `stddev`).
    pub rms: f32,
}

/// Running statistics over chunks of densities (sections, images).
#[derive(Debug, Clone, Default)]
pub struct StatsAccumulator {
    count: u64,
    mean: f64,
    /// Sum of squared deviations from `mean`.
    m2: f64,
    min: f32,
    max: f32,
}

impl StatsAccumulator {
    /// An accumulator that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add the densities of one chunk. NaN values make mean and RMS NaN; min and max skip them.
    pub fn add(&mut self, values: &[f32]) {
        let Some(&first) = values.first() else { return };
        let n = values.len() as f64;
        let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let m2 = values
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>();
        let (min, max) = values
            .iter()
            .fold((first, first), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        if self.count == 0 {
            (self.min, self.max) = (min, max);
        } else {
            (self.min, self.max) = (self.min.min(min), self.max.max(max));
        }
        let total = self.count as f64 + n;
        let delta = mean - self.mean;
        self.mean += delta * n / total;
        self.m2 += m2 + delta * delta * self.count as f64 * n / total;
        self.count += values.len() as u64;
    }

    /// Number of densities added so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The statistics of everything added, or `None` if nothing was.
    pub fn finish(&self) -> Option<Stats> {
        (self.count > 0).then(|| Stats {
            min: self.min,
            max: self.max,
            mean: self.mean as f32,
            rms: (self.m2 / self.count as f64).sqrt() as f32,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_equals_whole_and_textbook_values() {
        let values: Vec<f32> = (0..1000)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.25)
            .collect();
        let mut whole = StatsAccumulator::new();
        whole.add(&values);
        let mut chunked = StatsAccumulator::new();
        for chunk in values.chunks(7) {
            chunked.add(chunk);
        }
        let (a, b) = (whole.finish().unwrap(), chunked.finish().unwrap());
        let n = values.len() as f64;
        let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let var = values
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n;
        assert_eq!((a.min, a.max), (-12.5, 12.5));
        assert!((f64::from(a.mean) - mean).abs() < 1e-6 && (f64::from(b.mean) - mean).abs() < 1e-6);
        assert!((f64::from(a.rms) - var.sqrt()).abs() < 1e-5);
        assert!((a.rms - b.rms).abs() < 1e-5);
        assert_eq!(chunked.count(), 1000);
    }

    #[test]
    fn stable_with_large_offset() {
        let mut acc = StatsAccumulator::new();
        for _ in 0..1000 {
            acc.add(&[1.0e6 + 1.0, 1.0e6 - 1.0]);
        }
        let stats = acc.finish().unwrap();
        assert_eq!(stats.mean, 1.0e6);
        assert!((stats.rms - 1.0).abs() < 1e-9, "{}", stats.rms);
    }

    #[test]
    fn empty_has_no_stats() {
        let mut acc = StatsAccumulator::new();
        acc.add(&[]);
        assert_eq!(acc.finish(), None);
    }
}
