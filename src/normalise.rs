//! Normalisation: a [`Feedback`] row in, a [`Document`] out. The raw text is cleaned (HTML tags
//! and entities, Unicode NFKC, control and invisible characters, whitespace), personal data is
//! masked before anything is indexed or reported ([`pii`]), the language is detected (en /
//! zh-Hans / zh-Hant / other) and a content hash is taken over the analysis form (Traditional
//! converted to Simplified, lowercased) so that the same text in either script deduplicates.
//!
//! The display text keeps its original script; only the analysis form and the index terms are
//! Simplified. Traditional -> Simplified conversion is character for character (the `fast2s`
//! table, MIT, itself from `simplet2s`, MIT), so every Han character keeps its UTF-8 length and
//! byte offsets computed on the converted text hold for the original.

mod html;
pub mod pii;
mod script;
mod simplify;

use crate::document::{Document, Feedback, Language};
use sha2::{Digest, Sha256};
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

pub use pii::{mask_pii, PiiKind};
pub use script::{is_simplified_marker, is_traditional_marker};

/// Normalises one feedback row into a document. Pure and cheap enough to run per row in parallel.
pub fn normalise(feedback: Feedback) -> Document {
    normalise_keeping_raw(feedback).0
}

/// [`normalise`], handing back the raw text too (without copying it).
pub fn normalise_keeping_raw(feedback: Feedback) -> (Document, String) {
    let text = clean_text(&feedback.text);
    let text = mask_pii(&text).0;
    let language = detect_language(&text);
    let content_hash = content_hash(&text);
    let id = feedback
        .metadata
        .id
        .clone()
        .unwrap_or_else(|| content_hash[..16].to_string());
    let document = Document {
        id,
        text,
        language,
        content_hash,
        metadata: feedback.metadata,
        origin: feedback.origin,
    };
    (document, feedback.text)
}

/// HTML remnants removed (tags dropped, entities decoded), NFKC, control and invisible format
/// characters dropped, whitespace collapsed to single spaces, trimmed.
pub fn clean_text(raw: &str) -> String {
    let without_html = html::strip_html(raw);
    let mut cleaned = String::with_capacity(without_html.len());
    if is_nfkc_quick(without_html.chars()) == IsNormalized::Yes {
        push_collapsed(&mut cleaned, without_html.chars(), false);
    } else {
        push_collapsed(&mut cleaned, without_html.nfkc(), false);
    }
    cleaned
}

/// Appends `chars` to `out` with runs of whitespace as one space, invisible characters dropped
/// and no leading or trailing space; lowercased too when `lowercase` is set. NUL counts as
/// whitespace: exporters use it as a separator, and dropping it would glue words together.
fn push_collapsed(out: &mut String, chars: impl Iterator<Item = char>, lowercase: bool) {
    let mut pending_space = false;
    for c in chars {
        if c.is_whitespace() || c == '\0' {
            pending_space = !out.is_empty();
        } else if !is_invisible(c) {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            if !lowercase || is_han(c) {
                out.push(c);
            } else if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        }
    }
}

/// Control characters and format characters that carry no text: zero-width spaces, byte order
/// marks, soft hyphens and bidirectional controls. The zero-width joiner stays: emoji
/// sequences need it.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{200B}'
                | '\u{200C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// Detects the language of cleaned text.
///
/// Han-dominant text is Chinese; it is Traditional when it holds more characters that only
/// Traditional writing uses than characters that only Simplified writing uses (see
/// [`is_traditional_marker`]), Simplified otherwise, since text without either kind of marker
/// reads the same in both. Kana or Hangul next to Han make it Japanese or Korean, so other.
/// Latin-dominant text is English unless it is long enough to judge and has almost none of the
/// commonest English words.
pub fn detect_language(text: &str) -> Language {
    let counts = ScriptCounts::of(text);
    if counts.han > 0 && counts.han * 3 >= counts.latin && counts.han >= counts.other_letters {
        if counts.kana_or_hangul * 5 > counts.han {
            Language::Other
        } else if counts.traditional > counts.simplified {
            Language::ChineseTraditional
        } else {
            Language::ChineseSimplified
        }
    } else if counts.latin > counts.other_letters && reads_as_english(text) {
        Language::English
    } else {
        Language::Other
    }
}

/// Character counts by script, the evidence for [`detect_language`].
#[derive(Debug, Default)]
struct ScriptCounts {
    han: usize,
    traditional: usize,
    simplified: usize,
    latin: usize,
    kana_or_hangul: usize,
    other_letters: usize,
}

impl ScriptCounts {
    fn of(text: &str) -> ScriptCounts {
        let mut counts = ScriptCounts::default();
        for c in text.chars() {
            if c.is_ascii() {
                counts.latin += usize::from(c.is_ascii_alphabetic());
            } else if is_han(c) {
                counts.han += 1;
                counts.traditional += usize::from(is_traditional_marker(c));
                counts.simplified += usize::from(is_simplified_marker(c));
            } else if matches!(c as u32, 0x3040..=0x30FF | 0x1100..=0x11FF | 0xAC00..=0xD7AF) {
                counts.kana_or_hangul += 1;
            } else if matches!(c as u32, 0xC0..=0x24F) {
                counts.latin += 1;
            } else if c.is_alphabetic() {
                counts.other_letters += 1;
            }
        }
        counts
    }
}

/// Common English function words: a Latin-script text of some length without any of them is
/// most likely another language.
const ENGLISH_MARKERS: &[&str] = &[
    "the", "and", "to", "of", "a", "is", "it", "i", "in", "was", "for", "my", "this", "that",
    "not", "with", "on", "you", "they", "have", "be", "are", "me", "we", "but", "at", "your", "so",
    "no", "our", "an", "or", "from", "will", "can", "all", "has", "had", "get", "been",
];

/// True unless the text has at least eight words and fewer than one in twenty is a common
/// English word. The first 200 words are evidence enough.
fn reads_as_english(text: &str) -> bool {
    let mut words = 0usize;
    let mut english = 0usize;
    for word in text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .take(200)
    {
        words += 1;
        let is_marker = ENGLISH_MARKERS
            .iter()
            .any(|marker| marker.eq_ignore_ascii_case(word));
        english += usize::from(is_marker);
        // Ten marker words already satisfy the ratio below for the 200 words looked at.
        if english >= 10 {
            return true;
        }
    }
    words < 8 || english * 20 >= words
}

/// Converts Traditional Chinese characters to Simplified, character by character, so that byte
/// offsets of non-Han text and the character count are preserved (every converted character is
/// a 3-byte BMP ideograph replaced by another). A few characters keep their Traditional form in
/// fixed words where the Simplified standard keeps it too (乾隆, 慰藉).
pub fn to_simplified(text: &str) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    simplify::convert(text)
}

/// The analysis form used for hashing and matching: Simplified, lowercased, whitespace
/// collapsed.
pub fn analysis_form(text: &str) -> String {
    let simplified = to_simplified(text);
    let mut form = String::with_capacity(simplified.len());
    push_collapsed(&mut form, simplified.chars(), true);
    form
}

/// Hex sha256 of the analysis form.
pub fn content_hash(text: &str) -> String {
    hex::encode(Sha256::digest(analysis_form(text).as_bytes()))
}

/// True for CJK unified ideographs (the Han script).
pub fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Metadata, Origin};
    use proptest::prelude::*;

    fn feedback(text: &str) -> Feedback {
        Feedback {
            text: text.to_string(),
            metadata: Metadata::default(),
            origin: Origin {
                file: "input.csv".to_string(),
                line: 2,
            },
        }
    }

    #[test]
    fn html_tags_and_entities_are_cleaned() {
        assert_eq!(
            clean_text("Great<br>service &amp; fast<p>delivery</p> it&#39;s &quot;ok&quot;"),
            "Great service & fast delivery it's \"ok\""
        );
        assert_eq!(
            clean_text("a&nbsp;b &#x4E2D;&#25991; <b>bold</b>"),
            "a b 中文 bold"
        );
        assert_eq!(clean_text("AT&amp;amp;T"), "AT&T");
        assert_eq!(clean_text("服务很好<br/>下次再来"), "服务很好 下次再来");
    }

    #[test]
    fn text_that_only_looks_like_html_is_kept() {
        assert_eq!(clean_text("price < 5 and x>3"), "price < 5 and x>3");
        assert_eq!(clean_text("R&D and P&G"), "R&D and P&G");
        assert_eq!(clean_text("&lt;b&gt; is literal"), "<b> is literal");
    }

    #[test]
    fn nfkc_whitespace_and_control_characters() {
        assert_eq!(
            clean_text("ｆｕｌｌｗｉｄｔｈ　ＡＢＣ１２３"),
            "fullwidth ABC123"
        );
        assert_eq!(clean_text("  a \t\n b\u{3000}c  "), "a b c");
        assert_eq!(
            clean_text("zero\u{200B}width\u{FEFF}\u{7}bell"),
            "zerowidthbell"
        );
        assert_eq!(clean_text("ﬁne"), "fine");
        assert_eq!(clean_text("👨\u{200D}👩"), "👨\u{200D}👩");
        assert_eq!(clean_text(" \t\n "), "");
    }

    #[test]
    fn nul_separates_words_instead_of_gluing_them() {
        assert_eq!(clean_text("nul\0inside\0text"), "nul inside text");
        assert_eq!(clean_text("\0\0edge\0\0"), "edge");
    }

    #[test]
    fn languages_are_detected() {
        assert_eq!(
            detect_language("The brakes squeal every time I stop."),
            Language::English
        );
        assert_eq!(
            detect_language("刹车每次都有异响，服务态度也很差"),
            Language::ChineseSimplified
        );
        assert_eq!(
            detect_language("剎車每次都有異響，服務態度也很差"),
            Language::ChineseTraditional
        );
        assert_eq!(
            detect_language("台灣的服務很好"),
            Language::ChineseTraditional
        );
        assert_eq!(
            detect_language("iPhone 很好用"),
            Language::ChineseSimplified
        );
        assert_eq!(detect_language("好的"), Language::ChineseSimplified);
        assert_eq!(detect_language("ブレーキの音がうるさい"), Language::Other);
        assert_eq!(detect_language("브레이크 소리가 나요"), Language::Other);
        assert_eq!(detect_language("Тормоза скрипят"), Language::Other);
        assert_eq!(
            detect_language(
                "Très bon produit, je recommande vivement ce vendeur sérieux et rapide"
            ),
            Language::Other
        );
        assert_eq!(detect_language("12345 !!!"), Language::Other);
        assert_eq!(detect_language(""), Language::Other);
    }

    #[test]
    fn characters_shared_by_both_scripts_are_no_evidence() {
        // 著, 乾 and 於 change under T->S but are also standard Simplified characters.
        assert_eq!(
            detect_language("效果显著，乾隆年间的故事，关於服务"),
            Language::ChineseSimplified
        );
        // 台, 后 and 里 are T->S targets but also ordinary Traditional characters.
        assert!(!is_simplified_marker('台'));
        assert!(!is_traditional_marker('著'));
        assert!(is_traditional_marker('車'));
        assert!(is_simplified_marker('车'));
    }

    #[test]
    fn traditional_converts_char_for_char() {
        assert_eq!(to_simplified("刹車"), "刹车");
        assert_eq!(to_simplified("剎車很爛 brake 😡"), "刹车很烂 brake 😡");
        let traditional = "服務態度 café 說明書 𠀀";
        let simplified = to_simplified(traditional);
        assert_eq!(simplified.len(), traditional.len());
        assert_eq!(simplified.chars().count(), traditional.chars().count());
    }

    #[test]
    fn content_hash_matches_across_scripts_case_and_spacing() {
        assert_eq!(content_hash("刹車 Brake"), content_hash("刹车  brake"));
        assert_ne!(content_hash("刹车"), content_hash("油门"));
    }

    #[test]
    fn normalise_masks_detects_and_hashes() {
        let document = normalise(feedback(
            "<p>剎車有問題，請致電 0912-345-678 或 mail a.b@example.com</p>",
        ));
        assert_eq!(document.text, "剎車有問題,請致電 [phone] 或 mail [email]");
        assert_eq!(document.language, Language::ChineseTraditional);
        assert_eq!(document.id, document.content_hash[..16]);
        let with_id = Feedback {
            metadata: Metadata {
                id: Some("row-7".to_string()),
                ..Metadata::default()
            },
            ..feedback("ok")
        };
        assert_eq!(normalise(with_id).id, "row-7");
    }

    proptest! {
        #[test]
        fn normalise_never_panics(text in "\\PC{0,200}") {
            let document = normalise(feedback(&text));
            prop_assert!(!document.text.starts_with(' ') && !document.text.ends_with(' '));
            prop_assert_eq!(to_simplified(&text).len(), text.len());
        }

        #[test]
        fn normalise_never_panics_on_any_chars(text in any::<String>()) {
            let document = normalise(feedback(&text));
            prop_assert_eq!(document.content_hash.len(), 64);
        }
    }
}
