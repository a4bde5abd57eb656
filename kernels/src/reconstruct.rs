//! Map reconstruction from backprojector accumulators (refine.md §2.3–2.4).
//!
//! Steps: move data D and weights W (plus the optional τ² prior, added to W per shell) onto the
//! padded FFTW-layout grid inside radius pad·r_max; divide D by the weights, either with
//! RELION's iterative density compensation ([`Gridding::Iterative`], the CLI default, 10
//! rounds) or by max(W', shell-mean(W')/1000) ([`Gridding::Skip`], `--skip_gridding`, the GUI
//! default); inverse FFT; keep the central N³ and divide by pad³·N (the projector's scale);
//! flatten the corners (sphere of radius N/2, 3-pixel cosine edge, RELION's
//! `softMaskOutsideMap`); divide by the interpolation's gridding factor sinc²(|x|/(pN)).
//! The result is a map in the same units as the one the projector was built from.

mod gridding;
mod tau2;

pub use tau2::{Regularisation, Tau2Spectrum, ssnr_from_fsc, tau2_from_fsc};

use crate::backprojector::BackProjector;
use crate::fft;
use crate::grid::{Complex64, GridError, HalfGrid, Volume};
use crate::mask::soft_mask_outside;
use crate::projector::gridding_factor;

/// How the accumulated data are divided by their weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gridding {
    /// Iterative density compensation with a Kaiser–Bessel blob (RELION `--gridding_iter`).
    Iterative {
        /// Number of rounds (RELION: 10).
        iterations: usize,
    },
    /// Plain division by max(W', shell-mean(W')/1000) (RELION `--skip_gridding`).
    Skip,
}

/// Options of [`reconstruct`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReconstructOptions {
    /// τ² prior (refinement) or `None` (relion_reconstruct, "_unfil" maps).
    pub regularisation: Option<Regularisation>,
    /// Division method.
    pub gridding: Gridding,
}

impl Default for Gridding {
    /// RELION's command-line default: 10 rounds of density compensation.
    fn default() -> Self {
        Gridding::Iterative { iterations: 10 }
    }
}

/// Reconstructs the real-space map (box N, the backprojector's pixel size) from `bp`.
/// Call [`BackProjector::symmetrise`] first (at least with `&[]`, for the kx = 0 plane).
pub fn reconstruct(bp: &BackProjector, options: &ReconstructOptions) -> Result<Volume, GridError> {
    let n = bp.ori_size();
    let pad = bp.padding();
    let m = pad * n;
    let radius = bp.data().radius() as i64;
    let mut data = HalfGrid::<Complex64, 3>::zeros(m, bp.pixel_size())?;
    let mut weight = HalfGrid::<f64, 3>::zeros(m, bp.pixel_size())?;
    let pad3 = pad.pow(3) as f64;
    for (i, (&d, &w)) in bp.data().data().iter().zip(bp.weight().data()).enumerate() {
        let [x, y, z] = bp.data().frequency(i);
        let k2 = x * x + y * y + z * z;
        if k2 > radius * radius {
            continue;
        }
        if let Some(j) = data.index_of(x, y, z) {
            let shell = ((k2 as f64).sqrt() / pad as f64).round() as usize;
            data.data_mut()[j] = d;
            weight.data_mut()[j] = match &options.regularisation {
                Some(reg) => reg.regularised_weight(w, shell, pad3),
                None => w,
            };
        }
    }
    match options.gridding {
        Gridding::Skip => divide_with_shell_floor(&mut data, &weight, radius, pad),
        Gridding::Iterative { iterations } => {
            let v = gridding::density_compensation(&weight, radius, pad, iterations)?;
            data.data_mut()
                .iter_mut()
                .zip(&v)
                .for_each(|(d, &v)| *d *= v);
        }
    }
    let real = fft::inverse_slice::<f64, 3>(data.data(), m)?;
    let norm = pad3 * n as f64;
    let mut map = Volume::from_fn(n, bp.pixel_size(), |[x, y, z]| {
        let at = |c: f64| (c as i64 + (m / 2) as i64) as usize;
        (real[(at(z) * m + at(y)) * m + at(x)] / norm) as f32
    })?;
    soft_mask_outside(&mut map, (n / 2) as f64, 3.0)?;
    for (i, v) in map.data_mut().iter_mut().enumerate() {
        let [x, y, z] = Volume::logical_of(n, i);
        let r = ((x * x + y * y + z * z) as f64).sqrt();
        *v = (*v as f64 / gridding_factor(r, m, bp.interpolation())) as f32;
    }
    Ok(map)
}

/// D ← D / max(W', Wr(r)/1000), Wr the mean of W' over shell floor(|k|/pad) inside the sphere.
fn divide_with_shell_floor(
    data: &mut HalfGrid<Complex64, 3>,
    weight: &HalfGrid<f64, 3>,
    radius: i64,
    pad: usize,
) {
    let shell = |i: usize| -> Option<usize> {
        let [x, y, z] = weight.frequency(i);
        let k2 = x * x + y * y + z * z;
        (k2 <= radius * radius).then(|| ((k2 as f64).sqrt() / pad as f64).floor() as usize)
    };
    let shells = radius as usize / pad + 1;
    let (mut sum, mut count) = (vec![0.0; shells], vec![0usize; shells]);
    for (i, &w) in weight.data().iter().enumerate() {
        if let Some(r) = shell(i) {
            sum[r.min(shells - 1)] += w;
            count[r.min(shells - 1)] += 1;
        }
    }
    let floor: Vec<f64> = sum
        .iter()
        .zip(&count)
        .map(|(&s, &c)| if c > 0 { s / c as f64 / 1000.0 } else { 0.0 })
        .collect();
    for (i, d) in data.data_mut().iter_mut().enumerate() {
        let divisor = shell(i).map_or(0.0, |r| weight.data()[i].max(floor[r.min(shells - 1)]));
        *d = if divisor > 0.0 {
            *d / divisor
        } else {
            Complex64::default()
        };
    }
}
