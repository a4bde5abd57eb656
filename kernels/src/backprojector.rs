//! Backprojection of CTF-weighted Fourier images into data and weight grids, and grid symmetrisation.
