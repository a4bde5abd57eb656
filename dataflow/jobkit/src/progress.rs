//! Progress as log lines, for runs whose standard error is not a terminal (no progress bar is
//! drawn there): `tracing::info!` every `every_items` items or every `every` seconds, whichever
//! comes first, so that a slow pass is never silent. Counts are items (particles, movies);
//! rates are items per second.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A pass over `total` items that logs its progress; share it between threads by reference or
/// `Arc` and call [`advance`](Self::advance) as items finish.
#[derive(Debug)]
pub struct ProgressLog {
    total: u64,
    every_items: u64,
    every: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    label: String,
    done: u64,
    started: Instant,
    logged_done: u64,
    logged_at: Instant,
}

impl State {
    fn at(now: Instant, label: String) -> Self {
        Self {
            label,
            done: 0,
            started: now,
            logged_done: 0,
            logged_at: now,
        }
    }
}

impl ProgressLog {
    /// A pass over `total` items named `label` (e.g. "iteration 3 E-step"), logging every
    /// `every_items` items (at least 1) or every `every` (wall-clock time), whichever first.
    pub fn new(label: impl Into<String>, total: u64, every_items: u64, every: Duration) -> Self {
        Self {
            total,
            every_items: every_items.max(1),
            every,
            state: Mutex::new(State::at(Instant::now(), label.into())),
        }
    }

    /// Starts a new pass named `label` now (counts back to 0).
    pub fn restart(&self, label: impl Into<String>) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) =
            State::at(Instant::now(), label.into());
    }

    /// Counts `items` more finished items and logs a line when one is due.
    pub fn advance(&self, items: u64) {
        if let Some(line) = self.advance_at(items, Instant::now()) {
            tracing::info!("{line}");
        }
    }

    /// Counts `items` more finished at `now`; the line to log if one is due (every
    /// `every_items` items or `every` since the last line, and at the end of the pass).
    pub fn advance_at(&self, items: u64, now: Instant) -> Option<String> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.done += items;
        let due = state.done - state.logged_done >= self.every_items
            || now.saturating_duration_since(state.logged_at) >= self.every
            || state.done >= self.total;
        if !due || state.done == state.logged_done {
            return None;
        }
        state.logged_done = state.done;
        state.logged_at = now;
        let seconds = now.saturating_duration_since(state.started).as_secs_f64();
        let rate = if seconds > 0.0 {
            format!(", {:.1}/s", state.done as f64 / seconds)
        } else {
            String::new()
        };
        Some(format!(
            "{}: {}/{} done ({:.0} %) after {seconds:.1} s{rate}",
            state.label,
            state.done,
            self.total,
            100.0 * state.done as f64 / self.total.max(1) as f64
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_every_n_items_or_every_t_seconds_and_at_the_end() {
        let log = ProgressLog::new("iteration 2 E-step", 10, 4, Duration::from_secs(5));
        let t0 = log.state.lock().unwrap().started;
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert_eq!(log.advance_at(1, at(1)), None);
        assert_eq!(log.advance_at(2, at(2)), None);
        let line = log.advance_at(1, at(2)).unwrap();
        assert_eq!(
            line,
            "iteration 2 E-step: 4/10 done (40 %) after 2.0 s, 2.0/s"
        );
        // One slow item: a line once 5 s have passed since the last one.
        assert_eq!(log.advance_at(1, at(6)), None);
        assert!(log.advance_at(0, at(7)).unwrap().contains("5/10"));
        // Nothing new, nothing logged, however long it takes.
        assert_eq!(log.advance_at(0, at(60)), None);
        assert!(
            log.advance_at(5, at(61))
                .unwrap()
                .starts_with("iteration 2 E-step: 10/10")
        );
        log.restart("iteration 3 E-step");
        let line = log.advance_at(4, Instant::now()).unwrap();
        assert!(line.starts_with("iteration 3 E-step: 4/10"), "{line}");
    }
}
