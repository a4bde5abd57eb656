//! Pure numerics for cryo-EM single-particle analysis: synchronous, single-threaded or rayon,
//! on plain types, with no dataflow in sight. Each module is testable alone against an analytic
//! answer or a brute-force float64 reference. Conventions (FFT scaling, centring, Euler angles,
//! CTF sign) follow RELION 3.1 and are isolated in [`grid`], [`fft`], [`euler`] and [`ctf`].

pub mod backprojector;
pub mod ctf;
pub mod estep;
pub mod euler;
pub mod fft;
pub mod filter;
pub mod fsc;
pub mod grid;
pub mod guinier;
pub mod healpix;
pub mod mask;
pub mod masked_fsc;
pub mod phase_randomise;
pub mod projector;
pub mod random;
pub mod reconstruct;
pub mod rescale;
pub mod sampling;
pub mod sharpening;
pub mod shift;
pub mod spectrum;
pub mod symmetry;
