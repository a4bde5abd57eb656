//! Refine's checkpoints and `--continue` (refine.md §4.6, §8.5), framed and located by
//! [`cryoflux_jobkit::checkpoint`].
//!
//! After every non-final iteration k, process 0 writes `<root>_itNNN_checkpoint.bin`, holding
//! everything iteration k+1 needs to run exactly as in an uninterrupted run: the [`Schedule`]
//! after k, both half sets' [`ReferenceMsg`]s of k+1 (maps, noise models, offset-prior widths,
//! plan), every particle's pose and norm correction after k, and a [`Fingerprint`] of the
//! settings and the particles. Half sets and reduction blocks are not stored: they are a
//! function of the input and the seed, re-derived on loading and checked through the
//! fingerprint. Worker and process counts may change between runs. The checkpoint also keeps
//! the run's settings, so `--continue` without the original flags runs with them, as
//! `relion_refine --continue` reads its settings from the optimiser file ([`settings_to_continue`]).

use std::path::{Path, PathBuf};

use anyhow::bail;
use cryoflux_jobkit::checkpoint::{self, Fingerprint};
use cryoflux_jobkit::cluster::ClusterSettings;
use cryoflux_operators::records::PoseRecord;
use cryoflux_operators::refine::records::Maximised;
use cryoflux_operators::refine::records::ParticleRecord;
use cryoflux_operators::refine::records::ReferenceMsg;
use serde::{Deserialize, Serialize};

use super::{RefineSettings, ScorerChoice};
use super::schedule::Schedule;

/// Version of refine's checkpoint payload; a file of another version is refused.
const VERSION: u32 = 3;

/// The fingerprint of a refinement with `settings` whose loaded particles are `records`
/// (before any pose is replaced): the settings with the paths of the inputs and outputs,
/// workers, scorer, processes, progress bar and normalisation warning blanked out (those may
/// change on `--continue`), and every particle as loaded (image, CTF, input offsets, half set, block).
pub fn fingerprint(
    settings: &RefineSettings,
    records: &[ParticleRecord],
) -> anyhow::Result<Fingerprint> {
    let method = RefineSettings {
        particles: PathBuf::new(),
        reference: PathBuf::new(),
        output_root: PathBuf::new(),
        continue_from: None,
        threads: 1,
        scorer: ScorerChoice::Cpu,
        progress: false,
        check_normalisation: true,
        cluster: ClusterSettings::default(),
        ..settings.clone()
    };
    Fingerprint::new(format!("{method:#?}"), records)
}

/// The state after one complete iteration; see the module doc.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The last complete iteration k (1-based).
    pub iteration: usize,
    /// Settings and particles of the run that wrote it.
    pub fingerprint: Fingerprint,
    /// The settings of the run that wrote it (without its multi-process placement).
    pub settings: RefineSettings,
    /// The schedule after iteration k.
    pub schedule: Schedule,
    /// Both half sets' references of iteration k+1, half 1 first.
    pub references: Vec<ReferenceMsg>,
    /// Every particle's pose after iteration k, in row order (Euler angles in degrees,
    /// origins in Å).
    pub poses: Vec<PoseRecord>,
    /// Every particle's norm correction (rlnNormCorrection) after iteration k, in row order.
    pub norms: Vec<f64>,
}

impl Checkpoint {
    /// The checkpoint after the iteration of `m`, with the `schedule` after it and the
    /// `references` of the next iteration, of a run with `settings`.
    pub fn after(
        m: &Maximised,
        schedule: Schedule,
        references: Vec<ReferenceMsg>,
        fingerprint: Fingerprint,
        settings: &RefineSettings,
    ) -> Self {
        Self {
            iteration: m.plan.iteration,
            fingerprint,
            settings: settings.clone(),
            schedule,
            references,
            poses: m.updates.iter().map(|u| u.pose).collect(),
            norms: m.updates.iter().map(|u| u.norm).collect(),
        }
    }

    /// Writes `<root>_itNNN_checkpoint.bin` atomically; returns its path.
    pub fn write(&self, root: &Path) -> anyhow::Result<PathBuf> {
        checkpoint::write(root, self.iteration, VERSION, self)
    }

    /// Reads and checks a checkpoint file; errors name it and say what is wrong.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let checkpoint: Checkpoint = checkpoint::read(path, VERSION)?;
        checkpoint.check_references(path)?;
        Ok(checkpoint)
    }

    /// Both half sets' references, for the iteration after this one.
    fn check_references(&self, path: &Path) -> anyhow::Result<()> {
        let next = self.iteration + 1;
        for half in [1u8, 2] {
            if !self
                .references
                .iter()
                .any(|r| r.half == half && r.plan.iteration == next)
            {
                bail!(
                    "{}: the checkpoint of iteration {} has no reference of half set {half} for \
                     iteration {next}",
                    path.display(),
                    self.iteration
                );
            }
        }
        Ok(())
    }
}

/// The settings of the run whose checkpoint `from` names (an optimiser file, a checkpoint, an
/// output root or a folder, as for `--continue`), to continue it with: every setting as that
/// run had it; the caller sets the new output root, threads and processes.
pub fn settings_to_continue(from: &Path) -> anyhow::Result<RefineSettings> {
    Ok(Resume::open(from)?.checkpoint.settings)
}

/// A checkpoint to resume from, found and read before the particles are loaded.
#[derive(Debug)]
pub struct Resume {
    /// The checkpoint file.
    pub path: PathBuf,
    /// Its content.
    pub checkpoint: Checkpoint,
}

impl Resume {
    /// Finds the checkpoint `from` names (see [`locate`]) and reads it.
    pub fn open(from: &Path) -> anyhow::Result<Self> {
        let path = checkpoint::locate(from)?;
        let checkpoint = Checkpoint::read(&path)?;
        Ok(Self { path, checkpoint })
    }

    /// Checks that a run with fingerprint `now` may resume from this checkpoint.
    pub fn check(&self, now: &Fingerprint) -> anyhow::Result<()> {
        self.checkpoint.fingerprint.check(now, &self.path)?;
        let c = &self.checkpoint;
        if c.poses.len() != now.particles || c.norms.len() != now.particles {
            bail!(
                "{}: {} particle poses and {} norm corrections for {} particles",
                self.path.display(),
                c.poses.len(),
                c.norms.len(),
                now.particles
            );
        }
        Ok(())
    }

    /// Replaces the start state of a [`check`](Resume::check)ed job: the particles' poses and
    /// norm corrections, the schedule and the first references; returns the iteration resumed
    /// after.
    pub fn apply(
        self,
        records: &mut [ParticleRecord],
        schedule: &mut Schedule,
        start: &mut Vec<ReferenceMsg>,
    ) -> usize {
        let c = self.checkpoint;
        records
            .iter_mut()
            .zip(c.poses.into_iter().zip(c.norms))
            .for_each(|(r, (pose, norm))| {
                r.pose = pose;
                r.norm = norm;
            });
        *schedule = c.schedule;
        *start = c.references;
        c.iteration
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::SamplingOptions;
    use cryoflux_operators::records::MapRecord;
    use cryoflux_operators::refine::records::IterationPlan;
    use cryoflux_operators::refine::records::NoiseModel;

    fn plan(iteration: usize) -> IterationPlan {
        IterationPlan {
            iteration,
            final_iteration: false,
            current_size: 4,
            coarse_size: 4,
            healpix_order: 1,
            local_sigma_deg: None,
            symmetry: "C1".into(),
            offset_range_angst: 4.0,
            offset_step_angst: 2.0,
            perturbation_deg: 0.25,
            cross_correlation: false,
            ctf_intact_first_peak: false,
            accuracy_every: 1,
            seed: 3,
            particle_diameter_angst: 10.0,
            current_resolution_angst: 8.0,
            low_resolution_join_angst: 40.0,
            block_size: 32,
            norm_correction: true,
            scale_correction: false,
            max_significant: None,
        }
    }

    fn checkpoint(iteration: usize) -> Checkpoint {
        let options = SamplingOptions::coarse_for_tests();
        let reference = |half: u8| ReferenceMsg {
            half,
            map: MapRecord {
                box_size: 4,
                pixel_size: 2.0,
                data: (0..64).map(|i| i as f32 * 0.1 - f32::from(half)).collect(),
            },
            noise: NoiseModel::new(vec![vec![1.0, 0.5, 0.25]], 0.75),
            ssnr: vec![50.0, 2.0, 0.1],
            sigma_offset_angst: 3.0,
            plan: plan(iteration + 1),
            solvent_mask: None,
        };
        Checkpoint {
            iteration,
            fingerprint: Fingerprint {
                settings: "RefineSettings {\n    healpix_order: 1,\n}".into(),
                particles: 2,
                input_hash: 42,
            },
            settings: RefineSettings::new("p.star", "ref.mrc", "run", 10.0),
            // Infinite "smallest change" fields must survive the round trip.
            schedule: Schedule::new(4, 2.0, 30.0, 10.0, options, 3),
            references: vec![reference(1), reference(2)],
            poses: vec![
                PoseRecord {
                    rot: 10.0,
                    tilt: 20.0,
                    psi: -30.0,
                    origin_angst: [1.5, -0.5],
                },
                PoseRecord::default(),
            ],
            norms: vec![0.75, 1.25],
        }
    }

    #[test]
    fn a_checkpoint_reads_back_exactly_and_is_found_from_its_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("run");
        let written = checkpoint(3).write(&root).unwrap();
        assert_eq!(written, dir.path().join("run_it003_checkpoint.bin"));
        assert_eq!(Checkpoint::read(&written).unwrap(), checkpoint(3));
        assert_eq!(Resume::open(&root).unwrap().checkpoint, checkpoint(3));
    }

    #[test]
    fn truncated_damaged_or_foreign_files_are_refused_with_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = checkpoint(2).write(&dir.path().join("run")).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let cases: [(&str, Vec<u8>); 4] = [
            ("truncated", bytes[..bytes.len() - 7].to_vec()),
            ("truncated", bytes[..20].to_vec()),
            ("checksum", {
                let mut b = bytes.clone();
                let at = b.len() / 2;
                b[at] ^= 0x10;
                b
            }),
            (
                "not a cryoflux checkpoint",
                b"data_optimiser_general\n".to_vec(),
            ),
        ];
        for (expected, content) in cases {
            std::fs::write(&path, content).unwrap();
            let message = format!("{:#}", Checkpoint::read(&path).unwrap_err());
            assert!(
                message.contains(expected) && message.contains("run_it002_checkpoint.bin"),
                "{message}"
            );
        }
    }
}
