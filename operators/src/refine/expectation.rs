//! Expectation: the E-step of every stashed particle against its half set's reference.
//!
//! Input 1: [`ParticleRecord`]s (sent once, exchanged by block: each worker owns a contiguous
//! range of each half set's blocks, [`BlockLayout::worker`]); input 2: the broadcast
//! [`ReferenceMsg`]s of one epoch (both halves). Output, once per epoch: one [`BlockPartial`]
//! per maximal aligned subtree of the worker's blocks in each half set's reduction tree
//! ([`super::reduction`]).
//!
//! For each epoch whose references are complete (and once all particles have arrived), the
//! worker builds both halves' projectors and the iteration's orientation and translation grids,
//! then runs, block after block and particle after particle in id order, the two-pass search
//! of `cryoflux_kernels::estep` (orientations at the plan's HEALPix order with one order of
//! oversampling: all of them from a bank of precomputed coarse slices in a global search, or
//! those near the particle's previous pose, projected on the fly, in a local search;
//! translations around the previous offset) and inserts the kept samples into the block's
//! backprojector. Every `accuracy_every`-th particle also estimates its alignment accuracy at
//! its new pose. The particle's stashed pose becomes its best pose. Each particle is compared
//! with the noise spectrum and intensity scale of its noise group and, with norm correction,
//! multiplied by n̄/n_i first; its new norm correction is stashed with its pose. Each finished
//! block is folded into the worker's partial sums at once, so a worker holds O(log blocks) of
//! them.

use std::sync::Arc;

use cryoflux_kernels::estep::{
    CoarseOrientation, ContributionSettings, FourierWindow, MaskFill, Metric, OrientationPlan,
    ParticleInput, ParticleMask, ParticleSearch, PreparedParticle, ProjectionBank, Scorer,
    TranslationGrid, TranslationSearch, contribute, expected_accuracy, global_orientations,
    local_orientations, search,
};
use cryoflux_kernels::fourier::ctf::{Ctf, CtfVariant};
use cryoflux_kernels::fourier::projector::{Projector, ProjectorOptions};
use cryoflux_kernels::geometry::euler::{EulerAngles, mean_row_angle_between};
use cryoflux_kernels::geometry::sampling::{LocalSearch, OrientationSampling};
use cryoflux_kernels::geometry::symmetry::SymmetryGroup;
use cryoflux_kernels::grid::Image;
use cryoflux_kernels::random::SplitMix64;
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::{Exchange, Pipeline};

use super::projections::{Projections, SharedProjections, bank_fits};
use super::records::{BlockPartial, IterationPlan, ParticleRecord, ParticleUpdate, ReferenceMsg};
use super::reduction::{BlockLayout, Node, Reduction};
use super::scorer::SharedScorer;
use super::sums::HalfSums;
use crate::epochs::JoinEpochs;
use crate::records::PoseRecord;

/// Mass fraction kept by each pass of the search (RELION `--adaptive_fraction`).
pub const ADAPTIVE_FRACTION: f64 = 0.999;

/// Called with the number of particles finished, as they finish (for a progress bar).
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// The expectation operator; see the module doc. `layout`: the job's blocks per half set;
/// `shared`: the projections shared with the other workers of this process; `scorer`: the
/// E-step's scorer (chosen by [`super::scorer::select`]).
///
/// # Examples
///
/// One epoch of the [tiny job](crate::example) on one worker: each half set's two blocks are
/// one subtree of its reduction tree, so the worker sends one partial per half set, with
/// every particle's update in id order.
///
/// ```
/// use std::sync::Arc;
///
/// use cryoflux_operators::example::{captured, tiny_job};
/// use cryoflux_operators::refine::expectation::expectation;
/// use cryoflux_operators::refine::projections::SharedProjections;
/// use cryoflux_operators::refine::scorer;
/// use timely::dataflow::operators::{Capture, ToStream};
///
/// let job = tiny_job();
/// let events = timely::example(move |scope| {
///     let particles = job.particles.to_stream(scope);
///     let references = job.references.to_stream(scope);
///     let progress = Arc::new(|_| {});
///     let shared = SharedProjections::new(1);
///     expectation(particles, references, job.layout, progress, shared, scorer::cpu())
///         .capture()
/// });
/// let partials = captured(events);
/// assert_eq!(partials.len(), 2);
/// for (epoch, partial) in partials {
///     assert_eq!(epoch, 0);
///     let sums = partial.sums.unwrap();
///     let ids: Vec<u64> = sums.updates.iter().map(|u| u.id).collect();
///     let first = u64::from(partial.half) - 1;
///     assert_eq!(ids, [first, first + 2, first + 4, first + 6]);
/// }
/// ```
pub fn expectation<'s>(
    particles: Stream<'s, u64, Vec<ParticleRecord>>,
    references: Stream<'s, u64, Vec<ReferenceMsg>>,
    layout: BlockLayout,
    progress: Progress,
    shared: SharedProjections,
    scorer: SharedScorer,
) -> Stream<'s, u64, Vec<BlockPartial>> {
    let peers = particles.scope().peers();
    particles.join_epochs_stashed(
        references,
        (
            // The pact sends a record to worker `hash % peers`.
            Exchange::new(move |p: &ParticleRecord| layout.worker(p.half, p.block, peers) as u64),
            Pipeline,
        ),
        "Expectation",
        move |&epoch, stash, msgs| {
            stash.sort_by_key(|p| (p.half, p.block, p.id));
            let partials = expect_all(stash, &msgs, layout, &progress, (&shared, epoch, &*scorer));
            shared.release(epoch);
            partials
        },
    )
}

/// The settings of one iteration, from its references.
struct IterationContext<'a> {
    plan: &'a IterationPlan,
    references: [&'a ReferenceMsg; 2],
    symmetry: SymmetryGroup,
    window: FourierWindow,
}

/// Everything the E-step of one iteration shares between the particles of a worker: its
/// settings, orientation grids, the process's projections and the scorer.
struct Iteration<'a> {
    context: IterationContext<'a>,
    grids: OrientationGrids<'a>,
    projections: Arc<Projections>,
    scorer: &'a dyn Scorer,
}

/// E-step of every stashed particle (sorted by half set, block, id), each block's sums folded
/// into its half set's reduction tree as soon as they are complete: the partial sums of the
/// worker's subtrees. `shared` holds the projections of `epoch`; `scorer` scores the poses. A
/// failure to set up the iteration fails every block.
fn expect_all(
    stash: &mut [ParticleRecord],
    msgs: &[ReferenceMsg],
    layout: BlockLayout,
    progress: &Progress,
    (shared, epoch, scorer): (&SharedProjections, u64, &dyn Scorer),
) -> Vec<BlockPartial> {
    let context = IterationContext::new(msgs);
    let sampling = context.as_ref().map_err(Clone::clone).and_then(|c| {
        OrientationSampling::new(c.plan.healpix_order, &c.symmetry).map_err(|e| e.to_string())
    });
    let iteration = context.and_then(|context| {
        let sampling = sampling.as_ref().map_err(Clone::clone)?;
        Iteration::new(context, sampling, (shared, epoch), scorer)
    });
    let mut partials = Vec::new();
    for half in [1u8, 2] {
        let start = stash.partition_point(|p| p.half < half);
        let end = stash.partition_point(|p| p.half <= half);
        let blocks = &mut stash[start..end];
        if blocks.is_empty() {
            continue;
        }
        let leaves = layout.leaves(half);
        let mut reduction = match Reduction::new(leaves) {
            Ok(r) => r,
            Err(e) => {
                partials.push(failed(half, leaves, e));
                continue;
            }
        };
        for block in blocks.chunk_by_mut(|a, b| a.block == b.block) {
            let leaf = Node::leaf(layout.leaf(half, block[0].block));
            let sums = match &iteration {
                Ok(it) => expect_block(it, block, progress),
                Err(e) => Err(e.clone()),
            };
            if let Err(e) = reduction.insert(leaf, sums) {
                partials.push(failed(half, leaves, format!("half set {half}: {e}")));
            }
        }
        partials.extend(reduction.into_nodes().map(|(node, sums)| BlockPartial {
            half,
            node,
            leaves,
            sums,
        }));
    }
    partials
}

/// A partial that fails the whole half set (at the root of its tree) with `message`.
fn failed(half: u8, leaves: u64, message: String) -> BlockPartial {
    BlockPartial {
        half,
        node: Node::root(leaves),
        leaves,
        sums: Err(message),
    }
}

impl<'a> IterationContext<'a> {
    fn new(msgs: &'a [ReferenceMsg]) -> Result<Self, String> {
        let find = |half: u8| {
            msgs.iter()
                .find(|m| m.half == half)
                .ok_or_else(|| format!("no reference for half set {half} in this iteration"))
        };
        let references = [find(1)?, find(2)?];
        let plan = &references[0].plan;
        let symmetry = SymmetryGroup::parse(&plan.symmetry).map_err(|e| e.to_string())?;
        let window = FourierWindow::new(references[0].map.box_size, plan.current_size)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            plan,
            references,
            symmetry,
            window,
        })
    }
}

impl<'a> Iteration<'a> {
    /// The worker's grids for `context`, and the projections of `epoch` from `shared` (built
    /// here if this is the process's first worker to ask).
    fn new(
        context: IterationContext<'a>,
        sampling: &'a OrientationSampling,
        (shared, epoch): (&SharedProjections, u64),
        scorer: &'a dyn Scorer,
    ) -> Result<Self, String> {
        let grids = OrientationGrids::new(&context, sampling)?;
        let projections = shared.fetch(epoch, || build_projections(&context, &grids))?;
        Ok(Self {
            context,
            grids,
            projections,
            scorer,
        })
    }
}

/// Both halves' projectors and, in a global search, their banks of the coarse slices of the
/// grids' plan.
fn build_projections(
    context: &IterationContext<'_>,
    grids: &OrientationGrids<'_>,
) -> Result<Projections, String> {
    let projector = |r: &ReferenceMsg| -> Result<Projector, String> {
        let volume = r.map.to_volume().map_err(|e| e.to_string())?;
        Projector::new(&volume, &ProjectorOptions::default()).map_err(|e| e.to_string())
    };
    let projectors = [
        projector(context.references[0])?,
        projector(context.references[1])?,
    ];
    let bank = |projector: &Projector| {
        ProjectionBank::for_plan(
            projector,
            &context.window,
            context.plan.coarse_size,
            &grids.plan,
        )
        .map_err(|e| e.to_string())
    };
    let banks = match grids.global {
        Some(_) if banks_fit(context, grids)? => {
            Some([bank(&projectors[0])?, bank(&projectors[1])?])
        }
        _ => None,
    };
    Ok(Projections { projectors, banks })
}

/// Whether both halves' banks of the grids' coarse slices fit in memory now; says so on
/// stderr when they do not (the coarse pass then projects per particle).
fn banks_fit(context: &IterationContext<'_>, grids: &OrientationGrids<'_>) -> Result<bool, String> {
    let pixels = context
        .window
        .len_for(context.plan.coarse_size)
        .map_err(|e| e.to_string())?;
    let bytes = 2.0 * grids.plan.coarse_matrices().len() as f64 * pixels as f64 * 8.0;
    let fits = bank_fits(bytes);
    if !fits {
        eprintln!(
            "cryoflux refine: iteration {}: the coarse slices ({:.2} GB for both halves) do not \
             fit in the available memory; projecting them per particle instead (same result, \
             slower)",
            context.plan.iteration,
            bytes / 1e9
        );
    }
    Ok(fits)
}

/// The iteration's orientation grid (one oversampling order, perturbed), shared by all
/// particles of a worker; in a global search also the list of coarse orientations.
struct OrientationGrids<'s> {
    sampling: &'s OrientationSampling,
    plan: OrientationPlan<'s>,
    global: Option<Vec<CoarseOrientation>>,
}

impl<'s> OrientationGrids<'s> {
    fn new(
        context: &IterationContext<'_>,
        sampling: &'s OrientationSampling,
    ) -> Result<Self, String> {
        let plan = OrientationPlan::new(sampling, 1, context.plan.perturbation_deg)
            .map_err(|e| e.to_string())?;
        let global = match context.plan.local_sigma_deg {
            Some(_) => None,
            None => Some(global_orientations(sampling, None).map_err(|e| e.to_string())?),
        };
        Ok(Self {
            sampling,
            plan,
            global,
        })
    }
}

/// The sums of one block, or the first particle error (naming the particle's row).
fn expect_block(
    iteration: &Iteration<'_>,
    block: &mut [ParticleRecord],
    progress: &Progress,
) -> Result<HalfSums, String> {
    let first = &block[0];
    let groups = iteration.context.references[0].noise.groups();
    let mut sums =
        HalfSums::new(first.box_size, first.pixel_size, groups).map_err(|e| e.to_string())?;
    for particle in block.iter_mut() {
        let update = expect_particle(iteration, particle, &mut sums)
            .map_err(|e| format!("particle row {}: {e}", particle.id + 1))?;
        particle.pose = update.pose;
        particle.norm = update.norm;
        sums.updates.push(update);
        progress(1);
    }
    Ok(sums)
}

/// Search and contribution of one particle; returns its update.
fn expect_particle(
    iteration: &Iteration<'_>,
    particle: &ParticleRecord,
    sums: &mut HalfSums,
) -> Result<ParticleUpdate, Box<dyn std::error::Error>> {
    let Iteration {
        context,
        grids,
        projections,
        scorer,
    } = iteration;
    let half = usize::from(particle.half.clamp(1, 2) - 1);
    let reference = context.references[half];
    let settings = context.plan;
    let noise = &reference.noise;
    let group = particle.group;
    if group >= noise.groups() {
        return Err(format!(
            "noise group {} but the model has {} groups",
            group + 1,
            noise.groups()
        )
        .into());
    }
    let p = particle.pixel_size;
    let norm_factor = if settings.norm_correction {
        (noise.average_norm / particle.norm) as f32
    } else {
        1.0
    };
    let image = Image::from_vec(
        particle.box_size,
        p,
        particle.image.iter().map(|v| v * norm_factor).collect(),
    )?;
    let ctf = particle
        .ctf
        .as_ref()
        .map(|c| Ctf::new(c.params()))
        .transpose()?;
    let rounded = particle.pose.origin_angst.map(|o| (o / p).round() as i64);
    let input = ParticleInput {
        image: &image,
        rounded_offset_px: rounded,
        mask: ParticleMask::for_diameter(settings.particle_diameter_angst, p, MaskFill::Mean),
        ctf,
        ctf_variant: CtfVariant {
            intact_first_peak: settings.ctf_intact_first_peak,
            ..CtfVariant::default()
        },
        sigma2: &noise.sigma2[group],
        scale: noise.scales[group],
    };
    let prepared = PreparedParticle::new(&context.window, &input)?;
    let translations = TranslationGrid::new(
        &TranslationSearch {
            range_angst: settings.offset_range_angst,
            step_angst: settings.offset_step_angst,
            perturbation_angst: 0.0,
            sigma_offset_angst: reference.sigma_offset_angst,
            prior_centre_angst: [0.0, 0.0],
        },
        1,
        rounded,
        p,
    )?;
    let metric = if settings.cross_correlation {
        Metric::NegativeCc
    } else {
        Metric::Diff2
    };
    let projector = &projections.projectors[half];
    let local;
    let (orientations, coarse_bank) = match (&grids.global, settings.local_sigma_deg) {
        (Some(list), _) => (
            list.as_slice(),
            projections.banks.as_ref().map(|banks| &banks[half]),
        ),
        (None, sigma) => {
            let previous =
                EulerAngles::new(particle.pose.rot, particle.pose.tilt, particle.pose.psi);
            let prior = grids
                .sampling
                .local_prior(previous, &LocalSearch::isotropic(sigma.unwrap_or(0.0)));
            local = local_orientations(&prior)?;
            (local.as_slice(), None)
        }
    };
    let found = search(
        &ParticleSearch {
            projector,
            particle: &prepared,
            plan: &grids.plan,
            orientations,
            translations: &translations,
            coarse_size: settings.coarse_size,
            coarse_bank,
            adaptive_fraction: ADAPTIVE_FRACTION,
            max_significant: settings.max_significant,
            metric,
        },
        *scorer,
    )?;
    let scale_sums = settings.scale_correction && noise.groups() > 1 && !reference.ssnr.is_empty();
    let contribution = contribute(
        projector,
        &prepared,
        &found.kept,
        &ContributionSettings {
            ssnr: scale_sums.then_some(reference.ssnr.as_slice()),
            prior_centre_angst: [0.0, 0.0],
        },
        &mut sums.backprojector,
    )?;
    sums.groups[group].add_particle(&contribution);
    sums.weight_sum += contribution.weight_sum;
    let norm = if settings.norm_correction && !settings.cross_correlation {
        contribution.norm_correction(particle.norm, noise.average_norm)
    } else {
        particle.norm
    };
    sums.norm_sum += norm;
    sums.offset_sq_angst2 += contribution.offset_sq_angst2;
    sums.log_likelihood += found.log_likelihood;
    sums.max_probability += found.max_probability;
    sums.particles += 1;
    let pose = PoseRecord::new(found.best.angles(), found.best.origin_angst(&prepared));
    let angular_change_deg = context.symmetry.min_distance(
        &found.best.rotation,
        &particle.pose.matrix(),
        mean_row_angle_between,
    );
    sums.angular_change_deg += angular_change_deg;
    let window = prepared.window();
    sums.evaluations += (found.coarse_samples * window.len_for(settings.coarse_size)?
        + found.fine_samples * window.len()) as f64;
    sums.offset_change_sq_angst2 += (0..2)
        .map(|k| (pose.origin_angst[k] - particle.pose.origin_angst[k]).powi(2))
        .sum::<f64>();
    if settings.accuracy_every > 0 && particle.id.is_multiple_of(settings.accuracy_every) {
        let mut random =
            SplitMix64::keyed(settings.seed, &[settings.iteration as u64, particle.id]);
        let accuracy = expected_accuracy(projector, &prepared, &found.best.rotation, &mut random)?;
        sums.accuracy_rotation_deg += accuracy.rotation_deg;
        sums.accuracy_translation_angst += accuracy.translation_angst;
        sums.accuracy_particles += 1;
    }
    Ok(ParticleUpdate {
        id: particle.id,
        half: particle.half,
        pose,
        log_likelihood: found.log_likelihood,
        max_probability: found.max_probability,
        significant_samples: found.significant_samples,
        angular_change_deg,
        norm,
    })
}
