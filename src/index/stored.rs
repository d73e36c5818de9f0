//! Documents read back from the index's stored fields: the later stages (cluster, route) work on
//! the whole archive, not only on a run's new documents, and update the enrichment of documents
//! committed by earlier runs by replacing them.

use tantivy::collector::DocSetCollector;
use tantivy::query::Query;
use tantivy::schema::{Field, Value};
use tantivy::{Searcher, TantivyDocument};

use super::{date_of, Fields, IndexError};
use crate::document::{Document, Enrichment, Language, Metadata, Origin};

/// A committed document with its enrichment and the run that added it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDocument {
    /// The document as indexed.
    pub document: Document,
    /// Its enrichment as indexed.
    pub enrichment: Enrichment,
    /// The run that added it.
    pub run: String,
}

/// Every committed document `query` matches, in index order.
pub fn stored_documents(
    searcher: &Searcher,
    fields: &Fields,
    query: &dyn Query,
) -> Result<Vec<StoredDocument>, IndexError> {
    let mut addresses: Vec<_> = searcher
        .search(query, &DocSetCollector)
        .map_err(IndexError::Read)?
        .into_iter()
        .collect();
    addresses.sort();
    addresses
        .into_iter()
        .map(|address| {
            let stored: TantivyDocument = searcher.doc(address).map_err(IndexError::Read)?;
            Ok(StoredDocument::from_tantivy(&stored, fields))
        })
        .collect()
}

impl StoredDocument {
    /// Decodes the stored fields of one index document.
    pub fn from_tantivy(stored: &TantivyDocument, fields: &Fields) -> StoredDocument {
        let text = |field: Field| {
            stored
                .get_first(field)
                .and_then(|value| value.as_str())
                .map(str::to_string)
        };
        let number = |field: Field| stored.get_first(field).and_then(|value| value.as_f64());
        let origin = text(fields.origin).unwrap_or_default();
        let (file, line) = origin.rsplit_once(':').unwrap_or((origin.as_str(), "0"));
        let id = text(fields.id).unwrap_or_default();
        let document = Document {
            metadata: Metadata {
                id: Some(id.clone()),
                date: stored
                    .get_first(fields.date)
                    .and_then(|value| value.as_datetime())
                    .and_then(date_of),
                rating: number(fields.rating),
                source: text(fields.source),
                channel: text(fields.channel),
                location: text(fields.location),
                product: text(fields.product),
                customer_id: text(fields.customer_id),
                customer_value: number(fields.customer_value),
                label: None,
            },
            id,
            text: text(fields.text).unwrap_or_default(),
            language: text(fields.language)
                .and_then(|code| Language::from_code(&code))
                .unwrap_or(Language::Other),
            content_hash: text(fields.content_hash).unwrap_or_default(),
            origin: Origin {
                file: file.to_string(),
                line: line.parse().unwrap_or(0),
            },
        };
        let enrichment = Enrichment {
            sentiment: text(fields.sentiment),
            sentiment_score: number(fields.sentiment_score),
            topic: text(fields.topic),
            cluster: text(fields.cluster),
            team: text(fields.team),
            also_in: stored
                .get_all(fields.cluster)
                .skip(1)
                .filter_map(|value| value.as_str().map(str::to_string))
                .collect(),
        };
        StoredDocument {
            document,
            enrichment,
            run: text(fields.run).unwrap_or_default(),
        }
    }
}
