//! Projector + CTF against projections written by RELION 3.1.3's `relion_project --ctf`
//! (box 32, 2 Å/px, 300 kV, Cs 2.7 mm, Q0 0.1) of the same analytic phantom, stored in
//! `fourier_data/relion_project_ctf_n32.f32` (4 images, little-endian f32, x fastest).

mod fourier_common;

use cryoflux_kernels::fourier::ctf::{Ctf, CtfParams, CtfVariant};
use cryoflux_kernels::fourier::fft;
use cryoflux_kernels::fourier::projector::{Projector, ProjectorOptions};
use cryoflux_kernels::geometry::euler::euler_to_matrix;
use fourier_common::*;

const N: usize = 32;
const PIXEL: f64 = 2.0;

/// rot, tilt, psi (degrees), defocus U, V (Å), defocus angle (degrees), as given to RELION.
const POSES: [[f64; 6]; 4] = [
    [
        49.306207,
        117.414637,
        -165.249531,
        5247.914533,
        4434.644294,
        164.296004,
    ],
    [
        38.388879,
        62.677845,
        15.704997,
        19026.086357,
        18210.232803,
        0.492930,
    ],
    [
        128.665540,
        158.880164,
        82.675961,
        7634.834309,
        6771.655387,
        97.463020,
    ],
    [
        -72.103719,
        98.895080,
        -169.804918,
        6864.249147,
        6193.624733,
        116.494112,
    ],
];

#[test]
fn projections_with_ctf_match_relion_project() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fourier_data/relion_project_ctf_n32.f32"
    ))
    .unwrap();
    let relion: Vec<f64> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
        .collect();
    assert_eq!(relion.len(), POSES.len() * N * N);
    let projector =
        Projector::new(&volume(&phantom(), N, PIXEL), &ProjectorOptions::default()).unwrap();
    for (i, [rot, tilt, psi, defocus_u, defocus_v, angle]) in POSES.iter().copied().enumerate() {
        let params = CtfParams {
            voltage_kv: 300.0,
            cs_mm: 2.7,
            amplitude_contrast: 0.1,
            defocus_u,
            defocus_v,
            defocus_angle_deg: angle,
            ..CtfParams::default()
        };
        let ctf = Ctf::new(params)
            .unwrap()
            .image(N, PIXEL, CtfVariant::default())
            .unwrap();
        let mut f = projector
            .project(&euler_to_matrix(rot, tilt, psi), N)
            .unwrap();
        f.data_mut()
            .iter_mut()
            .zip(ctf.data())
            .for_each(|(v, c)| *v *= *c);
        let ours = samples(&fft::inverse(&f));
        let theirs = &relion[i * N * N..(i + 1) * N * N];
        let peak = theirs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let max_err = ours
            .iter()
            .zip(theirs)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        println!(
            "image {i}: max |ours − RELION| = {:.2e} of peak {peak:.3}",
            max_err
        );
        assert!(
            max_err < 1e-4 * peak,
            "image {i}: max error {max_err} vs peak {peak}"
        );
    }
}
