//! Fourier shell correlation between two volumes and the resolution at a threshold.
