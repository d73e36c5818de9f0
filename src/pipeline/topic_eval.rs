//! `vocmine eval --task topic`: topic accuracy and macro-F1 on a labelled file, two ways.
//! Zero-shot: each row gets the topic of its nearest prototype (the taxonomy's embedded
//! descriptions and examples), with no `other` threshold, since every row has a real label.
//! Supervised: K-fold cross-validation of a head trained by vocmine's learner on the rows'
//! embeddings; folds are stratified by label, rows ordered by content hash, so the folds are the
//! same on every run.

use super::labelled::{EvalReport, Labelled};
use crate::classify::learn::train::{train_head, Provenance, TrainingData, TrainingSettings};
use crate::classify::learn::{ClassificationReport, Head, MatrixView};
use crate::classify::{ClassifyError, TopicModel, TopicPrototypes};
use crate::Result;

/// Scores the nearest-prototype topic of every row against its label, refined over all rows
/// when `refinement` gives a minimum of documents per topic (as `mine` does with
/// `[classify] refine_topics`).
pub fn evaluate_zero_shot_topics(
    labelled: &Labelled,
    prototypes: &TopicPrototypes,
    refinement: Option<usize>,
) -> Result<EvalReport> {
    let class_names = prototypes.names().to_vec();
    let known: Vec<&str> = class_names.iter().map(String::as_str).collect();
    let rows: Vec<usize> = (0..labelled.labels.len()).collect();
    super::labelled::check_labels(labelled, &rows, &known)?;
    let truth: Vec<usize> = rows
        .iter()
        .map(|&row| position(&class_names, &labelled.labels[row]))
        .collect();
    let model = TopicModel::ZeroShot(prototypes.clone());
    let predicted: Vec<usize> = model
        .choose_all(&labelled.embeddings, refinement)
        .iter()
        .map(|choice| position(&class_names, &choice.topic))
        .collect();
    let mode = match refinement {
        Some(_) => "zero-shot, nearest prototype, refined on the rows",
        None => "zero-shot, nearest prototype",
    };
    report(mode, &truth, &predicted, &class_names)
}

/// K-fold cross-validation of a supervised head over every row.
pub fn cross_validate_topics(
    labelled: &Labelled,
    folds: usize,
    training: &TrainingSettings,
) -> Result<EvalReport> {
    let class_names: Vec<String> = labelled
        .labels
        .iter()
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let labels: Vec<usize> = labelled
        .labels
        .iter()
        .map(|label| position(&class_names, label))
        .collect();
    let fold_of = stratified_folds(labelled, &labels, folds.max(2));
    let mut predicted = vec![0usize; labels.len()];
    for fold in 0..folds.max(2) {
        let (train, test): (Vec<usize>, Vec<usize>) =
            (0..labels.len()).partition(|&row| fold_of[row] != fold);
        let head = train_fold(labelled, &labels, &class_names, &train, training)?;
        for row in test {
            predicted[row] = head.predict_class(labelled.embeddings.row(row));
        }
    }
    report(
        &format!("supervised, {}-fold cross-validation", folds.max(2)),
        &labels,
        &predicted,
        &class_names,
    )
}

fn train_fold(
    labelled: &Labelled,
    labels: &[usize],
    class_names: &[String],
    rows: &[usize],
    training: &TrainingSettings,
) -> Result<Head> {
    let dimension = labelled.embeddings.dimension();
    let features: Vec<f32> = rows
        .iter()
        .flat_map(|&row| labelled.embeddings.row(row).iter().copied())
        .collect();
    let fold_labels: Vec<usize> = rows.iter().map(|&row| labels[row]).collect();
    let view = MatrixView::new(&features, dimension).map_err(ClassifyError::Head)?;
    let data = TrainingData {
        features: view,
        labels: &fold_labels,
        class_names,
        texts: None,
    };
    Ok(train_head(&data, training, Provenance::default()).map_err(ClassifyError::Head)?)
}

/// Fold of every row: within each label, rows in content-hash order are dealt round-robin.
fn stratified_folds(labelled: &Labelled, labels: &[usize], folds: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|&a, &b| {
        let documents = &labelled.read.documents;
        (labels[a], &documents[a].content_hash, a).cmp(&(labels[b], &documents[b].content_hash, b))
    });
    let mut fold_of = vec![0; labels.len()];
    let mut dealt = 0;
    for (position, &row) in order.iter().enumerate() {
        if position > 0 && labels[order[position - 1]] != labels[row] {
            dealt = 0;
        }
        fold_of[row] = dealt % folds;
        dealt += 1;
    }
    fold_of
}

fn report(
    mode: &str,
    truth: &[usize],
    predicted: &[usize],
    class_names: &[String],
) -> Result<EvalReport> {
    let scores = ClassificationReport::compute(truth, predicted, class_names)
        .map_err(ClassifyError::Head)?;
    Ok(EvalReport {
        task: "topic".into(),
        mode: mode.into(),
        split: "all".into(),
        scores,
    })
}

fn position(class_names: &[String], label: &str) -> usize {
    class_names
        .iter()
        .position(|name| name == label)
        .expect("labels were checked against the class names")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TopicConfig;
    use crate::document::{Feedback, Origin};
    use crate::encode::EncodeReport;
    use crate::model::hashing::HashingEncoder;
    use crate::model::Encoder;
    use crate::pipeline::ReadDocuments;

    /// Rows about brakes or about invoices, embedded by the hashing encoder.
    fn labelled() -> Labelled {
        let mut texts = Vec::new();
        let mut labels = Vec::new();
        for item in 0..40 {
            texts.push(format!("brake pedal squeal noise {item}"));
            labels.push("repair".to_string());
            texts.push(format!("invoice charged twice fee {item}"));
            labels.push("billing".to_string());
        }
        let documents: Vec<_> = texts
            .iter()
            .map(|text| {
                crate::normalise::normalise(Feedback {
                    text: text.clone(),
                    metadata: Default::default(),
                    origin: Origin {
                        file: "labels.csv".into(),
                        line: 1,
                    },
                })
            })
            .collect();
        let references: Vec<&str> = texts.iter().map(String::as_str).collect();
        let embeddings = HashingEncoder::new(64).encode(&references).unwrap();
        Labelled {
            read: ReadDocuments {
                in_test_split: vec![false; documents.len()],
                documents,
                ..ReadDocuments::default()
            },
            labels,
            embeddings,
            encode: EncodeReport::default(),
            model_id: "hashing-64".into(),
        }
    }

    #[test]
    fn separable_topics_are_learnt_in_every_fold() {
        let report = cross_validate_topics(&labelled(), 4, &TrainingSettings::default()).unwrap();
        assert_eq!(report.scores.rows, 80);
        assert!(report.scores.accuracy > 0.95, "{}", report.scores.accuracy);
    }

    #[test]
    fn folds_are_stratified_and_balanced() {
        let labelled = labelled();
        let labels: Vec<usize> = labelled
            .labels
            .iter()
            .map(|label| usize::from(label == "repair"))
            .collect();
        let folds = stratified_folds(&labelled, &labels, 4);
        for fold in 0..4 {
            for class in 0..2 {
                let count = (0..80)
                    .filter(|&row| folds[row] == fold && labels[row] == class)
                    .count();
                assert_eq!(count, 10, "fold {fold} class {class}");
            }
        }
    }

    #[test]
    fn zero_shot_uses_the_nearest_prototype_and_rejects_unknown_labels() {
        let labelled = labelled();
        let topics = [
            TopicConfig {
                name: "repair".into(),
                description_en: "brake pedal squeal".into(),
                ..TopicConfig::default()
            },
            TopicConfig {
                name: "billing".into(),
                description_en: "invoice charged twice".into(),
                ..TopicConfig::default()
            },
        ];
        let mut encoder = HashingEncoder::new(64);
        let prototypes = TopicPrototypes::build(&topics, &mut encoder, f32::NEG_INFINITY).unwrap();
        for refinement in [None, Some(5)] {
            let report = evaluate_zero_shot_topics(&labelled, &prototypes, refinement).unwrap();
            assert!(report.scores.accuracy > 0.95, "{}", report.scores.accuracy);
        }
        let only_repair = TopicPrototypes::build(&topics[..1], &mut encoder, 0.0).unwrap();
        assert!(evaluate_zero_shot_topics(&labelled, &only_repair, None).is_err());
    }
}
