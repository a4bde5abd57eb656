//! The particle file of an iteration (`<root>_itNNN_data.star`, refine.md §8.3).
//!
//! It keeps the input columns in their order and adds or replaces RELION's refine columns in
//! the order RELION 3.1.3 writes them, after rlnGroupName: rlnGroupNumber, rlnAngleRot,
//! rlnAngleTilt, rlnAnglePsi (degrees), rlnOriginXAngst, rlnOriginYAngst (Å), rlnClassNumber,
//! rlnNormCorrection, rlnRandomSubset, rlnLogLikeliContribution, rlnMaxValueProbDistribution,
//! rlnNrOfSignificantSamples.
//!
//! rlnGroupName and rlnGroupNumber are the particle's noise group ([`NoiseGroups`]), with the
//! names and numbers of the model files, so that RELION's `--continue` finds one noise
//! spectrum per group.

use cryoflux_formats::star::{Column, ColumnData, StarFile};
use cryoflux_operators::refine::records::Maximised;
use cryoflux_operators::refine::records::ParticleUpdate;

use crate::groups::NoiseGroups;
use cryoflux_jobkit::particles::ParticleSet;

/// The input particle table of `set` with the refine columns of iteration `m`; `halves` holds
/// each row's half set (1 or 2), `groups` its noise group.
pub fn data_star(
    set: &ParticleSet,
    halves: &[u8],
    groups: &NoiseGroups,
    m: &Maximised,
) -> anyhow::Result<StarFile> {
    let mut star = set.star().clone();
    let rows = star.particles.rows();
    if m.updates.len() != rows
        || halves.len() != rows
        || groups.of_particle().len() != rows
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
            ColumnData::Text(
                groups
                    .of_particle()
                    .iter()
                    .map(|&g| groups.names()[g].clone())
                    .collect(),
            ),
        ),
        (
            "rlnGroupNumber",
            ColumnData::Int(groups.of_particle().iter().map(|&g| g as i64 + 1).collect()),
        ),
        ("rlnAngleRot", floats(&|u| u.pose.rot)),
        ("rlnAngleTilt", floats(&|u| u.pose.tilt)),
        ("rlnAnglePsi", floats(&|u| u.pose.psi)),
        ("rlnOriginXAngst", floats(&|u| u.pose.origin_angst[0])),
        ("rlnOriginYAngst", floats(&|u| u.pose.origin_angst[1])),
        ("rlnClassNumber", ColumnData::Int(vec![1; rows])),
        ("rlnNormCorrection", floats(&|u| u.norm)),
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
