//! Child processes of the benchmarks: a program run to completion under GNU `/usr/bin/time`, so
//! that cryoflux and the baseline are measured the same way (wall time, peak resident memory).

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
    /// The child's standard output followed by its standard error.
    pub log: String,
}

/// Runs `program args` in `dir` under `/usr/bin/time` when available; an error with the child's
/// output when it fails.
pub fn measure_child(dir: &Path, program: &Path, args: &[&str]) -> anyhow::Result<ChildCost> {
    let timer = Path::new("/usr/bin/time");
    let report = dir.join(".cryoflux-bench-time.txt");
    let mut command = if timer.is_file() {
        let mut c = Command::new(timer);
        c.args(["-f", "%e %M", "-o"]).arg(&report).arg(program);
        c
    } else {
        Command::new(program)
    };
    let start = Instant::now();
    let output = command
        .args(args)
        .current_dir(dir)
        .output()
        .with_context(|| format!("cannot run {}", program.display()))?;
    let seconds = start.elapsed().as_secs_f64();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        bail!("{} {args:?} failed:\n{log}", program.display());
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
        log,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_timed_and_its_output_kept() {
        let dir = tempfile::tempdir().unwrap();
        let cost = measure_child(
            dir.path(),
            Path::new("sh"),
            &["-c", "echo out; echo err >&2"],
        )
        .unwrap();
        assert!(cost.seconds >= 0.0 && cost.seconds < 10.0);
        assert_eq!(cost.log, "out\nerr\n");
        if Path::new("/usr/bin/time").is_file() {
            assert!(cost.peak_mb.is_some_and(|mb| mb > 0.0));
        }
        let err = measure_child(dir.path(), Path::new("sh"), &["-c", "echo why; exit 3"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("failed") && err.contains("why"), "{err}");
        assert!(on_path("sh") && !on_path("no-such-program-cryoflux"));
    }
}
