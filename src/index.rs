//! The tantivy index on disk in the workspace: [`Document`]s in, a searchable archive out. The
//! text is indexed with the vocmine analyzer (positions kept, so phrase queries work) and stored
//! for snippets; the other fields are stored and fast for filters and facet counts, including the
//! enrichment fields (sentiment, topic, cluster, team) that later stages fill. Writes happen in
//! an [`IndexBatch`] that becomes visible only at [`IndexBatch::commit`]: a run killed before
//! that leaves the previous commit intact and searchable.

use crate::document::{Document, Enrichment};
use crate::tokenise;
use chrono::{NaiveDate, NaiveTime};
use std::path::{Path, PathBuf};
use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, NumericOptions, Schema,
    TextFieldIndexing, TextOptions, FAST, STORED, STRING,
};
use tantivy::{DateTime, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
use thiserror::Error;

mod stored;
pub use stored::{stored_documents, StoredDocument};

/// Errors of the tantivy index.
#[derive(Debug, Error)]
pub enum IndexError {
    /// There is no index yet.
    #[error("no index in {} yet; run `vocmine mine` on some input first", .0.display())]
    Missing(PathBuf),
    /// The index's files cannot be opened or created.
    #[error("cannot open the index in {}: {source}", path.display())]
    Open {
        /// The index directory.
        path: PathBuf,
        /// tantivy's error.
        #[source]
        source: tantivy::TantivyError,
    },
    /// Writing to the index failed.
    #[error("index write failed: {0}")]
    Write(#[source] tantivy::TantivyError),
    /// Reading committed documents failed.
    #[error("index read failed: {0}")]
    Read(#[source] tantivy::TantivyError),
}

/// The fields of the index schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// Document id (exact).
    pub id: Field,
    /// The display text, analysed and stored.
    pub text: Field,
    /// Content hash for deduplication.
    pub content_hash: Field,
    /// Date of the feedback.
    pub date: Field,
    /// Rating.
    pub rating: Field,
    /// Source (review, complaint, ...).
    pub source: Field,
    /// Channel.
    pub channel: Field,
    /// Location.
    pub location: Field,
    /// Product.
    pub product: Field,
    /// Language code.
    pub language: Field,
    /// Customer id.
    pub customer_id: Field,
    /// Customer value.
    pub customer_value: Field,
    /// Sentiment label (filled by the classify stage).
    pub sentiment: Field,
    /// Probability of the sentiment label.
    pub sentiment_score: Field,
    /// Topic (filled by the classify stage).
    pub topic: Field,
    /// Cluster id (filled by the cluster stage).
    pub cluster: Field,
    /// Owning team (filled by the route stage).
    pub team: Field,
    /// The run that added the document.
    pub run: Field,
    /// Input file and line.
    pub origin: Field,
}

/// Names of the fields that are exact strings (filters and facets).
pub const KEYWORD_FIELDS: &[&str] = &[
    "id",
    "content_hash",
    "source",
    "channel",
    "location",
    "product",
    "language",
    "customer_id",
    "sentiment",
    "topic",
    "cluster",
    "team",
    "run",
];

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let keyword = STRING | STORED | FAST;
    let text_options = TextOptions::default().set_stored().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenise::ANALYZER_NAME)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let number = NumericOptions::default()
        .set_indexed()
        .set_stored()
        .set_fast();
    let date = DateOptions::default()
        .set_indexed()
        .set_stored()
        .set_fast()
        .set_precision(DateTimePrecision::Seconds);
    let fields = Fields {
        id: builder.add_text_field("id", keyword.clone()),
        text: builder.add_text_field("text", text_options),
        content_hash: builder.add_text_field("content_hash", STRING | STORED),
        date: builder.add_date_field("date", date),
        rating: builder.add_f64_field("rating", number.clone()),
        source: builder.add_text_field("source", keyword.clone()),
        channel: builder.add_text_field("channel", keyword.clone()),
        location: builder.add_text_field("location", keyword.clone()),
        product: builder.add_text_field("product", keyword.clone()),
        language: builder.add_text_field("language", keyword.clone()),
        customer_id: builder.add_text_field("customer_id", keyword.clone()),
        customer_value: builder.add_f64_field("customer_value", number.clone()),
        sentiment: builder.add_text_field("sentiment", keyword.clone()),
        sentiment_score: builder.add_f64_field("sentiment_score", number),
        topic: builder.add_text_field("topic", keyword.clone()),
        cluster: builder.add_text_field("cluster", keyword.clone()),
        team: builder.add_text_field("team", keyword.clone()),
        run: builder.add_text_field("run", keyword),
        origin: builder.add_text_field("origin", STORED),
    };
    (builder.build(), fields)
}

/// Converts a calendar date to the index's date value (midnight UTC).
pub fn date_value(date: NaiveDate) -> DateTime {
    DateTime::from_timestamp_secs(date.and_time(NaiveTime::MIN).and_utc().timestamp())
}

/// Converts an index date value back to a calendar date.
pub fn date_of(value: DateTime) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp(value.into_timestamp_secs(), 0)
        .map(|datetime| datetime.date_naive())
}

/// The document index of a workspace.
pub struct DocumentIndex {
    index: Index,
    fields: Fields,
    reader: IndexReader,
}

impl DocumentIndex {
    /// Opens the index in `directory`, creating it when absent.
    pub fn open_or_create(directory: &Path) -> Result<DocumentIndex, IndexError> {
        let opening = |source| IndexError::Open {
            path: directory.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(directory)
            .map_err(|error| opening(tantivy::TantivyError::from(error)))?;
        let (schema, _) = schema();
        let mmap = tantivy::directory::MmapDirectory::open(directory)
            .map_err(|error| opening(error.into()))?;
        let index = Index::open_or_create(mmap, schema).map_err(opening)?;
        DocumentIndex::from_index(index, directory)
    }

    /// Opens an existing index for reading.
    pub fn open(directory: &Path) -> Result<DocumentIndex, IndexError> {
        if !directory.join("meta.json").is_file() {
            return Err(IndexError::Missing(directory.to_path_buf()));
        }
        let index = Index::open_in_dir(directory).map_err(|source| IndexError::Open {
            path: directory.to_path_buf(),
            source,
        })?;
        DocumentIndex::from_index(index, directory)
    }

    fn from_index(index: Index, directory: &Path) -> Result<DocumentIndex, IndexError> {
        tokenise::register(&index);
        let (_, fields) = schema();
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|source| IndexError::Open {
                path: directory.to_path_buf(),
                source,
            })?;
        Ok(DocumentIndex {
            index,
            fields,
            reader,
        })
    }

    /// The tantivy index.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The schema fields.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// A searcher over the last committed state (reloaded on each call).
    pub fn searcher(&self) -> tantivy::Searcher {
        let _ = self.reader.reload();
        self.reader.searcher()
    }

    /// Number of committed documents.
    pub fn document_count(&self) -> u64 {
        self.searcher().num_docs()
    }

    /// Starts a batch of additions. `threads` indexing threads (0 = tantivy's choice).
    pub fn batch(&self, threads: usize) -> Result<IndexBatch, IndexError> {
        let heap = 100_000_000 * threads.max(1);
        let writer = if threads == 0 {
            self.index.writer(200_000_000)
        } else {
            self.index.writer_with_num_threads(threads, heap)
        }
        .map_err(IndexError::Write)?;
        Ok(IndexBatch {
            writer,
            searcher: self.searcher(),
            fields: self.fields,
        })
    }
}

/// Additions to the index, invisible until committed.
pub struct IndexBatch {
    writer: IndexWriter,
    searcher: tantivy::Searcher,
    fields: Fields,
}

impl IndexBatch {
    /// True when a committed document has this id.
    pub fn contains_id(&self, id: &str) -> bool {
        self.contains(self.fields.id, id)
    }

    /// True when a committed document has this content hash.
    pub fn contains_hash(&self, hash: &str) -> bool {
        self.contains(self.fields.content_hash, hash)
    }

    fn contains(&self, field: Field, value: &str) -> bool {
        let term = Term::from_field_text(field, value);
        self.searcher
            .doc_freq(&term)
            .map(|count| count > 0)
            .unwrap_or(false)
    }

    /// Adds a document, tagged with the run that adds it.
    pub fn add(
        &self,
        document: &Document,
        enrichment: &Enrichment,
        run: &str,
    ) -> Result<(), IndexError> {
        let tantivy_document = to_tantivy(document, enrichment, run, &self.fields);
        self.writer
            .add_document(tantivy_document)
            .map_err(IndexError::Write)?;
        Ok(())
    }

    /// Committed documents that `query` matches (the state before this batch).
    pub fn stored_where(
        &self,
        query: &dyn tantivy::query::Query,
    ) -> Result<Vec<StoredDocument>, IndexError> {
        stored_documents(&self.searcher, &self.fields, query)
    }

    /// Replaces a committed document by the same document with a new enrichment; like every
    /// change in the batch, visible only after the commit.
    pub fn replace(
        &self,
        stored: &StoredDocument,
        enrichment: &Enrichment,
    ) -> Result<(), IndexError> {
        let id = Term::from_field_text(self.fields.id, &stored.document.id);
        self.writer.delete_term(id);
        self.add(&stored.document, enrichment, &stored.run)
    }

    /// Makes every addition visible at once.
    pub fn commit(mut self) -> Result<(), IndexError> {
        self.writer.commit().map_err(IndexError::Write)?;
        self.writer
            .wait_merging_threads()
            .map_err(IndexError::Write)?;
        Ok(())
    }
}

fn to_tantivy(
    document: &Document,
    enrichment: &Enrichment,
    run: &str,
    fields: &Fields,
) -> TantivyDocument {
    let metadata = &document.metadata;
    let mut tantivy_document = TantivyDocument::default();
    tantivy_document.add_text(fields.id, &document.id);
    tantivy_document.add_text(fields.text, &document.text);
    tantivy_document.add_text(fields.content_hash, &document.content_hash);
    tantivy_document.add_text(fields.language, document.language.code());
    tantivy_document.add_text(fields.run, run);
    tantivy_document.add_text(
        fields.origin,
        format!("{}:{}", document.origin.file, document.origin.line),
    );
    if let Some(date) = metadata.date {
        tantivy_document.add_date(fields.date, date_value(date));
    }
    if let Some(rating) = metadata.rating {
        tantivy_document.add_f64(fields.rating, rating);
    }
    if let Some(score) = enrichment.sentiment_score {
        tantivy_document.add_f64(fields.sentiment_score, score);
    }
    if let Some(value) = metadata.customer_value {
        tantivy_document.add_f64(fields.customer_value, value);
    }
    let keywords = [
        (fields.source, &metadata.source),
        (fields.channel, &metadata.channel),
        (fields.location, &metadata.location),
        (fields.product, &metadata.product),
        (fields.customer_id, &metadata.customer_id),
        (fields.sentiment, &enrichment.sentiment),
        (fields.topic, &enrichment.topic),
        (fields.cluster, &enrichment.cluster),
        (fields.team, &enrichment.team),
    ];
    for (field, value) in keywords {
        if let Some(value) = value {
            tantivy_document.add_text(field, value);
        }
    }
    tantivy_document
}
