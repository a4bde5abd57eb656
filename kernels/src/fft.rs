//! Real FFTs in 2D and 3D with cached plans and RELION's scaling (forward divides by the sample count).
