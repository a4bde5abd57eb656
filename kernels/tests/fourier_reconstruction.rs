//! Reconstruction from simulated projections of a known phantom, with and without CTFs,
//! compared to the phantom by FSC.

mod fourier_common;

use cryoflux_kernels::fourier::backprojector::{BackProjector, BackProjectorOptions};
use cryoflux_kernels::fourier::ctf::{Ctf, CtfParams, CtfVariant};
use cryoflux_kernels::fourier::fft;
use cryoflux_kernels::fourier::projector::{Projector, ProjectorOptions};
use cryoflux_kernels::fourier::spectrum::power_spectrum;
use cryoflux_kernels::geometry::euler::euler_to_matrix;
use cryoflux_kernels::geometry::symmetry::SymmetryGroup;
use cryoflux_kernels::grid::{HalfGrid, Volume};
use cryoflux_kernels::reconstruct::{
    Gridding, ReconstructOptions, Regularisation, reconstruct, tau2_from_fsc,
};
use cryoflux_kernels::resolution::fsc::fsc_real;
use fourier_common::*;

const N: usize = 32;
const PIXEL: f64 = 2.0;

/// Backprojects `count` evenly spread projections of the phantom, each multiplied by a CTF
/// (defocus varying with the view) when `with_ctf`.
fn accumulate(truth: &Volume, count: usize, with_ctf: bool) -> BackProjector {
    let projector = Projector::new(truth, &ProjectorOptions::default()).unwrap();
    let mut bp = BackProjector::new(N, PIXEL, &BackProjectorOptions::default()).unwrap();
    for (i, a) in even_orientations(count).iter().enumerate() {
        let mut image = projector.project(a, N).unwrap();
        let weights = if with_ctf {
            let params = CtfParams {
                voltage_kv: 300.0,
                cs_mm: 2.7,
                amplitude_contrast: 0.1,
                defocus_u: 8000.0 + 40.0 * i as f64,
                defocus_v: 7500.0 + 40.0 * i as f64,
                defocus_angle_deg: 3.0 * i as f64,
                ..CtfParams::default()
            };
            let ctf = Ctf::new(params)
                .unwrap()
                .image(N, PIXEL, CtfVariant::default())
                .unwrap();
            // Observation X = CTF·P; what is backprojected is CTF·X with weight CTF².
            image
                .data_mut()
                .iter_mut()
                .zip(ctf.data())
                .for_each(|(v, c)| *v *= *c * *c);
            ctf.map(|c| c * c)
        } else {
            HalfGrid::from_vec(N, PIXEL, vec![1.0; HalfGrid::<f32, 2>::len_for(N)]).unwrap()
        };
        bp.backproject(&image, &weights, a).unwrap();
    }
    bp.symmetrise(&[]);
    bp
}

fn report(label: &str, truth: &Volume, map: &Volume) -> Vec<f64> {
    let curve = fsc_real(truth, map).unwrap();
    let t: Vec<f64> = truth.data().iter().map(|&v| v as f64).collect();
    let r: Vec<f64> = map.data().iter().map(|&v| v as f64).collect();
    println!(
        "{label}: real-space correlation {:.5}, scale {:.4}, FSC {:?}",
        correlation(&t, &r),
        scale(&t, &r),
        curve
            .iter()
            .map(|v| (v * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>()
    );
    curve
}

#[test]
fn reconstruction_without_ctf_recovers_the_phantom() {
    let truth = volume(&phantom(), N, PIXEL);
    let bp = accumulate(&truth, 300, false);
    for gridding in [Gridding::Iterative { iterations: 10 }, Gridding::Skip] {
        let map = reconstruct(
            &bp,
            &ReconstructOptions {
                regularisation: None,
                gridding,
            },
        )
        .unwrap();
        let curve = report(&format!("no CTF, {gridding:?}"), &truth, &map);
        let worst = curve[1..=N / 4].iter().cloned().fold(1.0, f64::min);
        assert!(worst > 0.9, "{gridding:?}: worst FSC up to N/4 is {worst}");
        let t: Vec<f64> = truth.data().iter().map(|&v| v as f64).collect();
        let r: Vec<f64> = map.data().iter().map(|&v| v as f64).collect();
        assert!(
            (scale(&t, &r) - 1.0).abs() < 0.05,
            "amplitude {}",
            scale(&t, &r)
        );
    }
}

#[test]
fn reconstruction_with_ctf_weights_recovers_the_phantom() {
    let truth = volume(&phantom(), N, PIXEL);
    let bp = accumulate(&truth, 300, true);
    let map = reconstruct(&bp, &ReconstructOptions::default()).unwrap();
    let curve = report("CTF", &truth, &map);
    let worst = curve[1..=N / 4].iter().cloned().fold(1.0, f64::min);
    assert!(worst > 0.9, "worst FSC up to N/4 is {worst}");
}

#[test]
fn tau2_prior_attenuates_where_the_fsc_is_low() {
    let truth = volume(&phantom(), N, PIXEL);
    let bp = accumulate(&truth, 100, false);
    let plain = reconstruct(&bp, &ReconstructOptions::default()).unwrap();
    let regularised_with = |f: f64| {
        let spectrum = tau2_from_fsc(&bp, &[f; N / 2 + 1], 1.0, false);
        let options = ReconstructOptions {
            regularisation: Some(Regularisation::new(&spectrum, 1.0)),
            ..Default::default()
        };
        reconstruct(&bp, &options).unwrap()
    };
    let power = |v: &Volume| power_spectrum(&fft::forward(v));
    let confident = regularised_with(0.999);
    let doubtful = regularised_with(0.2);
    let c = fsc_real(&plain, &confident).unwrap();
    println!("prior at FSC 0.999: FSC to unregularised {:?}", &c[..8]);
    assert!(c[1..=N / 4].iter().all(|&v| v > 0.99));
    // FSC 0.2 adds 4× the shell-mean weight from shell 5 (minres_map) on: amplitudes drop to
    // about a fifth there, while shells below 5 are untouched.
    let (p_plain, p_doubt) = (power(&plain), power(&doubtful));
    let ratio = |r: usize| (p_doubt[r] / p_plain[r]).sqrt();
    println!(
        "prior at FSC 0.2: amplitude ratios {:?}",
        (1..12)
            .map(|r| (ratio(r) * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>()
    );
    assert!((1..4).all(|r| (ratio(r) - 1.0).abs() < 0.05));
    assert!((6..12).all(|r| ratio(r) < 0.4 && ratio(r) > 0.1));
}

#[test]
fn c4_symmetrisation_fills_in_the_views_of_one_asymmetric_unit() {
    // A C4-symmetric phantom, seen only from directions with rot in [0°, 90°).
    let group = SymmetryGroup::parse("C4").unwrap();
    let blobs: Vec<Blob> = phantom()
        .iter()
        .flat_map(|b| {
            group.operators().iter().map(move |r| Blob {
                centre: (*r * glam::DVec3::from_array(b.centre)).to_array(),
                ..*b
            })
        })
        .collect();
    let truth = volume(&blobs, N, PIXEL);
    let projector = Projector::new(&truth, &ProjectorOptions::default()).unwrap();
    let weights = HalfGrid::from_vec(N, PIXEL, vec![1.0; HalfGrid::<f32, 2>::len_for(N)]).unwrap();
    let mut bp = BackProjector::new(N, PIXEL, &BackProjectorOptions::default()).unwrap();
    for i in 0..150 {
        let rot = (i as f64 * 37.0) % 90.0;
        let tilt = (1.0 - 2.0 * (i as f64 + 0.5) / 150.0).acos().to_degrees();
        let a = euler_to_matrix(rot, tilt, (i as f64 * 53.0) % 360.0);
        bp.backproject(&projector.project(&a, N).unwrap(), &weights, &a)
            .unwrap();
    }
    let mut unsymmetrised = bp.clone();
    unsymmetrised.symmetrise(&[]);
    bp.symmetrise(group.operators());
    let sym = report(
        "C4 symmetrised",
        &truth,
        &reconstruct(&bp, &ReconstructOptions::default()).unwrap(),
    );
    let plain = report(
        "C4 data, no symmetrisation",
        &truth,
        &reconstruct(&unsymmetrised, &ReconstructOptions::default()).unwrap(),
    );
    let worst = sym[1..=N / 4].iter().cloned().fold(1.0, f64::min);
    assert!(worst > 0.9, "worst FSC up to N/4 with C4 is {worst}");
    assert!(
        sym[N / 2] > plain[N / 2] + 0.1,
        "Nyquist FSC {} vs {} without symmetrisation",
        sym[N / 2],
        plain[N / 2]
    );
}
