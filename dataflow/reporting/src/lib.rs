//! Reading finished jobs: [`report`] draws a refinement (cryoflux's or RELION's) as one HTML
//! page with its figures; [`assess`] measures a refinement of simulated particles against the
//! simulation's truth (angular and offset errors, FSC against the true map, gold-standard FSC).
//! Neither runs a job; both only read job directories.

pub mod assess;
pub mod report;
