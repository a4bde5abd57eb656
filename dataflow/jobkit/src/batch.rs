//! Running a per-movie job: a timely dataflow of `threads` workers in which item `i` of the
//! job's list is processed by worker `i mod threads` ([`per_movie`]), every result gathered
//! back in input order. One item's failure is its own result (an `Err` the job reports and
//! skips), never the end of the run.

use std::sync::Arc;
use std::sync::mpsc::channel;

use anyhow::anyhow;
use cryoflux_operators::movies::per_movie::{Indexed, per_movie};
use serde::Serialize;
use serde::de::DeserializeOwned;
use timely::dataflow::operators::{Inspect, ToStream};

/// Applies `work` to every item of `items` on `threads` timely workers (≥ 1) and returns the
/// results in the order of `items`. `name` names the step in timely's logs.
pub fn run_per_movie<I, O, F>(
    threads: usize,
    name: &'static str,
    items: Vec<I>,
    work: F,
) -> anyhow::Result<Vec<O>>
where
    I: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    O: Clone + Send + 'static,
    F: Fn(&I) -> O + Send + Sync + 'static,
{
    let count = items.len();
    let items = Arc::new(items);
    let work = Arc::new(work);
    let (sender, receiver) = channel::<Indexed<O>>();
    let guards = timely::execute(timely::Config::process(threads.max(1)), move |worker| {
        let (me, peers) = (worker.index(), worker.peers());
        let mine: Vec<Indexed<I>> = items
            .iter()
            .enumerate()
            .filter(|(i, _)| i % peers == me)
            .map(|(i, item)| Indexed {
                index: i as u64,
                value: item.clone(),
            })
            .collect();
        let (sender, work) = (sender.clone(), Arc::clone(&work));
        worker.dataflow::<u64, _, _>(move |scope| {
            let stream = mine.to_stream(scope).container::<Vec<_>>();
            per_movie(stream, name, move |item: &I| work(item)).inspect(move |result| {
                // The receiver lives until every worker has finished.
                let _ = sender.send(result.clone());
            });
        });
    })
    .map_err(|e| anyhow!("cannot start the timely workers: {e}"))?;
    let finished = guards.join();
    if let Some(Err(e)) = finished.into_iter().find(Result::is_err) {
        return Err(anyhow!("a worker of {name} failed: {e}"));
    }
    let mut results: Vec<Indexed<O>> = receiver.try_iter().collect();
    results.sort_by_key(|r| r.index);
    if results.len() != count {
        return Err(anyhow!(
            "{name}: {} results for {count} items",
            results.len()
        ));
    }
    Ok(results.into_iter().map(|r| r.value).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_input_order_for_any_worker_count() {
        let items: Vec<u64> = (0..11).collect();
        for threads in [1, 2, 3] {
            let out = run_per_movie(threads, "Square", items.clone(), |&v: &u64| {
                if v == 5 {
                    Err(format!("item {v} is bad"))
                } else {
                    Ok(v * v)
                }
            })
            .unwrap();
            assert_eq!(out.len(), 11);
            assert_eq!(out[3], Ok(9));
            assert_eq!(out[5], Err("item 5 is bad".to_string()));
            assert_eq!(out[10], Ok(100));
        }
    }
}
