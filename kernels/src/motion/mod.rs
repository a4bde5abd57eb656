//! Motion correction of movies (`relion_run_motioncorr --use_own`), in px, Å and e/Å².

pub mod binning;
pub mod defects;
pub mod dose;
pub mod frames;
pub mod gain;
