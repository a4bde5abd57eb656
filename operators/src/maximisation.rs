//! Maximisation: the reduction of block partials and the M-step of both half sets, on worker 0.
//!
//! Input 1: [`BlockPartial`]s (exchanged to worker 0); input 2: the broadcast
//! [`ReferenceMsg`]s of the same epoch (for the plan and the previous noise model). Output (on
//! worker 0 only, once per epoch): `Result<`[`Maximised`]`, String>`.
//!
//! Steps (refine.md §0.6, §2, §3.1): add the blocks of each half in block order; symmetrise;
//! in the final iteration reconstruct the unregularised half maps; average the halves'
//! accumulators below the low-resolution join radius; gold-standard FSC between the halves'
//! downsampled averages; τ² from the FSC and regularised reconstruction (one joined map in the
//! final iteration); σ² and σ_offset updates (not after a cross-correlation iteration); solvent
//! flattening with a soft sphere of the particle diameter (not in the final iteration).
//! Simplifications: gridding by plain division (RELION `--skip_gridding`, the GUI default);
//! one optics/noise group; no norm or scale corrections.

use std::collections::BTreeMap;

use cryoflux_kernels::backprojector::BackProjector;
use cryoflux_kernels::fsc::fsc;
use cryoflux_kernels::grid::{FourierImage, Volume};
use cryoflux_kernels::mask::soft_sphere;
use cryoflux_kernels::reconstruct::{
    Gridding, ReconstructOptions, Regularisation, reconstruct, tau2_from_fsc,
};
use cryoflux_kernels::symmetry::SymmetryGroup;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::Capability;
use timely::dataflow::operators::generic::operator::Operator;

use crate::records::{
    BlockPartial, FinalMaps, HalfSums, IterationStats, MapRecord, Maximised, ReferenceMsg,
};

/// Width of the solvent mask's raised-cosine edge (pixels, RELION `--maskedge`).
pub const SOLVENT_EDGE_PX: f64 = 5.0;

/// σ² values below this take the previous shell's value (RELION's guard).
const SIGMA2_FLOOR: f64 = 1e-14;

/// The M-step result of one epoch, or why it failed.
pub type MResult = Result<Maximised, String>;

/// The maximisation operator; see the module doc. `leader` is true on the worker that
/// receives the partials (worker 0).
pub fn maximisation<'s>(
    partials: Stream<'s, u64, Vec<BlockPartial>>,
    references: Stream<'s, u64, Vec<ReferenceMsg>>,
    leader: bool,
) -> Stream<'s, u64, Vec<MResult>> {
    type Pending = (Capability<u64>, Vec<BlockPartial>, Vec<ReferenceMsg>);
    partials.binary_frontier::<_, CapacityContainerBuilder<Vec<MResult>>, _, _, _, _>(
        references,
        Exchange::new(|_: &BlockPartial| 0),
        Pipeline,
        "Maximisation",
        move |initial, _info| {
            drop(initial);
            let mut pending: BTreeMap<u64, Pending> = BTreeMap::new();
            move |(parts, parts_frontier), (refs, refs_frontier), output| {
                parts.for_each(|time, data| {
                    let entry = pending
                        .entry(*time.time())
                        .or_insert_with(|| (time.retain(0), Vec::new(), Vec::new()));
                    entry.1.append(data);
                });
                refs.for_each(|time, data| {
                    let entry = pending
                        .entry(*time.time())
                        .or_insert_with(|| (time.retain(0), Vec::new(), Vec::new()));
                    entry.2.append(data);
                });
                let ready: Vec<u64> = pending
                    .keys()
                    .copied()
                    .filter(|t| !parts_frontier.less_equal(t) && !refs_frontier.less_equal(t))
                    .collect();
                for t in ready {
                    if let Some((cap, blocks, msgs)) = pending.remove(&t)
                        && leader
                    {
                        output.session(&cap).give(maximise(&msgs, blocks));
                    }
                }
            }
        },
    )
}

/// The M-step of both halves from the references of an epoch and its block partials.
pub fn maximise(references: &[ReferenceMsg], mut blocks: Vec<BlockPartial>) -> MResult {
    let find = |half: u8| {
        references
            .iter()
            .find(|m| m.half == half)
            .ok_or_else(|| format!("M-step: no reference for half set {half}"))
    };
    let previous = [find(1)?, find(2)?];
    let plan = previous[0].plan.clone();
    blocks.sort_by_key(|b| (b.half, b.block));
    let mut sums: [Option<HalfSums>; 2] = [None, None];
    for b in blocks {
        let s = b.sums?;
        match &mut sums[usize::from(b.half.clamp(1, 2) - 1)] {
            Some(acc) => acc.add(s).map_err(|e| e.to_string())?,
            slot => *slot = Some(s),
        }
    }
    let [Some(mut s1), Some(mut s2)] = sums else {
        return Err("M-step: a half set received no particles".into());
    };
    let symmetry = SymmetryGroup::parse(&plan.symmetry).map_err(|e| e.to_string())?;
    s1.backprojector.symmetrise(symmetry.operators());
    s2.backprojector.symmetrise(symmetry.operators());
    let (n, pixel) = (s1.backprojector.ori_size(), s1.backprojector.pixel_size());
    let unregularised = |bp: &BackProjector| -> Result<MapRecord, String> {
        Ok(MapRecord::from_volume(&reconstruct_map(bp, None)?))
    };
    let unfiltered = if plan.final_iteration {
        Some([
            unregularised(&s1.backprojector)?,
            unregularised(&s2.backprojector)?,
        ])
    } else {
        None
    };
    let join_limit = plan
        .low_resolution_join_angst
        .max(plan.current_resolution_angst);
    let join_shells = (n as f64 * pixel / join_limit).ceil();
    s1.backprojector
        .join_low_resolution(&mut s2.backprojector, join_shells)
        .map_err(|e| e.to_string())?;
    let average = |bp: &BackProjector| bp.downsampled_average().map_err(|e| e.to_string());
    let mut curve = fsc(&average(&s1.backprojector)?, &average(&s2.backprojector)?)
        .map_err(|e| e.to_string())?;
    curve[0] = 1.0;

    let sigma2 = if plan.cross_correlation {
        [previous[0].sigma2.clone(), previous[1].sigma2.clone()]
    } else {
        [
            noise_spectrum(&s1, &previous[0].sigma2, pixel)?,
            noise_spectrum(&s2, &previous[1].sigma2, pixel)?,
        ]
    };
    let sigma_offset_angst = [
        offset_width(&s1, previous[0].sigma_offset_angst),
        offset_width(&s2, previous[1].sigma_offset_angst),
    ];
    let stats = statistics(&s1, &s2);
    let mut updates = std::mem::take(&mut s1.updates);
    updates.append(&mut s2.updates);
    updates.sort_by_key(|u| u.id);

    let (maps, spectrum, final_maps) = if let Some(unfiltered) = unfiltered {
        let mut joined = s1.backprojector;
        joined.add(&s2.backprojector).map_err(|e| e.to_string())?;
        let spectrum = tau2_from_fsc(&joined, &curve, 1.0, true);
        let map = MapRecord::from_volume(&reconstruct_map(
            &joined,
            Some(Regularisation::new(&spectrum, 1.0)),
        )?);
        let final_maps = FinalMaps {
            joined: map.clone(),
            unfiltered,
        };
        ([map.clone(), map], spectrum, Some(final_maps))
    } else {
        let mask = soft_sphere::<3>(
            n,
            pixel,
            plan.particle_diameter_angst / (2.0 * pixel),
            SOLVENT_EDGE_PX,
        )
        .map_err(|e| e.to_string())?;
        let half_map = |bp: &BackProjector| -> Result<_, String> {
            let spectrum = tau2_from_fsc(bp, &curve, 1.0, false);
            let mut map = reconstruct_map(bp, Some(Regularisation::new(&spectrum, 1.0)))?;
            map.data_mut()
                .iter_mut()
                .zip(mask.data())
                .for_each(|(v, m)| *v *= m);
            Ok((MapRecord::from_volume(&map), spectrum))
        };
        let (m1, spectrum) = half_map(&s1.backprojector)?;
        let (m2, _) = half_map(&s2.backprojector)?;
        ([m1, m2], spectrum, None)
    };
    Ok(Maximised {
        plan,
        maps,
        sigma2,
        sigma_offset_angst,
        fsc: curve,
        ssnr: spectrum.ssnr,
        tau2: spectrum.tau2,
        updates,
        stats,
        final_maps,
    })
}

fn reconstruct_map(
    bp: &BackProjector,
    regularisation: Option<Regularisation>,
) -> Result<Volume, String> {
    reconstruct(
        bp,
        &ReconstructOptions {
            regularisation,
            gridding: Gridding::Skip,
        },
    )
    .map_err(|e| e.to_string())
}

/// σ²(r) = ΣE(r)/(2·Σw̄·Npix(r)) (refine.md §2.6), Npix(r) the non-redundant pixels of the
/// N×(N/2+1) half array in shell r; tiny or undefined values take the previous shell's value
/// (shell 0: the previous iteration's).
fn noise_spectrum(sums: &HalfSums, previous: &[f64], pixel: f64) -> Result<Vec<f64>, String> {
    let n = sums.backprojector.ori_size();
    let grid = FourierImage::zeros(n, pixel).map_err(|e| e.to_string())?;
    let mut count = vec![0usize; n / 2 + 1];
    for i in 0..grid.data().len() {
        let r = grid.shell(i);
        if !grid.is_redundant(i) && r < count.len() {
            count[r] += 1;
        }
    }
    let mut out: Vec<f64> = Vec::with_capacity(count.len());
    for (r, (&e, &c)) in sums.noise_power.iter().zip(&count).enumerate() {
        let value = e / (2.0 * sums.weight_sum * c as f64);
        let fallback = out
            .last()
            .copied()
            .unwrap_or_else(|| previous.get(r).copied().unwrap_or(1.0));
        out.push(if value.is_finite() && value > SIGMA2_FLOOR {
            value
        } else {
            fallback
        });
    }
    Ok(out)
}

/// σ_off = √(Σ w̄·|o_prior − o|² / (2·Σw̄)) in Å (refine.md §2.6); the previous width when the
/// sums are empty or the estimate is zero.
fn offset_width(sums: &HalfSums, previous: f64) -> f64 {
    let width = (sums.offset_sq_angst2 / (2.0 * sums.weight_sum)).sqrt();
    if width.is_finite() && width > 0.0 {
        width
    } else {
        previous
    }
}

fn statistics(s1: &HalfSums, s2: &HalfSums) -> IterationStats {
    let particles = s1.particles + s2.particles;
    let count = particles.max(1) as f64;
    let estimated = s1.accuracy_particles + s2.accuracy_particles;
    let accuracy = |a: f64, b: f64| (estimated > 0).then(|| (a + b) / estimated as f64);
    IterationStats {
        particles,
        mean_max_probability: (s1.max_probability + s2.max_probability) / count,
        mean_angular_change_deg: (s1.angular_change_deg + s2.angular_change_deg) / count,
        rms_offset_change_angst: ((s1.offset_change_sq_angst2 + s2.offset_change_sq_angst2)
            / (2.0 * count))
            .sqrt(),
        accuracy_rotation_deg: accuracy(s1.accuracy_rotation_deg, s2.accuracy_rotation_deg),
        accuracy_translation_angst: accuracy(
            s1.accuracy_translation_angst,
            s2.accuracy_translation_angst,
        ),
        log_likelihood: s1.log_likelihood + s2.log_likelihood,
    }
}
