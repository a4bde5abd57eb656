//! The fixed-shape binary reduction tree that adds one half set's block sums.
//!
//! The leaves are the half set's blocks in block order, their count padded to a power of two
//! (a leaf beyond the last block is empty). A [`Node`] at `level` ℓ and `index` i stands for
//! the sum of leaves i·2^ℓ … (i+1)·2^ℓ − 1, and its sum is always `left child + right child`
//! (an empty child adds nothing and costs no floating-point operation). The total is thus one
//! fixed expression, whoever computes which subtree: results are bit-identical for any number
//! of workers or processes.
//!
//! A [`Reduction`] holds disjoint nodes and combines a node with its sibling as soon as both
//! are there. Fed the blocks of a contiguous range in order (as a worker of the expectation
//! operator is, see [`BlockLayout::worker`]) it behaves as a binary counter: it keeps at most
//! one node per level, and at the end holds exactly the range's maximal aligned subtrees.
//! Fed those subtrees in any order (as the maximisation operator is) it ends at the root.
//!
//! [`BlockLayout`] numbers the blocks within each half set and routes them to workers;
//! [`HalfReductions`] holds both half sets' trees of one iteration's [`BlockPartial`]s.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use serde::{Deserialize, Serialize};

use super::records::{BlockPartial, ParticleRecord};
use super::sums::HalfSums;

/// A node of a half set's reduction tree: the sum of that half's blocks (counted from 0 within
/// the half) `index·2^level` … `(index+1)·2^level − 1`; leaves are level 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Node {
    /// Height above the leaves (0 = one block).
    pub level: u32,
    /// Position among the nodes of the same level, from the left.
    pub index: u64,
}

impl Node {
    /// The leaf of the half set's block `index`.
    pub fn leaf(index: u64) -> Self {
        Self { level: 0, index }
    }

    /// The root of the tree over `leaves` blocks (level ⌈log₂ leaves⌉; 64 beyond 2⁶³ blocks,
    /// which no tree holds).
    pub fn root(leaves: u64) -> Self {
        Self {
            level: u64::BITS - leaves.saturating_sub(1).leading_zeros(),
            index: 0,
        }
    }

    /// The first block the node covers, or `None` when that does not fit in 64 bits.
    fn first_leaf(self) -> Option<u64> {
        1u64.checked_shl(self.level)?.checked_mul(self.index)
    }

    fn sibling(self) -> Self {
        Self {
            index: self.index ^ 1,
            ..self
        }
    }

    fn parent(self) -> Self {
        Self {
            level: self.level + 1,
            index: self.index / 2,
        }
    }
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "node (level {}, index {})", self.level, self.index)
    }
}

/// Partial sums that add up in a fixed order: `combine(left, right)` is the sum of two
/// adjacent ranges of blocks, the lower one on the left.
pub trait Combine: Sized {
    /// The sum of `left` and `right`.
    fn combine(left: Self, right: Self) -> Self;
}

/// Sums of a block range, or the first error of its lowest failed block (which names the
/// particle): an error on the left wins, so the reported error does not depend on the workers.
impl Combine for Result<HalfSums, String> {
    fn combine(left: Self, right: Self) -> Self {
        let mut left = left?;
        left.add(right?)
            .map_err(|e| format!("adding block sums: {e}"))?;
        Ok(left)
    }
}

/// The pending partial sums of one half set's tree over `leaves` blocks; see the module doc.
///
/// # Examples
///
/// Two workers fold blocks 0 … 2 and 3 … 4 of a half set of five blocks; their subtrees,
/// added in any order, give the tree's total:
///
/// ```
/// use cryoflux_operators::refine::reduction::{Combine, Node, Reduction};
///
/// #[derive(Debug, PartialEq)]
/// struct Sum(f64);
///
/// impl Combine for Sum {
///     fn combine(left: Self, right: Self) -> Self {
///         Sum(left.0 + right.0)
///     }
/// }
///
/// let fold = |blocks: std::ops::Range<u64>| {
///     let mut reduction = Reduction::new(5).unwrap();
///     for b in blocks {
///         reduction.insert(Node::leaf(b), Sum(b as f64)).unwrap();
///     }
///     reduction.into_nodes().collect::<Vec<_>>()
/// };
/// let (low, high) = (fold(0..3), fold(3..5));
/// let nodes: Vec<Node> = low.iter().map(|(node, _)| *node).collect();
/// assert_eq!(nodes, [Node { level: 1, index: 0 }, Node::leaf(2)]);
/// let mut total = Reduction::new(5).unwrap();
/// for (node, sum) in high.into_iter().chain(low) {
///     total.insert(node, sum).unwrap();
/// }
/// assert_eq!(total.into_total().unwrap(), Sum(10.0));
/// ```
#[derive(Debug, Clone)]
pub struct Reduction<T> {
    leaves: u64,
    depth: u32,
    /// Disjoint nodes with their sums, keyed by their first block.
    nodes: BTreeMap<u64, (Node, T)>,
}

impl<T: Combine> Reduction<T> {
    /// An empty reduction for a half set of `leaves` blocks (at least 1).
    pub fn new(leaves: u64) -> Result<Self, String> {
        let depth = Node::root(leaves).level;
        if leaves == 0 || depth == u64::BITS {
            return Err(format!(
                "a reduction tree over {leaves} blocks; expected 1 … 2⁶³ blocks"
            ));
        }
        Ok(Self {
            leaves,
            depth,
            nodes: BTreeMap::new(),
        })
    }

    /// Number of blocks (leaves) of the half set.
    pub fn leaves(&self) -> u64 {
        self.leaves
    }

    /// The blocks `node` covers within the half set, `first … end − 1` (the padding cut off);
    /// an error when the node is not a non-empty node of this tree.
    fn span(&self, node: Node) -> Result<(u64, u64), String> {
        match node.first_leaf() {
            Some(first) if node.level <= self.depth && first < self.leaves => {
                let end = first.saturating_add(1u64 << node.level).min(self.leaves);
                Ok((first, end))
            }
            _ => Err(format!(
                "{node} is not in the reduction tree of {} blocks (depth {})",
                self.leaves, self.depth
            )),
        }
    }

    /// Adds the sum of `node`, combining it up the tree as far as its siblings are known;
    /// an error when the node is not in the tree or overlaps one already added.
    pub fn insert(&mut self, mut node: Node, mut value: T) -> Result<(), String> {
        let (first, end) = self.span(node)?;
        if let Some((_, (other, _))) = self.nodes.range(..end).next_back()
            && self.span(*other)?.1 > first
        {
            return Err(format!(
                "the partial sum of {node} overlaps one already received ({other})"
            ));
        }
        while node.level < self.depth {
            let node_first = self.span(node)?.0;
            let sibling = node.sibling();
            // A right sibling beyond the last block is padding: the parent's sum is this one.
            if let Some(s) = sibling.first_leaf().filter(|&s| s < self.leaves) {
                let Entry::Occupied(held) = self.nodes.entry(s) else {
                    break;
                };
                if held.get().0 != sibling {
                    break;
                }
                let (_, other) = held.remove();
                value = if s > node_first {
                    T::combine(value, other)
                } else {
                    T::combine(other, value)
                };
            }
            node = node.parent();
        }
        self.nodes.insert(self.span(node)?.0, (node, value));
        Ok(())
    }

    /// The held nodes and their sums, in block order.
    pub fn into_nodes(self) -> impl Iterator<Item = (Node, T)> {
        self.nodes.into_values()
    }

    /// The sum of all blocks; an error naming the first missing blocks when some never
    /// arrived.
    pub fn into_total(mut self) -> Result<T, String> {
        if let Some(root) = self.nodes.first_entry()
            && root.get().0.level == self.depth
        {
            return Ok(root.remove().1);
        }
        let mut end = 0;
        for (node, _) in self.nodes.values() {
            let (first, last) = self.span(*node)?;
            if first > end {
                break;
            }
            end = last;
        }
        let next = self
            .nodes
            .range(end..)
            .next()
            .map_or(self.leaves, |(&k, _)| k);
        Err(format!(
            "the sums of blocks {end} … {} (of 0 … {}) never arrived",
            next - 1,
            self.leaves - 1
        ))
    }
}

/// How a job's reduction blocks ([`ParticleRecord::block`]) divide between the half sets:
/// half 1's are blocks 0 … `blocks[0]` − 1, half 2's the next `blocks[1]`.
///
/// # Examples
///
/// ```
/// use cryoflux_operators::refine::reduction::BlockLayout;
///
/// let layout = BlockLayout { blocks: [5, 3] };
/// // Three workers: each owns a contiguous range of each half set's blocks.
/// let owners: Vec<usize> = (0..5).map(|b| layout.worker(1, b, 3)).collect();
/// assert_eq!(owners, [0, 0, 1, 1, 2]);
/// // Block 6 is half 2's second block.
/// assert_eq!((layout.leaf(2, 6), layout.worker(2, 6, 3)), (1, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlockLayout {
    /// Number of blocks of half sets 1 and 2.
    pub blocks: [u64; 2],
}

impl BlockLayout {
    /// The layout of `records` (blocks numbered over half 1, then half 2, as the particles are
    /// loaded).
    pub fn of(records: &[ParticleRecord]) -> Self {
        let end = |half: u8| {
            records
                .iter()
                .filter(|r| r.half == half)
                .map(|r| r.block + 1)
                .max()
                .unwrap_or(0)
        };
        let half_1 = end(1);
        Self {
            blocks: [half_1, end(2).saturating_sub(half_1)],
        }
    }

    /// Number of blocks of half set `half` (1 or 2).
    pub fn leaves(&self, half: u8) -> u64 {
        self.blocks[usize::from(half.clamp(1, 2) - 1)]
    }

    /// Position of `block` of half set `half` among that half's blocks (its leaf).
    pub fn leaf(&self, half: u8, block: u64) -> u64 {
        if half == 2 {
            block.saturating_sub(self.blocks[0])
        } else {
            block
        }
    }

    /// The worker (of `peers`) that owns `block` of half set `half`: each worker owns a
    /// contiguous range of each half's blocks, so it sends O(log blocks) partial sums.
    pub fn worker(&self, half: u8, block: u64, peers: usize) -> usize {
        let leaves = u128::from(self.leaves(half).max(1));
        let leaf = u128::from(self.leaf(half, block)).min(leaves - 1);
        (leaf * peers as u128 / leaves) as usize
    }
}

/// Both half sets' reduction trees of one epoch, fed with the block partials as they arrive;
/// the first structural error (a partial outside or overlapping its tree) is kept.
///
/// # Examples
///
/// ```
/// use cryoflux_operators::example::{tiny_job, tiny_partials};
/// use cryoflux_operators::refine::reduction::HalfReductions;
///
/// let job = tiny_job();
/// let sums: HalfReductions = tiny_partials(&job).into_iter().collect();
/// let [half_1, half_2] = sums.totals().unwrap();
/// assert_eq!((half_1.particles, half_2.particles), (4, 4));
/// ```
#[derive(Debug, Default)]
pub struct HalfReductions {
    halves: [Option<Reduction<Result<HalfSums, String>>>; 2],
    error: Option<String>,
}

impl HalfReductions {
    /// Adds `partial` to its half set's tree.
    pub fn add(&mut self, partial: BlockPartial) {
        if let Err(e) = self.try_add(partial) {
            self.error.get_or_insert(format!("M-step: {e}"));
        }
    }

    fn try_add(&mut self, partial: BlockPartial) -> Result<(), String> {
        let half = partial.half;
        let slot = match half {
            1 | 2 => &mut self.halves[usize::from(half - 1)],
            _ => {
                return Err(format!(
                    "a block partial of half set {half}; expected 1 or 2"
                ));
            }
        };
        let tree = match slot {
            Some(tree) => tree,
            None => slot.insert(Reduction::new(partial.leaves)?),
        };
        if tree.leaves() != partial.leaves {
            return Err(format!(
                "a block partial of half set {half} for a tree of {} blocks; expected {}",
                partial.leaves,
                tree.leaves()
            ));
        }
        tree.insert(partial.node, partial.sums)
            .map_err(|e| format!("half set {half}: {e}"))
    }

    /// Both half sets' totals, or the first error: a structural one, else the first failed
    /// block of half 1, then of half 2.
    pub fn totals(self) -> Result<[HalfSums; 2], String> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let [Some(r1), Some(r2)] = self.halves else {
            return Err("M-step: a half set received no particles".into());
        };
        let total = |r: Reduction<_>, half: u8| {
            r.into_total()
                .map_err(|e| format!("M-step: half set {half}: {e}"))
        };
        Ok([total(r1, 1)??, total(r2, 2)??])
    }
}

impl Extend<BlockPartial> for HalfReductions {
    /// Adds each partial to its half set's tree, in order.
    fn extend<I: IntoIterator<Item = BlockPartial>>(&mut self, partials: I) {
        partials.into_iter().for_each(|p| self.add(p));
    }
}

impl FromIterator<BlockPartial> for HalfReductions {
    fn from_iter<I: IntoIterator<Item = BlockPartial>>(partials: I) -> Self {
        let mut sums = Self::default();
        sums.extend(partials);
        sums
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refine::records::ParticleUpdate;
    use cryoflux_kernels::random::SplitMix64;

    impl Combine for f64 {
        fn combine(left: Self, right: Self) -> Self {
            left + right
        }
    }

    /// Values spread over many magnitudes, so that a different order of additions rounds
    /// differently.
    fn values(n: usize, seed: u64) -> Vec<f64> {
        let mut random = SplitMix64::new(seed);
        (0..n)
            .map(|_| (random.next_unit() - 0.3) * 10f64.powi(random.below(12) as i32 - 6))
            .collect()
    }

    /// The sum of leaves `first … first + 2^level − 1` as the tree defines it, recursively.
    fn tree_sum(v: &[f64], level: u32, first: usize) -> Option<f64> {
        if first >= v.len() {
            return None;
        }
        if level == 0 {
            return Some(v[first]);
        }
        let half = 1usize << (level - 1);
        match (
            tree_sum(v, level - 1, first),
            tree_sum(v, level - 1, first + half),
        ) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        }
    }

    /// The partial sums of one worker folding leaves `range` of `v` in order.
    fn fold(v: &[f64], range: std::ops::Range<usize>) -> Vec<(Node, f64)> {
        let mut r = Reduction::new(v.len() as u64).unwrap();
        for i in range {
            r.insert(Node::leaf(i as u64), v[i]).unwrap();
        }
        r.into_nodes().collect()
    }

    #[test]
    fn contiguous_splits_in_any_arrival_order_give_the_same_bits() {
        let mut random = SplitMix64::new(11);
        for (case, n) in [64usize, 45, 1, 2, 3, 17].into_iter().enumerate() {
            let v = values(n, case as u64);
            let depth = (n as u64).next_power_of_two().trailing_zeros();
            let expected = tree_sum(&v, depth, 0).unwrap();
            assert_eq!(
                fold(&v, 0..n),
                vec![(
                    Node {
                        level: depth,
                        index: 0
                    },
                    expected
                )]
            );
            for _ in 0..50 {
                let workers = 1 + random.below(9);
                let mut cuts: Vec<usize> = (0..workers - 1).map(|_| random.below(n + 1)).collect();
                cuts.extend([0, n]);
                cuts.sort();
                let mut partials: Vec<(Node, f64)> =
                    cuts.windows(2).flat_map(|w| fold(&v, w[0]..w[1])).collect();
                // Arrival in a random order.
                for i in (1..partials.len()).rev() {
                    partials.swap(i, random.below(i + 1));
                }
                let mut total = Reduction::new(n as u64).unwrap();
                for (node, value) in partials {
                    total.insert(node, value).unwrap();
                }
                assert_eq!(total.into_total().unwrap().to_bits(), expected.to_bits());
            }
        }
        // The values are order-sensitive: a plain left fold rounds differently.
        let v = values(64, 0);
        let sequential = v.iter().fold(0.0, |a, b| a + b);
        assert_ne!(sequential.to_bits(), tree_sum(&v, 6, 0).unwrap().to_bits());
    }

    #[test]
    fn an_ordered_fold_holds_one_sum_per_level_and_ends_with_aligned_subtrees() {
        let v = values(64, 3);
        let mut r = Reduction::new(64).unwrap();
        let mut most = 0;
        for (i, &x) in v.iter().enumerate() {
            r.insert(Node::leaf(i as u64), x).unwrap();
            most = most.max(r.nodes.len());
        }
        assert_eq!(most, 6);
        // Blocks 3 … 12 of 16: the maximal aligned subtrees [3], [4–7], [8–11], [12].
        let nodes: Vec<Node> = fold(&values(16, 4), 3..13)
            .into_iter()
            .map(|(node, _)| node)
            .collect();
        let node = |level, index| Node { level, index };
        assert_eq!(nodes, [node(0, 3), node(2, 1), node(2, 2), node(0, 12)]);
        // Blocks 4 … 4 of 5: the padding promotes the last block to the root's right child.
        assert_eq!(fold(&values(5, 5), 4..5)[0].0, node(2, 1));
    }

    #[test]
    fn bad_or_overlapping_nodes_and_missing_blocks_are_errors() {
        assert!(Reduction::<f64>::new(0).is_err());
        let mut r = Reduction::new(5).unwrap();
        let err = r.insert(Node { level: 0, index: 5 }, 1.0).unwrap_err();
        assert!(
            err.contains("level 0, index 5") && err.contains("5 blocks"),
            "{err}"
        );
        assert!(r.insert(Node { level: 4, index: 0 }, 1.0).is_err());
        assert!(
            r.insert(
                Node {
                    level: 70,
                    index: 1
                },
                1.0
            )
            .is_err()
        );
        r.insert(Node { level: 1, index: 0 }, 1.0).unwrap();
        let err = r.insert(Node::leaf(1), 1.0).unwrap_err();
        assert!(
            err.contains("overlaps") && err.contains("level 1, index 0"),
            "{err}"
        );
        r.insert(Node::leaf(3), 1.0).unwrap();
        let err = r.clone().into_total().unwrap_err();
        assert!(err.contains("blocks 2 … 2 (of 0 … 4)"), "{err}");
        r.insert(Node::leaf(4), 1.0).unwrap();
        r.insert(Node::leaf(2), 1.0).unwrap();
        // Four partial sums of 1: node (1, 0) stands for blocks 0 and 1.
        assert_eq!(r.into_total().unwrap(), 4.0);
        let mut r = Reduction::new(5).unwrap();
        (0..3).for_each(|i| r.insert(Node::leaf(i), 1.0).unwrap());
        let err = r.into_total().unwrap_err();
        assert!(err.contains("blocks 3 … 4 (of 0 … 4)"), "{err}");
    }

    #[test]
    fn the_first_error_in_block_order_wins() {
        let ok = || Ok(HalfSums::new(4, 1.0, 1).unwrap());
        let mut r: Reduction<Result<HalfSums, String>> = Reduction::new(3).unwrap();
        r.insert(Node::leaf(2), Err("particle row 9".into()))
            .unwrap();
        r.insert(Node::leaf(1), Err("particle row 4".into()))
            .unwrap();
        r.insert(Node::leaf(0), ok()).unwrap();
        assert_eq!(r.into_total().unwrap().unwrap_err(), "particle row 4");
    }

    /// Sums of one block of half set `half` with one particle, `id`, and a weight that rounds
    /// differently in different orders.
    fn block(half: u8, id: u64) -> HalfSums {
        let mut sums = HalfSums::new(4, 1.0, 1).unwrap();
        sums.weight_sum = values(1, id)[0];
        sums.groups[0].noise_power[1] = values(1, id + 100)[0];
        sums.particles = 1;
        sums.updates.push(ParticleUpdate {
            id,
            half,
            pose: Default::default(),
            log_likelihood: 0.0,
            max_probability: 1.0,
            significant_samples: 1,
            angular_change_deg: 0.0,
            norm: 1.0,
        });
        sums
    }

    /// The partials of workers folding their ranges of both halves (7 and 3 blocks).
    fn partials(cuts: &[u64]) -> Vec<BlockPartial> {
        let layout = BlockLayout { blocks: [7, 3] };
        let mut out = Vec::new();
        for (half, range) in [(1u8, 0..7u64), (2, 7..10)] {
            let leaves = layout.leaves(half);
            for worker in cuts.windows(2) {
                let mut r = Reduction::new(leaves).unwrap();
                for b in range.clone() {
                    let leaf = layout.leaf(half, b);
                    if (worker[0]..worker[1]).contains(&leaf) {
                        r.insert(Node::leaf(leaf), Ok(block(half, b))).unwrap();
                    }
                }
                out.extend(r.into_nodes().map(|(node, sums)| BlockPartial {
                    half,
                    node,
                    leaves,
                    sums,
                }));
            }
        }
        out
    }

    #[test]
    fn half_reductions_of_any_split_agree_and_keep_particles_in_order() {
        let one: HalfReductions = partials(&[0, 7]).into_iter().collect();
        let [a1, a2] = one.totals().unwrap();
        let ids = |s: &HalfSums| s.updates.iter().map(|u| u.id).collect::<Vec<_>>();
        assert_eq!(ids(&a1), (0..7).collect::<Vec<_>>());
        assert_eq!(ids(&a2), [7, 8, 9]);
        let weights: Vec<f64> = (0..7).map(|b| values(1, b)[0]).collect();
        assert_eq!(
            a1.weight_sum.to_bits(),
            tree_sum(&weights, 3, 0).unwrap().to_bits()
        );
        for cuts in [&[0, 1, 7][..], &[0, 3, 5, 7], &[0, 2, 3, 4, 6, 7]] {
            let mut p = partials(cuts);
            p.reverse();
            let [b1, b2] = p.into_iter().collect::<HalfReductions>().totals().unwrap();
            assert_eq!(b1.weight_sum.to_bits(), a1.weight_sum.to_bits());
            assert_eq!((&b1, &b2), (&a1, &a2));
        }
    }

    #[test]
    fn half_reductions_name_what_is_wrong() {
        let err = |p: Vec<BlockPartial>| p.into_iter().collect::<HalfReductions>().totals();
        let mut p = partials(&[0, 7]);
        p.retain(|b| b.half == 1);
        assert!(
            err(p)
                .unwrap_err()
                .contains("a half set received no particles")
        );
        let mut p = partials(&[0, 3, 7]);
        p.remove(0);
        let e = err(p).unwrap_err();
        assert!(
            e.contains("half set 1") && e.contains("blocks 0 … 1"),
            "{e}"
        );
        let mut p = partials(&[0, 1, 7]);
        p[1].leaves = 4;
        let e = err(p).unwrap_err();
        assert!(e.contains("tree of 4 blocks; expected 7"), "{e}");
        let mut p = partials(&[0, 7]);
        p[0].half = 3;
        assert!(err(p).unwrap_err().contains("half set 3; expected 1 or 2"));
        let mut p = partials(&[0, 7]);
        p[1].sums = Err("particle row 8: bad".into());
        assert_eq!(err(p).unwrap_err(), "particle row 8: bad");
    }

    #[test]
    fn each_worker_owns_a_contiguous_balanced_range_of_each_half() {
        let layout = BlockLayout { blocks: [5, 3] };
        let owners = |half, blocks: std::ops::Range<u64>| -> Vec<usize> {
            blocks.map(|b| layout.worker(half, b, 3)).collect()
        };
        assert_eq!(owners(1, 0..5), [0, 0, 1, 1, 2]);
        assert_eq!(owners(2, 5..8), [0, 1, 2]);
        assert_eq!(layout.leaf(2, 6), 1);
        assert_eq!(layout.worker(1, 4, 1), 0);
        let record = |half, block| ParticleRecord::fixture(0, half, block);
        let records = [
            record(1, 0),
            record(2, 2),
            record(1, 1),
            record(2, 3),
            record(2, 4),
        ];
        assert_eq!(BlockLayout::of(&records).blocks, [2, 3]);
    }
}
