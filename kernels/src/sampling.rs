//! Orientation sampling: HEALPix directions × psi, symmetry reduction, oversampling children and local neighbourhoods.
