//! The text head: a logistic regression over a document's character n-grams ([`super::ngrams`])
//! that sits beside an embedding head and mixes its calibrated probabilities into the embedding
//! head's. In go the n-gram rows of the training documents, their labels, the embedding head's
//! validation split and calibrated validation probabilities; out comes a [`TextHead`] whose
//! [`TextHead::mix`] gives the mixed probabilities of one document.
//!
//! Why: on the Chinese reviews the head on frozen e5 embeddings and this n-gram head make
//! different mistakes (README, test split: 0.859 and 0.840 alone, 0.864 mixed at the share the
//! validation rows chose), and the n-grams cost no second transformer pass.
//!
//! Training follows the embedding head's rules: the L2 strength is chosen by class-weighted
//! validation log-loss on the embedding head's own validation rows, the temperature is fitted on
//! validation logits of the model that did not see them, the share of the mix is chosen on the
//! same rows, and the final weights are refitted on every training row at the chosen strength.

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::classify::learn::calibration::fit_temperature;
use crate::classify::learn::head::CandidateScore;
use crate::classify::learn::lbfgs::LbfgsSettings;
use crate::classify::learn::metrics::ClassificationReport;
use crate::classify::learn::ngrams::{NgramSettings, SparseRow};
use crate::classify::learn::softmax::{argmax, softmax_in_place, softmax_rows};
use crate::classify::learn::sparse::{fit_sparse, sparse_logits, SparseRows};
use crate::classify::learn::split::Partition;

/// How a text head is trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextHeadSettings {
    /// How texts become rows.
    pub ngrams: NgramSettings,
    /// L2 strengths tried on the validation rows (penalty `l2 / 2 * |W|^2` on the mean loss).
    pub l2_grid: Vec<f64>,
    /// Shares of the text head in the mix tried on the validation rows.
    pub share_grid: Vec<f64>,
    /// The optimiser's stopping rules.
    pub lbfgs: LbfgsSettings,
}

impl TextHeadSettings {
    /// What is wrong with these settings, if anything.
    pub fn problem(&self) -> Option<String> {
        if let Some(problem) = self.ngrams.problem() {
            return Some(problem);
        }
        if self.l2_grid.is_empty()
            || self
                .l2_grid
                .iter()
                .any(|l2| !(l2.is_finite() && *l2 >= 0.0))
        {
            return Some("the L2 grid needs at least one finite, non-negative value".into());
        }
        if self.share_grid.is_empty()
            || self
                .share_grid
                .iter()
                .any(|share| !(0.0..=1.0).contains(share))
        {
            return Some("the share grid needs at least one value, each in [0, 1]".into());
        }
        None
    }
}

impl Default for TextHeadSettings {
    fn default() -> Self {
        TextHeadSettings {
            ngrams: NgramSettings::default(),
            l2_grid: vec![1e-4, 3e-5, 1e-5, 3e-6, 1e-6],
            share_grid: (0..=10).map(|tenth| f64::from(tenth) / 10.0).collect(),
            lbfgs: LbfgsSettings::default(),
        }
    }
}

/// A trained text head.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextHead {
    /// How texts become rows.
    pub ngrams: NgramSettings,
    /// One row of `ngrams.buckets` weights per class, stored as base64 of little-endian `f32`.
    #[serde(with = "packed")]
    pub weights: Vec<f32>,
    /// One bias per class.
    pub bias: Vec<f32>,
    /// Logits are divided by this before the softmax (fitted on validation rows).
    pub temperature: f32,
    /// The weight of this head's probabilities in the mix; the embedding head gets the rest.
    pub share: f32,
    /// What training found.
    pub summary: TextHeadSummary,
}

/// Numbers recorded while training a text head.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextHeadSummary {
    /// Every L2 strength tried, with its validation scores.
    pub candidates: Vec<CandidateScore>,
    /// The chosen strength.
    pub chosen_regularisation: f64,
    /// Validation accuracy of the embedding head alone, the text head alone and the mix.
    pub validation_accuracy: MixAccuracy,
    /// Validation log-loss (class-weighted) of the mix at each share tried, in grid order.
    pub share_log_loss: Vec<f64>,
}

/// Accuracies on the validation rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MixAccuracy {
    /// The embedding head alone.
    pub embedding: f64,
    /// The text head alone.
    pub text: f64,
    /// The two mixed at the chosen share.
    pub mixed: f64,
}

/// What [`train_text_head`] learns from.
pub struct TextTrainingData<'a> {
    /// One n-gram row per training document.
    pub rows: &'a [SparseRow],
    /// One class per training document.
    pub labels: &'a [usize],
    /// The embedding head's fit / validation split of the same documents.
    pub partition: &'a Partition,
    /// Loss weight of each class on the fit part (candidates and every choice on the validation
    /// rows).
    pub fit_class_weights: &'a [f64],
    /// Loss weight of each class over all training rows (the final refit).
    pub all_class_weights: &'a [f64],
    /// The embedding head's calibrated probabilities of the validation rows, row-major.
    pub embedding_validation: &'a [f32],
}

impl TextHead {
    /// Why this head cannot serve a head of `class_count` classes, if it cannot (a hand-edited
    /// or truncated file would otherwise give short probability rows or divide by zero).
    pub fn problem(&self, class_count: usize) -> Option<String> {
        let ngrams = &self.ngrams;
        if let Some(problem) = ngrams.problem() {
            return Some(problem);
        }
        if self.bias.len() != class_count {
            return Some(format!(
                "the text head has {} biases for {class_count} classes",
                self.bias.len()
            ));
        }
        if self.weights.len() != class_count * ngrams.buckets {
            return Some(format!(
                "the text head has {} weights, not {class_count} classes x {} buckets",
                self.weights.len(),
                ngrams.buckets
            ));
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Some(format!(
                "the text head's temperature {} is not positive",
                self.temperature
            ));
        }
        if !(0.0..=1.0).contains(&self.share) {
            return Some(format!(
                "the text head's share {} is outside [0, 1]",
                self.share
            ));
        }
        None
    }

    /// Calibrated class probabilities of one document's text.
    pub fn predict(&self, text: &str) -> Vec<f32> {
        let row = self.ngrams.row(text);
        let buckets = self.ngrams.buckets;
        let mut logits: Vec<f32> = self
            .weights
            .chunks_exact(buckets)
            .zip(&self.bias)
            .map(|(weights, bias)| {
                bias + row
                    .indices
                    .iter()
                    .zip(&row.values)
                    .map(|(&index, value)| weights[index as usize] * value)
                    .sum::<f32>()
            })
            .collect();
        softmax_in_place(&mut logits, self.temperature);
        logits
    }

    /// The embedding head's probabilities `embedding` mixed with this head's for `text`.
    pub fn mix(&self, embedding: &[f32], text: &str) -> Vec<f32> {
        mixed(embedding, &self.predict(text), self.share)
    }
}

/// `(1 - share) * embedding + share * text`.
fn mixed(embedding: &[f32], text: &[f32], share: f32) -> Vec<f32> {
    embedding
        .iter()
        .zip(text)
        .map(|(embedding, text)| (1.0 - share) * embedding + share * text)
        .collect()
}

/// Trains a text head beside an embedding head (see the module documentation).
pub fn train_text_head(data: &TextTrainingData<'_>, settings: &TextHeadSettings) -> TextHead {
    let class_count = data.fit_class_weights.len();
    let validation = Validation {
        labels: data
            .partition
            .validation
            .iter()
            .map(|&row| data.labels[row])
            .collect(),
        class_weights: data.fit_class_weights,
    };
    let (candidates, best) = search_l2(data, settings, &validation);
    let temperature = fit_temperature(&best.validation_logits, &validation.labels);
    let text_validation = softmax_rows(&best.validation_logits, class_count, temperature);
    let embedding_validation = data.embedding_validation;
    let share_log_loss: Vec<f64> = settings
        .share_grid
        .iter()
        .map(|&share| {
            validation.log_loss(&mixed(embedding_validation, &text_validation, share as f32))
        })
        .collect();
    let chosen = (0..share_log_loss.len())
        .min_by(|&a, &b| share_log_loss[a].total_cmp(&share_log_loss[b]))
        .expect("the share grid is not empty (checked with the settings)");
    let share = settings.share_grid[chosen] as f32;
    let validation_accuracy = MixAccuracy {
        embedding: validation.accuracy(embedding_validation),
        text: validation.accuracy(&text_validation),
        mixed: validation.accuracy(&mixed(embedding_validation, &text_validation, share)),
    };
    let all: Vec<usize> = (0..data.labels.len()).collect();
    let buckets = settings.ngrams.buckets;
    let all_rows = SparseRows::new(
        data.rows,
        data.labels,
        &all,
        data.all_class_weights,
        buckets,
    );
    let refit = fit_sparse(&all_rows, best.l2, &settings.lbfgs, Some(best.parameters));
    let (weights, bias) = unflatten(&refit, class_count, buckets);
    TextHead {
        ngrams: settings.ngrams,
        weights,
        bias,
        temperature,
        share,
        summary: TextHeadSummary {
            candidates,
            chosen_regularisation: best.l2,
            validation_accuracy,
            share_log_loss,
        },
    }
}

/// The validation rows' labels and the loss weight of each class.
struct Validation<'a> {
    labels: Vec<usize>,
    class_weights: &'a [f64],
}

impl Validation<'_> {
    /// Class-weighted mean of `-ln p[label]` over row-major `probabilities`.
    fn log_loss(&self, probabilities: &[f32]) -> f64 {
        let class_count = self.class_weights.len();
        let (mut loss, mut total) = (0.0, 0.0);
        for (row, &label) in probabilities.chunks_exact(class_count).zip(&self.labels) {
            let weight = self.class_weights[label];
            loss -= weight * f64::from(row[label]).max(1e-12).ln();
            total += weight;
        }
        loss / total.max(f64::MIN_POSITIVE)
    }

    fn predicted(&self, probabilities: &[f32]) -> Vec<usize> {
        probabilities
            .chunks_exact(self.class_weights.len())
            .map(argmax)
            .collect()
    }

    fn accuracy(&self, probabilities: &[f32]) -> f64 {
        let predicted = self.predicted(probabilities);
        let correct = predicted
            .iter()
            .zip(&self.labels)
            .filter(|(a, b)| a == b)
            .count();
        correct as f64 / self.labels.len().max(1) as f64
    }

    fn macro_f1(&self, probabilities: &[f32]) -> f64 {
        let names: Vec<String> = (0..self.class_weights.len())
            .map(|class| class.to_string())
            .collect();
        ClassificationReport::compute(&self.labels, &self.predicted(probabilities), &names)
            .map_or(0.0, |report| report.macro_f1)
    }
}

/// The best L2 strength so far, with its fit-part parameters and validation logits.
struct Candidate {
    loss: f64,
    l2: f64,
    parameters: Vec<f64>,
    validation_logits: Vec<f32>,
}

/// Fits every L2 strength on the fit part, strongest first, each warm-started from the last;
/// returns every candidate's scores and the one with the lowest validation log-loss (the
/// stronger penalty wins ties).
fn search_l2(
    data: &TextTrainingData<'_>,
    settings: &TextHeadSettings,
    validation: &Validation<'_>,
) -> (Vec<CandidateScore>, Candidate) {
    let class_count = data.fit_class_weights.len();
    let fit_rows = SparseRows::new(
        data.rows,
        data.labels,
        &data.partition.fit,
        data.fit_class_weights,
        settings.ngrams.buckets,
    );
    let mut grid = settings.l2_grid.clone();
    grid.sort_by(|left, right| right.total_cmp(left));
    let mut scores = Vec::new();
    let mut best: Option<Candidate> = None;
    let mut start = None;
    for &l2 in &grid {
        let parameters = fit_sparse(&fit_rows, l2, &settings.lbfgs, start);
        let logits = validation_logits(&parameters, class_count, data, &data.partition.validation);
        let probabilities = softmax_rows(&logits, class_count, 1.0);
        let loss = validation.log_loss(&probabilities);
        scores.push(CandidateScore {
            regularisation: l2,
            validation_macro_f1: validation.macro_f1(&probabilities),
            validation_nll: loss,
        });
        if best.as_ref().is_none_or(|best| loss < best.loss) {
            best = Some(Candidate {
                loss,
                l2,
                parameters: parameters.clone(),
                validation_logits: logits,
            });
        }
        start = Some(parameters);
    }
    (
        scores,
        best.expect("the L2 grid is not empty (checked with the settings)"),
    )
}

/// Row-major logits of the rows at `indices`.
fn validation_logits(
    parameters: &[f64],
    class_count: usize,
    data: &TextTrainingData<'_>,
    indices: &[usize],
) -> Vec<f32> {
    indices
        .iter()
        .flat_map(|&row| sparse_logits(parameters, class_count, &data.rows[row]))
        .map(|logit| logit as f32)
        .collect()
}

/// Flat class blocks (weights, then bias) into weights and biases.
fn unflatten(parameters: &[f64], class_count: usize, buckets: usize) -> (Vec<f32>, Vec<f32>) {
    let mut weights = Vec::with_capacity(class_count * buckets);
    let mut bias = Vec::with_capacity(class_count);
    for block in parameters.chunks_exact(buckets + 1) {
        weights.extend(block[..buckets].iter().map(|&value| value as f32));
        bias.push(block[buckets] as f32);
    }
    (weights, bias)
}

/// `Vec<f32>` as base64 of its little-endian bytes: a quarter of the size of a JSON array of
/// decimals, and exact.
mod packed {
    use super::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(values: &[f32], serializer: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = values
            .iter()
            .flat_map(|value| value.to_le_bytes())
            .collect();
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f32>, D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)?;
        if bytes.len() % 4 != 0 {
            return Err(serde::de::Error::custom(
                "packed floats need a multiple of 4 bytes",
            ));
        }
        Ok(bytes
            .chunks_exact(4)
            .map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::learn::split::carve_validation;

    /// Texts whose words say the class, and a useless embedding head (0.5 / 0.5).
    fn reviews() -> (Vec<String>, Vec<usize>) {
        let good = ["很好", "不错", "满意", "推荐"];
        let bad = ["很差", "失望", "糟糕", "退货"];
        (0..120)
            .map(|row| {
                let label = row % 2;
                let words = if label == 1 { &good } else { &bad };
                let text = format!("第{row}次 {} {}", words[row % 4], words[(row / 4) % 4]);
                (text, label)
            })
            .unzip()
    }

    fn small_settings() -> TextHeadSettings {
        TextHeadSettings {
            ngrams: NgramSettings {
                buckets: 1 << 12,
                ..NgramSettings::default()
            },
            ..TextHeadSettings::default()
        }
    }

    fn train(texts: &[String], labels: &[usize]) -> TextHead {
        let settings = small_settings();
        let rows: Vec<SparseRow> = texts.iter().map(|text| settings.ngrams.row(text)).collect();
        let partition = carve_validation(labels, 2, 0.25, 3);
        let embedding_validation = vec![0.5; partition.validation.len() * 2];
        let data = TextTrainingData {
            rows: &rows,
            labels,
            partition: &partition,
            fit_class_weights: &[1.0, 1.0],
            all_class_weights: &[1.0, 1.0],
            embedding_validation: &embedding_validation,
        };
        train_text_head(&data, &settings)
    }

    #[test]
    fn learns_what_the_words_say_and_leans_on_itself_when_the_embedding_head_knows_nothing() {
        let (texts, labels) = reviews();
        let head = train(&texts, &labels);
        assert_eq!(
            head.summary.validation_accuracy.text, 1.0,
            "{:?}",
            head.summary
        );
        assert_eq!(head.share, 1.0, "{:?}", head.summary.share_log_loss);
        let positive = head.predict("服务很好，推荐");
        let negative = head.predict("太糟糕了，失望");
        assert!(
            positive[1] > 0.5 && negative[0] > 0.5,
            "{positive:?} {negative:?}"
        );
        let mixed = head.mix(&[0.9, 0.1], "服务很好，推荐");
        let expected = mixed_by_hand(&[0.9, 0.1], &positive, head.share);
        assert_eq!(mixed, expected);
    }

    fn mixed_by_hand(embedding: &[f32], text: &[f32], share: f32) -> Vec<f32> {
        vec![
            (1.0 - share) * embedding[0] + share * text[0],
            (1.0 - share) * embedding[1] + share * text[1],
        ]
    }

    #[test]
    fn training_is_deterministic_and_the_head_survives_json() {
        let (texts, labels) = reviews();
        let head = train(&texts, &labels);
        assert_eq!(head, train(&texts, &labels));
        let json = serde_json::to_string(&head).unwrap();
        let back: TextHead = serde_json::from_str(&json).unwrap();
        assert_eq!(back, head);
        assert_eq!(back.weights.len(), 2 * (1 << 12));
    }

    #[test]
    fn packed_floats_of_the_wrong_length_are_refused() {
        let head = train(&reviews().0, &reviews().1);
        let mut json: serde_json::Value = serde_json::to_value(&head).unwrap();
        // Five bytes: one float and a stray byte.
        json["weights"] = serde_json::Value::String("AAAAAAA=".into());
        let error = serde_json::from_value::<TextHead>(json).unwrap_err();
        assert!(error.to_string().contains("multiple of 4"), "{error}");
    }
}
