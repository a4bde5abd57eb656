//! Rotationally averaged power spectra per Fourier shell.
