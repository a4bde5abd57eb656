//! Sub-pixel shifts of Fourier images and volumes by phase ramps.
