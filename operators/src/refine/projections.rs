//! The projections of an iteration, built once per process and shared by its workers: both
//! half sets' projectors (padded 3D transforms of the references) and, in a global search,
//! their banks of precomputed coarse slices. They are by far the largest per-iteration arrays
//! (a box-256 projector alone is 0.5 GB), so W workers must not hold W copies.
//!
//! A bank is built only when it fits in [`BANK_MEMORY_FRACTION`] of the memory available;
//! otherwise the coarse pass projects its slices per particle, with identical results, only
//! slower (the scorer's bank and projection paths give the same bits).
//!
//! The first local worker that starts an epoch builds them (the others wait for it rather than
//! building the same arrays); each worker releases them when its E-step is done, and the last
//! of the process's workers to release an epoch drops them, so they do not stay alive through
//! the M-step.

use std::sync::{Arc, Mutex, MutexGuard};

use cryoflux_kernels::estep::ProjectionBank;
use cryoflux_kernels::fourier::projector::Projector;

/// Largest share of the available memory the coarse-slice banks of one iteration may take.
pub const BANK_MEMORY_FRACTION: f64 = 0.5;

/// Memory available to new allocations (bytes): `MemAvailable` of /proc/meminfo, or `None`
/// where that is unknown.
pub fn available_memory_bytes() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// Whether banks of `bytes` (both halves) may be built now: they fit in
/// [`BANK_MEMORY_FRACTION`] of the available memory (or that is unknown).
pub fn bank_fits(bytes: f64) -> bool {
    available_memory_bytes().is_none_or(|available| bytes <= BANK_MEMORY_FRACTION * available)
}

/// One iteration's projections: per half set (half 1 first) the projector and, in a global
/// search, the bank of coarse slices.
pub struct Projections {
    /// The half sets' projectors.
    pub projectors: [Projector; 2],
    /// The half sets' coarse-slice banks (global searches only).
    pub banks: Option<[ProjectionBank; 2]>,
}

/// The projections shared by the `local_workers` workers of one process; clone it into each.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
///
/// use cryoflux_kernels::grid::Volume;
/// use cryoflux_kernels::fourier::projector::{Projector, ProjectorOptions};
/// use cryoflux_operators::refine::projections::{Projections, SharedProjections};
///
/// let build = || -> Result<Projections, String> {
///     let volume = Volume::zeros(8, 2.0).map_err(|e| e.to_string())?;
///     let projector =
///         || Projector::new(&volume, &ProjectorOptions::default()).map_err(|e| e.to_string());
///     Ok(Projections { projectors: [projector()?, projector()?], banks: None })
/// };
/// let shared = SharedProjections::new(2);
/// let (a, b) = (shared.clone(), shared.clone());
/// // The first worker to ask for epoch 0 builds; the other gets the same projections.
/// let first = a.fetch(0, build).unwrap();
/// let second = b.fetch(0, || unreachable!("built once")).unwrap();
/// assert!(Arc::ptr_eq(&first, &second));
/// a.release(0);
/// b.release(0);
/// ```
#[derive(Clone)]
pub struct SharedProjections {
    local_workers: usize,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// The epoch whose projections are held, how many local workers fetched them, how many
    /// of those still use them, and the projections.
    current: Option<(u64, usize, usize, Arc<Projections>)>,
}

impl SharedProjections {
    /// Shared projections for a process running `local_workers` timely workers.
    pub fn new(local_workers: usize) -> Self {
        Self {
            local_workers: local_workers.max(1),
            state: Arc::default(),
        }
    }

    /// The projections of `epoch`, built with `build` by the first worker that asks; call
    /// [`release`](Self::release) when done with them.
    pub fn fetch(
        &self,
        epoch: u64,
        build: impl FnOnce() -> Result<Projections, String>,
    ) -> Result<Arc<Projections>, String> {
        let mut state = self.lock();
        match &mut state.current {
            Some((held, fetched, active, projections)) if *held == epoch => {
                *fetched += 1;
                *active += 1;
                Ok(projections.clone())
            }
            _ => {
                let projections = Arc::new(build()?);
                state.current = Some((epoch, 1, 1, projections.clone()));
                Ok(projections)
            }
        }
    }

    /// Says that one worker is done with the projections of `epoch`; the last local worker
    /// to be done drops them.
    pub fn release(&self, epoch: u64) {
        let mut state = self.lock();
        if let Some((held, fetched, active, _)) = &mut state.current
            && *held == epoch
        {
            *active = active.saturating_sub(1);
            if *active == 0 && *fetched >= self.local_workers {
                state.current = None;
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A worker that panicked while building leaves no half-built state behind (the
        // projections are stored only once complete), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether projections are held now (for tests).
    #[cfg(test)]
    fn holds(&self) -> bool {
        self.lock().current.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryoflux_kernels::fourier::projector::ProjectorOptions;
    use cryoflux_kernels::grid::Volume;

    fn projections() -> Result<Projections, String> {
        let volume = Volume::zeros(8, 2.0).map_err(|e| e.to_string())?;
        let projector = || Projector::new(&volume, &ProjectorOptions::default());
        Ok(Projections {
            projectors: [
                projector().map_err(|e| e.to_string())?,
                projector().map_err(|e| e.to_string())?,
            ],
            banks: None,
        })
    }

    #[test]
    fn available_memory_is_read_on_linux_and_bounds_the_banks() {
        if let Some(available) = available_memory_bytes() {
            assert!(available > 0.0);
            assert!(bank_fits(0.0));
            assert!(!bank_fits(available));
        }
    }

    #[test]
    fn workers_of_a_process_share_one_build_per_epoch_and_the_last_drops_it() {
        let shared = SharedProjections::new(2);
        let mut builds = 0;
        let mut build = || {
            builds += 1;
            projections()
        };
        let a = shared.fetch(0, &mut build).unwrap();
        let b = shared.fetch(0, &mut build).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        shared.release(0);
        assert!(shared.holds(), "one worker still uses them");
        shared.release(0);
        assert!(!shared.holds(), "both workers are done");
        shared.fetch(1, &mut build).unwrap();
        assert_eq!(builds, 2);
        // A worker that is done before the other has fetched keeps them for it.
        shared.release(1);
        assert!(shared.holds());
        let failed = shared.fetch(2, || Err("no reference".to_string()));
        assert_eq!(failed.err().as_deref(), Some("no reference"));
    }
}
