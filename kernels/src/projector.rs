//! Fourier-space projection: central slices of a padded, centred volume transform.
