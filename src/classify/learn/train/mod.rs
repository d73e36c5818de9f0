//! Training a head from labelled embeddings. In go the training rows (never test rows), their
//! labels and the settings; out comes a calibrated [`Head`].
//!
//! Steps: carve a stratified validation part out of the training rows; standardise features
//! with statistics of all training rows; for each regularisation strength in the grid, fit on
//! the fit part and score on the validation part; keep the best. The linear head is then refitted
//! on all training rows at that strength; the MLP keeps its best early-stopped epoch (its epoch
//! count was chosen on the validation rows, so it does not see them). Finally a temperature is
//! fitted on validation logits of the model that did *not* train on them: calibrating the refit
//! model on rows it has seen would make it look more certain than it is.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::classify::learn::calibration::fit_temperature;
use crate::classify::learn::error::HeadError;
use crate::classify::learn::head::{
    DataFingerprint, Head, HeadMetadata, TrainingSummary, FORMAT_VERSION,
};
use crate::classify::learn::linear::LinearSettings;
use crate::classify::learn::matrix::MatrixView;
use crate::classify::learn::mlp::MlpSettings;
use crate::classify::learn::softmax::{mean_negative_log_likelihood, softmax_rows};
use crate::classify::learn::split::{carve_validation, Partition};
use crate::classify::learn::standardise::{FeatureTransform, Standardisation};
use crate::classify::learn::text_head::{
    train_text_head, TextHead, TextHeadSettings, TextTrainingData,
};

mod search;

use search::{train_linear, train_mlp, TrainedModel, ValidationSet};

/// Which model a head uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadKind {
    /// Multinomial logistic regression.
    Linear,
    /// One hidden ReLU layer.
    Mlp,
}

/// How the loss weighs each class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeighting {
    /// Every row counts once.
    Uniform,
    /// Class weight `rows / (classes * rows of the class)`, as scikit-learn's "balanced".
    Balanced,
    /// The square root of the balanced weight: a compromise that still lifts rare classes'
    /// recall without giving up as much accuracy on the common ones.
    SquareRootBalanced,
}

/// What a validation score maximises when choosing regularisation and stopping early.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectionCriterion {
    /// Macro-averaged F1.
    MacroF1,
    /// Negative of the class-weighted mean negative log-likelihood.
    LogLoss,
}

/// Everything that decides how a head is trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingSettings {
    /// The model.
    pub kind: HeadKind,
    /// Seed of the validation carve, initialisation and shuffles.
    pub seed: u64,
    /// Feature standardisation.
    pub standardisation: Standardisation,
    /// Class weights in the loss.
    pub class_weighting: ClassWeighting,
    /// Share of each class's training rows held out for validation.
    pub validation_fraction: f64,
    /// What validation maximises.
    pub selection: SelectionCriterion,
    /// Linear head settings.
    pub linear: LinearSettings,
    /// MLP head settings.
    pub mlp: MlpSettings,
    /// A text head trained beside the embedding head, when asked for (sentiment heads); absent
    /// from the settings of heads trained without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextHeadSettings>,
}

impl Default for TrainingSettings {
    fn default() -> Self {
        Self {
            kind: HeadKind::Linear,
            seed: 20_240_601,
            standardisation: Standardisation::Centre,
            class_weighting: ClassWeighting::SquareRootBalanced,
            validation_fraction: 0.15,
            selection: SelectionCriterion::LogLoss,
            linear: LinearSettings::default(),
            mlp: MlpSettings::default(),
            text: None,
        }
    }
}

/// Labelled training rows.
#[derive(Clone, Copy, Debug)]
pub struct TrainingData<'a> {
    /// One embedding per row.
    pub features: MatrixView<'a>,
    /// Class index per row.
    pub labels: &'a [usize],
    /// Class names, indexed by label.
    pub class_names: &'a [String],
    /// One text per row, for a text head (`None` when the settings ask for none).
    pub texts: Option<&'a [&'a str]>,
}

/// Where the training data and command came from, recorded in the head.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Provenance {
    /// The command line that trained the head.
    pub training_command: String,
    /// Input files and their digests.
    pub data: Vec<DataFingerprint>,
    /// The encoder's model id, when the head is tied to one.
    pub encoder: Option<String>,
}

/// Trains and calibrates a head.
pub fn train_head(
    data: &TrainingData<'_>,
    settings: &TrainingSettings,
    provenance: Provenance,
) -> Result<Head, HeadError> {
    check_inputs(data, settings)?;
    let class_count = data.class_names.len();
    let partition = carve_validation(
        data.labels,
        class_count,
        settings.validation_fraction,
        settings.seed,
    );
    let transform = FeatureTransform::fit(data.features, settings.standardisation);
    let features = transform.apply_matrix(data.features);
    let validation = ValidationSet::new(&features, data.labels, class_count, &partition, settings);
    let trained = match settings.kind {
        HeadKind::Linear => train_linear(&features, data.labels, &partition, &validation, settings),
        HeadKind::Mlp => train_mlp(&features, data.labels, &partition, &validation, settings),
    };
    let temperature = fit_temperature(&trained.validation_logits, &validation.labels);
    let summary = summarise(&partition, &validation, temperature, &trained);
    let text = match (&settings.text, data.texts) {
        (Some(text_settings), Some(texts)) => Some(train_text(
            data,
            texts,
            &partition,
            &validation,
            softmax_rows(&trained.validation_logits, class_count, temperature),
            settings,
            text_settings,
        )),
        _ => None,
    };
    Ok(Head {
        format_version: FORMAT_VERSION,
        class_names: data.class_names.to_vec(),
        transform,
        model: trained.model,
        temperature,
        metadata: HeadMetadata {
            crate_version: env!("CARGO_PKG_VERSION").to_string(),
            training_command: provenance.training_command,
            data: provenance.data,
            encoder: provenance.encoder,
            settings: settings.clone(),
            summary,
        },
        text,
    })
}

/// The text head beside the embedding head just trained: same rows, same validation split,
/// same class weights, mixed with the embedding head's calibrated validation probabilities.
fn train_text(
    data: &TrainingData<'_>,
    texts: &[&str],
    partition: &Partition,
    validation: &ValidationSet,
    embedding_validation: Vec<f32>,
    settings: &TrainingSettings,
    text_settings: &TextHeadSettings,
) -> TextHead {
    let rows: Vec<_> = texts
        .par_iter()
        .map(|text| text_settings.ngrams.row(text))
        .collect();
    let class_count = data.class_names.len();
    let all_weights = class_weights(data.labels, class_count, settings.class_weighting);
    train_text_head(
        &TextTrainingData {
            rows: &rows,
            labels: data.labels,
            partition,
            fit_class_weights: validation.class_weights(),
            all_class_weights: &all_weights,
            embedding_validation: &embedding_validation,
        },
        text_settings,
    )
}

/// The training summary recorded in the head's metadata.
fn summarise(
    partition: &Partition,
    validation: &ValidationSet,
    temperature: f32,
    trained: &TrainedModel,
) -> TrainingSummary {
    let validation_nll = |temperature: f64| {
        mean_negative_log_likelihood(&trained.validation_logits, &validation.labels, temperature)
    };
    TrainingSummary {
        fit_rows: partition.fit.len(),
        validation_rows: partition.validation.len(),
        final_rows: trained.final_rows,
        class_weights: trained.class_weights.clone(),
        candidates: trained.candidates.clone(),
        chosen_regularisation: trained.regularisation,
        epochs: trained.epochs,
        validation_nll_uncalibrated: validation_nll(1.0),
        validation_nll_calibrated: validation_nll(temperature as f64),
    }
}

/// Loss weight of each class over `labels` (each class present at least once).
pub fn class_weights(labels: &[usize], class_count: usize, weighting: ClassWeighting) -> Vec<f64> {
    let mut counts = vec![0usize; class_count];
    labels.iter().for_each(|&label| counts[label] += 1);
    let balanced = |count: usize| labels.len() as f64 / (class_count as f64 * count.max(1) as f64);
    counts
        .iter()
        .map(|&count| match weighting {
            ClassWeighting::Uniform => 1.0,
            ClassWeighting::Balanced => balanced(count),
            ClassWeighting::SquareRootBalanced => balanced(count).sqrt(),
        })
        .collect()
}

fn check_inputs(data: &TrainingData<'_>, settings: &TrainingSettings) -> Result<(), HeadError> {
    let class_count = data.class_names.len();
    if class_count < 2 {
        return Err(HeadError::TooFewClasses(class_count));
    }
    if data.features.rows() != data.labels.len() {
        return Err(HeadError::LabelCount {
            rows: data.features.rows(),
            labels: data.labels.len(),
        });
    }
    if let Some((row, &label)) = data
        .labels
        .iter()
        .enumerate()
        .find(|(_, &label)| label >= class_count)
    {
        return Err(HeadError::LabelOutOfRange {
            row,
            label,
            class_count,
        });
    }
    match (&settings.text, data.texts) {
        (Some(_), None) => {
            return Err(HeadError::Setting {
                name: "text",
                reason: "a text head needs the rows' texts".to_string(),
            })
        }
        (Some(_), Some(texts)) if texts.len() != data.labels.len() => {
            return Err(HeadError::TextCount {
                texts: texts.len(),
                labels: data.labels.len(),
            })
        }
        _ => {}
    }
    let mut counts = vec![0usize; class_count];
    data.labels.iter().for_each(|&label| counts[label] += 1);
    if let Some(class) = counts.iter().position(|&count| count < 2) {
        let name = data.class_names[class].clone();
        return Err(HeadError::SparseClass {
            name,
            rows: counts[class],
            needed: 2,
        });
    }
    check_settings(settings)
}

fn check_settings(settings: &TrainingSettings) -> Result<(), HeadError> {
    let invalid = |name, reason: &str| {
        Err(HeadError::Setting {
            name,
            reason: reason.to_string(),
        })
    };
    if !(settings.validation_fraction > 0.0 && settings.validation_fraction < 1.0) {
        return invalid("validation_fraction", "must be strictly between 0 and 1");
    }
    let grid = match settings.kind {
        HeadKind::Linear => &settings.linear.l2_grid,
        HeadKind::Mlp => &settings.mlp.weight_decay_grid,
    };
    if grid.is_empty()
        || grid
            .iter()
            .any(|value| !(value.is_finite() && *value >= 0.0))
    {
        return invalid(
            "regularisation grid",
            "needs at least one finite, non-negative value",
        );
    }
    if settings.kind == HeadKind::Mlp
        && (settings.mlp.hidden_units == 0 || settings.mlp.batch_size == 0)
    {
        return invalid("mlp", "hidden_units and batch_size must be positive");
    }
    if let Some(problem) = settings.text.as_ref().and_then(TextHeadSettings::problem) {
        return invalid("text", &problem);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::learn::matrix::Matrix;
    use crate::classify::learn::softmax::argmax;
    use crate::classify::learn::synthetic::{gaussian_classes, SyntheticSpec};

    fn names(count: usize) -> Vec<String> {
        (0..count).map(|class| format!("class{class}")).collect()
    }

    fn blobs(separation: f64, seed: u64) -> (Matrix, Vec<usize>) {
        let spec = SyntheticSpec {
            rows_per_class: vec![300, 120, 180],
            dimension: 32,
            separation,
            seed,
        };
        gaussian_classes(&spec)
    }

    /// Every fifth row is a test row.
    fn split(matrix: &Matrix, labels: &[usize]) -> (Matrix, Vec<usize>, Matrix, Vec<usize>) {
        let (test, train): (Vec<usize>, Vec<usize>) =
            (0..labels.len()).partition(|row| row % 5 == 0);
        let pick = |rows: &[usize]| rows.iter().map(|&row| labels[row]).collect::<Vec<_>>();
        (
            matrix.view().select_rows(&train),
            pick(&train),
            matrix.view().select_rows(&test),
            pick(&test),
        )
    }

    fn small_mlp(kind: HeadKind) -> TrainingSettings {
        let mlp = MlpSettings {
            hidden_units: 16,
            max_epochs: 40,
            patience: 5,
            batch_size: 32,
            input_dropout: 0.05,
            ..MlpSettings::default()
        };
        TrainingSettings {
            kind,
            mlp,
            ..TrainingSettings::default()
        }
    }

    fn test_accuracy(head: &Head, matrix: &Matrix, labels: &[usize]) -> f64 {
        let correct = (0..labels.len())
            .filter(|&row| head.predict_class(matrix.row(row)) == labels[row])
            .count();
        correct as f64 / labels.len() as f64
    }

    fn train(matrix: &Matrix, labels: &[usize], settings: &TrainingSettings) -> Head {
        let class_names = names(3);
        let data = TrainingData {
            features: matrix.view(),
            labels,
            class_names: &class_names,
            texts: None,
        };
        train_head(&data, settings, Provenance::default()).unwrap()
    }

    #[test]
    fn linear_head_separates_separable_classes() {
        let (matrix, labels) = blobs(4.0, 1);
        let (train_rows, train_labels, test_rows, test_labels) = split(&matrix, &labels);
        let head = train(&train_rows, &train_labels, &TrainingSettings::default());
        assert_eq!(test_accuracy(&head, &test_rows, &test_labels), 1.0);
        let summary = &head.metadata.summary;
        assert_eq!(
            summary.candidates.len(),
            TrainingSettings::default().linear.l2_grid.len()
        );
        assert_eq!(summary.final_rows, train_labels.len());
        assert_eq!(
            summary.fit_rows + summary.validation_rows,
            train_labels.len()
        );
    }

    #[test]
    fn training_is_deterministic_on_any_thread_count() {
        let (matrix, labels) = blobs(1.0, 2);
        for kind in [HeadKind::Linear, HeadKind::Mlp] {
            let settings = small_mlp(kind);
            let first = train(&matrix, &labels, &settings).to_json();
            let single_thread = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap();
            let second = single_thread.install(|| train(&matrix, &labels, &settings).to_json());
            assert_eq!(first, second, "{kind:?} head differs between runs");
            let reseeded = TrainingSettings {
                seed: settings.seed + 1,
                ..settings
            };
            assert_ne!(first, train(&matrix, &labels, &reseeded).to_json());
        }
    }

    #[test]
    fn calibration_lowers_validation_loss_on_noisy_classes() {
        let (matrix, labels) = blobs(0.6, 3);
        let settings = TrainingSettings {
            linear: LinearSettings {
                l2_grid: vec![1e-6],
                ..LinearSettings::default()
            },
            ..TrainingSettings::default()
        };
        let head = train(&matrix, &labels, &settings);
        let summary = &head.metadata.summary;
        assert!(
            head.temperature > 1.0,
            "an almost unregularised fit should be overconfident"
        );
        assert!(summary.validation_nll_calibrated < summary.validation_nll_uncalibrated);
    }

    #[test]
    fn mlp_learns_what_a_linear_head_cannot() {
        let mut random = crate::classify::learn::random::SeededRandom::new(4);
        let mut data = Vec::new();
        let mut labels = Vec::new();
        for _ in 0..800 {
            let (x, y) = (random.uniform(-1.0, 1.0), random.uniform(-1.0, 1.0));
            data.extend([x as f32, y as f32, random.normal() as f32 * 0.1]);
            labels.push(if x * x + y * y < 0.15 {
                2
            } else {
                usize::from(x * y > 0.0)
            });
        }
        let matrix = Matrix::new(data, 3).unwrap();
        let (train_rows, train_labels, test_rows, test_labels) = split(&matrix, &labels);
        let linear = train(&train_rows, &train_labels, &small_mlp(HeadKind::Linear));
        let mlp = train(&train_rows, &train_labels, &small_mlp(HeadKind::Mlp));
        let linear_accuracy = test_accuracy(&linear, &test_rows, &test_labels);
        let mlp_accuracy = test_accuracy(&mlp, &test_rows, &test_labels);
        assert!(
            mlp_accuracy > 0.9 && mlp_accuracy > linear_accuracy + 0.15,
            "mlp {mlp_accuracy}, linear {linear_accuracy}"
        );
        assert!(mlp.metadata.summary.epochs.is_some());
    }

    #[test]
    fn balanced_weights_follow_class_sizes() {
        let weights = class_weights(&[0, 0, 0, 1], 2, ClassWeighting::Balanced);
        assert_eq!(weights, vec![4.0 / 6.0, 2.0]);
        assert_eq!(
            class_weights(&[0, 1, 1], 2, ClassWeighting::Uniform),
            vec![1.0, 1.0]
        );
    }

    #[test]
    fn bad_inputs_are_refused() {
        let matrix = Matrix::new(vec![0.0; 12], 2).unwrap();
        let class_names = names(3);
        let settings = TrainingSettings::default();
        let refused = |labels: &[usize]| {
            let data = TrainingData {
                features: matrix.view(),
                labels,
                class_names: &class_names,
                texts: None,
            };
            train_head(&data, &settings, Provenance::default()).unwrap_err()
        };
        assert!(matches!(refused(&[0, 1, 2]), HeadError::LabelCount { .. }));
        assert!(matches!(
            refused(&[0, 0, 1, 1, 2, 3]),
            HeadError::LabelOutOfRange { row: 5, .. }
        ));
        assert!(matches!(
            refused(&[0, 0, 1, 1, 1, 2]),
            HeadError::SparseClass { .. }
        ));
        let one_class = TrainingData {
            features: matrix.view(),
            labels: &[0; 6],
            class_names: &class_names[..1],
            texts: None,
        };
        assert!(matches!(
            train_head(&one_class, &settings, Provenance::default()),
            Err(HeadError::TooFewClasses(1))
        ));
    }

    #[test]
    fn head_round_trips_and_predicts_probabilities() {
        let (matrix, labels) = blobs(1.0, 5);
        let head = train(&matrix, &labels, &small_mlp(HeadKind::Mlp));
        let reloaded = Head::from_json(&head.to_json()).unwrap();
        assert_eq!(reloaded, head);
        let batch = head.predict_batch(matrix.view()).unwrap();
        for row in [0, 7, 99] {
            let single = head.predict(matrix.row(row));
            assert!((single.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            assert_eq!(&batch[row * 3..row * 3 + 3], single.as_slice());
        }
        let wrong = Matrix::new(vec![0.0; 10], 5).unwrap();
        assert!(matches!(
            head.predict_batch(wrong.view()),
            Err(HeadError::Dimension {
                expected: 32,
                actual: 5
            })
        ));
    }

    /// Rows whose embeddings are noise and whose texts say the class.
    fn telling_texts(rows: usize) -> (Matrix, Vec<usize>, Vec<String>) {
        let mut random = crate::classify::learn::random::SeededRandom::new(9);
        let words = [["很差", "失望", "退货"], ["很好", "满意", "推荐"]];
        let mut data = Vec::with_capacity(rows * 8);
        let (mut labels, mut texts) = (Vec::new(), Vec::new());
        for row in 0..rows {
            let label = row % 2;
            data.extend((0..8).map(|_| random.normal() as f32));
            labels.push(label);
            let word = words[label][random.below(3)];
            texts.push(format!("订单{} {word}", random.below(1000)));
        }
        (Matrix::new(data, 8).unwrap(), labels, texts)
    }

    fn text_settings() -> TrainingSettings {
        TrainingSettings {
            text: Some(TextHeadSettings {
                ngrams: crate::classify::learn::ngrams::NgramSettings {
                    buckets: 1 << 12,
                    ..Default::default()
                },
                l2_grid: vec![1e-4, 1e-5],
                ..TextHeadSettings::default()
            }),
            ..TrainingSettings::default()
        }
    }

    #[test]
    fn a_text_head_reads_what_the_embeddings_miss_the_same_way_on_any_thread_count() {
        // More rows than one block of the sparse gradient, so several partial sums are added.
        let (matrix, labels, texts) = telling_texts(2_400);
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let class_names = names(2);
        let data = TrainingData {
            features: matrix.view(),
            labels: &labels,
            class_names: &class_names,
            texts: Some(&texts),
        };
        let settings = text_settings();
        let head = train_head(&data, &settings, Provenance::default()).unwrap();
        let single_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let again = single_thread.install(|| {
            train_head(&data, &settings, Provenance::default())
                .unwrap()
                .to_json()
        });
        assert_eq!(head.to_json(), again);
        let text_head = head.text.as_ref().expect("a text head was asked for");
        assert!(text_head.share >= 0.8, "{:?}", text_head.summary);
        let right = |predict: &dyn Fn(usize) -> Vec<f32>| {
            (0..labels.len())
                .filter(|&row| argmax(&predict(row)) == labels[row])
                .count()
        };
        let by_embedding = right(&|row| head.predict(matrix.row(row)));
        let by_document = right(&|row| head.predict_document(matrix.row(row), texts[row]));
        assert_eq!(by_document, labels.len(), "embedding alone: {by_embedding}");
        assert!(by_embedding < labels.len() * 3 / 4, "{by_embedding}");
    }

    #[test]
    fn a_text_head_needs_one_text_per_row() {
        let (matrix, labels, texts) = telling_texts(40);
        let class_names = names(2);
        let mut data = TrainingData {
            features: matrix.view(),
            labels: &labels,
            class_names: &class_names,
            texts: None,
        };
        let error = train_head(&data, &text_settings(), Provenance::default()).unwrap_err();
        assert!(
            matches!(error, HeadError::Setting { name: "text", .. }),
            "{error}"
        );
        let short: Vec<&str> = texts.iter().take(39).map(String::as_str).collect();
        data.texts = Some(&short);
        let error = train_head(&data, &text_settings(), Provenance::default()).unwrap_err();
        assert!(
            matches!(
                error,
                HeadError::TextCount {
                    texts: 39,
                    labels: 40
                }
            ),
            "{error}"
        );
        let all: Vec<&str> = texts.iter().map(String::as_str).collect();
        data.texts = Some(&all);
        let empty_grid = TrainingSettings {
            text: Some(TextHeadSettings {
                share_grid: Vec::new(),
                ..TextHeadSettings::default()
            }),
            ..TrainingSettings::default()
        };
        let error = train_head(&data, &empty_grid, Provenance::default()).unwrap_err();
        assert!(error.to_string().contains("share grid"), "{error}");
    }
}
