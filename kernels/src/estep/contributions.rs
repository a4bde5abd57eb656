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

use super::{EstepError, PreparedParticle, WeightedPose};
use crate::backprojector::BackProjector;
use crate::grid::{Complex64, FourierImage, HalfGrid};
use crate::projector::Projector;

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
    crate::grid::check_same_box("projector box vs particle box", n, projector.ori_size())?;
    crate::grid::check_same_box(
        "backprojector box vs particle box",
        n,
        backprojector.ori_size(),
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
    let pixel = particle.pixel_size() * n as f64 / size as f64;
    let mut slice = FourierImage::zeros(size, pixel)?;
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
    let mut reference = vec![Complex64::default(); pixels];
    let mut sum_unmasked = vec![Complex64::default(); pixels];
    for group in poses.chunk_by(|a, b| a.rotation == b.rotation) {
        let rotation = group[0].rotation;
        projector.project_into(&rotation, &mut slice);
        for ((c, &j), &ctf) in reference.iter_mut().zip(&gather).zip(particle.ctf()) {
            let v = slice.data()[j];
            *c = Complex64::new(v.re as f64, v.im as f64) * ctf as f64;
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
