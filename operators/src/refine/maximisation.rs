//! Maximisation: the reduction of block partials and the M-step of both half sets, on worker 0.
//!
//! Input 1: [`BlockPartial`]s (exchanged to worker 0); input 2: the broadcast
//! [`ReferenceMsg`]s of the same epoch (for the plan and the previous noise model). Output (on
//! worker 0 only, once per epoch): `Result<`[`Maximised`]`, String>`.
//!
//! Steps (refine.md §0.6, §2, §3.1): add each half's partials along its fixed reduction tree
//! ([`super::reduction`]) as they arrive, so that only O(log blocks) sums per worker are alive
//! and the totals do not depend on the workers; symmetrise;
//! in the final iteration reconstruct the unregularised half maps; average the halves'
//! accumulators below the low-resolution join radius; gold-standard FSC between the halves'
//! downsampled averages, or, with a [`SolventMask`] asking for it, the solvent-corrected FSC of
//! refine.md §3.2 (unregularised half maps, masked FSC corrected by phase randomisation from
//! the first shell where their unmasked FSC drops below 0.8, zero beyond current_size/2); τ²
//! from the FSC and regularised reconstruction (one joined map in the final iteration); the
//! noise model ([`super::noise`]) and σ_offset; solvent flattening (not in the
//! final iteration): the half maps times the user's solvent mask when half 1's reference
//! carries one (RELION `--solvent_mask`), else times a soft sphere of the particle diameter.
//! Simplifications: gridding by plain division (RELION `--skip_gridding`, the GUI default);
//! one optics group.

use cryoflux_kernels::fourier::backprojector::BackProjector;
use cryoflux_kernels::fourier::fft::forward;
use cryoflux_kernels::geometry::symmetry::SymmetryGroup;
use cryoflux_kernels::grid::Volume;
use cryoflux_kernels::mask::soft_sphere;
use cryoflux_kernels::random::mix;
use cryoflux_kernels::reconstruct::{
    Gridding, ReconstructOptions, Regularisation, reconstruct, tau2_from_fsc,
};
use cryoflux_kernels::resolution::fsc::fsc;
use cryoflux_kernels::resolution::masked_fsc::{
    BelowNoise, RANDOMISE_BELOW_FSC, correct_for_mask, masked_fsc, randomisation_shell,
    randomised_masked_fsc,
};
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::{Exchange, Pipeline};

use super::noise::update_noise_model;
use super::records::{
    BlockPartial, FinalMaps, IterationPlan, IterationStats, Maximised, ReferenceMsg, SolventMask,
};
use super::reduction::HalfReductions;
use super::sums::HalfSums;
use crate::epochs::JoinEpochs;
use crate::records::MapRecord;

/// Width of the solvent mask's raised-cosine edge (pixels, RELION `--maskedge`).
pub const SOLVENT_EDGE_PX: f64 = 5.0;

/// The M-step result of one epoch, or why it failed.
pub type MResult = Result<Maximised, String>;

/// The maximisation operator; see the module doc. `leader` is true on the worker that
/// receives the partials (worker 0).
///
/// # Examples
///
/// The M-step of one epoch of the [tiny job](crate::example), from the block partials of its
/// expectation: both references are the map the particles were projected from, so the half
/// maps agree at low resolution.
///
/// ```
/// use cryoflux_operators::example::{captured, tiny_job, tiny_partials};
/// use cryoflux_operators::refine::maximisation::maximisation;
/// use timely::dataflow::operators::{Capture, ToStream};
///
/// let job = tiny_job();
/// let partials = tiny_partials(&job);
/// let events = timely::example(move |scope| {
///     let partials = partials.to_stream(scope);
///     let references = job.references.to_stream(scope);
///     maximisation(partials, references, true).capture()
/// });
/// let results = captured(events);
/// assert_eq!(results.len(), 1);
/// let (epoch, result) = &results[0];
/// let m = result.as_ref().unwrap();
/// assert_eq!((*epoch, m.plan.iteration, m.stats.particles), (0, 1, 8));
/// let ids: Vec<u64> = m.updates.iter().map(|u| u.id).collect();
/// assert_eq!(ids, (0..8).collect::<Vec<_>>());
/// assert_eq!(m.fsc[0], 1.0);
/// assert!(m.fsc[1] > 0.9, "{:?}", m.fsc);
/// ```
pub fn maximisation<'s>(
    partials: Stream<'s, u64, Vec<BlockPartial>>,
    references: Stream<'s, u64, Vec<ReferenceMsg>>,
    leader: bool,
) -> Stream<'s, u64, Vec<MResult>> {
    partials.join_epochs(
        references,
        (Exchange::new(|_: &BlockPartial| 0), Pipeline),
        "Maximisation",
        move |_, sums: HalfReductions, msgs| leader.then(|| maximise(&msgs, sums)),
    )
}

/// The M-step of both halves from the references of an epoch and its reduced block partials.
///
/// # Examples
///
/// ```
/// use cryoflux_operators::example::{BOX, tiny_job, tiny_partials};
/// use cryoflux_operators::refine::maximisation::maximise;
///
/// let job = tiny_job();
/// let m = maximise(&job.references, tiny_partials(&job).into_iter().collect()).unwrap();
/// assert_eq!(m.updates.len(), 8);
/// assert_eq!(m.maps[0].box_size, BOX);
/// assert_eq!(m.fsc.len(), BOX / 2 + 1);
/// assert!(m.final_maps.is_none());
/// ```
pub fn maximise(references: &[ReferenceMsg], sums: HalfReductions) -> MResult {
    let find = |half: u8| {
        references
            .iter()
            .find(|m| m.half == half)
            .ok_or_else(|| format!("M-step: no reference for half set {half}"))
    };
    let previous = [find(1)?, find(2)?];
    let plan = previous[0].plan.clone();
    let solvent = references.iter().find_map(|m| m.solvent_mask.as_ref());
    let [mut s1, mut s2] = sums.totals()?;
    let symmetry = SymmetryGroup::parse(&plan.symmetry).map_err(|e| e.to_string())?;
    s1.backprojector.symmetrise(symmetry.operators());
    s2.backprojector.symmetrise(symmetry.operators());
    let (n, pixel) = (
        s1.backprojector.geometry().ori_size,
        s1.backprojector.geometry().pixel_size,
    );
    let user_mask = solvent.map(|s| user_mask(s, n)).transpose()?;
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
    let mut curve = match (&user_mask, solvent.is_some_and(|s| s.correct_fsc)) {
        (Some(mask), true) => {
            solvent_corrected_fsc(&s1.backprojector, &s2.backprojector, mask, &plan)?
        }
        _ => {
            let average = |bp: &BackProjector| bp.downsampled_average().map_err(|e| e.to_string());
            fsc(&average(&s1.backprojector)?, &average(&s2.backprojector)?)
                .map_err(|e| e.to_string())?
        }
    };
    curve[0] = 1.0;

    let noise = [
        update_noise_model(&s1, &previous[0].noise, &plan, pixel)?,
        update_noise_model(&s2, &previous[1].noise, &plan, pixel)?,
    ];
    let group_particles = [&s1, &s2].map(|s| s.groups.iter().map(|g| g.particles).collect());
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
        let mask = match user_mask {
            Some(mask) => mask,
            None => soft_sphere::<3>(
                n,
                pixel,
                plan.particle_diameter_angst / (2.0 * pixel),
                SOLVENT_EDGE_PX,
            )
            .map_err(|e| e.to_string())?,
        };
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
        noise,
        group_particles,
        sigma_offset_angst,
        fsc: curve,
        ssnr: spectrum.ssnr,
        tau2: spectrum.tau2,
        updates,
        stats,
        final_maps,
    })
}

/// The user's solvent mask as a volume, checked against the reconstruction box `n`.
fn user_mask(solvent: &SolventMask, n: usize) -> Result<Volume, String> {
    if solvent.map.box_size != n {
        return Err(format!(
            "M-step: the solvent mask has box {} px; expected the reconstruction's {n} px",
            solvent.map.box_size
        ));
    }
    solvent
        .map
        .to_volume()
        .map_err(|e| format!("M-step: solvent mask: {e}"))
}

/// The gold-standard FSC of refine.md §3.2 between the unregularised reconstructions of `bp1`
/// and `bp2`, corrected for `mask` by phase randomisation (module doc); the unmasked FSC when
/// it never drops below 0.8. Phases are drawn from a stream keyed by the plan's seed and
/// iteration, so results do not depend on the workers.
fn solvent_corrected_fsc(
    bp1: &BackProjector,
    bp2: &BackProjector,
    mask: &Volume,
    plan: &IterationPlan,
) -> Result<Vec<f64>, String> {
    let (h1, h2) = (reconstruct_map(bp1, None)?, reconstruct_map(bp2, None)?);
    let (f1, f2) = (forward(&h1), forward(&h2));
    let unmasked = fsc(&f1, &f2).map_err(|e| e.to_string())?;
    let mut curve = match randomisation_shell(&unmasked, RANDOMISE_BELOW_FSC) {
        None => unmasked,
        Some(shell) => {
            let masked = masked_fsc(&h1, &h2, mask).map_err(|e| e.to_string())?;
            let seed = mix(plan.seed ^ mix(plan.iteration as u64));
            let randomised =
                randomised_masked_fsc(f1, f2, mask, shell, seed).map_err(|e| e.to_string())?;
            correct_for_mask(masked, randomised, Some(shell), BelowNoise::Zero).corrected
        }
    };
    curve
        .iter_mut()
        .skip(plan.current_size / 2 + 1)
        .for_each(|v| *v = 0.0);
    Ok(curve)
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
        evaluations: s1.evaluations + s2.evaluations,
        log_likelihood: s1.log_likelihood + s2.log_likelihood,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::PoseRecord;
    use crate::refine::records::NoiseModel;
    use crate::refine::reduction::Node;
    use cryoflux_kernels::grid::FourierImage;
    use cryoflux_kernels::grid::{Complex32, HalfGrid};
    use cryoflux_kernels::random::mix;

    const N: usize = 16;
    const PIXEL: f64 = 2.0;

    /// Uniform in [−0.5, 0.5) from the key `k`.
    fn noise(k: u64) -> f32 {
        ((mix(k) >> 11) as f64 / (1u64 << 53) as f64 - 0.5) as f32
    }

    /// Sums of one half set: 40 images at spread orientations; below shell 2 both halves get the
    /// same values (shared signal), beyond it independent noise.
    fn half_sums(half: u64) -> HalfSums {
        let mut sums = HalfSums::new(N, PIXEL, 1).unwrap();
        for view in 0..40u64 {
            let mut image = FourierImage::zeros(N, PIXEL).unwrap();
            for i in 0..image.data().len() {
                let shared = image.shell(i) < 2;
                let key = (view << 20) ^ (i as u64) ^ if shared { 0 } else { half << 40 };
                let scale = if shared { 20.0 } else { 1.0 };
                image.data_mut()[i] =
                    Complex32::new(scale * noise(2 * key), scale * noise(2 * key + 1));
            }
            let weights =
                HalfGrid::<f32, 2>::from_vec(N, PIXEL, vec![1.0; HalfGrid::<f32, 2>::len_for(N)])
                    .unwrap();
            let pose = PoseRecord {
                rot: view as f64 * 47.0,
                tilt: view as f64 * 180.0 / 40.0,
                psi: view as f64 * 23.0,
                origin_angst: [0.0, 0.0],
            };
            sums.backprojector
                .backproject(&image, &weights, &pose.matrix())
                .unwrap();
        }
        sums.weight_sum = 40.0;
        sums.groups[0].weight_sum = 40.0;
        sums.groups[0].particles = 40;
        sums.particles = 40;
        sums
    }

    fn references(solvent_mask: Option<SolventMask>) -> Vec<ReferenceMsg> {
        let plan = IterationPlan {
            iteration: 3,
            final_iteration: false,
            current_size: 12,
            coarse_size: 12,
            healpix_order: 1,
            local_sigma_deg: None,
            symmetry: "C1".into(),
            offset_range_angst: 4.0,
            offset_step_angst: 2.0,
            perturbation_deg: 0.0,
            cross_correlation: false,
            ctf_intact_first_peak: false,
            accuracy_every: 0,
            seed: 9,
            particle_diameter_angst: 24.0,
            current_resolution_angst: 10.0,
            low_resolution_join_angst: 1000.0,
            block_size: 32,
            norm_correction: false,
            scale_correction: false,
            max_significant: None,
        };
        let map = MapRecord::from_volume(&Volume::zeros(N, PIXEL).unwrap());
        [(1, solvent_mask), (2, None)]
            .into_iter()
            .map(|(half, solvent_mask)| ReferenceMsg {
                half,
                map: map.clone(),
                noise: NoiseModel::new(vec![vec![1.0; N / 2 + 1]], 1.0),
                ssnr: Vec::new(),
                sigma_offset_angst: 2.0,
                plan: plan.clone(),
                solvent_mask,
            })
            .collect()
    }

    fn blocks() -> HalfReductions {
        [1, 2]
            .into_iter()
            .map(|half| BlockPartial {
                half,
                node: Node::leaf(0),
                leaves: 1,
                sums: Ok(half_sums(half as u64)),
            })
            .collect()
    }

    /// A hard sphere of radius 3 px: sharp enough to correlate the halves at every shell.
    fn sharp_mask() -> MapRecord {
        MapRecord::from_volume(&soft_sphere::<3>(N, PIXEL, 3.0, 0.0).unwrap())
    }

    #[test]
    fn the_user_mask_replaces_the_sphere_in_solvent_flattening() {
        let plain = maximise(&references(None), blocks()).unwrap();
        let solvent = SolventMask {
            map: sharp_mask(),
            correct_fsc: false,
        };
        let masked = maximise(&references(Some(solvent.clone())), blocks()).unwrap();
        // The FSC does not depend on the mask without --solvent_correct_fsc.
        assert_eq!(masked.fsc, plain.fsc);
        for (map, plain_map) in masked.maps.iter().zip(&plain.maps) {
            let outside = |m: &MapRecord| {
                m.data
                    .iter()
                    .zip(&solvent.map.data)
                    .filter(|&(_, &w)| w == 0.0)
                    .map(|(v, _)| v.abs())
                    .fold(0.0f32, f32::max)
            };
            // The sphere of the 24 Å diameter (6 px radius + 5 px edge) keeps values beyond
            // 3 px; the user mask zeroes them.
            assert_eq!(outside(map), 0.0);
            assert!(outside(plain_map) > 0.0);
            assert!(map.data.iter().any(|v| v.abs() > 0.0));
        }
        let wrong = SolventMask {
            map: MapRecord::from_volume(&Volume::zeros(8, PIXEL).unwrap()),
            correct_fsc: false,
        };
        let err = maximise(&references(Some(wrong)), blocks()).unwrap_err();
        assert!(err.contains("box 8") && err.contains("16"), "{err}");
    }

    #[test]
    fn the_solvent_corrected_fsc_removes_the_masks_correlation() {
        let solvent = |correct_fsc| SolventMask {
            map: sharp_mask(),
            correct_fsc,
        };
        let mask = sharp_mask().to_volume().unwrap();
        let plain = maximise(&references(Some(solvent(false))), blocks()).unwrap();
        let corrected = maximise(&references(Some(solvent(true))), blocks()).unwrap();
        let again = maximise(&references(Some(solvent(true))), blocks()).unwrap();
        assert_eq!(
            corrected.fsc, again.fsc,
            "the phases must come from a fixed seed"
        );
        // The halves share only shells < 2: both FSCs are high there.
        assert!(
            plain.fsc[1] > 0.9 && corrected.fsc[1] > 0.9,
            "{:?}",
            corrected.fsc
        );
        // The masked FSC of the unregularised half maps is inflated at high shells; the
        // corrected curve is not, and it is zero beyond current_size/2 = 6.
        let unregularised = |h: usize| {
            let mut sums = half_sums(h as u64 + 1);
            sums.backprojector
                .symmetrise(SymmetryGroup::c1().operators());
            reconstruct_map(&sums.backprojector, None).unwrap()
        };
        let inflated = masked_fsc(&unregularised(0), &unregularised(1), &mask).unwrap();
        let mean = |c: &[f64]| c[5..=6].iter().sum::<f64>() / 2.0;
        assert!(
            mean(&inflated) > 0.3 && mean(&corrected.fsc) < 0.5 * mean(&inflated),
            "masked {inflated:?}, corrected {:?}",
            corrected.fsc
        );
        assert!(corrected.fsc[7..].iter().all(|&v| v == 0.0));
        assert_eq!(corrected.fsc[0], 1.0);
    }
}
