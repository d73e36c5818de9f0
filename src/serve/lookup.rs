//! Reads from the index that plain search does not cover: one document by id with all its stored
//! fields (the document view), and the values present in a keyword field (the filter menus, and
//! the check that a filter value exists before searching for it).

use super::request::RequestError;
use crate::index::{stored_documents, DocumentIndex, StoredDocument};
use serde::Serialize;
use tantivy::query::TermQuery;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

/// Everything the page shows about one document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentView {
    /// Document id.
    pub id: String,
    /// Its display text (PII-masked on ingest).
    pub text: String,
    /// Date, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Rating.
    pub rating: Option<f64>,
    /// Source.
    pub source: Option<String>,
    /// Channel.
    pub channel: Option<String>,
    /// Location.
    pub location: Option<String>,
    /// Product.
    pub product: Option<String>,
    /// Language code.
    pub language: Option<String>,
    /// Sentiment label.
    pub sentiment: Option<String>,
    /// Probability of the sentiment label.
    pub sentiment_score: Option<f64>,
    /// Topic.
    pub topic: Option<String>,
    /// Cluster (problem) id.
    pub cluster: Option<String>,
    /// Owning team.
    pub team: Option<String>,
    /// The run that added it.
    pub run: Option<String>,
    /// Input file and line.
    pub origin: Option<String>,
}

/// Turns an engine failure into a 500 that names what was being done.
pub fn engine(action: &'static str) -> impl Fn(tantivy::TantivyError) -> RequestError {
    move |error| RequestError::Internal(format!("the index failed while {action}: {error}"))
}

/// The document with this id in the last committed state, if any.
pub fn find_document(
    index: &DocumentIndex,
    id: &str,
) -> Result<Option<DocumentView>, RequestError> {
    let fields = index.fields();
    let searcher = index.searcher();
    let query = TermQuery::new(
        Term::from_field_text(fields.id, id),
        IndexRecordOption::Basic,
    );
    let found = stored_documents(&searcher, fields, &query).map_err(|error| {
        RequestError::Internal(format!(
            "the index failed while reading a document: {error}"
        ))
    })?;
    Ok(found.into_iter().next().map(document_view))
}

fn document_view(stored: StoredDocument) -> DocumentView {
    let StoredDocument {
        document,
        enrichment,
        run,
    } = stored;
    let metadata = document.metadata;
    DocumentView {
        id: document.id,
        text: document.text,
        date: metadata.date.map(|date| date.to_string()),
        rating: metadata.rating,
        source: metadata.source,
        channel: metadata.channel,
        location: metadata.location,
        product: metadata.product,
        language: Some(document.language.code().to_string()),
        sentiment: enrichment.sentiment,
        sentiment_score: enrichment.sentiment_score,
        topic: enrichment.topic,
        cluster: enrichment.cluster,
        team: enrichment.team,
        run: (!run.is_empty()).then_some(run),
        origin: Some(format!("{}:{}", document.origin.file, document.origin.line)),
    }
}

/// The distinct values of a keyword field across the index, sorted, at most `limit`.
pub fn known_values(
    searcher: &Searcher,
    field: Field,
    limit: usize,
) -> Result<Vec<String>, RequestError> {
    crate::search::known_values(searcher, field, limit).map_err(engine("listing filter values"))
}
