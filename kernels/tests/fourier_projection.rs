//! Projector checks against analytic and brute-force real-space projections.

mod fourier_common;

use cryoflux_kernels::fourier::fft;
use cryoflux_kernels::fourier::projector::{Projector, ProjectorOptions};
use cryoflux_kernels::geometry::euler::euler_to_matrix;
use cryoflux_kernels::grid::{Image, Interpolation};
use fourier_common::*;
use glam::DMat3;

const N: usize = 32;

fn projected(projector: &Projector, a: &DMat3) -> Vec<f64> {
    samples(&fft::inverse(&projector.project(a, N).unwrap()))
}

#[test]
fn gaussian_blob_projects_to_the_analytic_2d_gaussian() {
    let sigma = 2.0;
    let centre = glam::DVec3::new(2.0, -1.0, 1.0);
    let blob = [Blob {
        centre: centre.to_array(),
        sigma,
        height: 1.0,
    }];
    let projector = Projector::new(&volume(&blob, N, 1.3), &ProjectorOptions::default()).unwrap();
    // A generic pose, so that the slice is interpolated and the gridding correction matters.
    let a = euler_to_matrix(35.0, 70.0, -50.0);
    let got = projected(&projector, &a);
    let c2 = a * centre;
    let h = (N / 2) as f64;
    let analytic: Vec<f64> = (0..N * N)
        .map(|i| {
            let (x, y) = ((i % N) as f64 - h - c2.x, (i / N) as f64 - h - c2.y);
            (2.0 * std::f64::consts::PI).sqrt()
                * sigma
                * (-(x * x + y * y) / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let (c, s) = (correlation(&analytic, &got), scale(&analytic, &got));
    println!("blob projection: correlation {c:.6}, amplitude ratio {s:.5}");
    assert!(c > 0.999, "correlation {c}");
    assert!((s - 1.0).abs() < 0.01, "amplitude ratio {s}");
}

#[test]
fn projection_along_z_equals_the_brute_force_z_sum() {
    // Along z every slice point lies on the padded grid: no interpolation, so without the
    // gridding pre-correction the slice is exactly the transform of the z-sum.
    let blobs = phantom();
    let vol = volume(&blobs, N, 1.0);
    let options = ProjectorOptions {
        gridding_correction: false,
        ..ProjectorOptions::default()
    };
    let projector = Projector::new(&vol, &options).unwrap();
    let got = projector.project(&DMat3::IDENTITY, N).unwrap();
    let mut z_sum = Image::zeros(N, 1.0).unwrap();
    for (i, &v) in vol.data().iter().enumerate() {
        z_sum.data_mut()[i % (N * N)] += v;
    }
    // Compare in Fourier space inside the projector's disc |k| ≤ N/2 (corners are cut).
    let expected = fft::forward(&z_sum);
    let mut max_err: f32 = 0.0;
    for (i, (g, e)) in got.data().iter().zip(expected.data()).enumerate() {
        let [kx, ky, _] = got.frequency(i);
        if kx * kx + ky * ky <= (N * N / 4) as i64 {
            max_err = max_err.max((g - e).norm());
        }
    }
    let dc = expected.data()[0].norm();
    println!("z projection: max Fourier error {max_err:.2e} of DC {dc:.3}");
    assert!(max_err < 1e-5 * dc, "max error {max_err} vs DC {dc}");
}

#[test]
fn rotated_projections_match_brute_force_for_several_poses() {
    let blobs = phantom();
    let vol = volume(&blobs, N, 1.0);
    for interpolation in [Interpolation::Trilinear, Interpolation::NearestNeighbour] {
        let options = ProjectorOptions {
            interpolation,
            ..ProjectorOptions::default()
        };
        let projector = Projector::new(&vol, &options).unwrap();
        for (rot, tilt, psi) in [
            (30.0, 60.0, -20.0),
            (-120.0, 100.0, 45.0),
            (75.0, 160.0, 170.0),
            (0.0, 90.0, 0.0),
        ] {
            let a = euler_to_matrix(rot, tilt, psi);
            let reference = brute_projection(&blobs, N, &a);
            let got = projected(&projector, &a);
            let (c, s) = (correlation(&reference, &got), scale(&reference, &got));
            println!("{interpolation:?} ({rot}, {tilt}, {psi}): correlation {c:.6}, scale {s:.4}");
            let min_c = if interpolation == Interpolation::Trilinear {
                0.999
            } else {
                0.98
            };
            assert!(
                c > min_c,
                "{interpolation:?} pose ({rot}, {tilt}, {psi}): correlation {c}"
            );
            assert!((s - 1.0).abs() < 0.03, "scale {s}");
        }
    }
}

#[test]
fn smaller_output_box_is_a_window_of_the_full_projection() {
    let vol = volume(&phantom(), N, 1.0);
    let projector = Projector::new(
        &vol,
        &ProjectorOptions {
            r_max: Some(10),
            ..ProjectorOptions::default()
        },
    )
    .unwrap();
    let a = euler_to_matrix(10.0, 50.0, 80.0);
    let full = projector.project(&a, N).unwrap();
    let small = projector.project(&a, 16).unwrap();
    assert!((small.pixel_size() - 2.0).abs() < 1e-12);
    for (i, v) in small.data().iter().enumerate() {
        let [kx, ky, _] = small.frequency(i);
        let expected = if kx * kx + ky * ky <= 64 {
            full.value_at(kx, ky, 0).unwrap()
        } else {
            Default::default()
        };
        assert_eq!(*v, expected, "k = ({kx}, {ky})");
    }
    // r_max = 10 zeroes the full-size projection beyond shell 10.
    let i = full.index_of(11, 0, 0).unwrap();
    assert_eq!(full.data()[i].norm(), 0.0);
    assert!(
        Projector::new(
            &vol,
            &ProjectorOptions {
                r_max: Some(17),
                ..ProjectorOptions::default()
            }
        )
        .is_err()
    );
}
