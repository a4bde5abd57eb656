//! What one particle contributes to the M-step (refine.md §1.7, RELION's `storeWeightedSums`),
//! from its kept fine samples with normalised weights w̄.
//!
//! - Backprojection: per kept rotation R (consecutive poses with the same rotation form one
//!   group), D_R(k) = Σ_t w̄·S·c(k)/σ²(r)·X⁰_t(k) and W_R(k) = Σ_t w̄·S²·c(k)²/σ²(r), X⁰_t the
//!   *unmasked* image moved by t; the DC pixel is included with 1/σ²(0). Both slices are
//!   inserted into the half set's [`BackProjector`] at R.
//! - Noise: E(r) += w̄·Σ_{k ∈ shell r} |S·c·P_R − X_t|² over the window (masked image, r > 0),
//!   plus the image's own power per shell beyond the window, once.
//! - Norm: the same residual power summed over shells; rlnNormCorrection =
//!   (n_i/n̄)·√(2·residual power) ([`ParticleContribution::norm_correction`]).
//! - Scale: XA += w̄·Σ Re(X_t·conj(c·P_R)), AA += w̄·Σ |c·P_R|² over pixels whose shell has
//!   SSNR > 3.
//! - Offsets: Σ w̄·|o_prior − o|² in Å² (o = origin of the pose); directions: w̄ per coarse
//!   direction (pdf_direction).

use std::collections::BTreeMap;

use super::bank::SliceProjector;
use super::{EstepError, PreparedParticle, WeightedPose};
use crate::fourier::backprojector::BackProjector;
use crate::fourier::projector::Projector;
use crate::grid::{Complex64, FourierImage, HalfGrid};

/// Settings of the statistics that need more than the particle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContributionSettings<'a> {
    /// SSNR per shell of the current model (rlnSsnrMap); pixels of shells with SSNR > 3 enter
    /// the scale sums. `None` skips the scale sums (single group, no `--scale`).
    pub ssnr: Option<&'a [f64]>,
    /// Centre of the offset prior in Å (rlnOriginX/YPriorAngst, or (0, 0)).
    pub prior_centre_angst: [f64; 2],
}

/// One particle's share of the M-step statistics (backprojection aside), RELION units.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticleContribution {
    /// E(r) per shell 0 … N/2 (σ²_g(r) = ΣE/(2·N_g·Npix(r)) in the M-step).
    pub noise_power: Vec<f64>,
    /// Σ_kept w̄·Σ_{window, r>0} |S·c·P − X_t|² + Σ power beyond the window.
    pub residual_power: f64,
    /// Σ w̄·Σ Re(X_t·conj(c·P)) over SSNR > 3 shells (0 without `ssnr`).
    pub scale_xa: f64,
    /// Σ w̄·Σ |c·P|² over SSNR > 3 shells (0 without `ssnr`).
    pub scale_aa: f64,
    /// Σ w̄·|o_prior − o|² in Å².
    pub offset_sq_angst2: f64,
    /// (coarse direction index, Σ w̄) for pdf_direction, sorted by direction.
    pub direction_weights: Vec<(usize, f64)>,
    /// Σ w̄ over the kept samples.
    pub weight_sum: f64,
}

impl ParticleContribution {
    /// The new rlnNormCorrection (n_i/n̄)·√(2·residual power): the real-space standard
    /// deviation of the residual, in the units of the images' norm.
    pub fn norm_correction(&self, norm: f64, average_norm: f64) -> f64 {
        norm / average_norm * (2.0 * self.residual_power).sqrt()
    }
}

/// Inserts the slices of `poses` (kept fine samples of `particle`, grouped by rotation) into
/// `backprojector` and returns the particle's statistics; see the module doc.
pub fn contribute(
    projector: &Projector,
    particle: &PreparedParticle<'_>,
    poses: &[WeightedPose],
    settings: &ContributionSettings<'_>,
    backprojector: &mut BackProjector,
) -> Result<ParticleContribution, EstepError> {
    let window = particle.window();
    let n = window.ori_size();
    crate::grid::check_same_box(
        "projector box vs particle box",
        n,
        projector.geometry().ori_size,
    )?;
    crate::grid::check_same_box(
        "backprojector box vs particle box",
        n,
        backprojector.geometry().ori_size,
    )?;
    if let Some(p) = poses
        .iter()
        .find(|p| !(p.weight.is_finite() && p.weight >= 0.0))
    {
        return Err(EstepError::invalid(
            "pose weight",
            p.weight,
            "finite and ≥ 0",
        ));
    }
    let size = window.current_size();
    let pixels = window.len();
    let gather = window.half_indices(size)?;
    let mut slicer = SliceProjector::new(projector, window, size)?;
    let pixel = particle.pixel_size() * n as f64 / size as f64;
    let mut data = FourierImage::zeros(size, pixel)?;
    let mut weight = HalfGrid::<f32, 2>::zeros(size, pixel)?;
    let scale = particle.scale();
    let ssnr_ok = |r: usize| {
        settings
            .ssnr
            .is_some_and(|s| s.get(r).is_some_and(|&v| v > 3.0))
    };
    let (x_re, x_im) = particle.masked();
    let (u_re, u_im) = particle.unmasked();

    let mut out = ParticleContribution {
        noise_power: particle.power_beyond().to_vec(),
        residual_power: particle.power_beyond().iter().sum(),
        scale_xa: 0.0,
        scale_aa: 0.0,
        offset_sq_angst2: 0.0,
        direction_weights: Vec::new(),
        weight_sum: 0.0,
    };
    let mut directions: BTreeMap<usize, f64> = BTreeMap::new();
    let (mut ctf_re, mut ctf_im) = (vec![0.0f32; pixels], vec![0.0f32; pixels]);
    let mut reference = vec![Complex64::default(); pixels];
    let mut sum_unmasked = vec![Complex64::default(); pixels];
    for group in poses.chunk_by(|a, b| a.rotation == b.rotation) {
        let rotation = group[0].rotation;
        slicer.project(&rotation, Some(particle.ctf()), &mut ctf_re, &mut ctf_im);
        for ((c, &re), &im) in reference.iter_mut().zip(&ctf_re).zip(&ctf_im) {
            *c = Complex64::new(re as f64, im as f64);
        }
        sum_unmasked
            .iter_mut()
            .for_each(|v| *v = Complex64::default());
        let mut group_weight = 0.0;
        for pose in group {
            let w = pose.weight;
            let t_px = pose.translation_angst.map(|t| t / particle.pixel_size());
            let ramp = window.phase_ramp(t_px);
            for (i, &k) in window.pixels().iter().enumerate() {
                let phase = ramp.at(k);
                let unmasked = Complex64::new(u_re[i] as f64, u_im[i] as f64) * phase;
                sum_unmasked[i] += unmasked * w;
                if i == 0 {
                    continue;
                }
                let xt = Complex64::new(x_re[i] as f64, x_im[i] as f64) * phase;
                let r = window.shells()[i] as usize;
                let residual = w * (reference[i] * scale - xt).norm_sqr();
                out.noise_power[r] += residual;
                out.residual_power += residual;
                if ssnr_ok(r) {
                    out.scale_xa += w * (xt * reference[i].conj()).re;
                    out.scale_aa += w * reference[i].norm_sqr();
                }
            }
            group_weight += w;
            let origin = pose.origin_angst(particle);
            let d = [
                settings.prior_centre_angst[0] - origin[0],
                settings.prior_centre_angst[1] - origin[1],
            ];
            out.offset_sq_angst2 += w * (d[0] * d[0] + d[1] * d[1]);
            *directions.entry(pose.direction).or_default() += w;
        }
        out.weight_sum += group_weight;
        for (i, &j) in gather.iter().enumerate() {
            let ctf = particle.ctf()[i] as f64;
            let inv_sigma2 = particle.inv_sigma2()[i] as f64;
            let d = sum_unmasked[i] * (scale * ctf * inv_sigma2);
            data.data_mut()[j] = crate::grid::Complex32::new(d.re as f32, d.im as f32);
            weight.data_mut()[j] = (group_weight * scale * scale * ctf * ctf * inv_sigma2) as f32;
        }
        backprojector.backproject(&data, &weight, &rotation)?;
    }
    out.direction_weights = directions.into_iter().collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estep::testkit::{
        N, PIXEL, blob_projector, blob_volume, particle_input, simulate, test_ctf, white_sigma2,
    };
    use crate::estep::{FourierWindow, MaskFill};
    use crate::fourier::backprojector::BackProjectorOptions;
    use crate::geometry::euler::euler_to_matrix;
    use crate::grid::test_noise::uniform;
    use crate::reconstruct::{ReconstructOptions, reconstruct};

    fn pose(rotation: glam::DMat3, translation_angst: [f64; 2], weight: f64) -> WeightedPose {
        WeightedPose {
            rotation,
            direction: 7,
            translation_angst,
            weight,
        }
    }

    fn settings() -> ContributionSettings<'static> {
        ContributionSettings {
            ssnr: None,
            prior_centre_angst: [0.0, 0.0],
        }
    }

    #[test]
    fn backprojected_noiseless_particles_at_exact_poses_reconstruct_the_map() {
        let truth = blob_volume(N, PIXEL, 5);
        let projector = blob_projector(5);
        let sigma2 = white_sigma2(N, 1.0);
        let window = FourierWindow::new(N, N).unwrap();
        let mut bp = BackProjector::new(N, PIXEL, &BackProjectorOptions::default()).unwrap();
        let rounded = [1, -1];
        let u = uniform(21, 150 * 6);
        for (i, c) in u.chunks(6).enumerate() {
            let c: Vec<f64> = c.iter().map(|&v| v as f64 + 0.5).collect();
            let rotation = euler_to_matrix(
                360.0 * c[0] - 180.0,
                (1.0 - 2.0 * c[1]).acos().to_degrees(),
                360.0 * c[2],
            );
            // Sub-pixel translations of up to ±2 pixels on top of the rounded offset. (The whole
            // pixel pre-shift drops CTF-delocalised signal at the box edge, which costs some
            // FSC near Nyquist, as in RELION.)
            let t_px = [4.0 * c[3] - 2.0, 4.0 * c[4] - 2.0];
            let origin_px = [0, 1].map(|k| rounded[k] as f64 + t_px[k]);
            let ctf = test_ctf(8000.0 + 12000.0 * c[5]);
            let image = simulate(&projector, &rotation, origin_px, Some(&ctf), 0.0, 0);
            let particle = PreparedParticle::new(
                &window,
                &particle_input(
                    &image,
                    &sigma2,
                    Some(ctf),
                    rounded,
                    MaskFill::Noise { seed: i as u64 },
                ),
            )
            .unwrap();
            let t = t_px.map(|t| t * PIXEL);
            contribute(
                &projector,
                &particle,
                &[pose(rotation, t, 1.0)],
                &settings(),
                &mut bp,
            )
            .unwrap();
        }
        bp.symmetrise(&[]);
        let map = reconstruct(&bp, &ReconstructOptions::default()).unwrap();
        let fsc = crate::resolution::fsc::fsc_real(&map, &truth).unwrap();
        println!(
            "FSC(reconstruction, truth) at shells 4, 8, 12: {:.4} {:.4} {:.4}",
            fsc[4], fsc[8], fsc[12]
        );
        assert!(fsc[1..=N / 4].iter().all(|&f| f > 0.98), "{fsc:?}");
    }

    #[test]
    fn statistics_of_a_noisy_particle_at_its_true_pose() {
        let projector = blob_projector(6);
        let rotation = euler_to_matrix(10.0, 80.0, -30.0);
        let noise_std = 0.7;
        let sigma2 = white_sigma2(N, noise_std);
        let image = simulate(&projector, &rotation, [0.5, 1.0], None, noise_std, 8);
        let window = FourierWindow::new(N, 24).unwrap();
        let particle = PreparedParticle::new(
            &window,
            &particle_input(&image, &sigma2, None, [0, 1], MaskFill::Noise { seed: 2 }),
        )
        .unwrap();
        let mut bp = BackProjector::new(N, PIXEL, &BackProjectorOptions::default()).unwrap();
        let poses = [pose(rotation, [0.5 * PIXEL, 0.0], 1.0)];
        let c = contribute(&projector, &particle, &poses, &settings(), &mut bp).unwrap();
        // Residual = noise: every non-redundant pixel 0 < r ≤ N/2 holds 2σ² on average.
        let f = particle.masked_transform();
        let count = (0..f.data().len())
            .filter(|&i| !f.is_redundant(i) && (1..=N / 2).contains(&f.shell(i)))
            .count();
        let ratio = c.noise_power[1..].iter().sum::<f64>() / (count as f64 * 2.0 * sigma2[1]);
        assert!((ratio - 1.0).abs() < 0.1, "noise power ratio {ratio}");
        assert!(
            (c.residual_power - c.noise_power.iter().sum::<f64>()).abs() < 1e-9 * c.residual_power
        );
        let expected_norm = noise_std * (2.0 * count as f64 / (N * N) as f64).sqrt();
        assert!(
            (c.norm_correction(1.0, 1.0) / expected_norm - 1.0).abs() < 0.05,
            "{}",
            c.norm_correction(1.0, 1.0)
        );
        assert!((c.norm_correction(2.0, 4.0) - 0.5 * c.norm_correction(1.0, 1.0)).abs() < 1e-12);
        // Origin = (0, 1) px + (0.5 px, 0) = (1.5, 3.0) Å.
        assert!((c.offset_sq_angst2 - (1.5f64.powi(2) + 3.0f64.powi(2))).abs() < 1e-9);
        assert_eq!(c.direction_weights, vec![(7, 1.0)]);
        assert_eq!((c.weight_sum, c.scale_xa, c.scale_aa), (1.0, 0.0, 0.0));
    }

    #[test]
    fn scale_sums_measure_the_intensity_ratio() {
        let projector = blob_projector(6);
        let rotation = euler_to_matrix(-50.0, 40.0, 100.0);
        let ctf = test_ctf(11000.0);
        let clean = simulate(&projector, &rotation, [0.0, 0.0], Some(&ctf), 0.0, 0);
        let bright =
            crate::grid::Image::from_vec(N, PIXEL, clean.data().iter().map(|v| 1.5 * v).collect())
                .unwrap();
        let sigma2 = white_sigma2(N, 1.0);
        let window = FourierWindow::new(N, N).unwrap();
        let particle = PreparedParticle::new(
            &window,
            &particle_input(&bright, &sigma2, Some(ctf), [0, 0], MaskFill::Mean),
        )
        .unwrap();
        let mut bp = BackProjector::new(N, PIXEL, &BackProjectorOptions::default()).unwrap();
        let ssnr = vec![10.0; N / 2 + 1];
        let s = ContributionSettings {
            ssnr: Some(&ssnr),
            prior_centre_angst: [0.0, 0.0],
        };
        let c = contribute(
            &projector,
            &particle,
            &[pose(rotation, [0.0, 0.0], 1.0)],
            &s,
            &mut bp,
        )
        .unwrap();
        assert!(
            (c.scale_xa / c.scale_aa - 1.5).abs() < 0.03,
            "{}",
            c.scale_xa / c.scale_aa
        );
        let low = vec![1.0; N / 2 + 1];
        let s = ContributionSettings {
            ssnr: Some(&low),
            ..s
        };
        let c = contribute(
            &projector,
            &particle,
            &[pose(rotation, [0.0, 0.0], 1.0)],
            &s,
            &mut bp,
        )
        .unwrap();
        assert_eq!((c.scale_xa, c.scale_aa), (0.0, 0.0));
    }

    #[test]
    fn poses_sharing_a_rotation_insert_like_separate_weighted_insertions() {
        let projector = blob_projector(7);
        let rotation = euler_to_matrix(70.0, 120.0, 15.0);
        let image = simulate(
            &projector,
            &rotation,
            [0.3, 0.0],
            Some(&test_ctf(9000.0)),
            0.5,
            3,
        );
        let sigma2 = white_sigma2(N, 0.5);
        let window = FourierWindow::new(N, 24).unwrap();
        let particle = PreparedParticle::new(
            &window,
            &particle_input(
                &image,
                &sigma2,
                Some(test_ctf(9000.0)),
                [0, 0],
                MaskFill::Mean,
            ),
        )
        .unwrap();
        let poses = [
            pose(rotation, [0.9, 0.0], 0.25),
            pose(rotation, [0.0, 0.6], 0.75),
        ];
        let options = BackProjectorOptions::default();
        let mut together = BackProjector::new(N, PIXEL, &options).unwrap();
        let grouped =
            contribute(&projector, &particle, &poses, &settings(), &mut together).unwrap();
        let mut apart = BackProjector::new(N, PIXEL, &options).unwrap();
        let mut noise = vec![0.0; N / 2 + 1];
        for p in &poses {
            let c = contribute(
                &projector,
                &particle,
                std::slice::from_ref(p),
                &settings(),
                &mut apart,
            )
            .unwrap();
            noise
                .iter_mut()
                .zip(&c.noise_power)
                .zip(particle.power_beyond())
                .for_each(|((n, e), b)| *n += e - b);
        }
        let scale = together
            .data()
            .data()
            .iter()
            .map(|v| v.norm())
            .fold(0.0, f64::max);
        let diff = together
            .data()
            .data()
            .iter()
            .zip(apart.data().data())
            .map(|(a, b)| (a - b).norm())
            .fold(0.0, f64::max);
        assert!(scale > 0.0 && diff < 1e-5 * scale, "{diff} vs {scale}");
        let wdiff = together
            .weight()
            .data()
            .iter()
            .zip(apart.weight().data())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            wdiff
                < 1e-5
                    * together
                        .weight()
                        .data()
                        .iter()
                        .fold(0.0, |m: f64, &v| m.max(v))
        );
        for (r, (&g, &n)) in grouped.noise_power.iter().zip(&noise).enumerate() {
            assert!(
                (g - particle.power_beyond()[r] - n).abs() < 1e-9 * g.abs().max(1e-30),
                "shell {r}"
            );
        }
        assert_eq!(grouped.direction_weights, vec![(7, 1.0)]);
        let err = contribute(
            &projector,
            &particle,
            &[pose(rotation, [0.0, 0.0], f64::NAN)],
            &settings(),
            &mut apart,
        );
        assert!(err.is_err());
    }
}
