//! The M-step of a half set's noise model (refine.md §2.6): σ² per noise group, the groups'
//! intensity scales and the mean norm correction.
//!
//! - σ²_g(r) = ΣE_g(r)/(2·N_g·Npix(r)), N_g the group's posterior mass and Npix(r) the
//!   non-redundant pixels of shell r of the N×(N/2+1) half array; tiny or undefined values
//!   take the previous shell's value (shell 0: the previous model's). A group without
//!   particles in this half set keeps its previous spectrum.
//! - Scales (only with scale correction, more than one group, not after a cross-correlation
//!   iteration): S_g = XA_g/AA_g (1 when AA_g = 0), clipped to [median/5, 5·median], then all
//!   divided by their particle-weighted mean, so that the mean scale is 1.
//! - Mean norm correction (only with norm correction, not after a cross-correlation
//!   iteration): the mean of the particles' new norm corrections.

use cryoflux_kernels::grid::FourierImage;

use super::records::{IterationPlan, NoiseModel};
use super::sums::{GroupSums, HalfSums};

/// σ² values below this take the previous shell's value (RELION's guard).
const SIGMA2_FLOOR: f64 = 1e-14;

/// Largest ratio between a group's scale and the median scale (RELION: 5).
const SCALE_CLIP: f64 = 5.0;

/// The new noise model of a half set from its sums, the previous model and the iteration's
/// plan; see the module doc. `pixel` is the pixel size in Å.
///
/// # Examples
///
/// The first half set's noise model after one epoch of the [tiny job](crate::example), whose
/// particles carry white noise of a known power:
///
/// ```
/// use cryoflux_operators::example::{BOX, NOISE_STD, PIXEL, tiny_job, tiny_partials};
/// use cryoflux_operators::refine::noise::update_noise_model;
/// use cryoflux_operators::refine::reduction::HalfReductions;
///
/// let job = tiny_job();
/// let sums: HalfReductions = tiny_partials(&job).into_iter().collect();
/// let [half_1, _] = sums.totals().unwrap();
/// let reference = &job.references[0];
/// let noise = update_noise_model(&half_1, &reference.noise, &reference.plan, PIXEL).unwrap();
/// assert_eq!(noise.groups(), 1);
/// assert_eq!(noise.sigma2[0].len(), BOX / 2 + 1);
/// // At high frequency the residuals are mostly the particles' white noise.
/// let white = NOISE_STD * NOISE_STD / (2.0 * (BOX * BOX) as f64);
/// assert!(noise.sigma2[0][4..].iter().all(|&s| s > 0.4 * white && s < 2.5 * white));
/// ```
pub fn update_noise_model(
    sums: &HalfSums,
    previous: &NoiseModel,
    plan: &IterationPlan,
    pixel: f64,
) -> Result<NoiseModel, String> {
    if sums.groups.len() != previous.groups() {
        return Err(format!(
            "M-step: sums of {} noise groups for a model of {}",
            sums.groups.len(),
            previous.groups()
        ));
    }
    if plan.cross_correlation {
        return Ok(previous.clone());
    }
    let pixels = shell_pixels(sums.backprojector.geometry().ori_size, pixel)?;
    let sigma2 = sums
        .groups
        .iter()
        .zip(&previous.sigma2)
        .map(|(g, old)| group_spectrum(g, old, &pixels))
        .collect();
    let scales = if plan.scale_correction && previous.groups() > 1 {
        group_scales(&sums.groups)
    } else {
        previous.scales.clone()
    };
    let average_norm = if plan.norm_correction && sums.particles > 0 {
        sums.norm_sum / sums.particles as f64
    } else {
        previous.average_norm
    };
    Ok(NoiseModel {
        sigma2,
        scales,
        average_norm,
    })
}

/// Npix(r): the non-redundant pixels of the N×(N/2+1) half array in shell r = 0 … N/2.
fn shell_pixels(n: usize, pixel: f64) -> Result<Vec<usize>, String> {
    let grid = FourierImage::zeros(n, pixel).map_err(|e| e.to_string())?;
    let mut count = vec![0usize; n / 2 + 1];
    for i in 0..grid.data().len() {
        let r = grid.shell(i);
        if !grid.is_redundant(i) && r < count.len() {
            count[r] += 1;
        }
    }
    Ok(count)
}

/// σ²_g(r) of one group (module doc).
fn group_spectrum(sums: &GroupSums, previous: &[f64], pixels: &[usize]) -> Vec<f64> {
    if sums.particles == 0 || sums.weight_sum <= 0.0 {
        return previous.to_vec();
    }
    let mut out: Vec<f64> = Vec::with_capacity(pixels.len());
    for (r, (&e, &c)) in sums.noise_power.iter().zip(pixels).enumerate() {
        let value = e / (2.0 * sums.weight_sum * c as f64);
        let fallback = out
            .last()
            .copied()
            .unwrap_or_else(|| previous.get(r).copied().unwrap_or(1.0));
        out.push(if value.is_finite() && value > SIGMA2_FLOOR {
            value
        } else {
            fallback
        });
    }
    out
}

/// The groups' intensity scales (module doc).
fn group_scales(groups: &[GroupSums]) -> Vec<f64> {
    let mut scales: Vec<f64> = groups
        .iter()
        .map(|g| {
            let s = g.scale_xa / g.scale_aa;
            if g.scale_aa > 0.0 && s.is_finite() && s > 0.0 {
                s
            } else {
                1.0
            }
        })
        .collect();
    let mut sorted = scales.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    scales
        .iter_mut()
        .for_each(|s| *s = s.clamp(median / SCALE_CLIP, median * SCALE_CLIP));
    let particles: usize = groups.iter().map(|g| g.particles).sum();
    if particles > 0 {
        let mean = groups
            .iter()
            .zip(&scales)
            .map(|(g, s)| g.particles as f64 * s)
            .sum::<f64>()
            / particles as f64;
        scales.iter_mut().for_each(|s| *s /= mean);
    }
    scales
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(xa: f64, aa: f64, particles: usize) -> GroupSums {
        GroupSums {
            scale_xa: xa,
            scale_aa: aa,
            particles,
            ..GroupSums::new(3)
        }
    }

    #[test]
    fn scales_are_clipped_to_the_median_and_average_one_per_particle() {
        // Raw scales 1, 2, 0.01 (clipped to 1/5 of the median 1) and 1 (no reference power).
        let groups = [
            group(10.0, 10.0, 10),
            group(20.0, 10.0, 10),
            group(0.1, 10.0, 20),
            group(5.0, 0.0, 10),
        ];
        let s = group_scales(&groups);
        let raw = [1.0, 2.0, 0.2, 1.0];
        let mean = (10.0 * 1.0 + 10.0 * 2.0 + 20.0 * 0.2 + 10.0 * 1.0) / 50.0;
        for (got, want) in s.iter().zip(raw) {
            assert!((got - want / mean).abs() < 1e-12, "{s:?}");
        }
        let weighted: f64 = s
            .iter()
            .zip([10.0, 10.0, 20.0, 10.0])
            .map(|(a, b)| a * b)
            .sum();
        assert!((weighted / 50.0 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_group_without_particles_keeps_its_spectrum() {
        let pixels = [1, 8, 16];
        let empty = GroupSums::new(3);
        assert_eq!(
            group_spectrum(&empty, &[0.5, 0.4, 0.3], &pixels),
            [0.5, 0.4, 0.3]
        );
        let full = GroupSums {
            noise_power: vec![0.0, 32.0, 0.0],
            weight_sum: 2.0,
            particles: 2,
            ..GroupSums::new(3)
        };
        // Shell 0 has no power: the previous model's value; shell 2 takes shell 1's.
        assert_eq!(
            group_spectrum(&full, &[0.5, 0.4, 0.3], &pixels),
            [0.5, 1.0, 1.0]
        );
    }
}
