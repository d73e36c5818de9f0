//! The MiniLM path against sentence-transformers: embeddings of real feedback sentences must match
//! the reference vectors that `models/minilm_reference.py` computed with sentence-transformers
//! (cosine >= 0.9999), including texts cut at the 256-token limit, Chinese, emoji and empty text.
//! Needs the model in the cache (`scripts/setup`); runs libtorch on one thread, because threads
//! spin when the machine is shared.

use serde::Deserialize;
use vocmine::model::bert::{BertEncoder, BertSettings};
use vocmine::model::Encoder;

#[derive(Deserialize)]
struct Reference {
    max_seq_length: usize,
    sentences: Vec<String>,
    token_counts_untruncated: Vec<usize>,
    embeddings: Vec<Vec<f32>>,
}

fn reference() -> Reference {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/minilm_reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn encoder(max_tokens: usize, batch_size: usize) -> BertEncoder {
    let settings = BertSettings {
        max_tokens,
        batch_size,
        threads: 1,
        ..BertSettings::default()
    };
    BertEncoder::minilm(settings).unwrap_or_else(|error| panic!("{error}"))
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn minilm_matches_sentence_transformers() {
    let reference = reference();
    let mut encoder = encoder(reference.max_seq_length, 8);
    let texts: Vec<&str> = reference.sentences.iter().map(String::as_str).collect();
    let embeddings = encoder.encode(&texts).unwrap();
    assert_eq!(embeddings.dimension(), 384);
    assert_eq!(embeddings.len(), texts.len());
    let mut lowest = f32::INFINITY;
    for (index, expected) in reference.embeddings.iter().enumerate() {
        let similarity = cosine(embeddings.row(index), expected);
        assert!(
            similarity >= 0.9999,
            "sentence {index} {:?}: cosine {similarity}",
            texts[index]
        );
        lowest = lowest.min(similarity);
    }
    eprintln!("lowest cosine to sentence-transformers: {lowest}");
    let over_limit = reference
        .token_counts_untruncated
        .iter()
        .filter(|&&count| count > reference.max_seq_length)
        .count();
    assert!(over_limit > 0, "the reference should include long texts");
    assert_eq!(embeddings.truncated(), over_limit);
}

#[test]
fn batching_and_order_do_not_change_embeddings() {
    let reference = reference();
    let texts: Vec<&str> = reference.sentences.iter().map(String::as_str).collect();
    let one_by_one = encoder(256, 1).encode(&texts).unwrap();
    let reversed: Vec<&str> = texts.iter().rev().copied().collect();
    let batched = encoder(256, 32).encode(&reversed).unwrap();
    for index in 0..texts.len() {
        let similarity = cosine(one_by_one.row(index), batched.row(texts.len() - 1 - index));
        assert!(
            similarity >= 0.99999,
            "sentence {index}: cosine {similarity}"
        );
    }
}

#[test]
fn tch_runs_on_the_configured_thread_count() {
    let _encoder = encoder(256, 8);
    assert_eq!(tch::get_num_threads(), 1);
}
