//! The classify stage: embeddings in, a topic (and sentiment) per document out. Everything is
//! computed from the document's sentence embedding, so one transformer pass per document serves
//! classification and clustering. Topics come from the taxonomy's prototypes ([`topic`]).

pub mod learn;
pub mod sentiment;
pub mod topic;
pub mod tune;

use std::collections::BTreeMap;

use serde::Serialize;

pub use topic::{TopicChoice, TopicModel, TopicPrototypes, OTHER_TOPIC};

use crate::document::{Enrichment, Language};
use crate::model::Embeddings;
use sentiment::SentimentModel;

/// Errors of training and evaluating heads on labelled files.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    /// A labelled row has no label.
    #[error("{file}, line {line}: the label is empty; every row of a labelled file needs one")]
    MissingLabel {
        /// The file.
        file: String,
        /// The row's line.
        line: u64,
    },
    /// A label is not one the task knows.
    #[error("{file}, line {line}: unknown label '{label}' (expected one of: {known}); map your labels with --mapping FILE")]
    UnknownLabel {
        /// The file.
        file: String,
        /// The row's line.
        line: u64,
        /// The label found.
        label: String,
        /// The labels the task knows.
        known: String,
    },
    /// A label mapping file is malformed.
    #[error("{path}, line {line}: {reason}")]
    Mapping {
        /// The mapping file.
        path: std::path::PathBuf,
        /// The line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The encoder's embeddings do not fit the heads.
    #[error("the encoder gives {found}-dimension embeddings but the {heads} expect {expected}: use the encoder the heads were trained with, or train heads for this one")]
    Dimension {
        /// Which heads.
        heads: &'static str,
        /// What the heads take.
        expected: usize,
        /// What the encoder gives.
        found: usize,
    },
    /// A workspace's topic head was trained on another encoder's embeddings.
    #[error("the topic head {path} was trained on {trained} embeddings but the workspace encodes with {workspace}: run `vocmine train topic` again, or delete the head to use the taxonomy's prototypes")]
    TopicEncoder {
        /// The head file.
        path: std::path::PathBuf,
        /// The encoder the head was trained with.
        trained: String,
        /// The workspace's encoder.
        workspace: String,
    },
    /// Training, loading or saving a head failed.
    #[error(transparent)]
    Head(#[from] learn::HeadError),
}

/// Everything the classify stage needs, built once per run.
#[derive(Debug, Clone)]
pub struct Classifier {
    topics: TopicModel,
    sentiment: SentimentModel,
    /// Minimum documents for a topic's centre to move, when prototypes are refined.
    refinement: Option<usize>,
}

/// How many documents got each label.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClassifyReport {
    /// Documents per sentiment.
    pub sentiment: BTreeMap<String, u64>,
    /// Documents per topic.
    pub topic: BTreeMap<String, u64>,
}

impl Classifier {
    /// A classifier with this topic model and these sentiment heads, for embeddings of
    /// `dimension` values.
    pub fn new(
        topics: TopicModel,
        sentiment: SentimentModel,
        dimension: usize,
    ) -> Result<Self, ClassifyError> {
        let expectations = [
            ("sentiment heads", Some(sentiment.input_dimension())),
            ("topic head", topics.input_dimension()),
        ];
        for (heads, expected) in expectations {
            match expected {
                Some(expected) if expected != dimension => {
                    return Err(ClassifyError::Dimension {
                        heads,
                        expected,
                        found: dimension,
                    })
                }
                _ => {}
            }
        }
        Ok(Classifier {
            topics,
            sentiment,
            refinement: None,
        })
    }

    /// Refines zero-shot topics over each batch ([`topic::refine`]) with this minimum of
    /// documents per topic; `None` keeps each document's nearest prototype.
    pub fn with_refinement(mut self, min_documents: Option<usize>) -> Self {
        self.refinement = min_documents;
        self
    }

    /// The enrichment of every document (row of `embeddings`, in order, with its language and
    /// text), and the label counts.
    pub fn classify(
        &self,
        embeddings: &Embeddings,
        languages: &[Language],
        texts: &[&str],
    ) -> (Vec<Enrichment>, ClassifyReport) {
        assert_eq!(
            (languages.len(), texts.len()),
            (embeddings.len(), embeddings.len()),
            "one language and one text per embedding"
        );
        let mut report = ClassifyReport::default();
        let topics = self.topics.choose_all(embeddings, self.refinement);
        let enrichments = embeddings
            .rows()
            .zip(languages.iter().zip(texts))
            .zip(topics)
            .map(|((row, (&language, text)), topic)| {
                let topic = topic.topic;
                let sentiment = self.sentiment.predict(row, text, language);
                let label = sentiment::label_name(sentiment.label).to_string();
                *report.topic.entry(topic.clone()).or_default() += 1;
                *report.sentiment.entry(label.clone()).or_default() += 1;
                Enrichment {
                    sentiment: Some(label),
                    sentiment_score: Some(f64::from(sentiment.score)),
                    topic: Some(topic),
                    ..Enrichment::default()
                }
            })
            .collect();
        (enrichments, report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::hashing::HashingEncoder;
    use crate::model::Encoder;

    #[test]
    fn embeddings_of_another_width_are_refused_with_a_reason() {
        let mut encoder = HashingEncoder::new(16);
        let prototypes = TopicPrototypes::build(&[], &mut encoder, 0.5).unwrap();
        let error = Classifier::new(
            TopicModel::ZeroShot(prototypes),
            SentimentModel::shipped(),
            16,
        )
        .unwrap_err();
        assert!(error.to_string().contains("expect 384"), "{error}");
    }

    #[test]
    fn every_document_gets_a_sentiment_and_a_topic() {
        let mut encoder = HashingEncoder::new(384);
        let topics = [crate::config::TopicConfig {
            name: "refunds".into(),
            description_en: "refund money back".into(),
            ..Default::default()
        }];
        let prototypes = TopicPrototypes::build(&topics, &mut encoder, 0.5).unwrap();
        let classifier = Classifier::new(
            TopicModel::ZeroShot(prototypes),
            SentimentModel::shipped(),
            384,
        )
        .unwrap();
        let texts = ["refund money back", "退款"];
        let embeddings = encoder.encode(&texts).unwrap();
        let languages = [Language::English, Language::ChineseSimplified];
        let (enrichments, report) = classifier.classify(&embeddings, &languages, &texts);
        assert_eq!(enrichments.len(), 2);
        assert_eq!(enrichments[0].topic.as_deref(), Some("refunds"));
        assert!(enrichments
            .iter()
            .all(|enrichment| enrichment.sentiment.is_some()));
        assert_eq!(report.sentiment.values().sum::<u64>(), 2);
    }
}
