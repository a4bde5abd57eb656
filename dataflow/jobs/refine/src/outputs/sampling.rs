//! The sampling file of an iteration (`<root>_itNNN_sampling.star`, refine.md §8.6): the
//! orientation and translation grid the iteration searched, in RELION 3.1's units.
//!
//! `data_sampling_general`: 3D orientations and 2D translations; the coarse HEALPix order; the
//! point group; no tilt limit (−91); the coarse psi step (degrees, = the HEALPix step); the
//! translation range and coarse step (Å, as RELION 3.1 stores them); the perturbation as
//! RELION's instance ρ (the grid was rotated by ρ·coarse step in each Euler angle) and its
//! factor 0.5. The `…Original` labels repeat the values: cryoflux resumes from its own
//! checkpoint, not from these. `data_sampling_directions`: rot and tilt (degrees) of the coarse,
//! symmetry-reduced directions (RELION recomputes them on reading; they are written for
//! readers such as ChimeraX scripts).

use cryoflux_formats::star::{Column, ColumnData, DataBlock, StarFile, Table, Value};
use cryoflux_kernels::geometry::sampling::OrientationSampling;
use cryoflux_operators::refine::records::IterationPlan;

/// RELION's `--perturb` factor: the largest perturbation instance |ρ|, as a fraction of the
/// coarse angular step.
pub const PERTURB_FACTOR: f64 = 0.5;

/// RELION's tilt limit meaning "none" (degrees).
const NO_TILT_LIMIT: f64 = -91.0;

/// The sampling file of an iteration that ran with `plan` on the coarse grid `sampling`.
pub fn sampling_star(plan: &IterationPlan, sampling: &OrientationSampling) -> StarFile {
    let coarse_step = sampling.angular_step_deg(0);
    let order = i64::from(plan.healpix_order);
    let psi_step = sampling.psi_step_deg();
    let general: Vec<(&str, Value)> = vec![
        ("rlnIs3DSampling", Value::Int(1)),
        ("rlnIs3DTranslationalSampling", Value::Int(0)),
        ("rlnHealpixOrder", Value::Int(order)),
        ("rlnSymmetryGroup", Value::Text(plan.symmetry.clone())),
        ("rlnTiltAngleLimit", Value::Float(NO_TILT_LIMIT)),
        ("rlnPsiStep", Value::Float(psi_step)),
        ("rlnOffsetRange", Value::Float(plan.offset_range_angst)),
        ("rlnOffsetStep", Value::Float(plan.offset_step_angst)),
        (
            "rlnSamplingPerturbInstance",
            Value::Float(plan.perturbation_deg / coarse_step),
        ),
        ("rlnSamplingPerturbFactor", Value::Float(PERTURB_FACTOR)),
        ("rlnHealpixOrderOriginal", Value::Int(order)),
        ("rlnPsiStepOriginal", Value::Float(psi_step)),
        (
            "rlnOffsetRangeOriginal",
            Value::Float(plan.offset_range_angst),
        ),
        (
            "rlnOffsetStepOriginal",
            Value::Float(plan.offset_step_angst),
        ),
    ];
    let directions = sampling.directions();
    let angles =
        |f: fn(&cryoflux_kernels::geometry::sampling::Direction) -> f64, label: &str| Column {
            label: label.into(),
            data: ColumnData::Float(directions.iter().map(f).collect()),
        };
    let table = Table::from_columns(vec![
        angles(|d| d.rot, "rlnAngleRot"),
        angles(|d| d.tilt, "rlnAngleTilt"),
    ]);
    StarFile {
        blocks: vec![
            DataBlock {
                name: "sampling_general".into(),
                pairs: general
                    .into_iter()
                    .map(|(label, value)| (label.to_string(), value))
                    .collect(),
                table: None,
            },
            DataBlock {
                name: "sampling_directions".into(),
                pairs: Vec::new(),
                table,
            },
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::fixture::maximised;
    use cryoflux_kernels::geometry::symmetry::SymmetryGroup;

    #[test]
    fn order_steps_and_perturbation_are_in_relion_units() {
        let plan = maximised(None).plan;
        let sampling = OrientationSampling::new(plan.healpix_order, &SymmetryGroup::c1()).unwrap();
        let star = sampling_star(&plan, &sampling);
        let general = star.block("sampling_general").unwrap();
        let pair = |label: &str| general.pair(label).cloned();
        assert_eq!(pair("rlnHealpixOrder"), Some(Value::Int(1)));
        assert_eq!(pair("rlnPsiStep"), Some(Value::Float(30.0)));
        assert_eq!(pair("rlnOffsetRange"), Some(Value::Float(4.0)));
        assert_eq!(pair("rlnOffsetStep"), Some(Value::Float(2.0)));
        // 1.5° of a 30° coarse step.
        assert_eq!(pair("rlnSamplingPerturbInstance"), Some(Value::Float(0.05)));
        assert_eq!(pair("rlnSymmetryGroup"), Some(Value::Text("C1".into())));
        let directions = star.block("sampling_directions").unwrap();
        assert_eq!(directions.table.as_ref().unwrap().rows(), 48);
    }
}
