//! The query string of `/api/search` in, a checked [`SearchRequest`] and page out. Every way a
//! request can be wrong is caught here with a message that says what is accepted: unknown
//! parameters, an overlong or too deeply nested query, dates that are not `YYYY-MM-DD` or run
//! backwards, filter values that no document has (and are not in the configuration), ratings
//! that are not numbers, pages past the result window.

use super::lookup;
use super::request::{bad, Parameters, RequestError, MAX_PER_PAGE, MAX_RESULT_WINDOW};
use super::ServeState;
use crate::search::{self, Filters, SearchRequest, MAX_QUERY_BYTES};
use chrono::NaiveDate;
use tantivy::schema::Field;
use tantivy::Searcher;

/// The parameters `/api/search` accepts.
pub const SEARCH_PARAMETERS: &[&str] = &[
    "q",
    "from",
    "to",
    "sentiment",
    "topic",
    "team",
    "source",
    "rating",
    "location",
    "product",
    "cluster",
    "language",
    "page",
    "per_page",
];

/// Hits per page unless `per_page` says otherwise.
pub const DEFAULT_PER_PAGE: usize = 10;

/// Deepest parenthesis nesting accepted in a query.
pub const MAX_QUERY_NESTING: usize = 16;

/// Most values one filter may list.
const MAX_FILTER_VALUES: usize = 20;

/// Longest filter value, in bytes.
const MAX_FILTER_VALUE_BYTES: usize = 200;

/// Sentiment labels the classify stage writes.
pub const SENTIMENTS: &[&str] = &["negative", "neutral", "positive"];

/// Language codes the normalise stage writes.
pub const LANGUAGES: &[&str] = &["en", "zh-Hans", "zh-Hant", "other"];

/// Which page of hits, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Page number, from 1.
    pub page: usize,
    /// Hits per page.
    pub per_page: usize,
}

/// Builds the search request of `/api/search`, checking every parameter.
pub fn search_request(
    state: &ServeState,
    parameters: &Parameters,
) -> Result<(SearchRequest, Paging), RequestError> {
    parameters.check_known(SEARCH_PARAMETERS)?;
    let query = checked_query(parameters.single("q")?.unwrap_or(""))?;
    let paging = paging(parameters)?;
    let filters = filters(state, parameters)?;
    if let (Some(since), Some(until)) = (filters.since, filters.until) {
        if since > until {
            return Err(bad(format!(
                "'from' ({since}) is after 'to' ({until}); swap them"
            )));
        }
    }
    let request = SearchRequest {
        query,
        filters,
        limit: paging.per_page,
        offset: (paging.page - 1) * paging.per_page,
        ..SearchRequest::default()
    };
    Ok((request, paging))
}

fn filters(state: &ServeState, parameters: &Parameters) -> Result<Filters, RequestError> {
    let searcher = state.index.searcher();
    let keyword = |name: &'static str, field: Field, configured: Vec<String>| {
        keyword_values(&searcher, parameters, name, field, &configured)
    };
    let fields = state.index.fields();
    let config = &state.workspace.config;
    let mut topics: Vec<String> = config
        .topics
        .iter()
        .map(|topic| topic.name.clone())
        .collect();
    topics.push("other".to_string());
    let teams = config.teams.iter().map(|team| team.name.clone()).collect();
    Ok(Filters {
        since: date(parameters, "from")?,
        until: date(parameters, "to")?,
        sources: keyword("source", fields.source, Vec::new())?,
        languages: fixed_values(parameters, "language", LANGUAGES)?,
        rating: rating(parameters)?,
        locations: keyword("location", fields.location, Vec::new())?,
        products: keyword("product", fields.product, Vec::new())?,
        sentiments: fixed_values(parameters, "sentiment", SENTIMENTS)?,
        topics: keyword("topic", fields.topic, topics)?,
        teams: keyword("team", fields.team, teams)?,
        clusters: keyword("cluster", fields.cluster, Vec::new())?,
    })
}

/// Checks the query text: length and nesting (tantivy's parser recurses on parentheses).
pub fn checked_query(query: &str) -> Result<String, RequestError> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(bad(format!(
            "the query is {} bytes long; the limit is {MAX_QUERY_BYTES}",
            query.len()
        )));
    }
    let mut depth = 0usize;
    let mut deepest = 0usize;
    for character in query.chars() {
        match character {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        deepest = deepest.max(depth);
    }
    if deepest > MAX_QUERY_NESTING {
        return Err(bad(format!(
            "the query nests parentheses {deepest} deep; the limit is {MAX_QUERY_NESTING}"
        )));
    }
    Ok(query.to_string())
}

fn paging(parameters: &Parameters) -> Result<Paging, RequestError> {
    let number = |name: &str, default: usize| -> Result<usize, RequestError> {
        match parameters.single(name)? {
            None => Ok(default),
            Some(text) => text.parse::<usize>().map_err(|_| {
                bad(format!(
                    "'{name}' must be a whole number, not '{}'",
                    super::request::truncate_for_message(text)
                ))
            }),
        }
    };
    let page = number("page", 1)?;
    let per_page = number("per_page", DEFAULT_PER_PAGE)?;
    if page == 0 {
        return Err(bad("'page' counts from 1"));
    }
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(bad(format!(
            "'per_page' must be between 1 and {MAX_PER_PAGE}, not {per_page}"
        )));
    }
    if page.saturating_mul(per_page) > MAX_RESULT_WINDOW {
        return Err(bad(format!(
            "page {page} of {per_page} hits is past the first {MAX_RESULT_WINDOW} hits; \
             narrow the query or the filters instead"
        )));
    }
    Ok(Paging { page, per_page })
}

fn date(parameters: &Parameters, name: &str) -> Result<Option<NaiveDate>, RequestError> {
    parameters
        .single(name)?
        .map(|text| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                bad(format!(
                    "'{name}' must be a date like 2026-09-30, not '{}'",
                    super::request::truncate_for_message(text)
                ))
            })
        })
        .transpose()
}

fn rating(parameters: &Parameters) -> Result<Option<(f64, f64)>, RequestError> {
    let Some(text) = parameters.single("rating")? else {
        return Ok(None);
    };
    let (low, high) = search::parse_rating_range(text).map_err(|_| {
        bad(format!(
            "'rating' must be a rating or range like 5, 1-2, <=2 or >=4, not '{}'",
            super::request::truncate_for_message(text)
        ))
    })?;
    if !low.is_finite() || !high.is_finite() || low > high {
        return Err(bad(format!(
            "'rating' {} is not a usable range: the numbers must be finite and low <= high",
            super::request::truncate_for_message(text)
        )));
    }
    Ok(Some((low, high)))
}

/// Values of a filter that only takes one of a fixed set.
fn fixed_values(
    parameters: &Parameters,
    name: &str,
    allowed: &[&str],
) -> Result<Vec<String>, RequestError> {
    let values = bounded_values(parameters, name)?;
    for value in &values {
        if !allowed.contains(&value.as_str()) {
            return Err(unknown_value(name, value, allowed.iter().copied()));
        }
    }
    Ok(values)
}

/// Values of a keyword filter: each must occur in the index or be in the configuration.
fn keyword_values(
    searcher: &Searcher,
    parameters: &Parameters,
    name: &str,
    field: Field,
    configured: &[String],
) -> Result<Vec<String>, RequestError> {
    let values = bounded_values(parameters, name)?;
    for value in &values {
        if configured.contains(value) || lookup::value_exists(searcher, field, value)? {
            continue;
        }
        let mut known = lookup::known_values(searcher, field, 30)?;
        known.extend(configured.iter().cloned());
        known.sort();
        known.dedup();
        return Err(unknown_value(name, value, known.iter().map(String::as_str)));
    }
    Ok(values)
}

fn bounded_values(parameters: &Parameters, name: &str) -> Result<Vec<String>, RequestError> {
    let values = parameters.all(name);
    if values.len() > MAX_FILTER_VALUES {
        return Err(bad(format!(
            "'{name}' is given {} times; the limit is {MAX_FILTER_VALUES}",
            values.len()
        )));
    }
    if let Some(long) = values
        .iter()
        .find(|value| value.len() > MAX_FILTER_VALUE_BYTES)
    {
        return Err(bad(format!(
            "a '{name}' value is {} bytes long; the limit is {MAX_FILTER_VALUE_BYTES}",
            long.len()
        )));
    }
    Ok(values.into_iter().map(str::to_owned).collect())
}

fn unknown_value<'a>(
    name: &str,
    value: &str,
    known: impl Iterator<Item = &'a str>,
) -> RequestError {
    let known: Vec<&str> = known.collect();
    bad(format!(
        "unknown {name} '{}'; known values: {}",
        super::request::truncate_for_message(value),
        if known.is_empty() {
            "none yet".to_string()
        } else {
            known.join(", ")
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_bounded_in_length_and_nesting() {
        assert!(checked_query("brake AND (noise OR 异响)").is_ok());
        assert!(checked_query(&"a".repeat(MAX_QUERY_BYTES + 1)).is_err());
        assert!(checked_query(&"(".repeat(MAX_QUERY_NESTING + 1)).is_err());
        assert!(checked_query(&"()".repeat(100)).is_ok());
    }

    #[test]
    fn paging_is_bounded() {
        let parse = |query: &str| paging(&Parameters::parse(query));
        assert_eq!(
            parse("").unwrap(),
            Paging {
                page: 1,
                per_page: DEFAULT_PER_PAGE
            }
        );
        assert_eq!(parse("page=3&per_page=20").unwrap().page, 3);
        for hostile in [
            "page=0",
            "per_page=0",
            "per_page=101",
            "page=-1",
            "page=x",
            "page=1001",
            "page=99999999999999999999999",
            "page=1&page=2",
        ] {
            assert_eq!(parse(hostile).unwrap_err().status(), 400, "{hostile}");
        }
    }

    #[test]
    fn dates_and_ratings_must_be_well_formed() {
        let parameters = Parameters::parse("from=2026-09-01&to=yesterday");
        assert!(date(&parameters, "from").unwrap().is_some());
        assert!(date(&parameters, "to").is_err());
        for hostile in ["rating=lots", "rating=NaN", "rating=inf", "rating=5-1"] {
            assert!(rating(&Parameters::parse(hostile)).is_err(), "{hostile}");
        }
        assert_eq!(
            rating(&Parameters::parse("rating=%3C%3D2")).unwrap(),
            Some((f64::MIN, 2.0))
        );
    }

    #[test]
    fn fixed_filters_name_the_accepted_values() {
        let error = fixed_values(
            &Parameters::parse("sentiment=angry"),
            "sentiment",
            SENTIMENTS,
        )
        .unwrap_err();
        assert!(error.to_string().contains("negative, neutral, positive"));
    }
}
