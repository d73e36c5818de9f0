//! The query string of `/api/search` in, a checked [`SearchRequest`] and page out. Every way a
//! request can be wrong is caught here with a message that says what is accepted: unknown
//! parameters, an overlong or too deeply nested query, dates that are not `YYYY-MM-DD` or run
//! backwards, filter values that no document has (and are not in the configuration), ratings
//! that are not numbers, pages past the result window.

use super::lookup;
use super::request::{bad, Parameters, RequestError, MAX_PER_PAGE, MAX_RESULT_WINDOW};
use super::ServeState;
use crate::search::{self, FilterNames, Filters, SearchError, SearchRequest, MAX_QUERY_BYTES};
use chrono::NaiveDate;

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

pub use crate::search::{LANGUAGES, SENTIMENTS};

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
    let filters = Filters {
        since: date(parameters, "from")?,
        until: date(parameters, "to")?,
        sources: bounded_values(parameters, "source")?,
        languages: bounded_values(parameters, "language")?,
        rating: rating(parameters)?,
        locations: bounded_values(parameters, "location")?,
        products: bounded_values(parameters, "product")?,
        sentiments: bounded_values(parameters, "sentiment")?,
        topics: bounded_values(parameters, "topic")?,
        teams: bounded_values(parameters, "team")?,
        clusters: bounded_values(parameters, "cluster")?,
    };
    let searcher = state.index.searcher();
    search::check_filters(
        &searcher,
        state.index.fields(),
        &state.workspace.config,
        &filters,
        &FilterNames::API,
    )
    .map_err(|error| match error {
        SearchError::Engine(error) => lookup::engine("checking the filters")(error),
        error => bad(error.to_string()),
    })?;
    Ok(filters)
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
    Ok(Some((low, high)))
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
        for hostile in ["rating=lots", "rating=%3C%3Dx", "rating=5-x"] {
            assert!(rating(&Parameters::parse(hostile)).is_err(), "{hostile}");
        }
        assert_eq!(
            rating(&Parameters::parse("rating=%3C%3D2")).unwrap(),
            Some((f64::MIN, 2.0))
        );
    }
}
