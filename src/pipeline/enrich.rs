//! The model stages of a `mine` run: encode (through the workspace's embedding cache) the new
//! documents and the archive documents the cluster stage needs, and classify the new ones. The
//! encoder is opened only when there is something to embed, so a re-run that finds nothing new
//! never loads a model; archive documents come from the cache.

use std::time::Instant;

use super::embed::embed_texts;
use super::OpenEncoder;
use crate::classify::sentiment::SentimentModel;
use crate::classify::{topic, Classifier, ClassifyReport, TopicPrototypes};
use crate::document::{Document, Enrichment};
use crate::encode::EncodeReport;
use crate::model::Embeddings;
use crate::progress::Progress;
use crate::workspace::Workspace;
use crate::Result;

/// Enrichments of the new documents, the embeddings of every document asked for, and what each
/// stage did.
#[derive(Debug, Default)]
pub struct Enriched {
    /// One per new document, same order.
    pub enrichments: Vec<Enrichment>,
    /// The new documents' rows, then the archive documents' rows; `None` when nothing was asked.
    pub embeddings: Option<Embeddings>,
    /// The encoder's model id.
    pub model_id: String,
    /// Encode stage counts and time.
    pub encode: EncodeReport,
    /// Label counts.
    pub classify: ClassifyReport,
    /// Seconds spent classifying.
    pub classify_seconds: f64,
}

/// Embeds `fresh` and the `archive` texts and classifies `fresh` with the workspace's models.
pub fn enrich(
    workspace: &Workspace,
    fresh: &[Document],
    archive: &[&str],
    open: OpenEncoder<'_>,
    progress: &dyn Progress,
) -> Result<Enriched> {
    if fresh.is_empty() && archive.is_empty() {
        return Ok(Enriched::default());
    }
    let model = &workspace.config.model;
    progress.start(&format!("load the {} encoder", model.encoder), None);
    let mut encoder = open(model)?;
    progress.finish();
    let texts: Vec<&str> = fresh
        .iter()
        .map(|document| document.text.as_str())
        .chain(archive.iter().copied())
        .collect();
    let (embeddings, encode) = embed_texts(
        &texts,
        encoder.as_mut(),
        &workspace.embedding_cache_dir(),
        progress,
    )?;
    let started = Instant::now();
    let (enrichments, classify) = if fresh.is_empty() {
        (Vec::new(), ClassifyReport::default())
    } else {
        let threshold = topic::default_threshold(model.encoder);
        let prototypes =
            TopicPrototypes::build(&workspace.config.topics, encoder.as_mut(), threshold)?;
        let languages: Vec<_> = fresh.iter().map(|document| document.language).collect();
        let classifier = Classifier::new(
            prototypes,
            SentimentModel::shipped(),
            embeddings.dimension(),
        )?;
        classifier.classify(&embeddings.first_rows(fresh.len()), &languages)
    };
    Ok(Enriched {
        enrichments,
        model_id: encoder.model_id(),
        embeddings: Some(embeddings),
        encode,
        classify,
        classify_seconds: started.elapsed().as_secs_f64(),
    })
}
