//! The model stages of a `mine` run: encode (through the workspace's embedding cache) the new
//! documents and classify them. The encoder is opened only when there is something to embed or
//! the problem stage will need it for complaint units, so a re-run that finds nothing new never
//! loads a model; it is handed on for the units.

use std::time::Instant;

use super::embed::embed_texts;
use super::OpenEncoder;
use crate::classify::learn::Head;
use crate::classify::sentiment::SentimentModel;
use crate::classify::{topic, Classifier, ClassifyError, ClassifyReport};
use crate::classify::{TopicModel, TopicPrototypes};
use crate::document::{Document, Enrichment};
use crate::encode::EncodeReport;
use crate::model::Encoder;
use crate::progress::Progress;
use crate::workspace::Workspace;
use crate::Result;

/// Enrichments of the new documents, the open encoder, and what each stage did.
#[derive(Default)]
pub struct Enriched {
    /// One per new document, same order.
    pub enrichments: Vec<Enrichment>,
    /// The encoder, for the complaint units; `None` when nothing needed it.
    pub encoder: Option<Box<dyn Encoder>>,
    /// The encoder's model id.
    pub model_id: String,
    /// Encode stage counts and time.
    pub encode: EncodeReport,
    /// Label counts.
    pub classify: ClassifyReport,
    /// Seconds spent classifying.
    pub classify_seconds: f64,
}

/// Embeds and classifies `fresh` with the workspace's models; opens the encoder even when
/// `fresh` is empty if `keep_encoder` (the problem stage runs).
pub fn enrich(
    workspace: &Workspace,
    fresh: &[Document],
    keep_encoder: bool,
    open: OpenEncoder<'_>,
    progress: &dyn Progress,
) -> Result<Enriched> {
    if fresh.is_empty() && !keep_encoder {
        return Ok(Enriched::default());
    }
    let model = &workspace.config.model;
    progress.start(&format!("load the {} encoder", model.encoder), None);
    let mut encoder = open(model)?;
    progress.finish();
    let texts: Vec<&str> = fresh
        .iter()
        .map(|document| document.text.as_str())
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
        let topics = topic_model(workspace, encoder.as_mut())?;
        let languages: Vec<_> = fresh.iter().map(|document| document.language).collect();
        let classify = &workspace.config.classify;
        let classifier =
            Classifier::new(topics, SentimentModel::shipped(), embeddings.dimension())?
                .with_refinement(
                    classify
                        .refine_topics
                        .then_some(classify.refine_min_documents),
                );
        classifier.classify(&embeddings, &languages, &texts)
    };
    Ok(Enriched {
        enrichments,
        model_id: encoder.model_id(),
        encoder: Some(encoder),
        encode,
        classify,
        classify_seconds: started.elapsed().as_secs_f64(),
    })
}

/// A model id without its precision suffix: heads carry over between fp32 and bf16.
fn same_embedding_space(model_id: &str) -> &str {
    model_id.strip_suffix("-bf16").unwrap_or(model_id)
}

/// The workspace's trained topic head when it has one (made for this encoder, in either
/// precision: bf16 embeddings are within 0.9999 cosine of fp32 ones), else the taxonomy's
/// prototypes.
fn topic_model(workspace: &Workspace, encoder: &mut dyn Encoder) -> Result<TopicModel> {
    let path = workspace.topic_head_path();
    if path.is_file() {
        let head = Head::load(&path).map_err(ClassifyError::Head)?;
        let workspace_encoder = encoder.model_id();
        if let Some(trained) = &head.metadata.encoder {
            if same_embedding_space(trained) != same_embedding_space(&workspace_encoder) {
                return Err(ClassifyError::TopicEncoder {
                    path,
                    trained: trained.clone(),
                    workspace: workspace_encoder,
                }
                .into());
            }
        }
        return Ok(TopicModel::Supervised(Box::new(head)));
    }
    let threshold = topic::default_threshold(workspace.config.model.encoder);
    let prototypes = TopicPrototypes::build(&workspace.config.topics, encoder, threshold)?;
    Ok(TopicModel::ZeroShot(prototypes))
}
