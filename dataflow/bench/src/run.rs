//! Child processes of the benchmarks: a program run to completion under GNU `/usr/bin/time`, so
//! that cryoflux and the baseline are measured the same way (wall time, peak resident memory).

use std::fs::File;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};

/// What running a child cost.
#[derive(Debug, Clone)]
pub struct ChildCost {
    /// Wall-clock time in seconds.
    pub seconds: f64,
    /// Peak resident set size in MiB (the kB that `/usr/bin/time` reports, / 1024), when
    /// `/usr/bin/time` is there. For a program that starts other processes it is the largest
    /// single descendant's peak, not a sum.
    pub peak_mb: Option<f64>,
    /// What the child wrote to its standard output and error (interleaved as written).
    pub log: String,
}

/// Runs `program args` in `dir` under `/usr/bin/time` when available, with its standard output
/// and error going to the file `log` (so a long run can be followed with `tail -f`); an error
/// with the end of that output when it fails.
pub fn measure_child(
    dir: &Path,
    program: &Path,
    args: &[&str],
    log: &Path,
) -> anyhow::Result<ChildCost> {
    let timer = Path::new("/usr/bin/time");
    let report = dir.join(".cryoflux-bench-time.txt");
    let mut command = if timer.is_file() {
        let mut c = Command::new(timer);
        c.args(["-f", "%e %M", "-o"]).arg(&report).arg(program);
        c
    } else {
        Command::new(program)
    };
    let out = File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
    let err = out.try_clone()?;
    let start = Instant::now();
    let status = command
        .args(args)
        .current_dir(dir)
        .stdout(out)
        .stderr(err)
        .status()
        .with_context(|| format!("cannot run {}", program.display()))?;
    let seconds = start.elapsed().as_secs_f64();
    let text =
        std::fs::read_to_string(log).with_context(|| format!("cannot read {}", log.display()))?;
    if !status.success() {
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "{} {args:?} failed ({status}); the end of {}:\n{}",
            program.display(),
            log.display(),
            tail.join("\n")
        );
    }
    let peak_mb = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| {
            t.lines()
                .last()?
                .split_whitespace()
                .nth(1)?
                .parse::<f64>()
                .ok()
        })
        .map(|kb| kb / 1024.0);
    let _ = std::fs::remove_file(&report);
    Ok(ChildCost {
        seconds,
        peak_mb,
        log: text,
    })
}

/// "peak N MB", or that it was not measured.
pub fn memory_text(cost: &ChildCost) -> String {
    cost.peak_mb
        .map_or("peak memory not measured".into(), |mb| {
            format!("peak {mb:.0} MB")
        })
}

/// Whether `program` is on the PATH.
pub fn on_path(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The standard output of `python3 -c script`, or `None` if Python (or a module the script
/// imports) is missing or the script fails.
pub fn python_output(script: &str) -> Option<String> {
    let output = Command::new("python3").args(["-c", script]).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_timed_and_its_output_kept() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("child.log");
        let cost = measure_child(
            dir.path(),
            Path::new("sh"),
            &["-c", "echo out; echo err >&2"],
            &log,
        )
        .unwrap();
        assert!(cost.seconds >= 0.0 && cost.seconds < 10.0);
        assert_eq!(cost.log, "out\nerr\n");
        if Path::new("/usr/bin/time").is_file() {
            assert!(cost.peak_mb.is_some_and(|mb| mb > 0.0));
        }
        assert_eq!(std::fs::read_to_string(&log).unwrap(), cost.log);
        let err = measure_child(
            dir.path(),
            Path::new("sh"),
            &["-c", "echo why; exit 3"],
            &log,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("failed") && err.contains("why"), "{err}");
        assert!(on_path("sh") && !on_path("no-such-program-cryoflux"));
    }
}
