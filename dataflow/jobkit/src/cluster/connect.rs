//! Opening the TCP connections of a multi-process run ourselves, with a deadline, before timely
//! takes them over (timely's own set-up retries a missing peer forever and prints to stdout).
//!
//! As in timely, process `i` connects to every process below it and accepts a connection from
//! every process above it. Each connection starts with a greeting both ways (a magic word, the
//! sender's process index and the number of processes), so a peer started with other
//! `--processes`/`--addresses`, or two processes claiming the same index, is an error at once
//! rather than a garbled run; a connection that does not greet (a port scanner, another
//! program) is dropped.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{scope, sleep};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};

/// First bytes of every greeting: names the program and the version of this exchange.
const MAGIC: [u8; 8] = *b"cryoflx1";

/// Pause between two looks at the listener for new connections.
const ACCEPT_POLL: Duration = Duration::from_millis(20);

/// Pause between two attempts to connect to a process that is not listening yet.
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// Longest wait for one connection attempt or for the greeting on an open connection.
const ATTEMPT_LIMIT: Duration = Duration::from_secs(10);

/// The first message on a connection, sent by both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Greeting {
    /// Index of the process that sends it.
    process: u64,
    /// Number of processes in the sender's run.
    processes: u64,
}

impl Greeting {
    fn write_to(&self, stream: &mut TcpStream) -> io::Result<()> {
        let bytes = [
            MAGIC,
            self.process.to_be_bytes(),
            self.processes.to_be_bytes(),
        ];
        stream.write_all(bytes.as_flattened())
    }

    /// The peer's greeting; an `InvalidData` error when it does not start with [`MAGIC`].
    fn read_from(stream: &mut TcpStream) -> io::Result<Self> {
        let mut word = || -> io::Result<[u8; 8]> {
            let mut bytes = [0u8; 8];
            stream.read_exact(&mut bytes).map(|()| bytes)
        };
        if word()? != MAGIC {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "it answered, but not as a process of the same cryoflux job",
            ));
        }
        Ok(Self {
            process: u64::from_be_bytes(word()?),
            processes: u64::from_be_bytes(word()?),
        })
    }
}

/// What came of one peer by the deadline.
enum Link {
    /// Connected and greeted.
    Up(TcpStream),
    /// Not reached: why, in words.
    Down(String),
}

/// What every connecting thread shares.
struct Setup<'a> {
    /// `host:port` of every process, in process order.
    addresses: &'a [String],
    /// Index of this process.
    me: usize,
    /// When to give up on peers not yet reached.
    deadline: Instant,
    /// Set when one thread met a fatal error, so that the others stop early.
    abort: AtomicBool,
}

/// One connected, blocking stream to every other process (`None` at `me`), within `timeout`.
///
/// Errors when this process cannot listen on its own address, when a peer greets with a
/// different configuration, or when some peers are still unreached at the deadline; the
/// message names every such peer (index and address) and what to check.
pub(super) fn connect_all(
    addresses: &[String],
    me: usize,
    timeout: Duration,
) -> anyhow::Result<Vec<Option<TcpStream>>> {
    let n = addresses.len();
    let listener = TcpListener::bind(addresses[me].as_str())
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| {
            anyhow!(
                "process {me} cannot listen on {} (its entry in --addresses/--hostfile): {e}; \
                 expected an address of this host whose port is free",
                addresses[me]
            )
        })?;
    let setup = Setup {
        addresses,
        me,
        deadline: Instant::now() + timeout,
        abort: AtomicBool::new(false),
    };
    let setup = &setup;
    let (below, above) = scope(|s| {
        let dialers: Vec<_> = (0..me)
            .map(|peer| s.spawn(move || setup.stop_on_error(setup.dial(peer))))
            .collect();
        let above = setup.stop_on_error(setup.accept(&listener));
        let below: Vec<_> = dialers
            .into_iter()
            .enumerate()
            .map(|(peer, dialer)| {
                dialer
                    .join()
                    .unwrap_or_else(|_| Err(anyhow!("connecting to process {peer} failed")))
            })
            .collect();
        (below, above)
    });
    let mut links: Vec<Link> = below.into_iter().collect::<anyhow::Result<_>>()?;
    links.extend(above?);
    let mut streams = Vec::with_capacity(n);
    let mut missing = Vec::new();
    for (k, link) in links.into_iter().enumerate() {
        let peer = if k < me { k } else { k + 1 };
        match link {
            Link::Up(stream) => {
                hand_over(&stream).map_err(|e| {
                    anyhow!("process {me}: preparing the connection to process {peer}: {e}")
                })?;
                streams.push(Some(stream));
            }
            Link::Down(why) => {
                missing.push(format!("process {peer} at {} ({why})", addresses[peer]))
            }
        }
    }
    if !missing.is_empty() {
        bail!(
            "process {me} of {n} gave up after --cluster_timeout {} s without reaching {}. \
             Check that every process has been started (the same command, only --process \
             differs, with the same --processes and --addresses or --hostfile), that the hosts \
             can reach each other's addresses (host names, firewalls, ports), or raise \
             --cluster_timeout when the processes start far apart (each process starts the \
             clock once it has read its inputs)",
            timeout.as_secs_f64(),
            missing.join("; ")
        );
    }
    streams.insert(me, None);
    Ok(streams)
}

impl Setup<'_> {
    /// This process's greeting.
    fn greeting(&self) -> Greeting {
        Greeting {
            process: self.me as u64,
            processes: self.addresses.len() as u64,
        }
    }

    /// Time left before the deadline, at least a millisecond (socket timeouts refuse zero).
    fn remaining(&self) -> Duration {
        self.deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    }

    /// Whether to keep trying: before the deadline and no fatal error elsewhere.
    fn going(&self) -> bool {
        Instant::now() < self.deadline && !self.abort.load(Ordering::Relaxed)
    }

    /// `result`, raising the abort flag when it is an error.
    fn stop_on_error<T>(&self, result: anyhow::Result<T>) -> anyhow::Result<T> {
        if result.is_err() {
            self.abort.store(true, Ordering::Relaxed);
        }
        result
    }

    /// Connects to process `peer` (below this one), retrying until the deadline.
    fn dial(&self, peer: usize) -> anyhow::Result<Link> {
        let address = &self.addresses[peer];
        let mut last = String::from("no attempt before the deadline");
        while self.going() {
            match self.attempt(address) {
                Ok((stream, answer)) => {
                    self.check_answer(peer, &answer)?;
                    return Ok(Link::Up(stream));
                }
                Err(e) => last = e.to_string(),
            }
            sleep(RETRY_PAUSE.min(self.remaining()));
        }
        Ok(Link::Down(format!("cannot connect to it: {last}")))
    }

    /// One attempt to connect to `address` and exchange greetings; returns the answer.
    fn attempt(&self, address: &str) -> io::Result<(TcpStream, Greeting)> {
        let limit = self.remaining().min(ATTEMPT_LIMIT);
        let targets: Vec<SocketAddr> = address.to_socket_addrs()?.collect();
        let mut last = io::Error::new(io::ErrorKind::NotFound, "the host name has no address");
        for target in targets {
            match TcpStream::connect_timeout(&target, limit) {
                Ok(mut stream) => {
                    stream.set_read_timeout(Some(limit))?;
                    self.greeting().write_to(&mut stream)?;
                    let answer = Greeting::read_from(&mut stream)?;
                    return Ok((stream, answer));
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// An error unless `answer` comes from process `peer` of a run of the same size.
    fn check_answer(&self, peer: usize, answer: &Greeting) -> anyhow::Result<()> {
        let n = self.addresses.len() as u64;
        if answer.process != peer as u64 || answer.processes != n {
            bail!(
                "process {}: {} (process {peer} in --addresses/--hostfile) answered as process \
                 {} of {}; expected process {peer} of {n}. Start every process with the same \
                 --processes and --addresses (or --hostfile)",
                self.me,
                self.addresses[peer],
                answer.process,
                answer.processes
            );
        }
        Ok(())
    }

    /// Accepts one connection from every process above this one until the deadline; the
    /// links of processes me+1 … n−1 in order.
    fn accept(&self, listener: &TcpListener) -> anyhow::Result<Vec<Link>> {
        let n = self.addresses.len();
        let mine = &self.addresses[self.me];
        let mut links: Vec<Link> = (self.me + 1..n)
            .map(|_| Link::Down(format!("it never connected to this process at {mine}")))
            .collect();
        let mut waiting = links.len();
        while waiting > 0 && self.going() {
            let stream = match listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    sleep(ACCEPT_POLL.min(self.remaining()));
                    continue;
                }
                Err(e) => bail!("process {}: accepting connections on {mine}: {e}", self.me),
            };
            let Some((stream, greeting)) = self.greet(stream) else {
                continue;
            };
            let from = usize::try_from(greeting.process).unwrap_or(usize::MAX);
            let slot = from
                .checked_sub(self.me + 1)
                .filter(|&k| k < links.len() && greeting.processes == n as u64);
            match slot {
                Some(k) if matches!(links[k], Link::Down(_)) => {
                    links[k] = Link::Up(stream);
                    waiting -= 1;
                }
                Some(_) => bail!(
                    "process {}: two processes connected as process {from}; expected each \
                     --process once",
                    self.me
                ),
                None => bail!(
                    "process {}: a process connected as process {} of {}; expected a process \
                     above {} of {n} (lower ones are connected to, not from). Start every \
                     process with the same --processes and --addresses (or --hostfile)",
                    self.me,
                    greeting.process,
                    greeting.processes,
                    self.me
                ),
            }
        }
        Ok(links)
    }

    /// Reads the greeting on an accepted `stream` and answers it; `None` (the connection is
    /// dropped) when it does not greet in time or is not a cryoflux process.
    fn greet(&self, mut stream: TcpStream) -> Option<(TcpStream, Greeting)> {
        let exchange = |stream: &mut TcpStream| -> io::Result<Greeting> {
            stream.set_nonblocking(false)?;
            stream.set_read_timeout(Some(self.remaining().min(ATTEMPT_LIMIT)))?;
            let greeting = Greeting::read_from(stream)?;
            self.greeting().write_to(stream)?;
            Ok(greeting)
        };
        match exchange(&mut stream) {
            Ok(greeting) => Some((stream, greeting)),
            Err(e) => {
                tracing::warn!(
                    "process {}: dropped a connection that did not greet: {e}",
                    self.me
                );
                None
            }
        }
    }
}

/// Prepares a greeted stream for timely: blocking, no timeouts, no Nagle delay.
fn hand_over(stream: &TcpStream) -> io::Result<()> {
    stream.set_read_timeout(None)?;
    stream.set_nonblocking(false)?;
    stream.set_nodelay(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` loopback addresses whose ports were free a moment ago.
    fn free_addresses(n: usize) -> Vec<String> {
        let listeners: Vec<_> = (0..n)
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        listeners
            .iter()
            .map(|l| l.local_addr().unwrap().to_string())
            .collect()
    }

    fn error(result: anyhow::Result<Vec<Option<TcpStream>>>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn a_missing_peer_is_named_once_the_deadline_passes() {
        let addresses = free_addresses(3);
        let start = Instant::now();
        let e = error(connect_all(&addresses, 1, Duration::from_millis(300)));
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
        assert!(
            e.contains("process 1 of 3 gave up after --cluster_timeout 0.3 s"),
            "{e}"
        );
        assert!(
            e.contains(&format!(
                "process 0 at {} (cannot connect to it: ",
                addresses[0]
            )),
            "{e}"
        );
        let never = format!(
            "process 2 at {} (it never connected to this process at {})",
            addresses[2], addresses[1]
        );
        assert!(e.contains(&never), "{e}");
    }

    #[test]
    fn greeted_connections_are_handed_over_in_process_order() {
        let addresses = free_addresses(3);
        let streams = scope(|s| {
            let runs: Vec<_> = (0..3)
                .map(|me| {
                    let addresses = &addresses;
                    s.spawn(move || connect_all(addresses, me, Duration::from_secs(10)).unwrap())
                })
                .collect();
            runs.into_iter()
                .map(|r| r.join().unwrap())
                .collect::<Vec<_>>()
        });
        for (me, row) in streams.iter().enumerate() {
            let present: Vec<bool> = row.iter().map(Option::is_some).collect();
            assert_eq!(present, (0..3).map(|p| p != me).collect::<Vec<_>>());
        }
        // Process 2's stream to process 0 is process 0's stream from process 2.
        let mut to_zero = streams[2][0].as_ref().unwrap();
        to_zero.write_all(b"x").unwrap();
        let mut byte = [0u8];
        streams[0][2]
            .as_ref()
            .unwrap()
            .read_exact(&mut byte)
            .unwrap();
        assert_eq!(&byte, b"x");
    }

    #[test]
    fn a_peer_with_another_process_count_is_refused_at_once() {
        let two = free_addresses(2);
        let three = [&two[..], &free_addresses(1)].concat();
        let start = Instant::now();
        let (zero, one) = scope(|s| {
            let zero = s.spawn(|| connect_all(&two, 0, Duration::from_secs(20)));
            let one = connect_all(&three, 1, Duration::from_secs(20));
            (zero.join().unwrap(), one)
        });
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
        let e = error(zero);
        assert!(e.contains("connected as process 1 of 3"), "{e}");
        let e = error(one);
        assert!(
            e.contains("answered as process 0 of 2; expected process 0 of 3"),
            "{e}"
        );
    }

    #[test]
    fn a_connection_that_does_not_greet_is_dropped() {
        let addresses = free_addresses(2);
        let connected = scope(|s| {
            let zero = s.spawn(|| connect_all(&addresses, 0, Duration::from_secs(10)));
            let mut stray = loop {
                match TcpStream::connect(addresses[0].as_str()) {
                    Ok(stream) => break stream,
                    Err(_) => sleep(Duration::from_millis(10)),
                }
            };
            stray.write_all(b"GET / HTTP/1.0\r\n\r\n......").unwrap();
            let one = connect_all(&addresses, 1, Duration::from_secs(10));
            (zero.join().unwrap().is_ok(), one.is_ok())
        });
        assert_eq!(connected, (true, true));
    }

    #[test]
    fn an_address_of_another_host_cannot_be_listened_on() {
        // 192.0.2.0/24 is reserved for documentation (RFC 5737): never a local address.
        let addresses = vec!["192.0.2.1:4000".to_string(), free_addresses(1).remove(0)];
        let e = error(connect_all(&addresses, 0, Duration::from_secs(1)));
        assert!(
            e.contains("process 0 cannot listen on 192.0.2.1:4000"),
            "{e}"
        );
    }
}
