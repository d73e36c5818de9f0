//! Sentiment from an embedding: a head per language family, trained by `vocmine train sentiment`
//! and shipped in `models/` (compiled into the binary, so the quick start needs no training).
//! English (and every non-Chinese document) uses a three-class head trained on airline customer
//! tweets; Chinese uses a two-class head trained on product and hotel reviews, and says
//! `neutral` when its calibrated probabilities of negative and positive are within
//! [`NEUTRAL_MARGIN`] of each other: neutral comes from calibration, not from a third guess.

use super::learn::three_class::{BinaryToThreeWay, ThreeWaySentiment};
use super::learn::Head;
use crate::document::Language;

/// The shipped English head (three classes).
pub const ENGLISH_HEAD: &str = include_str!("../../models/sentiment-en.json");
/// The shipped Chinese head (negative / positive).
pub const CHINESE_HEAD: &str = include_str!("../../models/sentiment-zh.json");

/// A two-class head answers neutral when `|p(positive) - p(negative)|` is below this: with
/// calibrated probabilities, neither side is more likely than 60 / 40.
pub const NEUTRAL_MARGIN: f32 = 0.2;

/// One document's sentiment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SentimentPrediction {
    /// The label.
    pub label: ThreeWaySentiment,
    /// Its calibrated probability (for neutral from a two-class head: 1 - the margin between
    /// the two classes).
    pub score: f32,
}

/// The name of a label as stored in the index and shown to users.
pub fn label_name(label: ThreeWaySentiment) -> &'static str {
    match label {
        ThreeWaySentiment::Negative => "negative",
        ThreeWaySentiment::Neutral => "neutral",
        ThreeWaySentiment::Positive => "positive",
    }
}

/// The sentiment heads of both language families.
#[derive(Debug, Clone)]
pub struct SentimentModel {
    english: Head,
    chinese: Head,
}

impl SentimentModel {
    /// The heads shipped in `models/`.
    pub fn shipped() -> Self {
        let parse = |text: &str, name: &str| {
            Head::from_json(text).unwrap_or_else(|error| panic!("shipped {name} is valid: {error}"))
        };
        SentimentModel {
            english: parse(ENGLISH_HEAD, "models/sentiment-en.json"),
            chinese: parse(CHINESE_HEAD, "models/sentiment-zh.json"),
        }
    }

    /// Heads given directly (for evaluation of freshly trained heads).
    pub fn new(english: Head, chinese: Head) -> Self {
        SentimentModel { english, chinese }
    }

    /// The embedding width the heads take (both heads take the same).
    pub fn input_dimension(&self) -> usize {
        self.english.input_dimension()
    }

    /// The head that serves `language`.
    pub fn head_for(&self, language: Language) -> &Head {
        match language {
            Language::ChineseSimplified | Language::ChineseTraditional => &self.chinese,
            Language::English | Language::Other => &self.english,
        }
    }

    /// The sentiment of a document in `language` from its embedding and its text (read only by
    /// a head that carries a text head).
    pub fn predict(
        &self,
        embedding: &[f32],
        text: &str,
        language: Language,
    ) -> SentimentPrediction {
        let head = self.head_for(language);
        decide(head, &head.predict_document(embedding, text))
    }
}

/// Three-way label and score from a head's probabilities (two- or three-class).
pub fn decide(head: &Head, probabilities: &[f32]) -> SentimentPrediction {
    let names = &head.class_names;
    if names.len() == 2 {
        let rule = BinaryToThreeWay::from_class_names(names, NEUTRAL_MARGIN)
            .expect("a two-class sentiment head has negative and positive classes");
        let label = rule.decide(probabilities);
        let negative = probabilities[rule.negative_index];
        let positive = probabilities[rule.positive_index];
        let score = match label {
            ThreeWaySentiment::Negative => negative,
            ThreeWaySentiment::Positive => positive,
            ThreeWaySentiment::Neutral => 1.0 - (positive - negative).abs(),
        };
        return SentimentPrediction { label, score };
    }
    let (best, &score) = probabilities
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .expect("a head has classes");
    let label = match names[best].as_str() {
        "negative" => ThreeWaySentiment::Negative,
        "positive" => ThreeWaySentiment::Positive,
        _ => ThreeWaySentiment::Neutral,
    };
    SentimentPrediction { label, score }
}
