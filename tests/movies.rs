//! End to end, movies in: `cryoflux simulate --movies` → `cryoflux import --do_movies` →
//! `cryoflux motioncorr`, checked against the simulation's truth (global drift), against
//! RELION 3.1.3's `relion_run_motioncorr --use_own` on the same movies (same shifts), for
//! independence of the worker count, and for bad movies being reported and skipped.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use cryoflux_formats::movie::{TiffCompression, TiffSample, write_tiff_stack};
use cryoflux_formats::mrc::{MrcStackWriter, WriteMode};
use cryoflux_formats::star::StarFile;

/// Runs cryoflux in `dir` with `args`.
fn cryoflux_in(dir: &Path, args: &[&str]) -> Output {
    cryoflux()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("cryoflux runs")
}

/// Runs cryoflux in `dir` and panics with its stderr unless it succeeds; returns stderr (the log).
fn cryoflux_in_ok(dir: &Path, args: &[&str]) -> String {
    let out = cryoflux_in(dir, args);
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "cryoflux {args:?} failed:\n{log}");
    log
}

/// A simulation of `movies` small movies (256² px, 12 frames) in `dir/sim`, with ice contrast
/// strong enough that so small a movie can be aligned (`extra`: more simulate flags).
fn simulate(dir: &Path, movies: usize, extra: &[&str]) -> PathBuf {
    let count = movies.to_string();
    let mut args = vec![
        "simulate",
        "--movies",
        &count,
        "--movie_size",
        "256",
        "--frames",
        "12",
        "--particles_per_micrograph",
        "12",
        "--ice_contrast",
        "0.2",
        "--ice_length",
        "20",
        "--o",
        "sim",
        "--seed",
        "3",
    ];
    args.extend_from_slice(extra);
    cryoflux_in_ok(dir, &args);
    dir.join("sim")
}

/// Column `label` of table `block` of a STAR file.
fn floats(path: &Path, block: &str, label: &str) -> Vec<f64> {
    let star = StarFile::read(path).unwrap();
    let table = star.block(block).and_then(|b| b.table.as_ref()).unwrap();
    table
        .floats(label)
        .unwrap_or_else(|| panic!("{}: no {label}", path.display()))
        .to_vec()
}

/// Text column `label` of table `block` of a STAR file.
fn texts(path: &Path, block: &str, label: &str) -> Vec<String> {
    let star = StarFile::read(path).unwrap();
    let table = star.block(block).and_then(|b| b.table.as_ref()).unwrap();
    table.texts(label).unwrap().to_vec()
}

/// Global shifts (px) of a motion-correction metadata file, one [x, y] per frame.
fn shifts(path: &Path) -> Vec<[f64; 2]> {
    let x = floats(path, "global_shift", "rlnMicrographShiftX");
    let y = floats(path, "global_shift", "rlnMicrographShiftY");
    x.into_iter().zip(y).map(|(x, y)| [x, y]).collect()
}

/// RMS distance (px) between two shift tracks.
fn rms(a: &[[f64; 2]], b: &[[f64; 2]]) -> f64 {
    assert_eq!(a.len(), b.len());
    let sum: f64 = a
        .iter()
        .zip(b)
        .map(|(p, q)| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2))
        .sum();
    (sum / a.len() as f64).sqrt()
}

/// Writes a two-frame float32 MRC movie whose second frame has a NaN at pixel 1000 (the writer
/// refuses NaN, so a marker value is written and its bytes replaced).
fn write_nan_movie(path: &Path, frame: &[f32]) {
    let marker = 12345.5f32;
    let mut second = frame.to_vec();
    second[1000] = marker;
    let mut writer = MrcStackWriter::create(path, 256, 256, 1.8, WriteMode::Float32).unwrap();
    writer.push(frame).unwrap();
    writer.push(&second).unwrap();
    writer.finish().unwrap();
    let mut bytes = std::fs::read(path).unwrap();
    let at = bytes
        .windows(4)
        .rposition(|w| w == marker.to_le_bytes())
        .unwrap();
    bytes[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn movies_become_micrographs_that_follow_the_true_drift_for_any_worker_count() {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulate(dir.path(), 2, &[]);
    cryoflux_in_ok(
        &sim,
        &[
            "import",
            "--do_movies",
            "--i",
            "movies/*.tif",
            "--odir",
            "Import/job001/",
            "--angpix",
            "1.8",
        ],
    );
    let imported = sim.join("Import/job001/movies.star");
    assert_eq!(
        texts(&imported, "movies", "rlnMicrographMovieName"),
        texts(&sim.join("movies.star"), "movies", "rlnMicrographMovieName")
    );
    let correct = |out: &str, threads: &str| {
        cryoflux_in_ok(
            &sim,
            &[
                "motioncorr",
                "--i",
                "Import/job001/movies.star",
                "--o",
                out,
                "--gainref",
                "gain.mrc",
                "--dose_weighting",
                "--save_noDW",
                "--j",
                threads,
            ],
        )
    };
    let log = correct("MotionCorr/job002/", "1");
    correct("MotionCorr/two/", "2");
    let star = sim.join("MotionCorr/job002/corrected_micrographs.star");
    let names = texts(&star, "micrographs", "rlnMicrographName");
    assert_eq!(
        names,
        [
            "MotionCorr/job002/movies/movie001.mrc",
            "MotionCorr/job002/movies/movie002.mrc"
        ]
    );
    assert_eq!(floats(&star, "optics", "rlnMicrographPixelSize"), [1.8]);
    for name in ["movie001", "movie002"] {
        for suffix in [".mrc", "_noDW.mrc", ".star"] {
            let one = std::fs::read(sim.join(format!("MotionCorr/job002/movies/{name}{suffix}")))
                .unwrap();
            let two =
                std::fs::read(sim.join(format!("MotionCorr/two/movies/{name}{suffix}"))).unwrap();
            assert!(one == two, "{name}{suffix} differs between --j 1 and --j 2");
        }
        let ours = shifts(&sim.join(format!("MotionCorr/job002/movies/{name}.star")));
        let truth = shifts(&sim.join(format!("truth/motion/{name}.star")));
        let error = rms(&ours, &truth);
        let still = rms(&vec![[0.0, 0.0]; truth.len()], &truth);
        eprintln!("{name}: global-shift RMS error {error:.3} px (drift RMS {still:.3} px)");
        assert!(
            error < 0.3 * still,
            "{name}: error {error:.3} px vs drift {still:.3} px"
        );
        // The sum without dose weighting keeps the dose: 12 frames × 1 e/Å² × (1.8 Å)² per pixel.
        let (plain, _, pixel) =
            read_mrc(&sim.join(format!("MotionCorr/job002/movies/{name}_noDW.mrc")));
        let mean = plain.iter().map(|&v| f64::from(v)).sum::<f64>() / plain.len() as f64;
        assert!(
            (mean / (12.0 * 1.8 * 1.8) - 1.0).abs() < 0.05,
            "{name}: mean {mean}"
        );
        assert_eq!(pixel, 1.8);
    }
    assert!(log.contains("4 hot pixels"), "{log}");
}

#[test]
fn relion_run_motioncorr_finds_the_same_shifts() {
    if !have_tool("relion_run_motioncorr") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // No hot pixels, so that RELION's random replacement values do not enter the comparison.
    let sim = simulate(dir.path(), 2, &["--hot_pixels", "0"]);
    let common = [
        "--skip_defect",
        "--i",
        "movies.star",
        "--gainref",
        "gain.mrc",
        "--dose_weighting",
        "--angpix",
        "1.8",
        "--voltage",
        "300",
        "--dose_per_frame",
        "1",
    ];
    let mut ours = vec!["motioncorr", "--o", "MotionCorr/cryoflux/"];
    ours.extend(common);
    cryoflux_in_ok(&sim, &ours);
    let mut relion = vec!["--o", "MotionCorr/relion/", "--use_own", "--j", "1"];
    relion.extend(common);
    run_tool(&sim, "relion_run_motioncorr", &relion);
    for name in ["movie001", "movie002"] {
        let ours = shifts(&sim.join(format!("MotionCorr/cryoflux/movies/{name}.star")));
        let theirs = shifts(&sim.join(format!("MotionCorr/relion/movies/{name}.star")));
        let worst = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (a[0] - b[0]).abs().max((a[1] - b[1]).abs()))
            .fold(0.0, f64::max);
        eprintln!("{name}: largest shift difference from RELION {worst:.5} px");
        assert!(worst < 0.01, "{name}: {worst} px from RELION's shifts");
        let (a, _, _) = read_mrc(&sim.join(format!("MotionCorr/cryoflux/movies/{name}.mrc")));
        let (b, _, _) = read_mrc(&sim.join(format!("MotionCorr/relion/movies/{name}.mrc")));
        let cc = correlation(&a, &b);
        eprintln!("{name}: dose-weighted micrographs correlate at {cc:.6}");
        assert!(cc > 0.999, "{name}: {cc}");
    }
}

#[test]
fn bad_movies_are_reported_and_skipped_and_bad_settings_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulate(dir.path(), 1, &[]);
    // A truncated copy, a one-frame movie and a movie with a NaN pixel.
    let good = std::fs::read(sim.join("movies/movie001.tif")).unwrap();
    std::fs::write(sim.join("movies/truncated.tif"), &good[..good.len() / 2]).unwrap();
    let frame = vec![3.0f32; 256 * 256];
    write_tiff_stack(
        &sim.join("movies/single.tif"),
        256,
        256,
        [frame.as_slice()],
        TiffSample::U8,
        TiffCompression::Lzw,
    )
    .unwrap();
    write_nan_movie(&sim.join("movies/nan.mrcs"), &frame);
    let text = std::fs::read_to_string(sim.join("movies.star")).unwrap();
    let rows = ["truncated.tif", "movie001.tif", "single.tif", "nan.mrcs"]
        .map(|m| format!("movies/{m} 1"))
        .join("\n");
    let with_bad: String = text
        .lines()
        .map(|l| {
            if l.contains("movies/movie001.tif") {
                rows.clone()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        with_bad.contains("single.tif"),
        "movies.star has the expected row"
    );
    std::fs::write(sim.join("bad.star"), with_bad).unwrap();
    let log = cryoflux_in_ok(
        &sim,
        &[
            "motioncorr",
            "--i",
            "bad.star",
            "--o",
            "MC/",
            "--gainref",
            "gain.mrc",
        ],
    );
    for (movie, why) in [
        ("truncated.tif", "truncated"),
        ("single.tif", "at least two frames"),
        ("nan.mrcs", "NaN"),
    ] {
        let line = log
            .lines()
            .find(|l| l.contains(&format!("skipped movies/{movie}")))
            .unwrap_or_else(|| panic!("{movie} not reported:\n{log}"));
        assert!(line.contains(why), "{line}");
        let stem = movie.split('.').next().unwrap_or(movie);
        assert!(
            !sim.join(format!("MC/movies/{stem}.mrc")).exists(),
            "{movie}"
        );
    }
    let names = texts(
        &sim.join("MC/corrected_micrographs.star"),
        "micrographs",
        "rlnMicrographName",
    );
    assert_eq!(names, ["MC/movies/movie001.mrc"]);

    // A gain reference of another size fails every movie: the run fails and names the gain.
    let small = vec![1.0f32; 128 * 128];
    write_tiff_stack(
        &sim.join("small_gain.tif"),
        128,
        128,
        [small.as_slice()],
        TiffSample::F32,
        TiffCompression::None,
    )
    .unwrap();
    let out = cryoflux_in(
        &sim,
        &[
            "motioncorr",
            "--i",
            "movies.star",
            "--o",
            "G/",
            "--gainref",
            "small_gain.tif",
        ],
    );
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && message.contains("gain reference"),
        "{message}"
    );
    assert!(!sim.join("G/corrected_micrographs.star").exists());
    // Missing pixel size, and dose weighting without a dose.
    std::fs::write(
        sim.join("nopix.star"),
        text.replace("_rlnMicrographOriginalPixelSize", "_rlnSomethingElse"),
    )
    .unwrap();
    let out = cryoflux_in(&sim, &["motioncorr", "--i", "nopix.star", "--o", "P/"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("rlnMicrographOriginalPixelSize"));
    let out = cryoflux_in(
        &sim,
        &[
            "motioncorr",
            "--i",
            "movies.star",
            "--o",
            "D/",
            "--dose_weighting",
            "--dose_per_frame",
            "0",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--dose_per_frame"));
}
