//! Rescaling maps and images to another pixel size and box by Fourier cropping or padding.
