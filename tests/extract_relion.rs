//! Particle extraction against RELION 3.1.3's `relion_preprocess --extract`: a random,
//! non-square (300 × 260 px, 1.5 Å) micrograph with a ramp, particles at fractional
//! coordinates and across every edge, extracted by RELION and by
//! `cryoflux_kernels::extract::extract_particle`, for plain boxes, `--extract_bias_x/y`,
//! `--invert_contrast`, `--norm` (ramp and `--no_ramp`), `--scale` (down and up, with norm),
//! `--window` (with norm). Pixels agree to float precision (max |Δ| < 1e-4 of each image's
//! stddev), the same particles are kept (RELION keeps every box that overlaps the micrograph,
//! repeating edge pixels, and stops on a box entirely outside it, which our kernel refuses too),
//! and the stack's pixel size is ours.

mod common;

use std::path::Path;

use common::*;
use cryoflux_formats::mrc::{MrcFile, WriteMode, write_volume};
use cryoflux_kernels::extract::{
    ExtractError, ExtractSettings, Normalisation, extract_particle, particle_pixel_size,
};
use cryoflux_kernels::grid::Plane;
use cryoflux_kernels::random::SplitMix64;

const WIDTH: usize = 300;
const HEIGHT: usize = 260;
const PIXEL_SIZE: f64 = 1.5;
/// Largest accepted |cryoflux − RELION| per image, relative to the RELION image's stddev.
const TOLERANCE: f64 = 1e-4;

/// Picked coordinates (px): fractional ones (truncated toward zero by RELION), and boxes of 64
/// crossing the left, right, top and bottom edges and corners, including centres outside.
const COORDINATES: [[f64; 2]; 16] = [
    [100.0, 100.0],
    [100.5, 120.5],
    [101.5, 80.49],
    [150.51, 130.5],
    [-0.5, 50.0],
    [10.0, 10.0],
    [5.0, 200.0],
    [290.0, 250.0],
    [299.0, 259.0],
    [310.0, 100.0],
    [-10.0, 50.0],
    [150.0, -3.0],
    [120.5, -0.5],
    [-1.5, 90.0],
    [2.5, 2.5],
    [330.9, 290.0],
];

/// Keyed N(0, 1) noise plus a ramp and an offset, so that normalisation has work to do.
fn micrograph() -> Plane {
    let mut random = SplitMix64::keyed(11, &[0]);
    let mut mic = Plane::from_fn(WIDTH, HEIGHT, |x, y| {
        (3.0 + 0.01 * x as f64 - 0.02 * y as f64) as f32
    });
    mic.data_mut()
        .iter_mut()
        .for_each(|v| *v += random.next_normal() as f32);
    mic
}

/// Writes `mic.mrc`, a minimal RELION 3.1 `micrographs.star` (optics block with the
/// micrograph pixel size) and `mic_pick.star` with `coordinates` into `dir`.
fn write_inputs(dir: &Path, mic: &Plane, coordinates: &[[f64; 2]]) {
    write_volume(
        dir.join("mic.mrc"),
        mic.data(),
        [WIDTH, HEIGHT, 1],
        PIXEL_SIZE as f32,
        WriteMode::Float32,
    )
    .unwrap();
    let micrographs = format!(
        "data_optics\nloop_\n_rlnOpticsGroupName #1\n_rlnOpticsGroup #2\n\
         _rlnMicrographPixelSize #3\n_rlnVoltage #4\n_rlnSphericalAberration #5\n\
         _rlnAmplitudeContrast #6\nopticsGroup1 1 {PIXEL_SIZE} 300 2.7 0.1\n\n\
         data_micrographs\nloop_\n_rlnMicrographName #1\n_rlnOpticsGroup #2\nmic.mrc 1\n"
    );
    std::fs::write(dir.join("micrographs.star"), micrographs).unwrap();
    let mut picks = String::from("data_\nloop_\n_rlnCoordinateX #1\n_rlnCoordinateY #2\n");
    for [x, y] in coordinates {
        picks += &format!("{x} {y}\n");
    }
    std::fs::write(dir.join("mic_pick.star"), picks).unwrap();
}

/// The `relion_preprocess --extract` command line for output `name` with `extra` flags.
fn preprocess_args<'a>(name: &'a str, part_star: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--i",
        "micrographs.star",
        "--coord_dir",
        "./",
        "--coord_suffix",
        "_pick.star",
        "--part_star",
        part_star,
        "--part_dir",
        name,
        "--extract",
    ];
    args.extend_from_slice(extra);
    args
}

/// Runs RELION with `extra` flags into `dir/name/` and returns its particle images and the
/// stack's pixel size (Å).
fn relion_stack(dir: &Path, name: &str, extra: &[&str]) -> (Vec<Vec<f32>>, f32) {
    let star = format!("{name}.star");
    let part_dir = format!("{name}/");
    run_tool(
        dir,
        "relion_preprocess",
        &preprocess_args(&part_dir, &star, extra),
    );
    let stack = MrcFile::open(dir.join(name).join("mic.mrcs")).unwrap();
    let images = (0..stack.image_count())
        .map(|i| stack.read_image(i).unwrap())
        .collect();
    (images, stack.voxel_size()[0])
}

/// Extracts every coordinate with `settings` in both programs and returns the largest
/// |cryoflux − RELION| relative to the RELION image's stddev, after checking the particle
/// count, box and pixel size.
fn compare(dir: &Path, mic: &Plane, name: &str, flags: &[&str], settings: ExtractSettings) -> f64 {
    let (relion, relion_pixel) = relion_stack(dir, name, flags);
    assert_eq!(
        relion.len(),
        COORDINATES.len(),
        "{name}: particles kept by RELION"
    );
    let pixel = particle_pixel_size(PIXEL_SIZE, settings.extract_size, settings.scale);
    assert!(
        (f64::from(relion_pixel) - pixel).abs() < 1e-4,
        "{name}: pixel size {relion_pixel} (RELION) vs {pixel}"
    );
    let mut worst: f64 = 0.0;
    for (coordinate, theirs) in COORDINATES.iter().zip(&relion) {
        let mut random = SplitMix64::new(0);
        let ours = extract_particle(mic, PIXEL_SIZE, *coordinate, &settings, &mut random).unwrap();
        assert_eq!(ours.n(), settings.output_size());
        assert_eq!(
            ours.data().len(),
            theirs.len(),
            "{name}: box at {coordinate:?}"
        );
        assert_eq!(ours.pixel_size(), pixel);
        let n = theirs.len() as f64;
        let mean = theirs.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let std = (theirs
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        let diff = ours
            .data()
            .iter()
            .zip(theirs)
            .map(|(a, b)| f64::from((a - b).abs()))
            .fold(0.0, f64::max);
        worst = worst.max(diff / std);
    }
    eprintln!("{name}: max |cryoflux − RELION| / stddev = {worst:.3e}");
    assert!(
        worst < TOLERANCE,
        "{name}: max relative difference {worst:.3e}"
    );
    worst
}

#[test]
fn extraction_matches_relion_preprocess_pixel_for_pixel() {
    if !have_tool("relion_preprocess") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mic = micrograph();
    write_inputs(dir.path(), &mic, &COORDINATES);
    let plain = ExtractSettings::plain(64);
    let norm = Normalisation::with_radius(20.0);
    let cases: Vec<(&str, Vec<&str>, ExtractSettings)> = vec![
        ("plain", vec![], plain),
        (
            "bias",
            vec!["--extract_bias_x", "1", "--extract_bias_y", "-2"],
            ExtractSettings {
                bias_px: [1, -2],
                ..plain
            },
        ),
        (
            "invert",
            vec!["--invert_contrast"],
            ExtractSettings {
                invert_contrast: true,
                ..plain
            },
        ),
        (
            "norm",
            vec!["--norm", "--bg_radius", "20"],
            ExtractSettings {
                normalisation: Some(norm),
                ..plain
            },
        ),
        (
            "norm_no_ramp",
            vec!["--norm", "--no_ramp", "--bg_radius", "20"],
            ExtractSettings {
                normalisation: Some(Normalisation {
                    ramp: false,
                    ..norm
                }),
                ..plain
            },
        ),
        (
            "scale_down",
            vec!["--scale", "48"],
            ExtractSettings {
                scale: Some(48),
                ..plain
            },
        ),
        (
            "scale_up",
            vec!["--scale", "80"],
            ExtractSettings {
                scale: Some(80),
                ..plain
            },
        ),
        (
            "scale_norm_invert",
            vec![
                "--scale",
                "48",
                "--norm",
                "--bg_radius",
                "15",
                "--invert_contrast",
            ],
            ExtractSettings {
                scale: Some(48),
                normalisation: Some(Normalisation::with_radius(15.0)),
                invert_contrast: true,
                ..plain
            },
        ),
        (
            "window_norm",
            vec!["--window", "80", "--norm", "--bg_radius", "20"],
            ExtractSettings {
                window: Some(80),
                normalisation: Some(norm),
                ..plain
            },
        ),
    ];
    for (name, mut flags, settings) in cases {
        flags.splice(0..0, ["--extract_size", "64"]);
        compare(dir.path(), &mic, name, &flags, settings);
    }
}

#[test]
fn a_box_entirely_outside_the_micrograph_stops_relion_and_is_refused_by_the_kernel() {
    if !have_tool("relion_preprocess") {
        return;
    }
    let mic = micrograph();
    // 332 + 32 − 64 = 300: the first box column is just past the last micrograph column.
    for (coordinate, overlaps) in [([331.9, 100.0], true), ([332.0, 100.0], false)] {
        let dir = tempfile::tempdir().unwrap();
        write_inputs(dir.path(), &mic, &[coordinate]);
        let output = std::process::Command::new("relion_preprocess")
            .args(preprocess_args(
                "out/",
                "out.star",
                &["--extract_size", "64"],
            ))
            .current_dir(dir.path())
            .output()
            .unwrap();
        let text =
            String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            text.contains("lies completely outside"),
            !overlaps,
            "RELION at {coordinate:?}:\n{text}"
        );
        let ours = extract_particle(
            &mic,
            PIXEL_SIZE,
            coordinate,
            &ExtractSettings::plain(64),
            &mut SplitMix64::new(0),
        );
        match ours {
            Ok(_) => assert!(overlaps, "{coordinate:?} extracted"),
            Err(ExtractError::OutsideMicrograph { .. }) => {
                assert!(!overlaps, "{coordinate:?} refused")
            }
            Err(e) => panic!("{coordinate:?}: {e}"),
        }
    }
}
