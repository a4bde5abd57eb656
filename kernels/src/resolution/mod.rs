//! Resolution estimation and map post-processing: the Fourier shell correlation, its
//! correction for a soft mask by phase randomisation, Guinier analysis and the sharpening
//! filters of `relion_postprocess`.
//!
//! Units and conventions: curves are per Fourier shell round(|k|), k in pixels of the box,
//! from 0 (DC) to n/2 (Nyquist); shell r of an n box with pixel size p (Å) is at r/(n·p) Å⁻¹,
//! i.e. a resolution of n·p/r Å. Amplitudes are in RELION's FFT units (see
//! [`crate::fourier::fft`]), B-factors in Å².

pub mod fsc;
pub mod guinier;
pub mod masked_fsc;
pub mod phase_randomise;
pub mod sharpening;
