//! τ² (signal power) from the gold-standard FSC, and the Wiener-like prior it puts on the
//! reconstruction (refine.md §2.3; RELION's `updateSSNRarrays` and the τ² term of
//! `reconstruct`). Shells are those of the unpadded box, r = round(|k|/pad).

use crate::fourier::backprojector::BackProjector;

/// Per-shell statistics written to model.star, indexed by unpadded shell 0 … N/2.
#[derive(Debug, Clone, PartialEq)]
pub struct Tau2Spectrum {
    /// σ²_rec(r) = 1/mean_shell(pad³·W) (`rlnReferenceSigma2`; 0 where the shell has no weight).
    pub sigma2: Vec<f64>,
    /// SSNR(r) = T·F/(1−F) (`rlnSsnrMap`).
    pub ssnr: Vec<f64>,
    /// τ²(r) = SSNR(r)·σ²_rec(r) (`rlnReferenceTau2`).
    pub tau2: Vec<f64>,
}

/// The τ² prior applied by [`super::reconstruct`].
#[derive(Debug, Clone, PartialEq)]
pub struct Regularisation {
    /// τ² per unpadded shell (RELION units); shells beyond the list count as τ² = 0.
    pub tau2: Vec<f64>,
    /// `--tau2_fudge` T (default 1).
    pub tau2_fudge: f64,
    /// Shells below this are never regularised (RELION `minres_map`, 5).
    pub minres_map: usize,
}

impl Regularisation {
    /// Prior with RELION's defaults (T from the caller, minres_map = 5) from a τ² spectrum.
    pub fn new(tau2: &Tau2Spectrum, tau2_fudge: f64) -> Self {
        Self {
            tau2: tau2.tau2.clone(),
            tau2_fudge,
            minres_map: 5,
        }
    }

    /// W'(k) = W(k) + 1/(pad³·T·τ²(r)) for r ≥ minres_map; where τ² is 0, W + 1000/W (RELION's
    /// stand-in that suppresses shells without signal; W stays 0 where it is 0).
    pub(super) fn regularised_weight(&self, w: f64, shell: usize, pad3: f64) -> f64 {
        if shell < self.minres_map {
            return w;
        }
        let tau2 = self.tau2.get(shell).copied().unwrap_or(0.0);
        if tau2 > 0.0 {
            w + 1.0 / (pad3 * self.tau2_fudge * tau2)
        } else if w > 1e-20 {
            w + 1000.0 / w
        } else {
            w
        }
    }
}

/// SSNR(r) = T·F/(1−F) from an FSC curve, with F clamped to [0.001, 0.999]; for the final
/// joined-halves reconstruction F is first mapped to min(0.999, √(2F'/(1+F'))), F' = max(0.001, F).
pub fn ssnr_from_fsc(fsc: &[f64], tau2_fudge: f64, joined_halves: bool) -> Vec<f64> {
    fsc.iter()
        .map(|&f| {
            let f = if joined_halves {
                let f1 = f.max(0.001);
                (2.0 * f1 / (1.0 + f1)).sqrt().min(0.999)
            } else {
                f.clamp(0.001, 0.999)
            };
            tau2_fudge * f / (1.0 - f)
        })
        .collect()
}

/// σ²_rec, SSNR and τ² per unpadded shell (0 … N/2) for one half set's accumulator `bp` and
/// the gold-standard `fsc` (shells missing from the curve count as FSC = 0).
pub fn tau2_from_fsc(
    bp: &BackProjector,
    fsc: &[f64],
    tau2_fudge: f64,
    joined_halves: bool,
) -> Tau2Spectrum {
    let shells = bp.geometry().ori_size / 2 + 1;
    let pad = bp.geometry().padding as f64;
    let radius = bp.data().radius() as i64;
    let (mut sum, mut count) = (vec![0.0; shells], vec![0usize; shells]);
    for (i, &w) in bp.weight().data().iter().enumerate() {
        let [x, y, z] = bp.weight().frequency(i);
        let k2 = x * x + y * y + z * z;
        if k2 < radius * radius {
            let r = ((k2 as f64).sqrt() / pad).round() as usize;
            sum[r] += pad.powi(3) * w;
            count[r] += 1;
        }
    }
    let sigma2: Vec<f64> = sum
        .iter()
        .zip(&count)
        .map(|(&s, &c)| if c > 0 && s > 0.0 { c as f64 / s } else { 0.0 })
        .collect();
    let curve: Vec<f64> = (0..shells)
        .map(|r| fsc.get(r).copied().unwrap_or(0.0))
        .collect();
    let ssnr = ssnr_from_fsc(&curve, tau2_fudge, joined_halves);
    let tau2 = ssnr.iter().zip(&sigma2).map(|(s, g)| s * g).collect();
    Tau2Spectrum { sigma2, ssnr, tau2 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssnr_clamps_and_maps_joined_halves() {
        let s = ssnr_from_fsc(&[1.0, 0.5, 0.0, -0.3], 1.0, false);
        assert!((s[0] - 999.0).abs() < 1e-9);
        assert!((s[1] - 1.0).abs() < 1e-12);
        assert!((s[2] - 0.001 / 0.999).abs() < 1e-12);
        assert_eq!(s[2], s[3]);
        // Joined: FSC = 1/7 maps to 0.5, i.e. SSNR 1.
        let j = ssnr_from_fsc(&[1.0 / 7.0], 2.0, true);
        assert!((j[0] - 2.0).abs() < 1e-9);
    }

    #[test]
    fn regularised_weight_follows_relion() {
        let reg = Regularisation {
            tau2: vec![1.0; 6],
            tau2_fudge: 2.0,
            minres_map: 5,
        };
        assert_eq!(reg.regularised_weight(3.0, 4, 8.0), 3.0);
        assert!((reg.regularised_weight(3.0, 5, 8.0) - (3.0 + 1.0 / 16.0)).abs() < 1e-12);
        assert!((reg.regularised_weight(2.0, 7, 8.0) - (2.0 + 500.0)).abs() < 1e-12);
        assert_eq!(reg.regularised_weight(0.0, 7, 8.0), 0.0);
    }
}
