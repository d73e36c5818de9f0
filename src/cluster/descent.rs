//! Approximate nearest neighbours: a random-projection forest for initial
//! candidates, refined by NN-descent (Dong, Charikar & Li 2011).
//!
//! Goes in: a [`RowSimilarity`] and a dense unit-row projection of the same
//! rows. Comes out: one bounded neighbour list per row. The forest splits
//! the projection by random hyperplanes (the bisector of two random rows);
//! rows sharing a leaf become candidates. NN-descent then compares the
//! neighbours of each row's neighbours ("a neighbour of my neighbour is
//! likely my neighbour") under the real similarity until few lists change.
//! Random choices come from the seed, and updates are applied in row order
//! after each parallel batch, so results do not depend on thread timing.

use crate::cluster::dense::dot;
use crate::cluster::neighbours::{DenseRows, NeighbourList, RowSimilarity};
use crate::cluster::random::Random;
use rayon::prelude::*;

/// Random-projection trees in the forest.
const TREES: usize = 6;
/// Rows per leaf of a random-projection tree.
const LEAF_SIZE: usize = 24;
/// NN-descent rounds at most; it usually settles after four or five.
const DESCENT_ROUNDS: usize = 8;
/// Stop when fewer than this share of neighbour slots changed in a round
/// (later rounds change little; recall is measured in the tests).
const CONVERGENCE_SHARE: f64 = 0.01;
/// Rows whose candidate pairs are evaluated together before applying updates.
const JOIN_BATCH: usize = 2_048;

/// Neighbour lists of capacity `k` for every row.
///
/// With `guided`, the search first converges under the projection's own
/// (cheap, dense) similarity, then rescores those lists under the real one
/// and refines them: far fewer expensive evaluations when the real
/// similarity is costly (sparse keyword rows) and the projection ranks
/// roughly alike.
pub(crate) fn approximate_search(
    similarity: &impl RowSimilarity,
    projection: &[f32],
    width: usize,
    k: usize,
    seed: u64,
    guided: bool,
) -> Vec<NeighbourList> {
    let mut random = Random::new(seed);
    let projected = DenseRows {
        values: projection,
        width,
    };
    let mut lists = if guided {
        let mut lists = forest_candidates(&projected, projection, width, k, &mut random);
        descend(&mut lists, &projected, k, &mut random);
        rescore(&lists, similarity, k)
    } else {
        forest_candidates(similarity, projection, width, k, &mut random)
    };
    fill_short_lists(&mut lists, similarity, &mut random);
    descend(&mut lists, similarity, k, &mut random);
    lists
}

/// NN-descent rounds until few list slots change.
fn descend(
    lists: &mut [NeighbourList],
    similarity: &impl RowSimilarity,
    k: usize,
    random: &mut Random,
) {
    for _round in 0..DESCENT_ROUNDS {
        let changes = descent_round(lists, similarity, random.next_u64());
        if (changes as f64) < CONVERGENCE_SHARE * (lists.len() * k) as f64 {
            break;
        }
    }
}

/// The same candidates, scored and ordered under `similarity`, all fresh.
fn rescore(
    lists: &[NeighbourList],
    similarity: &impl RowSimilarity,
    k: usize,
) -> Vec<NeighbourList> {
    lists
        .par_iter()
        .enumerate()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(indices, output), (row, list)| {
                indices.clear();
                indices.extend(list.entries.iter().map(|entry| entry.index));
                similarity.similarities(row, indices, output);
                let mut rescored = NeighbourList::new(k);
                for (&index, &value) in indices.iter().zip(output.iter()) {
                    rescored.insert(index, value, true);
                }
                rescored
            },
        )
        .collect()
}

fn projected_row(projection: &[f32], width: usize, index: usize) -> &[f32] {
    &projection[index * width..(index + 1) * width]
}

/// Initial neighbours: every pair of rows that share a leaf in some tree.
fn forest_candidates(
    similarity: &impl RowSimilarity,
    projection: &[f32],
    width: usize,
    k: usize,
    random: &mut Random,
) -> Vec<NeighbourList> {
    let rows = similarity.row_count();
    let seeds: Vec<u64> = (0..TREES).map(|_| random.next_u64()).collect();
    let leaves: Vec<Vec<u32>> = seeds
        .par_iter()
        .flat_map_iter(|&tree_seed| {
            let mut leaves = Vec::new();
            let mut tree_random = Random::new(tree_seed);
            let everyone = (0..rows as u32).collect();
            split_leaves(projection, width, everyone, &mut tree_random, &mut leaves);
            leaves
        })
        .collect();
    let pairs: Vec<Vec<(u32, u32, f32)>> = leaves
        .par_iter()
        .map_init(Vec::new, |output, leaf| {
            leaf_pairs(similarity, leaf, output)
        })
        .collect();
    let mut lists: Vec<NeighbourList> = (0..rows).map(|_| NeighbourList::new(k)).collect();
    for (first, second, value) in pairs.into_iter().flatten() {
        lists[first as usize].insert(second, value, true);
        lists[second as usize].insert(first, value, true);
    }
    lists
}

fn leaf_pairs(
    similarity: &impl RowSimilarity,
    leaf: &[u32],
    output: &mut Vec<f32>,
) -> Vec<(u32, u32, f32)> {
    let mut pairs = Vec::with_capacity(leaf.len() * leaf.len() / 2);
    for (position, &first) in leaf.iter().enumerate() {
        let others = &leaf[position + 1..];
        similarity.similarities(first as usize, others, output);
        pairs.extend(
            others
                .iter()
                .zip(output.iter())
                .map(|(&second, &value)| (first, second, value)),
        );
    }
    pairs
}

/// Splits `members` by random hyperplanes until every part has at most
/// `LEAF_SIZE` rows.
fn split_leaves(
    projection: &[f32],
    width: usize,
    members: Vec<u32>,
    random: &mut Random,
    leaves: &mut Vec<Vec<u32>>,
) {
    if members.len() <= LEAF_SIZE {
        leaves.push(members);
        return;
    }
    let first = projected_row(
        projection,
        width,
        members[random.below(members.len())] as usize,
    );
    let second = projected_row(
        projection,
        width,
        members[random.below(members.len())] as usize,
    );
    let normal: Vec<f32> = first.iter().zip(second).map(|(a, b)| a - b).collect();
    let (mut left, mut right): (Vec<u32>, Vec<u32>) = members.iter().partition(|&&member| {
        dot(projected_row(projection, width, member as usize), &normal) > 0.0
    });
    if left.is_empty() || right.is_empty() {
        // Degenerate plane (duplicates): split at random instead.
        let mut shuffled = members;
        random.shuffle(&mut shuffled);
        right = shuffled.split_off(shuffled.len() / 2);
        left = shuffled;
    }
    split_leaves(projection, width, left, random, leaves);
    split_leaves(projection, width, right, random, leaves);
}

/// Tops up lists the forest left short with random rows.
fn fill_short_lists(
    lists: &mut [NeighbourList],
    similarity: &impl RowSimilarity,
    random: &mut Random,
) {
    let rows = lists.len();
    let mut output = Vec::new();
    for (index, list) in lists.iter_mut().enumerate() {
        let mut attempts = 0;
        while list.entries.len() < list.capacity && attempts < 4 * rows {
            let other = random.below(rows);
            attempts += 1;
            if other != index {
                similarity.similarities(index, &[other as u32], &mut output);
                list.insert(other as u32, output[0], true);
            }
        }
    }
}

/// One NN-descent round; returns how many list slots changed.
fn descent_round(lists: &mut [NeighbourList], similarity: &impl RowSimilarity, seed: u64) -> usize {
    let cap = lists.first().map_or(0, |list| list.capacity);
    let (fresh, used) = candidate_lists(lists, cap, seed);
    let mut changes = 0;
    for start in (0..lists.len()).step_by(JOIN_BATCH) {
        let end = (start + JOIN_BATCH).min(lists.len());
        let thresholds: Vec<f32> = lists.iter().map(NeighbourList::threshold).collect();
        let updates: Vec<(u32, u32, f32)> = (start..end)
            .into_par_iter()
            .fold(
                || (Vec::new(), Vec::new(), Vec::new()),
                |(mut updates, mut others, mut output), centre| {
                    let join = Join {
                        fresh: fresh.row(centre),
                        used: used.row(centre),
                        thresholds: &thresholds,
                    };
                    join.run(similarity, &mut others, &mut output, &mut updates);
                    (updates, others, output)
                },
            )
            .map(|(updates, _, _)| updates)
            .flatten_iter()
            .collect();
        for (first, second, value) in updates {
            changes += lists[first as usize].insert(second, value, true) as usize;
            changes += lists[second as usize].insert(first, value, true) as usize;
        }
    }
    changes
}

/// The candidates of one row for a local join.
struct Join<'a> {
    fresh: &'a [u32],
    used: &'a [u32],
    thresholds: &'a [f32],
}

impl Join<'_> {
    /// Appends to `updates` the candidate pairs that would improve either
    /// side's list: fresh x fresh and fresh x used.
    fn run(
        &self,
        similarity: &impl RowSimilarity,
        others: &mut Vec<u32>,
        output: &mut Vec<f32>,
        updates: &mut Vec<(u32, u32, f32)>,
    ) {
        for (position, &first) in self.fresh.iter().enumerate() {
            others.clear();
            let candidates = self.fresh[position + 1..].iter().chain(self.used);
            others.extend(candidates.filter(|&&second| second != first));
            similarity.similarities(first as usize, others, output);
            for (&second, &value) in others.iter().zip(output.iter()) {
                if value > self.thresholds[first as usize]
                    || value > self.thresholds[second as usize]
                {
                    updates.push((first, second, value));
                }
            }
        }
    }
}

/// Up to `cap` candidates per row, kept in flat storage.
struct CandidateTable {
    cap: usize,
    indices: Vec<u32>,
    priorities: Vec<u64>,
    lengths: Vec<usize>,
}

impl CandidateTable {
    fn new(rows: usize, cap: usize) -> Self {
        Self {
            cap,
            indices: vec![0; rows * cap],
            priorities: vec![0; rows * cap],
            lengths: vec![0; rows],
        }
    }

    fn row(&self, row: usize) -> &[u32] {
        &self.indices[row * self.cap..row * self.cap + self.lengths[row]]
    }

    /// Offers a candidate; the `cap` lowest priorities win.
    fn offer(&mut self, row: usize, index: u32, priority: u64) {
        let base = row * self.cap;
        let length = self.lengths[row];
        if self.indices[base..base + length].contains(&index) {
            return;
        }
        if length < self.cap {
            self.indices[base + length] = index;
            self.priorities[base + length] = priority;
            self.lengths[row] += 1;
            return;
        }
        let slots = &self.priorities[base..base + self.cap];
        let (worst, &worst_priority) = slots.iter().enumerate().max_by_key(|&(_, p)| *p).unwrap();
        if priority < worst_priority {
            self.indices[base + worst] = index;
            self.priorities[base + worst] = priority;
        }
    }
}

/// Per row, the fresh and used candidates from its list and from the rows
/// that list it (reverse neighbours), each capped at `cap` by a seeded hash
/// priority; fresh entries that get sampled are marked used.
fn candidate_lists(
    lists: &mut [NeighbourList],
    cap: usize,
    seed: u64,
) -> (CandidateTable, CandidateTable) {
    let rows = lists.len();
    let mut fresh = CandidateTable::new(rows, cap);
    let mut used = CandidateTable::new(rows, cap);
    for (index, list) in lists.iter().enumerate() {
        for entry in &list.entries {
            let priority = pair_priority(seed, index as u32, entry.index);
            let table = if entry.fresh { &mut fresh } else { &mut used };
            table.offer(index, entry.index, priority);
            table.offer(entry.index as usize, index as u32, priority);
        }
    }
    for (index, list) in lists.iter_mut().enumerate() {
        let sampled = fresh.row(index);
        for entry in list.entries.iter_mut().filter(|entry| entry.fresh) {
            if sampled.contains(&entry.index) {
                entry.fresh = false;
            }
        }
    }
    (fresh, used)
}

/// A pseudo-random priority for a pair, symmetric in its two rows.
fn pair_priority(seed: u64, first: u32, second: u32) -> u64 {
    let (low, high) = if first < second {
        (first, second)
    } else {
        (second, first)
    };
    Random::new(seed ^ (((low as u64) << 32) | high as u64)).next_u64()
}
