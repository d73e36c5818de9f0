//! Between the problem stages and the rest of a `mine` run: which committed documents are
//! candidates, the run's period, placing the found problems on the new documents and on the
//! archive documents they moved (replaced in the same index batch), and recording the period's
//! problems and history once the index has committed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::problems::{find_problems, is_candidate, Candidate, FoundProblems, ProblemContext};
use crate::cluster::history::{history_path, ClusterHistory};
use crate::cluster::period::{period_of, period_of_run};
use crate::config::ClusterConfig;
use crate::document::{Document, Enrichment};
use crate::fault::Fault;
use crate::index::{DocumentIndex, Fields, IndexBatch, StoredDocument};
use crate::model::Embeddings;
use crate::problem::ProblemsFile;
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

/// Runs the problem stages over the archive's candidates and this run's, sets the new
/// documents' cluster and team, and queues the archive documents whose placement changed for
/// replacement in the batch.
#[allow(clippy::too_many_arguments)]
pub(super) fn place_problems(
    fresh: &mut [Document],
    enrichments: &mut [Enrichment],
    archive: &[StoredDocument],
    embeddings: &Embeddings,
    batch: &IndexBatch,
    workspace: &Workspace,
    history: &ClusterHistory,
    context: &ProblemContext,
    progress: &dyn Progress,
) -> Result<FoundProblems> {
    let config = &workspace.config;
    let fresh_rows: Vec<usize> = (0..fresh.len())
        .filter(|&row| is_candidate(&fresh[row], &enrichments[row], &config.cluster))
        .collect();
    let mut candidates: Vec<Candidate<'_>> = archive
        .iter()
        .enumerate()
        .map(|(position, stored)| Candidate {
            document: &stored.document,
            enrichment: &stored.enrichment,
            run: &stored.run,
            embedding: embeddings.row(fresh.len() + position),
        })
        .collect();
    candidates.extend(fresh_rows.iter().map(|&row| Candidate {
        document: &fresh[row],
        enrichment: &enrichments[row],
        run: &context.run,
        embedding: embeddings.row(row),
    }));
    let found = find_problems(&candidates, config, history, context, progress);
    drop(candidates);
    let (archive_placements, fresh_placements) = found.placements.split_at(archive.len());
    for (stored, placement) in archive.iter().zip(archive_placements) {
        let enrichment = placed(&stored.enrichment, placement);
        if enrichment != stored.enrichment {
            batch.replace(stored, &enrichment)?;
        }
    }
    for (&row, placement) in fresh_rows.iter().zip(fresh_placements) {
        enrichments[row] = placed(&enrichments[row], placement);
    }
    Ok(found)
}

fn placed(enrichment: &Enrichment, placement: &Option<(String, String)>) -> Enrichment {
    Enrichment {
        cluster: placement.as_ref().map(|(problem, _)| problem.clone()),
        team: placement.as_ref().map(|(_, team)| team.clone()),
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
    fault: &Fault,
) -> Result<(ProblemsSummary, ProblemsFile)> {
    let FoundProblems {
        file,
        mut entry,
        next_id,
        placements: _,
    } = found;
    let path = workspace.reports_dir(&file.period).join("problems.json");
    let bytes = serde_json::to_vec_pretty(&file).expect("problems serialise");
    write_atomically(&path, &bytes)?;
    fault.check("history")?;
    entry.index_documents = index.document_count();
    history.record(entry, next_id);
    history.save(&history_path(workspace.root()))?;
    Ok((summarise(&file, path), file))
}

fn summarise(file: &ProblemsFile, path: PathBuf) -> ProblemsSummary {
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
    }
}
