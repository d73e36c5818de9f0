//! Normalisation throughput (cleaning, PII masking, language, content hash) on real English
//! complaints and Chinese reviews, in bytes per second.

#[path = "common/corpus.rs"]
mod corpus;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use vocmine::document::{Feedback, Metadata, Origin};
use vocmine::normalise::{clean_text, content_hash, detect_language, mask_pii, normalise};

fn feedback(text: &str) -> Feedback {
    Feedback {
        text: text.to_string(),
        metadata: Metadata::default(),
        origin: Origin {
            file: "bench.csv".to_string(),
            line: 1,
        },
    }
}

fn bench_normalise(c: &mut Criterion) {
    let mut group = c.benchmark_group("normalise");
    group.sample_size(10);
    for (name, texts) in [
        ("english", corpus::english()),
        ("chinese", corpus::chinese()),
    ] {
        group.throughput(Throughput::Bytes(corpus::bytes(&texts)));
        group.bench_function(format!("{name}/normalise"), |b| {
            b.iter(|| {
                let hashed = texts
                    .iter()
                    .map(|t| normalise(feedback(black_box(t))))
                    .filter(|document| document.content_hash.len() == 64)
                    .count();
                assert_eq!(hashed, texts.len());
            })
        });
        group.bench_function(format!("{name}/clean_text"), |b| {
            b.iter(|| {
                let total: usize = texts.iter().map(|t| clean_text(black_box(t)).len()).sum();
                assert!(total > 0);
            })
        });
        group.bench_function(format!("{name}/detect_language"), |b| {
            b.iter(|| {
                texts
                    .iter()
                    .map(|t| detect_language(black_box(t)) as usize)
                    .sum::<usize>()
            })
        });
        group.bench_function(format!("{name}/content_hash"), |b| {
            b.iter(|| {
                let total: usize = texts.iter().map(|t| content_hash(black_box(t)).len()).sum();
                assert_eq!(total, 64 * texts.len());
            })
        });
        group.bench_function(format!("{name}/mask_pii"), |b| {
            b.iter(|| {
                let total: usize = texts.iter().map(|t| mask_pii(black_box(t)).0.len()).sum();
                assert!(total > 0);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_normalise);
criterion_main!(benches);
