//! RELION's iterative density compensation (Pipe & Menon 1999, Matej & Lewitt 2001) for
//! dividing backprojected data by their weights on the padded Fourier grid.
//!
//! v starts at 1 inside the inserted sphere; each round convolves v·W with a Kaiser–Bessel
//! blob (order 0, radius 1.9·pad Fourier voxels times (2R+3)/(pad·N) for a sphere of R padded
//! voxels, as in RELION; α = 15), done as a product with the blob's
//! Fourier transform in real space, and divides v by max(10⁻⁶, |v·W ⊛ blob|). Then
//! F = D·v ≈ D/W smoothed over the blob. v·W is real and even (W is Hermitian and real), so the
//! convolution runs through [`EvenConvolution`], about twice as fast as a general round trip.

use crate::fourier::fft::EvenConvolution;
use crate::grid::{GridError, HalfGrid, half_width, wrapped_to_logical};
use rayon::prelude::*;

/// Blob radius per padding unit (Fourier voxels of the unpadded grid) and taper.
const BLOB_RADIUS_PER_PAD: f64 = 1.9;
const BLOB_ALPHA: f64 = 15.0;

/// (sinh-type or sin-type) Bessel ratio I_{3/2}(z)/z^{3/2} or J_{3/2}(z)/z^{3/2}, up to the
/// common factor √(2/π).
fn bessel_three_halves_ratio(z: f64, modified: bool) -> f64 {
    if z < 1e-2 {
        let z2 = z * z;
        return if modified {
            1.0 / 3.0 + z2 / 30.0
        } else {
            1.0 / 3.0 - z2 / 30.0
        };
    }
    let z3 = z * z * z;
    if modified {
        (z * z.cosh() - z.sinh()) / z3
    } else {
        (z.sin() - z * z.cos()) / z3
    }
}

/// 3D Fourier transform of the order-0 Kaiser–Bessel blob of radius `a` and taper `alpha` at
/// frequency `omega` (cycles per voxel), normalised to 1 at omega = 0 (Lewitt 1990).
pub(super) fn blob_fourier(omega: f64, a: f64, alpha: f64) -> f64 {
    let s = 2.0 * std::f64::consts::PI * a * omega;
    let value = if s < alpha {
        bessel_three_halves_ratio((alpha * alpha - s * s).sqrt(), true)
    } else {
        bessel_three_halves_ratio((s * s - alpha * alpha).sqrt(), false)
    };
    value / bessel_three_halves_ratio(alpha, true)
}

/// Density-compensation factors v (FFTW layout of `weight`) after `iterations` rounds; zero
/// outside `radius` (padded voxels). Runs in f64, as RELION does: W spans many decades between
/// low and high frequencies and v is a product of ten rounds of corrections.
pub(super) fn density_compensation(
    weight: &HalfGrid<f64, 3>,
    radius: i64,
    pad: usize,
    iterations: usize,
) -> Result<Vec<f64>, GridError> {
    let m = weight.n();
    let h = half_width(m);
    // Row (kz, ky) of the half array meets the sphere for kx = 0 ..= its limit.
    let limit = |row: usize| {
        let (y, z) = (
            wrapped_to_logical(row % m, m),
            wrapped_to_logical(row / m, m),
        );
        let rest = radius * radius - y * y - z * z;
        (rest >= 0).then(|| (rest.isqrt() as usize).min(h - 1))
    };
    let blob_radius = BLOB_RADIUS_PER_PAD * pad as f64;
    // RELION convolves on a real-space grid of 2·(radius+1)+1 voxels but evaluates the blob's
    // transform as if that grid had m = pad·N voxels (backprojector.cpp, "TODO: resize this
    // according to r_max"), so its blob shrinks by that ratio when r_max < N/2. Reproduced.
    let relion_scale = (2 * (radius.max(0) + 1) + 1) as f64 / m as f64;
    // The blob sits at the real-space origin; its transform is radial.
    let mut convolution = EvenConvolution::new(m, radius.max(0) as usize, |r2| {
        let omega = (r2 as f64).sqrt() / m as f64 * relion_scale;
        blob_fourier(omega, blob_radius, BLOB_ALPHA)
    })?;
    let mut v = vec![0.0; m * m * h];
    v.par_chunks_exact_mut(h).enumerate().for_each(|(row, v)| {
        if let Some(last) = limit(row) {
            v[..=last].fill(1.0);
        }
    });
    let w = weight.data();
    for _ in 0..iterations {
        // P = v·W in, v ← v / max(|P ⊛ blob|, 10⁻⁶) inside the sphere out.
        convolution.convolve_with(&mut v, |i, &v| v * w[i], |_, c, v| *v /= c.abs().max(1e-6))?;
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_transform_is_one_at_zero_smooth_and_decays() {
        assert!((blob_fourier(0.0, 3.8, 15.0) - 1.0).abs() < 1e-12);
        // Continuous across s = α, where the two branches meet.
        let omega_c = 15.0 / (2.0 * std::f64::consts::PI * 3.8);
        let (below, above) = (
            blob_fourier(omega_c * 0.9999, 3.8, 15.0),
            blob_fourier(omega_c * 1.0001, 3.8, 15.0),
        );
        assert!(
            (below - above).abs() < 1e-2 * below.abs(),
            "{below} {above}"
        );
        assert!(blob_fourier(0.2, 3.8, 15.0) < 0.9 && blob_fourier(0.6, 3.8, 15.0) < 1e-3);
    }

    #[test]
    fn uniform_weights_give_uniform_inverse_inside_the_sphere() {
        let m = 16;
        let mut w = HalfGrid::<f64, 3>::zeros(m, 1.0).unwrap();
        w.data_mut().iter_mut().for_each(|v| *v = 4.0);
        let v = density_compensation(&w, 8, 2, 10).unwrap();
        // Deep inside, the blob sees constant v·W: v → 1/W.
        let centre = w.index_of(0, 0, 0).unwrap();
        assert!((v[centre] - 0.25).abs() < 0.01, "{}", v[centre]);
        let outside = w.index_of(8, 8, 0).unwrap();
        assert_eq!(v[outside], 0.0);
    }

    #[test]
    fn blob_kernel_is_relions_for_a_sphere_smaller_than_the_box() {
        // One weighted voxel at the origin: after one round v = 1/K, K the convolution kernel.
        // RELION's kernel for a sphere of radius R (padded voxels) in a padded box m: the blob
        // transform evaluated at |j|/m on a real-space grid of P = 2(R+1)+1 voxels, i.e.
        // K(k) = P⁻³ Σ_j ft(|j|/m)·cos(2π j·k/P), computed here directly.
        let (m, radius, pad) = (32, 8, 2);
        let mut w = HalfGrid::<f64, 3>::zeros(m, 1.0).unwrap();
        let origin = w.index_of(0, 0, 0).unwrap();
        w.data_mut()[origin] = 1.0;
        let v = density_compensation(&w, radius, pad, 1).unwrap();
        let p = 2 * (radius + 1) + 1;
        let half = p / 2;
        let relion = |k: i64| -> f64 {
            let mut sum = 0.0;
            for z in -half..=half {
                for y in -half..=half {
                    for x in -half..=half {
                        let r = ((x * x + y * y + z * z) as f64).sqrt() / m as f64;
                        let phase = 2.0 * std::f64::consts::PI * (x * k) as f64 / p as f64;
                        sum += blob_fourier(r, BLOB_RADIUS_PER_PAD * pad as f64, BLOB_ALPHA)
                            * phase.cos();
                    }
                }
            }
            sum / (p * p * p) as f64
        };
        for k in 0..4 {
            // v divides by |K|, so compare magnitudes.
            let ours = 1.0 / v[w.index_of(k, 0, 0).unwrap()];
            let expected = relion(k).abs();
            assert!(
                (ours - expected).abs() < 0.05 * expected + 1e-4,
                "kernel at ({k}, 0, 0): {ours} vs RELION's {expected}"
            );
        }
    }
}
