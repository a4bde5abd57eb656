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
