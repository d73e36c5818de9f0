//! Multinomial logistic regression, fitted by L-BFGS on the class-weighted mean cross-entropy
//! plus an L2 penalty on the weights (the biases are not penalised).
//!
//! Why not linfa-logistic: its hyperparameters (0.8.1) are `alpha`, `with_intercept`,
//! `max_iterations`, `gradient_tolerance` and `initial_params`, and its loss ignores dataset
//! weights, so class weights could only be faked by duplicating rows; it would also bring
//! ndarray and argmin for a problem of about a thousand parameters. The objective here is a few
//! dozen lines and its parallel gradient is deterministic by construction (below).
//!
//! Determinism: the gradient is summed over fixed blocks of [`CHUNK_ROWS`] rows. Rayon computes
//! the blocks in any order on any number of threads, but their partial sums are collected in
//! block order and added sequentially, so the result is bit-for-bit the same on every run.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::classify::learn::head::LinearModel;
use crate::classify::learn::lbfgs::{minimise, LbfgsSettings};
use crate::classify::learn::matrix::MatrixView;

/// Rows per block of the parallel gradient; fixed so the summation order never changes.
pub const CHUNK_ROWS: usize = 512;

/// Settings of the linear head.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearSettings {
    /// L2 strengths tried on the validation split (penalty `l2 / 2 * |W|^2` on the mean loss).
    pub l2_grid: Vec<f64>,
    /// The optimiser's stopping rules.
    pub lbfgs: LbfgsSettings,
}

impl Default for LinearSettings {
    fn default() -> Self {
        Self {
            l2_grid: vec![
                1.0, 3e-1, 1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6,
            ],
            lbfgs: LbfgsSettings::default(),
        }
    }
}

/// Training rows for one fit: transformed features in `f64`, labels and per-row loss weights.
pub struct WeightedRows {
    features: Vec<f64>,
    columns: usize,
    labels: Vec<usize>,
    weights: Vec<f64>,
    class_count: usize,
}

impl WeightedRows {
    /// Collects the rows at `indices`, each weighted by its class weight.
    pub fn new(
        features: MatrixView<'_>,
        labels: &[usize],
        indices: &[usize],
        class_weights: &[f64],
    ) -> Self {
        let mut values = Vec::with_capacity(indices.len() * features.columns());
        for &index in indices {
            values.extend(features.row(index).iter().map(|&value| value as f64));
        }
        let labels: Vec<usize> = indices.iter().map(|&index| labels[index]).collect();
        Self {
            weights: labels.iter().map(|&label| class_weights[label]).collect(),
            features: values,
            columns: features.columns(),
            labels,
            class_count: class_weights.len(),
        }
    }

    fn rows(&self) -> usize {
        self.labels.len()
    }

    fn row(&self, index: usize) -> &[f64] {
        &self.features[index * self.columns..(index + 1) * self.columns]
    }

    fn parameter_count(&self) -> usize {
        self.class_count * (self.columns + 1)
    }
}

/// A fitted linear model and the flat parameters, which can warm-start the next fit.
pub struct LinearFit {
    /// The model in head form.
    pub model: LinearModel,
    /// Flat parameters, class by class: the weights, then the bias.
    pub parameters: Vec<f64>,
    /// L-BFGS iterations used.
    pub iterations: usize,
}

/// Fits the model with L2 strength `l2`, starting from `start` (zeros when `None`).
pub fn fit_linear(
    rows: &WeightedRows,
    l2: f64,
    settings: &LbfgsSettings,
    start: Option<Vec<f64>>,
) -> LinearFit {
    let start = start.unwrap_or_else(|| vec![0.0; rows.parameter_count()]);
    let minimum = minimise(
        |parameters| objective(rows, l2, parameters),
        start,
        settings,
    );
    LinearFit {
        model: to_model(&minimum.point, rows.class_count, rows.columns),
        parameters: minimum.point,
        iterations: minimum.iterations,
    }
}

/// Class-weighted mean cross-entropy plus `l2 / 2 * |W|^2`, and its gradient.
fn objective(rows: &WeightedRows, l2: f64, parameters: &[f64]) -> (f64, Vec<f64>) {
    let starts: Vec<usize> = (0..rows.rows()).step_by(CHUNK_ROWS).collect();
    let partials: Vec<(f64, Vec<f64>)> = starts
        .par_iter()
        .map(|&start| {
            chunk_terms(
                rows,
                parameters,
                start,
                (start + CHUNK_ROWS).min(rows.rows()),
            )
        })
        .collect();
    let total_weight: f64 = rows.weights.iter().sum();
    penalised_mean(&partials, total_weight, l2, rows.columns, parameters)
}

/// Adds the blocks' partial losses and gradients in block order (so the sum never depends on
/// scheduling), divides by the total row weight and adds `l2 / 2 * |W|^2` over parameters laid
/// out as class blocks of `columns` weights and a bias.
pub(crate) fn penalised_mean(
    partials: &[(f64, Vec<f64>)],
    total_weight: f64,
    l2: f64,
    columns: usize,
    parameters: &[f64],
) -> (f64, Vec<f64>) {
    let mut loss = 0.0;
    let mut gradient = vec![0.0; parameters.len()];
    for (chunk_loss, chunk_gradient) in partials {
        loss += chunk_loss;
        gradient
            .iter_mut()
            .zip(chunk_gradient)
            .for_each(|(total, part)| *total += part);
    }
    loss /= total_weight;
    gradient.iter_mut().for_each(|value| *value /= total_weight);
    add_penalty(l2, columns, parameters, &mut loss, &mut gradient);
    (loss, gradient)
}

/// Unnormalised weighted loss and gradient over rows `start..end`.
fn chunk_terms(
    rows: &WeightedRows,
    parameters: &[f64],
    start: usize,
    end: usize,
) -> (f64, Vec<f64>) {
    let stride = rows.columns + 1;
    let mut loss = 0.0;
    let mut gradient = vec![0.0; parameters.len()];
    let mut scores = vec![0.0; rows.class_count];
    for index in start..end {
        let features = rows.row(index);
        for (class, score) in scores.iter_mut().enumerate() {
            let block = &parameters[class * stride..(class + 1) * stride];
            *score = block[rows.columns] + dot(&block[..rows.columns], features);
        }
        let (weight, label) = (rows.weights[index], rows.labels[index]);
        loss += weight * softmax_cross_entropy(&mut scores, label);
        for (class, &probability) in scores.iter().enumerate() {
            let residual = weight * (probability - f64::from(u8::from(class == label)));
            let block = &mut gradient[class * stride..(class + 1) * stride];
            for (slot, &value) in block[..rows.columns].iter_mut().zip(features) {
                *slot += residual * value;
            }
            block[rows.columns] += residual;
        }
    }
    (loss, gradient)
}

/// Replaces `scores` by softmax probabilities and returns `-log p[label]`.
pub(crate) fn softmax_cross_entropy(scores: &mut [f64], label: usize) -> f64 {
    let maximum = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut total = 0.0;
    for score in scores.iter_mut() {
        *score = (*score - maximum).exp();
        total += *score;
    }
    let loss = total.ln() - scores[label].ln();
    scores.iter_mut().for_each(|score| *score /= total);
    loss
}

fn add_penalty(l2: f64, columns: usize, parameters: &[f64], loss: &mut f64, gradient: &mut [f64]) {
    for (block, gradient_block) in parameters
        .chunks(columns + 1)
        .zip(gradient.chunks_mut(columns + 1))
    {
        for (value, slot) in block[..columns].iter().zip(&mut gradient_block[..columns]) {
            *loss += 0.5 * l2 * value * value;
            *slot += l2 * value;
        }
    }
}

fn dot(left: &[f64], right: &[f64]) -> f64 {
    left.iter().zip(right).map(|(a, b)| a * b).sum()
}

fn to_model(parameters: &[f64], class_count: usize, columns: usize) -> LinearModel {
    let blocks: Vec<&[f64]> = parameters.chunks(columns + 1).take(class_count).collect();
    LinearModel {
        weights: blocks
            .iter()
            .map(|block| block[..columns].iter().map(|&value| value as f32).collect())
            .collect(),
        bias: blocks.iter().map(|block| block[columns] as f32).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::learn::matrix::Matrix;
    use crate::classify::learn::synthetic::assert_gradient_matches_finite_differences;

    fn toy_rows() -> (Matrix, Vec<usize>) {
        let data = vec![
            1.0, 0.1, 0.9, -0.1, -1.0, 0.2, -0.8, 0.0, 0.1, 1.0, -0.1, 0.9,
        ];
        (Matrix::new(data, 2).unwrap(), vec![0, 0, 1, 1, 2, 2])
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let (matrix, labels) = toy_rows();
        let indices: Vec<usize> = (0..6).collect();
        let rows = WeightedRows::new(matrix.view(), &labels, &indices, &[1.0, 2.0, 0.5]);
        let parameters: Vec<f64> = (0..9).map(|index| 0.1 * index as f64 - 0.3).collect();
        assert_gradient_matches_finite_differences(
            |parameters| objective(&rows, 0.05, parameters),
            &parameters,
        );
    }

    #[test]
    fn separates_a_toy_problem() {
        let (matrix, labels) = toy_rows();
        let indices: Vec<usize> = (0..6).collect();
        let rows = WeightedRows::new(matrix.view(), &labels, &indices, &[1.0; 3]);
        let fit = fit_linear(&rows, 1e-3, &LbfgsSettings::default(), None);
        for (index, &label) in labels.iter().enumerate() {
            let logits = fit.model.logits(matrix.row(index));
            assert_eq!(crate::classify::learn::softmax::argmax(&logits), label);
        }
    }
}
