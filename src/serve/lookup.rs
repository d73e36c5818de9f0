//! Reads from the index that plain search does not cover: one document by id with all its stored
//! fields (the document view), and the values present in a keyword field (the filter menus, and
//! the check that a filter value exists before searching for it).

use super::request::RequestError;
use crate::index::{date_of, DocumentIndex};
use serde::Serialize;
use std::collections::BTreeSet;
use tantivy::collector::TopDocs;
use tantivy::query::TermQuery;
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{Searcher, TantivyDocument, Term};

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
    let top = searcher
        .search(&query, &TopDocs::with_limit(1))
        .map_err(engine("looking up a document"))?;
    let Some((_, address)) = top.into_iter().next() else {
        return Ok(None);
    };
    let document: TantivyDocument = searcher
        .doc(address)
        .map_err(engine("reading a document"))?;
    let text_of = |field: Field| {
        document
            .get_first(field)
            .and_then(|value| value.as_str())
            .map(str::to_owned)
    };
    let number_of = |field: Field| document.get_first(field).and_then(|value| value.as_f64());
    Ok(Some(DocumentView {
        id: text_of(fields.id).unwrap_or_default(),
        text: text_of(fields.text).unwrap_or_default(),
        date: document
            .get_first(fields.date)
            .and_then(|value| value.as_datetime())
            .and_then(date_of)
            .map(|date| date.to_string()),
        rating: number_of(fields.rating),
        source: text_of(fields.source),
        channel: text_of(fields.channel),
        location: text_of(fields.location),
        product: text_of(fields.product),
        language: text_of(fields.language),
        sentiment: text_of(fields.sentiment),
        sentiment_score: number_of(fields.sentiment_score),
        topic: text_of(fields.topic),
        cluster: text_of(fields.cluster),
        team: text_of(fields.team),
        run: text_of(fields.run),
        origin: text_of(fields.origin),
    }))
}

/// The distinct values of a keyword field across the index, sorted, at most `limit` (the first
/// `limit` of each segment's sorted terms are enough to find the first `limit` overall).
pub fn known_values(
    searcher: &Searcher,
    field: Field,
    limit: usize,
) -> Result<Vec<String>, RequestError> {
    let mut values = BTreeSet::new();
    for segment in searcher.segment_readers() {
        let inverted = segment
            .inverted_index(field)
            .map_err(engine("listing filter values"))?;
        let mut terms = inverted
            .terms()
            .stream()
            .map_err(|error| engine("listing filter values")(error.into()))?;
        let mut taken = 0;
        while taken < limit && terms.advance() {
            if let Ok(value) = std::str::from_utf8(terms.key()) {
                values.insert(value.to_string());
                taken += 1;
            }
        }
    }
    Ok(values.into_iter().take(limit).collect())
}

/// True when some document has exactly this value in the field.
pub fn value_exists(searcher: &Searcher, field: Field, value: &str) -> Result<bool, RequestError> {
    let frequency = searcher
        .doc_freq(&Term::from_field_text(field, value))
        .map_err(engine("checking a filter value"))?;
    Ok(frequency > 0)
}
