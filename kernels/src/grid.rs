//! Real-space images and volumes and their Fourier half-arrays, with RELION's centring (origin at N/2).
