//! End to end: no command writes over one of its own inputs (refused before any work, naming
//! the flags and the file), and every job marks its directory as RELION does
//! (`RELION_JOB_EXIT_SUCCESS` / `RELION_JOB_EXIT_FAILURE`): a later job refuses inputs from a
//! failed or killed job, and a rerun removes the killed run's leftovers and completes.

#[path = "common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};

use common::*;

const SUCCESS: &str = "RELION_JOB_EXIT_SUCCESS";
const FAILURE: &str = "RELION_JOB_EXIT_FAILURE";
const RUNNING: &str = ".cryoflux-job-running";

/// `dir/name` holding `content`.
fn file(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Runs `args`, expects the overwrite refusal naming `output_flag`, `input_flag` and `name`,
/// and checks that every file in `kept` still holds its bytes.
fn refused_overwrite(
    args: &[&str],
    output_flag: &str,
    input_flag: &str,
    name: &str,
    kept: &[&Path],
) {
    let before: Vec<Vec<u8>> = kept.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let output = run_cryoflux(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(
        stderr.contains(&format!("{output_flag} would write"))
            && stderr.contains(&format!("given by {input_flag}"))
            && stderr.contains(name),
        "{args:?}: {stderr}"
    );
    for (path, bytes) in kept.iter().zip(before) {
        assert_eq!(std::fs::read(path).unwrap(), bytes, "{path:?} changed");
        let dir = path.parent().unwrap();
        for marker in [SUCCESS, FAILURE, RUNNING] {
            assert!(!dir.join(marker).exists(), "a refused job marked {dir:?}");
        }
    }
}

#[test]
fn tools_refuse_to_write_over_their_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let star = file(d, "p.star", b"data_particles\n");
    let map = file(d, "m.mrc", b"not read");
    refused_overwrite(
        &["reconstruct", "--i", s(&star), "--o", s(&star)],
        "--o",
        "--i",
        "p.star",
        &[&star],
    );
    // Another spelling and a symbolic link reach the same file.
    let link = d.join("link.star");
    std::os::unix::fs::symlink(&star, &link).unwrap();
    let spelled = format!("{}/sub/../p.star", d.display());
    refused_overwrite(
        &["reconstruct", "--i", s(&link), "--o", &spelled],
        "--o",
        "--i",
        "p.star",
        &[&star],
    );
    refused_overwrite(
        &["convert", s(&star), s(&star)],
        "--o",
        "--i",
        "p.star",
        &[&star],
    );
    refused_overwrite(
        &["image", "--i", s(&map), "--o", s(&map)],
        "--o",
        "--i",
        "m.mrc",
        &[&map],
    );
    refused_overwrite(
        &["image", "--i", s(&star), "--fsc", s(&map), "--o", s(&map)],
        "--o",
        "--fsc",
        "m.mrc",
        &[&map],
    );
    refused_overwrite(
        &[
            "mask",
            "--i",
            s(&map),
            "--o",
            s(&map),
            "--ini_threshold",
            "0.5",
        ],
        "--o",
        "--i",
        "m.mrc",
        &[&map],
    );
    refused_overwrite(
        &[
            "assess",
            "--data",
            s(&star),
            "--truth",
            s(&map),
            "--json",
            s(&star),
        ],
        "--json",
        "--data",
        "p.star",
        &[&star],
    );
}

#[test]
fn postprocess_refuses_a_root_that_expands_onto_a_half_map_or_the_mask() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let half1 = file(d, "x_half1.mrc", b"half 1");
    let half2 = file(d, "x_half2.mrc", b"half 2");
    let mask = file(d, "m.mrc", b"mask");
    let root = |name: &str| d.join(name).to_str().unwrap().to_string();
    let args = |out: &str| {
        vec![
            "postprocess".to_string(),
            "--i".into(),
            s(&half1).into(),
            "--mask".into(),
            s(&mask).into(),
            "--o".into(),
            out.to_string(),
        ]
    };
    let kept = [half1.as_path(), half2.as_path(), mask.as_path()];
    refused_overwrite(
        &strs(&args(&root("x_half1"))),
        "--o",
        "--i",
        "x_half1.mrc",
        &kept,
    );
    refused_overwrite(
        &strs(&args(&root("x_half2"))),
        "--o",
        "--i (its half2 partner)",
        "x_half2.mrc",
        &kept,
    );
    refused_overwrite(&strs(&args(&root("m"))), "--o", "--mask", "m.mrc", &kept);
}

#[test]
fn simulate_project_and_refine_refuse_outputs_over_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let map = file(d, "sim/particles.mrcs", b"map");
    refused_overwrite(
        &[
            "simulate",
            "--map",
            s(&map),
            "--o",
            s(&d.join("sim")),
            "--n",
            "4",
        ],
        "--o",
        "--map",
        "particles.mrcs",
        &[&map],
    );
    let stack = file(d, "proj.mrcs", b"map");
    refused_overwrite(
        &["project", "--i", s(&stack), "--o", s(&d.join("proj"))],
        "--o",
        "--i",
        "proj.mrcs",
        &[&stack],
    );
    // Refine writes an open set of ROOT_… files: an input under the root is refused.
    let data = file(d, "Refine3D/run_it001_data.star", b"data_\n");
    let reference = file(d, "ref.mrc", b"ref");
    let root = d.join("Refine3D/run");
    refused_overwrite(
        &[
            "refine",
            "--i",
            s(&data),
            "--ref",
            s(&reference),
            "--o",
            s(&root),
            "--particle_diameter",
            "60",
        ],
        "--o",
        "--i",
        "run_it001_data.star",
        &[&data],
    );
}

#[test]
fn movie_jobs_refuse_outputs_over_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("Job");
    let ctf = file(&out, "micrographs_ctf.star", b"data_\n");
    refused_overwrite(
        &["ctffind", "--i", s(&ctf), "--o", s(&out)],
        "--o",
        "--i",
        "micrographs_ctf.star",
        &[&ctf],
    );
    let corrected = file(&out, "corrected_micrographs.star", b"data_\n");
    refused_overwrite(
        &["motioncorr", "--i", s(&corrected), "--o", s(&out)],
        "--o",
        "--i",
        "corrected_micrographs.star",
        &[&corrected],
    );
    let particles = file(&out, "particles.star", b"data_\n");
    refused_overwrite(
        &[
            "extract",
            "--i",
            s(&ctf),
            "--reextract_data_star",
            s(&particles),
            "--part_star",
            s(&particles),
            "--extract_size",
            "32",
        ],
        "--part_star",
        "--reextract_data_star",
        "particles.star",
        &[&particles],
    );
}

/// `cryoflux simulate` of 20 particles into `dir`; returns its truth.star (particles with poses).
fn simulate(dir: &Path) -> PathBuf {
    cryoflux_ok(&[
        "simulate",
        "--o",
        s(dir),
        "--n",
        "20",
        "--snr",
        "1",
        "--seed",
        "3",
    ]);
    dir.join("truth.star")
}

/// Runs a reconstruction of `particles` into `out`; returns (success, stderr).
fn reconstruct(particles: &Path, out: &Path) -> (bool, String) {
    let output = run_cryoflux(&[
        "reconstruct",
        "--i",
        s(particles),
        "--o",
        s(out),
        "--iter",
        "1",
    ]);
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn an_unfinished_or_failed_job_is_refused_and_a_rerun_cleans_and_completes() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("Simulate/job001");
    let particles = simulate(&sim);
    assert!(sim.join(SUCCESS).exists() && !sim.join(RUNNING).exists());
    let map = dir.path().join("Reconstruct/job002/map.mrc");
    let (ok, log) = reconstruct(&particles, &map);
    assert!(ok, "{log}");
    assert!(map.parent().unwrap().join(SUCCESS).exists());

    // What a kill -9 part-way leaves: the running marker, a temporary file, no end marker.
    std::fs::remove_file(sim.join(SUCCESS)).unwrap();
    file(&sim, RUNNING, b"pid 1\n");
    let partial = file(&sim, ".cryoflux-AbC123.partial", b"half a stack");
    for (evidence, other) in [(RUNNING, "job003"), (".cryoflux-AbC123.partial", "job004")] {
        if evidence != RUNNING {
            std::fs::remove_file(sim.join(RUNNING)).unwrap();
        }
        let out = dir.path().join(format!("Reconstruct/{other}/map.mrc"));
        let (ok, log) = reconstruct(&particles, &out);
        assert!(
            !ok && log.contains("--i") && log.contains(evidence) && log.contains("killed"),
            "{log}"
        );
        assert!(
            !out.parent().unwrap().exists(),
            "a refused job created its directory"
        );
    }
    // The same for refine, which reads particles from an earlier job too.
    let refine = run_cryoflux(&[
        "refine",
        "--i",
        s(&particles),
        "--ref",
        s(&map),
        "--o",
        s(&dir.path().join("Refine3D/job005/run")),
        "--particle_diameter",
        "60",
    ]);
    let log = String::from_utf8_lossy(&refine.stderr);
    assert!(!refine.status.success() && log.contains("killed"), "{log}");

    // The rerun removes the leftover, completes and marks success; the input is accepted again.
    simulate(&sim);
    assert!(
        !partial.exists(),
        "the killed run's temporary file is still there"
    );
    assert!(sim.join(SUCCESS).exists() && !sim.join(RUNNING).exists());
    let (ok, log) = reconstruct(&particles, &dir.path().join("Reconstruct/job006/map.mrc"));
    assert!(ok, "{log}");

    // A job that fails marks its directory (here one that already holds a file); its files
    // are then refused.
    let failed = dir.path().join("Simulate/job007");
    let stray = file(
        &failed,
        "particles.star",
        &std::fs::read(&particles).unwrap(),
    );
    let output = run_cryoflux(&[
        "simulate",
        "--o",
        s(&failed),
        "--n",
        "4",
        "--map",
        s(&particles),
    ]);
    assert!(!output.status.success());
    assert!(failed.join(FAILURE).exists() && !failed.join(RUNNING).exists());
    let (ok, log) = reconstruct(&stray, &dir.path().join("Reconstruct/job008/map.mrc"));
    assert!(
        !ok && log.contains(FAILURE) && log.contains("failed"),
        "{log}"
    );
    // A job that fails in a directory it created, having written nothing, leaves none.
    let empty = dir.path().join("Simulate/job009");
    let output = run_cryoflux(&[
        "simulate",
        "--o",
        s(&empty),
        "--n",
        "4",
        "--map",
        s(&particles),
    ]);
    assert!(!output.status.success() && !empty.exists());
}

#[test]
fn hand_made_and_relion_directories_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let particles = simulate(&dir.path().join("sim"));
    let sim = particles.parent().unwrap();
    // Hand-made: no marker at all.
    std::fs::remove_file(sim.join(SUCCESS)).unwrap();
    let (ok, log) = reconstruct(&particles, &dir.path().join("a/map.mrc"));
    assert!(ok, "{log}");
    // RELION's job directory: its success marker, whatever else is there.
    file(sim, SUCCESS, b"");
    file(sim, ".cryoflux-x.partial", b"");
    let (ok, log) = reconstruct(&particles, &dir.path().join("b/map.mrc"));
    assert!(ok, "{log}");
}
