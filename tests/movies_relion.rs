//! Movies in, side by side with RELION 3.1.3 and against the simulation's truth: the CI-sized
//! run (2 movies of 512² px × 16 frames, SNR 1) of `tools/relion_movies_side_by_side.sh`, which
//! motion-corrects with `relion_run_motioncorr --use_own` and `cryoflux motioncorr`, estimates
//! CTFs with `cryoflux ctffind`, extracts the simulated picks with `relion_preprocess
//! --extract` and `cryoflux extract`, reconstructs each particle set with its true poses, and
//! polishes with `relion_motion_refine` from cryoflux's motion metadata. Checked:
//! - both motion corrections are equally far from the true global drift (within 0.01 px RMS);
//! - RELION and cryoflux extract the same pixels from the same `micrographs_ctf.star`;
//! - the FSC against the true map of the reconstruction from our particles equals that from
//!   RELION's (mean |ΔFSC| over the shells < 0.01), a tolerance that extraction one pixel off
//!   (`--extract_bias_x 1`, the script's control) fails;
//! - `relion_motion_refine` accepts cryoflux's `corrected_micrographs.star`, per-movie STAR
//!   files, extracted particles and postprocess STAR: it exits 0 and writes `shiny.star` with
//!   every particle and a `_tracks.star` per movie, whose tracks follow the true particle
//!   motion (RMS error, each track's mean removed, under half the true motion's RMS).
//!
//! Skipped (with a message) without RELION or Python's numpy/mrcfile/starfile, unless
//! `CRYOFLUX_REQUIRE_INTEROP=1`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;
use cryoflux_formats::star::StarFile;

/// Largest accepted mean |ΔFSC| (over shells 1 … N/2) between two reconstructions' FSC
/// against the truth; extraction one pixel off moves it by ≈ 0.07 on this data.
const FSC_TOLERANCE: f64 = 0.01;

/// The `key=value` fields of the script's output line starting with `tag` and containing
/// every one of `with`.
fn fields(stdout: &str, tag: &str, with: &[&str]) -> BTreeMap<String, String> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(tag) && with.iter().all(|w| l.contains(w)))
        .unwrap_or_else(|| panic!("no `{tag} {with:?}` line in:\n{stdout}"));
    line.split_whitespace()
        .filter_map(|f| f.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A numeric field of [`fields`].
fn number(stdout: &str, tag: &str, with: &[&str], key: &str) -> f64 {
    fields(stdout, tag, with)[key]
        .parse()
        .unwrap_or_else(|_| panic!("{tag} {with:?}: {key} is not a number"))
}

/// Mean |a − b| over shells 1 … N/2 of two FSC curves.
fn mean_difference(a: &FscCurve, b: &FscCurve) -> f64 {
    let shells = a.values.len() - 1;
    (1..=shells)
        .map(|s| (a.values[s] - b.values[s]).abs())
        .sum::<f64>()
        / shells as f64
}

/// Rows of the `data_particles` table of a STAR file.
fn particle_rows(path: &Path) -> usize {
    StarFile::read(path)
        .unwrap()
        .block("particles")
        .and_then(|b| b.table.as_ref())
        .map_or(0, |t| t.rows())
}

#[test]
fn movies_side_by_side_with_relion_and_polished_by_relion_motion_refine() {
    let tools = [
        "relion_run_motioncorr",
        "relion_preprocess",
        "relion_motion_refine",
    ];
    if !tools.iter().all(|t| have_tool(t)) || !have_python(&["numpy", "mrcfile", "starfile"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new("sh")
        .arg(repo_file("tools/relion_movies_side_by_side.sh"))
        .arg(dir.path())
        .args(["2", "512", "16"])
        .env("CRYOFLUX", env!("CARGO_BIN_EXE_cryoflux"))
        .env("SIM_FLAGS", "--snr 1 --seed 3")
        .env("THREADS", "2")
        .env("RELION_TIMEOUT", "300")
        .output()
        .expect("sh runs the script");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "the script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{stdout}");

    for movie in ["movie001", "movie002"] {
        let movie = format!("movie={movie}");
        let ours = number(&stdout, "shift_error: cryoflux", &[&movie], "rms_px");
        let relion = number(&stdout, "shift_error: relion", &[&movie], "rms_px");
        assert!(
            (ours - relion).abs() < 0.01,
            "{movie}: RMS error vs the true drift {ours} px (cryoflux), {relion} px (RELION)"
        );
    }

    let difference = number(&stdout, "extraction:", &[], "max_rel_diff");
    assert!(difference < 1e-4, "extracted pixels differ by {difference}");
    let particles: usize = fields(&stdout, "extraction:", &[])["particles"]
        .parse()
        .unwrap();
    assert_eq!(particles, 100, "2 movies × 50 simulated picks");

    let sim = dir.path().join("sim");
    let truth = repo_file("dataflow/jobs/simulate/assets/1hpv_box48_1.8A.mrc");
    let fsc = |set: &str| cryoflux_fsc(&sim.join(format!("Reconstruct/{set}.mrc")), &truth);
    let relion = fsc("relion");
    for (set, off_by_a_pixel) in [
        ("cryoflux", false),
        ("relion_extract", false),
        ("cryoflux_bias1", true),
    ] {
        let curve = fsc(set);
        let difference = mean_difference(&curve, &relion);
        eprintln!(
            "{set}: FSC vs truth 0.143 at shell {} (RELION's particles: {}), mean |ΔFSC| {difference:.4}",
            curve.shell_0143, relion.shell_0143
        );
        assert_eq!(
            difference >= FSC_TOLERANCE,
            off_by_a_pixel,
            "{set}: mean |ΔFSC| {difference} against the reconstruction from RELION's particles"
        );
    }
    assert!(
        relion.shell_0143 >= 12,
        "the reconstruction reaches shell {} only: too weak to tell a pixel",
        relion.shell_0143
    );

    let polish = fields(&stdout, "polish:", &[]);
    assert_eq!(
        polish["exit"], "0",
        "relion_motion_refine failed: {polish:?}"
    );
    assert_eq!(particle_rows(&sim.join("Polish/shiny.star")), particles);
    for movie in ["movie001", "movie002"] {
        let tracks = sim.join(format!("Polish/movies/{movie}_tracks.star"));
        assert!(tracks.is_file(), "{} is missing", tracks.display());
    }
    // RELION's tracks from our global shifts follow the true local motion (a misread shift
    // would add the whole drift, several Å, to the error).
    let error = number(&stdout, "polish_tracks:", &[], "centred_rms_A");
    let motion = number(&stdout, "polish_tracks:", &[], "true_motion_rms_A");
    assert!(
        error < 0.5 * motion,
        "polished tracks {error} Å RMS from the truth, whose motion is {motion} Å RMS"
    );
}
