//! RELION's check of the particles' normalisation (refine.md §5.1). Refinement assumes images
//! whose background — the pixels outside the particle diameter — has mean ≈ 0 and standard
//! deviation ≈ 1, as `relion_preprocess` (or `cryoflux simulate`) makes them: σ², the
//! alignment mask's fill and the norm correction are all relative to it. Like RELION, cryoflux
//! warns (it does not stop) when the average background mean is more than half the average
//! background standard deviation away from 0, or that standard deviation is outside [0.5, 2].

/// The background statistics of a particle set, averaged over its images (image units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Background {
    /// Mean over the images of each image's background mean.
    pub mean: f64,
    /// Mean over the images of each image's background standard deviation.
    pub std: f64,
}

impl Background {
    /// The statistics of `images` (N×N, row-major) outside the circle of `radius_px` pixels
    /// around the box centre (N/2, N/2); `None` without images or background pixels.
    pub fn of<'a>(
        images: impl Iterator<Item = &'a [f32]>,
        n: usize,
        radius_px: f64,
    ) -> Option<Self> {
        let centre = (n / 2) as f64;
        let outside: Vec<usize> = (0..n * n)
            .filter(|&i| {
                let (x, y) = ((i % n) as f64 - centre, (i / n) as f64 - centre);
                x * x + y * y > radius_px * radius_px
            })
            .collect();
        if outside.len() < 2 {
            return None;
        }
        let (mut mean_sum, mut std_sum, mut count) = (0.0, 0.0, 0usize);
        for image in images {
            let values = outside.iter().map(|&i| f64::from(image[i]));
            let mean = values.clone().sum::<f64>() / outside.len() as f64;
            let variance =
                values.map(|v| (v - mean).powi(2)).sum::<f64>() / (outside.len() - 1) as f64;
            mean_sum += mean;
            std_sum += variance.sqrt();
            count += 1;
        }
        (count > 0).then(|| Self {
            mean: mean_sum / count as f64,
            std: std_sum / count as f64,
        })
    }

    /// A warning when the background is not normalised as refinement assumes (module doc).
    pub fn warning(&self) -> Option<String> {
        let normalised = self.mean.abs() <= 0.5 * self.std && (0.5..=2.0).contains(&self.std);
        (!normalised).then(|| {
            format!(
                "the particles' background (outside the particle diameter) has mean {:.3} and \
                 standard deviation {:.3}; refinement expects about 0 and 1 (normalise the \
                 particles as relion_preprocess does, check --particle_diameter, or pass \
                 --dont_check_norm)",
                self.mean, self.std
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryoflux_kernels::random::SplitMix64;

    /// An 16×16 image: `inside` within 4 px of the centre, Gaussian noise (mean, std) outside.
    fn image(seed: u64, mean: f64, std: f64, inside: f32) -> Vec<f32> {
        let mut g = SplitMix64::new(seed);
        (0..256)
            .map(|i| {
                let (x, y) = ((i % 16) as f64 - 8.0, (i / 16) as f64 - 8.0);
                if x * x + y * y <= 16.0 {
                    inside
                } else {
                    (mean + std * g.next_normal()) as f32
                }
            })
            .collect()
    }

    #[test]
    fn normalised_images_pass_and_others_are_named() {
        let good: Vec<Vec<f32>> = (0..20).map(|s| image(s, 0.0, 1.0, 50.0)).collect();
        let b = Background::of(good.iter().map(Vec::as_slice), 16, 4.0).unwrap();
        assert!(b.mean.abs() < 0.1 && (b.std - 1.0).abs() < 0.1, "{b:?}");
        assert_eq!(b.warning(), None);
        let scaled: Vec<Vec<f32>> = (0..20).map(|s| image(s, 0.0, 5.0, 0.0)).collect();
        let b = Background::of(scaled.iter().map(Vec::as_slice), 16, 4.0).unwrap();
        assert!(
            b.warning().unwrap().contains("standard deviation 5."),
            "{b:?}"
        );
        let offset: Vec<Vec<f32>> = (0..20).map(|s| image(s, 3.0, 1.0, 0.0)).collect();
        let b = Background::of(offset.iter().map(Vec::as_slice), 16, 4.0).unwrap();
        assert!(b.warning().unwrap().contains("mean 3."), "{b:?}");
        assert_eq!(
            Background::of(good.iter().map(Vec::as_slice), 16, 20.0),
            None
        );
    }
}
