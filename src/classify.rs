//! The classify stage: embeddings in, a topic (and sentiment) per document out. Everything is
//! computed from the document's sentence embedding, so one transformer pass per document serves
//! classification and clustering. Topics come from the taxonomy's prototypes ([`topic`]).

pub mod topic;

use std::collections::BTreeMap;

use serde::Serialize;

pub use topic::{TopicChoice, TopicPrototypes, OTHER_TOPIC};

use crate::document::Enrichment;
use crate::model::Embeddings;

/// Everything the classify stage needs, built once per run.
#[derive(Debug, Clone)]
pub struct Classifier {
    topics: TopicPrototypes,
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
    /// A classifier with these topic prototypes.
    pub fn new(topics: TopicPrototypes) -> Self {
        Classifier { topics }
    }

    /// The enrichment of every row of `embeddings`, in order, and the label counts.
    pub fn classify(&self, embeddings: &Embeddings) -> (Vec<Enrichment>, ClassifyReport) {
        let mut report = ClassifyReport::default();
        let enrichments = embeddings
            .rows()
            .map(|row| {
                let topic = self.topics.choose(row).topic;
                *report.topic.entry(topic.clone()).or_default() += 1;
                Enrichment {
                    topic: Some(topic),
                    ..Enrichment::default()
                }
            })
            .collect();
        (enrichments, report)
    }
}
