//! The particle file of an iteration (`<root>_itNNN_data.star`, refine.md §8.3).
//!
//! It keeps the input columns in their order and adds or replaces RELION's refine columns in
//! the order RELION 3.1.3 writes them, after rlnGroupName: rlnGroupNumber, rlnAngleRot, rlnAngleTilt, rlnAnglePsi
//! (degrees), rlnOriginXAngst, rlnOriginYAngst (Å), rlnClassNumber, rlnNormCorrection (1: norm
//! correction is not refined), rlnRandomSubset, rlnLogLikeliContribution,
//! rlnMaxValueProbDistribution, rlnNrOfSignificantSamples.
//!
//! cryoflux refines one noise group, so every particle gets rlnGroupName `group_1` (the name
//! the model files give it) and rlnGroupNumber 1: without the name, RELION would group the
//! particles by micrograph on `--continue`, find more groups than the model has noise spectra
//! for, and crash.

use cryoflux_formats::star::{Column, ColumnData, StarFile};
use cryoflux_operators::records::{Maximised, ParticleUpdate};

use super::model::GROUP_NAME;
use crate::particles::ParticleSet;

/// The input particle table of `set` with the refine columns of iteration `m`; `halves` holds
/// each row's half set (1 or 2).
pub fn data_star(set: &ParticleSet, halves: &[u8], m: &Maximised) -> anyhow::Result<StarFile> {
    let mut star = set.star().clone();
    let rows = star.particles.rows();
    if m.updates.len() != rows
        || halves.len() != rows
        || m.updates.iter().enumerate().any(|(i, u)| u.id != i as u64)
    {
        anyhow::bail!(
            "internal: {} particle updates and {} half sets for {rows} rows; expected one per \
             row in order",
            m.updates.len(),
            halves.len()
        );
    }
    let floats =
        |f: &dyn Fn(&ParticleUpdate) -> f64| ColumnData::Float(m.updates.iter().map(f).collect());
    let ints =
        |f: &dyn Fn(&ParticleUpdate) -> i64| ColumnData::Int(m.updates.iter().map(f).collect());
    let columns = [
        (
            "rlnGroupName",
            ColumnData::Text(vec![GROUP_NAME.to_string(); rows]),
        ),
        ("rlnGroupNumber", ColumnData::Int(vec![1; rows])),
        ("rlnAngleRot", floats(&|u| u.pose.rot)),
        ("rlnAngleTilt", floats(&|u| u.pose.tilt)),
        ("rlnAnglePsi", floats(&|u| u.pose.psi)),
        ("rlnOriginXAngst", floats(&|u| u.pose.origin_angst[0])),
        ("rlnOriginYAngst", floats(&|u| u.pose.origin_angst[1])),
        ("rlnClassNumber", ColumnData::Int(vec![1; rows])),
        ("rlnNormCorrection", ColumnData::Float(vec![1.0; rows])),
        (
            "rlnRandomSubset",
            ColumnData::Int(halves.iter().map(|&h| i64::from(h)).collect()),
        ),
        ("rlnLogLikeliContribution", floats(&|u| u.log_likelihood)),
        (
            "rlnMaxValueProbDistribution",
            floats(&|u| u.max_probability),
        ),
        (
            "rlnNrOfSignificantSamples",
            ints(&|u| u.significant_samples as i64),
        ),
    ];
    for (label, data) in columns {
        star.particles.set_column(Column {
            label: label.into(),
            data,
        });
    }
    Ok(star.into_star())
}
