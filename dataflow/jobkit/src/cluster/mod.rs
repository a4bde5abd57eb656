//! Multi-process jobs over TCP (timely's cluster mode): which process this is and where every
//! process listens, from `--process i --processes n --addresses host:port,…` or `--hostfile
//! FILE` (one `host:port` per line, in process order, like timely's own `-h`).
//!
//! Every process runs the same command line (same inputs, which each process reads itself)
//! apart from `--process`; `--j` threads run in each, and records are dealt out by global
//! worker index ([`ClusterSettings::local_shares`]). Process 0 writes the outputs and prints the
//! log; the others exit 0 when the job is done. A job whose reductions run in a fixed order
//! (refine's M-step does) gives results equal to a one-process run's bit for bit.
//!
//! The processes connect to each other ([`connect`]) before timely starts, within
//! `--cluster_timeout` seconds; a process that cannot reach every peer by then stops with an
//! error naming them instead of waiting forever; a peer lost later ends the others with an
//! error naming it ([`lost_peer`]).

mod connect;
mod lost_peer;

use std::any::Any;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail};
use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::{AllocatorBuilder, ProcessBuilder};
use timely::communication::{Hooks, WorkerGuards};
use timely::worker::Worker;

/// Default of `--cluster_timeout`: seconds a process waits for all its peers to connect.
pub const DEFAULT_TIMEOUT_SECONDS: f64 = 120.0;

/// Where this process stands in a (possibly one-process) run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSettings {
    /// Index of this process, 0 … n−1.
    process: usize,
    /// `host:port` of every process, in process order; empty for a one-process run.
    addresses: Vec<String>,
    /// Longest wait for every other process to be connected, from the moment this process
    /// starts connecting (after reading its inputs).
    timeout: Duration,
}

impl Default for ClusterSettings {
    /// A one-process run.
    fn default() -> Self {
        Self {
            process: 0,
            addresses: Vec::new(),
            timeout: Duration::from_secs_f64(DEFAULT_TIMEOUT_SECONDS),
        }
    }
}

impl ClusterSettings {
    /// Checks the cluster flags: `process` (0-based) of `processes`, whose addresses come from
    /// `addresses` (`--addresses`, one per process) or the first `processes` lines of
    /// `hostfile`, waiting at most `timeout_seconds` for the peers to connect. Errors name
    /// the flag, what was found and what was expected.
    pub fn from_flags(
        process: usize,
        processes: usize,
        addresses: &[String],
        hostfile: Option<&Path>,
        timeout_seconds: f64,
    ) -> anyhow::Result<Self> {
        let timeout = Duration::try_from_secs_f64(timeout_seconds)
            .ok()
            .filter(|t| !t.is_zero())
            .ok_or_else(|| {
                anyhow!(
                    "--cluster_timeout {timeout_seconds}; expected a positive number of seconds"
                )
            })?;
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
            timeout,
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

    /// Starts `threads` timely workers in this process running `work`, connected to the
    /// workers of the other processes (after [`connect`]ing to every peer within the
    /// timeout). Errors name the peers not reached and what to check. In a multi-process
    /// run, losing a peer later ends this process with status 1 ([`lost_peer`]).
    pub fn execute<T, F>(&self, threads: usize, work: F) -> anyhow::Result<WorkerGuards<T>>
    where
        T: Send + 'static,
        F: Fn(&mut Worker) -> T + Send + Sync + 'static,
    {
        let (builders, others) = self.allocators(threads)?;
        timely::execute::execute_from(builders, others, timely::WorkerConfig::default(), work)
            .map_err(|e| anyhow!("cannot start the timely workers: {e}"))
    }

    /// The communication of `threads` workers in this process: within the process, or over
    /// the connections to every peer and the network threads serving them (the second item,
    /// to be kept until the workers are done).
    fn allocators(
        &self,
        threads: usize,
    ) -> anyhow::Result<(Vec<AllocatorBuilder>, Box<dyn Any + Send>)> {
        if self.addresses.is_empty() {
            return timely::CommunicationConfig::Process(threads)
                .try_build()
                .map_err(|e| anyhow!("cannot set up the timely workers: {e}"));
        }
        let sockets = connect::connect_all(&self.addresses, self.process, self.timeout)?;
        lost_peer::exit_when_a_peer_is_lost(&self.addresses);
        let hooks = Hooks::default();
        let local =
            ProcessBuilder::new_typed_vector(threads, hooks.refill.clone(), hooks.spill.clone());
        let (tcp, network) =
            initialize_networking_from_sockets(local, sockets, self.process, threads, hooks)
                .map_err(|e| anyhow!("cannot start the network threads: {e}"))?;
        let builders = tcp.into_iter().map(AllocatorBuilder::Tcp).collect();
        Ok((builders, Box::new(network)))
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
    use std::cell::RefCell;
    use std::rc::Rc;

    use timely::dataflow::operators::{Exchange, Inspect, Probe, ToStream};

    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// The settings from these flags and the default timeout.
    fn flags(
        process: usize,
        processes: usize,
        addresses: &[String],
        hostfile: Option<&Path>,
    ) -> anyhow::Result<ClusterSettings> {
        ClusterSettings::from_flags(
            process,
            processes,
            addresses,
            hostfile,
            DEFAULT_TIMEOUT_SECONDS,
        )
    }

    fn error(result: anyhow::Result<ClusterSettings>) -> String {
        result.unwrap_err().to_string()
    }

    /// Every worker sends its global index to every worker; what each worker received,
    /// sorted.
    fn exchange_indices(worker: &mut Worker) -> Vec<usize> {
        let (index, peers) = (worker.index(), worker.peers());
        let seen = Rc::new(RefCell::new(Vec::new()));
        let sink = seen.clone();
        let probe = worker.dataflow::<u64, _, _>(|scope| {
            (0..peers)
                .map(move |to| (to, index))
                .to_stream(scope)
                .container::<Vec<_>>()
                .exchange(|&(to, _)| to as u64)
                .inspect(move |&(_, from)| sink.borrow_mut().push(from))
                .probe()
                .0
        });
        while !probe.done() {
            worker.step();
        }
        let mut seen = seen.take();
        seen.sort();
        seen
    }

    #[test]
    fn one_process_by_default_and_a_cluster_from_addresses() {
        let single = flags(0, 1, &[], None).unwrap();
        assert_eq!(single, ClusterSettings::default());
        assert_eq!(single.processes(), 1);
        let pair =
            ClusterSettings::from_flags(1, 2, &strings(&["a:1", " [::1]:2 "]), None, 2.5).unwrap();
        assert_eq!((pair.process(), pair.processes()), (1, 2));
        assert!(!pair.writes_outputs());
        assert_eq!(pair.addresses, strings(&["a:1", "[::1]:2"]));
        assert_eq!(pair.timeout, Duration::from_millis(2500));
    }

    #[test]
    fn workers_of_two_processes_on_loopback_exchange_data() {
        let ports = [(); 2].map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
        let addresses: Vec<String> = ports
            .iter()
            .map(|l| l.local_addr().unwrap().to_string())
            .collect();
        drop(ports);
        let received = std::thread::scope(|s| {
            let runs: Vec<_> = (0..2)
                .map(|process| {
                    let settings =
                        ClusterSettings::from_flags(process, 2, &addresses, None, 10.0).unwrap();
                    s.spawn(move || {
                        let guards = settings.execute(2, exchange_indices).unwrap();
                        guards
                            .join()
                            .into_iter()
                            .map(Result::unwrap)
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            runs.into_iter()
                .map(|r| r.join().unwrap())
                .collect::<Vec<_>>()
        });
        // 2 processes × 2 workers: each of the 4 workers hears from all 4.
        assert_eq!(received, vec![vec![vec![0, 1, 2, 3]; 2]; 2]);
        let alone = ClusterSettings::default()
            .execute(3, exchange_indices)
            .unwrap();
        let alone: Vec<_> = alone.join().into_iter().map(Result::unwrap).collect();
        assert_eq!(alone, vec![vec![0, 1, 2]; 3]);
    }

    #[test]
    fn bad_flags_are_named() {
        let two = strings(&["a:1", "b:2"]);
        assert!(error(flags(2, 2, &two, None)).contains("--process 2"));
        assert!(error(flags(0, 0, &[], None)).contains("--processes 0"));
        assert!(error(flags(0, 3, &two, None)).contains("2 entries"));
        assert!(error(flags(0, 2, &[], None)).contains("--addresses"));
        let bad = strings(&["a:1", "b"]);
        assert!(error(flags(0, 2, &bad, None)).contains("entry 2 is \"b\""));
        let port = strings(&["a:1", "b:99999"]);
        assert!(error(flags(0, 2, &port, None)).contains("entry 2"));
        for timeout in [0.0, -1.0, f64::NAN, 1e30] {
            let e = error(ClusterSettings::from_flags(0, 2, &two, None, timeout));
            assert!(
                e.contains("--cluster_timeout") && e.contains("positive"),
                "{e}"
            );
        }
    }

    #[test]
    fn hostfiles_are_read_line_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hosts");
        std::fs::write(&file, "node1:2101\nnode2:2102\nnode3:2103\n").unwrap();
        let s = flags(1, 2, &[], Some(&file)).unwrap();
        assert_eq!(s.addresses, strings(&["node1:2101", "node2:2102"]));
        assert!(error(flags(0, 4, &[], Some(&file))).contains("3 lines"));
        std::fs::write(&file, "node1:2101\nnode2\n").unwrap();
        let e = error(flags(0, 2, &[], Some(&file)));
        assert!(e.contains("line 2") && e.contains("\"node2\""), "{e}");
        let missing = dir.path().join("none");
        let e = error(flags(0, 2, &[], Some(&missing)));
        assert!(e.contains("cannot read --hostfile"), "{e}");
        let e = error(flags(0, 2, &strings(&["a:1"]), Some(&file)));
        assert!(e.contains("both given"), "{e}");
    }
}
