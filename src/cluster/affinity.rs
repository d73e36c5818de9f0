//! Edge weights for the neighbour graph.
//!
//! Goes in: each row's k nearest neighbours with cosine similarities. Comes
//! out: one weight per (row, neighbour slot). Raw cosine similarities of
//! sentence embeddings sit in a narrow band, so they barely tell a close
//! neighbour from a far one; the UMAP-style fuzzy membership rescales each
//! row by its own neighbourhood (its nearest neighbour gets weight 1, the
//! rest decay so that the weights sum to log2 k), which keeps dense and
//! sparse regions of the corpus comparable.

use crate::cluster::neighbours::NeighbourGraph;
use rayon::prelude::*;

/// How similarities become edge weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeWeighting {
    /// The cosine similarity itself (floored at zero).
    Cosine,
    /// UMAP's fuzzy simplicial-set membership, locally calibrated per row.
    Fuzzy,
    /// Every listed neighbour weighs 1.
    Binary,
}

/// Row-major `rows x k` weights matching `neighbours.indices`.
pub fn edge_weights(neighbours: &NeighbourGraph, weighting: EdgeWeighting) -> Vec<f64> {
    match weighting {
        EdgeWeighting::Cosine => neighbours
            .similarities
            .iter()
            .map(|&similarity| similarity.max(0.0) as f64)
            .collect(),
        EdgeWeighting::Binary => vec![1.0; neighbours.indices.len()],
        EdgeWeighting::Fuzzy => (0..neighbours.row_count())
            .into_par_iter()
            .flat_map_iter(|row| fuzzy_row(neighbours.neighbours(row).1))
            .collect(),
    }
}

/// `exp(-(d - rho) / sigma)` over cosine distances `d`, with `rho` the
/// nearest distance and `sigma` found by bisection so the weights sum to
/// `log2(k)`.
fn fuzzy_row(similarities: &[f32]) -> Vec<f64> {
    let distances: Vec<f64> = similarities.iter().map(|&s| 1.0 - s as f64).collect();
    let nearest = distances.iter().copied().fold(f64::INFINITY, f64::min);
    let target = (distances.len() as f64).log2().max(1e-3);
    let total = |sigma: f64| -> f64 {
        distances
            .iter()
            .map(|&d| (-(d - nearest).max(0.0) / sigma).exp())
            .sum()
    };
    let (mut low, mut high) = (1e-6f64, 1e3f64);
    // 40 halvings of the log-interval give sigma to about 1e-11 relative.
    for _ in 0..40 {
        let middle = (low * high).sqrt();
        if total(middle) > target {
            high = middle;
        } else {
            low = middle;
        }
    }
    let sigma = (low * high).sqrt();
    distances
        .iter()
        .map(|&d| (-(d - nearest).max(0.0) / sigma).exp())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy_weights_start_at_one_and_sum_to_log2_k() {
        let weights = fuzzy_row(&[0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4]);
        assert!((weights[0] - 1.0).abs() < 1e-12);
        assert!((weights.iter().sum::<f64>() - 3.0).abs() < 1e-6);
        assert!(weights.windows(2).all(|pair| pair[0] >= pair[1]));
    }

    #[test]
    fn cosine_weights_are_floored_at_zero() {
        let neighbours = NeighbourGraph {
            rows: 3,
            k: 2,
            indices: vec![1, 2, 0, 2, 0, 1],
            similarities: vec![0.5, -0.2, 0.5, 0.1, -0.2, 0.1],
        };
        assert_eq!(edge_weights(&neighbours, EdgeWeighting::Cosine)[1], 0.0);
    }
}
