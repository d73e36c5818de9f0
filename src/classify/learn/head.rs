//! The trained head: class names, the feature transform, the model parameters, the calibration
//! temperature and where it all came from. A head is a small JSON file; loading it and calling
//! [`Head::predict`] on an embedding gives calibrated class probabilities.

use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::classify::learn::error::HeadError;
use crate::classify::learn::matrix::{dot, MatrixView};
use crate::classify::learn::softmax::{argmax, softmax_in_place};
use crate::classify::learn::standardise::FeatureTransform;
use crate::classify::learn::text_head::TextHead;
use crate::classify::learn::train::TrainingSettings;

/// Version of the head file layout; bumped when a field changes meaning.
pub const FORMAT_VERSION: u32 = 1;

/// A trained, calibrated classifier head over fixed-size embeddings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Head {
    /// Layout version of this file, [`FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// Class names, in the order of the probabilities.
    pub class_names: Vec<String>,
    /// Standardisation applied to every input row before the model.
    pub transform: FeatureTransform,
    /// The model parameters.
    pub model: HeadModel,
    /// Logits are divided by this before the softmax (fitted on validation data).
    pub temperature: f32,
    /// How the head was made.
    pub metadata: HeadMetadata,
    /// A text head whose probabilities are mixed into this head's ([`Head::predict_document`]);
    /// absent from heads trained without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextHead>,
}

/// The parameters of one head kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HeadModel {
    /// Multinomial logistic regression.
    Linear(LinearModel),
    /// One hidden ReLU layer, then a linear layer.
    Mlp(MlpModel),
}

/// Multinomial logistic regression: `logits = weights * x + bias`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    /// One row of feature weights per class.
    pub weights: Vec<Vec<f32>>,
    /// One bias per class.
    pub bias: Vec<f32>,
}

/// A one-hidden-layer perceptron: `logits = output * relu(hidden * x + hidden_bias) + output_bias`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpModel {
    /// One row of input weights per hidden unit.
    pub hidden_weights: Vec<Vec<f32>>,
    /// One bias per hidden unit.
    pub hidden_bias: Vec<f32>,
    /// One row of hidden-unit weights per class.
    pub output_weights: Vec<Vec<f32>>,
    /// One bias per class.
    pub output_bias: Vec<f32>,
}

/// Where a head came from, so it can be reproduced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeadMetadata {
    /// Version of the crate that trained the head.
    pub crate_version: String,
    /// The command line that trained it.
    pub training_command: String,
    /// The input files and their sha256 digests.
    pub data: Vec<DataFingerprint>,
    /// The encoder (model id) whose embeddings the head takes, when it was recorded; a workspace
    /// refuses a head made for another encoder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder: Option<String>,
    /// Every training setting, the seed included.
    pub settings: TrainingSettings,
    /// What training found along the way.
    pub summary: TrainingSummary,
}

/// One input file and its content digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFingerprint {
    /// Path as given on the command line.
    pub path: String,
    /// Lowercase hex sha256 of the file's bytes.
    pub sha256: String,
}

/// Numbers recorded while training a head.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    /// Rows the candidate models were fitted on.
    pub fit_rows: usize,
    /// Rows held out for selection, early stopping and calibration.
    pub validation_rows: usize,
    /// Rows the final model was fitted on.
    pub final_rows: usize,
    /// Loss weight of each class in the final fit.
    pub class_weights: Vec<f64>,
    /// Every regularisation strength tried, with its validation scores.
    pub candidates: Vec<CandidateScore>,
    /// The regularisation strength of the final model.
    pub chosen_regularisation: f64,
    /// Epochs the final model trained for (MLP only).
    pub epochs: Option<usize>,
    /// Validation mean negative log-likelihood at temperature 1.
    pub validation_nll_uncalibrated: f64,
    /// Validation mean negative log-likelihood at the fitted temperature.
    pub validation_nll_calibrated: f64,
}

/// Validation scores of one candidate regularisation strength.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CandidateScore {
    /// L2 strength (linear) or weight decay (MLP).
    pub regularisation: f64,
    /// Validation macro-F1.
    pub validation_macro_f1: f64,
    /// Validation mean negative log-likelihood, class-weighted as in training.
    pub validation_nll: f64,
}

impl LinearModel {
    /// Raw class scores for an already transformed row.
    pub fn logits(&self, features: &[f32]) -> Vec<f32> {
        self.weights
            .iter()
            .zip(&self.bias)
            .map(|(weights, bias)| bias + dot(weights, features))
            .collect()
    }
}

impl MlpModel {
    /// Raw class scores for an already transformed row.
    pub fn logits(&self, features: &[f32]) -> Vec<f32> {
        let hidden: Vec<f32> = self
            .hidden_weights
            .iter()
            .zip(&self.hidden_bias)
            .map(|(weights, bias)| (bias + dot(weights, features)).max(0.0))
            .collect();
        self.output_weights
            .iter()
            .zip(&self.output_bias)
            .map(|(weights, bias)| bias + dot(weights, &hidden))
            .collect()
    }
}

impl HeadModel {
    /// Number of input features.
    pub fn input_dimension(&self) -> usize {
        let first_row = match self {
            HeadModel::Linear(model) => model.weights.first(),
            HeadModel::Mlp(model) => model.hidden_weights.first(),
        };
        first_row.map_or(0, Vec::len)
    }

    /// Raw class scores for an already transformed row.
    pub fn logits(&self, features: &[f32]) -> Vec<f32> {
        match self {
            HeadModel::Linear(model) => model.logits(features),
            HeadModel::Mlp(model) => model.logits(features),
        }
    }
}

impl Head {
    /// Number of features each input row must have.
    pub fn input_dimension(&self) -> usize {
        self.model.input_dimension()
    }

    /// Number of classes.
    pub fn class_count(&self) -> usize {
        self.class_names.len()
    }

    /// Fails unless rows of `columns` features fit this head.
    pub fn check_dimension(&self, columns: usize) -> Result<(), HeadError> {
        if columns == self.input_dimension() {
            return Ok(());
        }
        Err(HeadError::Dimension {
            expected: self.input_dimension(),
            actual: columns,
        })
    }

    /// Class scores before calibration: the model applied to the transformed row.
    ///
    /// # Panics
    /// When `row` does not have [`Head::input_dimension`] values.
    pub fn logits(&self, row: &[f32]) -> Vec<f32> {
        assert_eq!(
            row.len(),
            self.input_dimension(),
            "row has the wrong dimension for this head"
        );
        let mut features = vec![0.0; row.len()];
        self.transform.apply_into(row, &mut features);
        self.model.logits(&features)
    }

    /// Calibrated class probabilities for one embedding, in [`Head::class_names`] order.
    ///
    /// # Panics
    /// When `row` does not have [`Head::input_dimension`] values.
    pub fn predict(&self, row: &[f32]) -> Vec<f32> {
        let mut probabilities = self.logits(row);
        softmax_in_place(&mut probabilities, self.temperature);
        probabilities
    }

    /// Calibrated class probabilities of one document: its embedding through this head, mixed
    /// with its text through the text head when the head carries one.
    ///
    /// # Panics
    /// When `row` does not have [`Head::input_dimension`] values.
    pub fn predict_document(&self, row: &[f32], text: &str) -> Vec<f32> {
        let probabilities = self.predict(row);
        match &self.text {
            Some(text_head) => text_head.mix(&probabilities, text),
            None => probabilities,
        }
    }

    /// The most probable class index for one embedding.
    pub fn predict_class(&self, row: &[f32]) -> usize {
        argmax(&self.logits(row))
    }

    /// Calibrated probabilities for every row: a row-major `rows x class_count` buffer.
    /// Rows are independent, so the parallel loop gives the same numbers as a sequential one.
    pub fn predict_batch(&self, rows: MatrixView<'_>) -> Result<Vec<f32>, HeadError> {
        let mut probabilities = self.logits_batch(rows)?;
        probabilities
            .par_chunks_mut(self.class_count())
            .for_each(|row| softmax_in_place(row, self.temperature));
        Ok(probabilities)
    }

    /// Uncalibrated logits for every row: a row-major `rows x class_count` buffer.
    pub fn logits_batch(&self, rows: MatrixView<'_>) -> Result<Vec<f32>, HeadError> {
        self.check_dimension(rows.columns())?;
        let mut logits = vec![0.0; rows.rows() * self.class_count()];
        logits
            .par_chunks_mut(self.class_count())
            .enumerate()
            .for_each(|(index, output)| output.copy_from_slice(&self.logits(rows.row(index))));
        Ok(logits)
    }

    /// The head as one line of JSON plus a newline; identical heads give identical bytes.
    pub fn to_json(&self) -> String {
        let mut json = serde_json::to_string(self).expect("a head always serialises");
        json.push('\n');
        json
    }

    /// Reads a head from JSON text, refusing a text head that does not fit the head's classes.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        let head: Head = serde_json::from_str(text)?;
        let problem = head
            .text
            .as_ref()
            .and_then(|text_head| text_head.problem(head.class_names.len()));
        match problem {
            Some(problem) => Err(serde::de::Error::custom(problem)),
            None => Ok(head),
        }
    }

    /// Writes the head to `path`.
    pub fn save(&self, path: &Path) -> Result<(), HeadError> {
        std::fs::write(path, self.to_json()).map_err(|source| HeadError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads a head from `path`.
    pub fn load(path: &Path) -> Result<Self, HeadError> {
        let text = std::fs::read_to_string(path).map_err(|source| HeadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json(&text).map_err(|source| HeadError::Parse {
            path: path.to_path_buf(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hand_built(temperature: f32) -> Head {
        Head {
            format_version: FORMAT_VERSION,
            class_names: vec!["negative".into(), "positive".into()],
            transform: FeatureTransform {
                mean: Some(vec![1.0, 0.0]),
                inverse_scale: None,
            },
            model: HeadModel::Linear(LinearModel {
                weights: vec![vec![1.0, 0.0], vec![0.0, 1.0]],
                bias: vec![0.0, 0.0],
            }),
            temperature,
            metadata: HeadMetadata {
                crate_version: "test".into(),
                training_command: "by hand".into(),
                data: Vec::new(),
                encoder: None,
                settings: TrainingSettings::default(),
                summary: TrainingSummary {
                    fit_rows: 0,
                    validation_rows: 0,
                    final_rows: 0,
                    class_weights: vec![1.0, 1.0],
                    candidates: Vec::new(),
                    chosen_regularisation: 0.0,
                    epochs: None,
                    validation_nll_uncalibrated: 0.0,
                    validation_nll_calibrated: 0.0,
                },
            },
            text: None,
        }
    }

    #[test]
    fn temperature_divides_the_logits() {
        // Centred row (2, 0) - (1, 0) = (1, 0): logits (1, 0); at T = 2, softmax(0.5, 0).
        let head = hand_built(2.0);
        let probabilities = head.predict(&[2.0, 0.0]);
        let expected = 1.0 / (1.0 + (-0.5f32).exp());
        assert!((probabilities[0] - expected).abs() < 1e-6);
        assert_eq!(head.predict_class(&[2.0, 0.0]), 0);
        assert_eq!(head.predict_class(&[1.0, 0.5]), 1);
    }

    #[test]
    fn json_names_the_model_kind_and_round_trips() {
        let head = hand_built(1.5);
        let json = head.to_json();
        assert!(json.contains("\"kind\":\"linear\""), "{json}");
        assert!(json.ends_with('\n'));
        assert_eq!(Head::from_json(&json).unwrap(), head);
    }

    #[test]
    fn files_round_trip_and_bad_files_say_which() {
        let directory = std::env::temp_dir().join(format!("heads-test-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join("head.json");
        let head = hand_built(1.0);
        head.save(&path).unwrap();
        assert_eq!(Head::load(&path).unwrap(), head);
        std::fs::write(&path, "{\"format_version\": 1}").unwrap();
        let error = Head::load(&path).unwrap_err();
        assert!(matches!(error, HeadError::Parse { .. }));
        assert!(error.to_string().contains("head.json"));
        std::fs::remove_dir_all(&directory).unwrap();
    }

    #[test]
    fn a_text_head_that_does_not_fit_the_classes_is_refused_on_reading() {
        use crate::classify::learn::ngrams::NgramSettings;
        use crate::classify::learn::text_head::{MixAccuracy, TextHeadSummary};
        let text_head = TextHead {
            ngrams: NgramSettings {
                buckets: 4,
                ..NgramSettings::default()
            },
            weights: vec![0.0; 8],
            bias: vec![0.0, 0.0],
            temperature: 1.0,
            share: 0.5,
            summary: TextHeadSummary {
                candidates: Vec::new(),
                chosen_regularisation: 0.0,
                validation_accuracy: MixAccuracy {
                    embedding: 0.0,
                    text: 0.0,
                    mixed: 0.0,
                },
                share_log_loss: Vec::new(),
            },
        };
        let mut head = hand_built(1.0);
        head.text = Some(text_head.clone());
        assert_eq!(Head::from_json(&head.to_json()).unwrap(), head);
        let broken = [
            TextHead {
                weights: vec![0.0; 7],
                ..text_head.clone()
            },
            TextHead {
                share: 1.5,
                ..text_head.clone()
            },
            TextHead {
                ngrams: NgramSettings {
                    buckets: 0,
                    ..NgramSettings::default()
                },
                weights: Vec::new(),
                ..text_head
            },
        ];
        for (text_head, reason) in broken.into_iter().zip(["weights", "share", "buckets"]) {
            head.text = Some(text_head);
            let error = Head::from_json(&head.to_json()).unwrap_err();
            assert!(error.to_string().contains(reason), "{error}");
        }
    }
}
