//! The contrast transfer function as RELION computes it (voltage, Cs, Q0, astigmatic defocus, phase shift, B-factor, scale).
