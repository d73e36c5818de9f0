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
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// The index was written with another schema (an older vocmine).
    #[error(
        "the index in {} was written by another version of vocmine and has other fields; mine \
         the inputs again into a new workspace (`vocmine init NEW` and `vocmine mine NEW FILE...`)",
        .0.display()
    )]
    Outdated(PathBuf),
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
    /// Content hash (SHA-256, hex), stored.
    pub content_hash: Field,
    /// The content hash's first 64 bits, indexed for deduplication (see [`content_key`]).
    pub content_key: Field,
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
    // Fast (columnar) only where search counts facets (`search::FACET_FIELDS`): filters are term
    // queries, and a column per unique id cost a share of every commit.
    let keyword = STRING | STORED;
    let facet = STRING | STORED | FAST;
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
        content_hash: builder.add_text_field("content_hash", STORED),
        content_key: builder.add_u64_field("content_key", NumericOptions::default().set_indexed()),
        date: builder.add_date_field("date", date),
        rating: builder.add_f64_field("rating", number.clone()),
        source: builder.add_text_field("source", facet.clone()),
        channel: builder.add_text_field("channel", facet.clone()),
        location: builder.add_text_field("location", keyword.clone()),
        product: builder.add_text_field("product", keyword.clone()),
        language: builder.add_text_field("language", facet.clone()),
        customer_id: builder.add_text_field("customer_id", keyword.clone()),
        customer_value: builder.add_f64_field("customer_value", number.clone()),
        sentiment: builder.add_text_field("sentiment", facet.clone()),
        sentiment_score: builder.add_f64_field("sentiment_score", number),
        topic: builder.add_text_field("topic", facet.clone()),
        cluster: builder.add_text_field("cluster", keyword.clone()),
        team: builder.add_text_field("team", facet),
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
        let index = Index::open_or_create(mmap, schema).map_err(|error| match error {
            tantivy::TantivyError::SchemaError(_) => IndexError::Outdated(directory.to_path_buf()),
            error => opening(error),
        })?;
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
        let (schema, fields) = schema();
        if index.schema() != schema {
            return Err(IndexError::Outdated(directory.to_path_buf()));
        }
        tokenise::register(&index);
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

    /// The opstamp of the committed state this index reads: it changes with every commit that
    /// changes something, so it identifies what reports were written from.
    pub fn opstamp(&self) -> Result<u64, IndexError> {
        self.index
            .load_metas()
            .map(|metas| metas.opstamp)
            .map_err(IndexError::Read)
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
        collect_leftovers(&writer)?;
        Ok(IndexBatch {
            writer,
            searcher: self.searcher(),
            fields: self.fields,
            changes: AtomicU64::new(0),
        })
    }
}

/// Removes the files of an interrupted commit, before this writer writes anything. A run killed
/// inside a commit leaves files that `meta.json` does not reference: a new segment, and the
/// delete file of a segment it changed. tantivy names a delete file by its segment and the
/// commit's opstamp, and the next run of the same input starts from the same committed opstamp
/// and makes the same changes, so it would write the same name and fail with
/// `FileAlreadyExists`. tantivy itself collects such files only after a commit or a merge;
/// collecting them when a writer opens (it holds the index's write lock, so no other writer's
/// files are in flight) makes every re-run able to commit.
fn collect_leftovers(writer: &IndexWriter) -> Result<(), IndexError> {
    let collected = writer
        .garbage_collect_files()
        .wait()
        .map_err(IndexError::Write)?;
    if !collected.deleted_files.is_empty() {
        tracing::info!(
            files = collected.deleted_files.len(),
            "removed index files an interrupted commit left"
        );
    }
    Ok(())
}

/// Additions to the index, invisible until committed.
pub struct IndexBatch {
    writer: IndexWriter,
    searcher: tantivy::Searcher,
    fields: Fields,
    /// Additions and deletions so far.
    changes: AtomicU64,
}

impl IndexBatch {
    /// The schema fields.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// True when a committed document has this id.
    pub fn contains_id(&self, id: &str) -> bool {
        self.contains(Term::from_field_text(self.fields.id, id))
    }

    /// True when a committed document has this content hash.
    pub fn contains_hash(&self, hash: &str) -> bool {
        self.contains(Term::from_field_u64(
            self.fields.content_key,
            content_key(hash),
        ))
    }

    fn contains(&self, term: Term) -> bool {
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
        self.changes.fetch_add(1, Ordering::Relaxed);
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

    /// Makes every addition visible at once. A batch with nothing in it commits nothing: the
    /// index and its [`DocumentIndex::opstamp`] stay as they were, so a run that adds nothing
    /// does not make the reports look older than the index.
    pub fn commit(mut self) -> Result<(), IndexError> {
        if self.changes.load(Ordering::Relaxed) == 0 {
            return Ok(());
        }
        let started = std::time::Instant::now();
        self.writer.commit().map_err(IndexError::Write)?;
        let committed = started.elapsed();
        self.writer
            .wait_merging_threads()
            .map_err(IndexError::Write)?;
        tracing::debug!(
            commit_seconds = committed.as_secs_f64(),
            merge_seconds = (started.elapsed() - committed).as_secs_f64(),
            "index committed"
        );
        Ok(())
    }
}

/// The deduplication key of a content hash: its first 64 bits. Indexing the 64 hex digits as a
/// term cost a third of the index stage (the term dictionary's FST over random keys); 64 bits
/// make a false duplicate among a million documents a chance of about 3 in 10^8.
pub fn content_key(hash: &str) -> u64 {
    hash.get(..16)
        .and_then(|prefix| u64::from_str_radix(prefix, 16).ok())
        .unwrap_or_else(|| {
            // Not a hex digest (never made by `normalise`): FNV-1a over the whole string.
            hash.bytes().fold(0xcbf2_9ce4_8422_2325, |key, byte| {
                (key ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
            })
        })
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
    tantivy_document.add_u64(fields.content_key, content_key(&document.content_hash));
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
    for problem in &enrichment.also_in {
        tantivy_document.add_text(fields.cluster, problem);
    }
    tantivy_document
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Feedback, Metadata, Origin};

    fn document(text: &str) -> Document {
        crate::normalise::normalise(Feedback {
            text: text.to_string(),
            metadata: Metadata::default(),
            origin: Origin {
                file: "test.csv".into(),
                line: 2,
            },
        })
    }

    #[test]
    fn content_key_is_the_hash_prefix_and_never_fails() {
        let hash = crate::normalise::content_hash("刹车 brake");
        assert_eq!(
            content_key(&hash),
            u64::from_str_radix(&hash[..16], 16).unwrap()
        );
        assert_ne!(content_key("not hex"), content_key("not hex either"));
        assert_eq!(content_key("short"), content_key("short"));
    }

    #[test]
    fn a_committed_document_is_found_by_id_and_by_hash() {
        let directory = tempfile::tempdir().unwrap();
        let index = DocumentIndex::open_or_create(directory.path()).unwrap();
        let document = document("The brakes squeal.");
        let batch = index.batch(1).unwrap();
        batch
            .add(&document, &Enrichment::default(), "run-1")
            .unwrap();
        batch.commit().unwrap();
        let batch = index.batch(1).unwrap();
        assert!(batch.contains_id(&document.id));
        assert!(batch.contains_hash(&document.content_hash));
        let other = crate::normalise::content_hash("The brakes are fine.");
        assert!(!batch.contains_hash(&other));
    }

    /// Replaces `id`'s document by itself in cluster P0001, as a run that moves an archive
    /// document into a problem does, and commits.
    fn move_into_a_problem(index: &DocumentIndex, id: &str) -> Result<(), IndexError> {
        let batch = index.batch(1)?;
        let stored = batch.stored_where(&tantivy::query::AllQuery)?;
        let target = stored
            .iter()
            .find(|stored| stored.document.id == id)
            .expect("committed");
        let enrichment = Enrichment {
            cluster: Some("P0001".into()),
            ..Enrichment::default()
        };
        batch.replace(target, &enrichment)?;
        batch.commit()
    }

    #[test]
    fn a_commit_killed_before_meta_json_was_renamed_does_not_wedge_the_next_one() {
        let directory = tempfile::tempdir().unwrap();
        let index = DocumentIndex::open_or_create(directory.path()).unwrap();
        let batch = index.batch(1).unwrap();
        let brakes = document("The brakes squeal.");
        batch.add(&brakes, &Enrichment::default(), "run-1").unwrap();
        let paint = document("The paint peels.");
        batch.add(&paint, &Enrichment::default(), "run-1").unwrap();
        batch.commit().unwrap();
        let meta = directory.path().join("meta.json");
        let committed = std::fs::read(&meta).unwrap();
        move_into_a_problem(&index, &brakes.id).unwrap();
        drop(index);
        // What a kill between writing the delete file and renaming meta.json leaves: the
        // commit's files on disk, the previous meta.json in place.
        std::fs::write(&meta, committed).unwrap();
        let leftovers = std::fs::read_dir(directory.path())
            .unwrap()
            .filter(|entry| entry.as_ref().unwrap().path().extension() == Some("del".as_ref()))
            .count();
        assert_eq!(leftovers, 1, "the interrupted commit wrote a delete file");

        let index = DocumentIndex::open_or_create(directory.path()).unwrap();
        assert_eq!(index.document_count(), 2, "the previous commit is intact");
        move_into_a_problem(&index, &brakes.id).expect("the re-run commits");
        assert_eq!(index.document_count(), 2);
        let query = tantivy::query::TermQuery::new(
            Term::from_field_text(index.fields().cluster, "P0001"),
            IndexRecordOption::Basic,
        );
        let moved = stored_documents(&index.searcher(), index.fields(), &query).unwrap();
        assert_eq!(moved.len(), 1);
        assert_eq!(moved[0].document.id, brakes.id);
    }

    #[test]
    fn an_empty_batch_leaves_the_opstamp_and_a_full_one_moves_it() {
        let directory = tempfile::tempdir().unwrap();
        let index = DocumentIndex::open_or_create(directory.path()).unwrap();
        let batch = index.batch(1).unwrap();
        batch
            .add(
                &document("The brakes squeal."),
                &Enrichment::default(),
                "run-1",
            )
            .unwrap();
        batch.commit().unwrap();
        let committed = index.opstamp().unwrap();
        index.batch(1).unwrap().commit().unwrap();
        assert_eq!(index.opstamp().unwrap(), committed);
        let batch = index.batch(1).unwrap();
        batch
            .add(
                &document("The paint peels."),
                &Enrichment::default(),
                "run-2",
            )
            .unwrap();
        batch.commit().unwrap();
        assert!(index.opstamp().unwrap() > committed);
        assert_eq!(index.document_count(), 2);
    }

    #[test]
    fn an_index_with_other_fields_is_refused_with_what_to_do() {
        let directory = tempfile::tempdir().unwrap();
        let mut builder = Schema::builder();
        builder.add_text_field("id", STRING | STORED);
        Index::create_in_dir(directory.path(), builder.build()).unwrap();
        for error in [
            DocumentIndex::open_or_create(directory.path()).err(),
            DocumentIndex::open(directory.path()).err(),
        ] {
            let message = error.expect("refused").to_string();
            assert!(message.contains("another version of vocmine"), "{message}");
            assert!(message.contains("vocmine init"), "{message}");
        }
    }
}
