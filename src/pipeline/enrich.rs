//! The model stages of a `mine` run over its new documents: encode (through the workspace's
//! embedding cache) and classify. The encoder is opened only when there is something new, so a
//! re-run that finds nothing new never loads a model.

use std::time::Instant;

use super::embed::embed_documents;
use super::OpenEncoder;
use crate::classify::sentiment::SentimentModel;
use crate::classify::{topic, Classifier, ClassifyReport, TopicPrototypes};
use crate::document::{Document, Enrichment};
use crate::encode::EncodeReport;
use crate::progress::Progress;
use crate::workspace::Workspace;
use crate::Result;

/// Enrichments of the new documents, with what each stage did.
#[derive(Debug, Default)]
pub struct Enriched {
    /// One per document, same order.
    pub enrichments: Vec<Enrichment>,
    /// Encode stage counts and time.
    pub encode: EncodeReport,
    /// Label counts.
    pub classify: ClassifyReport,
    /// Seconds spent classifying.
    pub classify_seconds: f64,
}

/// Encodes and classifies `documents` with the workspace's models.
pub fn enrich(
    workspace: &Workspace,
    documents: &[Document],
    open: OpenEncoder<'_>,
    progress: &dyn Progress,
) -> Result<Enriched> {
    if documents.is_empty() {
        return Ok(Enriched::default());
    }
    let model = &workspace.config.model;
    progress.start(&format!("load the {} encoder", model.encoder), None);
    let mut encoder = open(model)?;
    progress.finish();
    let (embeddings, encode) = embed_documents(
        documents,
        encoder.as_mut(),
        &workspace.embedding_cache_dir(),
        progress,
    )?;
    let started = Instant::now();
    let threshold = topic::default_threshold(model.encoder);
    let prototypes = TopicPrototypes::build(&workspace.config.topics, encoder.as_mut(), threshold)?;
    let languages: Vec<_> = documents.iter().map(|document| document.language).collect();
    let classifier = Classifier::new(
        prototypes,
        SentimentModel::shipped(),
        embeddings.dimension(),
    )?;
    let (enrichments, classify) = classifier.classify(&embeddings, &languages);
    Ok(Enriched {
        enrichments,
        encode,
        classify,
        classify_seconds: started.elapsed().as_secs_f64(),
    })
}
