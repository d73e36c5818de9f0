//! Filters in, the same filters or a [`SearchError`] out. A filter value that no document has
//! and the configuration does not name would silently match nothing, so it is refused with the
//! values that are accepted; so are rating ranges that run backwards or are not finite, and
//! dates that run backwards. The CLI (`vocmine search`) and the server (`/api/search`) both call
//! [`check_filters`], each with its own spelling of the filter names ([`FilterNames`]).

use super::{Filters, SearchError};
use crate::config::Config;
use crate::index::Fields;
use std::collections::BTreeSet;
use tantivy::schema::Field;
use tantivy::{Searcher, Term};

/// Sentiment labels the classify stage writes.
pub const SENTIMENTS: &[&str] = &["negative", "neutral", "positive"];

/// Language codes the normalise stage writes.
pub const LANGUAGES: &[&str] = &["en", "zh-Hans", "zh-Hant", "other"];

/// Most known values an error message lists for one keyword filter.
const MAX_LISTED_VALUES: usize = 30;

/// How the caller spells each filter, so messages name what the user typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterNames {
    /// Earliest date.
    pub since: &'static str,
    /// Latest date.
    pub until: &'static str,
    /// Source.
    pub source: &'static str,
    /// Language.
    pub language: &'static str,
    /// Rating.
    pub rating: &'static str,
    /// Location.
    pub location: &'static str,
    /// Product.
    pub product: &'static str,
    /// Sentiment.
    pub sentiment: &'static str,
    /// Topic.
    pub topic: &'static str,
    /// Team.
    pub team: &'static str,
    /// Cluster.
    pub cluster: &'static str,
}

impl FilterNames {
    /// The flags of `vocmine search`.
    pub const CLI: FilterNames = FilterNames {
        since: "--since",
        until: "--until",
        source: "--source",
        language: "--lang",
        rating: "--rating",
        location: "--location",
        product: "--product",
        sentiment: "--sentiment",
        topic: "--topic",
        team: "--team",
        cluster: "--cluster",
    };

    /// The query parameters of `/api/search`.
    pub const API: FilterNames = FilterNames {
        since: "'from'",
        until: "'to'",
        source: "source",
        language: "language",
        rating: "'rating'",
        location: "location",
        product: "product",
        sentiment: "sentiment",
        topic: "topic",
        team: "team",
        cluster: "cluster",
    };
}

/// Checks every filter against the index and the configuration (topics, including `other`, and
/// teams count as known even before a document has them).
pub fn check_filters(
    searcher: &Searcher,
    fields: &Fields,
    config: &Config,
    filters: &Filters,
    names: &FilterNames,
) -> Result<(), SearchError> {
    check_dates(filters, names)?;
    check_rating(filters.rating, names.rating)?;
    check_fixed(&filters.sentiments, names.sentiment, SENTIMENTS)?;
    check_fixed(&filters.languages, names.language, LANGUAGES)?;
    let mut topics: Vec<String> = config.topics.iter().map(|t| t.name.clone()).collect();
    topics.push("other".to_string());
    let teams: Vec<String> = config.teams.iter().map(|team| team.name.clone()).collect();
    let keyword = |values: &[String], name, field, configured: &[String]| {
        check_keyword(searcher, values, name, field, configured)
    };
    keyword(&filters.sources, names.source, fields.source, &[])?;
    keyword(&filters.locations, names.location, fields.location, &[])?;
    keyword(&filters.products, names.product, fields.product, &[])?;
    keyword(&filters.topics, names.topic, fields.topic, &topics)?;
    keyword(&filters.teams, names.team, fields.team, &teams)?;
    keyword(&filters.clusters, names.cluster, fields.cluster, &[])?;
    Ok(())
}

fn check_dates(filters: &Filters, names: &FilterNames) -> Result<(), SearchError> {
    match (filters.since, filters.until) {
        (Some(since), Some(until)) if since > until => Err(SearchError::Filter {
            filter: names.since,
            message: format!(
                "{} ({since}) is after {} ({until}); swap them",
                names.since, names.until
            ),
        }),
        _ => Ok(()),
    }
}

fn check_rating(rating: Option<(f64, f64)>, name: &'static str) -> Result<(), SearchError> {
    match rating {
        Some((low, high)) if !low.is_finite() || !high.is_finite() || low > high => {
            Err(SearchError::Filter {
                filter: name,
                message: "the range runs backwards or is not finite; write finite numbers, the \
                          low end first (examples: 5, 1-2, <=2, >=4)"
                    .to_string(),
            })
        }
        _ => Ok(()),
    }
}

fn check_fixed(values: &[String], name: &'static str, allowed: &[&str]) -> Result<(), SearchError> {
    match values
        .iter()
        .find(|value| !allowed.contains(&value.as_str()))
    {
        Some(value) => Err(unknown_value(name, value, allowed.iter().copied())),
        None => Ok(()),
    }
}

fn check_keyword(
    searcher: &Searcher,
    values: &[String],
    name: &'static str,
    field: Field,
    configured: &[String],
) -> Result<(), SearchError> {
    for value in values {
        if configured.contains(value) || value_exists(searcher, field, value)? {
            continue;
        }
        let mut known = known_values(searcher, field, MAX_LISTED_VALUES)?;
        known.extend(configured.iter().cloned());
        known.sort();
        known.dedup();
        return Err(unknown_value(name, value, known.iter().map(String::as_str)));
    }
    Ok(())
}

fn unknown_value<'a>(
    name: &'static str,
    value: &str,
    known: impl Iterator<Item = &'a str>,
) -> SearchError {
    let known: Vec<&str> = known.collect();
    SearchError::UnknownValue {
        filter: name,
        value: shortened(value),
        known: if known.is_empty() {
            "none yet".to_string()
        } else {
            known.join(", ")
        },
    }
}

/// At most 80 characters of a value, for messages.
fn shortened(value: &str) -> String {
    match value.char_indices().nth(80) {
        Some((end, _)) => format!("{}...", &value[..end]),
        None => value.to_string(),
    }
}

/// The distinct values of a keyword field across the index, sorted, at most `limit` (the first
/// `limit` of each segment's sorted terms are enough to find the first `limit` overall).
pub fn known_values(
    searcher: &Searcher,
    field: Field,
    limit: usize,
) -> tantivy::Result<Vec<String>> {
    let mut values = BTreeSet::new();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(field)?;
        let mut terms = inverted.terms().stream()?;
        let mut taken = 0;
        while taken < limit && terms.advance() {
            if let Ok(value) = std::str::from_utf8(terms.key()) {
                values.insert(value.to_string());
                taken += 1;
            }
        }
    }
    Ok(values.into_iter().take(limit).collect())
}

/// True when some document has exactly this value in the field.
pub fn value_exists(searcher: &Searcher, field: Field, value: &str) -> tantivy::Result<bool> {
    Ok(searcher.doc_freq(&Term::from_field_text(field, value))? > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_filters_name_the_accepted_values() {
        let error = check_fixed(&["angry".to_string()], "--sentiment", SENTIMENTS).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("--sentiment 'angry'"), "{message}");
        assert!(message.contains("negative, neutral, positive"), "{message}");
        assert!(check_fixed(&["en".to_string()], "--lang", LANGUAGES).is_ok());
    }

    #[test]
    fn ratings_that_run_backwards_or_are_not_finite_are_refused() {
        for range in [(5.0, 1.0), (f64::NAN, 2.0), (1.0, f64::INFINITY)] {
            assert!(check_rating(Some(range), "--rating").is_err(), "{range:?}");
        }
        assert!(check_rating(Some((f64::MIN, 2.0)), "--rating").is_ok());
        assert!(check_rating(None, "--rating").is_ok());
    }

    #[test]
    fn dates_that_run_backwards_are_refused_with_both_names() {
        let day = |text| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        let filters = Filters {
            since: day("2026-10-01"),
            until: day("2026-09-01"),
            ..Filters::default()
        };
        let message = check_dates(&filters, &FilterNames::CLI)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("--since") && message.contains("--until"),
            "{message}"
        );
    }
}
