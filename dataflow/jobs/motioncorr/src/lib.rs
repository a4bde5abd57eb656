//! `cryoflux motioncorr`: motion correction of dose-fractionated movies as
//! `relion_run_motioncorr --use_own` does it (polish-and-initial-model.md §A.8), one movie per
//! timely worker at a time ([`cryoflux_jobkit::batch`]).
//!
//! Per movie ([`correct`]): frames read (TIFF or MRC), multiplied by the gain reference,
//! detector defects and hot pixels replaced, optionally binned, aligned globally, then by
//! patches with RELION's third-order polynomial model, and summed with or without dose
//! weighting. Outputs ([`outputs`]) are RELION's: `<movie path>.mrc` under the output
//! directory (and `_noDW.mrc`), the per-movie metadata `<movie path>.star`, and
//! `corrected_micrographs.star` with the accumulated motion; a movie that cannot be processed
//! is reported and left out.

pub mod correct;
pub mod outputs;
pub mod run;
pub mod settings;
