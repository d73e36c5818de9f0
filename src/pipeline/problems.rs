//! The problem stages of a `mine` run: cluster -> label -> route over the candidate documents of
//! the whole archive (negative, or from a complaint source), then each problem's id (matched
//! against the cluster history), trend and impact. Plain data in, plain data out: the caller
//! reads the candidates from the index and the embedding cache, and writes what comes back.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use crate::cluster::history::{
    problem_id, problem_number, ClusterHistory, PeriodEntry, TrackedProblem,
};
use crate::cluster::impact::{impact_score, ImpactInputs, ImpactSettings};
use crate::cluster::keywords::{tfidf_rows, KeywordSettings};
use crate::cluster::period::{last_day, period_of, period_of_run, periods_between};
use crate::cluster::tracking::{
    assign_ids, match_clusters, ClusterMatching, TrackedCluster, TrackingSettings,
};
use crate::cluster::trend::{cluster_status, is_spike, TrendSettings};
use crate::cluster::{cluster, timed, ClusterSettings, Clustering};
use crate::config::{ClusterConfig, Config};
use crate::document::{Document, Enrichment};
use crate::label::{
    label_clusters, term_occurrences, ClusterLabel, LabelInput, LabelSettings, TermOccurrence,
};
use crate::problem::{Assignment, Problem, ProblemStatus, ProblemsFile, Quote};
use crate::progress::Progress;
use crate::route::{Route, RouteDocument, RouteSettings, Router};

/// One document the cluster stage considers.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The document.
    pub document: &'a Document,
    /// Its sentiment and topic.
    pub enrichment: &'a Enrichment,
    /// The run that added it (its period when it has no date).
    pub run: &'a str,
    /// Its embedding.
    pub embedding: &'a [f32],
}

/// True when a document is clustered: its sentiment or its source is one the config names.
pub fn is_candidate(document: &Document, enrichment: &Enrichment, config: &ClusterConfig) -> bool {
    let sentiment = enrichment
        .sentiment
        .as_ref()
        .is_some_and(|sentiment| config.sentiments.contains(sentiment));
    let source = document
        .metadata
        .source
        .as_ref()
        .is_some_and(|source| config.sources.contains(source));
    sentiment || source
}

/// The period being clustered, the run and the encoder's model id.
#[derive(Debug, Clone)]
pub struct ProblemContext {
    /// `YYYY-MM`.
    pub period: String,
    /// The run's id.
    pub run: String,
    /// The encoder's model id (centroids of different encoders are never matched).
    pub model: String,
}

/// What the problem stages found.
#[derive(Debug, Clone)]
pub struct FoundProblems {
    /// The period's problems, for reports.
    pub file: ProblemsFile,
    /// The history entry to record (`index_documents` is the caller's to fill).
    pub entry: PeriodEntry,
    /// The next free problem number after this run.
    pub next_id: u32,
    /// Per candidate, in input order: its problem id and team, or `None` when unassigned.
    pub placements: Vec<Option<(String, String)>>,
}

/// Clusters, labels, routes and trends the candidates.
pub fn find_problems(
    candidates: &[Candidate<'_>],
    config: &Config,
    history: &ClusterHistory,
    context: &ProblemContext,
    progress: &dyn Progress,
) -> FoundProblems {
    progress.start("cluster recurring problems", None);
    let dimension = candidates
        .first()
        .map_or(0, |candidate| candidate.embedding.len());
    let (clustering, terms) = cluster_candidates(candidates, dimension, &config.cluster);
    progress.finish();
    let previous = history.previous(&context.period, &context.model);
    let matching = match_previous(previous, &clustering, dimension, &config.cluster);
    let numbers = assign_ids(&matching, history.next_id.max(1));
    let members = members_of(&clustering);
    progress.start("label and route problems", None);
    let labels = timed("label", || label_candidates(candidates, &clustering, terms));
    let router = Router::new(
        &config.teams,
        &config.topics,
        RouteSettings::from_config(&config.route),
    );
    let mut tracked: Vec<TrackedProblem> = (0..clustering.cluster_count)
        .map(|index| {
            let view = ClusterView {
                index,
                number: numbers[index],
                members: &members[index],
                label: labels.get(&(index as u32)),
                centroid: &clustering.centroids[index * dimension..(index + 1) * dimension],
            };
            let problem = build_problem(
                &view,
                candidates,
                &router,
                &matching,
                previous.is_some(),
                context,
            );
            TrackedProblem {
                problem,
                centroid: view.centroid.to_vec(),
            }
        })
        .collect();
    progress.finish();
    tracked.sort_by(|a, b| b.problem.impact.total_cmp(&a.problem.impact));
    let gone = gone_problems(previous, &matching);
    finish(
        candidates,
        &clustering,
        tracked,
        gone,
        &numbers,
        history,
        context,
    )
}

/// Assembles the outputs once every problem is built.
fn finish(
    candidates: &[Candidate<'_>],
    clustering: &Clustering,
    tracked: Vec<TrackedProblem>,
    gone: Vec<Problem>,
    numbers: &[u32],
    history: &ClusterHistory,
    context: &ProblemContext,
) -> FoundProblems {
    let team_of: HashMap<String, String> = tracked
        .iter()
        .map(|tracked| (tracked.problem.id.clone(), tracked.problem.team.clone()))
        .collect();
    let placements: Vec<Option<(String, String)>> = clustering
        .labels
        .iter()
        .map(|label| {
            label.map(|index| {
                let id = problem_id(numbers[index as usize]);
                let team = team_of[&id].clone();
                (id, team)
            })
        })
        .collect();
    let assignments = candidates
        .iter()
        .zip(&placements)
        .filter_map(|(candidate, placement)| {
            placement.as_ref().map(|(problem, team)| Assignment {
                id: candidate.document.id.clone(),
                problem: problem.clone(),
                team: team.clone(),
            })
        })
        .collect();
    let next_id = numbers
        .iter()
        .map(|&number| number + 1)
        .chain(std::iter::once(history.next_id.max(1)))
        .max()
        .unwrap_or(1);
    let mut problems: Vec<Problem> = tracked
        .iter()
        .map(|tracked| tracked.problem.clone())
        .collect();
    problems.extend(gone);
    FoundProblems {
        file: ProblemsFile {
            period: context.period.clone(),
            run: context.run.clone(),
            candidates: candidates.len() as u64,
            unassigned_share: clustering.unassigned_share,
            problems,
            assignments,
        },
        entry: PeriodEntry {
            period: context.period.clone(),
            run: context.run.clone(),
            model: context.model.clone(),
            index_documents: 0,
            problems: tracked,
        },
        next_id,
        placements,
    }
}

/// Clusters the candidates in a canonical order (by content hash), so the same archive gives the
/// same problems however its documents arrived; labels come back in input order, with every
/// candidate's keyword terms (for the label stage).
fn cluster_candidates(
    candidates: &[Candidate<'_>],
    dimension: usize,
    config: &ClusterConfig,
) -> (Clustering, Vec<Vec<TermOccurrence>>) {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| {
        let key = |row: usize| {
            (
                &candidates[row].document.content_hash,
                &candidates[row].document.id,
            )
        };
        key(a).cmp(&key(b))
    });
    let embeddings: Vec<f32> = order
        .iter()
        .flat_map(|&row| candidates[row].embedding.iter().copied())
        .collect();
    let terms: Vec<Vec<TermOccurrence>> = timed("keyword terms", || {
        candidates
            .par_iter()
            .map(|candidate| term_occurrences(&candidate.document.text))
            .collect()
    });
    let keywords = timed("TF-IDF", || {
        let ordered: Vec<Vec<&str>> = order
            .iter()
            .map(|&row| terms[row].iter().map(|(term, _)| term.as_str()).collect())
            .collect();
        tfidf_rows(&ordered, &KeywordSettings::default())
    });
    let settings = ClusterSettings {
        seed: config.seed,
        min_cluster_size: config.min_cluster_size,
        reassign_quantile: (config.reassign_quantile > 0.0).then_some(config.reassign_quantile),
        split_share: (config.split_share > 0.0).then_some(config.split_share),
        ..ClusterSettings::default()
    };
    let mut clustering = cluster(&embeddings, dimension, Some(&keywords), &settings);
    let mut labels = vec![None; candidates.len()];
    for (position, &row) in order.iter().enumerate() {
        labels[row] = clustering.labels[position];
    }
    clustering.labels = labels;
    (clustering, terms)
}

fn match_previous(
    previous: Option<&PeriodEntry>,
    clustering: &Clustering,
    dimension: usize,
    config: &ClusterConfig,
) -> ClusterMatching {
    let tracked: Vec<TrackedCluster> = previous
        .map(|entry| entry.problems.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|tracked| {
            Some(TrackedCluster {
                id: problem_number(&tracked.problem.id)?,
                centroid: tracked.centroid.clone(),
            })
        })
        .collect();
    let settings = TrackingSettings {
        match_threshold: config.match_threshold,
        related_threshold: config.match_threshold,
    };
    match_clusters(&tracked, &clustering.centroids, dimension, &settings)
}

fn members_of(clustering: &Clustering) -> Vec<Vec<usize>> {
    let mut members = vec![Vec::new(); clustering.cluster_count];
    for (row, label) in clustering.labels.iter().enumerate() {
        if let Some(label) = label {
            members[*label as usize].push(row);
        }
    }
    members
}

fn label_candidates(
    candidates: &[Candidate<'_>],
    clustering: &Clustering,
    terms: Vec<Vec<TermOccurrence>>,
) -> BTreeMap<u32, ClusterLabel> {
    let inputs: Vec<LabelInput<'_>> = candidates
        .iter()
        .zip(&clustering.labels)
        .zip(terms)
        .map(|((candidate, &cluster), terms)| LabelInput {
            text: &candidate.document.text,
            embedding: candidate.embedding,
            cluster,
            terms,
        })
        .collect();
    label_clusters(&inputs, &LabelSettings::default())
}

/// One cluster of this run, as the problem builder sees it.
struct ClusterView<'a> {
    index: usize,
    number: u32,
    members: &'a [usize],
    label: Option<&'a ClusterLabel>,
    centroid: &'a [f32],
}

fn build_problem(
    view: &ClusterView<'_>,
    candidates: &[Candidate<'_>],
    router: &Router,
    matching: &ClusterMatching,
    has_previous: bool,
    context: &ProblemContext,
) -> Problem {
    let members: Vec<&Candidate<'_>> = view.members.iter().map(|&row| &candidates[row]).collect();
    let counts = counts_per_period(&members, &context.period);
    let series: Vec<usize> = periods_between(
        counts.keys().next().map_or(&context.period, |first| first),
        &context.period,
    )
    .iter()
    .map(|period| counts.get(period).copied().unwrap_or(0) as usize)
    .collect();
    let trend = TrendSettings::default();
    let status = if has_previous && matching.assignments[view.index].is_none() {
        ProblemStatus::New
    } else {
        cluster_status(&series, &trend)
    };
    let negative_share = share_negative(&members);
    let customer_value = customer_value(&members);
    let route = route_members(router, &members);
    let keywords = view
        .label
        .map(|label| label.keywords.clone())
        .unwrap_or_default();
    Problem {
        id: problem_id(view.number),
        title: view
            .label
            .map(|label| label.title.clone())
            .unwrap_or_default(),
        keywords,
        quotes: quotes(view.label, candidates),
        size: members.len() as u64,
        negative_share,
        status,
        spike: is_spike(&series, &trend),
        impact: impact_of(&members, negative_share, customer_value, &context.period),
        customer_value,
        topic: most_common_topic(&members),
        team: route.team,
        route_rule: route.rule,
        route_reason: route.reason,
        merged_from: merged_from(view, matching),
        split_from: split_from(view, matching),
        counts,
    }
}

/// Documents per period: the month of the date, or of the run that added an undated document.
fn counts_per_period(members: &[&Candidate<'_>], current: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for member in members {
        let period = match member.document.metadata.date {
            Some(date) => period_of(date),
            None => period_of_run(member.run).unwrap_or_else(|| current.to_string()),
        };
        *counts.entry(period).or_default() += 1;
    }
    counts
}

fn share_negative(members: &[&Candidate<'_>]) -> f64 {
    let negative = members
        .iter()
        .filter(|member| member.enrichment.sentiment.as_deref() == Some("negative"))
        .count();
    negative as f64 / members.len().max(1) as f64
}

fn customer_value(members: &[&Candidate<'_>]) -> Option<f64> {
    let values: Vec<f64> = members
        .iter()
        .filter_map(|member| member.document.metadata.customer_value)
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

fn impact_of(
    members: &[&Candidate<'_>],
    negative_share: f64,
    customer_value: Option<f64>,
    period: &str,
) -> f64 {
    let end = last_day(period);
    let ages: Vec<f64> = members
        .iter()
        .filter_map(|member| Some((end? - member.document.metadata.date?).num_days() as f64))
        .collect();
    let mean_age_days = if ages.is_empty() {
        0.0
    } else {
        ages.iter().sum::<f64>() / ages.len() as f64
    };
    let inputs = ImpactInputs {
        size: members.len(),
        negative_share,
        mean_age_days,
        customer_value: customer_value.unwrap_or(0.0),
    };
    impact_score(&inputs, &ImpactSettings::default()).score
}

fn most_common_topic(members: &[&Candidate<'_>]) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for member in members {
        if let Some(topic) = &member.enrichment.topic {
            *counts.entry(topic.as_str()).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(topic, _)| topic.to_string())
}

fn route_members(router: &Router, members: &[&Candidate<'_>]) -> Route {
    let documents: Vec<RouteDocument<'_>> = members
        .iter()
        .map(|member| {
            let metadata = &member.document.metadata;
            RouteDocument {
                text: &member.document.text,
                topic: member.enrichment.topic.as_deref(),
                source: metadata.source.as_deref(),
                channel: metadata.channel.as_deref(),
                location: metadata.location.as_deref(),
                product: metadata.product.as_deref(),
            }
        })
        .collect();
    router.route(&documents)
}

fn quotes(label: Option<&ClusterLabel>, candidates: &[Candidate<'_>]) -> Vec<Quote> {
    label
        .map(|label| label.quotes.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|&row| {
            let document = candidates[row].document;
            Quote {
                id: document.id.clone(),
                text: document.text.clone(),
                date: document.metadata.date.map(|date| date.to_string()),
                language: document.language.code().to_string(),
            }
        })
        .collect()
}

fn merged_from(view: &ClusterView<'_>, matching: &ClusterMatching) -> Vec<String> {
    let own = matching.assignments[view.index];
    matching
        .merges
        .iter()
        .filter(|merge| merge.current == view.index)
        .flat_map(|merge| merge.previous.iter())
        .filter(|&&number| Some(number) != own)
        .map(|&number| problem_id(number))
        .collect()
}

fn split_from(view: &ClusterView<'_>, matching: &ClusterMatching) -> Option<String> {
    let own = matching.assignments[view.index];
    matching
        .splits
        .iter()
        .find(|split| split.current.contains(&view.index) && Some(split.previous) != own)
        .map(|split| problem_id(split.previous))
}

/// Problems of the previous entry that nothing in this run continues.
fn gone_problems(previous: Option<&PeriodEntry>, matching: &ClusterMatching) -> Vec<Problem> {
    let Some(previous) = previous else {
        return Vec::new();
    };
    previous
        .problems
        .iter()
        .filter(|tracked| {
            problem_number(&tracked.problem.id)
                .is_some_and(|number| matching.gone.contains(&number))
        })
        .map(|tracked| Problem {
            status: ProblemStatus::Gone,
            spike: false,
            impact: 0.0,
            ..tracked.problem.clone()
        })
        .collect()
}
