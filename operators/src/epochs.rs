//! The per-epoch join every iterative operator builds on: two inputs, one call of the
//! operator's own logic per epoch once that epoch is complete on both.
//!
//! An iterative job sends its state (references, a model, …) at epoch k for iteration k + 1,
//! and its data either once (particles at epoch 0, kept for good) or per epoch (partial sums
//! of iteration k + 1 at epoch k). [`JoinEpochs`] builds the two-input operator that does the
//! bookkeeping around that, the way timely builds its specific operators from the generic
//! ones in `timely::dataflow::operators::generic`:
//! - the second input's records are collected per epoch, in arrival order;
//! - the first input's records are either collected per epoch as well, into any
//!   `Default + Extend` collection ([`join_epochs`](JoinEpochs::join_epochs)), or kept for
//!   good in one stash that the logic may reorder and update
//!   ([`join_epochs_stashed`](JoinEpochs::join_epochs_stashed));
//! - a record opens its epoch (a capability for it is retained) unless it goes to the stash;
//! - in each activation, the epochs that neither input's frontier can still reach (every
//!   record of the epoch has arrived on both inputs) are finished in time order: the logic
//!   gets the epoch, its records, and returns the epoch's output records, which are sent at
//!   the epoch's time and in the order returned; the epoch's capability is then dropped.
//!
//! An epoch that only stashed records never opens, so the logic is not called for it.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use timely::container::CapacityContainerBuilder;
use timely::dataflow::StreamVec;
use timely::dataflow::channels::pact::ParallelizationContract;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::{Capability, InputCapability};
use timely::progress::Timestamp;
use timely::progress::frontier::MutableAntichain;

/// Two-input operators that call their logic once per complete epoch; see the module doc.
///
/// # Examples
///
/// Sums per epoch of one input, scaled by the factor sent on the other at the same epoch:
///
/// ```
/// use cryoflux_operators::epochs::JoinEpochs;
/// use cryoflux_operators::example::captured;
/// use timely::dataflow::channels::pact::Pipeline;
/// use timely::dataflow::operators::{Capture, ToStream};
/// use timely::dataflow::operators::vec::Delay;
///
/// let events = timely::example(|scope| {
///     let values = (1..=6u64).to_stream(scope).delay(|x, _| x % 2);
///     let factors = [10u64, 100].to_stream(scope).delay(|&f, _| u64::from(f == 100));
///     values
///         .join_epochs(factors, (Pipeline, Pipeline), "ScaledSums", |&epoch, values: Vec<u64>, factors| {
///             let sum: u64 = values.iter().sum();
///             factors.into_iter().map(move |f| (epoch, sum * f))
///         })
///         .capture()
/// });
/// // Epoch 0: 2 + 4 + 6 times 10; epoch 1: 1 + 3 + 5 times 100.
/// let sums: Vec<_> = captured(events).into_iter().map(|(_, sum)| sum).collect();
/// assert_eq!(sums, [(0, 120), (1, 900)]);
/// ```
///
/// A stash kept across epochs, updated by each epoch's logic:
///
/// ```
/// use cryoflux_operators::epochs::JoinEpochs;
/// use cryoflux_operators::example::captured;
/// use timely::dataflow::channels::pact::Pipeline;
/// use timely::dataflow::operators::{Capture, ToStream};
/// use timely::dataflow::operators::vec::Delay;
///
/// let events = timely::example(|scope| {
///     let counters = [3u64, 1, 2].to_stream(scope);
///     let steps = [1u64, 10].to_stream(scope).delay(|&s, _| u64::from(s == 10));
///     counters
///         .join_epochs_stashed(steps, (Pipeline, Pipeline), "Counters", |_, counters, steps| {
///             counters.sort();
///             counters.iter_mut().for_each(|c| *c += steps.iter().sum::<u64>());
///             counters.clone()
///         })
///         .capture()
/// });
/// let counters: Vec<_> = captured(events);
/// assert_eq!(counters, [(0, 2), (0, 3), (0, 4), (1, 12), (1, 13), (1, 14)]);
/// ```
pub trait JoinEpochs<'s, T: Timestamp, D1: 'static>: Into<StreamVec<'s, T, D1>> {
    /// Joins `self` and `other` per epoch: each epoch's records of `self` are collected into
    /// an `A` and those of `other` into a `Vec`, both in arrival order, and `logic(epoch, a,
    /// records)` is called once the epoch is complete on both inputs; its output records go
    /// out at the epoch. `pacts` route the two inputs (`Pipeline`, `Exchange`, …).
    fn join_epochs<A, D2, O, I, P1, P2, L>(
        self,
        other: StreamVec<'s, T, D2>,
        pacts: (P1, P2),
        name: &str,
        mut logic: L,
    ) -> StreamVec<'s, T, O>
    where
        A: Default + Extend<D1> + 'static,
        D2: 'static,
        O: 'static,
        I: IntoIterator<Item = O>,
        P1: ParallelizationContract<T, Vec<D1>>,
        P2: ParallelizationContract<T, Vec<D2>>,
        L: FnMut(&T, A, Vec<D2>) -> I + 'static,
    {
        let keep = PerEpoch::<A>(PhantomData);
        let logic = move |t: &T, _: &mut PerEpoch<A>, a, d| logic(t, a, d);
        join(self.into(), other, pacts, name, keep, logic)
    }

    /// Joins the stash of `self` with `other` per epoch: every record of `self`, whatever its
    /// epoch, goes to one stash kept for good, those of `other` are collected per epoch, and
    /// `logic(epoch, &mut stash, records)` is called once the epoch is complete on both inputs
    /// (all of the stash that can precede it has arrived); its output records go out at the
    /// epoch. Only `other`'s records open epochs.
    fn join_epochs_stashed<D2, O, I, P1, P2, L>(
        self,
        other: StreamVec<'s, T, D2>,
        pacts: (P1, P2),
        name: &str,
        mut logic: L,
    ) -> StreamVec<'s, T, O>
    where
        D2: 'static,
        O: 'static,
        I: IntoIterator<Item = O>,
        P1: ParallelizationContract<T, Vec<D1>>,
        P2: ParallelizationContract<T, Vec<D2>>,
        L: FnMut(&T, &mut Vec<D1>, Vec<D2>) -> I + 'static,
    {
        let keep = Stash(Vec::new());
        let logic = move |t: &T, stash: &mut Stash<D1>, (), d| logic(t, &mut stash.0, d);
        join(self.into(), other, pacts, name, keep, logic)
    }
}

impl<'s, T: Timestamp, D1: 'static> JoinEpochs<'s, T, D1> for StreamVec<'s, T, D1> {}

/// How the operator keeps its first input's records.
trait Keep<D>: 'static {
    /// What an open epoch holds of them.
    type Epoch: Default;

    /// Keeps `data`; `epoch` opens (or finds) the pending epoch of the records' time.
    fn keep<'p>(&mut self, data: &mut Vec<D>, epoch: impl FnOnce() -> &'p mut Self::Epoch)
    where
        Self::Epoch: 'p;
}

/// Every record in one stash, whatever its epoch.
struct Stash<D>(Vec<D>);

impl<D: 'static> Keep<D> for Stash<D> {
    type Epoch = ();

    fn keep<'p>(&mut self, data: &mut Vec<D>, _: impl FnOnce() -> &'p mut ()) {
        self.0.append(data);
    }
}

/// Each epoch's records in its own `A`.
struct PerEpoch<A>(PhantomData<A>);

impl<D, A: Default + Extend<D> + 'static> Keep<D> for PerEpoch<A> {
    type Epoch = A;

    fn keep<'p>(&mut self, data: &mut Vec<D>, epoch: impl FnOnce() -> &'p mut A)
    where
        A: 'p,
    {
        epoch().extend(data.drain(..));
    }
}

/// An open epoch: its capability, what it holds of the first input, the second input's
/// records.
type Pending<T, K, D2> = (Capability<T>, K, Vec<D2>);

/// The operator of both joins; `logic` gets the epoch, the keeper, the epoch's share of the
/// first input and its records of the second.
fn join<'s, T, D1, D2, K, O, I, P1, P2, L>(
    first: StreamVec<'s, T, D1>,
    second: StreamVec<'s, T, D2>,
    (pact1, pact2): (P1, P2),
    name: &str,
    mut keep: K,
    mut logic: L,
) -> StreamVec<'s, T, O>
where
    T: Timestamp,
    D1: 'static,
    D2: 'static,
    O: 'static,
    K: Keep<D1>,
    I: IntoIterator<Item = O>,
    P1: ParallelizationContract<T, Vec<D1>>,
    P2: ParallelizationContract<T, Vec<D2>>,
    L: FnMut(&T, &mut K, K::Epoch, Vec<D2>) -> I + 'static,
{
    first.binary_frontier::<_, CapacityContainerBuilder<Vec<O>>, _, _, _, _>(
        second,
        pact1,
        pact2,
        name,
        move |initial, _info| {
            drop(initial);
            let mut pending: BTreeMap<T, Pending<T, K::Epoch, D2>> = BTreeMap::new();
            move |(input1, frontier1), (input2, frontier2), output| {
                input1.for_each(|time, data| {
                    let pending = &mut pending;
                    keep.keep(data, move || &mut open(pending, &time).1);
                });
                input2.for_each(|time, data| open(&mut pending, &time).2.append(data));
                for t in complete(&pending, [frontier1, frontier2]) {
                    if let Some((cap, kept, data)) = pending.remove(&t) {
                        let records = logic(&t, &mut keep, kept, data);
                        output.session(&cap).give_iterator(records.into_iter());
                    }
                }
            }
        },
    )
}

/// The pending epoch of `time`, opened (its capability retained) if it was not.
fn open<'p, T: Timestamp, K: Default, D2>(
    pending: &'p mut BTreeMap<T, Pending<T, K, D2>>,
    time: &InputCapability<T>,
) -> &'p mut Pending<T, K, D2> {
    pending
        .entry(time.time().clone())
        .or_insert_with(|| (time.retain(0), K::default(), Vec::new()))
}

/// The epochs of `pending`, in order, that are complete on both inputs.
fn complete<T: Timestamp, V>(
    pending: &BTreeMap<T, V>,
    frontiers: [&MutableAntichain<T>; 2],
) -> Vec<T> {
    pending
        .keys()
        .filter(|t| frontiers.iter().all(|f| !f.less_equal(t)))
        .cloned()
        .collect()
}
