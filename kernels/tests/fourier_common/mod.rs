//! Shared helpers for the Fourier-kernel integration tests: analytic Gaussian-blob phantoms,
//! brute-force real-space projections and simple comparison statistics.
#![allow(dead_code)] // each test crate uses a subset

use cryoflux_kernels::grid::{Image, Volume};
use glam::{DMat3, DVec3};

/// A 3D Gaussian blob: centre (pixels, relative to the box origin N/2), width σ (pixels), height.
#[derive(Clone, Copy)]
pub struct Blob {
    pub centre: [f64; 3],
    pub sigma: f64,
    pub height: f64,
}

/// An asymmetric phantom: three blobs of different sizes and heights off the centre.
pub fn phantom() -> Vec<Blob> {
    vec![
        Blob {
            centre: [3.0, -2.0, 1.0],
            sigma: 2.0,
            height: 1.0,
        },
        Blob {
            centre: [-4.0, 3.0, -2.0],
            sigma: 1.5,
            height: 0.7,
        },
        Blob {
            centre: [1.0, 4.0, 4.0],
            sigma: 1.2,
            height: 0.5,
        },
    ]
}

/// The phantom's value at a point (pixels relative to the origin).
pub fn value(blobs: &[Blob], r: DVec3) -> f64 {
    blobs
        .iter()
        .map(|b| {
            let d = r - DVec3::from_array(b.centre);
            b.height * (-d.length_squared() / (2.0 * b.sigma * b.sigma)).exp()
        })
        .sum()
}

/// The phantom sampled on an N³ box of pixel size `p` Å.
pub fn volume(blobs: &[Blob], n: usize, p: f64) -> Volume {
    Volume::from_fn(n, p, |r| value(blobs, DVec3::from_array(r)) as f32).unwrap()
}

/// Brute-force projection image(x, y) = Σ_z V(Aᵀ·(x, y, z)) of the analytic phantom over the
/// N samples of z, in f64.
pub fn brute_projection(blobs: &[Blob], n: usize, a: &DMat3) -> Vec<f64> {
    let h = (n / 2) as f64;
    let at = a.transpose();
    let mut out = vec![0.0; n * n];
    for (i, o) in out.iter_mut().enumerate() {
        let (x, y) = ((i % n) as f64 - h, (i / n) as f64 - h);
        *o = (0..n)
            .map(|z| value(blobs, at * DVec3::new(x, y, z as f64 - h)))
            .sum();
    }
    out
}

/// Pearson correlation of two equally long sample lists.
pub fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    sab / (saa * sbb).sqrt()
}

/// Least-squares scale s minimising |s·reference − data|².
pub fn scale(reference: &[f64], data: &[f64]) -> f64 {
    let num: f64 = reference.iter().zip(data).map(|(r, d)| r * d).sum();
    num / reference.iter().map(|r| r * r).sum::<f64>()
}

/// The samples of an image as f64.
pub fn samples(img: &Image) -> Vec<f64> {
    img.data().iter().map(|&v| v as f64).collect()
}

/// `count` roughly uniform orientations (Fibonacci sphere directions, varied psi) as matrices.
pub fn even_orientations(count: usize) -> Vec<DMat3> {
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    (0..count)
        .map(|i| {
            let z = 1.0 - 2.0 * (i as f64 + 0.5) / count as f64;
            let rot = (golden * i as f64).to_degrees();
            let tilt = z.acos().to_degrees();
            let psi = (i as f64 * 137.0) % 360.0;
            cryoflux_kernels::geometry::euler::euler_to_matrix(rot, tilt, psi)
        })
        .collect()
}
