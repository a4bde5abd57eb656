//! Reconstruction from backprojected grids: τ²-regularised division and gridding correction.
