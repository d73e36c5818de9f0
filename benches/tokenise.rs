//! Analyzer throughput on real English complaints and Chinese reviews, in bytes per second.

#[path = "common/corpus.rs"]
mod corpus;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use vocmine::tokenise::{analyze, for_each_term};

fn bench_tokenise(c: &mut Criterion) {
    let mut group = c.benchmark_group("tokenise");
    group.sample_size(10);
    for (name, texts) in [
        ("english", corpus::english()),
        ("chinese", corpus::chinese()),
    ] {
        group.throughput(Throughput::Bytes(corpus::bytes(&texts)));
        group.bench_function(format!("{name}/for_each_term"), |b| {
            b.iter(|| {
                let mut count = 0usize;
                for text in &texts {
                    for_each_term(black_box(text), |term| count += term.text.len());
                }
                assert!(count > 0);
                count
            })
        });
        group.bench_function(format!("{name}/analyze"), |b| {
            b.iter(|| {
                let count: usize = texts.iter().map(|t| analyze(black_box(t)).len()).sum();
                assert!(count > 0);
                count
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_tokenise);
criterion_main!(benches);
