//! Exhaustive k-nearest-neighbour search, for inputs small enough that
//! comparing every pair is cheaper than the approximate search.
//!
//! Goes in: unit rows, dense or sparse, and `k`. Comes out: every row's `k`
//! most similar other rows, most similar first, exactly. Dense rows are
//! compared a block at a time in one libtorch GEMM (the BLAS the encoder runs
//! on): at PCA width a 10,000-row search is about 10^10 flops, a tenth of a
//! second. Sparse keyword rows go through an inverted index: a row's
//! similarities are accumulated over the postings of its terms, so pairs with
//! no term in common cost nothing. Both are quadratic in the rows, so the
//! caller switches to the approximate search above a row limit. The top `k`
//! of each row's similarities are selected by one scan per row.

use rayon::prelude::*;
use tch::{Kind, Tensor};

use crate::cluster::neighbours::{flatten, NeighbourGraph, NeighbourList};
use crate::cluster::sparse::SparseRows;

/// Rows multiplied against the whole matrix at once: a block's similarities
/// (`BLOCK_ROWS x rows x 4` bytes, 5 MB at 10,000 rows) stay in cache from
/// the product to the selection.
const BLOCK_ROWS: usize = 128;

/// Similarities scanned per step of the top-k selection: a step whose
/// values all fall below the current k-th best is skipped with one
/// (vectorisable) comparison pass.
const SCAN_STEP: usize = 16;

/// The exact `k` nearest neighbours (by dot product) of each of the
/// `points.len() / width` dense rows, itself excluded. `k` must be below the
/// row count.
pub fn product_search(points: &[f32], width: usize, k: usize) -> NeighbourGraph {
    let rows = points.len() / width;
    assert!(k < rows, "k ({k}) must be below the row count ({rows})");
    let matrix = Tensor::from_slice(points).view([rows as i64, width as i64]);
    let transposed = matrix.transpose(0, 1).contiguous();
    // One output tensor and one host buffer serve every block, so the
    // similarities do not fault in fresh pages block after block.
    let output = Tensor::zeros(
        [BLOCK_ROWS.min(rows) as i64, rows as i64],
        (Kind::Float, tch::Device::Cpu),
    );
    let mut values = vec![0.0f32; BLOCK_ROWS.min(rows) * rows];
    let mut lists = Vec::with_capacity(rows);
    let mut start = 0;
    while start < rows {
        let length = BLOCK_ROWS.min(rows - start);
        let block = output.narrow(0, 0, length as i64);
        tch::no_grad(|| {
            let _ = matrix
                .narrow(0, start as i64, length as i64)
                .matmul_out(&block, &transposed);
        });
        block.copy_data(&mut values[..length * rows], length * rows);
        // On this thread: rayon workers scanning beside libtorch's GEMM threads, still spinning
        // after the product, made the scan slower than doing it alone (measured 0.6 vs 0.35 s
        // for the whole search at 10,000 rows).
        lists.extend(
            values[..length * rows]
                .chunks(rows)
                .enumerate()
                .map(|(offset, similarities)| top_k(similarities, start + offset, k)),
        );
        start += length;
    }
    flatten(lists, k)
}

/// The exact `k` nearest neighbours (by sparse dot product) of every row of
/// `rows`, itself excluded. `k` must be below the row count.
pub fn postings_search(rows: &SparseRows, k: usize) -> NeighbourGraph {
    let count = rows.row_count();
    assert!(k < count, "k ({k}) must be below the row count ({count})");
    let postings = postings(rows);
    let lists = (0..count)
        .into_par_iter()
        .map_init(
            || vec![0.0f32; count],
            |similarities, query| {
                similarities.fill(0.0);
                let (columns, weights) = rows.row(query);
                for (&column, &weight) in columns.iter().zip(weights) {
                    for &(other, other_weight) in &postings[column as usize] {
                        similarities[other as usize] += weight * other_weight;
                    }
                }
                top_k(similarities, query, k)
            },
        )
        .collect();
    flatten(lists, k)
}

/// For every column, the rows that use it and their weights, by row.
fn postings(rows: &SparseRows) -> Vec<Vec<(u32, f32)>> {
    let mut postings = vec![Vec::new(); rows.width()];
    for row in 0..rows.row_count() {
        let (columns, weights) = rows.row(row);
        for (&column, &weight) in columns.iter().zip(weights) {
            postings[column as usize].push((row as u32, weight));
        }
    }
    postings
}

/// The `k` largest of `similarities` (position = row), `query` excluded;
/// equal similarities keep the lower row first.
fn top_k(similarities: &[f32], query: usize, k: usize) -> NeighbourList {
    let mut list = NeighbourList::new(k);
    let offer = |list: &mut NeighbourList, row: usize, similarity: f32| {
        if row != query && similarity > list.threshold() {
            list.insert(row as u32, similarity, false);
        }
    };
    let mut steps = similarities.chunks_exact(SCAN_STEP);
    let mut base = 0;
    for step in steps.by_ref() {
        let threshold = list.threshold();
        if step
            .iter()
            .fold(false, |above, &value| above | (value > threshold))
        {
            for (position, &value) in step.iter().enumerate() {
                offer(&mut list, base + position, value);
            }
        }
        base += SCAN_STEP;
    }
    for (position, &value) in steps.remainder().iter().enumerate() {
        offer(&mut list, base + position, value);
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::dense::dot;
    use crate::cluster::neighbours::tests::random_unit_rows;

    fn truth(points: &[f32], width: usize, query: usize, k: usize) -> Vec<(u32, f32)> {
        let row = |index: usize| &points[index * width..(index + 1) * width];
        let mut all: Vec<(u32, f32)> = (0..points.len() / width)
            .filter(|&other| other != query)
            .map(|other| (other as u32, dot(row(query), row(other))))
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1));
        all.truncate(k);
        all
    }

    fn assert_matches(graph: &NeighbourGraph, query: usize, expected: &[(u32, f32)]) {
        let (found, values) = graph.neighbours(query);
        let rows: Vec<u32> = expected.iter().map(|&(row, _)| row).collect();
        assert_eq!(found, rows.as_slice(), "query {query}");
        for (value, (_, truth)) in values.iter().zip(expected) {
            assert!((value - truth).abs() < 1e-5, "{value} vs {truth}");
        }
    }

    #[test]
    fn dense_search_finds_the_true_neighbours_across_blocks() {
        let (rows, width, k) = (1_500, 8, 5);
        let points = random_unit_rows(rows, width, 11);
        let graph = product_search(&points, width, k);
        for query in [0, 127, 128, 1499] {
            assert_matches(&graph, query, &truth(&points, width, query, k));
        }
    }

    #[test]
    fn sparse_search_matches_the_dense_truth() {
        let (rows, width, k) = (300, 40, 7);
        // Sparse-ish unit rows: most entries zeroed before normalising.
        let mut points = random_unit_rows(rows, width, 5);
        points.iter_mut().enumerate().for_each(|(index, value)| {
            if index % 5 != 0 {
                *value = 0.0;
            }
        });
        crate::cluster::dense::normalise_rows(&mut points, width);
        let lists: Vec<Vec<(u32, f32)>> = points
            .chunks_exact(width)
            .map(|row| {
                row.iter()
                    .enumerate()
                    .filter(|&(_, &value)| value != 0.0)
                    .map(|(column, &value)| (column as u32, value))
                    .collect()
            })
            .collect();
        let graph = postings_search(&SparseRows::from_rows(&lists, width), k);
        for query in [0, 150, 299] {
            assert_matches(&graph, query, &truth(&points, width, query, k));
        }
    }

    #[test]
    fn a_row_is_never_its_own_neighbour_and_ties_keep_row_order() {
        let points = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0];
        let graph = product_search(&points, 2, 2);
        assert_eq!(graph.neighbours(0).0, &[1, 3]);
        assert_eq!(graph.neighbours(1).0, &[0, 3]);
        assert_eq!(graph.neighbours(2).0, &[0, 1]);
    }
}
