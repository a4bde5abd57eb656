//! Multi-process refinement over TCP (timely's cluster mode): which process this is and where
//! every process listens, from `--process i --processes n --addresses host:port,…` or
//! `--hostfile FILE` (one `host:port` per line, in process order, like timely's own `-h`).
//!
//! Every process runs the same `cryoflux refine` command line (same inputs, which each
//! process reads itself) apart from `--process`; `--j` threads run in each, and particles are
//! dealt out by global worker index. Process 0 writes the outputs and prints the log; the
//! others exit 0 when the last iteration is done. Results equal a one-process run's bit for
//! bit (the M-step reduces blocks in a fixed order).

use std::path::Path;

use anyhow::{anyhow, bail};

/// Where this process stands in a (possibly one-process) run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterSettings {
    /// Index of this process, 0 … n−1.
    process: usize,
    /// `host:port` of every process, in process order; empty for a one-process run.
    addresses: Vec<String>,
}

impl ClusterSettings {
    /// Checks the cluster flags: `process` (0-based) of `processes`, whose addresses come from
    /// `addresses` (`--addresses`, one per process) or the first `processes` lines of
    /// `hostfile`. Errors name the flag, what was found and what was expected.
    pub fn from_flags(
        process: usize,
        processes: usize,
        addresses: &[String],
        hostfile: Option<&Path>,
    ) -> anyhow::Result<Self> {
        if processes == 0 {
            bail!("--processes 0; expected at least 1");
        }
        if process >= processes {
            bail!(
                "--process {process} is out of range for --processes {processes}; expected 0 … {}",
                processes - 1
            );
        }
        let addresses = match (addresses.is_empty(), hostfile) {
            (false, Some(file)) => bail!(
                "--addresses and --hostfile {} both given; expected one of them",
                file.display()
            ),
            (true, Some(file)) => read_hostfile(file, processes)?,
            (false, None) => check_addresses(addresses, processes)?,
            (true, None) if processes > 1 => bail!(
                "--processes {processes} needs the address of every process: --addresses \
                 host:port,… or --hostfile FILE"
            ),
            (true, None) => Vec::new(),
        };
        Ok(Self {
            process,
            addresses: if processes > 1 { addresses } else { Vec::new() },
        })
    }

    /// Index of this process (0 … n−1).
    pub fn process(&self) -> usize {
        self.process
    }

    /// Number of processes.
    pub fn processes(&self) -> usize {
        self.addresses.len().max(1)
    }

    /// Whether this process writes the output files and the log (process 0).
    pub fn writes_outputs(&self) -> bool {
        self.process == 0
    }

    /// The timely configuration with `threads` worker threads in this process.
    pub fn timely_config(&self, threads: usize) -> timely::Config {
        let communication = if self.addresses.is_empty() {
            timely::CommunicationConfig::Process(threads)
        } else {
            timely::CommunicationConfig::Cluster {
                threads,
                process: self.process,
                addresses: self.addresses.clone(),
                report: false,
                zerocopy: false,
            }
        };
        timely::Config {
            communication,
            worker: timely::WorkerConfig::default(),
        }
    }
}

/// The `--addresses` list, if it has one valid `host:port` per process.
fn check_addresses(addresses: &[String], processes: usize) -> anyhow::Result<Vec<String>> {
    if addresses.len() != processes {
        bail!(
            "--addresses has {} entries; expected {processes}, one host:port per process \
             (--processes {processes})",
            addresses.len()
        );
    }
    addresses
        .iter()
        .enumerate()
        .map(|(i, a)| {
            host_port(a).ok_or_else(|| {
                anyhow!("--addresses entry {} is \"{a}\"; expected host:port", i + 1)
            })
        })
        .collect()
}

/// The first `processes` lines of `path`, each a `host:port`.
fn read_hostfile(path: &Path, processes: usize) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow!("cannot read --hostfile {}: {e}", path.display()))?;
    let lines: Vec<&str> = text.lines().take(processes).collect();
    if lines.len() < processes {
        bail!(
            "--hostfile {} has {} lines; expected at least {processes}, one host:port per \
             process (--processes {processes})",
            path.display(),
            lines.len()
        );
    }
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            host_port(line).ok_or_else(|| {
                anyhow!(
                    "--hostfile {} line {}: found \"{line}\"; expected host:port",
                    path.display(),
                    i + 1
                )
            })
        })
        .collect()
}

/// `text` trimmed, if it is `host:port` with a non-empty host and a port 1 … 65535.
fn host_port(text: &str) -> Option<String> {
    let text = text.trim();
    let (host, port) = text.rsplit_once(':')?;
    let port_ok = port.parse::<u16>().is_ok_and(|p| p > 0);
    (!host.is_empty() && !host.contains(char::is_whitespace) && port_ok).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn error(result: anyhow::Result<ClusterSettings>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn one_process_by_default_and_a_cluster_from_addresses() {
        let single = ClusterSettings::from_flags(0, 1, &[], None).unwrap();
        assert_eq!(single, ClusterSettings::default());
        assert!(matches!(
            single.timely_config(3).communication,
            timely::CommunicationConfig::Process(3)
        ));
        let pair =
            ClusterSettings::from_flags(1, 2, &strings(&["a:1", " [::1]:2 "]), None).unwrap();
        assert_eq!((pair.process(), pair.processes()), (1, 2));
        assert!(!pair.writes_outputs());
        match pair.timely_config(2).communication {
            timely::CommunicationConfig::Cluster {
                threads,
                process,
                addresses,
                ..
            } => assert_eq!(
                (threads, process, addresses),
                (2, 1, strings(&["a:1", "[::1]:2"]))
            ),
            other => panic!("expected a cluster configuration, got {other:?}"),
        }
    }

    #[test]
    fn bad_flags_are_named() {
        let two = strings(&["a:1", "b:2"]);
        assert!(error(ClusterSettings::from_flags(2, 2, &two, None)).contains("--process 2"));
        assert!(error(ClusterSettings::from_flags(0, 0, &[], None)).contains("--processes 0"));
        assert!(error(ClusterSettings::from_flags(0, 3, &two, None)).contains("2 entries"));
        assert!(error(ClusterSettings::from_flags(0, 2, &[], None)).contains("--addresses"));
        let bad = strings(&["a:1", "b"]);
        assert!(error(ClusterSettings::from_flags(0, 2, &bad, None)).contains("entry 2 is \"b\""));
        let port = strings(&["a:1", "b:99999"]);
        assert!(error(ClusterSettings::from_flags(0, 2, &port, None)).contains("entry 2"));
    }

    #[test]
    fn hostfiles_are_read_line_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hosts");
        std::fs::write(&file, "node1:2101\nnode2:2102\nnode3:2103\n").unwrap();
        let s = ClusterSettings::from_flags(1, 2, &[], Some(&file)).unwrap();
        assert_eq!(s.addresses, strings(&["node1:2101", "node2:2102"]));
        assert!(error(ClusterSettings::from_flags(0, 4, &[], Some(&file))).contains("3 lines"));
        std::fs::write(&file, "node1:2101\nnode2\n").unwrap();
        let e = error(ClusterSettings::from_flags(0, 2, &[], Some(&file)));
        assert!(e.contains("line 2") && e.contains("\"node2\""), "{e}");
        let missing = dir.path().join("none");
        let e = error(ClusterSettings::from_flags(0, 2, &[], Some(&missing)));
        assert!(e.contains("cannot read --hostfile"), "{e}");
        let e = error(ClusterSettings::from_flags(
            0,
            2,
            &strings(&["a:1"]),
            Some(&file),
        ));
        assert!(e.contains("both given"), "{e}");
    }
}
