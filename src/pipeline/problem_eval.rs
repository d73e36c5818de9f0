//! `vocmine eval --task problems`: the problem stage as `mine` runs it (every row a candidate
//! document, split into complaint units, encoded, clustered, named and routed), scored against
//! the reason each document was labelled with by reading. Each document's problem is the one
//! holding most of its units; a document in no problem counts as one extra group. Scores: NMI,
//! AMI and purity against the reason, AMI against a second column (the brand, e.g. the airline:
//! a brand-blind stage scores near 0), the unassigned share, and every problem with its title,
//! size and majority reason. Side by side, in the same run: k-means on the same unit embeddings
//! at the true number of reasons, k-means on the document embeddings, and the document-level
//! stage (each whole document one unit, by its document embedding, as before units).

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;

use super::cluster_eval::whole_document_units;
use super::labelled::{Labelled, LabelledSettings};
use super::units::{complaint_units, CandidateUnits, UnitReport, UnitSource};
use crate::cluster::kmeans::kmeans;
use crate::cluster::metrics::{adjusted_mutual_information, normalized_mutual_information, purity};
use crate::config::{Config, EnglishUnitEncoder};
use crate::document::Enrichment;
use crate::model::{open_encoder, ModelChoice};
use crate::problems::history::ClusterHistory;
use crate::problems::{find_problems, Candidate, FoundProblems, ProblemContext, ProblemUnit};
use crate::progress::Progress;
use crate::Result;

/// Scores of one way of finding problems.
#[derive(Debug, Clone, Serialize)]
pub struct MethodScores {
    /// Which method.
    pub method: String,
    /// Groups found.
    pub problems: usize,
    /// Share of documents in no problem.
    pub unassigned_share: f64,
    /// NMI against the reason (unassigned documents form one extra group).
    pub nmi: f64,
    /// Adjusted mutual information against the reason.
    pub ami: f64,
    /// Purity against the reason.
    pub purity: f64,
    /// AMI against the second column, when one was given.
    pub ami_second: Option<f64>,
    /// Seconds (embeddings already computed).
    pub seconds: f64,
}

/// One problem of the default stage, as the evaluation shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemLine {
    /// Problem id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its one-line statement.
    pub statement: String,
    /// Documents whose problem it is.
    pub documents: usize,
    /// The most common reason among them.
    pub reason: String,
    /// Its share among them.
    pub reason_share: f64,
    /// Parent theme, if any.
    pub parent: Option<String>,
}

/// The whole evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemEvalReport {
    /// Documents scored.
    pub rows: usize,
    /// Distinct reasons.
    pub reasons: usize,
    /// The default stage first, then the baselines.
    pub methods: Vec<MethodScores>,
    /// The default stage's problems, largest first.
    pub problems: Vec<ProblemLine>,
    /// How the documents were split into units.
    pub units: UnitReport,
}

/// Runs the problem stage and the baselines over `labelled` and scores them. `second` holds one
/// label per row of a second column (brand), when given.
pub fn evaluate_problems(
    labelled: &Labelled,
    settings: &LabelledSettings,
    second: Option<&[String]>,
    config: &Config,
    progress: &dyn Progress,
) -> Result<ProblemEvalReport> {
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
    let sources: Vec<UnitSource<'_>> = candidates
        .iter()
        .map(|candidate| UnitSource {
            document: candidate.document,
            complaint: false,
        })
        .collect();
    let mut encoder = open_encoder(settings.model, settings.encoder.clone())?;
    let mut english = match config.cluster.english_encoder {
        EnglishUnitEncoder::Minilm => {
            Some(open_encoder(ModelChoice::MiniLm, settings.encoder.clone())?)
        }
        EnglishUnitEncoder::Model => None,
    };
    let chosen = complaint_units(
        &sources,
        &mut encoder,
        english
            .as_mut()
            .map(|english| english as &mut dyn crate::model::Encoder),
        &settings.cache_root,
        &config.cluster.sentiments,
        progress,
    )?;
    let scorer = Scorer {
        truth: &labelled.labels,
        second,
    };
    let units = chosen.problem_units();
    let started = Instant::now();
    let found = run_stage(&candidates, &units, config, progress);
    let stage = scorer.score("problem stage (units)", &primary(&found), started);
    let problems = problem_lines(&found, &labelled.labels);
    let reasons = distinct(&labelled.labels);
    let mut methods = vec![stage];
    let started = Instant::now();
    let by_unit = kmeans(
        &chosen.embeddings,
        chosen.dimension,
        reasons,
        config.cluster.seed,
    );
    let unit_groups = majority_per_document(candidates.len(), &chosen, &by_unit);
    methods.push(scorer.score("k-means on the unit embeddings", &unit_groups, started));
    let started = Instant::now();
    let dimension = labelled.embeddings.dimension();
    let by_document = kmeans(
        labelled.embeddings.as_slice(),
        dimension,
        reasons,
        config.cluster.seed,
    );
    let document_groups: Vec<String> = by_document.iter().map(|g| format!("k{g}")).collect();
    methods.push(scorer.score(
        "k-means on the document embeddings",
        &document_groups,
        started,
    ));
    let started = Instant::now();
    let whole = whole_document_units(&candidates, labelled);
    let documents = run_stage(&candidates, &whole, config, progress);
    methods.push(scorer.score("document-level stage", &primary(&documents), started));
    Ok(ProblemEvalReport {
        rows: candidates.len(),
        reasons,
        methods,
        problems,
        units: chosen.report,
    })
}

fn run_stage(
    candidates: &[Candidate<'_>],
    units: &[ProblemUnit<'_>],
    config: &Config,
    progress: &dyn Progress,
) -> FoundProblems {
    let context = ProblemContext {
        period: "evaluation".to_string(),
        run: "evaluation".to_string(),
        model: "evaluation".to_string(),
    };
    find_problems(
        candidates,
        units,
        &[],
        config,
        &ClusterHistory::default(),
        &context,
        progress,
    )
}

/// Each document's problem id, `""` when it has none.
fn primary(found: &FoundProblems) -> Vec<String> {
    found
        .placements
        .iter()
        .map(|placement| {
            placement
                .as_ref()
                .map_or_else(String::new, |(id, _)| id.clone())
        })
        .collect()
}

/// Each document's most common group among its units (ties: the smaller group), `""` without
/// units.
fn majority_per_document(documents: usize, chosen: &CandidateUnits, groups: &[u32]) -> Vec<String> {
    let mut counts: Vec<BTreeMap<u32, usize>> = vec![BTreeMap::new(); documents];
    for (unit, &group) in chosen.units.iter().zip(groups) {
        *counts[unit.source].entry(group).or_default() += 1;
    }
    counts
        .iter()
        .map(|count| {
            count
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map_or_else(String::new, |(group, _)| format!("k{group}"))
        })
        .collect()
}

fn distinct(labels: &[String]) -> usize {
    labels
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

/// Scores groupings against the reasons and the second column.
struct Scorer<'a> {
    truth: &'a [String],
    second: Option<&'a [String]>,
}

impl Scorer<'_> {
    fn score(&self, method: &str, groups: &[String], started: Instant) -> MethodScores {
        let unassigned = groups.iter().filter(|group| group.is_empty()).count();
        MethodScores {
            method: method.to_string(),
            problems: distinct(
                &groups
                    .iter()
                    .filter(|g| !g.is_empty())
                    .cloned()
                    .collect::<Vec<_>>(),
            ),
            unassigned_share: unassigned as f64 / groups.len().max(1) as f64,
            nmi: normalized_mutual_information(self.truth, groups),
            ami: adjusted_mutual_information(self.truth, groups),
            purity: purity(self.truth, groups),
            ami_second: self
                .second
                .map(|second| adjusted_mutual_information(second, groups)),
            seconds: started.elapsed().as_secs_f64(),
        }
    }
}

/// The stage's problems with their majority reason, largest first.
fn problem_lines(found: &FoundProblems, truth: &[String]) -> Vec<ProblemLine> {
    let groups = primary(found);
    let mut lines: Vec<ProblemLine> = found
        .entry
        .problems
        .iter()
        .map(|tracked| {
            let problem = &tracked.problem;
            let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
            for (group, reason) in groups.iter().zip(truth) {
                if *group == problem.id {
                    *reasons.entry(reason.as_str()).or_default() += 1;
                }
            }
            let documents: usize = reasons.values().sum();
            let (reason, count) = reasons
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map_or(("", 0), |(reason, count)| (*reason, *count));
            ProblemLine {
                id: problem.id.clone(),
                title: problem.title.clone(),
                statement: problem.statement.clone(),
                documents,
                reason: reason.to_string(),
                reason_share: count as f64 / documents.max(1) as f64,
                parent: problem.parent.clone(),
            }
        })
        .collect();
    lines.sort_by(|a, b| b.documents.cmp(&a.documents).then(a.id.cmp(&b.id)));
    lines
}
