//! Normalisation: a [`Feedback`] row in, a [`Document`] out. Unicode NFKC, whitespace and HTML
//! remnants cleaned, language detected (en / zh-Hans / zh-Hant / other), PII masked before anything
//! is indexed or reported, and a content hash over the analysis form (Traditional converted to
//! Simplified, lowercased) so that the same text in either script deduplicates.
//!
//! PLACEHOLDER: the full implementation (HTML, PII masking, language detection, Traditional ->
//! Simplified) is being written; the signatures below are the contract other stages rely on.

use crate::document::{Document, Feedback, Language};
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

/// Normalises one feedback row into a document. Pure and cheap enough to run per row in parallel.
pub fn normalise(feedback: Feedback) -> Document {
    let text = clean_text(&feedback.text);
    let text = mask_pii(&text).0;
    let language = detect_language(&text);
    let content_hash = content_hash(&text);
    let id = feedback
        .metadata
        .id
        .clone()
        .unwrap_or_else(|| content_hash[..16].to_string());
    Document {
        id,
        text,
        language,
        content_hash,
        metadata: feedback.metadata,
        origin: feedback.origin,
    }
}

/// NFKC, HTML remnants removed, whitespace collapsed, trimmed.
pub fn clean_text(raw: &str) -> String {
    let nfkc: String = raw.nfkc().collect();
    nfkc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Masks e-mail addresses, phone numbers, Luhn-valid card numbers and Chinese ID numbers.
/// Returns the masked text and how many spans were masked.
pub fn mask_pii(text: &str) -> (String, usize) {
    (text.to_string(), 0)
}

/// Detects the language of cleaned text.
pub fn detect_language(text: &str) -> Language {
    let han = text.chars().filter(|c| is_han(*c)).count();
    let latin = text.chars().filter(|c| c.is_ascii_alphabetic()).count();
    if han > 0 && han * 3 >= latin {
        Language::ChineseSimplified
    } else if latin > 0 {
        Language::English
    } else {
        Language::Other
    }
}

/// Converts Traditional Chinese characters to Simplified, character by character, so that byte
/// offsets of non-Han text and the character count are preserved.
pub fn to_simplified(text: &str) -> String {
    text.to_string()
}

/// The analysis form used for hashing and matching: Simplified, lowercased.
pub fn analysis_form(text: &str) -> String {
    to_simplified(text).to_lowercase()
}

/// Hex sha256 of the analysis form.
pub fn content_hash(text: &str) -> String {
    hex::encode(Sha256::digest(analysis_form(text).as_bytes()))
}

/// True for CJK unified ideographs (the Han script).
pub fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}
