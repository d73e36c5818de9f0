//! `vocmine eval --task cluster`: the problem stage (cluster, label, route) as `mine` runs it,
//! with every row of a labelled file as one unit (the whole document, by its document
//! embedding), scored against the labels: NMI and ARI over all rows (an
//! unassigned row counts as its own group), NMI over the assigned rows, the share left
//! unassigned, and the stages' time with the embeddings already computed.

use std::time::Instant;

use serde::Serialize;

use super::labelled::Labelled;
use crate::cluster::metrics::{adjusted_rand_index, normalized_mutual_information};
use crate::config::Config;
use crate::document::Enrichment;
use crate::problems::history::ClusterHistory;
use crate::problems::{find_problems, Candidate, ProblemContext, ProblemUnit};
use crate::progress::Progress;

/// Clustering quality against labels.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterEvalReport {
    /// Rows clustered.
    pub rows: usize,
    /// Distinct labels.
    pub labels: usize,
    /// Problems found.
    pub clusters: usize,
    /// Share of rows in no problem.
    pub unassigned_share: f64,
    /// NMI against the labels over all rows (unassigned rows form one extra group).
    pub nmi: f64,
    /// NMI over the assigned rows only.
    pub nmi_assigned: f64,
    /// Adjusted Rand index over all rows.
    pub ari: f64,
    /// Seconds for cluster + label + route (embeddings already computed).
    pub seconds: f64,
}

/// Runs the problem stages over every row of `labelled` with `config`'s settings and scores them.
pub fn evaluate_clustering(
    labelled: &Labelled,
    config: &Config,
    progress: &dyn Progress,
) -> ClusterEvalReport {
    let enrichment = Enrichment::default();
    let candidates: Vec<Candidate<'_>> = labelled
        .read
        .documents
        .iter()
        .map(|document| Candidate {
            document,
            enrichment: &enrichment,
            run: "",
        })
        .collect();
    let units = whole_document_units(&candidates, labelled);
    let context = ProblemContext {
        period: "evaluation".to_string(),
        run: "evaluation".to_string(),
        model: "evaluation".to_string(),
    };
    let started = Instant::now();
    let found = find_problems(
        &candidates,
        &units,
        &[],
        config,
        &ClusterHistory::default(),
        &context,
        progress,
    );
    let seconds = started.elapsed().as_secs_f64();
    let found_labels: Vec<String> = found
        .placements
        .iter()
        .map(|placement| {
            placement
                .as_ref()
                .map_or_else(String::new, |(id, _)| id.clone())
        })
        .collect();
    let assigned: Vec<usize> = (0..found_labels.len())
        .filter(|&row| !found_labels[row].is_empty())
        .collect();
    let pick = |values: &[String]| -> Vec<String> {
        assigned.iter().map(|&row| values[row].clone()).collect()
    };
    let distinct: std::collections::BTreeSet<&String> = labelled.labels.iter().collect();
    ClusterEvalReport {
        rows: candidates.len(),
        labels: distinct.len(),
        clusters: found.entry.problems.len(),
        unassigned_share: found.file.unassigned_share,
        nmi: normalized_mutual_information(&labelled.labels, &found_labels),
        nmi_assigned: normalized_mutual_information(&pick(&labelled.labels), &pick(&found_labels)),
        ari: adjusted_rand_index(&labelled.labels, &found_labels),
        seconds,
    }
}

/// One unit per row: the whole text, clustered by the document's own embedding (the document
/// level problem stage).
pub(super) fn whole_document_units<'a>(
    candidates: &[Candidate<'_>],
    labelled: &'a Labelled,
) -> Vec<ProblemUnit<'a>> {
    candidates
        .iter()
        .enumerate()
        .map(|(row, candidate)| ProblemUnit {
            candidate: row,
            start: 0,
            end: candidate.document.text.len(),
            negative: true,
            embedding: labelled.embeddings.row(row),
            space: 0,
        })
        .collect()
}
