//! End to end: `cryoflux refine` as two processes on loopback (timely's cluster mode over TCP)
//! gives the same files, byte for byte, as one process with the same number of workers; bad
//! cluster flags are refused with a message naming the flag; a process whose peer never
//! starts stops after `--cluster_timeout` naming that peer.

#[path = "../common/mod.rs"]
mod common;

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use common::*;
use cryoflux_simulate::assets::default_map;
use cryoflux_simulate::{SimulationConfig, simulate};

/// Longest a refinement process may take before the test gives up on it.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(300);

/// 100 particles at SNR 0.5 with CTFs simulated from the bundled map (box 48); returns
/// (particles.star, reference.mrc).
fn inputs(dir: &Path) -> (PathBuf, PathBuf) {
    let map = default_map().unwrap();
    let reference = dir.join("reference.mrc");
    write_test_map(&reference, &map);
    let config = SimulationConfig::typical(100, 5, 0.5);
    let summary = simulate(&map, &config, &dir.join("sim")).unwrap();
    (summary.particles_star, reference)
}

/// The arguments of one single-iteration refinement of `particles` against `reference` into
/// `out`, plus `extra`.
fn refine_args(particles: &Path, reference: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let extra = [&["--iter", "1"][..], extra].concat();
    small_refine_args(particles, reference, out, &extra)
}

/// Two distinct loopback ports that were free a moment ago.
fn free_ports() -> [u16; 2] {
    let listeners = [(); 2].map(|_| TcpListener::bind("127.0.0.1:0").unwrap());
    listeners.map(|l| l.local_addr().unwrap().port())
}

/// `cryoflux args` started in the background, stdout and stderr to `log.{out,err}`.
fn spawn(args: &[String], log: &Path) -> Child {
    let file = |ext: &str| File::create(log.with_extension(ext)).unwrap();
    cryoflux()
        .args(args)
        .stdout(file("out"))
        .stderr(file("err"))
        .spawn()
        .expect("the cryoflux binary starts")
}

/// Waits for `child`, killing it after `limit`.
fn wait(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

#[test]
fn two_processes_on_loopback_match_one_process() {
    let dir = tempfile::tempdir().unwrap();
    let (particles, reference) = inputs(dir.path());
    let one = dir.path().join("one/run");
    cryoflux_ok(&strs(&refine_args(
        &particles,
        &reference,
        &one,
        &["--j", "2"],
    )));

    let two = dir.path().join("two/run");
    let [p0, p1] = free_ports();
    let addresses = format!("127.0.0.1:{p0},127.0.0.1:{p1}");
    let mut children: Vec<(Child, PathBuf)> = (0..2)
        .map(|i| {
            let process = i.to_string();
            let args = refine_args(
                &particles,
                &reference,
                &two,
                &[
                    "--j",
                    "1",
                    "--process",
                    &process,
                    "--processes",
                    "2",
                    "--addresses",
                    &addresses,
                ],
            );
            let log = dir.path().join(format!("process{i}"));
            (spawn(&args, &log), log)
        })
        .collect();
    for (i, (child, log)) in children.iter_mut().enumerate() {
        let status = wait(child, PROCESS_TIMEOUT);
        let stderr = std::fs::read_to_string(log.with_extension("err")).unwrap();
        assert!(
            status.is_some_and(|s| s.success()),
            "process {i} of 2 ended with {status:?}:\n{stderr}"
        );
        let stdout = std::fs::read_to_string(log.with_extension("out")).unwrap();
        // Process 0 reports the result; process 1 neither logs nor reports.
        assert_eq!(
            stdout.contains("cryoflux refine:"),
            i == 0,
            "process {i}:\n{stdout}"
        );
        assert_eq!(
            stderr.contains("Auto-refine"),
            i == 0,
            "process {i}:\n{stderr}"
        );
    }
    for suffix in [
        "_data.star",
        "_class001.mrc",
        "_half1_class001_unfil.mrc",
        "_half2_class001_unfil.mrc",
        "_it000_half1_class001.mrc",
        "_it001_half2_class001.mrc",
        "_it001_data.star",
        "_model.star",
    ] {
        // model.star names its map by the output root, which differs between the two runs.
        let read = |root: &Path| {
            let bytes = std::fs::read(format!("{}{suffix}", root.display())).unwrap();
            match String::from_utf8(bytes) {
                Ok(text) => text
                    .replace(&root.display().to_string(), "ROOT")
                    .into_bytes(),
                Err(binary) => binary.into_bytes(),
            }
        };
        assert!(
            read(&one) == read(&two),
            "{suffix} differs between one process (--j 2) and two processes (--j 1 each)"
        );
    }
}

#[test]
fn a_peer_that_never_starts_is_named_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (particles, reference) = inputs(dir.path());
    let [p0, p1] = free_ports();
    let addresses = format!("127.0.0.1:{p0},127.0.0.1:{p1}");
    let out = dir.path().join("alone/run");
    let args = refine_args(
        &particles,
        &reference,
        &out,
        &[
            "--process",
            "0",
            "--processes",
            "2",
            "--addresses",
            &addresses,
            "--cluster_timeout",
            "1",
        ],
    );
    let log = dir.path().join("alone");
    let start = Instant::now();
    let mut child = spawn(&args, &log);
    let status = wait(&mut child, Duration::from_secs(30));
    let stderr = std::fs::read_to_string(log.with_extension("err")).unwrap();
    let stdout = std::fs::read_to_string(log.with_extension("out")).unwrap();
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(1),
        "after {:?}:\n{stderr}",
        start.elapsed()
    );
    let peer = format!("process 1 at 127.0.0.1:{p1}");
    assert!(
        stderr.contains(&peer) && stderr.contains("--cluster_timeout 1 s"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
}

#[test]
fn bad_cluster_flags_are_refused_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let (p, r, o) = (
        dir.path().join("p.star"),
        dir.path().join("r.mrc"),
        dir.path().join("o/run"),
    );
    let fails = |extra: &[&str]| {
        let args = refine_args(&p, &r, &o, extra);
        let output = run_cryoflux(&strs(&args));
        let code = output.status.code();
        assert!(
            matches!(code, Some(1 | 2)),
            "{extra:?} exited with {code:?}"
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let two = "127.0.0.1:1,127.0.0.1:2";
    let err = fails(&["--process", "2", "--processes", "2", "--addresses", two]);
    assert!(
        err.contains("--process 2") && err.contains("out of range"),
        "{err}"
    );
    let err = fails(&["--processes", "3", "--addresses", two]);
    assert!(
        err.contains("--addresses has 2 entries") && err.contains("expected 3"),
        "{err}"
    );
    let err = fails(&["--processes", "2"]);
    assert!(
        err.contains("--processes 2 needs") && err.contains("--hostfile"),
        "{err}"
    );
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "127.0.0.1:1\nnot an address\n").unwrap();
    let err = fails(&["--processes", "2", "--hostfile", hosts.to_str().unwrap()]);
    assert!(
        err.contains("--hostfile") && err.contains("line 2"),
        "{err}"
    );
    let err = fails(&["--processes", "two"]);
    assert!(err.contains("--processes"), "{err}");
    let err = fails(&[
        "--processes",
        "2",
        "--addresses",
        two,
        "--cluster_timeout",
        "0",
    ]);
    assert!(
        err.contains("--cluster_timeout 0") && err.contains("positive"),
        "{err}"
    );
    // Nothing was written: the flags are checked before any input is read.
    assert!(!o.parent().unwrap().exists());
}
