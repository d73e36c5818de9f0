//! `vocmine embed`: files in, one sentence embedding per accepted row out, in input order, through
//! the same ingest, column mapping and normalisation as `mine` and the same embedding cache
//! machinery (kept in the user cache, outside any workspace).

use std::path::{Path, PathBuf};

use super::documents::{read_documents, ReadDocuments};
use crate::document::Document;
use crate::encode::{cache_directory, encode_texts, EmbeddingCache, EncodeReport};
use crate::ingest::IngestSettings;
use crate::model::bert::BertSettings;
use crate::model::{open_encoder, Embeddings, Encoder, ModelChoice};
use crate::progress::Progress;
use crate::Result;

/// Settings of one `embed` run.
#[derive(Debug, Clone)]
pub struct EmbedSettings {
    /// Input files or directories.
    pub inputs: Vec<PathBuf>,
    /// How the files are read.
    pub ingest: IngestSettings,
    /// Which encoder.
    pub model: ModelChoice,
    /// How it runs.
    pub encoder: BertSettings,
    /// Where cached embeddings live (one folder per model id below it).
    pub cache_root: PathBuf,
}

/// Embeddings of the accepted rows, with the rows themselves and what was rejected.
#[derive(Debug)]
pub struct EmbedOutput {
    /// The rows as read: documents, rejects, per-file counts.
    pub read: ReadDocuments,
    /// One row per document, same order.
    pub embeddings: Embeddings,
    /// Cache hits, texts encoded, truncations, time.
    pub encode: EncodeReport,
    /// The encoder's model id (model and token limit).
    pub model_id: String,
}

/// Reads the inputs and embeds every accepted row with the chosen encoder.
pub fn embed(settings: &EmbedSettings, progress: &dyn Progress) -> Result<EmbedOutput> {
    let read = read_documents(&settings.inputs, &settings.ingest, progress)?;
    let (embeddings, encode, model_id) = open_and_embed(
        &read.documents,
        settings.model,
        &settings.encoder,
        &settings.cache_root,
        progress,
    )?;
    Ok(EmbedOutput {
        read,
        embeddings,
        encode,
        model_id,
    })
}

/// Opens the encoder `model` and embeds `documents` through the cache under `cache_root`;
/// returns the embeddings, what the encoder did and its model id.
pub fn open_and_embed(
    documents: &[Document],
    model: ModelChoice,
    settings: &BertSettings,
    cache_root: &Path,
    progress: &dyn Progress,
) -> Result<(Embeddings, EncodeReport, String)> {
    let mut encoder = open_encoder(model, settings.clone())?;
    let (embeddings, encode) = embed_documents(documents, &mut encoder, cache_root, progress)?;
    Ok((embeddings, encode, encoder.model_id()))
}

/// Embeds the display text of `documents` through the cache under `cache_root`.
pub fn embed_documents(
    documents: &[Document],
    encoder: &mut dyn Encoder,
    cache_root: &Path,
    progress: &dyn Progress,
) -> Result<(Embeddings, EncodeReport)> {
    let texts: Vec<&str> = documents
        .iter()
        .map(|document| document.text.as_str())
        .collect();
    embed_texts(&texts, encoder, cache_root, progress)
}

/// Embeds `texts` through the cache under `cache_root`.
pub fn embed_texts(
    texts: &[&str],
    encoder: &mut dyn Encoder,
    cache_root: &Path,
    progress: &dyn Progress,
) -> Result<(Embeddings, EncodeReport)> {
    let directory = cache_directory(cache_root, encoder);
    let mut cache = EmbeddingCache::open(&directory, encoder.dimension())?;
    Ok(encode_texts(encoder, &mut cache, texts, progress)?)
}
