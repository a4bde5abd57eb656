//! Pure numerics for cryo-EM single-particle analysis: synchronous, single-threaded or rayon,
//! on plain types, with no dataflow in sight. Each module is testable alone against an analytic
//! answer or a brute-force float64 reference. Conventions (FFT scaling, centring, Euler angles,
//! CTF sign) follow RELION 3.1 and are isolated in [`grid`], [`fourier::fft`],
//! [`geometry::euler`] and [`fourier::ctf`].
//!
//! Modules, by domain:
//! - [`grid`]: real-space images and volumes, their Fourier half arrays and the padded, centred
//!   grid; the box and pixel-size checks and [`grid::GridError`] every group uses.
//! - [`geometry`]: orientations: Euler angles, point-group symmetry, HEALPix directions and
//!   the orientation sampling built from them.
//! - [`fourier`]: operations on Fourier transforms: FFTs, phase shifts, the CTF, central-slice
//!   projection and backprojection, spectra, radial filters, rescaling.
//! - [`resolution`]: resolution estimation and post-processing: FSC, mask-corrected FSC by
//!   phase randomisation, Guinier B-factor, sharpening filters.
//! - [`reconstruct`]: maps from backprojector accumulators (τ² prior, gridding correction).
//! - [`mask`]: real-space soft masks.
//! - [`estep`]: the E-step core of refinement for one particle.
//! - [`motion`]: motion correction of movies: gain, defects, global and patch alignment, the
//!   polynomial local motion model, shifted and dose-weighted sums, motion statistics.
//! - [`extract`]: particle extraction from micrographs as `relion_preprocess --extract`: box,
//!   edge fill, rescaling, re-windowing, background normalisation, contrast, re-centring.
//! - [`ctffind`]: CTF estimation from micrographs (CTFFIND-4.1's method): tile spectra,
//!   background removal, defocus/astigmatism/phase-shift search, fit resolution, diagnostics.
//! - [`random`]: the reproducible SplitMix64 stream every kernel draws from.

pub mod ctffind;
pub mod estep;
pub mod extract;
pub mod fourier;
pub mod geometry;
pub mod grid;
pub mod mask;
pub mod motion;
pub mod random;
pub mod reconstruct;
pub mod resolution;
