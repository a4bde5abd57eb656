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

use crate::fourier::backprojector::BackProjector;
use crate::fourier::fft;
use crate::fourier::projector::gridding_factor;
use crate::grid::{Complex64, GridError, HalfGrid, Volume, half_width, wrapped_to_logical};
use crate::mask::soft_mask_outside;
use rayon::prelude::*;

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
    let n = bp.geometry().ori_size;
    let pad = bp.geometry().padding;
    let m = pad * n;
    let radius = bp.data().radius() as i64;
    let mut data = HalfGrid::<Complex64, 3>::zeros(m, bp.geometry().pixel_size)?;
    let mut weight = HalfGrid::<f64, 3>::zeros(m, bp.geometry().pixel_size)?;
    let pad3 = pad.pow(3) as f64;
    let h = half_width(m);
    data.data_mut()
        .par_chunks_exact_mut(h)
        .zip(weight.data_mut().par_chunks_exact_mut(h))
        .enumerate()
        .for_each(|(row, (d_row, w_row))| {
            let y = wrapped_to_logical(row % m, m);
            let z = wrapped_to_logical(row / m, m);
            for (x, (d, w)) in d_row.iter_mut().zip(w_row.iter_mut()).enumerate() {
                let x = x as i64;
                let k2 = x * x + y * y + z * z;
                let Some(j) = bp
                    .data()
                    .index_of(x, y, z)
                    .filter(|_| k2 <= radius * radius)
                else {
                    continue;
                };
                let shell = ((k2 as f64).sqrt() / pad as f64).round() as usize;
                *d = bp.data().data()[j];
                *w = match &options.regularisation {
                    Some(reg) => reg.regularised_weight(bp.weight().data()[j], shell, pad3),
                    None => bp.weight().data()[j],
                };
            }
        });
    match options.gridding {
        Gridding::Skip => divide_with_shell_floor(&mut data, &weight, radius, pad),
        Gridding::Iterative { iterations } => {
            let v = gridding::density_compensation(&weight, radius, pad, iterations)?;
            data.data_mut()
                .par_iter_mut()
                .zip(&v)
                .for_each(|(d, &v)| *d *= v);
        }
    }
    let norm = pad3 * n as f64;
    let central = fft::inverse_central(data.into_vec(), m, n)?;
    let samples = central.iter().map(|&v| (v / norm) as f32).collect();
    let mut map = Volume::from_vec(n, bp.geometry().pixel_size, samples)?;
    soft_mask_outside(&mut map, (n / 2) as f64, 3.0)?;
    map.data_mut()
        .par_iter_mut()
        .enumerate()
        .for_each(|(i, v)| {
            let [x, y, z] = Volume::logical_of(n, i);
            let r = ((x * x + y * y + z * z) as f64).sqrt();
            *v = (*v as f64 / gridding_factor(r, m, bp.geometry().interpolation)) as f32;
        });
    Ok(map)
}

/// D ← D / max(W', Wr(r)/1000), Wr the mean of W' over shell floor(|k|/pad) inside the sphere.
/// Shell sums are accumulated per kz plane and then added in plane order, so the result does
/// not depend on the thread count.
fn divide_with_shell_floor(
    data: &mut HalfGrid<Complex64, 3>,
    weight: &HalfGrid<f64, 3>,
    radius: i64,
    pad: usize,
) {
    let (m, h) = (weight.n(), half_width(weight.n()));
    let shells = radius as usize / pad + 1;
    // Shell of each value of row (kz, ky), or None outside the sphere.
    let row_shells = |row: usize| {
        let (y, z) = (
            wrapped_to_logical(row % m, m),
            wrapped_to_logical(row / m, m),
        );
        (0..h as i64).map(move |x| {
            let k2 = x * x + y * y + z * z;
            (k2 <= radius * radius)
                .then(|| (((k2 as f64).sqrt() / pad as f64).floor() as usize).min(shells - 1))
        })
    };
    let per_plane: Vec<(Vec<f64>, Vec<usize>)> = weight
        .data()
        .par_chunks_exact(m * h)
        .enumerate()
        .map(|(z, plane)| {
            let (mut sum, mut count) = (vec![0.0; shells], vec![0usize; shells]);
            for (row, w_row) in plane.chunks_exact(h).enumerate() {
                for (r, &w) in row_shells(z * m + row).zip(w_row) {
                    if let Some(r) = r {
                        sum[r] += w;
                        count[r] += 1;
                    }
                }
            }
            (sum, count)
        })
        .collect();
    let (mut sum, mut count) = (vec![0.0; shells], vec![0usize; shells]);
    for (s, c) in &per_plane {
        sum.iter_mut().zip(s).for_each(|(a, b)| *a += b);
        count.iter_mut().zip(c).for_each(|(a, b)| *a += b);
    }
    let floor: Vec<f64> = sum
        .iter()
        .zip(&count)
        .map(|(&s, &c)| if c > 0 { s / c as f64 / 1000.0 } else { 0.0 })
        .collect();
    data.data_mut()
        .par_chunks_exact_mut(h)
        .zip(weight.data().par_chunks_exact(h))
        .enumerate()
        .for_each(|(row, (d_row, w_row))| {
            for ((d, &w), r) in d_row.iter_mut().zip(w_row).zip(row_shells(row)) {
                let divisor = r.map_or(0.0, |r| w.max(floor[r]));
                *d = if divisor > 0.0 {
                    *d / divisor
                } else {
                    Complex64::default()
                };
            }
        });
}
