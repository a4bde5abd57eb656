//! Process-wide cache of 1D FFT plans: one bundle (real forward/inverse, complex
//! forward/inverse) per precision and length, built once and shared by all threads.
//!
//! A call looks its bundle up once under a read lock and clones one `Arc`, so threads
//! transforming many small images at once do not queue on a planner mutex.

use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftNum, FftPlanner};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

/// The four 1D plans of one length `n` (samples).
pub struct LinePlans<T: FftNum> {
    /// Real → half-complex (n/2+1 values), e^{−2πi…}, unnormalised.
    pub r2c: Arc<dyn RealToComplex<T>>,
    /// Half-complex → real, e^{+2πi…}, unnormalised.
    pub c2r: Arc<dyn ComplexToReal<T>>,
    /// Complex forward, e^{−2πi…}, unnormalised.
    pub forward: Arc<dyn Fft<T>>,
    /// Complex inverse, e^{+2πi…}, unnormalised.
    pub inverse: Arc<dyn Fft<T>>,
}

type Cache<T> = RwLock<HashMap<usize, Arc<LinePlans<T>>>>;

/// Access to the process-wide cache of a precision (sealed: only f32 and f64).
pub trait PlanCache: FftNum + Sized {
    /// The cache of this precision.
    fn cache() -> &'static Cache<Self>;
}

macro_rules! plan_cache {
    ($t:ty) => {
        impl PlanCache for $t {
            fn cache() -> &'static Cache<$t> {
                static CACHE: OnceLock<Cache<$t>> = OnceLock::new();
                CACHE.get_or_init(Default::default)
            }
        }
    };
}
plan_cache!(f32);
plan_cache!(f64);

/// The plans for length `n` (built on first use).
pub fn line_plans<T: PlanCache>(n: usize) -> Arc<LinePlans<T>> {
    let cache = T::cache();
    if let Some(plans) = cache.read().unwrap_or_else(PoisonError::into_inner).get(&n) {
        return Arc::clone(plans);
    }
    let mut guard = cache.write().unwrap_or_else(PoisonError::into_inner);
    Arc::clone(guard.entry(n).or_insert_with(|| {
        let mut real = RealFftPlanner::new();
        let mut complex = FftPlanner::new();
        Arc::new(LinePlans {
            r2c: real.plan_fft_forward(n),
            c2r: real.plan_fft_inverse(n),
            forward: complex.plan_fft_forward(n),
            inverse: complex.plan_fft_inverse(n),
        })
    }))
}
