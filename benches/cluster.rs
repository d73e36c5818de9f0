//! Cluster + label + route on the 10,000 consumer complaint narratives, with their embeddings
//! taken from the embedding cache (so the encoder is not timed), and on 50,000 and 100,000
//! documents made by replicating them with small noise on the embeddings. Prints seconds,
//! documents/s, problems found, unassigned share and peak memory per size.
//!
//! Run: `vocmine embed ~/.cache/vocmine/data/cfpb_train.csv --text-column "Consumer complaint
//! narrative" --model minilm --out /tmp/cfpb.npy` once (fills the cache), then
//! `cargo bench --bench cluster`. `VOCMINE_BENCH_MODEL` names the cache folder (default
//! `minilm-t256`; `e5-t256` for the default encoder), `VOCMINE_BENCH_SIZES` the sizes
//! (default `10000,50000,100000`), `VOCMINE_BENCH_RUNS` the runs per size up to 20,000 (default
//! 3; the median is printed, with every run; larger sizes run once). A warm-up run on 1,000
//! documents comes first. `RUST_LOG=vocmine=debug` adds each clustering stage's time.

mod common;

use std::time::Instant;

use vocmine::cluster::random::Random;
use vocmine::config::Config;
use vocmine::document::{Document, Enrichment, Feedback, Metadata, Origin};
use vocmine::encode::{key_of, EmbeddingCache};
use vocmine::problems::history::ClusterHistory;
use vocmine::problems::{find_problems, Candidate, ProblemContext, ProblemUnit};
use vocmine::progress::NoProgress;

const DIMENSION: usize = 384;

fn main() {
    // `RUST_LOG=vocmine=debug` prints each clustering stage's time.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let model = std::env::var("VOCMINE_BENCH_MODEL").unwrap_or_else(|_| "minilm-t256".into());
    let sizes: Vec<usize> = std::env::var("VOCMINE_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,50000,100000".into())
        .split(',')
        .map(|size| size.trim().parse().expect("sizes are numbers"))
        .collect();
    let runs: usize = std::env::var("VOCMINE_BENCH_RUNS")
        .map_or(3, |runs| {
            runs.parse().expect("VOCMINE_BENCH_RUNS is a number")
        })
        .max(1);
    let (documents, embeddings) = narratives(&model);
    let config = Config::parse(vocmine::config::DEFAULT_CONFIG).expect("default config");
    println!(
        "{:>8} {:>10} {:>10} {:>9} {:>11} {:>10}",
        "docs", "seconds", "docs/s", "problems", "unassigned", "peak MiB"
    );
    let context = ProblemContext {
        period: "2026-10".into(),
        run: "bench".into(),
        model: model.clone(),
    };
    // Warm-up on 1,000 documents: the thread pools, libtorch and the analyzer start once per
    // process, as they have by the time `mine` reaches this stage.
    run_once(
        &documents[..1_000],
        &embeddings[..1_000 * DIMENSION],
        &config,
        &context,
    );
    for size in sizes {
        let (documents, embeddings) = replicate(&documents, &embeddings, size);
        let runs = if size <= 20_000 { runs } else { 1 };
        let mut timings: Vec<(f64, usize, f64)> = (0..runs)
            .map(|_| run_once(&documents, &embeddings, &config, &context))
            .collect();
        timings.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (seconds, problems, unassigned) = timings[timings.len() / 2];
        let all: Vec<String> = timings.iter().map(|t| format!("{:.2}", t.0)).collect();
        println!(
            "{:>8} {:>10.2} {:>10.0} {:>9} {:>10.2}% {:>10.0}  runs: {}",
            size,
            seconds,
            size as f64 / seconds,
            problems,
            unassigned * 100.0,
            common::peak_rss_mib(),
            all.join(" ")
        );
    }
}

/// One cluster + label + route run: seconds, problems found, unassigned share.
fn run_once(
    documents: &[Document],
    embeddings: &[f32],
    config: &Config,
    context: &ProblemContext,
) -> (f64, usize, f64) {
    let enrichment = Enrichment::default();
    let (candidates, units): (Vec<Candidate<'_>>, Vec<ProblemUnit<'_>>) = documents
        .iter()
        .enumerate()
        .map(|(row, document)| {
            (
                Candidate {
                    document,
                    enrichment: &enrichment,
                    run: "",
                },
                ProblemUnit {
                    candidate: row,
                    start: 0,
                    end: document.text.len(),
                    negative: true,
                    embedding: &embeddings[row * DIMENSION..(row + 1) * DIMENSION],
                    space: 0,
                },
            )
        })
        .unzip();
    let started = Instant::now();
    let found = find_problems(
        &candidates,
        &units,
        &[],
        config,
        &ClusterHistory::default(),
        context,
        &NoProgress,
    );
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(found.placements.len(), documents.len());
    (
        seconds,
        found.entry.problems.len(),
        found.file.unassigned_share,
    )
}

/// The narratives as `mine` would normalise them, with their cached embeddings.
fn narratives(model: &str) -> (Vec<Document>, Vec<f32>) {
    let texts = common::csv_texts("cfpb_train.csv", "Consumer complaint narrative");
    let directory = common::data_dir()
        .parent()
        .expect("cache root")
        .join("embeddings")
        .join(model);
    let cache = EmbeddingCache::open(&directory, DIMENSION).expect("embedding cache");
    let mut documents = Vec::new();
    let mut embeddings = Vec::new();
    for (line, text) in texts.into_iter().enumerate() {
        let document = vocmine::normalise::normalise(Feedback {
            text,
            metadata: Metadata::default(),
            origin: Origin {
                file: "cfpb_train.csv".into(),
                line: line as u64 + 2,
            },
        });
        let Some(row) = cache.get(&key_of(&document.text)) else {
            continue;
        };
        embeddings.extend_from_slice(row);
        documents.push(document);
    }
    assert!(
        documents.len() >= 9_000,
        "only {} narratives are in {}: run `vocmine embed` on cfpb_train.csv first (see the \
         bench's doc comment)",
        documents.len(),
        directory.display()
    );
    (documents, embeddings)
}

/// `size` documents: the originals, then copies that read like other customers' versions of the
/// same complaint: each keeps a random 70% of the original's words, its embedding gets noise of
/// 0.04 per coordinate (renormalised; cosine to the original about 0.6, as far as real near
/// neighbours are), and it has a distinct id. Exact copies would form tight cliques of their
/// own and say nothing about real data.
fn replicate(documents: &[Document], embeddings: &[f32], size: usize) -> (Vec<Document>, Vec<f32>) {
    let mut random = Random::new(11);
    let mut out_documents = Vec::with_capacity(size);
    let mut out_embeddings = Vec::with_capacity(size * DIMENSION);
    for index in 0..size {
        let source = index % documents.len();
        let mut document = documents[source].clone();
        let mut row = embeddings[source * DIMENSION..(source + 1) * DIMENSION].to_vec();
        if index >= documents.len() {
            document.id = format!("{}-{index}", document.id);
            document.content_hash = format!("{}-{index}", document.content_hash);
            let words: Vec<&str> = document
                .text
                .split_whitespace()
                .filter(|_| random.normal() > -0.52)
                .collect();
            document.text = words.join(" ");
            row.iter_mut()
                .for_each(|value| *value += 0.04 * random.normal() as f32);
            let norm = row.iter().map(|value| value * value).sum::<f32>().sqrt();
            row.iter_mut().for_each(|value| *value /= norm);
        }
        out_documents.push(document);
        out_embeddings.extend_from_slice(&row);
    }
    (out_documents, out_embeddings)
}
