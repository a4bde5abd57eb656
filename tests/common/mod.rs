//! Shared helpers of the end-to-end tests: the `cryoflux` binary, and the external tools
//! (RELION 3.1.3, Python readers) used as interoperability oracles.
#![allow(dead_code)] // each test binary uses a different subset of these helpers

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `cryoflux` binary built by Cargo for this test run.
pub fn cryoflux() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cryoflux"))
}

/// Run `cryoflux` with `args`, returning its output (whatever the exit status).
pub fn run_cryoflux(args: &[&str]) -> Output {
    cryoflux()
        .args(args)
        .output()
        .expect("the cryoflux binary runs")
}

/// Run `cryoflux` with `args` and panic with its stderr unless it succeeds; returns stdout.
pub fn cryoflux_ok(args: &[&str]) -> String {
    let output = run_cryoflux(args);
    assert!(
        output.status.success(),
        "cryoflux {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// Whether interoperability tools are mandatory (CI sets `CRYOFLUX_REQUIRE_INTEROP=1`).
pub fn interop_required() -> bool {
    std::env::var("CRYOFLUX_REQUIRE_INTEROP").is_ok_and(|v| v == "1")
}

/// True if `program` is on the PATH. When it is not and interop is required, panic; otherwise
/// print why the calling test is skipped.
pub fn have_tool(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            !interop_required(),
            "{program} is required (CRYOFLUX_REQUIRE_INTEROP=1) but missing"
        );
        eprintln!("skipped: {program} is not installed");
    }
    found
}

/// True if Python 3 can import every module in `modules` (same skip/panic rule as
/// [`have_tool`]).
pub fn have_python(modules: &[&str]) -> bool {
    let script = modules
        .iter()
        .map(|m| format!("import {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    let found = Command::new("python3")
        .args(["-c", &script])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            !interop_required(),
            "python3 with {modules:?} is required but missing"
        );
        eprintln!("skipped: python3 cannot import {modules:?}");
    }
    found
}

/// Run a Python snippet and return its stdout, panicking with stderr on failure.
pub fn python(script: &str) -> String {
    let output = Command::new("python3")
        .args(["-c", script])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "python failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// Run an external program in `dir`, panicking with its output on failure; returns stdout.
pub fn run_tool(dir: &Path, program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("tool runs");
    assert!(
        output.status.success(),
        "{program} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Path of a file in the repository, from the workspace root.
pub fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

// ---- Maps side by side (reconstruct_relion, image_mask) ----

/// Pearson correlation of two equally long arrays (invariant to scale and offset).
pub fn correlation(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(
        a.len(),
        b.len(),
        "correlation of arrays of different lengths"
    );
    let n = a.len() as f64;
    let mean = |v: &[f32]| v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let (ma, mb) = (mean(a), mean(b));
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x) - ma, f64::from(y) - mb);
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    ab / (aa * bb).sqrt()
}

/// An MRC file's voxels (x fastest), its size [nx, ny, nz] and its voxel size in Å.
pub fn read_mrc(path: &Path) -> (Vec<f32>, [usize; 3], f32) {
    let file = cryoflux_formats::mrc::MrcFile::open(path).unwrap();
    (file.read_all().unwrap(), file.dims(), file.voxel_size()[0])
}

/// The bundled 1HPV map (box 48, 1.8 Å) written as float32 `truth.mrc` in `dir` (RELION 3.1
/// cannot read the bundled float16 file).
pub fn bundled_map_float32(dir: &Path) -> PathBuf {
    let map = cryoflux_dataflow::simulate::assets::default_map().unwrap();
    let path = dir.join("truth.mrc");
    cryoflux_formats::mrc::write_volume(
        &path,
        map.data(),
        [map.n(); 3],
        map.pixel_size() as f32,
        cryoflux_formats::mrc::WriteMode::Float32,
    )
    .unwrap();
    path
}

/// Run `cryoflux` with `args` expecting failure; returns its stderr.
pub fn cryoflux_fails(args: &[&str]) -> String {
    let output = run_cryoflux(args);
    assert!(!output.status.success(), "cryoflux {args:?} succeeded");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// An FSC curve as `cryoflux image --fsc` prints it.
#[derive(Debug, Clone)]
pub struct FscCurve {
    /// FSC per shell 0 … N/2.
    pub values: Vec<f64>,
    /// Last shell before the curve first drops below 0.5.
    pub shell_05: usize,
    /// Last shell before the curve first drops below 0.143.
    pub shell_0143: usize,
}

/// The FSC between two maps, from `cryoflux image --i a --fsc b`.
pub fn cryoflux_fsc(a: &Path, b: &Path) -> FscCurve {
    let text = cryoflux_ok(&[
        "image",
        "--i",
        a.to_str().unwrap(),
        "--fsc",
        b.to_str().unwrap(),
    ]);
    let values = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split_whitespace().nth(2).unwrap().parse().unwrap())
        .collect();
    let shell_at = |threshold: &str| -> usize {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("FSC = {threshold}:")))
            .unwrap();
        let shell = line.rsplit("(shell ").next().unwrap();
        shell.trim_end_matches(')').parse().unwrap()
    };
    FscCurve {
        values,
        shell_05: shell_at("0.5"),
        shell_0143: shell_at("0.143"),
    }
}
