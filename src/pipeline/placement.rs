//! Between the problem stages and the rest of a `mine` run: which committed documents are
//! candidates, the run's period, placing the found problems on the new documents and on the
//! archive documents they moved (replaced in the same index batch), and recording the period's
//! problems and history once the index has committed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::units::{complaint_units, UnitReport, UnitSource};
use crate::config::{ClusterConfig, EnglishUnitEncoder, ModelConfig};
use crate::document::{Document, Enrichment};
use crate::fault::Fault;
use crate::index::{DocumentIndex, Fields, IndexBatch, StoredDocument};
use crate::model::Encoder;
use crate::model::ModelChoice;
use crate::problem::ProblemsFile;
use crate::problems::history::{history_path, ClusterHistory};
use crate::problems::period::{period_of, period_of_run};
use crate::problems::{
    find_problems, is_candidate, is_complaint_source, Candidate, FoundProblems, ProblemContext,
};
use crate::progress::Progress;
use crate::workspace::{write_atomically, Workspace};
use crate::Result;

/// The recurring problems of a run, in brief.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemsSummary {
    /// The period clustered.
    pub period: String,
    /// Documents considered (negative or complaint).
    pub candidates: u64,
    /// Problems found (not counting gone ones).
    pub problems: usize,
    /// Share of candidates in no problem.
    pub unassigned_share: f64,
    /// Problems per status.
    pub statuses: BTreeMap<String, usize>,
    /// Problems per team.
    pub teams: BTreeMap<String, usize>,
    /// Where `problems.json` was written.
    pub file: PathBuf,
    /// How the candidates were split into complaint units.
    pub units: UnitReport,
}

/// The default period of a run: the month of the latest dated new document, else the latest
/// period clustered, else the month of the run.
pub(super) fn default_period(fresh: &[Document], history: &ClusterHistory, run: &str) -> String {
    fresh
        .iter()
        .filter_map(|document| document.metadata.date)
        .max()
        .map(period_of)
        .or_else(|| history.latest_period().map(str::to_string))
        .or_else(|| period_of_run(run))
        .unwrap_or_else(|| "undated".to_string())
}

/// Committed documents the cluster stage considers: a configured sentiment or source.
pub(super) fn candidate_query(
    fields: &Fields,
    config: &ClusterConfig,
) -> tantivy::query::BooleanQuery {
    use tantivy::query::{Occur, Query, TermQuery};
    use tantivy::schema::IndexRecordOption;
    let terms = config
        .sentiments
        .iter()
        .map(|value| (fields.sentiment, value))
        .chain(config.sources.iter().map(|value| (fields.source, value)));
    let clauses: Vec<(Occur, Box<dyn Query>)> = terms
        .map(|(field, value)| {
            let term = tantivy::Term::from_field_text(field, value);
            let query: Box<dyn Query> = Box::new(TermQuery::new(term, IndexRecordOption::Basic));
            (Occur::Should, query)
        })
        .collect();
    tantivy::query::BooleanQuery::new(clauses)
}

/// Runs the problem stage over the archive's candidates and this run's (their complaint units
/// encoded with `encoder`, mostly from the cache), sets the new documents' cluster and team, and
/// queues the archive documents whose placement changed for replacement in the batch.
#[allow(clippy::too_many_arguments)]
pub(super) fn place_problems(
    fresh: &mut [Document],
    enrichments: &mut [Enrichment],
    archive: &[StoredDocument],
    encoders: UnitEncoders<'_>,
    batch: &IndexBatch,
    workspace: &Workspace,
    history: &ClusterHistory,
    context: &ProblemContext,
    progress: &dyn Progress,
) -> Result<(FoundProblems, UnitReport)> {
    let config = &workspace.config;
    let background = background_texts(batch)?;
    let background: Vec<&str> = background
        .iter()
        .map(String::as_str)
        .chain(
            fresh
                .iter()
                .zip(enrichments.iter())
                .filter(|(_, enrichment)| enrichment.sentiment.as_deref() == Some("positive"))
                .map(|(document, _)| document.text.as_str()),
        )
        .collect();
    let fresh_rows: Vec<usize> = (0..fresh.len())
        .filter(|&row| is_candidate(&fresh[row], &enrichments[row], &config.cluster))
        .collect();
    let mut candidates: Vec<Candidate<'_>> = archive
        .iter()
        .map(|stored| Candidate {
            document: &stored.document,
            enrichment: &stored.enrichment,
            run: &stored.run,
        })
        .collect();
    candidates.extend(fresh_rows.iter().map(|&row| Candidate {
        document: &fresh[row],
        enrichment: &enrichments[row],
        run: &context.run,
    }));
    let sources: Vec<UnitSource<'_>> = candidates
        .iter()
        .map(|candidate| UnitSource {
            document: candidate.document,
            complaint: is_complaint_source(candidate.document, &config.cluster),
        })
        .collect();
    let has_english = sources
        .iter()
        .any(|source| source.document.language == crate::document::Language::English);
    let mut english = match config.cluster.english_encoder {
        EnglishUnitEncoder::Minilm if has_english => {
            progress.start("load the English unit encoder", None);
            let english = (encoders.open)(&ModelConfig {
                encoder: ModelChoice::MiniLm,
                ..config.model.clone()
            })?;
            progress.finish();
            Some(english)
        }
        _ => None,
    };
    let chosen = complaint_units(
        &sources,
        encoders.model,
        english
            .as_mut()
            .map(|english| english.as_mut() as &mut dyn Encoder),
        &workspace.embedding_cache_dir(),
        &config.cluster.sentiments,
        progress,
    )?;
    let units = chosen.problem_units();
    let found = find_problems(
        &candidates,
        &units,
        &background,
        config,
        history,
        context,
        progress,
    );
    drop(units);
    drop(candidates);
    let placements: Vec<Placement<'_>> = found.placements.iter().zip(&found.also_in).collect();
    let (archive_placements, fresh_placements) = placements.split_at(archive.len());
    for (stored, placement) in archive.iter().zip(archive_placements) {
        let enrichment = placed(&stored.enrichment, *placement);
        if enrichment != stored.enrichment {
            batch.replace(stored, &enrichment)?;
        }
    }
    for (&row, placement) in fresh_rows.iter().zip(fresh_placements) {
        enrichments[row] = placed(&enrichments[row], *placement);
    }
    Ok((found, chosen.report))
}

/// A candidate's primary problem and team, and the other problems its units are in.
type Placement<'a> = (&'a Option<(String, String)>, &'a Vec<String>);

/// The encoders the complaint units need: the open `[model]` encoder, and how to open the English
/// unit encoder.
pub(super) struct UnitEncoders<'a> {
    /// The `[model]` encoder (sentiment, and every non-English unit).
    pub model: &'a mut dyn Encoder,
    /// Opens another encoder with the workspace's settings.
    pub open: super::OpenEncoder<'a>,
}

/// Text of the archive's positive documents (committed ones; the caller adds this run's): the
/// background complaint phrases are contrasted with.
fn background_texts(batch: &IndexBatch) -> Result<Vec<String>> {
    let fields = batch.fields();
    let term = tantivy::Term::from_field_text(fields.sentiment, "positive");
    let query = tantivy::query::TermQuery::new(term, tantivy::schema::IndexRecordOption::Basic);
    Ok(batch
        .stored_where(&query)?
        .into_iter()
        .map(|stored| stored.document.text)
        .collect())
}

fn placed(enrichment: &Enrichment, (primary, also_in): Placement<'_>) -> Enrichment {
    Enrichment {
        cluster: primary.as_ref().map(|(problem, _)| problem.clone()),
        team: primary.as_ref().map(|(_, team)| team.clone()),
        also_in: also_in.clone(),
        ..enrichment.clone()
    }
}

/// Writes the period's `problems.json` and records the period in the cluster history, after
/// the index commit that made the placements visible.
pub(super) fn record_problems(
    workspace: &Workspace,
    index: &DocumentIndex,
    history: &mut ClusterHistory,
    found: FoundProblems,
    units: UnitReport,
    fault: &Fault,
) -> Result<(ProblemsSummary, ProblemsFile)> {
    let FoundProblems {
        file,
        mut entry,
        next_id,
        placements: _,
        also_in: _,
        unit_problems: _,
    } = found;
    let path = workspace.reports_dir(&file.period).join("problems.json");
    let bytes = serde_json::to_vec_pretty(&file).expect("problems serialise");
    write_atomically(&path, &bytes)?;
    fault.check("history")?;
    entry.index_documents = index.document_count();
    history.record(entry, next_id);
    history.save(&history_path(workspace.root()))?;
    Ok((summarise(&file, path, units), file))
}

fn summarise(file: &ProblemsFile, path: PathBuf, units: UnitReport) -> ProblemsSummary {
    let mut statuses = BTreeMap::new();
    let mut teams = BTreeMap::new();
    for problem in &file.problems {
        *statuses
            .entry(problem.status.name().to_string())
            .or_default() += 1;
        if problem.status != crate::problem::ProblemStatus::Gone {
            *teams.entry(problem.team.clone()).or_default() += 1;
        }
    }
    ProblemsSummary {
        period: file.period.clone(),
        candidates: file.candidates,
        problems: file.problems.len() - statuses.get("gone").copied().unwrap_or(0),
        unassigned_share: file.unassigned_share,
        statuses,
        teams,
        file: path,
        units,
    }
}
