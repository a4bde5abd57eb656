//! Which pending epochs an operator with two inputs may finish: those that neither input's
//! frontier can still reach (every record of the epoch has arrived on both inputs).

use std::collections::BTreeMap;

use timely::progress::frontier::MutableAntichain;

/// The epochs of `pending`, in order, that are complete on both inputs.
pub(crate) fn complete<V>(
    pending: &BTreeMap<u64, V>,
    frontiers: [&MutableAntichain<u64>; 2],
) -> Vec<u64> {
    pending
        .keys()
        .copied()
        .filter(|t| frontiers.iter().all(|f| !f.less_equal(t)))
        .collect()
}
