//! Multinomial logistic regression over sparse rows (the text head's n-gram features), fitted by
//! L-BFGS on the class-weighted mean cross-entropy plus an L2 penalty on the weights, as
//! [`super::linear`] does for dense embeddings. Parameters are laid out class by class: the
//! `columns` weights of a class, then its bias.
//!
//! Determinism: as in the dense model, the gradient is summed over fixed blocks of rows whose
//! partial sums are added in block order, so a fit is bit-for-bit the same on every run.

use rayon::prelude::*;

use crate::classify::learn::lbfgs::{minimise, LbfgsSettings};
use crate::classify::learn::linear::{penalised_mean, softmax_cross_entropy};
use crate::classify::learn::ngrams::SparseRow;

/// Rows per block of the parallel gradient. Larger than the dense model's: each block holds a
/// gradient as long as all the parameters.
const CHUNK_ROWS: usize = 2048;

/// Training rows for one fit, each with its loss weight.
pub struct SparseRows<'a> {
    rows: Vec<&'a SparseRow>,
    labels: Vec<usize>,
    weights: Vec<f64>,
    columns: usize,
    class_count: usize,
}

impl<'a> SparseRows<'a> {
    /// The rows at `indices`, each weighted by its class weight; `columns` buckets.
    pub fn new(
        rows: &'a [SparseRow],
        labels: &[usize],
        indices: &[usize],
        class_weights: &[f64],
        columns: usize,
    ) -> Self {
        SparseRows {
            rows: indices.iter().map(|&index| &rows[index]).collect(),
            labels: indices.iter().map(|&index| labels[index]).collect(),
            weights: indices
                .iter()
                .map(|&index| class_weights[labels[index]])
                .collect(),
            columns,
            class_count: class_weights.len(),
        }
    }

    fn parameter_count(&self) -> usize {
        self.class_count * (self.columns + 1)
    }
}

/// Fits with L2 strength `l2`, starting from `start` (zeros when `None`); returns the flat
/// parameters.
pub fn fit_sparse(
    rows: &SparseRows<'_>,
    l2: f64,
    settings: &LbfgsSettings,
    start: Option<Vec<f64>>,
) -> Vec<f64> {
    let start = start.unwrap_or_else(|| vec![0.0; rows.parameter_count()]);
    minimise(
        |parameters| objective(rows, l2, parameters),
        start,
        settings,
    )
    .point
}

/// The logits of `row` under flat `parameters` of `class_count` classes.
pub fn sparse_logits(parameters: &[f64], class_count: usize, row: &SparseRow) -> Vec<f64> {
    let stride = parameters.len() / class_count;
    parameters
        .chunks_exact(stride)
        .map(|block| block[stride - 1] + row.dot(&block[..stride - 1]))
        .collect()
}

/// Class-weighted mean cross-entropy plus `l2 / 2 * |W|^2`, and its gradient.
fn objective(rows: &SparseRows<'_>, l2: f64, parameters: &[f64]) -> (f64, Vec<f64>) {
    let starts: Vec<usize> = (0..rows.rows.len()).step_by(CHUNK_ROWS).collect();
    let partials: Vec<(f64, Vec<f64>)> = starts
        .par_iter()
        .map(|&start| {
            let end = (start + CHUNK_ROWS).min(rows.rows.len());
            chunk_terms(rows, parameters, start..end)
        })
        .collect();
    let total_weight: f64 = rows.weights.iter().sum();
    penalised_mean(&partials, total_weight, l2, rows.columns, parameters)
}

/// Unnormalised weighted loss and gradient over the rows in `range`.
fn chunk_terms(
    rows: &SparseRows<'_>,
    parameters: &[f64],
    range: std::ops::Range<usize>,
) -> (f64, Vec<f64>) {
    let stride = rows.columns + 1;
    let mut loss = 0.0;
    let mut gradient = vec![0.0; parameters.len()];
    for index in range {
        let row = rows.rows[index];
        let mut scores = sparse_logits(parameters, rows.class_count, row);
        let (weight, label) = (rows.weights[index], rows.labels[index]);
        loss += weight * softmax_cross_entropy(&mut scores, label);
        for (class, &probability) in scores.iter().enumerate() {
            let residual = weight * (probability - f64::from(u8::from(class == label)));
            let block = &mut gradient[class * stride..(class + 1) * stride];
            for (&column, &value) in row.indices.iter().zip(&row.values) {
                block[column as usize] += residual * f64::from(value);
            }
            block[rows.columns] += residual;
        }
    }
    (loss, gradient)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::learn::synthetic::assert_gradient_matches_finite_differences;

    fn row(entries: &[(u32, f32)]) -> SparseRow {
        SparseRow {
            indices: entries.iter().map(|entry| entry.0).collect(),
            values: entries.iter().map(|entry| entry.1).collect(),
        }
    }

    /// Class 0 rows use columns 0-1, class 1 rows columns 2-3, every row column 4.
    fn toy() -> (Vec<SparseRow>, Vec<usize>) {
        let rows = vec![
            row(&[(0, 0.8), (1, 0.3), (4, 0.5)]),
            row(&[(1, 0.9), (4, 0.4)]),
            row(&[(2, 0.7), (4, 0.7)]),
            row(&[(2, 0.2), (3, 0.9), (4, 0.4)]),
        ];
        (rows, vec![0, 0, 1, 1])
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let (data, labels) = toy();
        let rows = SparseRows::new(&data, &labels, &[0, 1, 2, 3], &[1.0, 2.0], 5);
        let parameters: Vec<f64> = (0..12).map(|index| 0.07 * index as f64 - 0.4).collect();
        assert_gradient_matches_finite_differences(
            |parameters| objective(&rows, 0.05, parameters),
            &parameters,
        );
    }

    #[test]
    fn separates_a_toy_problem_and_ignores_the_shared_column() {
        let (data, labels) = toy();
        let rows = SparseRows::new(&data, &labels, &[0, 1, 2, 3], &[1.0, 1.0], 5);
        let parameters = fit_sparse(&rows, 1e-3, &LbfgsSettings::default(), None);
        for (sparse, &label) in data.iter().zip(&labels) {
            let logits = sparse_logits(&parameters, 2, sparse);
            assert_eq!(usize::from(logits[1] > logits[0]), label, "{logits:?}");
        }
        // Column 4 is in every row of both classes: it carries no evidence either way.
        assert!((parameters[4] - parameters[6 + 4]).abs() < 0.5 * (parameters[0] - parameters[6]));
    }
}
