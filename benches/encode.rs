//! Encoder throughput with the real models: documents/s and tokens/s for e5 and MiniLM at 1 and
//! 2 libtorch threads, on the real consumer complaint narratives (long) and airline tweets
//! (short); the achieved FLOP rate as a share of the machine's measured matmul peak (a large tch
//! matmul, fp32 and bf16); cold start to the first embedding; peak RSS. Prints one table. Each
//! configuration runs in fp32 and in bf16 (`[model] precision`); a bf16 row also gives the lowest
//! and median cosine of its embeddings to the fp32 ones of the same texts.
//!
//! Run on a quiet machine (libtorch threads spin while waiting for a busy core):
//! `cargo bench --bench encode`. `VOCMINE_BENCH_DOCUMENTS` sets how many texts of each kind are
//! encoded (default 400 short, 100 long).

mod common;

use std::time::Instant;
use tch::{Device, Kind, Tensor};
use vocmine::config::Precision;
use vocmine::model::bert::{BertEncoder, BertSettings};
use vocmine::model::{open_encoder, Embeddings, Encoder, ModelChoice};

/// Multiply-adds per token of a BERT layer stack, counted as 2 FLOPs each: the four attention
/// projections and the two feed-forward matrices (attention scores are left out, so the share
/// of peak is a slight underestimate for long texts).
fn flops_per_token(layers: f64, hidden: f64, intermediate: f64) -> f64 {
    2.0 * layers * (4.0 * hidden * hidden + 2.0 * hidden * intermediate)
}

fn main() {
    let short_count = count_from_env(400);
    let long_count = short_count / 4;
    let tweets = common::csv_texts("tweets.csv", "text");
    let narratives = common::csv_texts("cfpb_train.csv", "Consumer complaint narrative");
    let short: Vec<&str> = tweets
        .iter()
        .take(short_count)
        .map(String::as_str)
        .collect();
    let long: Vec<&str> = narratives
        .iter()
        .take(long_count)
        .map(String::as_str)
        .collect();
    let peaks = [1, 2].map(|threads| {
        let (fp32, bf16) = matmul_peak(threads);
        println!("matmul peak, {threads} threads: fp32 {fp32:.1} GFLOP/s, bf16 {bf16:.1} GFLOP/s");
        fp32
    });
    println!(
        "{:<8} {:<5} {:>7} {:<6} {:>6} {:>9} {:>10} {:>11} {:>9} {:>10} {:>15}",
        "model",
        "prec",
        "threads",
        "texts",
        "docs",
        "docs/s",
        "tokens/s",
        "GFLOP/s",
        "of fp32",
        "cold s",
        "cos min/median"
    );
    for model in [ModelChoice::MiniLm, ModelChoice::E5Small] {
        for (threads, peak) in [1, 2].into_iter().zip(peaks) {
            for (kind, texts) in [("short", &short), ("long", &long)] {
                let reference = measure(model, Precision::Fp32, threads, kind, texts, peak, None);
                measure(
                    model,
                    Precision::Bf16,
                    threads,
                    kind,
                    texts,
                    peak,
                    Some(&reference),
                );
            }
        }
    }
    println!("peak RSS: {:.0} MiB", common::peak_rss_mib());
}

fn count_from_env(default: usize) -> usize {
    std::env::var("VOCMINE_BENCH_DOCUMENTS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Encodes `texts` once, prints the row and returns the embeddings; with a `reference`, also
/// the cosine of each embedding to the reference's.
fn measure(
    model: ModelChoice,
    precision: Precision,
    threads: usize,
    kind: &str,
    texts: &[&str],
    peak: f64,
    reference: Option<&Embeddings>,
) -> Embeddings {
    let settings = BertSettings {
        threads,
        precision,
        ..BertSettings::default()
    };
    let cold = Instant::now();
    let mut encoder = open_encoder(model, settings).expect("model installed by scripts/setup");
    encoder.encode(&texts[..1]).expect("first embedding");
    let cold_seconds = cold.elapsed().as_secs_f64();
    let tokens: usize = encoder
        .tokenize(texts)
        .iter()
        .map(|encoded| encoded.ids.len())
        .sum();
    let started = Instant::now();
    let embeddings = encoder.encode(texts).expect("encode");
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(embeddings.len(), texts.len());
    let (layers, hidden, intermediate) = shape(&encoder, model);
    let gflops = tokens as f64 * flops_per_token(layers, hidden, intermediate) / seconds / 1e9;
    let agreement = reference.map_or_else(String::new, |reference| {
        let mut cosines: Vec<f32> = (0..texts.len())
            .map(|row| {
                let (a, b) = (embeddings.row(row), reference.row(row));
                a.iter().zip(b).map(|(x, y)| x * y).sum()
            })
            .collect();
        cosines.sort_by(f32::total_cmp);
        format!("{:.5}/{:.5}", cosines[0], cosines[cosines.len() / 2])
    });
    println!(
        "{:<8} {:<5} {:>7} {:<6} {:>6} {:>9.1} {:>10.0} {:>11.1} {:>8.0}% {:>10.2} {:>15}",
        model.name(),
        format!("{precision:?}").to_lowercase(),
        threads,
        kind,
        texts.len(),
        texts.len() as f64 / seconds,
        tokens as f64 / seconds,
        gflops,
        100.0 * gflops / peak,
        cold_seconds,
        agreement
    );
    embeddings
}

/// Layers, hidden size and feed-forward size of the model.
fn shape(encoder: &BertEncoder, model: ModelChoice) -> (f64, f64, f64) {
    let hidden = encoder.dimension() as f64;
    match model {
        ModelChoice::MiniLm => (6.0, hidden, 4.0 * hidden),
        ModelChoice::E5Small => (12.0, hidden, 4.0 * hidden),
    }
}

/// GFLOP/s of a 2048 x 2048 matmul (best of 5), fp32 and bf16, with `threads` threads.
fn matmul_peak(threads: usize) -> (f64, f64) {
    tch::set_num_threads(threads as i32);
    let rate = |kind: Kind| {
        let size = 2048i64;
        let a = Tensor::randn([size, size], (kind, Device::Cpu));
        let b = Tensor::randn([size, size], (kind, Device::Cpu));
        let _ = a.matmul(&b);
        (0..5)
            .map(|_| {
                let started = Instant::now();
                let product = a.matmul(&b);
                let seconds = started.elapsed().as_secs_f64();
                assert_eq!(product.size(), [size, size]);
                2.0 * (size as f64).powi(3) / seconds / 1e9
            })
            .fold(0.0, f64::max)
    };
    (rate(Kind::Float), rate(Kind::BFloat16))
}
