//! One problem's facts from its member units: documents per period, status and spike, impact,
//! topic, owning team, quotes, and what it merged or split from; and the previous period's
//! problems that nothing continues. A document with several units in the problem counts once.

use std::collections::BTreeMap;

use super::history::{problem_id, problem_number, PeriodEntry};
use super::impact::{impact_score, ImpactInputs, ImpactSettings};
use super::period::{last_day, period_of, period_of_run, periods_between};
use super::tracking::ClusterMatching;
use super::trend::{cluster_status, is_spike, TrendSettings};
use super::{Candidate, ProblemContext, ProblemUnit};
use crate::label::ClusterLabel;
use crate::problem::{Problem, ProblemStatus, Quote};
use crate::route::{Route, RouteDocument, Router};

/// One cluster of this run, as the problem builder sees it.
pub(super) struct ClusterView<'a> {
    /// Its index in the clustering.
    pub index: usize,
    /// Its problem number.
    pub number: u32,
    /// Its member units (positions in the stage's input).
    pub members: &'a [usize],
    /// Its keywords, title and quotes.
    pub label: Option<&'a ClusterLabel>,
    /// Its most central short unit.
    pub statement: Option<&'a str>,
    /// Its unit-length centroid.
    pub centroid: &'a [f32],
}

/// A problem's member units and their distinct documents.
struct Members<'a, 'b> {
    units: Vec<&'b ProblemUnit<'a>>,
    documents: Vec<&'b Candidate<'a>>,
}

impl<'a, 'b> Members<'a, 'b> {
    fn of(
        view: &ClusterView<'_>,
        candidates: &'b [Candidate<'a>],
        units: &'b [ProblemUnit<'a>],
    ) -> Self {
        let units: Vec<&ProblemUnit<'_>> = view.members.iter().map(|&row| &units[row]).collect();
        let mut positions: Vec<usize> = units.iter().map(|unit| unit.candidate).collect();
        positions.sort_unstable();
        positions.dedup();
        let documents = positions
            .iter()
            .map(|&position| &candidates[position])
            .collect();
        Members { units, documents }
    }
}

/// Builds the problem of one cluster.
pub(super) fn build_problem(
    view: &ClusterView<'_>,
    candidates: &[Candidate<'_>],
    units: &[ProblemUnit<'_>],
    router: &Router,
    matching: &ClusterMatching,
    has_previous: bool,
    context: &ProblemContext,
) -> Problem {
    let members = Members::of(view, candidates, units);
    let counts = counts_per_period(&members.documents, &context.period);
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
    let negative_share = share_negative(&members.units);
    let customer_value = customer_value(&members.documents);
    let route = route_members(router, candidates, &members.units);
    let quotes = quotes(view.label, candidates, units);
    Problem {
        id: problem_id(view.number),
        title: view
            .label
            .map(|label| label.title.clone())
            .unwrap_or_default(),
        statement: view
            .statement
            .map(str::to_string)
            .or_else(|| quotes.first().map(|quote| quote.text.clone()))
            .unwrap_or_default(),
        keywords: view
            .label
            .map(|label| label.keywords.clone())
            .unwrap_or_default(),
        quotes,
        size: members.documents.len() as u64,
        units: members.units.len() as u64,
        negative_share,
        status,
        spike: is_spike(&series, &trend),
        impact: impact_of(
            &members.documents,
            negative_share,
            customer_value,
            &context.period,
        ),
        customer_value,
        topic: most_common_topic(&members.documents),
        team: route.team,
        route_rule: route.rule,
        route_reason: route.reason,
        merged_from: merged_from(view, matching),
        split_from: split_from(view, matching),
        parent: None,
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

fn share_negative(units: &[&ProblemUnit<'_>]) -> f64 {
    let negative = units.iter().filter(|unit| unit.negative).count();
    negative as f64 / units.len().max(1) as f64
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

/// Routes by the member units' own text (a keyword rule matches what the customer complained
/// about, not the rest of the review) and their documents' fields.
fn route_members(
    router: &Router,
    candidates: &[Candidate<'_>],
    units: &[&ProblemUnit<'_>],
) -> Route {
    let documents: Vec<RouteDocument<'_>> = units
        .iter()
        .map(|unit| {
            let candidate = &candidates[unit.candidate];
            let metadata = &candidate.document.metadata;
            RouteDocument {
                text: unit.text(candidates),
                topic: candidate.enrichment.topic.as_deref(),
                source: metadata.source.as_deref(),
                channel: metadata.channel.as_deref(),
                location: metadata.location.as_deref(),
                product: metadata.product.as_deref(),
            }
        })
        .collect();
    router.route(&documents)
}

/// The label's representative units as quotes: the unit's text, with its document and offsets.
fn quotes(
    label: Option<&ClusterLabel>,
    candidates: &[Candidate<'_>],
    units: &[ProblemUnit<'_>],
) -> Vec<Quote> {
    label
        .map(|label| label.quotes.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|&row| {
            let unit = &units[row];
            let document = candidates[unit.candidate].document;
            Quote {
                id: document.id.clone(),
                text: unit.text(candidates).to_string(),
                date: document.metadata.date.map(|date| date.to_string()),
                language: document.language.code().to_string(),
                start: Some(unit.start),
                end: Some(unit.end),
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
pub(super) fn gone_problems(
    previous: Option<&PeriodEntry>,
    matching: &ClusterMatching,
) -> Vec<Problem> {
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
