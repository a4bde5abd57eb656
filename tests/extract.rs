//! `cryoflux extract` end to end.
//!
//! - Side by side with RELION 3.1.3's `relion_preprocess --extract` on the same pipeline-shaped
//!   project (two random 300 × 260 px micrographs with a ramp at 1.5 Å under
//!   `MotionCorr/job002/Movies/`, a `micrographs_ctf.star` with CTF columns, coordinate files
//!   under `AutoPick/job005/Movies/` with an extra column and boxes across every edge): the same
//!   files, the same `particles.star` (optics block, labels in order, coordinates, image names,
//!   micrograph names, CTF and other columns) and the same pixels (max |Δ| < 1e-4 of each
//!   RELION image's stddev) for plain boxes, `--extract_bias_x/y`, `--invert_contrast`,
//!   `--norm` (with and without `--no_ramp`, with `--invert_contrast`), `--scale` down and up
//!   (and with `--norm`), `--window` with `--norm`, and re-extraction of a data STAR file with
//!   non-zero origins with `--recenter --scale`. A box entirely outside its micrograph stops
//!   RELION; cryoflux reports and skips it.
//! - Ground truth: `cryoflux simulate` movies aligned by `cryoflux motioncorr`, extracted at
//!   the simulated picks: every particle is extracted and their average, normalised and
//!   inverted, has a positive central blob, absent at picks moved away from the particles.
//! - Bad input (no RELION needed): a missing coordinate file, an unreadable micrograph and one
//!   with a NaN pixel are reported and skipped while the good micrograph is extracted; the same
//!   result for any `--j`, `--float16` stacks, `--only_do_unfinished` reuse.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use cryoflux_formats::mrc::{MrcFile, WriteMode, write_volume};
use cryoflux_formats::star::{ColumnData, StarFile, Table};
use cryoflux_kernels::grid::Plane;
use cryoflux_kernels::random::SplitMix64;

const WIDTH: usize = 300;
const HEIGHT: usize = 260;
const PIXEL_SIZE: f64 = 1.5;
/// Largest accepted |cryoflux − RELION| per image, relative to the RELION image's stddev.
const TOLERANCE: f64 = 1e-4;
const MICROGRAPHS: [&str; 2] = [
    "MotionCorr/job002/Movies/mic1.mrc",
    "MotionCorr/job002/Movies/mic2.mrc",
];

/// Picks (px) with boxes of 64 across every edge of a 300 × 260 micrograph.
const COORDINATES: [[f64; 2]; 10] = [
    [100.0, 100.0],
    [100.5, 120.5],
    [150.51, 130.5],
    [-0.5, 50.0],
    [5.0, 200.0],
    [299.0, 259.0],
    [310.0, 100.0],
    [150.0, -3.0],
    [-1.5, 90.0],
    [330.9, 290.0],
];

/// Keyed N(0, 1) noise plus a ramp and an offset (micrograph `seed`).
fn micrograph(seed: u64) -> Plane {
    let mut random = SplitMix64::keyed(11, &[seed]);
    let mut mic = Plane::from_fn(WIDTH, HEIGHT, |x, y| {
        (3.0 + 0.01 * x as f64 - 0.02 * y as f64) as f32
    });
    mic.data_mut()
        .iter_mut()
        .for_each(|v| *v += random.next_normal() as f32);
    mic
}

fn write_micrograph(path: &Path, mic: &Plane) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    write_volume(
        path,
        mic.data(),
        [mic.width(), mic.height(), 1],
        PIXEL_SIZE as f32,
        WriteMode::Float32,
    )
    .unwrap();
}

/// A RELION 3.1 micrographs_ctf.star listing `names` (each with its own CTF).
fn micrographs_star(names: &[&str]) -> String {
    let mut text = String::from(
        "data_optics\nloop_\n_rlnOpticsGroupName #1\n_rlnOpticsGroup #2\n\
         _rlnMicrographOriginalPixelSize #3\n_rlnVoltage #4\n_rlnSphericalAberration #5\n\
         _rlnAmplitudeContrast #6\n_rlnMicrographPixelSize #7\n\
         opticsGroup1 1 0.75 300 2.7 0.1 1.5\n\n\
         data_micrographs\nloop_\n_rlnMicrographName #1\n_rlnOpticsGroup #2\n\
         _rlnCtfImage #3\n_rlnDefocusU #4\n_rlnDefocusV #5\n_rlnCtfAstigmatism #6\n\
         _rlnDefocusAngle #7\n_rlnCtfFigureOfMerit #8\n_rlnCtfMaxResolution #9\n",
    );
    for (i, name) in names.iter().enumerate() {
        let d = 10000.0 + 5000.0 * i as f64;
        text += &format!(
            "{name} 1 {name}.ctf:mrc {d} {} 500 {} 0.{} {}\n",
            d - 500.0,
            30.0 - 45.0 * i as f64,
            i + 1,
            4.5 + i as f64
        );
    }
    text
}

/// Coordinate file text: `coordinates` with a figure of merit per pick.
fn picks_star(coordinates: &[[f64; 2]]) -> String {
    let mut text = String::from(
        "data_\nloop_\n_rlnCoordinateX #1\n_rlnCoordinateY #2\n_rlnAutopickFigureOfMerit #3\n",
    );
    for (i, [x, y]) in coordinates.iter().enumerate() {
        text += &format!("{x} {y} {}\n", 0.1 * i as f64);
    }
    text
}

/// The pipeline-shaped project of the side-by-side tests in `dir`.
fn write_project(dir: &Path) {
    for (i, name) in MICROGRAPHS.iter().enumerate() {
        write_micrograph(&dir.join(name), &micrograph(i as u64));
        let picks = dir.join(format!("AutoPick/job005/Movies/mic{}_pick.star", i + 1));
        std::fs::create_dir_all(picks.parent().unwrap()).unwrap();
        // The second micrograph gets fewer picks, so the stacks differ in length.
        std::fs::write(picks, picks_star(&COORDINATES[..COORDINATES.len() - 2 * i])).unwrap();
    }
    std::fs::write(
        dir.join("micrographs_ctf.star"),
        micrographs_star(&MICROGRAPHS),
    )
    .unwrap();
}

/// Runs `cryoflux extract` in `dir` with `args`, panicking with its stderr on failure; returns
/// stderr (the log).
fn extract_in(dir: &Path, args: &[&str]) -> String {
    let output = cryoflux()
        .arg("extract")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "cryoflux extract {args:?} failed:\n{log}"
    );
    log
}

/// `--i`, coordinates and outputs into `<out>/` for both programs, then `extra`.
fn common_args<'a>(out: &'a str, star: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--i",
        "micrographs_ctf.star",
        "--part_dir",
        out,
        "--part_star",
        star,
        "--extract",
    ];
    args.extend_from_slice(extra);
    args
}

/// The `data_optics` and `data_particles` tables of a particle STAR file.
fn particle_tables(path: &Path) -> (Table, Table) {
    let star = StarFile::read(path).unwrap();
    let table = |name: &str| star.block(name).unwrap().table.clone().unwrap();
    (table("optics"), table("particles"))
}

/// The image `NNNNNN@stack` (relative to `dir`).
fn read_image_name(dir: &Path, name: &str) -> Vec<f32> {
    let (index, stack) = name.split_once('@').unwrap();
    let index: usize = index.parse().unwrap();
    MrcFile::open(dir.join(stack))
        .unwrap()
        .read_image(index - 1)
        .unwrap()
}

/// Largest |a − b| relative to b's stddev.
fn relative_difference(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let n = b.len() as f64;
    let mean = b.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let std = (b
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from((x - y).abs()))
        .fold(0.0, f64::max)
        / std
}

/// Checks two tables cell by cell (numbers to 1e-6 relative, as RELION prints 6 decimals), with
/// `rlnImageName`'s directory `ours_dir`/`relion_dir` swapped.
fn assert_same_table(ours: &Table, relion: &Table, ours_dir: &str, relion_dir: &str, what: &str) {
    let labels = |t: &Table| {
        t.columns()
            .iter()
            .map(|c| c.label.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(labels(ours), labels(relion), "{what}: labels");
    assert_eq!(ours.rows(), relion.rows(), "{what}: rows");
    for (a, b) in ours.columns().iter().zip(relion.columns()) {
        match (&a.data, &b.data) {
            (ColumnData::Float(x), ColumnData::Float(y)) => {
                for (row, (u, v)) in x.iter().zip(y).enumerate() {
                    assert!(
                        (u - v).abs() <= 1e-6 * v.abs().max(1.0),
                        "{what}: {} row {row}: {u} vs {v}",
                        a.label
                    );
                }
            }
            (ColumnData::Text(x), ColumnData::Text(y)) => {
                let x: Vec<String> = x.iter().map(|s| s.replace(ours_dir, relion_dir)).collect();
                assert_eq!(&x, y, "{what}: {}", a.label);
            }
            (x, y) => assert_eq!(x, y, "{what}: {}", a.label),
        }
    }
}

/// Extracts with both programs into `cf_<name>/` and `relion_<name>/` and compares files,
/// tables and pixels; returns the largest relative pixel difference.
fn compare(dir: &Path, name: &str, flags: &[&str]) -> f64 {
    let (ours_dir, relion_dir) = (format!("cf_{name}/"), format!("relion_{name}/"));
    let (ours_star, relion_star) = (
        format!("{ours_dir}particles.star"),
        format!("{relion_dir}particles.star"),
    );
    run_tool(
        dir,
        "relion_preprocess",
        &common_args(&relion_dir, &relion_star, flags),
    );
    extract_in(dir, &common_args(&ours_dir, &ours_star, flags));
    for stem in ["Movies/mic1", "Movies/mic2"] {
        for suffix in [".mrcs", "_extract.star"] {
            assert!(
                dir.join(format!("{ours_dir}{stem}{suffix}")).exists(),
                "{name}: {stem}{suffix}"
            );
        }
    }
    assert!(dir.join(format!("{ours_dir}particles.parquet")).exists());
    let (our_optics, ours) = particle_tables(&dir.join(&ours_star));
    let (relion_optics, theirs) = particle_tables(&dir.join(&relion_star));
    assert_same_table(
        &our_optics,
        &relion_optics,
        "",
        "",
        &format!("{name} optics"),
    );
    assert_same_table(
        &ours,
        &theirs,
        &ours_dir,
        &relion_dir,
        &format!("{name} particles"),
    );
    let mut worst: f64 = 0.0;
    for (a, b) in ours
        .texts("rlnImageName")
        .unwrap()
        .iter()
        .zip(theirs.texts("rlnImageName").unwrap())
    {
        let diff = relative_difference(&read_image_name(dir, a), &read_image_name(dir, b));
        worst = worst.max(diff);
    }
    eprintln!(
        "{name}: {} particles, max |cryoflux − RELION| / stddev = {worst:.3e}",
        ours.rows()
    );
    assert!(worst < TOLERANCE, "{name}: {worst:.3e}");
    worst
}

#[test]
fn extract_matches_relion_preprocess_side_by_side() {
    if !have_tool("relion_preprocess") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write_project(dir.path());
    let picks = [
        "--coord_dir",
        "AutoPick/job005/",
        "--coord_suffix",
        "_pick.star",
    ];
    // Every option of the kernel: bias, contrast, normalisation with and without a ramp,
    // scaling down and up (with normalisation), re-windowing.
    let cases: [(&str, &[&str]); 9] = [
        ("plain", &[]),
        ("bias", &["--extract_bias_x", "1", "--extract_bias_y", "-2"]),
        ("invert", &["--invert_contrast"]),
        (
            "norm_no_ramp",
            &["--norm", "--no_ramp", "--bg_radius", "20"],
        ),
        (
            "norm_invert",
            &["--norm", "--bg_radius", "20", "--invert_contrast"],
        ),
        ("scale", &["--scale", "48"]),
        ("scale_up", &["--scale", "80"]),
        (
            "scale_norm",
            &["--scale", "48", "--norm", "--bg_radius", "15"],
        ),
        (
            "window_norm",
            &["--window", "80", "--norm", "--bg_radius", "20"],
        ),
    ];
    for (name, flags) in cases {
        let size = ["--extract_size", "64"];
        compare(dir.path(), name, &[&picks[..], &size[..], flags].concat());
    }
    // Re-extraction: a refined data STAR (origins in Å, poses, its own CTFs, particles listed
    // out of micrograph order), re-centred and binned 2×.
    let data = "data_optics\nloop_\n_rlnOpticsGroupName #1\n_rlnOpticsGroup #2\n\
        _rlnMicrographOriginalPixelSize #3\n_rlnVoltage #4\n_rlnSphericalAberration #5\n\
        _rlnAmplitudeContrast #6\n_rlnImagePixelSize #7\n_rlnImageSize #8\n\
        _rlnImageDimensionality #9\nopticsGroup1 1 0.75 300 2.7 0.1 1.5 64 2\n\n\
        data_particles\nloop_\n_rlnCoordinateX #1\n_rlnCoordinateY #2\n_rlnImageName #3\n\
        _rlnMicrographName #4\n_rlnOpticsGroup #5\n_rlnDefocusU #6\n_rlnDefocusV #7\n\
        _rlnDefocusAngle #8\n_rlnAngleRot #9\n_rlnAngleTilt #10\n_rlnAnglePsi #11\n\
        _rlnOriginXAngst #12\n_rlnOriginYAngst #13\n_rlnRandomSubset #14\n\
        120.5 110.2 1@Old/job007/Movies/mic2.mrcs MotionCorr/job002/Movies/mic2.mrc 1 15000 14000 10 10 20 30 3.0 -4.5 1\n\
        100 100 2@Old/job007/Movies/mic1.mrcs MotionCorr/job002/Movies/mic1.mrc 1 11000 11000 5 40 50 60 0.75 -0.75 2\n\
        150 130 1@Old/job007/Movies/mic1.mrcs MotionCorr/job002/Movies/mic1.mrc 1 12000 11500 6 70 80 90 2.3 -2.3 1\n\
        2.5 250 3@Old/job007/Movies/mic1.mrcs MotionCorr/job002/Movies/mic1.mrc 1 12000 11500 6 70 80 90 -5.25 5.25 2\n";
    std::fs::write(dir.path().join("data.star"), data).unwrap();
    compare(
        dir.path(),
        "reextract",
        &[
            "--reextract_data_star",
            "data.star",
            "--recenter",
            "--extract_size",
            "64",
            "--scale",
            "32",
        ],
    );
    let (_, ours) = particle_tables(&dir.path().join("cf_reextract/particles.star"));
    // Re-centred at 1.5 Å/px: (100, 100) with origin (0.75, −0.75) Å → (99, 101), (−0.75, 0.75) Å.
    assert_eq!(ours.floats("rlnCoordinateX").unwrap()[0], 99.0);
    assert_eq!(ours.floats("rlnOriginXAngst").unwrap()[0], -0.75);
    assert_eq!(
        ours.floats("rlnDefocusU").unwrap()[0],
        11000.0,
        "data STAR CTF kept"
    );
}

#[test]
fn a_box_entirely_outside_stops_relion_and_is_skipped_by_cryoflux() {
    if !have_tool("relion_preprocess") {
        return;
    }
    // 332 + 32 − 64 = 300: the first box column is just past the last micrograph column.
    for (x, overlaps) in [(331.9, true), (332.0, false)] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write_micrograph(&d.join(MICROGRAPHS[0]), &micrograph(0));
        std::fs::write(
            d.join("micrographs_ctf.star"),
            micrographs_star(&MICROGRAPHS[..1]),
        )
        .unwrap();
        let picks = d.join("AutoPick/job005/Movies/mic1_pick.star");
        std::fs::create_dir_all(picks.parent().unwrap()).unwrap();
        std::fs::write(&picks, picks_star(&[[100.0, 100.0], [x, 100.0]])).unwrap();
        let flags = [
            "--coord_dir",
            "AutoPick/job005/",
            "--coord_suffix",
            "_pick.star",
            "--extract_size",
            "64",
        ];
        let output = Command::new("relion_preprocess")
            .args(common_args("relion/", "relion/particles.star", &flags))
            .current_dir(d)
            .output()
            .unwrap();
        let text =
            String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            text.contains("lies completely outside"),
            !overlaps,
            "RELION at {x}:\n{text}"
        );
        let log = extract_in(d, &common_args("cf/", "cf/particles.star", &flags));
        assert_eq!(log.contains("lies completely outside"), !overlaps, "{log}");
        let (_, particles) = particle_tables(&d.join("cf/particles.star"));
        assert_eq!(particles.rows(), if overlaps { 2 } else { 1 });
    }
}

/// Mean of the pixels of a `n` × `n` image within (`inside`) or beyond radius `r` px of n/2.
fn disc_mean(image: &[f64], n: usize, r: f64, inside: bool) -> f64 {
    let half = (n / 2) as f64;
    let (mut sum, mut count) = (0.0, 0.0);
    for (i, v) in image.iter().enumerate() {
        let (x, y) = ((i % n) as f64 - half, (i / n) as f64 - half);
        if ((x * x + y * y).sqrt() < r) == inside {
            sum += v;
            count += 1.0;
        }
    }
    sum / count
}

/// The average of every particle of a stack directory's particles.star.
fn average_particle(dir: &Path, star: &str, n: usize) -> (Vec<f64>, usize) {
    let (_, particles) = particle_tables(&dir.join(star));
    let names = particles.texts("rlnImageName").unwrap();
    let mut sum = vec![0.0; n * n];
    for name in names {
        for (s, v) in sum.iter_mut().zip(read_image_name(dir, name)) {
            *s += f64::from(v);
        }
    }
    sum.iter_mut().for_each(|s| *s /= names.len() as f64);
    (sum, names.len())
}

#[test]
fn extracted_simulated_particles_average_to_a_positive_blob() {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulated_micrographs(dir.path(), &[]);
    // RELION's layout: coordinates of MotionCorr/job002/movies/movieNNN.mrc are looked for as
    // <coord_dir>movies/movieNNN<suffix>.
    std::fs::create_dir_all(sim.join("Picks/movies")).unwrap();
    let mut picks = 0;
    let mut shifted_dir = sim.join("Shifted/movies");
    std::fs::create_dir_all(&shifted_dir).unwrap();
    for entry in std::fs::read_dir(sim.join("coordinates")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_owned();
        std::fs::copy(&path, sim.join("Picks/movies").join(&name)).unwrap();
        // The control: every pick moved by 20 px (beyond the 48 px particle's radius of ~13 px
        // but not onto a neighbour's centre on average).
        let star = StarFile::read(&path).unwrap();
        let mut star_shifted = star.clone();
        let table = star_shifted.blocks[0].table.as_mut().unwrap();
        picks += table.rows();
        let x: Vec<f64> = table
            .floats("rlnCoordinateX")
            .unwrap()
            .iter()
            .map(|v| v + 20.0)
            .collect();
        table.set_column(cryoflux_formats::star::Column::floats("rlnCoordinateX", x));
        star_shifted.write(&shifted_dir.join(&name)).unwrap();
    }
    shifted_dir.pop();
    let base = [
        "--i",
        "MotionCorr/job002/corrected_micrographs.star",
        "--coord_suffix",
        "_pick.star",
        "--extract",
        "--extract_size",
        "64",
        "--norm",
        "--bg_radius",
        "24",
        "--invert_contrast",
        "--j",
        "2",
    ];
    extract_in(
        &sim,
        &[
            &base[..],
            &[
                "--coord_dir",
                "Picks/",
                "--part_dir",
                "Extract/",
                "--part_star",
                "Extract/particles.star",
            ],
        ]
        .concat(),
    );
    extract_in(
        &sim,
        &[
            &base[..],
            &[
                "--coord_dir",
                "Shifted/",
                "--part_dir",
                "Control/",
                "--part_star",
                "Control/particles.star",
            ],
        ]
        .concat(),
    );
    let (average, count) = average_particle(&sim, "Extract/particles.star", 64);
    assert_eq!(count, picks, "every simulated pick is extracted");
    let (control, _) = average_particle(&sim, "Control/particles.star", 64);
    let contrast =
        |image: &[f64]| disc_mean(image, 64, 8.0, true) - disc_mean(image, 64, 24.0, false);
    // Per-pixel noise of an average of ~100 unit-stddev boxes is ~0.1, so a disc of ~200 px
    // has a mean known to ~0.01.
    let (blob, control_blob) = (contrast(&average), contrast(&control));
    eprintln!(
        "{count} particles: central disc − background = {blob:.4} (control {control_blob:.4})"
    );
    assert!(blob > 0.05, "no positive central blob: {blob}");
    assert!(
        blob > 3.0 * control_blob.abs(),
        "blob {blob} vs control {control_blob}"
    );
}

#[test]
fn bad_micrographs_are_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let names = [
        "Mics/good.mrc",
        "Mics/no_coordinates.mrc",
        "Mics/unreadable.mrc",
        "Mics/nan.mrc",
    ];
    write_micrograph(&d.join(names[0]), &micrograph(0));
    write_micrograph(&d.join(names[1]), &micrograph(1));
    std::fs::write(d.join(names[2]), b"not an MRC file").unwrap();
    // Our MRC writer refuses NaN, so the pixel (7, 5) is patched in after the 1024-byte header.
    write_micrograph(&d.join(names[3]), &micrograph(2));
    let mut bytes = std::fs::read(d.join(names[3])).unwrap();
    let at = 1024 + 4 * (5 * WIDTH + 7);
    bytes[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(d.join(names[3]), bytes).unwrap();
    std::fs::write(d.join("mics.star"), micrographs_star(&names)).unwrap();
    for name in [names[0], names[2], names[3]] {
        let stem = name.trim_end_matches(".mrc");
        std::fs::write(
            d.join(format!("{stem}_pick.star")),
            picks_star(&COORDINATES),
        )
        .unwrap();
    }
    // An 11th pick whose box lies entirely outside: skipped, not fatal.
    let mut coordinates = COORDINATES.to_vec();
    coordinates.push([400.0, 100.0]);
    std::fs::write(d.join("Mics/good_pick.star"), picks_star(&coordinates)).unwrap();
    let run = |out: &str, extra: &[&str]| {
        let star = format!("{out}/particles.star");
        let mut args = vec![
            "--i",
            "mics.star",
            "--coord_suffix",
            "_pick.star",
            "--part_dir",
            out,
            "--part_star",
            &star,
            "--extract",
            "--extract_size",
            "64",
            "--norm",
            "--bg_radius",
            "20",
            "--white_dust",
            "1.5",
            "--black_dust",
            "1.5",
        ];
        args.extend_from_slice(extra);
        extract_in(d, &args)
    };
    let log = run("one", &["--j", "1"]);
    for (name, why) in [
        (names[1], "no_coordinates_pick.star does not exist"),
        (names[2], "cannot read micrograph"),
        (names[3], "non-finite pixel (NaN) at (x, y) = (7, 5)"),
        (names[0], "lies completely outside"),
    ] {
        assert!(
            log.contains(name) && log.contains(why),
            "{name}: {why} missing from\n{log}"
        );
    }
    let (_, particles) = particle_tables(&d.join("one/particles.star"));
    assert_eq!(particles.rows(), COORDINATES.len());
    assert!(
        particles
            .texts("rlnMicrographName")
            .unwrap()
            .iter()
            .all(|n| n == names[0])
    );
    let stack = |out: &str| std::fs::read(d.join(format!("{out}/Mics/good.mrcs"))).unwrap();
    // Dust replacements come from keyed streams: byte-identical stacks for any --j.
    run("three", &["--j", "3"]);
    assert_eq!(stack("one"), stack("three"));
    // --float16: mode 12, the same values to half precision.
    run("half", &["--float16"]);
    let (full, half) = (
        MrcFile::open(d.join("one/Mics/good.mrcs")).unwrap(),
        MrcFile::open(d.join("half/Mics/good.mrcs")).unwrap(),
    );
    assert_eq!(half.mode().code(), 12);
    let (a, b) = (full.read_all().unwrap(), half.read_all().unwrap());
    assert!(
        a.iter()
            .zip(&b)
            .all(|(x, y)| (x - y).abs() <= 1e-3 * x.abs().max(1.0))
    );
    // --only_do_unfinished reuses the good micrograph's output even once it is gone.
    std::fs::remove_file(d.join(names[0])).unwrap();
    let log = run("one", &["--only_do_unfinished"]);
    assert!(log.contains("1 reused"), "{log}");
    let (_, again) = particle_tables(&d.join("one/particles.star"));
    assert_eq!(again, particles);
    // Nothing extractable at all is an error naming the cause.
    let output = Command::new(env!("CARGO_BIN_EXE_cryoflux"))
        .args([
            "extract",
            "--i",
            "mics.star",
            "--coord_suffix",
            "_pick.star",
            "--part_star",
            "none/particles.star",
            "--extract",
            "--extract_size",
            "64",
        ])
        .current_dir(d)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && log.contains("failed"), "{log}");
}
