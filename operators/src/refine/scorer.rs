//! The one place that chooses the E-step's scorer, as RustFFT's planner chooses an FFT
//! algorithm: a job turns what the user asked for ([`ScorerChoice`]: RELION's `--gpu [ids]`
//! or nothing) into a scorer once, at start-up, with [`select`], and passes what it returns to
//! [`expectation`](super::expectation::expectation); no operator names an implementation.
//!
//! - [`ScorerChoice::Cpu`] is the CPU scorer (`cryoflux_kernels::estep::CpuScorer`, which
//!   itself picks its AVX2 or portable path at run time, with identical results).
//! - [`ScorerChoice::Gpu`] is refused in this build, which has no GPU scorer: [`select`]
//!   looks for CUDA devices through the probe it is given (the job passes
//!   `cryoflux_jobkit::gpu::probe`, which finds devices without loading CUDA) only to say
//!   precisely why, and returns [`ScorerError::NoCudaDevice`] or [`ScorerError::NoGpuScorer`].
//!   It never falls back to the CPU silently.
//!
//! How a CUDA scorer plugs in (issue 18): a `cuda` cargo feature (off by default, so that
//! every build and CI need no CUDA) adds a scorer implementing
//! `cryoflux_kernels::estep::Scorer` through `cudarc` with dynamic loading
//! (`../shared/notes/rust-stack.md` §4). Under that feature only the `Gpu` arm of [`select`]
//! changes: when the probe found a device, it confirms that the driver library loads
//! (`cudarc::driver::sys::is_culib_present()`), creates the context on the device of this
//! process's group of [`GpuDevices`] (a process's workers sharing one scorer, hence one
//! context, through [`SharedScorer`]), and returns that scorer; it still refuses with a
//! [`ScorerError`] when the driver or the device cannot be opened. Nothing outside this file
//! and the scorer itself changes.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use cryoflux_kernels::estep::{CpuScorer, Scorer};

/// A scorer shared by every worker of a process.
pub type SharedScorer = Arc<dyn Scorer + Send + Sync>;

/// Which scorer a job asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ScorerChoice {
    /// The CPU scorer (the default; every build has it).
    #[default]
    Cpu,
    /// A CUDA scorer on these devices (RELION's `--gpu [ids]`).
    Gpu(GpuDevices),
}

/// RELION's `--gpu` device list: device ids separated by `:` between processes (RELION's MPI
/// ranks) and by `,` between the threads of one process, e.g. `0:1` or `0,1:2,3`; empty (a
/// bare `--gpu`) lets the job use the devices it finds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GpuDevices {
    /// The device ids of each process, in process order (empty: any device).
    pub per_process: Vec<Vec<u32>>,
}

impl FromStr for GpuDevices {
    type Err = ScorerError;

    fn from_str(list: &str) -> Result<Self, ScorerError> {
        let list = list.trim();
        if list.is_empty() {
            return Ok(Self::default());
        }
        let bad = |reason: &str| ScorerError::BadDeviceList {
            list: list.to_string(),
            reason: reason.to_string(),
        };
        let per_process = list
            .split(':')
            .map(|group| {
                group
                    .split(',')
                    .map(|id| {
                        id.trim().parse::<u32>().map_err(|_| {
                            bad(&format!("{:?} is not a device number (0, 1, …)", id.trim()))
                        })
                    })
                    .collect::<Result<Vec<u32>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { per_process })
    }
}

impl fmt::Display for GpuDevices {
    /// RELION's syntax (`0,1:2`); `any device` when the list is empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.per_process.is_empty() {
            return f.write_str("any device");
        }
        let groups: Vec<String> = self
            .per_process
            .iter()
            .map(|ids| ids.iter().map(u32::to_string).collect::<Vec<_>>().join(","))
            .collect();
        f.write_str(&groups.join(":"))
    }
}

/// What a look for CUDA devices found, without loading CUDA.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CudaProbe {
    /// The devices found, one description each (e.g. `0000:01:00.0 NVIDIA H100`), in a fixed
    /// order; empty when none was found.
    pub devices: Vec<String>,
    /// Where the probe looked, in words (for the message when nothing was found).
    pub looked_at: String,
}

/// Why no scorer of the requested kind can run, or why a request is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScorerError {
    /// A GPU scorer was asked for and the machine shows no CUDA device.
    #[error(
        "no CUDA device found ({looked_at}: none); this build's GPU scorer is not available \
         either"
    )]
    NoCudaDevice {
        /// Where the probe looked.
        looked_at: String,
    },
    /// A GPU scorer was asked for, devices exist, but this build has no GPU scorer.
    #[error(
        "CUDA device(s) found ({}), but this build's GPU scorer is not available (cryoflux \
         was built without the `cuda` feature)",
        devices.join("; ")
    )]
    NoGpuScorer {
        /// The devices the probe found.
        devices: Vec<String>,
    },
    /// A device list not in RELION's syntax.
    #[error("device list {list:?}: {reason}; expected RELION's syntax, e.g. 0 or 0:1 or 0,1:2,3")]
    BadDeviceList {
        /// The list as given.
        list: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The CPU scorer, which every build has.
///
/// # Examples
///
/// ```
/// use cryoflux_operators::refine::scorer;
///
/// let scorer = scorer::cpu();
/// // One scorer for all workers: clone the `Arc` into each.
/// let for_worker = scorer.clone();
/// assert_eq!(std::sync::Arc::strong_count(&for_worker), 2);
/// ```
pub fn cpu() -> SharedScorer {
    Arc::new(CpuScorer)
}

/// The scorer for `choice`; `probe` looks for CUDA devices and is called only when a GPU
/// scorer is asked for. In this build a GPU choice is always refused (see the module doc),
/// saying whether a device was found.
///
/// # Examples
///
/// ```
/// use cryoflux_operators::refine::scorer::{self, CudaProbe, ScorerChoice, ScorerError};
///
/// assert!(scorer::select(&ScorerChoice::Cpu, || unreachable!("not probed")).is_ok());
/// let nothing = || CudaProbe { devices: vec![], looked_at: "/dev/nvidia*".into() };
/// let refused = scorer::select(&ScorerChoice::Gpu("0:1".parse()?), nothing).err();
/// assert!(matches!(refused, Some(ScorerError::NoCudaDevice { .. })));
/// # Ok::<(), ScorerError>(())
/// ```
pub fn select(
    choice: &ScorerChoice,
    probe: impl FnOnce() -> CudaProbe,
) -> Result<SharedScorer, ScorerError> {
    match choice {
        ScorerChoice::Cpu => Ok(cpu()),
        ScorerChoice::Gpu(_) => {
            let found = probe();
            Err(if found.devices.is_empty() {
                ScorerError::NoCudaDevice {
                    looked_at: found.looked_at,
                }
            } else {
                ScorerError::NoGpuScorer {
                    devices: found.devices,
                }
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe_finding(devices: &[&str]) -> impl FnOnce() -> CudaProbe {
        let devices = devices.iter().map(|d| d.to_string()).collect();
        move || CudaProbe {
            devices,
            looked_at: "/proc/driver/nvidia/gpus, /dev/nvidia[0-9]*".into(),
        }
    }

    #[test]
    fn the_cpu_choice_needs_no_probe() {
        let scorer = select(&ScorerChoice::default(), || panic!("probed")).unwrap();
        assert_eq!(Arc::strong_count(&scorer), 1);
    }

    #[test]
    fn a_gpu_choice_is_refused_saying_what_the_probe_found() {
        let any = ScorerChoice::Gpu(GpuDevices::default());
        let message = select(&any, probe_finding(&[])).err().unwrap().to_string();
        assert_eq!(
            message,
            "no CUDA device found (/proc/driver/nvidia/gpus, /dev/nvidia[0-9]*: none); this \
             build's GPU scorer is not available either"
        );
        let found = select(&any, probe_finding(&["0000:01:00.0 NVIDIA H100", "/dev/nvidia1"]))
            .err()
            .unwrap();
        assert_eq!(
            found,
            ScorerError::NoGpuScorer {
                devices: vec!["0000:01:00.0 NVIDIA H100".into(), "/dev/nvidia1".into()]
            }
        );
        assert!(found.to_string().contains("without the `cuda` feature"), "{found}");
    }

    #[test]
    fn device_lists_read_relion_syntax() {
        let parse = |s: &str| s.parse::<GpuDevices>().map(|d| d.per_process);
        assert_eq!(parse(""), Ok(vec![]));
        assert_eq!(parse("0"), Ok(vec![vec![0]]));
        assert_eq!(parse("0:1"), Ok(vec![vec![0], vec![1]]));
        assert_eq!(parse(" 0,1:2,3 "), Ok(vec![vec![0, 1], vec![2, 3]]));
        for list in ["0,1:2,3", "0", ""] {
            let devices: GpuDevices = list.parse().unwrap();
            let shown = devices.to_string();
            assert_eq!(shown, if list.is_empty() { "any device" } else { list });
        }
        for bad in ["gpu0", "0::1", "0,", "-1", "0;1"] {
            let err = parse(bad).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("device list {:?}", bad.trim())) && err.contains("0:1"),
                "{err}"
            );
        }
    }
}
