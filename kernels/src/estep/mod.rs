//! The E-step numerical core of 3D auto-refinement, for one particle at a time (refine.md §1).
//!
//! Pipeline for one particle, each step in its own file:
//! 1. [`FourierWindow`] (`window.rs`): the non-redundant Fourier pixels of the current image
//!    size, sorted by |k| so that any smaller window (the coarse pass) is a prefix; shared by
//!    all particles of an iteration.
//! 2. [`PreparedParticle`] (`particle.rs`): pre-shift by the rounded old offset, mask, FFT,
//!    gather the window pixels (masked and unmasked images, CTF, 1/σ²), power beyond the window.
//! 3. [`TranslationGrid`] (`translations.rs`, Å and pixels) and [`OrientationPlan`] /
//!    [`CoarseOrientation`] (`orientations.rs`, degrees): the hidden-variable grid and priors.
//! 4. Central slices on the window (`bank.rs`), optionally precomputed once per iteration for
//!    all coarse orientations ([`ProjectionBank`]).
//! 5. [`Scorer`] (`scorer.rs`): d²(θ) or −CC for batches of (rotation, translation) pairs;
//!    [`CpuScorer`] (`diff2.rs`; its f32 SoA inner loops in `cross.rs`) and the float64 brute-force
//!    [`ReferenceScorer`] (`reference.rs`) that any other implementation (GPU) is tested against.
//! 6. `posterior.rs`: weights with priors, the 700 cut, significance threshold, Pmax, dLL.
//! 7. [`search`] (`passes.rs`): coarse pass → significant set → fine pass → kept samples;
//!    cross-correlation mode in `cc.rs`.
//! 8. [`contribute`] (`contributions.rs`): backprojection of the kept samples and the
//!    particle's sufficient statistics (noise, norm, scale, offsets, directions).
//!
//! Threading: everything here is single-threaded per particle, on purpose. A particle's work
//! (a few ms to a few hundred ms) is the unit the dataflow spreads over workers; nesting rayon
//! inside it would only add scheduling overhead and contention on the same cores. All sums run
//! in a fixed order, so results are deterministic.
//!
//! One iteration, end to end (a tiny box; the dataflow runs the per-particle part in parallel
//! over particles):
//!
//! ```
//! use cryoflux_kernels::fourier::backprojector::{BackProjector, BackProjectorOptions};
//! use cryoflux_kernels::fourier::ctf::CtfVariant;
//! use cryoflux_kernels::estep::*;
//! use cryoflux_kernels::grid::Volume;
//! use cryoflux_kernels::fourier::projector::{Projector, ProjectorOptions};
//! use cryoflux_kernels::geometry::sampling::OrientationSampling;
//! use cryoflux_kernels::geometry::symmetry::SymmetryGroup;
//!
//! let (n, p) = (16, 4.0); // box (pixels), pixel size (Å)
//! let map = Volume::from_fn(n, p, |[x, y, z]| {
//!     (-(x * x + 2.0 * y * y + 3.0 * z * z) / 8.0).exp() as f32
//! })?;
//! let projector = Projector::new(&map, &ProjectorOptions::default())?;
//! // Once per iteration: window (current size 12), orientation plan, coarse slices (size 8).
//! let window = FourierWindow::new(n, 12)?;
//! let sampling = OrientationSampling::new(1, &SymmetryGroup::parse("C1").unwrap()).unwrap();
//! let plan = OrientationPlan::new(&sampling, 1, 0.0)?;
//! let bank = ProjectionBank::for_plan(&projector, &window, 8, &plan)?;
//! let orientations = global_orientations(&sampling, None)?;
//! // Per particle (here a projection of the map itself).
//! let slice = projector.project(&plan.coarse_matrices()[40], n)?;
//! let image = cryoflux_kernels::fourier::fft::inverse(&slice);
//! let sigma2 = vec![1e-3; n / 2 + 1];
//! let particle = PreparedParticle::new(&window, &ParticleInput {
//!     image: &image,
//!     rounded_offset_px: [0, 0],
//!     mask: ParticleMask::for_diameter(40.0, p, MaskFill::Mean),
//!     ctf: None,
//!     ctf_variant: CtfVariant::default(),
//!     sigma2: &sigma2,
//!     scale: 1.0,
//! })?;
//! let offsets = TranslationSearch {
//!     range_angst: p,
//!     step_angst: p,
//!     perturbation_angst: 0.0,
//!     sigma_offset_angst: 10.0,
//!     prior_centre_angst: [0.0, 0.0],
//! };
//! let translations = TranslationGrid::new(&offsets, 1, [0, 0], p)?;
//! let result = search(&ParticleSearch {
//!     projector: &projector,
//!     particle: &particle,
//!     plan: &plan,
//!     orientations: &orientations,
//!     translations: &translations,
//!     coarse_size: 8,
//!     coarse_bank: Some(&bank),
//!     adaptive_fraction: 0.999,
//!     max_significant: None,
//!     metric: Metric::Diff2,
//! }, &CpuScorer)?;
//! let mut half = BackProjector::new(n, p, &BackProjectorOptions::default())?;
//! let settings = ContributionSettings { ssnr: None, prior_centre_angst: [0.0, 0.0] };
//! let stats = contribute(&projector, &particle, &result.kept, &settings, &mut half)?;
//! assert!(result.kept_mass > 0.999 && (stats.weight_sum - result.kept_mass).abs() < 1e-12);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Units: frequencies are integer indices of the particle box N (k/(N·p) Å⁻¹); translations
//! are Å in the public API and pixels of the N box inside the scorers; angles are degrees,
//! rotations RELION's matrix `A` ([`crate::geometry::euler`]); σ², powers and d² are in
//! RELION's FFT units (forward transform divided by N²).

mod accuracy;
mod bank;
mod cc;
mod contributions;
mod cross;
mod diff2;
mod exp;
mod orientations;
mod particle;
mod passes;
mod posterior;
mod reference;
mod scorer;
mod translations;
mod window;

#[cfg(test)]
mod testkit;

pub use accuracy::{Accuracy, expected_accuracy};
pub use bank::ProjectionBank;
pub use cc::correlation;
pub use contributions::{ContributionSettings, ParticleContribution, contribute};
pub use diff2::CpuScorer;
pub use orientations::{
    CoarseOrientation, OrientationPlan, global_orientations, local_orientations,
};
pub use particle::{MaskFill, ParticleInput, ParticleMask, PreparedParticle};
pub use passes::{
    DEFAULT_SIGNIFICANT_CAP, ParticleSearch, SearchResult, WeightedPose, search, significant_cap,
};
pub use posterior::{
    LOG_WEIGHT_CUTOFF, Significance, Weights, log_likelihood, significance, weights,
};
pub use reference::ReferenceScorer;
pub use scorer::{Metric, Pairs, Rotations, ScoreRequest, Scorer};
pub use translations::{TranslationGrid, TranslationSearch};
pub use window::{FourierWindow, PhaseRamp};

use crate::geometry::sampling::SamplingError;
use crate::grid::GridError;

/// Why an E-step kernel refused its input: a grid or sampling problem, or a parameter that is
/// inconsistent (named, with what was found and what was expected).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EstepError {
    /// A box, pixel size or shape problem from the Fourier-side kernels.
    #[error(transparent)]
    Grid(#[from] GridError),
    /// A bad orientation-sampling query (order, index).
    #[error(transparent)]
    Sampling(#[from] SamplingError),
    /// An E-step parameter outside its valid range or inconsistent with another.
    #[error("{what}: found {found}, expected {expected}")]
    Invalid {
        /// The parameter, with its unit.
        what: &'static str,
        /// What was found.
        found: String,
        /// What was expected, in words.
        expected: String,
    },
}

impl EstepError {
    /// Shorthand for [`EstepError::Invalid`].
    pub(crate) fn invalid(
        what: &'static str,
        found: impl std::fmt::Display,
        expected: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            what,
            found: found.to_string(),
            expected: expected.into(),
        }
    }
}
