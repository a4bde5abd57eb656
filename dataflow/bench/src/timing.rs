//! Wall-clock timing helpers for benchmarks: best of several runs, to damp noise from other
//! processes on the machine.

use std::time::Instant;

/// The shortest wall time in seconds of `repeats` runs of `work` (at least one run), and the
/// value the last run returned.
pub fn best_of<T>(
    repeats: usize,
    mut work: impl FnMut() -> anyhow::Result<T>,
) -> anyhow::Result<(f64, T)> {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        let value = work()?;
        best = best.min(start.elapsed().as_secs_f64());
        last = Some(value);
    }
    Ok((best, last.expect("at least one run")))
}
