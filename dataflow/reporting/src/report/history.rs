//! Everything the report shows about one run, read from its files: per-iteration model and
//! sampling values, the final model, the poses of the last two iterations with a particle file,
//! and the time per iteration. Optional files that are missing or unreadable become notes,
//! not errors.

use super::locate::RunFiles;
use super::model::ModelStats;
use super::poses::Poses;
use super::sampling::Sampling;
use super::timing::{iteration_ends, iteration_seconds, timed_iterations};

/// One iteration's model (half 1) and sampling.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationRecord {
    /// Iteration number (NNN of `_itNNN_`; 0 is the start).
    pub number: u32,
    /// `<root>_itNNN_half1_model.star`.
    pub model: ModelStats,
    /// `<root>_itNNN_sampling.star` (RELION writes it; cryoflux does not yet).
    pub sampling: Option<Sampling>,
}

/// The particle poses written at the end of one iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationPoses {
    /// Iteration number.
    pub number: u32,
    /// Its `<root>_itNNN_data.star`.
    pub poses: Poses,
}

/// What a run's files say, for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct JobHistory {
    /// Root and iteration numbers.
    pub run: RunFiles,
    /// Readable iterations, ascending.
    pub iterations: Vec<IterationRecord>,
    /// `<root>_model.star`, written when the run finished.
    pub final_model: Option<ModelStats>,
    /// Poses of the last iteration with a particle file.
    pub last_poses: Option<IterationPoses>,
    /// Poses of the iteration with a particle file before that.
    pub previous_poses: Option<IterationPoses>,
    /// (iteration, wall-clock seconds) from file modification times.
    pub seconds: Vec<(u32, f64)>,
    /// What could not be read (each names its file).
    pub notes: Vec<String>,
}

impl JobHistory {
    /// Reads the files of `run`; fails only when no iteration's model file is readable.
    pub fn read(run: RunFiles) -> anyhow::Result<Self> {
        let mut notes = Vec::new();
        let mut iterations = Vec::new();
        for &number in &run.iterations {
            match ModelStats::read(&run.iteration_file(number, "_half1_model.star")) {
                Ok(model) => {
                    let sampling_path = run.iteration_file(number, "_sampling.star");
                    let sampling = sampling_path
                        .exists()
                        .then(|| Sampling::read(&sampling_path))
                        .transpose()
                        .unwrap_or_else(|e| {
                            notes.push(format!("{e:#}"));
                            None
                        });
                    iterations.push(IterationRecord {
                        number,
                        model,
                        sampling,
                    });
                }
                Err(e) => notes.push(format!("iteration {number} left out: {e:#}")),
            }
        }
        if iterations.is_empty() {
            anyhow::bail!(
                "{}: no readable iteration model file ({})",
                run.root.display(),
                notes.join("; ")
            );
        }
        let final_path = run.file("_model.star");
        let final_model = final_path
            .exists()
            .then(|| ModelStats::read(&final_path))
            .transpose()
            .unwrap_or_else(|e| {
                notes.push(format!("{e:#}"));
                None
            });
        let mut with_poses = run
            .iterations
            .iter()
            .rev()
            .filter(|&&it| run.iteration_file(it, "_data.star").exists())
            .take(2)
            .filter_map(
                |&number| match Poses::read(&run.iteration_file(number, "_data.star")) {
                    Ok(poses) => Some(IterationPoses { number, poses }),
                    Err(e) => {
                        notes.push(format!("{e:#}"));
                        None
                    }
                },
            );
        let (last_poses, previous_poses) = (with_poses.next(), with_poses.next());
        let timed = timed_iterations(&run);
        let seconds = iteration_seconds(&timed, &iteration_ends(&run, &timed));
        Ok(Self {
            run,
            iterations,
            final_model,
            last_poses,
            previous_poses,
            seconds,
            notes,
        })
    }

    /// The last readable iteration ([`JobHistory::read`] ensures there is one).
    pub fn last(&self) -> Option<&IterationRecord> {
        self.iterations.last()
    }

    /// Resolution of the final model if the run finished, else of the last iteration, Å.
    pub fn final_resolution(&self) -> Option<f64> {
        self.models().next().map(|m| m.resolution_angst)
    }

    /// Pixel size, Å, from the newest model file that records it.
    pub fn pixel_size(&self) -> Option<f64> {
        self.models().find_map(|m| m.pixel_size)
    }

    /// Box side, pixels, from the newest model file that records it.
    pub fn box_size(&self) -> Option<i64> {
        self.models().find_map(|m| m.box_size)
    }

    /// Point group, from the newest sampling file that records it.
    pub fn symmetry(&self) -> Option<&str> {
        self.iterations
            .iter()
            .rev()
            .find_map(|i| i.sampling.as_ref()?.symmetry.as_deref())
    }

    /// Model files, newest first (the final one before the iterations).
    fn models(&self) -> impl Iterator<Item = &ModelStats> {
        self.final_model
            .iter()
            .chain(self.iterations.iter().rev().map(|i| &i.model))
    }
}
