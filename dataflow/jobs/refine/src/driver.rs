//! The refinement's iterations on [`cryoflux_jobkit::driver`]: particles are the records,
//! both half sets' references the per-iteration messages, the M-step result the output and the
//! [`Schedule`] the control state every worker advances identically. The calling thread writes
//! each iteration's files and prints its log line while the next iteration runs, then the
//! checkpoint.

use std::sync::Arc;

use anyhow::{Context, anyhow, bail};
use cryoflux_jobkit::driver::{self, Epoch, EpochJob, Start};
use cryoflux_jobkit::progress::ProgressLog;
use cryoflux_kernels::estep::{TranslationGrid, TranslationSearch};
use cryoflux_kernels::geometry::sampling::OrientationSampling;
use cryoflux_kernels::geometry::symmetry::SymmetryGroup;
use cryoflux_kernels::random::mix;
use cryoflux_kernels::resolution::fsc::{resolution_shell, shell_to_angstrom};
use cryoflux_operators::records::MapRecord;
use cryoflux_operators::refine::expectation::Progress;
use cryoflux_operators::refine::projections::{SharedProjections, available_memory_bytes};
use cryoflux_operators::refine::records::IterationPlan;
use cryoflux_operators::refine::records::Maximised;
use cryoflux_operators::refine::records::ParticleRecord;
use cryoflux_operators::refine::records::ReferenceMsg;
use cryoflux_operators::refine::records::SolventMask;
use cryoflux_operators::refine::reduction::BlockLayout;
use cryoflux_operators::refine::scorer::{self, ScorerChoice, SharedScorer};
use indicatif::ProgressBar;
use timely::dataflow::{InputHandleVec, Scope, Stream};

use super::checkpoint::{Checkpoint, Resume, fingerprint};
use super::groups::SMALL_GROUP;
use super::initial::{LoadSettings, load_particles, load_reference, load_solvent_mask};
use super::memory::{FinalIteration, GlobalSearch, gigabytes};
use super::outputs::Outputs;
use super::schedule::{SamplingOptions, Schedule, fine_angular_step_deg, fine_offset_step_angst};
use super::{IterationSummary, ProcessShared, RefineReport, RefineSettings, build};

/// Largest grid perturbation, as a fraction of the fine angular step (RELION 0.5).
const PERTURBATION_FACTOR: f64 = 0.5;

/// About this many particles estimate the alignment accuracy each iteration (RELION: 100).
const ACCURACY_PARTICLES: usize = 100;

/// Without a progress bar, an E-step logs its progress this many times per iteration…
const PROGRESS_LINES_PER_ITERATION: u64 = 4;

/// …and at least this often while particles finish.
const PROGRESS_LINE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);

/// What every worker shares: the settings and what the plans of the iterations need.
struct Job {
    /// Number of particles in the job (all processes).
    particles: usize,
    /// The job's reduction blocks per half set.
    layout: BlockLayout,
    settings: RefineSettings,
    block_size: usize,
    /// The user's solvent mask, sent with half 1's reference every iteration.
    solvent_mask: Option<SolventMask>,
    /// Estimated bytes of the final iteration in this process.
    final_memory_bytes: f64,
}

/// Runs the whole refinement; see the module doc.
pub fn run(settings: &RefineSettings) -> anyhow::Result<RefineReport> {
    check(settings)?;
    let scorer = select_scorer(&settings.scorer)?;
    let resume = settings
        .continue_from
        .as_deref()
        .map(Resume::open)
        .transpose()?;
    let symmetry = SymmetryGroup::parse(&settings.symmetry)
        .with_context(|| format!("--sym {}", settings.symmetry))?;
    let initial = load_particles(
        &settings.particles,
        &LoadSettings {
            ctf: settings.ctf,
            seed: settings.seed,
            particle_diameter_angst: settings.particle_diameter,
            norm_correction: settings.norm_correction,
        },
    )?;
    let reference = load_reference(
        &settings.reference,
        initial.box_size,
        initial.pixel_size,
        settings.ini_high,
        settings.rescale_reference,
    )?;
    let solvent_mask = load_solvent_mask(
        settings.solvent_mask.as_deref(),
        settings.solvent_correct_fsc,
        initial.box_size,
        initial.pixel_size,
    )?;
    let search = check_global_search(settings, &symmetry, initial.pixel_size)?;
    OrientationSampling::new(settings.healpix_order, &symmetry)
        .with_context(|| format!("--healpix_order {}", settings.healpix_order))?;
    if let Some(warning) = diameter_warning(
        settings.particle_diameter,
        initial.box_size,
        initial.pixel_size,
    ) && settings.cluster.writes_outputs()
    {
        eprintln!("cryoflux refine: warning: {warning}");
    }
    let fingerprint = fingerprint(settings, &initial.records)?;
    if let Some(resume) = &resume {
        resume.check(&fingerprint)?;
    }
    let halves: Vec<u8> = initial.records.iter().map(|r| r.half).collect();
    let outputs = Outputs::new(settings, &initial.set, halves, initial.groups.clone())?;
    // Only process 0 writes; results (and hence the log) only reach worker 0's process.
    if settings.cluster.writes_outputs() && resume.is_none() {
        outputs.start(&reference)?;
    }
    let schedule = Schedule::new(
        initial.box_size,
        initial.pixel_size,
        settings.ini_high,
        settings.particle_diameter,
        SamplingOptions {
            healpix_order: settings.healpix_order,
            offset_range_angst: settings.offset_range,
            offset_step_angst: settings.offset_step,
            auto_local_healpix_order: settings.auto_local_healpix_order,
            auto_resol_angles: settings.auto_resol_angles,
            auto_ignore_angles: settings.auto_ignore_angles,
        },
        settings.iterations,
    );
    let map = MapRecord::from_volume(&reference);
    let layout = BlockLayout::of(&initial.records);
    let final_iteration = FinalIteration {
        box_size: initial.box_size,
        particles: initial.records.len(),
        workers: settings.threads,
        blocks_per_half: layout.blocks.into_iter().max().unwrap_or(1) as usize,
    };
    let final_memory_bytes = final_iteration.bytes();
    if settings.cluster.writes_outputs() {
        report_groups(&initial.groups.sizes());
        if let Some(warning) = initial
            .background
            .filter(|_| settings.check_normalisation)
            .and_then(|b| b.warning())
        {
            eprintln!("cryoflux refine: warning: {warning}");
        }
        let available = available_memory_bytes().map_or("unknown".into(), gigabytes);
        eprintln!(
            "cryoflux refine: the global search (HEALPix order {}, {:.3e} orientations × {} \
             translations) will need about {} and the final iteration (box {}, {} workers) \
             about {} of memory; {available} available now",
            search.healpix_order,
            search.orientations(),
            search.translations,
            gigabytes(search.bytes()),
            initial.box_size,
            settings.threads,
            gigabytes(final_memory_bytes)
        );
    }
    let job = Job {
        particles: initial.records.len(),
        layout,
        settings: settings.clone(),
        block_size: initial.block_size,
        solvent_mask,
        final_memory_bytes,
    };
    let plan = job.plan(&schedule, 1);
    let messages = (1..=2)
        .map(|half| ReferenceMsg {
            half,
            map: map.clone(),
            noise: initial.noise.clone(),
            ssnr: Vec::new(),
            sigma_offset_angst: settings.offset_range.max(settings.offset_step),
            plan: plan.clone(),
            solvent_mask: job.solvent_mask_of(half),
        })
        .collect();
    let mut start = Start {
        records: initial.records,
        messages,
        control: schedule,
    };
    if let Some(resume) = resume {
        let path = resume.path.display().to_string();
        let k = resume.apply(&mut start.records, &mut start.control, &mut start.messages);
        if settings.cluster.writes_outputs() {
            eprintln!("cryoflux refine: resuming after iteration {k} ({path})");
        }
    }
    let bar = if settings.progress {
        ProgressBar::new(job.particles as u64)
    } else {
        ProgressBar::hidden()
    };
    let ticker = bar.clone();
    // Without a bar (standard error is not a terminal), progress goes to the log.
    let lines = Arc::new(ProgressLog::new(
        format!(
            "iteration {} E-step (particles)",
            start.messages[0].plan.iteration
        ),
        job.particles as u64,
        (job.particles as u64).div_ceil(PROGRESS_LINES_PER_ITERATION),
        PROGRESS_LINE_INTERVAL,
    ));
    let log_lines = (!settings.progress).then(|| lines.clone());
    let progress: Progress = Arc::new(move |k| {
        ticker.inc(k);
        if let Some(lines) = &log_lines {
            lines.advance(k);
        }
    });
    let process = ProcessShared {
        progress,
        projections: SharedProjections::new(settings.threads),
        scorer,
    };
    let job = Arc::new(job);
    let mut summaries = Vec::new();
    let mut final_resolution = f64::NAN;
    let on_epoch = |epoch: Epoch<Maximised, Schedule>| -> anyhow::Result<()> {
        bar.finish_and_clear();
        let (m, schedule) = (&epoch.output, &epoch.control);
        lines.restart(format!(
            "iteration {} E-step (particles)",
            m.plan.iteration + 1
        ));
        let summary = summarise(m, schedule, epoch.seconds);
        log(&summary, m, schedule);
        outputs.iteration(m, schedule, summary.resolution_angst)?;
        if !m.plan.final_iteration {
            // Last, so that a checkpoint on disk means the iteration's files are complete.
            let next = job.next_references(m, schedule);
            Checkpoint::after(
                m,
                epoch.control.clone(),
                next,
                fingerprint.clone(),
                settings,
            )
            .write(&settings.output_root)?;
        }
        if summary.final_iteration {
            final_resolution = summary.resolution_angst;
        }
        summaries.push(summary);
        bar.reset();
        Ok(())
    };
    let outcome = driver::run(
        job.clone(),
        start,
        &settings.cluster,
        settings.threads,
        process,
        on_epoch,
    );
    bar.finish_and_clear();
    outcome?;
    Ok(RefineReport {
        iterations: summaries,
        resolution_angst: final_resolution,
        map: outputs.path("_class001.mrc"),
        data_star: outputs.path("_data.star"),
    })
}

/// The E-step's scorer for `choice`, the GPU refused with one message naming `--gpu` (this
/// build has no GPU scorer).
fn select_scorer(choice: &ScorerChoice) -> anyhow::Result<SharedScorer> {
    scorer::select(choice, cryoflux_jobkit::gpu::probe).map_err(|e| {
        let flag = match choice {
            ScorerChoice::Gpu(d) if !d.per_process.is_empty() => format!("--gpu {d}"),
            _ => "--gpu".into(),
        };
        anyhow!("{flag}: {e}; run without --gpu")
    })
}

/// Says how many noise groups there are, and warns (as RELION does) about small ones, whose
/// noise spectra are poorly determined.
fn report_groups(sizes: &[usize]) {
    let small = sizes.iter().filter(|&&n| n < SMALL_GROUP).count();
    eprintln!(
        "cryoflux refine: {} noise group(s) (rlnGroupName, else one per micrograph), {} to {} \
         particles each",
        sizes.len(),
        sizes.iter().min().unwrap_or(&0),
        sizes.iter().max().unwrap_or(&0)
    );
    if small > 0 {
        eprintln!(
            "cryoflux refine: warning: {small} noise group(s) have fewer than {SMALL_GROUP} \
             particles; their noise spectra are poorly determined: give larger groups with \
             rlnGroupName (e.g. micrographs of similar defocus or ice)"
        );
    }
}

/// The first iterations' global search, refused (before any work) when its orientation grid
/// and per-particle scores do not fit in the memory available, naming the largest order that
/// does.
fn check_global_search(
    settings: &RefineSettings,
    symmetry: &SymmetryGroup,
    pixel_size: f64,
) -> anyhow::Result<GlobalSearch> {
    let translations = TranslationGrid::new(
        &TranslationSearch {
            range_angst: settings.offset_range,
            step_angst: settings.offset_step,
            perturbation_angst: 0.0,
            sigma_offset_angst: settings.offset_range.max(settings.offset_step),
            prior_centre_angst: [0.0, 0.0],
        },
        1,
        [0, 0],
        pixel_size,
    )
    .context("--offset_range/--offset_step")?;
    let search = GlobalSearch {
        healpix_order: settings.healpix_order,
        symmetry_order: symmetry.order(),
        translations: translations.len(),
        workers: settings.threads,
    };
    if let Some(available) = available_memory_bytes()
        && search.bytes() > available
    {
        let fits = search
            .largest_order_within(available, settings.healpix_order)
            .map_or("no order fits".into(), |o| format!("orders up to {o} fit"));
        bail!(
            "--healpix_order {}: a global search over {:.3e} orientations × {} translations \
             needs about {} of memory (the orientation grid and every particle's scores, for \
             {} workers) but {} is available; {fits} (each order has 8× the orientations of \
             the one before; RELION's auto-refine starts at order 2, 7.5°, and goes local \
             from order 4)",
            settings.healpix_order,
            search.orientations(),
            search.translations,
            gigabytes(search.bytes()),
            settings.threads,
            gigabytes(available)
        );
    }
    Ok(search)
}

/// A warning when the particle diameter (Å) exceeds the box (`box_size` px of `pixel_size`
/// Å): the alignment and solvent masks then cover the whole box.
fn diameter_warning(diameter_angst: f64, box_size: usize, pixel_size: f64) -> Option<String> {
    let box_angst = box_size as f64 * pixel_size;
    (diameter_angst > box_angst).then(|| {
        format!(
            "--particle_diameter {diameter_angst} Å exceeds the box ({box_size} px × \
             {pixel_size} Å = {box_angst} Å): the masks cover the whole box, so noise around the \
             particle is aligned too; give the particle's real diameter"
        )
    })
}

fn check(s: &RefineSettings) -> anyhow::Result<()> {
    let positive = |name: &str, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(anyhow!("{name} {v}; expected a positive number"))
        }
    };
    positive("--ini_high (Å)", s.ini_high)?;
    positive("--particle_diameter (Å)", s.particle_diameter)?;
    positive("--offset_step (Å)", s.offset_step)?;
    if !(s.offset_range.is_finite() && s.offset_range >= 0.0) {
        bail!("--offset_range {} Å; expected ≥ 0", s.offset_range);
    }
    if s.threads == 0 {
        bail!("--j 0; expected at least one worker thread");
    }
    if s.solvent_correct_fsc && s.solvent_mask.is_none() {
        bail!(
            "--solvent_correct_fsc corrects the FSC for a solvent mask; expected --solvent_mask \
             MASK.mrc as well"
        );
    }
    Ok(())
}

impl Job {
    /// The plan of `iteration` given the schedule after the previous one.
    fn plan(&self, schedule: &Schedule, iteration: usize) -> IterationPlan {
        let final_iteration = iteration > 1 && schedule.converged;
        let current_size = schedule.current_size(final_iteration);
        let seed = self.settings.seed;
        let u = (mix(seed ^ mix(iteration as u64)) >> 11) as f64 / (1u64 << 53) as f64;
        let cross_correlation = iteration == 1 && self.settings.firstiter_cc;
        let accuracy_every = if cross_correlation {
            0
        } else {
            (self.particles / ACCURACY_PARTICLES).max(1) as u64
        };
        IterationPlan {
            iteration,
            final_iteration,
            current_size,
            coarse_size: schedule.coarse_size(current_size),
            healpix_order: schedule.healpix_order,
            local_sigma_deg: schedule.local_sigma_deg,
            symmetry: self.settings.symmetry.clone(),
            offset_range_angst: schedule.offset_range_angst,
            offset_step_angst: schedule.offset_step_angst,
            perturbation_deg: PERTURBATION_FACTOR
                * (2.0 * u - 1.0)
                * schedule.fine_angular_step_deg(),
            cross_correlation,
            ctf_intact_first_peak: self.settings.ctf_intact_first_peak,
            accuracy_every,
            seed,
            particle_diameter_angst: self.settings.particle_diameter,
            current_resolution_angst: schedule.resolution_angst(),
            low_resolution_join_angst: self.settings.low_resol_join_halves,
            block_size: self.block_size,
            norm_correction: self.settings.norm_correction,
            scale_correction: self.settings.scale_correction,
            max_significant: self.settings.max_significant,
        }
    }

    /// Refuses to start the final iteration when its estimated memory exceeds what is
    /// available now (the last checkpoint is on disk: `--continue` on a larger machine).
    fn check_final_memory(&self) -> Result<(), String> {
        let needed = self.final_memory_bytes;
        match available_memory_bytes() {
            Some(available) if needed > available => Err(format!(
                "the final iteration needs about {} of memory but only {} is available; the run \
                 stops before it — resume with `--continue {}` on a machine with more memory \
                 (or fewer --j workers)",
                gigabytes(needed),
                gigabytes(available),
                self.settings.output_root.display()
            )),
            _ => Ok(()),
        }
    }

    /// The references of the iteration after `m`.
    fn next_references(&self, m: &Maximised, schedule: &Schedule) -> Vec<ReferenceMsg> {
        let plan = self.plan(schedule, m.plan.iteration + 1);
        (0..2)
            .map(|h| ReferenceMsg {
                half: h as u8 + 1,
                map: m.maps[h].clone(),
                noise: m.noise[h].clone(),
                ssnr: m.ssnr.clone(),
                sigma_offset_angst: m.sigma_offset_angst[h],
                plan: plan.clone(),
                solvent_mask: self.solvent_mask_of(h as u8 + 1),
            })
            .collect()
    }

    /// The solvent mask to send with half set `half`'s reference: half 1's carries it, so that
    /// it crosses to the workers once per iteration.
    fn solvent_mask_of(&self, half: u8) -> Option<SolventMask> {
        self.solvent_mask.clone().filter(|_| half == 1)
    }
}

impl EpochJob for Job {
    type Record = ParticleRecord;
    type Message = ReferenceMsg;
    type Output = Maximised;
    type Control = Schedule;
    type Process = ProcessShared;

    fn build<'s>(
        &self,
        scope: Scope<'s, u64>,
        records: &mut InputHandleVec<u64, ParticleRecord>,
        messages: &mut InputHandleVec<u64, ReferenceMsg>,
        leader: bool,
        process: Self::Process,
    ) -> Stream<'s, u64, Vec<Result<Maximised, String>>> {
        build(scope, records, messages, leader, self.layout, process)
    }

    fn update(&self, schedule: &mut Schedule, m: &Maximised) {
        schedule.update(&m.fsc, &m.stats, m.plan.cross_correlation);
    }

    fn next(
        &self,
        schedule: &Schedule,
        m: &Maximised,
    ) -> Result<Option<Vec<ReferenceMsg>>, String> {
        if m.plan.final_iteration {
            return Ok(None);
        }
        let next = self.next_references(m, schedule);
        if next.first().is_some_and(|r| r.plan.final_iteration) {
            self.check_final_memory()?;
        }
        Ok(Some(next))
    }
}

/// The log summary of one iteration.
fn summarise(m: &Maximised, schedule: &Schedule, seconds: f64) -> IterationSummary {
    let resolution_angst = if m.plan.final_iteration {
        let map = &m.maps[0];
        shell_to_angstrom(
            resolution_shell(&m.fsc, 0.143),
            map.box_size,
            map.pixel_size,
        )
    } else {
        schedule.resolution_angst()
    };
    IterationSummary {
        iteration: m.plan.iteration,
        final_iteration: m.plan.final_iteration,
        current_size: m.plan.current_size,
        resolution_angst,
        iterations_without_gain: schedule.iterations_without_gain,
        mean_max_probability: m.stats.mean_max_probability,
        mean_angular_change_deg: m.stats.mean_angular_change_deg,
        rms_offset_change_angst: m.stats.rms_offset_change_angst,
        fine_angular_step_deg: fine_angular_step_deg(m.plan.healpix_order),
        local_search: m.plan.local_sigma_deg.is_some(),
        offset_range_angst: m.plan.offset_range_angst,
        fine_offset_step_angst: fine_offset_step_angst(m.plan.offset_step_angst),
        accuracy: m
            .stats
            .accuracy_rotation_deg
            .zip(m.stats.accuracy_translation_angst),
        seconds,
    }
}

/// One log line per iteration, like RELION's "Auto-refine: Resolution= …", and a line when
/// the next iteration samples differently or is the final one.
fn log(s: &IterationSummary, m: &Maximised, next: &Schedule) {
    let kind = if s.final_iteration {
        " (final, FSC 0.143)"
    } else if m.plan.cross_correlation {
        " (cross-correlation)"
    } else {
        ""
    };
    let accuracy = s.accuracy.map_or(String::new(), |(rot, trans)| {
        format!(" accuracy= {rot:.2}° {trans:.2} Å;")
    });
    eprintln!(
        "Iteration {:3}{kind}: Auto-refine: Resolution= {:.2} Å (no gain for {} iter); \
         changes= {:.2}° {:.2} Å;{accuracy} angular step= {:.2}°{}; offsets ±{:.1} Å step \
         {:.2} Å; current_size= {}; mean Pmax= {:.3} ({:.1} s, {:.0} particles/s, {:.2e} \
         evals/s)",
        s.iteration,
        s.resolution_angst,
        s.iterations_without_gain,
        s.mean_angular_change_deg,
        s.rms_offset_change_angst,
        s.fine_angular_step_deg,
        if s.local_search { " local" } else { "" },
        s.offset_range_angst,
        s.fine_offset_step_angst,
        s.current_size,
        s.mean_max_probability,
        s.seconds,
        m.stats.particles as f64 / s.seconds.max(1e-9),
        m.stats.evaluations / s.seconds.max(1e-9),
    );
    if s.final_iteration {
        return;
    }
    if next.converged {
        eprintln!(
            "Auto-refine: converged; the last iteration joins the halves and uses data to \
             Nyquist"
        );
    } else if next.healpix_order != m.plan.healpix_order
        || next.local_sigma_deg != m.plan.local_sigma_deg
        || next.offset_step_angst != m.plan.offset_step_angst
        || next.offset_range_angst != m.plan.offset_range_angst
    {
        let search = next.local_sigma_deg.map_or("global".to_string(), |sigma| {
            format!("local, σ= {sigma:.2}°")
        });
        eprintln!(
            "Auto-refine: next: angular step= {:.2}° ({search}); offsets ±{:.2} Å step {:.2} Å",
            next.fine_angular_step_deg(),
            next.offset_range_angst,
            next.fine_offset_step_angst(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diameter_beyond_the_box_is_warned_about() {
        let warning = diameter_warning(10000.0, 48, 1.8).unwrap();
        assert!(
            warning.contains("10000") && warning.contains("86.4"),
            "{warning}"
        );
        assert_eq!(diameter_warning(70.0, 48, 1.8), None);
    }
}
