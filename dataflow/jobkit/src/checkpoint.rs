//! Checkpoint files of iterative jobs (refine.md §4.6, §8.5): how they are framed, what must not
//! change between the run that wrote one and the run resuming from it, and which file
//! `--continue` names.
//!
//! After every non-final iteration k, once all of k's output files are written, process 0
//! writes `<root>_itNNN_checkpoint.bin` (NNN = k) atomically (temporary file, then rename), so a
//! checkpoint on disk always belongs to a complete iteration. What it holds is the job's
//! business (a serde payload); this module frames it: 16-byte magic, the job's payload format
//! version (u32 LE), payload length (u64 LE), payload checksum (u64 LE), payload (bincode). A
//! truncated or damaged file is refused with its name, never half-read.
//!
//! `--continue` takes `<root>_itNNN_optimiser.star` (RELION's continuation file; only its
//! name is used), `<root>_itNNN_checkpoint.bin`, an output root (its last checkpoint) or a
//! folder (its last checkpoint of any root): [`locate`].

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cryoflux_formats::Error;
use cryoflux_formats::atomic::write_atomically;
use cryoflux_kernels::random::mix;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// End of a checkpoint's file name, after `<root>_itNNN`.
pub const CHECKPOINT_SUFFIX: &str = "_checkpoint.bin";

/// End of RELION's continuation file name, after `<root>_itNNN`.
const OPTIMISER_SUFFIX: &str = "_optimiser.star";

/// First bytes of every checkpoint file.
const MAGIC: &[u8; 16] = b"cryoflux-ckpt\n\0\0";

/// Header bytes before the payload: magic, version, length, checksum.
const HEADER_LEN: usize = 16 + 4 + 8 + 8;

/// Writes `payload` as the checkpoint of `iteration` under `root`
/// (`<root>_itNNN_checkpoint.bin`, atomically), in payload format `version`; returns its path.
pub fn write<T: Serialize>(
    root: &Path,
    iteration: usize,
    version: u32,
    payload: &T,
) -> anyhow::Result<PathBuf> {
    let path = checkpoint_path(root, iteration);
    let payload = bincode::serialize(payload)
        .with_context(|| format!("{}: cannot encode the checkpoint", path.display()))?;
    write_atomically(&path, |w| {
        let header = [
            &MAGIC[..],
            &version.to_le_bytes(),
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

/// Reads and checks the checkpoint file at `path`, whose payload must be of format `version`;
/// errors name the file and say what is wrong.
pub fn read<T: DeserializeOwned>(path: &Path, version: u32) -> anyhow::Result<T> {
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
            "{}: truncated checkpoint ({} bytes, shorter than its {HEADER_LEN}-byte header); \
             {damaged}",
            path.display(),
            bytes.len()
        );
    }
    let word = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(b)
    };
    let found = u32::from_le_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    if found != version {
        bail!(
            "{}: checkpoint format version {found}; this cryoflux reads version {version}",
            path.display()
        );
    }
    let (length, sum) = (word(20), word(28));
    let payload = &bytes[HEADER_LEN..];
    if payload.len() as u64 != length {
        bail!(
            "{}: truncated checkpoint ({} payload bytes, the header says {length}); {damaged}",
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
    bincode::deserialize(payload)
        .with_context(|| format!("{}: cannot decode the checkpoint", path.display()))
}

/// What must be the same in the run that wrote a checkpoint and the run resuming from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// The method settings, one `field: value` per line (`{:#?}` of the job's settings with
    /// whatever may change on `--continue` blanked out: paths, workers, processes, progress).
    pub settings: String,
    /// Number of particles (records).
    pub particles: usize,
    /// Hash of every particle as loaded (image, CTF, input offsets, half set and block).
    pub input_hash: u64,
}

impl Fingerprint {
    /// The fingerprint of a job whose method settings read `method` (one `field: value` per
    /// line) and whose loaded records (before any iteration changed them) are `records`.
    pub fn new<R: Serialize>(method: String, records: &[R]) -> anyhow::Result<Self> {
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
            settings: method,
            particles: records.len(),
            input_hash: hasher.finish(),
        })
    }

    /// Checks that this run (`now`) may resume from a checkpoint with this fingerprint, read
    /// from `path`; the error says what differs.
    pub fn check(&self, now: &Fingerprint, path: &Path) -> anyhow::Result<()> {
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
                "--continue {}: its checkpoint {} does not exist; expected one written \
                 after iteration {iteration}",
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
             (written after each complete iteration)",
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

    fn fingerprint() -> Fingerprint {
        Fingerprint {
            settings: "RefineSettings {\n    healpix_order: 1,\n}".into(),
            particles: 2,
            input_hash: 42,
        }
    }

    #[test]
    fn a_payload_reads_back_exactly_and_is_found_from_root_folder_or_optimiser_name() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("run");
        let written = [
            write(&root, 1, 7, &(1u32, "one".to_string())).unwrap(),
            write(&root, 3, 7, &(3u32, "three".to_string())).unwrap(),
        ];
        assert_eq!(written[1], dir.path().join("run_it003_checkpoint.bin"));
        let back: (u32, String) = read(&written[1], 7).unwrap();
        assert_eq!(back, (3, "three".to_string()));
        let err = read::<(u32, String)>(&written[1], 8).unwrap_err();
        assert!(format!("{err:#}").contains("version 7"), "{err:#}");
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
    fn a_changed_setting_is_named() {
        let then = fingerprint();
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
