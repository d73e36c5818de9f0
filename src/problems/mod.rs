//! The problem stage: complaint units in, recurring problems out (find, name, route, track).
//! Plain data in, plain data out: the caller gives the candidate documents of the whole archive
//! (negative, or from a complaint source) and their chosen complaint units with the embeddings
//! they are clustered by (see `pipeline::units`); this stage clusters the units
//! ([`crate::cluster`]), names each problem ([`crate::label`]: a key phrase, keywords, a
//! one-line statement, quotes), groups problems under parent themes, routes each to a team
//! ([`crate::route`]) by its units, matches the problems to the previous period's
//! ([`tracking`], [`history`]) and computes trend ([`trend`]) and impact ([`impact`]).
//!
//! A document whose units fall in several problems counts in each; its own cluster and team
//! (in the index) are those of the problem holding most of its units.

pub mod anchoring;
pub mod build;
pub mod history;
pub mod impact;
mod naming;
pub mod period;
pub mod recurring;
pub mod tracking;
pub mod trend;

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use crate::cluster::{cluster, timed, ClusterSettings, Clustering};
use crate::config::{ClusterConfig, Config};
use crate::document::{Document, Enrichment};
use crate::label::{
    label_clusters, term_occurrences, ClusterLabel, LabelInput, LabelSettings, TermOccurrence,
};
use crate::problem::{Assignment, Problem, ProblemsFile, Theme};
use crate::progress::Progress;
use crate::route::{RouteSettings, Router};
use build::{build_problem, gone_problems, ClusterView};
use history::{problem_id, problem_number, unit_key, ClusterHistory, PeriodEntry, TrackedProblem};
use tracking::{assign_ids, match_clusters, ClusterMatching, TrackedCluster, TrackingSettings};

/// One document the problem stage considers.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The document.
    pub document: &'a Document,
    /// Its sentiment and topic.
    pub enrichment: &'a Enrichment,
    /// The run that added it (its period when it has no date).
    pub run: &'a str,
}

/// One complaint unit the problem stage clusters.
#[derive(Debug, Clone, Copy)]
pub struct ProblemUnit<'a> {
    /// Position of its document among the candidates.
    pub candidate: usize,
    /// Byte offset of the unit in its document's text.
    pub start: usize,
    /// Byte offset just past the unit.
    pub end: usize,
    /// The unit is classified negative (not only chosen for its complaint source).
    pub negative: bool,
    /// The unit-length embedding it is clustered by.
    pub embedding: &'a [f32],
    /// The embedding space of `embedding` (below [`SPACES`]): units of different spaces are
    /// clustered apart, and their problems never match or group with each other.
    pub space: usize,
}

/// Embedding spaces a run can hold (the `[model]` encoder's, and the English unit encoder's).
/// Tracked centroids are `SPACES` blocks wide, the problem's own block filled, so that a problem
/// is similar only to problems of its own space.
pub const SPACES: usize = 2;

impl ProblemUnit<'_> {
    /// The unit's text.
    pub fn text<'a>(&self, candidates: &[Candidate<'a>]) -> &'a str {
        &candidates[self.candidate].document.text[self.start..self.end]
    }
}

/// True when a document is clustered: its sentiment or its source is one the config names.
pub fn is_candidate(document: &Document, enrichment: &Enrichment, config: &ClusterConfig) -> bool {
    let sentiment = enrichment
        .sentiment
        .as_ref()
        .is_some_and(|sentiment| config.sentiments.contains(sentiment));
    is_complaint_source(document, config) || sentiment
}

/// True when the document comes from a source the config treats as complaints.
pub fn is_complaint_source(document: &Document, config: &ClusterConfig) -> bool {
    document
        .metadata
        .source
        .as_ref()
        .is_some_and(|source| config.sources.contains(source))
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

/// What the problem stage found.
#[derive(Debug, Clone)]
pub struct FoundProblems {
    /// The period's problems, for reports.
    pub file: ProblemsFile,
    /// The history entry to record (`index_documents` is the caller's to fill).
    pub entry: PeriodEntry,
    /// The next free problem number after this run.
    pub next_id: u32,
    /// Per candidate, in input order: the problem holding most of its units and its team, or
    /// `None` when no unit of it is in a problem.
    pub placements: Vec<Option<(String, String)>>,
    /// Per candidate: the other problems its units are in, by id.
    pub also_in: Vec<Vec<String>>,
    /// Per unit, in input order: its problem id, or `None`.
    pub unit_problems: Vec<Option<String>>,
}

/// Clusters, names, routes and trends the units of the candidates. `background` holds texts of
/// the archive that are not complaints (positive documents), against which names are contrasted.
pub fn find_problems(
    candidates: &[Candidate<'_>],
    units: &[ProblemUnit<'_>],
    background: &[&str],
    config: &Config,
    history: &ClusterHistory,
    context: &ProblemContext,
    progress: &dyn Progress,
) -> FoundProblems {
    progress.start("cluster recurring problems", None);
    let unit_dimension = units.first().map_or(0, |unit| unit.embedding.len());
    let previous = history.previous(&context.period, &context.model);
    let (clustering, terms, continues) =
        cluster_units(candidates, units, unit_dimension, previous, &config.cluster);
    progress.finish();
    let dimension = unit_dimension * SPACES;
    let matching = match continues {
        Some(continues) => anchored_matching(previous, continues),
        None => match_previous(previous, &clustering, dimension, &config.cluster),
    };
    let numbers = assign_ids(&matching, history.next_id.max(1));
    let members = members_of(&clustering);
    progress.start("name and route problems", None);
    let mut labels = timed("label", || {
        label_units(candidates, units, &clustering, terms)
    });
    let names = timed("phrases", || {
        naming::name_clusters(candidates, units, &clustering, background)
    });
    let mut statements: BTreeMap<u32, &str> = BTreeMap::new();
    for (cluster, name) in &names {
        if let Some(label) = labels.get_mut(cluster) {
            label.title = name.title.clone();
            label.keywords = name.keywords.clone();
        }
        if let Some(unit) = name.statement {
            statements.insert(*cluster, units[unit].text(candidates));
        }
    }
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
                statement: statements.get(&(index as u32)).copied(),
                centroid: &clustering.centroids[index * dimension..(index + 1) * dimension],
            };
            let problem = build_problem(
                &view,
                candidates,
                units,
                &router,
                &matching,
                previous.is_some(),
                context,
            );
            TrackedProblem {
                problem,
                centroid: view.centroid.to_vec(),
                radius: member_radius(units, view.members, view.centroid, unit_dimension),
            }
        })
        .collect();
    let cluster_themes = timed("themes", || {
        naming::cluster_themes(candidates, units, &clustering, background)
    });
    progress.finish();
    let themes = themes_of(&cluster_themes, &numbers, &mut tracked);
    tracked.sort_by(|a, b| b.problem.impact.total_cmp(&a.problem.impact));
    let gone = gone_problems(previous, &matching);
    let outcome = Outcome {
        clustering: &clustering,
        numbers: &numbers,
        tracked,
        gone,
        themes,
    };
    finish(candidates, units, outcome, history, context)
}

/// What `find_problems` has once every problem is built.
struct Outcome<'a> {
    clustering: &'a Clustering,
    numbers: &'a [u32],
    tracked: Vec<TrackedProblem>,
    gone: Vec<Problem>,
    themes: Vec<Theme>,
}

/// The parent themes as reported, `T01` first by the summed impact of their problems, and each
/// member problem's `parent` set.
fn themes_of(
    cluster_themes: &[naming::ClusterTheme],
    numbers: &[u32],
    tracked: &mut [TrackedProblem],
) -> Vec<Theme> {
    let impact: HashMap<String, f64> = tracked
        .iter()
        .map(|tracked| (tracked.problem.id.clone(), tracked.problem.impact))
        .collect();
    let mut themes: Vec<(f64, String, Vec<String>)> = cluster_themes
        .iter()
        .map(|theme| {
            let mut problems: Vec<String> = theme
                .clusters
                .iter()
                .map(|&cluster| problem_id(numbers[cluster as usize]))
                .collect();
            problems.sort_by(|a, b| impact[b].total_cmp(&impact[a]).then(a.cmp(b)));
            let total = problems.iter().map(|id| impact[id]).sum();
            (total, theme.title.clone(), problems)
        })
        .collect();
    themes.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.2.cmp(&b.2)));
    let themes: Vec<Theme> = themes
        .into_iter()
        .enumerate()
        .map(|(position, (_, title, problems))| Theme {
            id: format!("T{:02}", position + 1),
            title,
            problems,
        })
        .collect();
    for theme in &themes {
        for tracked in tracked.iter_mut() {
            if theme.problems.contains(&tracked.problem.id) {
                tracked.problem.parent = Some(theme.id.clone());
            }
        }
    }
    themes
}

/// Assembles the outputs once every problem is built.
fn finish(
    candidates: &[Candidate<'_>],
    units: &[ProblemUnit<'_>],
    outcome: Outcome<'_>,
    history: &ClusterHistory,
    context: &ProblemContext,
) -> FoundProblems {
    let Outcome {
        clustering,
        numbers,
        tracked,
        gone,
        themes,
    } = outcome;
    let team_of: HashMap<String, String> = tracked
        .iter()
        .map(|tracked| (tracked.problem.id.clone(), tracked.problem.team.clone()))
        .collect();
    let unit_problems: Vec<Option<String>> = clustering
        .labels
        .iter()
        .map(|label| label.map(|index| problem_id(numbers[index as usize])))
        .collect();
    let primary = primary_problems(candidates.len(), units, &unit_problems);
    let also_in = other_problems(&primary, units, &unit_problems);
    let placements = primary
        .into_iter()
        .map(|problem| problem.map(|id| (id.clone(), team_of[&id].clone())))
        .collect();
    let assignments = units
        .iter()
        .zip(&unit_problems)
        .filter_map(|(unit, problem)| {
            let problem = problem.as_ref()?;
            Some(Assignment {
                id: candidates[unit.candidate].document.id.clone(),
                problem: problem.clone(),
                team: team_of[problem].clone(),
                start: Some(unit.start),
                end: Some(unit.end),
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
            candidate_units: units.len() as u64,
            unassigned_share: unassigned_documents(candidates.len(), units, &unit_problems),
            problems,
            assignments,
            themes,
        },
        entry: PeriodEntry {
            period: context.period.clone(),
            run: context.run.clone(),
            model: context.model.clone(),
            index_documents: 0,
            problems: tracked,
            units: units
                .iter()
                .zip(&unit_problems)
                .filter_map(|(unit, problem)| {
                    let number = problem_number(problem.as_ref()?)?;
                    let document = candidates[unit.candidate].document;
                    Some((unit_key(&document.content_hash, unit.start), number))
                })
                .collect(),
        },
        next_id,
        placements,
        also_in,
        unit_problems,
    }
}

/// Per candidate: the problems of its units other than its primary one, sorted.
fn other_problems(
    primary: &[Option<String>],
    units: &[ProblemUnit<'_>],
    unit_problems: &[Option<String>],
) -> Vec<Vec<String>> {
    let mut others: Vec<Vec<String>> = vec![Vec::new(); primary.len()];
    for (unit, problem) in units.iter().zip(unit_problems) {
        let Some(problem) = problem else { continue };
        if primary[unit.candidate].as_ref() != Some(problem) {
            others[unit.candidate].push(problem.clone());
        }
    }
    for list in &mut others {
        list.sort();
        list.dedup();
    }
    others
}

/// Per candidate: the problem holding most of its units (ties: the one its earliest such unit
/// is in).
fn primary_problems(
    candidates: usize,
    units: &[ProblemUnit<'_>],
    unit_problems: &[Option<String>],
) -> Vec<Option<String>> {
    let mut counts: Vec<Vec<(&String, usize, usize)>> = vec![Vec::new(); candidates];
    for (position, (unit, problem)) in units.iter().zip(unit_problems).enumerate() {
        let Some(problem) = problem else { continue };
        let tally = &mut counts[unit.candidate];
        match tally.iter_mut().find(|(id, _, _)| *id == problem) {
            Some(entry) => entry.1 += 1,
            None => tally.push((problem, 1, position)),
        }
    }
    counts
        .into_iter()
        .map(|tally| {
            tally
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)))
                .map(|(id, _, _)| id.clone())
        })
        .collect()
}

/// Share of candidate documents none of whose units is in a problem.
fn unassigned_documents(
    candidates: usize,
    units: &[ProblemUnit<'_>],
    unit_problems: &[Option<String>],
) -> f64 {
    if candidates == 0 {
        return 0.0;
    }
    let mut placed = vec![false; candidates];
    for (unit, problem) in units.iter().zip(unit_problems) {
        placed[unit.candidate] |= problem.is_some();
    }
    placed.iter().filter(|&&placed| !placed).count() as f64 / candidates as f64
}

/// The matching of a run whose clusters continue the previous problems they were anchored to
/// (`continues`, per cluster): no merges or splits, the previous problems nothing continues gone.
fn anchored_matching(
    previous: Option<&PeriodEntry>,
    continues: Vec<Option<u32>>,
) -> ClusterMatching {
    let gone = previous
        .map(|entry| entry.problems.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|tracked| problem_number(&tracked.problem.id))
        .filter(|number| !continues.contains(&Some(*number)))
        .collect();
    ClusterMatching {
        similarities: continues
            .iter()
            .map(|number| if number.is_some() { 1.0 } else { 0.0 })
            .collect(),
        assignments: continues,
        merges: Vec::new(),
        splits: Vec::new(),
        gone,
    }
}

/// The radius of a problem (see [`anchoring`]): its member units' similarity to the block of
/// its `SPACES`-wide centroid that their space fills.
fn member_radius(
    units: &[ProblemUnit<'_>],
    members: &[usize],
    centroid: &[f32],
    dimension: usize,
) -> Option<f32> {
    let similarities: Vec<f32> = members
        .iter()
        .map(|&row| {
            let unit = &units[row];
            let block = &centroid[unit.space * dimension..(unit.space + 1) * dimension];
            crate::cluster::dense::dot(unit.embedding, block)
        })
        .collect();
    anchoring::radius(&similarities)
}

/// The clustering of every space, each unit's keyword terms, and (when anchored) the problem
/// number each cluster continues.
type SpaceClusters = (
    Clustering,
    Vec<Vec<TermOccurrence>>,
    Option<Vec<Option<u32>>>,
);

/// Clusters the units of each embedding space apart, in a canonical order (by their document's
/// content hash, then offset), so the same archive gives the same problems however its documents
/// arrived; labels come back in input order (clusters numbered space by space, each space's
/// largest first), centroids [`SPACES`] blocks wide, with every unit's keyword terms (for the
/// label stage). When the previous period's problems can anchor units ([`anchoring`]), units
/// join them first and only the rest is clustered; the third value then says, per cluster, the
/// problem number it continues.
fn cluster_units(
    candidates: &[Candidate<'_>],
    units: &[ProblemUnit<'_>],
    dimension: usize,
    previous: Option<&PeriodEntry>,
    config: &ClusterConfig,
) -> SpaceClusters {
    let terms: Vec<Vec<TermOccurrence>> = timed("keyword terms", || {
        units
            .par_iter()
            .map(|unit| term_occurrences(&crate::unit::encoding_text(unit.text(candidates))))
            .collect()
    });
    let mut combined = crate::cluster::empty_clustering(units.len());
    let mut anchored = false;
    let mut continues: Vec<Option<u32>> = Vec::new();
    for space in 0..SPACES {
        let mut order: Vec<usize> = (0..units.len())
            .filter(|&row| units[row].space == space)
            .collect();
        if order.is_empty() {
            continue;
        }
        order.sort_by_cached_key(|&row| {
            let document = candidates[units[row].candidate].document;
            (&document.content_hash, &document.id, units[row].start)
        });
        let anchors = anchoring::anchors_of(previous, dimension, space);
        let was_in: Vec<Option<u32>> = match previous {
            Some(entry) if !anchors.is_empty() => order
                .iter()
                .map(|&row| {
                    let document = candidates[units[row].candidate].document;
                    let key = unit_key(&document.content_hash, units[row].start);
                    entry.units.get(&key).copied()
                })
                .collect(),
            _ => vec![None; order.len()],
        };
        let (clustering, space_continues) =
            cluster_space(units, &terms, &order, dimension, &anchors, &was_in, config);
        anchored |= !anchors.is_empty();
        continues.extend(space_continues);
        let offset = combined.cluster_count as u32;
        for (position, &row) in order.iter().enumerate() {
            combined.labels[row] = clustering.labels[position].map(|label| label + offset);
        }
        for centroid in clustering.centroids.chunks(dimension.max(1)) {
            let mut wide = vec![0.0f32; dimension * SPACES];
            wide[space * dimension..(space + 1) * dimension].copy_from_slice(centroid);
            combined.centroids.extend(wide);
        }
        combined.cluster_count += clustering.cluster_count;
        combined.resolution = combined.resolution.or(clustering.resolution);
    }
    combined.unassigned_share = crate::cluster::outliers::unassigned_share(&combined.labels);
    (combined, terms, anchored.then_some(continues))
}

/// One space's clustering, rows in `order`: the units the `anchors` hold (each unit first in the
/// problem it `was_in` last period), then clusters of the rest; with, per cluster, the problem
/// number it continues.
fn cluster_space(
    units: &[ProblemUnit<'_>],
    terms: &[Vec<TermOccurrence>],
    order: &[usize],
    dimension: usize,
    anchors: &[anchoring::Anchor],
    was_in: &[Option<u32>],
    config: &ClusterConfig,
) -> (Clustering, Vec<Option<u32>>) {
    let embedding_of = |rows: &[usize]| -> Vec<f32> {
        rows.iter()
            .flat_map(|&row| units[row].embedding.iter().copied())
            .collect()
    };
    if anchors.is_empty() {
        let clustering = cluster_rows(units, terms, order, &embedding_of(order), dimension, config);
        let continues = vec![None; clustering.cluster_count];
        return (clustering, continues);
    }
    let embeddings = embedding_of(order);
    let anchored = anchoring::anchor_rows(&embeddings, dimension, anchors, was_in);
    let rest_positions: Vec<usize> = (0..order.len())
        .filter(|&position| anchored[position].is_none())
        .collect();
    let rest_rows: Vec<usize> = rest_positions
        .iter()
        .map(|&position| order[position])
        .collect();
    let rest = if rest_rows.len()
        >= config
            .min_cluster_size
            .unwrap_or(0)
            .max(recurring::MIN_DOCUMENTS)
    {
        cluster_rows(
            units,
            terms,
            &rest_rows,
            &embedding_of(&rest_rows),
            dimension,
            config,
        )
    } else {
        crate::cluster::empty_clustering(rest_rows.len())
    };
    anchoring::combine(
        &anchored,
        &rest_positions,
        rest,
        &embeddings,
        dimension,
        anchors,
        config.match_threshold,
    )
}

/// Clusters `rows` (their `embeddings` in the same order) from scratch, keeping the clusters
/// that recur.
fn cluster_rows(
    units: &[ProblemUnit<'_>],
    terms: &[Vec<TermOccurrence>],
    order: &[usize],
    embeddings: &[f32],
    dimension: usize,
    config: &ClusterConfig,
) -> Clustering {
    let keywords = timed("TF-IDF", || {
        let ordered: Vec<Vec<&str>> = order
            .iter()
            .map(|&row| terms[row].iter().map(|(term, _)| term.as_str()).collect())
            .collect();
        crate::cluster::keywords::tfidf_rows(
            &ordered,
            &crate::cluster::keywords::KeywordSettings::default(),
        )
    });
    let settings = ClusterSettings {
        seed: config.seed,
        min_cluster_size: config.min_cluster_size,
        reassign_quantile: (config.reassign_quantile > 0.0).then_some(config.reassign_quantile),
        split_share: (config.split_share > 0.0).then_some(config.split_share),
        ..ClusterSettings::default()
    };
    let clustering = cluster(embeddings, dimension, Some(&keywords), &settings);
    let documents: Vec<usize> = order.iter().map(|&row| units[row].candidate).collect();
    recurring::keep_recurring(
        clustering,
        embeddings,
        dimension,
        &documents,
        recurring::MIN_DOCUMENTS,
    )
}

fn match_previous(
    previous: Option<&PeriodEntry>,
    clustering: &Clustering,
    dimension: usize,
    config: &ClusterConfig,
) -> ClusterMatching {
    // Centroids of another width (problems found before units and spaces) are not comparable.
    let tracked: Vec<TrackedCluster> = previous
        .map(|entry| entry.problems.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|tracked| tracked.centroid.len() == dimension)
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

fn label_units(
    candidates: &[Candidate<'_>],
    units: &[ProblemUnit<'_>],
    clustering: &Clustering,
    terms: Vec<Vec<TermOccurrence>>,
) -> BTreeMap<u32, ClusterLabel> {
    let inputs: Vec<LabelInput<'_>> = units
        .iter()
        .zip(&clustering.labels)
        .zip(terms)
        .map(|((unit, &cluster), terms)| LabelInput {
            text: unit.text(candidates),
            embedding: unit.embedding,
            cluster,
            terms,
        })
        .collect();
    label_clusters(&inputs, &LabelSettings::default())
}

#[cfg(test)]
mod tests;
