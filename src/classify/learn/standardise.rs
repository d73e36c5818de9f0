//! Per-feature standardisation applied before a head: subtract the training mean and, if asked,
//! divide by the training standard deviation.
//!
//! Sentence embeddings share a large common direction (cosines between unrelated sentences sit
//! well above zero), so centring them makes the optimisation better conditioned, and scaling
//! makes one L2 strength penalise every feature alike. The transform is stored in the head so
//! prediction applies exactly what training saw.

use serde::{Deserialize, Serialize};

use crate::classify::learn::matrix::{Matrix, MatrixView};

/// How features are standardised before the head sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standardisation {
    /// Raw features.
    None,
    /// Subtract the per-feature training mean.
    Centre,
    /// Subtract the mean and divide by the per-feature standard deviation.
    CentreAndScale,
}

/// The fitted transform: `(x - mean) * inverse_scale`, either part optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FeatureTransform {
    /// Per-feature mean of the training rows, when centring.
    pub mean: Option<Vec<f32>>,
    /// Per-feature `1 / standard deviation` of the training rows, when scaling.
    pub inverse_scale: Option<Vec<f32>>,
}

impl FeatureTransform {
    /// Fits the transform on `rows` (sequential `f64` sums, so the result is reproducible).
    pub fn fit(rows: MatrixView<'_>, standardisation: Standardisation) -> Self {
        if standardisation == Standardisation::None || rows.rows() == 0 {
            return Self::default();
        }
        let count = rows.rows() as f64;
        let mut sums = vec![0.0f64; rows.columns()];
        let mut squares = vec![0.0f64; rows.columns()];
        for index in 0..rows.rows() {
            for (column, &value) in rows.row(index).iter().enumerate() {
                sums[column] += value as f64;
                squares[column] += value as f64 * value as f64;
            }
        }
        let mean: Vec<f64> = sums.iter().map(|sum| sum / count).collect();
        let inverse_scale = (standardisation == Standardisation::CentreAndScale).then(|| {
            mean.iter()
                .zip(&squares)
                .map(|(mean, square)| {
                    let variance = (square / count - mean * mean).max(0.0);
                    (1.0 / variance.sqrt().max(1e-6)) as f32
                })
                .collect()
        });
        Self {
            mean: Some(mean.iter().map(|&value| value as f32).collect()),
            inverse_scale,
        }
    }

    /// Writes the transformed `row` into `output` (same length).
    pub fn apply_into(&self, row: &[f32], output: &mut [f32]) {
        output.copy_from_slice(row);
        if let Some(mean) = &self.mean {
            for (value, mean) in output.iter_mut().zip(mean) {
                *value -= mean;
            }
        }
        if let Some(inverse_scale) = &self.inverse_scale {
            for (value, factor) in output.iter_mut().zip(inverse_scale) {
                *value *= factor;
            }
        }
    }

    /// The transformed copy of a whole matrix.
    pub fn apply_matrix(&self, rows: MatrixView<'_>) -> Matrix {
        let mut output = Matrix::new(rows.data().to_vec(), rows.columns())
            .expect("a view always has a valid shape");
        let columns = rows.columns();
        for (index, row) in output.data_mut().chunks_exact_mut(columns).enumerate() {
            self.apply_into(rows.row(index), row);
        }
        output
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Matrix {
        Matrix::new(vec![1.0, 10.0, 3.0, 30.0, 5.0, 20.0], 2).unwrap()
    }

    #[test]
    fn centring_removes_the_mean() {
        let matrix = sample();
        let transform = FeatureTransform::fit(matrix.view(), Standardisation::Centre);
        assert_eq!(transform.mean, Some(vec![3.0, 20.0]));
        assert!(transform.inverse_scale.is_none());
        let centred = transform.apply_matrix(matrix.view());
        assert_eq!(centred.into_data(), vec![-2.0, -10.0, 0.0, 10.0, 2.0, 0.0]);
    }

    #[test]
    fn scaling_gives_unit_variance() {
        let matrix = sample();
        let transform = FeatureTransform::fit(matrix.view(), Standardisation::CentreAndScale);
        let scaled = transform.apply_matrix(matrix.view());
        for column in 0..2 {
            let variance: f32 = (0..3)
                .map(|row| scaled.row(row)[column].powi(2))
                .sum::<f32>()
                / 3.0;
            assert!((variance - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn none_is_identity() {
        let matrix = sample();
        let transform = FeatureTransform::fit(matrix.view(), Standardisation::None);
        assert_eq!(transform.apply_matrix(matrix.view()), matrix);
    }
}
