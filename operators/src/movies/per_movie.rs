//! Processes each movie (or micrograph) on the worker its index is dealt to.
//!
//! Input: [`Indexed`] items, each the job's description of one unit of work. Output: an
//! [`Indexed`] result per item, with the item's index, on the worker that processed it.

use serde::{Deserialize, Serialize};
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::Operator;

/// A value with its position (0-based) in the job's input list; ordered by index first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Indexed<T> {
    /// Position of the item in the job's input list.
    pub index: u64,
    /// The item, or its result.
    pub value: T,
}

/// Applies `work` to every item, item `i` on worker `i mod workers`, keeping the indices.
/// `name` names the operator in timely's logs (e.g. "MotionCorrection").
///
/// # Examples
///
/// ```
/// use cryoflux_operators::movies::per_movie::{Indexed, per_movie};
/// use timely::dataflow::operators::capture::{Capture, Extract};
/// use timely::dataflow::operators::ToStream;
///
/// let results = timely::example(|scope| {
///     let items = (0..4u64).map(|index| Indexed { index, value: index * 10 });
///     let items = items.to_stream(scope).container::<Vec<_>>();
///     per_movie(items, "Double", |v: &u64| v * 2).capture()
/// });
/// let mut out: Vec<(u64, u64)> = results
///     .extract()
///     .into_iter()
///     .flat_map(|(_, batch)| batch.into_iter().map(|r| (r.index, r.value)))
///     .collect();
/// out.sort();
/// assert_eq!(out, [(0, 0), (1, 20), (2, 40), (3, 60)]);
/// ```
pub fn per_movie<'s, I, O, F>(
    items: Stream<'s, u64, Vec<Indexed<I>>>,
    name: &str,
    work: F,
) -> Stream<'s, u64, Vec<Indexed<O>>>
where
    I: Clone + Serialize + for<'de> Deserialize<'de> + Send + 'static,
    O: Clone + 'static,
    F: Fn(&I) -> O + 'static,
{
    items.unary(
        Exchange::new(|item: &Indexed<I>| item.index),
        name,
        move |_capability, _info| {
            move |input, output| {
                input.for_each(|time, data| {
                    let mut session = output.session(&time);
                    for item in data.drain(..) {
                        session.give(Indexed {
                            index: item.index,
                            value: work(&item.value),
                        });
                    }
                });
            }
        },
    )
}
