//! The JSON API behind the search page: checked parameters in, JSON replies out. Routes (see the
//! README, "Search page and API"): `/api/search`, `/api/document/<id>`, `/api/problems`,
//! `/api/problem/<id>`, `/api/filters`, `/api/reports`.

use super::filters::{self, Paging};
use super::request::{bad, Parameters, Reply, RequestError};
use super::{files, lookup, problems, ServeState};
use crate::problem::{Problem, ProblemStatus};
use crate::search::{self, Facet, Hit, SearchError, Snippet};
use serde::Serialize;
use serde_json::json;

/// Most document ids listed with a problem.
const PROBLEM_DOCUMENTS: usize = 100;

/// Most values listed per filter by `/api/filters`.
const FILTER_VALUES: usize = 200;

/// One page of search results.
#[derive(Debug, Serialize)]
pub struct SearchAnswer {
    /// The query as searched.
    pub query: String,
    /// Matching documents.
    pub total: usize,
    /// This page, from 1.
    pub page: usize,
    /// Hits per page.
    pub per_page: usize,
    /// Pages reachable (capped by the result window).
    pub pages: usize,
    /// The hits of this page, best first.
    pub hits: Vec<HitAnswer>,
    /// Counts per value over all matches.
    pub facets: Vec<FacetAnswer>,
}

/// One hit.
#[derive(Debug, Serialize)]
pub struct HitAnswer {
    /// Document id.
    pub id: String,
    /// Date, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Relevance score.
    pub score: f32,
    /// The excerpt as parts, matched parts marked `highlight`.
    pub snippet: Vec<SnippetPart>,
    /// The document's other fields.
    pub fields: serde_json::Value,
}

/// A piece of a snippet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnippetPart {
    /// Plain text (escape it, or insert it as text).
    pub text: String,
    /// True when it matched the query.
    pub highlight: bool,
}

/// Counts of one facet.
#[derive(Debug, Serialize)]
pub struct FacetAnswer {
    /// Field name.
    pub field: String,
    /// Values with their counts, largest first.
    pub counts: Vec<serde_json::Value>,
}

/// `GET /api/search`.
pub fn search(state: &ServeState, parameters: &Parameters) -> Result<Reply, RequestError> {
    let (request, paging) = filters::search_request(state, parameters)?;
    let results = search::search(&state.index, &request).map_err(search_error)?;
    Reply::json(&answer(request.query, paging, results))
}

/// Maps a search failure to 400 (the request's fault) or 500 (ours).
pub fn search_error(error: SearchError) -> RequestError {
    use super::request::truncate_for_message;
    match error {
        SearchError::Engine(_) => RequestError::Internal(error.to_string()),
        // The parser repeats the whole query; quote a bounded part of it back.
        SearchError::Query { query, message } => bad(format!(
            "cannot understand the query '{}': {}. Examples: brake noise | \"long wait\" | \
             刹车 AND 异响 | refund -fee | source:complaint | cluster:P0001",
            truncate_for_message(&query),
            truncate_for_message(&message)
        )),
        other => bad(other.to_string()),
    }
}

fn answer(query: String, paging: Paging, results: search::SearchResults) -> SearchAnswer {
    let reachable = results.total.min(super::MAX_RESULT_WINDOW);
    SearchAnswer {
        query,
        total: results.total,
        page: paging.page,
        per_page: paging.per_page,
        pages: reachable.div_ceil(paging.per_page),
        hits: results.hits.into_iter().map(hit_answer).collect(),
        facets: results.facets.into_iter().map(facet_answer).collect(),
    }
}

fn hit_answer(hit: Hit) -> HitAnswer {
    HitAnswer {
        snippet: snippet_parts(&hit.snippet),
        fields: json!({
            "source": hit.source,
            "channel": hit.channel,
            "language": hit.language,
            "rating": hit.rating,
            "location": hit.location,
            "product": hit.product,
            "sentiment": hit.sentiment,
            "topic": hit.topic,
            "cluster": hit.cluster,
            "team": hit.team,
        }),
        id: hit.id,
        date: hit.date.map(|date| date.to_string()),
        score: hit.score,
    }
}

fn facet_answer(facet: Facet) -> FacetAnswer {
    FacetAnswer {
        field: facet.field,
        counts: facet
            .counts
            .into_iter()
            .map(|(value, count)| json!({ "value": value, "count": count }))
            .collect(),
    }
}

/// Splits a snippet into plain and highlighted parts; ranges that are out of order or off a
/// character boundary are dropped rather than trusted.
pub fn snippet_parts(snippet: &Snippet) -> Vec<SnippetPart> {
    let text = &snippet.text;
    let mut parts = Vec::new();
    let mut last = 0;
    let mut push = |piece: &str, highlight: bool| {
        if !piece.is_empty() {
            parts.push(SnippetPart {
                text: piece.to_string(),
                highlight,
            });
        }
    };
    for &(start, end) in &snippet.highlights {
        let (Some(before), Some(matched)) = (text.get(last..start), text.get(start..end)) else {
            continue;
        };
        push(before, false);
        push(matched, true);
        last = end;
    }
    push(text.get(last..).unwrap_or_default(), false);
    parts
}

/// `GET /api/document/<id>`.
pub fn document(state: &ServeState, id: &str) -> Result<Reply, RequestError> {
    match lookup::find_document(&state.index, id)? {
        Some(document) => Reply::json(&document),
        None => Err(no_document(id)),
    }
}

/// The 404 of an unknown document id.
pub fn no_document(id: &str) -> RequestError {
    RequestError::NotFound(format!(
        "no document with id '{}' in the index",
        super::request::truncate_for_message(id)
    ))
}

/// A problem as listed: everything but the quotes and the per-period counts.
#[derive(Debug, Serialize)]
struct ProblemSummary<'a> {
    id: &'a str,
    title: &'a str,
    statement: &'a str,
    parent: Option<&'a str>,
    units: u64,
    keywords: &'a [String],
    size: u64,
    negative_share: f64,
    status: ProblemStatus,
    spike: bool,
    impact: f64,
    topic: Option<&'a str>,
    team: &'a str,
}

impl<'a> ProblemSummary<'a> {
    fn of(problem: &'a Problem) -> Self {
        ProblemSummary {
            id: &problem.id,
            title: &problem.title,
            statement: &problem.statement,
            parent: problem.parent.as_deref(),
            units: problem.units,
            keywords: &problem.keywords,
            size: problem.size,
            negative_share: problem.negative_share,
            status: problem.status,
            spike: problem.spike,
            impact: problem.impact,
            topic: problem.topic.as_deref(),
            team: &problem.team,
        }
    }
}

/// `GET /api/problems[?period=]`: the problems of a period (default the newest), by impact.
pub fn problems(state: &ServeState, period: Option<&str>) -> Result<Reply, RequestError> {
    let root = state.reports_root();
    let periods = problems::periods(&root);
    let Some(file) = state.problems.period_or_newest(&root, period)? else {
        return Reply::json(&json!({
            "period": null,
            "periods": periods,
            "problems": [],
            "message": "no recurring problems yet: `vocmine mine` writes reports/<period>/problems.json",
        }));
    };
    let listed: Vec<ProblemSummary> = file.problems.iter().map(ProblemSummary::of).collect();
    Reply::json(&json!({
        "period": file.period,
        "periods": periods,
        "run": file.run,
        "candidates": file.candidates,
        "unassigned_share": file.unassigned_share,
        "problems": listed,
        "themes": file.themes,
    }))
}

/// `GET /api/problem/<id>[?period=]`: one problem in full, with its documents.
pub fn problem(state: &ServeState, id: &str, period: Option<&str>) -> Result<Reply, RequestError> {
    let (file, position) = state.problems.find(&state.reports_root(), id, period)?;
    let problem = &file.problems[position];
    Reply::json(&json!({
        "period": file.period,
        "problem": problem,
        "documents": problems::assigned_documents(&file, problem, PROBLEM_DOCUMENTS),
        "search": format!("cluster:{}", problem.id),
    }))
}

/// `GET /api/filters`: the values each filter accepts, for the page's menus.
pub fn filters(state: &ServeState) -> Result<Reply, RequestError> {
    let searcher = state.index.searcher();
    let fields = state.index.fields();
    let values = |field| lookup::known_values(&searcher, field, FILTER_VALUES);
    let config = &state.workspace.config;
    let mut topics = values(fields.topic)?;
    topics.extend(config.topics.iter().map(|topic| topic.name.clone()));
    topics.sort();
    topics.dedup();
    let mut teams = values(fields.team)?;
    teams.extend(config.teams.iter().map(|team| team.name.clone()));
    teams.sort();
    teams.dedup();
    Reply::json(&json!({
        "documents": searcher.num_docs(),
        "source": values(fields.source)?,
        "location": values(fields.location)?,
        "product": values(fields.product)?,
        "cluster": values(fields.cluster)?,
        "topic": topics,
        "team": teams,
        "sentiment": filters::SENTIMENTS,
        "language": filters::LANGUAGES,
    }))
}

/// `GET /api/reports`: every period's report files, as paths under `/reports/`.
pub fn reports(state: &ServeState) -> Result<Reply, RequestError> {
    let listing = files::report_listing(&state.reports_root());
    let periods: Vec<serde_json::Value> = listing
        .into_iter()
        .map(|(period, files)| json!({ "period": period, "files": files }))
        .collect();
    Reply::json(&json!({ "periods": periods }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_split_into_marked_parts_and_survive_bad_ranges() {
        let snippet = Snippet {
            text: "刹车有异响 again".into(),
            highlights: vec![(0, 6), (9, 15)],
        };
        let parts = snippet_parts(&snippet);
        let marked: Vec<(&str, bool)> = parts
            .iter()
            .map(|part| (part.text.as_str(), part.highlight))
            .collect();
        assert_eq!(
            marked,
            [
                ("刹车", true),
                ("有", false),
                ("异响", true),
                (" again", false)
            ]
        );
        let broken = Snippet {
            text: "刹车".into(),
            highlights: vec![(1, 2), (4, 99)],
        };
        assert_eq!(snippet_parts(&broken)[0].text, "刹车");
    }
}
