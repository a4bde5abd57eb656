//! Checkpoints of a refinement and `--continue` (refine.md §4.6, §8.5).
//!
//! After every non-final iteration k, once all of k's output files are written, process 0
//! writes `<root>_itNNN_checkpoint.bin` (NNN = k, atomically: temporary file, then rename), so
//! a checkpoint on disk always belongs to a complete iteration. It holds everything iteration
//! k+1 needs to run exactly as in an uninterrupted run: the [`Schedule`] after k, both half
//! sets' [`ReferenceMsg`]s of k+1 (maps, noise models, offset-prior widths, plan), every
//! particle's pose and norm correction after k, and a [`Fingerprint`] of the settings and the particles. Half sets and reduction
//! blocks are not stored: they are a function of the input and the seed, re-derived on loading
//! and checked through the fingerprint. Worker and process counts may change between runs.
//!
//! `--continue` takes `<root>_itNNN_optimiser.star` (RELION's continuation file; only its
//! name is used), `<root>_itNNN_checkpoint.bin`, an output root (its last checkpoint) or a
//! folder (its last checkpoint of any root).
//!
//! File layout: 16-byte magic, format version (u32 LE), payload length (u64 LE), payload
//! checksum (u64 LE), payload ([`Checkpoint`] in bincode). A truncated or damaged file is
//! refused with its name, never half-read.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cryoflux_formats::Error;
use cryoflux_formats::atomic::write_atomically;
use cryoflux_kernels::random::mix;
use cryoflux_operators::records::{Maximised, ParticleRecord, PoseRecord, ReferenceMsg};
use serde::{Deserialize, Serialize};

use super::RefineSettings;
use super::cluster::ClusterSettings;
use super::schedule::Schedule;

/// End of a checkpoint's file name, after `<root>_itNNN`.
pub const CHECKPOINT_SUFFIX: &str = "_checkpoint.bin";

/// End of RELION's continuation file name, after `<root>_itNNN`.
const OPTIMISER_SUFFIX: &str = "_optimiser.star";

/// First bytes of every checkpoint file.
const MAGIC: &[u8; 16] = b"cryoflux-ckpt\n\0\0";

/// Version of the checkpoint layout; a file of another version is refused.
const VERSION: u32 = 2;

/// Header bytes before the payload: magic, version, length, checksum.
const HEADER_LEN: usize = 16 + 4 + 8 + 8;

/// What must be the same in the run that wrote a checkpoint and the run resuming from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// The method settings, one `field: value` per line (`{:#?}` of [`RefineSettings`] with the
    /// paths of the inputs and outputs, workers, processes, progress bar and normalisation
    /// warning blanked out: those may change on `--continue`).
    pub settings: String,
    /// Number of particles.
    pub particles: usize,
    /// Hash of every particle as loaded (image, CTF, input offsets, half set and block).
    pub input_hash: u64,
}

impl Fingerprint {
    /// The fingerprint of a job with `settings` whose loaded particles are `records` (before
    /// any pose is replaced).
    pub fn new(settings: &RefineSettings, records: &[ParticleRecord]) -> anyhow::Result<Self> {
        let method = RefineSettings {
            particles: PathBuf::new(),
            reference: PathBuf::new(),
            output_root: PathBuf::new(),
            continue_from: None,
            threads: 1,
            progress: false,
            check_normalisation: true,
            cluster: ClusterSettings::default(),
            ..settings.clone()
        };
        let mut hasher = Hasher::default();
        {
            let mut writer = BufWriter::with_capacity(1 << 16, &mut hasher);
            bincode::serialize_into(&mut writer, records)
                .context("cannot hash the particles for the checkpoint fingerprint")?;
            writer
                .flush()
                .context("cannot hash the particles for the checkpoint fingerprint")?;
        }
        Ok(Self {
            settings: format!("{method:#?}"),
            particles: records.len(),
            input_hash: hasher.finish(),
        })
    }

    /// Checks that this run (`now`) may resume from a checkpoint with this fingerprint, read
    /// from `path`; the error says what differs.
    fn check(&self, now: &Fingerprint, path: &Path) -> anyhow::Result<()> {
        if let Some((then, here)) = first_difference(&self.settings, &now.settings) {
            bail!(
                "{}: the run that wrote this checkpoint had `{then}`, this run has `{here}`; \
                 --continue needs the settings of that run (only --j, the process flags and the \
                 --i/--ref/--o paths may change)",
                path.display()
            );
        }
        if self.particles != now.particles {
            bail!(
                "{}: the checkpoint is of {} particles, the input has {}; --continue needs the \
                 particles of the run that wrote it",
                path.display(),
                self.particles,
                now.particles
            );
        }
        if self.input_hash != now.input_hash {
            bail!(
                "{}: the particles (images, CTFs, offsets or half sets) differ from those of the \
                 run that wrote this checkpoint; --continue needs the same particles",
                path.display()
            );
        }
        Ok(())
    }
}

/// The first line where `then` and `now` differ (trimmed; a missing line reads "nothing").
fn first_difference(then: &str, now: &str) -> Option<(String, String)> {
    let (mut a, mut b) = (then.lines(), now.lines());
    loop {
        match (a.next(), b.next()) {
            (None, None) => return None,
            (x, y) if x == y => continue,
            (x, y) => {
                let show = |l: Option<&str>| {
                    l.map_or("nothing".to_string(), |l| {
                        l.trim().trim_end_matches(',').to_string()
                    })
                };
                return Some((show(x), show(y)));
            }
        }
    }
}

/// The state after one complete iteration; see the module doc.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The last complete iteration k (1-based).
    pub iteration: usize,
    /// Settings and particles of the run that wrote it.
    pub fingerprint: Fingerprint,
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
    /// `references` of the next iteration.
    pub fn after(
        m: &Maximised,
        schedule: Schedule,
        references: Vec<ReferenceMsg>,
        fingerprint: Fingerprint,
    ) -> Self {
        Self {
            iteration: m.plan.iteration,
            fingerprint,
            schedule,
            references,
            poses: m.updates.iter().map(|u| u.pose).collect(),
            norms: m.updates.iter().map(|u| u.norm).collect(),
        }
    }

    /// Writes `<root>_itNNN_checkpoint.bin` atomically; returns its path.
    pub fn write(&self, root: &Path) -> anyhow::Result<PathBuf> {
        let path = checkpoint_path(root, self.iteration);
        let payload = bincode::serialize(self)
            .with_context(|| format!("{}: cannot encode the checkpoint", path.display()))?;
        write_atomically(&path, |w| {
            let header = [
                &MAGIC[..],
                &VERSION.to_le_bytes(),
                &(payload.len() as u64).to_le_bytes(),
                &checksum(&payload).to_le_bytes(),
            ];
            header
                .iter()
                .chain([&payload[..]].iter())
                .try_for_each(|part| w.write_all(part))
                .map_err(|e| Error::io(&path, e))
        })?;
        Ok(path)
    }

    /// Reads and checks a checkpoint file; errors name it and say what is wrong.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the checkpoint {}", path.display()))?;
        let damaged = "the file is damaged; continue from an earlier iteration's checkpoint";
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            bail!(
                "{}: not a cryoflux checkpoint (it does not start with cryoflux's checkpoint \
                 header)",
                path.display()
            );
        }
        if bytes.len() < HEADER_LEN {
            bail!(
                "{}: truncated checkpoint ({} bytes, shorter than its {HEADER_LEN}-byte \
                 header); {damaged}",
                path.display(),
                bytes.len()
            );
        }
        let word = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(b)
        };
        let version = u32::from_le_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        if version != VERSION {
            bail!(
                "{}: checkpoint format version {version}; this cryoflux reads version {VERSION}",
                path.display()
            );
        }
        let (length, sum) = (word(20), word(28));
        let payload = &bytes[HEADER_LEN..];
        if payload.len() as u64 != length {
            bail!(
                "{}: truncated checkpoint ({} payload bytes, the header says {length}); \
                 {damaged}",
                path.display(),
                payload.len()
            );
        }
        if checksum(payload) != sum {
            bail!(
                "{}: checkpoint checksum mismatch; {damaged}",
                path.display()
            );
        }
        let checkpoint: Checkpoint = bincode::deserialize(payload)
            .with_context(|| format!("{}: cannot decode the checkpoint", path.display()))?;
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
        let path = locate(from)?;
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

/// `<root>_itNNN_checkpoint.bin`.
pub fn checkpoint_path(root: &Path, iteration: usize) -> PathBuf {
    let mut name = root.as_os_str().to_owned();
    name.push(format!("_it{iteration:03}{CHECKPOINT_SUFFIX}"));
    PathBuf::from(name)
}

/// The checkpoint `--continue from` names: `<root>_itNNN_optimiser.star` or
/// `<root>_itNNN_checkpoint.bin` give iteration NNN's; a folder gives its last checkpoint (of
/// any root); anything else is an output root and gives its last checkpoint.
pub fn locate(from: &Path) -> anyhow::Result<PathBuf> {
    if from.is_dir() {
        return latest(from, None);
    }
    let name = from.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let parent = match from.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Some((root, iteration)) = iteration_file(name, OPTIMISER_SUFFIX) {
        let path = checkpoint_path(&parent.join(root), iteration);
        if !path.is_file() {
            bail!(
                "--continue {}: its checkpoint {} does not exist; expected one written by \
                 cryoflux refine after iteration {iteration}",
                from.display(),
                path.display()
            );
        }
        return Ok(path);
    }
    if iteration_file(name, CHECKPOINT_SUFFIX).is_some() {
        return Ok(from.to_path_buf());
    }
    latest(parent, Some(name))
}

/// `(root name, NNN)` of a file named `<root>_itNNN<suffix>`.
fn iteration_file<'n>(name: &'n str, suffix: &str) -> Option<(&'n str, usize)> {
    let (root, digits) = name.strip_suffix(suffix)?.rsplit_once("_it")?;
    if root.is_empty() || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((root, digits.parse().ok()?))
}

/// The checkpoint of the highest iteration in `dir` (of the root named `root`, if given).
fn latest(dir: &Path, root: Option<&str>) -> anyhow::Result<PathBuf> {
    if !dir.is_dir() {
        bail!(
            "--continue: no checkpoint in {}: the folder does not exist",
            dir.display()
        );
    }
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!(
            "--continue: cannot list {} to find a checkpoint",
            dir.display()
        )
    })?;
    let mut best: Option<(usize, PathBuf)> = None;
    for entry in entries {
        let entry = entry.with_context(|| format!("--continue: cannot list {}", dir.display()))?;
        let file_name = entry.file_name();
        let Some((found_root, iteration)) = file_name
            .to_str()
            .and_then(|n| iteration_file(n, CHECKPOINT_SUFFIX))
        else {
            continue;
        };
        if root.is_some_and(|r| r != found_root) {
            continue;
        }
        let path = entry.path();
        if best
            .as_ref()
            .is_none_or(|(k, p)| (iteration, &path) > (*k, p))
        {
            best = Some((iteration, path));
        }
    }
    best.map(|(_, path)| path).with_context(|| {
        format!(
            "--continue: no checkpoint in {}; expected files named {}_itNNN{CHECKPOINT_SUFFIX} \
             (written after each complete iteration of cryoflux refine)",
            dir.display(),
            root.unwrap_or("<root>")
        )
    })
}

/// The checksum of a checkpoint's payload.
fn checksum(bytes: &[u8]) -> u64 {
    let mut hasher = Hasher::default();
    // Writing to a hasher cannot fail.
    let _ = hasher.write_all(bytes);
    hasher.finish()
}

/// A streaming 64-bit hash: each 8-byte little-endian word is mixed in with SplitMix64's
/// finaliser, then the length. Not cryptographic; it detects damage and changed inputs.
#[derive(Debug, Default)]
struct Hasher {
    state: u64,
    tail: [u8; 8],
    filled: usize,
    length: u64,
}

impl Hasher {
    fn word(&mut self, bytes: [u8; 8]) {
        self.state = mix(self.state ^ u64::from_le_bytes(bytes));
    }

    fn finish(mut self) -> u64 {
        if self.filled > 0 {
            self.tail[self.filled..].fill(0);
            self.word(self.tail);
        }
        mix(self.state ^ mix(self.length))
    }
}

impl Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.length += buf.len() as u64;
        let mut rest = buf;
        if self.filled > 0 {
            let take = (8 - self.filled).min(rest.len());
            self.tail[self.filled..self.filled + take].copy_from_slice(&rest[..take]);
            self.filled += take;
            rest = &rest[take..];
            if self.filled < 8 {
                return Ok(buf.len());
            }
            self.word(self.tail);
            self.filled = 0;
        }
        let mut words = rest.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.word(b);
        }
        let remainder = words.remainder();
        self.tail[..remainder.len()].copy_from_slice(remainder);
        self.filled = remainder.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refine::schedule::SamplingOptions;
    use cryoflux_operators::records::{IterationPlan, MapRecord, NoiseModel};

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
        }
    }

    fn checkpoint(iteration: usize) -> Checkpoint {
        let options = SamplingOptions {
            healpix_order: 1,
            offset_range_angst: 4.0,
            offset_step_angst: 2.0,
            auto_local_healpix_order: 4,
            auto_resol_angles: false,
            auto_ignore_angles: false,
        };
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
    fn a_checkpoint_reads_back_exactly_and_is_found_from_root_folder_or_optimiser_name() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("run");
        let written = [
            checkpoint(1).write(&root).unwrap(),
            checkpoint(3).write(&root).unwrap(),
        ];
        assert_eq!(written[1], dir.path().join("run_it003_checkpoint.bin"));
        assert_eq!(Checkpoint::read(&written[1]).unwrap(), checkpoint(3));
        assert_eq!(locate(&root).unwrap(), written[1]);
        assert_eq!(locate(dir.path()).unwrap(), written[1]);
        let optimiser = dir.path().join("run_it001_optimiser.star");
        assert_eq!(locate(&optimiser).unwrap(), written[0]);
        assert_eq!(locate(&written[0]).unwrap(), written[0]);
        let err = locate(&dir.path().join("run_it002_optimiser.star")).unwrap_err();
        assert!(
            format!("{err:#}").contains("run_it002_checkpoint.bin"),
            "{err:#}"
        );
        let err = locate(&dir.path().join("other")).unwrap_err();
        assert!(format!("{err:#}").contains("no checkpoint"), "{err:#}");
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

    #[test]
    fn a_changed_setting_is_named() {
        let then = checkpoint(1).fingerprint;
        let mut now = then.clone();
        now.settings = now.settings.replace("healpix_order: 1", "healpix_order: 2");
        let err = then
            .check(&now, Path::new("x.bin"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`healpix_order: 1`") && err.contains("`healpix_order: 2`"),
            "{err}"
        );
        let mut other_images = then.clone();
        other_images.input_hash += 1;
        let err = then.check(&other_images, Path::new("x.bin")).unwrap_err();
        assert!(err.to_string().contains("particles"), "{err}");
        assert!(then.check(&then.clone(), Path::new("x.bin")).is_ok());
    }

    #[test]
    fn the_hash_does_not_depend_on_how_the_bytes_are_split() {
        let data: Vec<u8> = (0..37u8).collect();
        let mut pieces = Hasher::default();
        for chunk in data.chunks(3) {
            pieces.write_all(chunk).unwrap();
        }
        assert_eq!(pieces.finish(), checksum(&data));
        assert_ne!(checksum(&data), checksum(&data[..36]));
    }
}
