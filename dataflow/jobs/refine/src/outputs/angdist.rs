//! The distribution of viewing directions over the coarse HEALPix directions of an iteration
//! (the model file's `model_pdf_orient_class_1`) and RELION's BILD picture of it
//! (`<root>_itNNN_half{1,2}_class001_angdist.bild`, `<root>_class001_angdist.bild`) for
//! ChimeraX.
//!
//! Each particle counts once, for the coarse direction nearest to its best pose's viewing
//! direction (over the symmetry copies RELION compares); RELION sums posterior weights instead,
//! so the two agree where poses are sharp. The fractions sum to 1.
//!
//! BILD picture (the layout RELION 3.1.3 writes, in Å with the map's corner at the origin):
//! one cylinder per direction with particles, from radius R = N·p/2 around the map centre out
//! to R·(1 + 0.3·f/f_max), of radius π·R·Δθ/360 (Δθ the fine angular step), coloured from blue
//! to red by `(1 + z)/6` clamped to [0, 1], z the fraction's deviation from the mean over
//! directions in standard deviations.

use std::fmt::Write as _;
use std::path::Path;

use cryoflux_formats::atomic::write_text;
use cryoflux_kernels::geometry::euler::euler_to_direction;
use cryoflux_kernels::geometry::sampling::OrientationSampling;
use cryoflux_operators::refine::records::ParticleUpdate;
use glam::DVec3;
use rayon::prelude::*;

/// Longest cylinder beyond the sphere, as a fraction of its radius (RELION 0.3).
const LENGTH_FRACTION: f64 = 0.3;

/// The fraction of particles per coarse direction, with the directions' unit vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct AngularDistribution {
    directions: Vec<DVec3>,
    fractions: Vec<f64>,
}

impl AngularDistribution {
    /// The distribution of the best poses of `updates` over the directions of `sampling` (all
    /// zero without particles).
    pub fn of<'u>(
        sampling: &OrientationSampling,
        updates: impl Iterator<Item = &'u ParticleUpdate>,
    ) -> Self {
        let directions: Vec<DVec3> = sampling.directions().iter().map(|d| d.vector()).collect();
        let views: Vec<DVec3> = updates
            .map(|u| euler_to_direction(u.pose.rot, u.pose.tilt))
            .collect();
        let symmetry = sampling.symmetry();
        let nearest: Vec<usize> = views
            .par_iter()
            .map(|&view| {
                let copies: Vec<DVec3> = symmetry.relion_direction_copies(view).collect();
                let closeness =
                    |d: &DVec3| copies.iter().map(|c| c.dot(*d)).fold(f64::MIN, f64::max);
                (0..directions.len())
                    .max_by(|&a, &b| {
                        closeness(&directions[a]).total_cmp(&closeness(&directions[b]))
                    })
                    .unwrap_or(0)
            })
            .collect();
        let mut fractions = vec![0.0; directions.len()];
        let share = 1.0 / views.len().max(1) as f64;
        for i in nearest {
            fractions[i] += share;
        }
        Self {
            directions,
            fractions,
        }
    }

    /// Fraction of the particles per coarse direction, in the sampling's direction order.
    pub fn fractions(&self) -> &[f64] {
        &self.fractions
    }

    /// The BILD text for a map of box `box_size` (pixels) and `pixel_size` Å searched with
    /// the fine angular step `fine_step_deg` (degrees); see the module doc.
    pub fn bild(&self, box_size: usize, pixel_size: f64, fine_step_deg: f64) -> String {
        let radius = 0.5 * box_size as f64 * pixel_size;
        let width = std::f64::consts::PI * radius * fine_step_deg / 360.0;
        let n = self.fractions.len().max(1) as f64;
        let mean = self.fractions.iter().sum::<f64>() / n;
        let sd = (self
            .fractions
            .iter()
            .map(|f| (f - mean).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        let max = self.fractions.iter().copied().fold(0.0, f64::max);
        let centre = DVec3::splat(radius);
        let mut text = String::new();
        for (v, &f) in self.directions.iter().zip(&self.fractions) {
            if f <= 0.0 {
                continue;
            }
            let z = if sd > 0.0 { (f - mean) / sd } else { 0.0 };
            let colour = ((1.0 + z) / 6.0).clamp(0.0, 1.0);
            let start = centre + radius * *v;
            let end = centre + radius * (1.0 + LENGTH_FRACTION * f / max) * *v;
            // Writing to a String cannot fail.
            let _ = writeln!(text, ".color {colour} 0 {}", 1.0 - colour);
            let _ = writeln!(
                text,
                ".cylinder {} {} {} {} {} {} {width}",
                start.x, start.y, start.z, end.x, end.y, end.z
            );
        }
        text
    }
}

/// Writes `distribution` as a BILD file at `path` (atomically); arguments as
/// [`AngularDistribution::bild`].
pub fn write_bild(
    path: &Path,
    distribution: &AngularDistribution,
    box_size: usize,
    pixel_size: f64,
    fine_step_deg: f64,
) -> anyhow::Result<()> {
    let text = distribution.bild(box_size, pixel_size, fine_step_deg);
    write_text(path, &text)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryoflux_kernels::geometry::symmetry::SymmetryGroup;
    use cryoflux_operators::records::PoseRecord;

    fn update(rot: f64, tilt: f64) -> ParticleUpdate {
        ParticleUpdate {
            id: 0,
            half: 1,
            pose: PoseRecord {
                rot,
                tilt,
                psi: 10.0,
                origin_angst: [0.0; 2],
            },
            log_likelihood: 0.0,
            max_probability: 1.0,
            significant_samples: 1,
            angular_change_deg: 0.0,
            norm: 1.0,
        }
    }

    #[test]
    fn particles_count_for_their_nearest_direction() {
        let sampling = OrientationSampling::new(1, &SymmetryGroup::c1()).unwrap();
        let target = sampling.directions()[5];
        let other = sampling.directions()[30];
        let updates = [
            update(target.rot + 1.0, target.tilt - 1.0),
            update(target.rot, target.tilt),
            update(other.rot, other.tilt),
        ];
        let pdf = AngularDistribution::of(&sampling, updates.iter());
        assert_eq!(pdf.fractions().len(), 48);
        assert!((pdf.fractions()[5] - 2.0 / 3.0).abs() < 1e-12);
        assert!((pdf.fractions()[30] - 1.0 / 3.0).abs() < 1e-12);
        assert!((pdf.fractions().iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn symmetry_copies_fold_into_the_asymmetric_unit() {
        let c2 = SymmetryGroup::parse("C2").unwrap();
        let sampling = OrientationSampling::new(1, &c2).unwrap();
        let d = sampling.directions()[3];
        // The C2 mate of (rot, tilt) views the map from (rot + 180°, tilt).
        let pdf = AngularDistribution::of(&sampling, [update(d.rot + 180.0, d.tilt)].iter());
        assert_eq!(pdf.fractions()[3], 1.0);
    }

    #[test]
    fn bild_cylinders_start_on_the_sphere_and_grow_with_the_fraction() {
        let sampling = OrientationSampling::new(0, &SymmetryGroup::c1()).unwrap();
        let d = sampling.directions()[0];
        let updates = [update(d.rot, d.tilt)];
        let text = AngularDistribution::of(&sampling, updates.iter()).bild(48, 1.8, 7.5);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        // One of 12 directions holds everything: z = √11, colour (1 + √11)/6.
        let colour: Vec<f64> = lines[0]
            .split_whitespace()
            .skip(1)
            .map(|s| s.parse().unwrap())
            .collect();
        let red = (1.0 + 11f64.sqrt()) / 6.0;
        assert!((colour[0] - red).abs() < 1e-12 && (colour[2] - (1.0 - red)).abs() < 1e-12);
        let numbers: Vec<f64> = lines[1]
            .split_whitespace()
            .skip(1)
            .map(|s| s.parse().unwrap())
            .collect();
        let (radius, v) = (43.2, d.vector());
        for k in 0..3 {
            assert!((numbers[k] - (radius + radius * v[k])).abs() < 1e-9);
            assert!((numbers[k + 3] - (radius + 1.3 * radius * v[k])).abs() < 1e-9);
        }
        assert!((numbers[6] - std::f64::consts::PI * radius * 7.5 / 360.0).abs() < 1e-12);
    }
}
