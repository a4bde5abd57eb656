//! End to end: `cryoflux refine` killed with SIGKILL after an iteration and resumed with
//! `--continue` gives byte-identical final files to an uninterrupted run, also with another
//! worker count; missing, damaged and mismatched checkpoints are refused with clear errors.
//!
//! Every run works in its own folder with the same relative output root, since the model
//! files name the output maps by path.

#[path = "../common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use cryoflux_simulate::{SimulationConfig, simulate};

/// Final files that must not depend on an interruption.
const FINAL_FILES: [&str; 3] = ["_class001.mrc", "_data.star", "_model.star"];

/// The output root of every run, relative to the run's folder.
const ROOT: &str = "Refine3D/job001/run";

/// 80 particles at SNR 0.5 with CTFs simulated from the bundled map (also the reference).
fn inputs(dir: &Path) -> (PathBuf, PathBuf) {
    let truth = bundled_map_float32(dir);
    let map = cryoflux_simulate::assets::default_map().unwrap();
    let config = SimulationConfig::typical(80, 5, 0.5);
    let summary = simulate(&map, &config, &dir.join("sim")).unwrap();
    (summary.particles_star, truth)
}

/// The refine command line of these tests (3 iterations before the final one, output root
/// [`ROOT`]), plus `extra`.
fn args(particles: &Path, reference: &Path, j: &str, extra: &[&str]) -> Vec<String> {
    let extra = [&["--iter", "3", "--j", j][..], extra].concat();
    small_refine_args(particles, reference, ROOT, &extra)
}

/// `cryoflux args` run in `folder` (created).
fn in_folder(folder: &Path, args: &[String]) -> Command {
    std::fs::create_dir_all(folder).unwrap();
    let mut command = cryoflux();
    command.args(args).current_dir(folder);
    command
}

/// Runs `cryoflux args` in `folder`; returns (success, stderr).
fn run_in(folder: &Path, args: &[String]) -> (bool, String) {
    let output = in_folder(folder, args).output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.success(), log)
}

/// `<folder>/<ROOT><suffix>`.
fn file(folder: &Path, suffix: &str) -> PathBuf {
    folder.join(format!("{ROOT}{suffix}"))
}

fn assert_same_finals(expected: &Path, actual: &Path, what: &str) {
    for suffix in FINAL_FILES {
        let read = |folder: &Path| std::fs::read(file(folder, suffix)).unwrap();
        assert!(
            read(expected) == read(actual),
            "{suffix} of {what} differs from the uninterrupted run's"
        );
    }
}

/// Starts a refinement in `folder` and kills it (SIGKILL) as soon as iteration 1's
/// checkpoint exists.
fn run_and_kill_after_iteration_1(folder: &Path, args: &[String]) {
    let mut child = in_folder(folder, args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let checkpoint = file(folder, "_it001_checkpoint.bin");
    let start = Instant::now();
    while !checkpoint.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the refinement ended ({status}) before writing {checkpoint:?}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "no {checkpoint:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !file(folder, "_class001.mrc").exists(),
        "the run was not interrupted"
    );
}

#[test]
fn a_killed_run_resumes_to_the_uninterrupted_result_with_any_worker_count() {
    let dir = tempfile::tempdir().unwrap();
    let (particles, reference) = inputs(dir.path());
    let args = |j: &str, extra: &[&str]| args(&particles, &reference, j, extra);
    let full = dir.path().join("full");
    let (ok, log) = run_in(&full, &args("1", &[]));
    assert!(ok, "{log}");
    assert!(file(&full, "_it003_checkpoint.bin").exists());
    assert!(
        !file(&full, "_it004_checkpoint.bin").exists(),
        "the final iteration writes no checkpoint"
    );

    // Killed after iteration 1, resumed from the output root.
    let killed = dir.path().join("killed");
    run_and_kill_after_iteration_1(&killed, &args("1", &[]));
    let (ok, log) = run_in(&killed, &args("1", &["--continue", ROOT]));
    assert!(ok && log.contains("resuming after iteration"), "{log}");
    assert_same_finals(&full, &killed, "the killed and resumed run");

    // A checkpoint written with --j 1 resumes with --j 2 (from RELION's continuation name).
    let j2 = dir.path().join("j2");
    std::fs::create_dir_all(file(&j2, "").parent().unwrap()).unwrap();
    let checkpoint = file(&full, "_it002_checkpoint.bin");
    std::fs::copy(&checkpoint, file(&j2, "_it002_checkpoint.bin")).unwrap();
    let optimiser = format!("{ROOT}_it002_optimiser.star");
    let (ok, log) = run_in(&j2, &args("2", &["--continue", &optimiser]));
    assert!(ok && log.contains("resuming after iteration 2"), "{log}");
    assert_same_finals(&full, &j2, "the --j 2 continuation");

    // A changed method flag is named.
    let mut changed = args("1", &["--continue", checkpoint.to_str().unwrap()]);
    let at = changed.iter().position(|a| a == "--iter").unwrap();
    changed[at + 1] = "5".into();
    let (ok, err) = run_in(&dir.path().join("other"), &changed);
    assert!(
        !ok && err.contains("iterations: 3") && err.contains("iterations: 5"),
        "{err}"
    );

    // A truncated checkpoint is refused, naming it.
    let bad = dir.path().join("bad");
    std::fs::create_dir_all(file(&bad, "").parent().unwrap()).unwrap();
    let bytes = std::fs::read(&checkpoint).unwrap();
    std::fs::write(
        file(&bad, "_it002_checkpoint.bin"),
        &bytes[..bytes.len() / 2],
    )
    .unwrap();
    let (ok, err) = run_in(&bad, &args("1", &["--continue", ROOT]));
    assert!(
        !ok && err.contains("run_it002_checkpoint.bin") && err.contains("truncated"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn continue_from_a_folder_without_checkpoints_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    // The checkpoint is looked for before the (here missing) particles are read.
    let args = |from: &str| {
        args(
            &dir.path().join("particles.star"),
            &dir.path().join("reference.mrc"),
            "1",
            &["--continue", from],
        )
    };
    // The job's own directory is made for its markers, and removed when it fails.
    let (ok, err) = run_in(&empty, &args(ROOT));
    assert!(
        !ok && err.contains("no checkpoint in Refine3D/job001"),
        "{err}"
    );
    let folder = file(&empty, "");
    let folder = folder.parent().unwrap();
    assert!(!folder.exists(), "a failed run left its empty directory");
    std::fs::create_dir_all(folder).unwrap();
    for from in [folder.to_str().unwrap(), ROOT] {
        let (ok, err) = run_in(&empty, &args(from));
        assert!(
            !ok && err.contains("no checkpoint in") && err.contains("Refine3D/job001"),
            "{err}"
        );
    }
}

/// `cryoflux args` run in `folder`; returns (success, stdout, stderr).
fn output_in(folder: &Path, args: &[&str]) -> (bool, String, String) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let output = in_folder(folder, &args).output().unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (
        output.status.success(),
        text(&output.stdout),
        text(&output.stderr),
    )
}

#[test]
fn continue_from_an_optimiser_file_alone_takes_every_setting_and_counts_all_iterations() {
    let dir = tempfile::tempdir().unwrap();
    let (particles, reference) = inputs(dir.path());
    let folder = dir.path().join("project");
    let full = small_refine_args(&particles, &reference, ROOT, &["--iter", "2"]);
    let (ok, out, err) = output_in(&folder, &strs(&full));
    assert!(
        ok && out.contains("cryoflux refine: 3 iterations;"),
        "{out}{err}"
    );

    // RELION's way: the optimiser file and a new output root, nothing else.
    let optimiser = format!("{ROOT}_it001_optimiser.star");
    let new_root = "Refine3D/job002/run";
    let continued = [
        "refine",
        "--continue",
        &optimiser,
        "--o",
        new_root,
        "--j",
        "2",
    ];
    let (ok, out, err) = output_in(&folder, &continued);
    assert!(
        ok && err.contains("resuming after iteration 1"),
        "{out}{err}"
    );
    assert!(out.contains("3 iterations (2 in this run)"), "{out}");
    let map = |root: &str| std::fs::read(folder.join(format!("{root}_class001.mrc"))).unwrap();
    assert!(
        map(ROOT) == map(new_root),
        "the continued map differs from the uninterrupted run's"
    );

    // Another setting cannot change on the way.
    let changed = [&continued[..], &["--healpix_order", "3"]].concat();
    let (ok, _, err) = output_in(&folder, &changed);
    assert!(
        !ok && err.contains("healpix_order: 3") && err.contains("only --o, --j"),
        "{err}"
    );
}
