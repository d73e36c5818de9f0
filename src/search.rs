//! Search over the document index: a [`SearchRequest`] (query text in either language, filters,
//! paging) in, [`SearchResults`] (ranked hits with highlighted snippets, and facet counts over the
//! whole result set) out. The query text is parsed with tantivy's query language (words, "phrases",
//! AND/OR/NOT, `field:value`) and analysed by the same analyzer as the index, so a query in
//! Traditional characters finds Simplified documents and the reverse.

use crate::index::{date_of, date_value, DocumentIndex, Fields};
use chrono::NaiveDate;
use serde::Serialize;
use std::ops::Bound;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::agg_result::{AggregationResult, AggregationResults, BucketResult};
use tantivy::aggregation::{AggregationCollector, AggregationLimitsGuard, Key};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, QueryParser, RangeQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};
use thiserror::Error;

mod check;
pub use check::{check_filters, known_values, value_exists, FilterNames, LANGUAGES, SENTIMENTS};

/// Longest query text accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 2_000;

/// Deepest hit a search reaches (offset + limit): ranking keeps every hit up to it in memory, so
/// deeper paging costs memory for nothing; narrow the query or the filters instead.
pub const MAX_RESULT_WINDOW: usize = 10_000;

/// The fields facet counts are computed for.
pub const FACET_FIELDS: &[&str] = &[
    "source",
    "language",
    "sentiment",
    "topic",
    "team",
    "channel",
];

/// Errors of a search request.
#[derive(Debug, Error)]
pub enum SearchError {
    /// The query text is not valid query syntax.
    #[error("cannot understand the query '{query}': {message}. Examples: brake noise | \"long wait\" | 刹车 AND 异响 | refund -fee | source:complaint")]
    Query {
        /// The query as given.
        query: String,
        /// What the parser said.
        message: String,
    },
    /// The query is longer than [`MAX_QUERY_BYTES`].
    #[error("the query is {0} bytes long; the limit is {MAX_QUERY_BYTES}")]
    TooLong(usize),
    /// A filter value is malformed.
    #[error("invalid filter {filter}: {message}")]
    Filter {
        /// The filter (for example `--rating`).
        filter: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A filter value that no document has and the configuration does not name.
    #[error("unknown {filter} '{value}'; known values: {known}")]
    UnknownValue {
        /// The filter as the user spelled it (for example `--sentiment`).
        filter: &'static str,
        /// The value given.
        value: String,
        /// The accepted values, comma-separated.
        known: String,
    },
    /// Offset plus limit reach past [`MAX_RESULT_WINDOW`].
    #[error("hits {offset} to {offset}+{limit} are past the first {MAX_RESULT_WINDOW} hits; narrow the query or the filters instead")]
    PastWindow {
        /// Hits skipped.
        offset: usize,
        /// Hits asked for.
        limit: usize,
    },
    /// The search itself failed.
    #[error("search failed: {0}")]
    Engine(#[from] tantivy::TantivyError),
}

/// Filters; empty lists mean no restriction, several values of one filter mean any of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// Earliest date, inclusive.
    pub since: Option<NaiveDate>,
    /// Latest date, inclusive.
    pub until: Option<NaiveDate>,
    /// Sources.
    pub sources: Vec<String>,
    /// Language codes (en, zh-Hans, zh-Hant, other).
    pub languages: Vec<String>,
    /// Rating range, inclusive.
    pub rating: Option<(f64, f64)>,
    /// Locations.
    pub locations: Vec<String>,
    /// Products.
    pub products: Vec<String>,
    /// Sentiment labels.
    pub sentiments: Vec<String>,
    /// Topics.
    pub topics: Vec<String>,
    /// Teams.
    pub teams: Vec<String>,
    /// Cluster ids.
    pub clusters: Vec<String>,
}

/// A search request.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// Query text; empty or `*` matches everything.
    pub query: String,
    /// Filters.
    pub filters: Filters,
    /// Hits to return.
    pub limit: usize,
    /// Hits to skip (paging).
    pub offset: usize,
    /// Longest snippet in characters.
    pub snippet_chars: usize,
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            query: String::new(),
            filters: Filters::default(),
            limit: 10,
            offset: 0,
            snippet_chars: 200,
        }
    }
}

/// Parses a rating filter: `4`, `1-2`, `<=2`, `>=4`.
pub fn parse_rating_range(text: &str) -> Result<(f64, f64), SearchError> {
    let invalid = || SearchError::Filter {
        filter: "--rating",
        message: format!("'{text}' is not a rating or range (examples: 5, 1-2, <=2, >=4)"),
    };
    let number = |part: &str| part.trim().parse::<f64>().map_err(|_| invalid());
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("<=") {
        Ok((f64::MIN, number(rest)?))
    } else if let Some(rest) = text.strip_prefix(">=") {
        Ok((number(rest)?, f64::MAX))
    } else if let Some((low, high)) = text.split_once('-') {
        Ok((number(low)?, number(high)?))
    } else {
        let value = number(text)?;
        Ok((value, value))
    }
}

/// A highlighted excerpt of a document's text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snippet {
    /// The excerpt.
    pub text: String,
    /// Byte ranges of `text` that matched the query.
    pub highlights: Vec<(usize, usize)>,
}

impl Snippet {
    /// The excerpt with matches wrapped in `open` and `close`.
    pub fn marked(&self, open: &str, close: &str) -> String {
        let mut marked = String::with_capacity(self.text.len() + 8 * self.highlights.len());
        let mut last = 0;
        for &(start, end) in &self.highlights {
            marked.push_str(&self.text[last..start]);
            marked.push_str(open);
            marked.push_str(&self.text[start..end]);
            marked.push_str(close);
            last = end;
        }
        marked.push_str(&self.text[last..]);
        marked
    }
}

/// One ranked hit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// Document id.
    pub id: String,
    /// Relevance score.
    pub score: f32,
    /// Date.
    pub date: Option<NaiveDate>,
    /// Source.
    pub source: Option<String>,
    /// Channel.
    pub channel: Option<String>,
    /// Language code.
    pub language: Option<String>,
    /// Rating.
    pub rating: Option<f64>,
    /// Location.
    pub location: Option<String>,
    /// Product.
    pub product: Option<String>,
    /// Sentiment label.
    pub sentiment: Option<String>,
    /// Topic.
    pub topic: Option<String>,
    /// Cluster id.
    pub cluster: Option<String>,
    /// Team.
    pub team: Option<String>,
    /// Highlighted excerpt.
    pub snippet: Snippet,
}

/// Counts of one facet over the whole result set, largest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Facet {
    /// Field name.
    pub field: String,
    /// (value, count) pairs.
    pub counts: Vec<(String, u64)>,
}

/// The answer to a search request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    /// Number of matching documents.
    pub total: usize,
    /// The requested page of hits.
    pub hits: Vec<Hit>,
    /// Facet counts over all matches.
    pub facets: Vec<Facet>,
}

/// Runs a search request against the last committed state of the index.
pub fn search(
    index: &DocumentIndex,
    request: &SearchRequest,
) -> Result<SearchResults, SearchError> {
    if request.offset.saturating_add(request.limit) > MAX_RESULT_WINDOW {
        return Err(SearchError::PastWindow {
            offset: request.offset,
            limit: request.limit,
        });
    }
    let query = build_query(index, request)?;
    let searcher = index.searcher();
    let top = TopDocs::with_limit(request.limit.max(1)).and_offset(request.offset);
    let aggregations = facet_aggregations();
    let facets = AggregationCollector::from_aggs(aggregations, AggregationLimitsGuard::default());
    let (top_documents, total, facet_results) = searcher.search(&query, &(top, Count, facets))?;
    let text_query = text_query(index, request)?;
    let mut snippets = SnippetGenerator::create(&searcher, &*text_query, index.fields().text)?;
    snippets.set_max_num_chars(request.snippet_chars);
    let hits = top_documents
        .into_iter()
        .take(request.limit)
        .map(|(score, address)| {
            hit(
                &searcher,
                index.fields(),
                &snippets,
                score,
                address,
                request.snippet_chars,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SearchResults {
        total,
        hits,
        facets: facet_counts(&facet_results),
    })
}

fn text_query(
    index: &DocumentIndex,
    request: &SearchRequest,
) -> Result<Box<dyn Query>, SearchError> {
    let text = request.query.trim();
    if text.len() > MAX_QUERY_BYTES {
        return Err(SearchError::TooLong(text.len()));
    }
    if text.is_empty() || text == "*" {
        return Ok(Box::new(AllQuery));
    }
    let mut parser = QueryParser::new(
        index.index().schema(),
        vec![index.fields().text],
        crate::tokenise::query_tokenizers(),
    );
    parser.set_conjunction_by_default();
    // tantivy's grammar reads `a AND NOT b` as two required clauses; people mean `a NOT b`.
    let text = text.replace(" AND NOT ", " NOT ");
    let text = text.as_str();
    parser
        .parse_query(text)
        .map_err(|error| SearchError::Query {
            query: text.to_string(),
            message: error.to_string(),
        })
}

fn build_query(
    index: &DocumentIndex,
    request: &SearchRequest,
) -> Result<Box<dyn Query>, SearchError> {
    let fields = index.fields();
    let filters = &request.filters;
    let mut clauses: Vec<(Occur, Box<dyn Query>)> =
        vec![(Occur::Must, text_query(index, request)?)];
    let keyword_filters = [
        (fields.source, &filters.sources),
        (fields.language, &filters.languages),
        (fields.location, &filters.locations),
        (fields.product, &filters.products),
        (fields.sentiment, &filters.sentiments),
        (fields.topic, &filters.topics),
        (fields.team, &filters.teams),
        (fields.cluster, &filters.clusters),
    ];
    for (field, values) in keyword_filters {
        if !values.is_empty() {
            clauses.push((Occur::Must, any_of(field, values)));
        }
    }
    if filters.since.is_some() || filters.until.is_some() {
        let bound = |date: Option<NaiveDate>| {
            date.map_or(Bound::Unbounded, |date| {
                Bound::Included(Term::from_field_date(fields.date, date_value(date)))
            })
        };
        clauses.push((
            Occur::Must,
            Box::new(RangeQuery::new(bound(filters.since), bound(filters.until))),
        ));
    }
    if let Some((low, high)) = filters.rating {
        clauses.push((
            Occur::Must,
            Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_f64(fields.rating, low)),
                Bound::Included(Term::from_field_f64(fields.rating, high)),
            )),
        ));
    }
    if clauses.len() == 1 {
        return Ok(clauses.pop().expect("one clause").1);
    }
    Ok(Box::new(BooleanQuery::new(clauses)))
}

fn any_of(field: Field, values: &[String]) -> Box<dyn Query> {
    let terms: Vec<(Occur, Box<dyn Query>)> = values
        .iter()
        .map(|value| {
            let query: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(field, value),
                IndexRecordOption::Basic,
            ));
            (Occur::Should, query)
        })
        .collect();
    Box::new(BooleanQuery::new(terms))
}

fn facet_aggregations() -> Aggregations {
    let request: serde_json::Map<String, serde_json::Value> = FACET_FIELDS
        .iter()
        .map(|field| {
            (
                field.to_string(),
                serde_json::json!({ "terms": { "field": field, "size": 20 } }),
            )
        })
        .collect();
    serde_json::from_value(serde_json::Value::Object(request))
        .expect("facet aggregations are valid")
}

fn facet_counts(results: &AggregationResults) -> Vec<Facet> {
    FACET_FIELDS
        .iter()
        .map(|field| {
            let counts = match results.0.get(*field) {
                Some(AggregationResult::BucketResult(BucketResult::Terms { buckets, .. })) => {
                    buckets
                        .iter()
                        .map(|bucket| {
                            let key = match &bucket.key {
                                Key::Str(text) => text.clone(),
                                other => format!("{other:?}"),
                            };
                            (key, bucket.doc_count)
                        })
                        .collect()
                }
                _ => Vec::new(),
            };
            Facet {
                field: field.to_string(),
                counts,
            }
        })
        .collect()
}

fn hit(
    searcher: &Searcher,
    fields: &Fields,
    snippets: &SnippetGenerator,
    score: f32,
    address: DocAddress,
    snippet_chars: usize,
) -> Result<Hit, SearchError> {
    let document: TantivyDocument = searcher.doc(address)?;
    let text_of = |field: Field| {
        document
            .get_first(field)
            .and_then(|value| value.as_str())
            .map(str::to_owned)
    };
    let number_of = |field: Field| document.get_first(field).and_then(|value| value.as_f64());
    let snippet = snippets.snippet_from_doc(&document);
    let snippet = if snippet.fragment().is_empty() {
        let text = text_of(fields.text).unwrap_or_default();
        Snippet {
            text: text.chars().take(snippet_chars).collect(),
            highlights: Vec::new(),
        }
    } else {
        Snippet {
            text: snippet.fragment().to_string(),
            highlights: snippet
                .highlighted()
                .iter()
                .map(|range| (range.start, range.end))
                .collect(),
        }
    };
    Ok(Hit {
        id: text_of(fields.id).unwrap_or_default(),
        score,
        date: document
            .get_first(fields.date)
            .and_then(|value| value.as_datetime())
            .and_then(date_of),
        source: text_of(fields.source),
        channel: text_of(fields.channel),
        language: text_of(fields.language),
        rating: number_of(fields.rating),
        location: text_of(fields.location),
        product: text_of(fields.product),
        sentiment: text_of(fields.sentiment),
        topic: text_of(fields.topic),
        cluster: text_of(fields.cluster),
        team: text_of(fields.team),
        snippet,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rating_ranges() {
        assert_eq!(parse_rating_range("4").unwrap(), (4.0, 4.0));
        assert_eq!(parse_rating_range("1-2").unwrap(), (1.0, 2.0));
        assert_eq!(parse_rating_range("<=2").unwrap().1, 2.0);
        assert!(parse_rating_range("bad").is_err());
    }

    #[test]
    fn marked_snippet() {
        let snippet = Snippet {
            text: "the brake failed".into(),
            highlights: vec![(4, 9)],
        };
        assert_eq!(snippet.marked("[", "]"), "the [brake] failed");
    }
}
