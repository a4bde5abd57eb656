//! Operations on Fourier transforms of images and volumes: FFTs, sub-pixel phase shifts, the
//! CTF, central-slice projection and its adjoint backprojection, rotationally averaged
//! spectra, radial filters and Fourier rescaling.
//!
//! Units and conventions (RELION 3.1, set in [`fft`] and [`crate::grid`]): transforms are
//! centred (real-space origin at index n/2) and scaled by 1/(number of samples) on the forward
//! side; they are stored as FFTW half arrays. An integer frequency index k of an n box with
//! pixel size p (Å) means k/(n·p) Å⁻¹, and a Fourier pixel belongs to shell round(|k|), 0 (DC)
//! to n/2 (Nyquist). Shifts are in Å, CTF parameters in RELION's STAR units (kV, mm, Å,
//! degrees). The projector and backprojector work on a grid padded by an integer factor, with
//! frequencies in padded voxels.

pub mod backprojector;
pub mod ctf;
pub mod fft;
pub mod filter;
pub mod padded;
pub mod projector;
pub mod rescale;
pub mod shift;
pub mod spectrum;
