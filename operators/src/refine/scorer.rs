//! The one place that chooses the E-step's scorer, as RustFFT's planner chooses an FFT
//! algorithm: jobs call [`select`] and pass what it returns to
//! [`expectation`](super::expectation::expectation); no operator names an implementation.
//!
//! Today this is always the CPU scorer (`cryoflux_kernels::estep::CpuScorer`, which itself
//! picks its AVX2 or portable path at run time, with identical results). A GPU scorer
//! implementing the same `Scorer` trait would be chosen here, behind its cargo feature.

use std::sync::Arc;

use cryoflux_kernels::estep::{CpuScorer, Scorer};

/// A scorer shared by every worker of a process.
pub type SharedScorer = Arc<dyn Scorer + Send + Sync>;

/// The scorer this build uses for the E-step: the CPU scorer.
///
/// # Examples
///
/// ```
/// use cryoflux_operators::refine::scorer;
///
/// let scorer = scorer::select();
/// // One scorer for all workers: clone the `Arc` into each.
/// let for_worker = scorer.clone();
/// assert_eq!(std::sync::Arc::strong_count(&for_worker), 2);
/// ```
pub fn select() -> SharedScorer {
    Arc::new(CpuScorer)
}
