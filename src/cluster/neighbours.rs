//! k-nearest-neighbour search by cosine similarity, over dense unit rows or
//! sparse keyword rows.
//!
//! Goes in: a [`RowSimilarity`] (how similar two rows are) and a dense
//! "projection" of the same rows used only to split them into candidate
//! groups. Comes out: a [`NeighbourGraph`], the `k` most similar rows of
//! every row. Small inputs get an exact search; larger ones the approximate
//! search in the private `descent` module (random-projection forest +
//! NN-descent), far below the quadratic cost of exact search (measured on
//! replicated CFPB rows: 10x the rows cost about 15x the time). For keywords the
//! similarity is the exact sparse TF-IDF cosine while the projection is a
//! low-rank LSA, so candidates come cheaply and are ranked exactly. Up to
//! 20,000 rows, dense and sparse rows are searched exhaustively instead (the
//! private `exhaustive` module: matrix products, an inverted index), which
//! is exact and faster there.

use crate::cluster::dense::dot;
use crate::cluster::descent::approximate_search;
use crate::cluster::exhaustive::{postings_search, product_search};
use crate::cluster::sparse::SparseRows;
use rayon::prelude::*;
use std::cell::RefCell;

/// Up to this many rows the exact quadratic search is cheap enough.
const EXACT_SEARCH_LIMIT: usize = 3_000;

/// Up to this many rows the exhaustive searches (blocked matrix products for
/// dense rows, an inverted index for sparse ones) beat the approximate one;
/// they grow with the square of the rows, the approximate search about
/// linearly.
const EXHAUSTIVE_SEARCH_LIMIT: usize = 20_000;

/// Similarity between rows of one collection.
pub trait RowSimilarity: Sync {
    /// Number of rows.
    fn row_count(&self) -> usize;

    /// Writes the similarity of `query` to each of `others` into `output`
    /// (cleared first). Batched so sparse rows can be scattered once.
    fn similarities(&self, query: usize, others: &[u32], output: &mut Vec<f32>);
}

/// Cosine similarity of dense unit-length rows (a dot product).
#[derive(Debug, Clone, Copy)]
pub struct DenseRows<'a> {
    /// Row-major values.
    pub values: &'a [f32],
    /// Columns per row.
    pub width: usize,
}

impl DenseRows<'_> {
    fn row(&self, index: usize) -> &[f32] {
        &self.values[index * self.width..(index + 1) * self.width]
    }
}

impl RowSimilarity for DenseRows<'_> {
    fn row_count(&self) -> usize {
        self.values.len().checked_div(self.width).unwrap_or(0)
    }

    fn similarities(&self, query: usize, others: &[u32], output: &mut Vec<f32>) {
        let query_row = self.row(query);
        output.clear();
        output.extend(
            others
                .iter()
                .map(|&other| dot(query_row, self.row(other as usize))),
        );
    }
}

/// Cosine similarity of L2-normalised sparse rows.
#[derive(Debug, Clone, Copy)]
pub struct SparseCosine<'a> {
    /// Normalised rows.
    pub rows: &'a SparseRows,
}

thread_local! {
    /// A dense copy of the query row, reused across calls on this thread.
    static SCATTERED: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

impl RowSimilarity for SparseCosine<'_> {
    fn row_count(&self) -> usize {
        self.rows.row_count()
    }

    fn similarities(&self, query: usize, others: &[u32], output: &mut Vec<f32>) {
        SCATTERED.with(|cell| {
            let mut dense = cell.borrow_mut();
            dense.resize(self.rows.width(), 0.0);
            let (columns, weights) = self.rows.row(query);
            columns
                .iter()
                .zip(weights)
                .for_each(|(&c, &w)| dense[c as usize] = w);
            output.clear();
            output.extend(others.iter().map(|&other| {
                let (columns, weights) = self.rows.row(other as usize);
                columns
                    .iter()
                    .zip(weights)
                    .map(|(&c, &w)| dense[c as usize] * w)
                    .sum::<f32>()
            }));
            columns.iter().for_each(|&c| dense[c as usize] = 0.0);
        });
    }
}

/// The `k` nearest neighbours of every row, most similar first.
#[derive(Debug, Clone, PartialEq)]
pub struct NeighbourGraph {
    /// Number of rows (kept apart from `k`, which is 0 for a single row).
    pub rows: usize,
    /// Neighbours per row.
    pub k: usize,
    /// Row-major `rows x k` neighbour indices.
    pub indices: Vec<u32>,
    /// Row-major `rows x k` cosine similarities, matching `indices`.
    pub similarities: Vec<f32>,
}

impl NeighbourGraph {
    /// Number of rows.
    pub fn row_count(&self) -> usize {
        self.rows
    }

    /// The neighbours of one row and their similarities.
    pub fn neighbours(&self, row: usize) -> (&[u32], &[f32]) {
        let range = row * self.k..(row + 1) * self.k;
        (&self.indices[range.clone()], &self.similarities[range])
    }
}

/// Nearest neighbours of dense unit rows (`rows x width`): exact by matrix
/// products up to [`EXHAUSTIVE_SEARCH_LIMIT`] rows, approximate above.
pub fn dense_neighbours(points: &[f32], width: usize, k: usize, seed: u64) -> NeighbourGraph {
    let count = points.len().checked_div(width).unwrap_or(0);
    if k.min(count.saturating_sub(1)) > 0 && count <= EXHAUSTIVE_SEARCH_LIMIT {
        return product_search(points, width, k.min(count - 1));
    }
    let rows = DenseRows {
        values: points,
        width,
    };
    nearest_neighbours(&rows, points, width, k, seed, false)
}

/// Nearest neighbours of L2-normalised sparse rows by cosine: exact through
/// an inverted index up to [`EXHAUSTIVE_SEARCH_LIMIT`] rows, above that the
/// approximate search guided by `projection` (`rows x width`, unit rows, for
/// example an LSA of the same rows).
pub fn sparse_neighbours(
    rows: &SparseRows,
    projection: &[f32],
    width: usize,
    k: usize,
    seed: u64,
) -> NeighbourGraph {
    let count = rows.row_count();
    if k.min(count.saturating_sub(1)) > 0 && count <= EXHAUSTIVE_SEARCH_LIMIT {
        return postings_search(rows, k.min(count - 1));
    }
    nearest_neighbours(&SparseCosine { rows }, projection, width, k, seed, false)
}

/// Nearest neighbours under `similarity`; `projection` (`rows x width`, unit
/// rows) only guides the approximate search. With `guided`, the search
/// first converges under the projection's cosine and only then refines under
/// `similarity` (worth it when `similarity` is the costly one).
pub fn nearest_neighbours(
    similarity: &impl RowSimilarity,
    projection: &[f32],
    width: usize,
    k: usize,
    seed: u64,
    guided: bool,
) -> NeighbourGraph {
    let rows = similarity.row_count();
    let k = k.min(rows.saturating_sub(1));
    if k == 0 {
        return NeighbourGraph {
            rows,
            k: 0,
            indices: Vec::new(),
            similarities: Vec::new(),
        };
    }
    let lists = if rows <= EXACT_SEARCH_LIMIT {
        exact_search(similarity, k)
    } else {
        approximate_search(similarity, projection, width, k, seed, guided)
    };
    flatten(lists, k)
}

fn exact_search(similarity: &impl RowSimilarity, k: usize) -> Vec<NeighbourList> {
    let rows = similarity.row_count();
    let everyone: Vec<u32> = (0..rows as u32).collect();
    (0..rows)
        .into_par_iter()
        .map_init(Vec::new, |output, query| {
            let mut list = NeighbourList::new(k);
            similarity.similarities(query, &everyone, output);
            for (other, &value) in output
                .iter()
                .enumerate()
                .filter(|&(other, _)| other != query)
            {
                list.insert(other as u32, value, true);
            }
            list
        })
        .collect()
}

/// The graph of per-row neighbour lists (each at most `k` long, most similar first).
pub(crate) fn flatten(lists: Vec<NeighbourList>, k: usize) -> NeighbourGraph {
    let mut indices = Vec::with_capacity(lists.len() * k);
    let mut similarities = Vec::with_capacity(lists.len() * k);
    for list in &lists {
        indices.extend(list.entries.iter().map(|entry| entry.index));
        similarities.extend(list.entries.iter().map(|entry| entry.similarity));
    }
    NeighbourGraph {
        rows: lists.len(),
        k,
        indices,
        similarities,
    }
}

/// One neighbour found so far.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) index: u32,
    pub(crate) similarity: f32,
    /// Not yet used in a local join.
    pub(crate) fresh: bool,
}

/// A bounded list of the best neighbours found so far, most similar first.
#[derive(Debug, Clone)]
pub(crate) struct NeighbourList {
    pub(crate) entries: Vec<Entry>,
    pub(crate) capacity: usize,
}

impl NeighbourList {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: Vec::with_capacity(capacity + 1),
            capacity,
        }
    }

    /// The similarity a candidate must beat to get in.
    pub(crate) fn threshold(&self) -> f32 {
        if self.entries.len() < self.capacity {
            f32::NEG_INFINITY
        } else {
            self.entries[self.capacity - 1].similarity
        }
    }

    /// Inserts a candidate; returns whether the list changed.
    pub(crate) fn insert(&mut self, index: u32, similarity: f32, fresh: bool) -> bool {
        if similarity <= self.threshold() || self.entries.iter().any(|e| e.index == index) {
            return false;
        }
        let position = self
            .entries
            .partition_point(|entry| entry.similarity >= similarity);
        self.entries.insert(
            position,
            Entry {
                index,
                similarity,
                fresh,
            },
        );
        self.entries.truncate(self.capacity);
        true
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cluster::dense::normalise_rows;
    use crate::cluster::random::Random;

    pub(crate) fn random_unit_rows(rows: usize, width: usize, seed: u64) -> Vec<f32> {
        let mut random = Random::new(seed);
        let mut points: Vec<f32> = (0..rows * width).map(|_| random.normal() as f32).collect();
        normalise_rows(&mut points, width);
        points
    }

    #[test]
    fn exact_search_finds_the_closest_rows() {
        let points = [1.0, 0.0, 0.8, 0.6, 0.0, 1.0, -1.0, 0.0];
        let graph = dense_neighbours(&points, 2, 2, 0);
        assert_eq!(graph.neighbours(0).0, &[1, 2]);
        assert_eq!(graph.neighbours(3).0[0], 2);
        assert!(graph.neighbours(0).1[0] > graph.neighbours(0).1[1]);
    }

    #[test]
    fn approximate_search_has_high_recall_and_is_deterministic() {
        let (rows, width, k) = (4_000, 12, 10);
        let points = random_unit_rows(rows, width, 7);
        let similarity = DenseRows {
            values: &points,
            width,
        };
        let search = || nearest_neighbours(&similarity, &points, width, k, 3, false);
        let approximate = search();
        let exact = dense_neighbours(&points, width, k, 3);
        let mut found = 0;
        for index in 0..rows {
            let truth = exact.neighbours(index).0;
            found += approximate
                .neighbours(index)
                .0
                .iter()
                .filter(|n| truth.contains(n))
                .count();
        }
        let recall = found as f64 / (rows * k) as f64;
        assert!(recall > 0.9, "recall {recall}");
        assert_eq!(approximate, search());
    }

    #[test]
    fn sparse_cosine_matches_dense_cosine() {
        let sparse = SparseRows::from_rows(
            &[vec![(0, 0.6), (2, 0.8)], vec![(2, 1.0)], vec![(1, 1.0)]],
            3,
        );
        let dense = [0.6, 0.0, 0.8, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0];
        let mut from_sparse = Vec::new();
        let mut from_dense = Vec::new();
        SparseCosine { rows: &sparse }.similarities(0, &[1, 2, 0], &mut from_sparse);
        DenseRows {
            values: &dense,
            width: 3,
        }
        .similarities(0, &[1, 2, 0], &mut from_dense);
        assert_eq!(from_sparse, from_dense);
    }

    #[test]
    fn tiny_inputs_do_not_panic() {
        assert_eq!(dense_neighbours(&[1.0, 0.0], 2, 5, 0).k, 0);
        let graph = dense_neighbours(&[1.0, 0.0, 0.0, 1.0], 2, 5, 0);
        assert_eq!(graph.indices, vec![1, 0]);
    }
}
