//! Wall-clock time per iteration, from file modification times: an iteration ends when the
//! last of its `<root>_itNNN_*` files is written, and takes the time since the previous
//! iteration ended. Works for any program that writes RELION's file names; copies that did not
//! keep modification times give meaningless numbers.

use std::time::SystemTime;

use super::locate::RunFiles;

/// The iterations to time: those of `run`, preceded by the one before the first (iteration 0
/// writes no model file in cryoflux, but its maps mark when iteration 1 started).
pub fn timed_iterations(run: &RunFiles) -> Vec<u32> {
    let before_first = run.iterations.first().and_then(|f| f.checked_sub(1));
    before_first
        .into_iter()
        .chain(run.iterations.iter().copied())
        .collect()
}

/// When each of `iterations` of `run` ended (its newest file); `None` where no file's time
/// can be read.
pub fn iteration_ends(run: &RunFiles, iterations: &[u32]) -> Vec<Option<SystemTime>> {
    iterations
        .iter()
        .map(|&it| {
            run.iteration_files(it)
                .ok()?
                .iter()
                .filter_map(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
                .max()
        })
        .collect()
}

/// (iteration, seconds since the previous iteration ended) for each iteration after the first
/// whose end and predecessor's end are known; non-increasing times are left out.
pub fn iteration_seconds(iterations: &[u32], ends: &[Option<SystemTime>]) -> Vec<(u32, f64)> {
    iterations
        .windows(2)
        .zip(ends.windows(2))
        .filter_map(|(its, ends)| {
            let seconds = ends[1]?.duration_since(ends[0]?).ok()?.as_secs_f64();
            (seconds > 0.0).then_some((its[1], seconds))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn seconds_are_differences_of_consecutive_ends() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let at = |s: f64| Some(t0 + Duration::from_secs_f64(s));
        let ends = [at(0.0), at(12.5), None, at(40.0), at(39.0)];
        let seconds = iteration_seconds(&[0, 1, 2, 3, 4], &ends);
        assert_eq!(seconds, vec![(1, 12.5)]);
    }

    #[test]
    fn ends_come_from_the_newest_file_of_each_iteration() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        for (name, s) in [
            ("run_it000_half1_class001.mrc", 0),
            ("run_it001_half1_model.star", 10),
            ("run_it001_data.star", 30),
            ("run_it002_half1_model.star", 35),
        ] {
            let file = std::fs::File::create(dir.path().join(name)).unwrap();
            file.set_modified(t0 + Duration::from_secs(s)).unwrap();
        }
        let run = RunFiles::find(dir.path()).unwrap();
        let timed = timed_iterations(&run);
        assert_eq!(
            timed,
            vec![0, 1, 2],
            "iteration 0 has no model file but is timed"
        );
        let ends = iteration_ends(&run, &timed);
        let after = |s| Some(t0 + Duration::from_secs(s));
        assert_eq!(ends, vec![Some(t0), after(30), after(35)]);
        assert_eq!(iteration_seconds(&timed, &ends), vec![(1, 30.0), (2, 5.0)]);
    }
}
