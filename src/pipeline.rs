//! The only module that sequences the stages. [`mine`] takes a workspace and input files and runs
//! ingest -> normalise -> dedup -> encode -> classify -> cluster -> label -> route -> index as one
//! transaction: the index commit at the end makes the run's documents and their problems visible
//! all at once; the rejects file, the period's problems and history, the run summary and the
//! reports are written after it. A run killed at any moment leaves the previous index searchable;
//! running it again completes the work, because documents already committed are recognised as
//! duplicates, a period whose history does not match the index is clustered again, and a period
//! whose reports are not marked finished for its problems and the index commit
//! ([`crate::report::unfinished_reports`]) has them written again. Temporary files a killed
//! run left are removed once the run holds the index's write lock.

use crate::classify::ClassifyReport;
use crate::config::ModelConfig;
use crate::document::Document;
use crate::encode::EncodeReport;
use crate::fault::Fault;
use crate::index::{DocumentIndex, IndexBatch};
use crate::ingest::{IngestSettings, InputFile, Reject, Row};
use crate::model::bert::BertSettings;
use crate::model::{open_encoder, Encoder, ModelError};
use crate::normalise::normalise_keeping_raw;
use crate::problems::history::{history_path, ClusterHistory};
use crate::progress::Progress;
use crate::workspace::{
    remove_temporary_files, write_atomically, AtomicFile, Workspace, WorkspaceError,
};
use crate::Result;
use placement::{candidate_query, default_period, place_problems, record_problems};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

mod cluster_eval;
mod documents;
mod embed;
mod enrich;
mod labelled;
mod placement;
mod problem_eval;
mod topic_eval;
mod units;

pub use crate::problems::{find_problems, is_candidate, Candidate, FoundProblems, ProblemContext};
pub use cluster_eval::{evaluate_clustering, ClusterEvalReport};
pub use documents::{read_documents, ReadDocuments};
pub use embed::{embed, embed_documents, EmbedOutput, EmbedSettings};
pub use labelled::{
    check_labels, evaluate_sentiment, read_labelled, train_on, EvalReport, Labelled,
    LabelledSettings, Split,
};
pub use placement::ProblemsSummary;
pub use problem_eval::{evaluate_problems, MethodScores, ProblemEvalReport, ProblemLine};
pub use topic_eval::{cross_validate_topics, evaluate_zero_shot_topics};
pub use units::{complaint_units, CandidateUnits, ComplaintUnit, UnitReport, UnitSource};

/// Rows normalised together in parallel.
const CHUNK_ROWS: usize = 4096;

/// File extensions read when a directory is given as input.
pub const INPUT_EXTENSIONS: &[&str] = &["csv", "tsv", "tab", "jsonl", "ndjson", "json", "txt"];

/// Settings of one `mine` run, resolved from flags and configuration.
#[derive(Debug, Clone, Default)]
pub struct MineSettings {
    /// Input files or directories (a directory means its files with [`INPUT_EXTENSIONS`]).
    pub inputs: Vec<PathBuf>,
    /// tantivy indexing threads (0 = automatic).
    pub index_threads: usize,
    /// The period (`YYYY-MM`) the run's problems are reported for; `None`: the month of the
    /// latest dated new document, else the latest period clustered, else the current month.
    pub period: Option<String>,
    /// Where the run stops on purpose (tests of interrupted runs; [`Fault::none`] otherwise).
    pub fault: Fault,
}

/// Counts for one input file: read = accepted + duplicate + rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileSummary {
    /// The input file.
    pub file: String,
    /// Format and encoding as detected.
    pub format: String,
    /// Rows read.
    pub read: u64,
    /// Rows added to the index.
    pub accepted: u64,
    /// Rows already in the workspace or earlier in this run.
    pub duplicate: u64,
    /// Rows rejected (see the rejects file).
    pub rejected: u64,
}

/// What a `mine` run did.
#[derive(Debug, Clone, Serialize)]
pub struct MineReport {
    /// The run's id.
    pub run: String,
    /// Per input file.
    pub files: Vec<FileSummary>,
    /// Accepted documents per language.
    pub languages: BTreeMap<String, u64>,
    /// Documents in the index after the run.
    pub index_documents: u64,
    /// The rejects file, when anything was rejected.
    pub rejects_file: Option<PathBuf>,
    /// What the encode stage did (cache hits, texts encoded, truncations).
    pub encode: EncodeReport,
    /// Label counts of the new documents.
    pub classify: ClassifyReport,
    /// What the problem stages found, when they ran (nothing new and nothing to redo: `None`).
    pub problems: Option<ProblemsSummary>,
    /// Seconds per stage.
    pub seconds: BTreeMap<String, f64>,
}

impl MineReport {
    /// Sum over all files.
    pub fn totals(&self) -> FileSummary {
        self.files.iter().fold(
            FileSummary {
                file: "total".into(),
                ..Default::default()
            },
            |mut total, file| {
                total.read += file.read;
                total.accepted += file.accepted;
                total.duplicate += file.duplicate;
                total.rejected += file.rejected;
                total
            },
        )
    }
}

/// Expands directories into their input files (sorted, not recursive).
pub fn expand_inputs(inputs: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)?
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| {
                    path.is_file()
                        && path
                            .extension()
                            .and_then(|extension| extension.to_str())
                            .is_some_and(|extension| {
                                INPUT_EXTENSIONS.contains(&extension.to_ascii_lowercase().as_str())
                            })
                })
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

/// Opens the encoder a workspace's `[model]` section names.
pub type OpenEncoder<'a> = &'a dyn Fn(&ModelConfig) -> Result<Box<dyn Encoder>, ModelError>;

/// The real encoder of a `[model]` section, from the model cache.
pub fn open_configured_encoder(model: &ModelConfig) -> Result<Box<dyn Encoder>, ModelError> {
    let encoder = open_encoder(model.encoder, BertSettings::from_config(model))?;
    Ok(Box::new(encoder))
}

/// Runs the whole flow over the inputs as one transaction, with the workspace's configured
/// encoder.
pub fn mine(
    workspace: &Workspace,
    settings: &MineSettings,
    progress: &dyn Progress,
) -> Result<MineReport> {
    mine_with(workspace, settings, &open_configured_encoder, progress)
}

/// [`mine`] with the encoder that `open` returns (tests of pipeline logic pass a small
/// deterministic one; everything a user runs uses [`open_configured_encoder`]).
pub fn mine_with(
    workspace: &Workspace,
    settings: &MineSettings,
    open: OpenEncoder<'_>,
    progress: &dyn Progress,
) -> Result<MineReport> {
    let MineSettings {
        inputs,
        index_threads,
        period,
        fault,
    } = settings;
    let started = Instant::now();
    let run = run_id();
    let ingest_settings = IngestSettings::from_config(&workspace.config);
    let paths = expand_inputs(inputs).map_err(|source| crate::ingest::IngestError::Unreadable {
        path: inputs.first().cloned().unwrap_or_default(),
        source,
    })?;
    let inputs = paths
        .iter()
        .map(|path| InputFile::open(path, &ingest_settings))
        .collect::<Result<Vec<_>, _>>()?;
    let index = DocumentIndex::open_or_create(&workspace.index_dir())?;
    let batch = index.batch(*index_threads)?;
    remove_leftovers(workspace);
    let mut rejects = RejectsWriter::new(
        workspace.rejects_dir().join(format!("{run}.csv")),
        workspace.config.input.raw_rejects,
    );
    let mut state = RunState::default();
    let mut files = Vec::new();
    for input in &inputs {
        files.push(mine_file(
            input,
            &ingest_settings,
            &batch,
            &mut state,
            &mut rejects,
            progress,
        )?);
    }
    let mut seconds = BTreeMap::new();
    seconds.insert(
        "ingest+normalise".to_string(),
        started.elapsed().as_secs_f64(),
    );
    fault.check("ingest")?;
    let mut fresh = std::mem::take(&mut state.fresh);
    let history_file = history_path(workspace.root());
    let mut history = ClusterHistory::load(&history_file)?;
    let period = period
        .clone()
        .unwrap_or_else(|| default_period(&fresh, &history, &run));
    let after_run = index.document_count() + fresh.len() as u64;
    let archive = if history.is_current(&period, after_run) {
        Vec::new()
    } else {
        batch.stored_where(&candidate_query(index.fields(), &workspace.config.cluster))?
    };
    let clusters_now = !fresh.is_empty() || !archive.is_empty();
    let mut enriched = enrich::enrich(workspace, &fresh, clusters_now, open, progress)?;
    seconds.insert("encode".to_string(), enriched.encode.seconds);
    seconds.insert("classify".to_string(), enriched.classify_seconds);
    fault.check("encode")?;
    let clustering = Instant::now();
    let found = match enriched.encoder.as_deref_mut() {
        Some(encoder) => Some(place_problems(
            &mut fresh,
            &mut enriched.enrichments,
            &archive,
            placement::UnitEncoders {
                model: encoder,
                open,
            },
            &batch,
            workspace,
            &history,
            &ProblemContext {
                period: period.clone(),
                run: run.clone(),
                model: enriched.model_id.clone(),
            },
            progress,
        )?),
        None => None,
    };
    let unit_seconds = found.as_ref().map_or(0.0, |(_, units)| units.seconds);
    seconds.insert("units".to_string(), unit_seconds);
    seconds.insert(
        "cluster+label+route".to_string(),
        clustering.elapsed().as_secs_f64() - unit_seconds,
    );
    fault.check("index")?;
    let indexing = Instant::now();
    progress.start("index", Some(fresh.len() as u64));
    for (document, enrichment) in fresh.iter().zip(&enriched.enrichments) {
        batch.add(document, enrichment, &run)?;
        progress.advance(1);
    }
    progress.finish();
    fault.check("commit")?;
    progress.start("commit index", None);
    batch.commit()?;
    progress.finish();
    seconds.insert("index".to_string(), indexing.elapsed().as_secs_f64());
    fault.check("problems")?;
    let recorded = match found {
        Some((found, units)) => Some(record_problems(
            workspace,
            &index,
            &mut history,
            found,
            units,
            fault,
        )?),
        None => None,
    };
    let problems = recorded.as_ref().map(|(summary, _)| summary.clone());
    fault.check("rejects")?;
    let rejects_file = rejects.persist()?;
    seconds.insert("total".to_string(), started.elapsed().as_secs_f64());
    let report = MineReport {
        run: run.clone(),
        files,
        languages: state.languages,
        index_documents: index.document_count(),
        rejects_file,
        encode: enriched.encode,
        classify: enriched.classify,
        problems,
        seconds,
    };
    fault.check("run-log")?;
    let summary = serde_json::to_vec_pretty(&report).expect("report serialises");
    write_atomically(&workspace.runs_dir().join(format!("{run}.json")), &summary)?;
    // Reports read the run log just written (data coverage), so they come last.
    let (unfinished, left_by_an_earlier_run) = match recorded {
        Some((_, file)) => (Some(file), false),
        None => (crate::report::unfinished_reports(workspace, &period)?, true),
    };
    if let Some(file) = &unfinished {
        if left_by_an_earlier_run {
            tracing::warn!(
                period = %file.period,
                "the reports were not finished for the index as committed; writing them again"
            );
        }
        crate::report::write_reports(workspace, file, fault, progress)?;
    }
    Ok(report)
}

/// Removes the temporary files a killed run left in the folders a run writes (the reports
/// folders are cleaned when their reports are written). The caller holds the index's write
/// lock, so no other run is writing them.
fn remove_leftovers(workspace: &Workspace) {
    let history = history_path(workspace.root());
    let folders = [
        workspace.rejects_dir(),
        workspace.runs_dir(),
        history.parent().map(Path::to_path_buf).unwrap_or_default(),
    ];
    for folder in &folders {
        remove_temporary_files(folder);
    }
}

/// Deduplication state of one run.
#[derive(Default)]
struct RunState {
    /// Documents new to the workspace, waiting for the model stages and the index.
    fresh: Vec<Document>,
    ids: HashSet<String>,
    hashes: HashSet<String>,
    /// Raw-text keys of rows whose content hash the run has seen (accepted, or a duplicate by
    /// content): a later row with the same raw text normalises to the same content hash, so it
    /// is a duplicate without normalising it.
    hashed_raw: HashSet<RawKey>,
    languages: BTreeMap<String, u64>,
}

/// The first 16 bytes of sha256 of a row's raw text.
type RawKey = [u8; 16];

fn raw_key(text: &str) -> RawKey {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

impl RunState {
    /// True when the document is already in the index or earlier in this run; records it if not.
    fn is_duplicate(&mut self, document: &Document, batch: &IndexBatch) -> bool {
        if self.ids.contains(&document.id)
            || self.hashes.contains(&document.content_hash)
            || batch.contains_id(&document.id)
            || batch.contains_hash(&document.content_hash)
        {
            return true;
        }
        self.ids.insert(document.id.clone());
        self.hashes.insert(document.content_hash.clone());
        false
    }
}

fn mine_file(
    input: &InputFile,
    settings: &IngestSettings,
    batch: &IndexBatch,
    state: &mut RunState,
    rejects: &mut RejectsWriter,
    progress: &dyn Progress,
) -> Result<FileSummary> {
    let mut summary = FileSummary {
        file: input.path().display().to_string(),
        format: format!("{} {}", input.format(), input.encoding_name()),
        ..Default::default()
    };
    progress.start(
        &format!("ingest {}", input.path().display()),
        Some(input.size()),
    );
    let mut rows = input.rows(settings)?;
    let mut reported_bytes = 0;
    // The next chunk is read (and its raw texts keyed) on a second thread while this one
    // normalises the current chunk; the channel holds one chunk, so memory stays bounded.
    std::thread::scope(|scope| -> Result<()> {
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        scope.spawn(move || loop {
            let chunk: Vec<Row> = rows.by_ref().take(CHUNK_ROWS).collect();
            if chunk.is_empty() {
                break;
            }
            let keys: Vec<Option<RawKey>> = chunk
                .iter()
                .map(|row| row.as_ref().ok().map(|feedback| raw_key(&feedback.text)))
                .collect();
            // A closed channel means the run stopped on an error: stop reading.
            if sender.send((chunk, keys, rows.bytes_read())).is_err() {
                break;
            }
        });
        for (chunk, keys, bytes) in receiver {
            mine_chunk(chunk, keys, batch, state, &mut summary, rejects)?;
            progress.advance(bytes.saturating_sub(reported_bytes));
            reported_bytes = bytes;
        }
        Ok(())
    })?;
    progress.finish();
    Ok(summary)
}

/// Normalises, deduplicates and sorts one chunk of rows (with their raw-text keys) into
/// accepted documents, duplicates and rejects.
fn mine_chunk(
    chunk: Vec<Row>,
    keys: Vec<Option<RawKey>>,
    batch: &IndexBatch,
    state: &mut RunState,
    summary: &mut FileSummary,
    rejects: &mut RejectsWriter,
) -> Result<()> {
    summary.read += chunk.len() as u64;
    // A row whose raw text repeats an earlier row of the chunk waits (unnormalised) until the
    // earlier row is settled: a duplicate if its content hash is now known, normalised after
    // all if not (the earlier row was rejected, or a duplicate by id only).
    let mut first_in_chunk = HashSet::new();
    let repeats: Vec<bool> = keys
        .iter()
        .map(|key| {
            key.is_some_and(|key| state.hashed_raw.contains(&key) || !first_in_chunk.insert(key))
        })
        .collect();
    let outcomes: Vec<Outcome> = chunk
        .into_par_iter()
        .zip(repeats)
        .map(|(row, repeat)| match row {
            Ok(feedback) if repeat => Outcome::Repeat(feedback),
            row => Outcome::Normalised(row.and_then(normalised)),
        })
        .collect();
    for (outcome, key) in outcomes.into_iter().zip(keys) {
        let result = match outcome {
            Outcome::Normalised(result) => result,
            Outcome::Repeat(_) if key.is_some_and(|key| state.hashed_raw.contains(&key)) => {
                summary.duplicate += 1;
                continue;
            }
            Outcome::Repeat(feedback) => normalised(feedback),
        };
        match result {
            Err(reject) => {
                summary.rejected += 1;
                rejects.push(&reject)?;
            }
            Ok(document) if state.is_duplicate(&document, batch) => {
                summary.duplicate += 1;
                let hash = &document.content_hash;
                if state.hashes.contains(hash) || batch.contains_hash(hash) {
                    if let Some(key) = key {
                        state.hashed_raw.insert(key);
                    }
                }
            }
            Ok(document) => {
                *state
                    .languages
                    .entry(document.language.code().to_string())
                    .or_default() += 1;
                summary.accepted += 1;
                state.fresh.push(document);
                if let Some(key) = key {
                    state.hashed_raw.insert(key);
                }
            }
        }
    }
    Ok(())
}

/// A row of a chunk: normalised, or held back because its raw text repeats an earlier row.
enum Outcome {
    Normalised(Result<Document, Reject>),
    Repeat(crate::document::Feedback),
}

/// Normalises an accepted row; text that is empty once cleaned is rejected.
fn normalised(feedback: crate::document::Feedback) -> Result<Document, Reject> {
    let (document, raw) = normalise_keeping_raw(feedback);
    if document.text.trim().is_empty() {
        return Err(Reject {
            origin: document.origin,
            reason: "text is empty once markup and whitespace are removed".into(),
            raw,
        });
    }
    Ok(document)
}

/// Streams rejected rows as CSV (file, line, reason, raw) into a file beside `path`, so a file
/// of many large bad rows costs no memory; `path` itself appears only at [`RejectsWriter::persist`]
/// (a failed run leaves no half-written rejects file), and only when something was rejected.
/// Reason and raw content are PII-masked unless the writer was made with `raw` set.
struct RejectsWriter {
    path: PathBuf,
    raw: bool,
    writer: Option<csv::Writer<AtomicFile>>,
}

impl RejectsWriter {
    fn new(path: PathBuf, raw: bool) -> Self {
        RejectsWriter {
            path,
            raw,
            writer: None,
        }
    }

    fn push(&mut self, reject: &Reject) -> Result<(), WorkspaceError> {
        let failed = |error: csv::Error| WorkspaceError::io("write", &self.path)(error.into());
        let writer = match &mut self.writer {
            Some(writer) => writer,
            None => {
                let mut writer = csv::Writer::from_writer(AtomicFile::create(&self.path)?);
                writer
                    .write_record(["file", "line", "reason", "raw"])
                    .map_err(failed)?;
                self.writer.insert(writer)
            }
        };
        let shown = |text: &str| {
            if self.raw {
                text.to_string()
            } else {
                crate::normalise::mask_pii(text).0
            }
        };
        let (reason, raw) = (shown(&reject.reason), shown(&reject.raw));
        writer
            .write_record([
                reject.origin.file.as_str(),
                reject.origin.line.to_string().as_str(),
                reason.as_str(),
                raw.as_str(),
            ])
            .map_err(failed)
    }

    /// Puts the rejects file in place; `None` when nothing was rejected.
    fn persist(self) -> Result<Option<PathBuf>, WorkspaceError> {
        let Some(writer) = self.writer else {
            return Ok(None);
        };
        let file = writer
            .into_inner()
            .map_err(|error| WorkspaceError::io("write", &self.path)(error.into_error()))?;
        file.commit()?;
        Ok(Some(self.path))
    }
}

/// Writes rejected rows as CSV (file, line, reason, raw) to `path`, atomically; personal data
/// in reason and raw content is masked unless `raw`.
pub fn write_rejects(path: &Path, rejects: &[Reject], raw: bool) -> Result<(), WorkspaceError> {
    let mut writer = RejectsWriter::new(path.to_path_buf(), raw);
    for reject in rejects {
        writer.push(reject)?;
    }
    writer.persist().map(|_| ())
}

/// A run id from the current UTC time, sortable.
fn run_id() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string()
}
