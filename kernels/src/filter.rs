//! Fourier filters: low-pass and high-pass with raised-cosine edges, B-factor application.
