//! A one-hidden-layer perceptron head: ReLU hidden units, softmax output, trained by AdamW on
//! class-weighted mini-batches with early stopping on the validation split.
//!
//! In go transformed fit rows with their labels and loss weights, and a validation callback;
//! out comes the parameters of the epoch that scored best on validation.
//!
//! Determinism: initialisation and the per-epoch shuffle come from the seed. Every parallel loop
//! writes disjoint outputs (one batch row, or one hidden unit's gradient summed over the batch
//! in row order), so no floating-point reduction ever depends on thread scheduling.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::classify::learn::head::MlpModel;
use crate::classify::learn::matrix::{add_scaled, dot, MatrixView};
use crate::classify::learn::random::SeededRandom;

/// Settings of the MLP head.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpSettings {
    /// Hidden ReLU units.
    pub hidden_units: usize,
    /// AdamW step size.
    pub learning_rate: f32,
    /// Decoupled weight decays tried on the validation split.
    pub weight_decay_grid: Vec<f64>,
    /// Rows per optimisation step.
    pub batch_size: usize,
    /// Upper bound on passes over the fit rows.
    pub max_epochs: usize,
    /// Stop after this many epochs without a better validation score.
    pub patience: usize,
    /// Probability of zeroing each input feature during training (0 disables dropout).
    pub input_dropout: f32,
}

impl Default for MlpSettings {
    fn default() -> Self {
        Self {
            hidden_units: 256,
            learning_rate: 1e-3,
            weight_decay_grid: vec![1e-2],
            batch_size: 64,
            max_epochs: 60,
            patience: 8,
            input_dropout: 0.2,
        }
    }
}

/// Fit rows for the MLP: transformed features, labels and per-row loss weights.
pub struct MlpRows<'a> {
    /// Transformed features.
    pub features: MatrixView<'a>,
    /// Class index per row.
    pub labels: &'a [usize],
    /// Loss weight per row.
    pub weights: &'a [f32],
    /// Number of classes.
    pub class_count: usize,
}

/// The best epoch's model.
pub struct MlpFit {
    /// Parameters of the best epoch.
    pub model: MlpModel,
    /// The best epoch (1-based).
    pub epoch: usize,
    /// Its validation score.
    pub score: f64,
}

/// Offsets of each parameter group in the flat parameter vector.
#[derive(Clone, Copy)]
struct Layout {
    inputs: usize,
    hidden: usize,
    classes: usize,
}

impl Layout {
    fn hidden_bias(&self) -> usize {
        self.hidden * self.inputs
    }
    fn output_weights(&self) -> usize {
        self.hidden_bias() + self.hidden
    }
    fn output_bias(&self) -> usize {
        self.output_weights() + self.classes * self.hidden
    }
    fn total(&self) -> usize {
        self.output_bias() + self.classes
    }
    /// Whether parameter `index` is a weight (decayed) rather than a bias.
    fn is_weight(&self, index: usize) -> bool {
        index < self.hidden_bias() || (self.output_weights()..self.output_bias()).contains(&index)
    }
}

/// Trains with weight decay `weight_decay`; `validate` scores a model (higher is better).
pub fn fit_mlp(
    rows: &MlpRows<'_>,
    weight_decay: f64,
    settings: &MlpSettings,
    seed: u64,
    validate: impl Fn(&MlpModel) -> f64,
) -> MlpFit {
    let layout = Layout {
        inputs: rows.features.columns(),
        hidden: settings.hidden_units,
        classes: rows.class_count,
    };
    let mut parameters = initial_parameters(layout, seed);
    let mut optimiser = AdamW::new(layout, settings.learning_rate, weight_decay as f32);
    let mut shuffler = SeededRandom::for_stream(seed, 0x5348_5546);
    let mut dropout = SeededRandom::for_stream(seed, 0x4452_4F50);
    let mut order: Vec<usize> = (0..rows.labels.len()).collect();
    let mut best = MlpFit {
        model: to_model(&parameters, layout),
        epoch: 0,
        score: f64::NEG_INFINITY,
    };
    for epoch in 1..=settings.max_epochs {
        shuffler.shuffle(&mut order);
        for indices in order.chunks(settings.batch_size) {
            let batch = Batch::gather(rows, indices, settings.input_dropout, &mut dropout);
            let gradient = batch_gradient(&batch, &parameters, layout);
            optimiser.step(&mut parameters, &gradient);
        }
        let model = to_model(&parameters, layout);
        let score = validate(&model);
        if score > best.score {
            best = MlpFit {
                model,
                epoch,
                score,
            };
        } else if epoch - best.epoch >= settings.patience {
            break;
        }
    }
    best
}

/// The rows of one optimisation step, copied together (with dropout applied, if any).
struct Batch {
    inputs: Vec<f32>,
    labels: Vec<usize>,
    weights: Vec<f32>,
    columns: usize,
}

impl Batch {
    /// Copies rows `indices`; each input is zeroed with probability `dropout` and the survivors
    /// scaled by `1 / (1 - dropout)`, drawing the masks sequentially from `random`.
    fn gather(
        rows: &MlpRows<'_>,
        indices: &[usize],
        dropout: f32,
        random: &mut SeededRandom,
    ) -> Self {
        let columns = rows.features.columns();
        let mut inputs = Vec::with_capacity(indices.len() * columns);
        for &index in indices {
            inputs.extend_from_slice(rows.features.row(index));
        }
        if dropout > 0.0 {
            let keep_scale = 1.0 / (1.0 - dropout);
            for value in &mut inputs {
                *value = if random.next_unit() < dropout as f64 {
                    0.0
                } else {
                    *value * keep_scale
                };
            }
        }
        Self {
            inputs,
            labels: indices.iter().map(|&index| rows.labels[index]).collect(),
            weights: indices.iter().map(|&index| rows.weights[index]).collect(),
            columns,
        }
    }

    fn len(&self) -> usize {
        self.labels.len()
    }

    fn row(&self, position: usize) -> &[f32] {
        &self.inputs[position * self.columns..(position + 1) * self.columns]
    }
}

/// He-uniform hidden weights, Glorot-uniform output weights, zero biases.
fn initial_parameters(layout: Layout, seed: u64) -> Vec<f32> {
    let mut random = SeededRandom::for_stream(seed, 0x494E_4954);
    let mut parameters = vec![0.0f32; layout.total()];
    let hidden_bound = (6.0 / layout.inputs as f64).sqrt();
    for value in &mut parameters[..layout.hidden_bias()] {
        *value = random.uniform(-hidden_bound, hidden_bound) as f32;
    }
    let output_bound = (6.0 / (layout.hidden + layout.classes) as f64).sqrt();
    for value in &mut parameters[layout.output_weights()..layout.output_bias()] {
        *value = random.uniform(-output_bound, output_bound) as f32;
    }
    parameters
}

/// Gradient of the weighted mean cross-entropy over one batch.
fn batch_gradient(batch: &Batch, parameters: &[f32], layout: Layout) -> Vec<f32> {
    let hidden = forward_hidden(batch, parameters, layout);
    let output_errors = output_errors(batch, parameters, layout, &hidden);
    let hidden_errors = backward_hidden(parameters, layout, &hidden, &output_errors);
    let mut gradient = vec![0.0f32; layout.total()];
    let (input_part, rest) = gradient.split_at_mut(layout.hidden_bias());
    let (hidden_bias_part, output_part) = rest.split_at_mut(layout.hidden);
    input_part
        .par_chunks_mut(layout.inputs)
        .zip(hidden_bias_part.par_iter_mut())
        .enumerate()
        .for_each(|(unit, (weights, bias))| {
            for position in 0..batch.len() {
                let error = hidden_errors[position * layout.hidden + unit];
                if error != 0.0 {
                    add_scaled(weights, error, batch.row(position));
                    *bias += error;
                }
            }
        });
    let (output_weights, output_bias) = output_part.split_at_mut(layout.classes * layout.hidden);
    for position in 0..batch.len() {
        let activations = &hidden[position * layout.hidden..(position + 1) * layout.hidden];
        for class in 0..layout.classes {
            let error = output_errors[position * layout.classes + class];
            add_scaled(
                &mut output_weights[class * layout.hidden..(class + 1) * layout.hidden],
                error,
                activations,
            );
            output_bias[class] += error;
        }
    }
    gradient
}

/// Hidden activations, `batch.len() x hidden`, one parallel task per batch row.
fn forward_hidden(batch: &Batch, parameters: &[f32], layout: Layout) -> Vec<f32> {
    let mut hidden = vec![0.0f32; batch.len() * layout.hidden];
    hidden
        .par_chunks_mut(layout.hidden)
        .zip(batch.inputs.par_chunks(batch.columns))
        .for_each(|(activations, input)| {
            for (unit, activation) in activations.iter_mut().enumerate() {
                let weights = &parameters[unit * layout.inputs..(unit + 1) * layout.inputs];
                let bias = parameters[layout.hidden_bias() + unit];
                *activation = (bias + dot(weights, input)).max(0.0);
            }
        });
    hidden
}

/// `weight * (softmax - one_hot) / batch size` per row and class.
fn output_errors(batch: &Batch, parameters: &[f32], layout: Layout, hidden: &[f32]) -> Vec<f32> {
    let mut errors = vec![0.0f32; batch.len() * layout.classes];
    let scale = 1.0 / batch.len() as f32;
    for position in 0..batch.len() {
        let activations = &hidden[position * layout.hidden..(position + 1) * layout.hidden];
        let scores = &mut errors[position * layout.classes..(position + 1) * layout.classes];
        for (class, score) in scores.iter_mut().enumerate() {
            let start = layout.output_weights() + class * layout.hidden;
            let weights = &parameters[start..start + layout.hidden];
            *score = parameters[layout.output_bias() + class] + dot(weights, activations);
        }
        crate::classify::learn::softmax::softmax_in_place(scores, 1.0);
        scores[batch.labels[position]] -= 1.0;
        let factor = batch.weights[position] * scale;
        scores.iter_mut().for_each(|score| *score *= factor);
    }
    errors
}

/// Errors at the hidden pre-activations: output errors pulled back through the ReLU.
fn backward_hidden(
    parameters: &[f32],
    layout: Layout,
    hidden: &[f32],
    output_errors: &[f32],
) -> Vec<f32> {
    let output_weights = &parameters[layout.output_weights()..layout.output_bias()];
    let mut errors = vec![0.0f32; hidden.len()];
    errors
        .par_chunks_mut(layout.hidden)
        .zip(hidden.par_chunks(layout.hidden))
        .zip(output_errors.par_chunks(layout.classes))
        .for_each(|((unit_errors, activations), class_errors)| {
            for (class, &error) in class_errors.iter().enumerate() {
                add_scaled(
                    unit_errors,
                    error,
                    &output_weights[class * layout.hidden..(class + 1) * layout.hidden],
                );
            }
            for (error, &activation) in unit_errors.iter_mut().zip(activations) {
                if activation <= 0.0 {
                    *error = 0.0;
                }
            }
        });
    errors
}

/// Adam with decoupled weight decay (AdamW); biases are not decayed.
struct AdamW {
    layout: Layout,
    learning_rate: f32,
    weight_decay: f32,
    first_moment: Vec<f32>,
    second_moment: Vec<f32>,
    steps: i32,
}

const FIRST_DECAY: f32 = 0.9;
const SECOND_DECAY: f32 = 0.999;
const EPSILON: f32 = 1e-8;

impl AdamW {
    fn new(layout: Layout, learning_rate: f32, weight_decay: f32) -> Self {
        Self {
            layout,
            learning_rate,
            weight_decay,
            first_moment: vec![0.0; layout.total()],
            second_moment: vec![0.0; layout.total()],
            steps: 0,
        }
    }

    fn step(&mut self, parameters: &mut [f32], gradient: &[f32]) {
        self.steps += 1;
        let first_correction = 1.0 - FIRST_DECAY.powi(self.steps);
        let second_correction = 1.0 - SECOND_DECAY.powi(self.steps);
        let step_size = self.learning_rate * second_correction.sqrt() / first_correction;
        let decay = self.learning_rate * self.weight_decay;
        for index in 0..parameters.len() {
            let (first, second) = (
                &mut self.first_moment[index],
                &mut self.second_moment[index],
            );
            *first = FIRST_DECAY * *first + (1.0 - FIRST_DECAY) * gradient[index];
            *second =
                SECOND_DECAY * *second + (1.0 - SECOND_DECAY) * gradient[index] * gradient[index];
            if self.layout.is_weight(index) {
                parameters[index] -= decay * parameters[index];
            }
            parameters[index] -= step_size * *first / (second.sqrt() + EPSILON);
        }
    }
}

fn to_model(parameters: &[f32], layout: Layout) -> MlpModel {
    let rows = |start: usize, count: usize, width: usize| -> Vec<Vec<f32>> {
        parameters[start..start + count * width]
            .chunks(width)
            .map(<[f32]>::to_vec)
            .collect()
    };
    MlpModel {
        hidden_weights: rows(0, layout.hidden, layout.inputs),
        hidden_bias: parameters[layout.hidden_bias()..layout.output_weights()].to_vec(),
        output_weights: rows(layout.output_weights(), layout.classes, layout.hidden),
        output_bias: parameters[layout.output_bias()..layout.total()].to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::learn::matrix::Matrix;

    fn weighted_loss(
        rows: &MlpRows<'_>,
        parameters: &[f32],
        layout: Layout,
        batch: &[usize],
    ) -> f64 {
        let model = to_model(parameters, layout);
        let total: f64 = batch
            .iter()
            .map(|&row| {
                let logits = model.logits(rows.features.row(row));
                rows.weights[row] as f64
                    * crate::classify::learn::softmax::negative_log_likelihood(
                        &logits,
                        rows.labels[row],
                        1.0,
                    )
            })
            .sum();
        total / batch.len() as f64
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let matrix = Matrix::new(
            (0..40)
                .map(|value| ((value * 7 % 11) as f32 - 5.0) / 5.0)
                .collect(),
            4,
        )
        .unwrap();
        let labels = vec![0, 1, 2, 0, 1, 2, 0, 1, 2, 0];
        let weights = vec![1.0, 2.0, 0.5, 1.0, 1.0, 1.0, 1.5, 1.0, 1.0, 1.0];
        let rows = MlpRows {
            features: matrix.view(),
            labels: &labels,
            weights: &weights,
            class_count: 3,
        };
        let layout = Layout {
            inputs: 4,
            hidden: 5,
            classes: 3,
        };
        let parameters = initial_parameters(layout, 9);
        let indices: Vec<usize> = (0..10).collect();
        let batch = Batch::gather(&rows, &indices, 0.0, &mut SeededRandom::new(0));
        let gradient = batch_gradient(&batch, &parameters, layout);
        for index in (0..layout.total()).step_by(3) {
            let mut shifted = parameters.clone();
            shifted[index] += 1e-3;
            let upper = weighted_loss(&rows, &shifted, layout, &indices);
            shifted[index] -= 2e-3;
            let lower = weighted_loss(&rows, &shifted, layout, &indices);
            let numeric = (upper - lower) / 2e-3;
            assert!(
                (numeric - gradient[index] as f64).abs() < 2e-3,
                "parameter {index}: {numeric} vs {}",
                gradient[index]
            );
        }
    }
}
