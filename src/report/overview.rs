//! The numbers of the executive summary that come from the whole archive rather than from one
//! period's problems: sentiment per month, topic x sentiment, sources and languages (one tantivy
//! aggregation request over the fast fields, so it stays fast on a large index), and data coverage
//! summed over the run log (`runs/*.json`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::agg_result::{
    AggregationResult, AggregationResults, BucketEntries, BucketEntry, BucketResult,
};
use tantivy::aggregation::{AggregationCollector, AggregationLimitsGuard, Key};
use tantivy::query::AllQuery;

use crate::index::DocumentIndex;

use super::ReportError;

/// Documents per sentiment label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SentimentCounts {
    /// Classified negative.
    pub negative: u64,
    /// Classified neutral.
    pub neutral: u64,
    /// Classified positive.
    pub positive: u64,
}

impl SentimentCounts {
    /// All classified documents.
    pub fn total(&self) -> u64 {
        self.negative + self.neutral + self.positive
    }

    /// Share of negative among the classified documents (0 when there are none).
    pub fn negative_share(&self) -> f64 {
        match self.total() {
            0 => 0.0,
            total => self.negative as f64 / total as f64,
        }
    }

    fn add(&mut self, label: &str, count: u64) {
        match label {
            "negative" => self.negative += count,
            "neutral" => self.neutral += count,
            "positive" => self.positive += count,
            _ => {}
        }
    }
}

/// What the run log says about the rows read, summed over every run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Runs in the log.
    pub runs: u64,
    /// Rows read from input files.
    pub read: u64,
    /// Rows added to the index.
    pub accepted: u64,
    /// Rows already in the workspace.
    pub duplicate: u64,
    /// Rows rejected (see `rejects/`).
    pub rejected: u64,
}

/// Counts over the whole index and the run log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    /// Documents in the index.
    pub documents: u64,
    /// Documents without a date (left out of the monthly series).
    pub undated: u64,
    /// Sentiment per month (`YYYY-MM`), ascending.
    pub sentiment_by_period: BTreeMap<String, SentimentCounts>,
    /// Sentiment per topic, largest topic first.
    pub topic_sentiment: Vec<(String, SentimentCounts)>,
    /// Documents per source, largest first.
    pub sources: Vec<(String, u64)>,
    /// Documents per language, largest first.
    pub languages: Vec<(String, u64)>,
    /// Rows read, accepted, duplicate and rejected over all runs.
    pub coverage: Coverage,
}

impl Overview {
    /// Counts the index's committed documents and sums the run summaries in `runs_directory`.
    pub fn read(index: &DocumentIndex, runs_directory: &Path) -> Result<Overview, ReportError> {
        let searcher = index.searcher();
        let collector =
            AggregationCollector::from_aggs(requests(), AggregationLimitsGuard::default());
        let results = searcher.search(&AllQuery, &collector)?;
        let documents = searcher.num_docs();
        Ok(Overview {
            documents,
            undated: documents.saturating_sub(dated_documents(&results)),
            sentiment_by_period: monthly_sentiment(&results),
            topic_sentiment: terms(&results, "topics")
                .iter()
                .map(|bucket| (key_text(&bucket.key), sentiment_of(&bucket.sub_aggregation)))
                .collect(),
            sources: counts(&results, "sources"),
            languages: counts(&results, "languages"),
            coverage: read_coverage(runs_directory),
        })
    }
}

/// One request for everything: terms for the facets, topic x sentiment, and a daily histogram
/// folded into months afterwards (tantivy's date histogram has fixed intervals only).
fn requests() -> Aggregations {
    let sentiment =
        serde_json::json!({ "sentiment": { "terms": { "field": "sentiment", "size": 10 } } });
    let request = serde_json::json!({
        "sources": { "terms": { "field": "source", "size": 100 } },
        "languages": { "terms": { "field": "language", "size": 10 } },
        "topics": { "terms": { "field": "topic", "size": 200 }, "aggs": sentiment },
        "days": {
            "date_histogram": { "field": "date", "fixed_interval": "1d", "min_doc_count": 1 },
            "aggs": sentiment
        }
    });
    serde_json::from_value(request).expect("the overview aggregations are valid")
}

fn terms<'a>(results: &'a AggregationResults, name: &str) -> &'a [BucketEntry] {
    match results.0.get(name) {
        Some(AggregationResult::BucketResult(BucketResult::Terms { buckets, .. })) => buckets,
        _ => &[],
    }
}

fn days(results: &AggregationResults) -> &[BucketEntry] {
    match results.0.get("days") {
        Some(AggregationResult::BucketResult(BucketResult::Histogram {
            buckets: BucketEntries::Vec(buckets),
        })) => buckets,
        _ => &[],
    }
}

fn key_text(key: &Key) -> String {
    match key {
        Key::Str(text) => text.clone(),
        Key::I64(number) => number.to_string(),
        Key::U64(number) => number.to_string(),
        Key::F64(number) => number.to_string(),
    }
}

fn counts(results: &AggregationResults, name: &str) -> Vec<(String, u64)> {
    terms(results, name)
        .iter()
        .map(|bucket| (key_text(&bucket.key), bucket.doc_count))
        .collect()
}

fn sentiment_of(results: &AggregationResults) -> SentimentCounts {
    let mut counts = SentimentCounts::default();
    for bucket in terms(results, "sentiment") {
        counts.add(&key_text(&bucket.key), bucket.doc_count);
    }
    counts
}

/// Days folded into months; the bucket's date string starts with `YYYY-MM`.
fn monthly_sentiment(results: &AggregationResults) -> BTreeMap<String, SentimentCounts> {
    let mut months: BTreeMap<String, SentimentCounts> = BTreeMap::new();
    for day in days(results) {
        let Some(month) = day.key_as_string.as_deref().and_then(|date| date.get(..7)) else {
            continue;
        };
        let day_counts = sentiment_of(&day.sub_aggregation);
        let month_counts = months.entry(month.to_string()).or_default();
        month_counts.negative += day_counts.negative;
        month_counts.neutral += day_counts.neutral;
        month_counts.positive += day_counts.positive;
    }
    months
}

fn dated_documents(results: &AggregationResults) -> u64 {
    days(results).iter().map(|day| day.doc_count).sum()
}

/// The part of a run summary (`pipeline::MineReport`) coverage needs.
#[derive(Deserialize)]
struct RunSummary {
    files: Vec<RunFile>,
}

#[derive(Deserialize)]
struct RunFile {
    read: u64,
    accepted: u64,
    duplicate: u64,
    rejected: u64,
}

/// Sums every readable run summary; one that cannot be read is logged and left out, because a
/// damaged log entry should not stop the reports.
fn read_coverage(runs_directory: &Path) -> Coverage {
    let mut coverage = Coverage::default();
    let Ok(entries) = std::fs::read_dir(runs_directory) else {
        return coverage;
    };
    for path in entries.filter_map(|entry| entry.ok().map(|entry| entry.path())) {
        if path.extension().and_then(|extension| extension.to_str()) != Some("json") {
            continue;
        }
        let parsed = std::fs::read(&path)
            .map_err(|error| error.to_string())
            .and_then(|bytes| {
                serde_json::from_slice::<RunSummary>(&bytes).map_err(|error| error.to_string())
            });
        match parsed {
            Ok(run) => add_run(&mut coverage, &run),
            Err(error) => tracing::warn!("run summary {} left out: {error}", path.display()),
        }
    }
    coverage
}

fn add_run(coverage: &mut Coverage, run: &RunSummary) {
    coverage.runs += 1;
    for file in &run.files {
        coverage.read += file.read;
        coverage.accepted += file.accepted;
        coverage.duplicate += file.duplicate;
        coverage.rejected += file.rejected;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_sums_runs_and_skips_unreadable_ones() {
        let directory = tempfile::tempdir().unwrap();
        let run = r#"{"run": "r1", "files": [
            {"file": "a.csv", "format": "csv", "read": 10, "accepted": 7, "duplicate": 2, "rejected": 1},
            {"file": "b.csv", "format": "csv", "read": 5, "accepted": 5, "duplicate": 0, "rejected": 0}
        ], "languages": {"en": 12}}"#;
        std::fs::write(directory.path().join("r1.json"), run).unwrap();
        std::fs::write(directory.path().join("r2.json"), "not json").unwrap();
        std::fs::write(directory.path().join("notes.txt"), "ignored").unwrap();
        let coverage = read_coverage(directory.path());
        assert_eq!(
            coverage,
            Coverage {
                runs: 1,
                read: 15,
                accepted: 12,
                duplicate: 2,
                rejected: 1
            }
        );
        assert_eq!(
            read_coverage(&directory.path().join("missing")),
            Coverage::default()
        );
    }

    #[test]
    fn negative_share_of_nothing_is_zero() {
        assert_eq!(SentimentCounts::default().negative_share(), 0.0);
        let counts = SentimentCounts {
            negative: 1,
            neutral: 1,
            positive: 2,
        };
        assert_eq!(counts.negative_share(), 0.25);
    }
}
