//! The iteration loop of an iterative job (timely pattern A, rust-stack.md §3): one long-lived
//! dataflow per worker thread, one epoch per iteration.
//!
//! Records (particles) are sent once, at epoch 0, each by the worker that owns it
//! ([`local_shares`]); worker 0 (the leader) sends the messages of iteration k (references,
//! plans) at epoch k−1. Every worker steps, parked, until the epoch's output has passed its
//! probe, reads it (the job's graph broadcasts it to every worker), updates its own copy of the
//! job's control state with it — all copies agree, since every worker sees the same output —
//! and the leader builds the next messages from it. The leader also hands each output to the
//! calling thread, which writes files and logs while the next iteration runs; that is where a
//! job writes its checkpoint, after the iteration's outputs, so that a checkpoint on disk always
//! belongs to a complete iteration.
//!
//! What a job supplies is an [`EpochJob`]: its graph, how an output updates the control state,
//! and the messages of the next epoch. [`run`] does the rest, in one process or several
//! ([`ClusterSettings`]).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::anyhow;
use timely::dataflow::operators::{Inspect, Probe};
use timely::dataflow::{InputHandleVec, ProbeHandle, Scope, Stream};

use crate::cluster::ClusterSettings;

/// An iterative job, as seen by the epoch loop; see the module doc.
pub trait EpochJob: Send + Sync + 'static {
    /// A record sent once, at epoch 0 (e.g. a particle).
    type Record: Clone + Send + 'static;
    /// A message the leader sends for each iteration (e.g. a half set's reference).
    type Message: Clone + Send + Sync + 'static;
    /// What the graph produces at the end of each epoch, on every worker.
    type Output: Clone + Send + 'static;
    /// The state every worker advances identically from each output (e.g. the schedule).
    type Control: Clone + Send + Sync + 'static;
    /// What the workers of one process share (progress callbacks, shared projections); each
    /// worker gets a clone.
    type Process: Clone + Send + Sync + 'static;

    /// The dataflow of one worker: records and messages in, each epoch's output (or the reason
    /// it failed) out, broadcast to every worker. `leader`: whether this is worker 0.
    fn build<'s>(
        &self,
        scope: Scope<'s, u64>,
        records: &mut InputHandleVec<u64, Self::Record>,
        messages: &mut InputHandleVec<u64, Self::Message>,
        leader: bool,
        process: Self::Process,
    ) -> Stream<'s, u64, Vec<Outcome<Self::Output>>>;

    /// Advances `control` past an epoch whose output is `output`.
    fn update(&self, control: &mut Self::Control, output: &Self::Output);

    /// The messages of the next epoch, given the `control` state after `output`; `None` when
    /// `output` was the last epoch's. An error ends the run (e.g. not enough memory for the
    /// next iteration).
    fn next(
        &self,
        control: &Self::Control,
        output: &Self::Output,
    ) -> Result<Option<Vec<Self::Message>>, String>;
}

/// One finished epoch, as the calling thread receives it.
#[derive(Debug, Clone)]
pub struct Epoch<O, C> {
    /// The epoch's output.
    pub output: O,
    /// The control state after it.
    pub control: C,
    /// Wall time of the epoch on the leader (s).
    pub seconds: f64,
}

/// An epoch's output, or why it failed.
pub type Outcome<O> = Result<O, String>;

/// What the leader sends the calling thread after each epoch.
type EpochMessage<J> = Outcome<Epoch<<J as EpochJob>::Output, <J as EpochJob>::Control>>;

/// Where an iterative run starts: every record of the job (each process keeps its own
/// workers' share), the first epoch's messages and the control state before it.
#[derive(Debug)]
pub struct Start<R, M, C> {
    /// Every record, in the job's order (record i goes to global worker i mod workers).
    pub records: Vec<R>,
    /// The first epoch's messages, sent by the leader.
    pub messages: Vec<M>,
    /// The control state before the first epoch.
    pub control: C,
}

/// Runs `job` from `start` on `threads` workers in this process (and those of the other
/// processes of `cluster`), calling `on_epoch` on the calling thread for every epoch the leader
/// finishes, in order. The first error — of an epoch, of `on_epoch` or of a worker — is
/// returned once every worker has stopped.
pub fn run<J: EpochJob>(
    job: Arc<J>,
    start: Start<J::Record, J::Message, J::Control>,
    cluster: &ClusterSettings,
    threads: usize,
    process: J::Process,
    mut on_epoch: impl FnMut(Epoch<J::Output, J::Control>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let shares = local_shares(
        start.records,
        cluster.process(),
        threads,
        cluster.processes(),
    );
    let shared = Arc::new(Shared {
        shares: Mutex::new(shares),
        messages: start.messages,
        control: start.control,
    });
    let (sender, receiver) = channel::<EpochMessage<J>>();
    let guards = cluster.execute(threads, move |worker| {
        iterate(worker, &*job, &shared, sender.clone(), process.clone())
    })?;
    let mut first_error: Option<anyhow::Error> = None;
    for epoch in receiver {
        let outcome = epoch.map_err(|e| anyhow!(e)).and_then(&mut on_epoch);
        if let Err(e) = outcome {
            first_error.get_or_insert(e);
        }
    }
    for result in guards.join() {
        if let Err(e) = result {
            first_error.get_or_insert(anyhow!("a timely worker failed: {e}"));
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// What the workers of this process start from.
struct Shared<R, M, C> {
    /// Per local worker, the records it sends; each worker takes (moves) its share, so that
    /// the graph holds the only copy.
    shares: Mutex<Vec<Vec<R>>>,
    messages: Vec<M>,
    control: C,
}

/// The records the `threads` workers of process `process` (of `processes`) send into the
/// dataflow: record i goes to worker i mod (threads·processes), as timely numbers workers
/// process by process; the other processes' records are dropped here.
pub fn local_shares<R>(
    records: Vec<R>,
    process: usize,
    threads: usize,
    processes: usize,
) -> Vec<Vec<R>> {
    let threads = threads.max(1);
    let (peers, first) = (threads * processes.max(1), process * threads);
    let mut shares: Vec<Vec<R>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, record) in records.into_iter().enumerate() {
        let worker = i % peers;
        if (first..first + threads).contains(&worker) {
            shares[worker - first].push(record);
        }
    }
    shares
}

/// The loop of one worker; see the module doc.
fn iterate<J: EpochJob>(
    worker: &mut timely::worker::Worker,
    job: &J,
    shared: &Shared<J::Record, J::Message, J::Control>,
    sender: Sender<EpochMessage<J>>,
    process: J::Process,
) -> Result<(), String> {
    let index = worker.index();
    let leader = index == 0;
    let mut records = InputHandleVec::<u64, J::Record>::new();
    let mut messages = InputHandleVec::<u64, J::Message>::new();
    let probe = ProbeHandle::new();
    let result: Rc<RefCell<Option<Outcome<J::Output>>>> = Rc::new(RefCell::new(None));
    let sink = result.clone();
    worker.dataflow::<u64, _, _>(|scope| {
        job.build(scope, &mut records, &mut messages, leader, process)
            .inspect(move |output| *sink.borrow_mut() = Some(output.clone()))
            .probe_with(&probe);
    });
    let share = {
        let mut shares = shared.shares.lock().unwrap_or_else(|e| e.into_inner());
        let local = shares.len().max(1);
        shares
            .get_mut(index % local)
            .map(std::mem::take)
            .unwrap_or_default()
    };
    for record in share {
        records.send(record);
    }
    records.close();
    let mut control = shared.control.clone();
    let mut next = shared.messages.clone();
    let mut epoch = 0u64;
    loop {
        let start = Instant::now();
        if leader {
            for message in next.drain(..) {
                messages.send(message);
            }
        }
        epoch += 1;
        messages.advance_to(epoch);
        worker.step_or_park_while(None, || probe.less_than(messages.time()));
        let output = result
            .borrow_mut()
            .take()
            .unwrap_or_else(|| Err(format!("iteration {epoch}: no result")));
        let output = match output {
            Ok(output) => output,
            Err(e) => {
                if leader {
                    let _ = sender.send(Err(e.clone()));
                }
                return Err(e);
            }
        };
        job.update(&mut control, &output);
        let upcoming = job.next(&control, &output);
        if leader {
            // The receiver only goes away when the calling thread has given up.
            let _ = sender.send(Ok(Epoch {
                output,
                control: control.clone(),
                seconds: start.elapsed().as_secs_f64(),
            }));
        }
        match upcoming? {
            Some(messages) => next = messages,
            None => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_process_keeps_the_records_its_workers_send() {
        // 2 processes × 2 threads: process 1 runs workers 2 and 3.
        assert_eq!(
            local_shares((0..10).collect(), 1, 2, 2),
            [vec![2, 6], vec![3, 7]]
        );
        assert_eq!(
            local_shares((0..5).collect(), 0, 2, 1),
            [vec![0, 2, 4], vec![1, 3]]
        );
    }
}
