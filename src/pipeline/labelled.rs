//! `vocmine train` and `vocmine eval`: labelled files in (any format `mine` reads, with a text and
//! a label column), embedded through the user cache, split by the rule in DESIGN.md (test when
//! the first byte of sha256 of the raw text is below 0x33), then a head trained on the training
//! rows or heads scored on the test rows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::documents::{read_documents, ReadDocuments};
use super::embed::open_and_embed;
use crate::classify::learn::head::DataFingerprint;
use crate::classify::learn::train::{train_head, Provenance, TrainingData, TrainingSettings};
use crate::classify::learn::{ClassificationReport, Head, MatrixView};
use crate::classify::sentiment::SentimentModel;
use crate::classify::ClassifyError;
use crate::encode::EncodeReport;
use crate::ingest::IngestSettings;
use crate::model::bert::BertSettings;
use crate::model::{Embeddings, ModelChoice};
use crate::progress::Progress;
use crate::Result;

/// Where labelled rows come from and how they are embedded.
#[derive(Debug, Clone)]
pub struct LabelledSettings {
    /// Labelled files.
    pub inputs: Vec<PathBuf>,
    /// How they are read; `columns.text` and `columns.label` name the two columns.
    pub ingest: IngestSettings,
    /// Data label -> class name, for files whose labels differ from the head's.
    pub mapping: BTreeMap<String, String>,
    /// The encoder.
    pub model: ModelChoice,
    /// How it runs.
    pub encoder: BertSettings,
    /// The embedding cache root.
    pub cache_root: PathBuf,
}

/// Labelled rows with their embeddings.
#[derive(Debug)]
pub struct Labelled {
    /// The rows as read.
    pub read: ReadDocuments,
    /// One class name per document (after the mapping).
    pub labels: Vec<String>,
    /// One embedding per document.
    pub embeddings: Embeddings,
    /// What the encoder did.
    pub encode: EncodeReport,
    /// The encoder's model id.
    pub model_id: String,
}

/// Which rows of a labelled file are kept (and embedded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The rows heads train on.
    Train,
    /// The rows heads are scored on.
    Test,
    /// Every row.
    All,
}

impl Split {
    fn keeps(self, in_test_split: bool) -> bool {
        match self {
            Split::Train => !in_test_split,
            Split::Test => in_test_split,
            Split::All => true,
        }
    }

    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
            Split::All => "all",
        }
    }
}

/// Reads, checks and embeds the rows of `split` in labelled files (only those rows are embedded).
/// A row without a label is an error naming its file and line (a label file with holes would
/// silently bias training and scores).
pub fn read_labelled(
    settings: &LabelledSettings,
    split: Split,
    progress: &dyn Progress,
) -> Result<Labelled> {
    let mut read = read_documents(&settings.inputs, &settings.ingest, progress)?;
    let kept: Vec<bool> = read
        .in_test_split
        .iter()
        .map(|&test| split.keeps(test))
        .collect();
    let mut keep = kept.iter();
    read.documents
        .retain(|_| *keep.next().expect("one flag per document"));
    read.in_test_split.retain(|&test| split.keeps(test));
    let mut labels = Vec::with_capacity(read.documents.len());
    for document in &read.documents {
        let label =
            document
                .metadata
                .label
                .as_deref()
                .ok_or_else(|| ClassifyError::MissingLabel {
                    file: document.origin.file.clone(),
                    line: document.origin.line,
                })?;
        let label = label.trim();
        labels.push(
            settings
                .mapping
                .get(label)
                .cloned()
                .unwrap_or_else(|| label.to_string()),
        );
    }
    let (embeddings, encode, model_id) = open_and_embed(
        &read.documents,
        settings.model,
        &settings.encoder,
        &settings.cache_root,
        progress,
    )?;
    Ok(Labelled {
        read,
        labels,
        embeddings,
        encode,
        model_id,
    })
}

/// Trains a head on `labelled` (read with [`Split::Train`]); classes are the sorted distinct
/// labels. `record_encoder` ties the head to the encoder's model id (topic heads in a
/// workspace); the shipped sentiment heads predate the field and leave it out.
pub fn train_on(
    labelled: &Labelled,
    inputs: &[PathBuf],
    training: &TrainingSettings,
    command: &str,
    record_encoder: bool,
) -> Result<Head> {
    let rows: Vec<usize> = (0..labelled.labels.len()).collect();
    let class_names: Vec<String> = rows
        .iter()
        .map(|&index| labelled.labels[index].clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let dimension = labelled.embeddings.dimension();
    let mut features = Vec::with_capacity(rows.len() * dimension);
    let mut labels = Vec::with_capacity(rows.len());
    for &index in &rows {
        features.extend_from_slice(labelled.embeddings.row(index));
        let class = class_names
            .iter()
            .position(|name| *name == labelled.labels[index])
            .expect("class names come from these labels");
        labels.push(class);
    }
    let view = MatrixView::new(&features, dimension).map_err(ClassifyError::Head)?;
    let texts: Vec<&str> = rows
        .iter()
        .map(|&index| labelled.read.documents[index].text.as_str())
        .collect();
    let data = TrainingData {
        features: view,
        labels: &labels,
        class_names: &class_names,
        texts: training.text.is_some().then_some(&texts[..]),
    };
    let provenance = Provenance {
        training_command: command.to_string(),
        data: inputs
            .iter()
            .map(|path| fingerprint(path))
            .collect::<Result<_>>()?,
        encoder: record_encoder.then(|| labelled.model_id.clone()),
    };
    Ok(train_head(&data, training, provenance).map_err(ClassifyError::Head)?)
}

fn fingerprint(path: &Path) -> Result<DataFingerprint> {
    let bytes = std::fs::read(path).map_err(|source| crate::ingest::IngestError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(DataFingerprint {
        path: path.file_name().map_or_else(
            || path.display().to_string(),
            |name| name.to_string_lossy().into(),
        ),
        sha256: format!("{:x}", Sha256::digest(&bytes)),
    })
}

/// Scores of one evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// `sentiment` or `topic`.
    pub task: String,
    /// `three-class`, `binary` (negative / positive only: the larger of the two probabilities
    /// wins) or `topics`.
    pub mode: String,
    /// Which rows were scored: `test` or `all`.
    pub split: String,
    /// Accuracy, macro-F1, per class, confusion.
    pub scores: ClassificationReport,
}

/// Scores the sentiment heads on every row of `labelled`, read with `split`.
pub fn evaluate_sentiment(
    model: &SentimentModel,
    labelled: &Labelled,
    split: Split,
) -> Result<EvalReport> {
    let rows: Vec<usize> = (0..labelled.labels.len()).collect();
    let rows = &rows[..];
    let known = ["negative", "neutral", "positive"];
    check_labels(labelled, rows, &known)?;
    let binary = rows
        .iter()
        .all(|&index| labelled.labels[index] != "neutral");
    let class_names: Vec<String> = if binary {
        vec!["negative".into(), "positive".into()]
    } else {
        known.iter().map(|name| name.to_string()).collect()
    };
    let mut truth = Vec::with_capacity(rows.len());
    let mut predicted = Vec::with_capacity(rows.len());
    for &index in rows {
        let document = &labelled.read.documents[index];
        let head = model.head_for(document.language);
        let probabilities = head.predict_document(labelled.embeddings.row(index), &document.text);
        let guess = if binary {
            binary_choice(head, &probabilities)
        } else {
            crate::classify::sentiment::label_name(
                crate::classify::sentiment::decide(head, &probabilities).label,
            )
        };
        truth.push(position(&class_names, &labelled.labels[index]));
        predicted.push(position(&class_names, guess));
    }
    let scores = ClassificationReport::compute(&truth, &predicted, &class_names)
        .map_err(ClassifyError::Head)?;
    Ok(EvalReport {
        task: "sentiment".into(),
        mode: if binary { "binary" } else { "three-class" }.into(),
        split: split.name().into(),
        scores,
    })
}

/// Binary mode: the larger of the negative and positive probabilities wins.
fn binary_choice(head: &Head, probabilities: &[f32]) -> &'static str {
    let probability = |name: &str| {
        head.class_names
            .iter()
            .position(|class| class == name)
            .map_or(0.0, |index| probabilities[index])
    };
    if probability("positive") > probability("negative") {
        "positive"
    } else {
        "negative"
    }
}

fn position(class_names: &[String], label: &str) -> usize {
    class_names
        .iter()
        .position(|name| name == label)
        .expect("labels were checked")
}

/// Every label of `rows` must be one of `known`; the first that is not is reported with its
/// file and line.
pub fn check_labels(labelled: &Labelled, rows: &[usize], known: &[&str]) -> Result<()> {
    for &index in rows {
        let label = &labelled.labels[index];
        if !known.contains(&label.as_str()) {
            let origin = &labelled.read.documents[index].origin;
            return Err(ClassifyError::UnknownLabel {
                file: origin.file.clone(),
                line: origin.line,
                label: label.clone(),
                known: known.join(", "),
            }
            .into());
        }
    }
    Ok(())
}
