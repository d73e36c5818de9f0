//! Synthetic embeddings for tests and smoke runs: noisy, L2-normalised clusters around random
//! class centres, shaped like sentence embeddings (a shared offset plus a class direction); and
//! the finite-difference check the learners' gradients are tested with.

use crate::classify::learn::matrix::Matrix;
use crate::classify::learn::random::SeededRandom;

/// How to draw a synthetic data set.
#[derive(Clone, Debug)]
pub struct SyntheticSpec {
    /// Rows drawn for each class; the length is the number of classes.
    pub rows_per_class: Vec<usize>,
    /// Features per row.
    pub dimension: usize,
    /// Length of each class direction relative to the per-feature noise (higher is easier).
    pub separation: f64,
    /// Seed of the draw.
    pub seed: u64,
}

/// Draws rows (class by class, then shuffled) and their labels.
pub fn gaussian_classes(spec: &SyntheticSpec) -> (Matrix, Vec<usize>) {
    let mut random = SeededRandom::new(spec.seed);
    let shared: Vec<f64> = (0..spec.dimension).map(|_| random.normal()).collect();
    let mut labels: Vec<usize> = Vec::new();
    for (class, &count) in spec.rows_per_class.iter().enumerate() {
        labels.extend(std::iter::repeat_n(class, count));
    }
    random.shuffle(&mut labels);
    let centres: Vec<Vec<f64>> = spec
        .rows_per_class
        .iter()
        .map(|_| unit_vector(&mut random, spec.dimension))
        .collect();
    let noise = 1.0 / (spec.dimension as f64).sqrt();
    let mut data = Vec::with_capacity(labels.len() * spec.dimension);
    for &label in &labels {
        let row: Vec<f64> = (0..spec.dimension)
            .map(|feature| {
                0.5 * shared[feature] * noise
                    + spec.separation
                        * noise
                        * centres[label][feature]
                        * (spec.dimension as f64).sqrt()
                        / 4.0
                    + noise * random.normal()
            })
            .collect();
        let length = row.iter().map(|value| value * value).sum::<f64>().sqrt();
        data.extend(row.iter().map(|value| (value / length) as f32));
    }
    (
        Matrix::new(data, spec.dimension).expect("rows have the given dimension"),
        labels,
    )
}

fn unit_vector(random: &mut SeededRandom, dimension: usize) -> Vec<f64> {
    let vector: Vec<f64> = (0..dimension).map(|_| random.normal()).collect();
    let length = vector.iter().map(|value| value * value).sum::<f64>().sqrt();
    vector.iter().map(|value| value / length).collect()
}

/// Asserts that `objective`'s gradient at `parameters` matches central finite differences.
pub fn assert_gradient_matches_finite_differences(
    objective: impl Fn(&[f64]) -> (f64, Vec<f64>),
    parameters: &[f64],
) {
    let (_, gradient) = objective(parameters);
    for index in 0..parameters.len() {
        let mut shifted = parameters.to_vec();
        shifted[index] += 1e-6;
        let (upper, _) = objective(&shifted);
        shifted[index] -= 2e-6;
        let (lower, _) = objective(&shifted);
        let numeric = (upper - lower) / 2e-6;
        assert!(
            (numeric - gradient[index]).abs() < 1e-6,
            "parameter {index}: {numeric} by differences, {} by the gradient",
            gradient[index]
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_unit_length_and_counted() {
        let spec = SyntheticSpec {
            rows_per_class: vec![5, 3],
            dimension: 16,
            separation: 1.0,
            seed: 1,
        };
        let (matrix, labels) = gaussian_classes(&spec);
        assert_eq!(matrix.rows(), 8);
        assert_eq!(labels.iter().filter(|&&label| label == 1).count(), 3);
        for row in 0..8 {
            let length: f32 = matrix.row(row).iter().map(|value| value * value).sum();
            assert!((length - 1.0).abs() < 1e-5);
        }
    }
}
