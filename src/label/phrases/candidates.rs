//! Phrase candidates for naming: texts in, the distinct phrases of every text out, each with the
//! span of text it was read from. A phrase is a run of consecutive terms of the index analyzer
//! (English stems, jieba words), so "lost my luggage" and "lost luggage" are one phrase (the
//! stems `lost luggag`; the stopword in between is dropped by the analyzer and kept in the span
//! shown). Phrases never start or end with a stopword (the analyzer emits none), never cross
//! punctuation, and never hold boilerplate: @mentions, URLs, PII masks, redactions, numbers, and
//! hashtags that repeat a handle (`#united` next to `@united`).

use std::cmp::Ordering;
use std::sync::LazyLock;

use rayon::prelude::*;
use regex::Regex;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::label::is_filler;
use crate::normalise::{is_han, PiiKind};
use crate::tokenise::{for_each_term, MAX_TERM_BYTES};

/// Most analyzer terms one phrase holds; `PhraseSettings::max_words` is capped to it.
pub(super) const MAX_TERMS: usize = 6;

/// Chinese phrases are one to three jieba words.
const CHINESE_MAX_TERMS: usize = 3;

/// Background texts per parallel task.
const BACKGROUND_CHUNK: usize = 512;

/// Fills the unused places of a [`Key`].
const PADDING: u32 = u32::MAX;

/// A term of a background text that no unit has: no candidate holds it.
const UNKNOWN: u32 = u32::MAX - 1;

static MENTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"@([A-Za-z0-9_]+)").expect("mention pattern"));
static HASHTAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"#(\w+)").expect("hashtag pattern"));
static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(?:https?://|www\.)\S+").expect("URL pattern"));
/// The PII placeholders in any case: `[PHONE]` would otherwise give the term `phone`.
static MASK: LazyLock<Regex> = LazyLock::new(|| {
    let names: Vec<String> = PiiKind::ALL
        .iter()
        .map(|kind| regex::escape(kind.placeholder()))
        .collect();
    Regex::new(&format!("(?i){}", names.join("|"))).expect("mask pattern")
});

/// The terms of a phrase, as term ids padded with [`PADDING`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Key([u32; MAX_TERMS]);

impl Key {
    /// The term ids.
    pub(super) fn terms(&self) -> &[u32] {
        let length = self.0.iter().position(|&id| id == PADDING);
        &self.0[..length.unwrap_or(MAX_TERMS)]
    }

    fn single(term: u32) -> Key {
        let mut terms = [PADDING; MAX_TERMS];
        terms[0] = term;
        Key(terms)
    }
}

/// One phrase in one text: which candidate, and the byte span it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Occurrence {
    /// Index into [`Vocabulary::keys`].
    pub(super) candidate: u32,
    /// Start byte of the span.
    pub(super) start: u32,
    /// End byte of the span (exclusive).
    pub(super) end: u32,
}

/// Every phrase candidate of a set of texts, and which texts contain which.
pub(super) struct Vocabulary {
    terms: Vec<Box<str>>,
    term_ids: HashMap<Box<str>, u32>,
    /// The terms of every candidate, by candidate index.
    pub(super) keys: Vec<Key>,
    key_ids: HashMap<Key, u32>,
    /// Whether a candidate holds Han characters (a Chinese phrase).
    pub(super) chinese: Vec<bool>,
    /// Occurrences of all texts, text after text, one per distinct candidate of a text.
    occurrences: Vec<Occurrence>,
    starts: Vec<usize>,
    /// Per text, its whole-word terms in Latin (and other) script and in Han.
    term_counts: Vec<TermCounts>,
    handles: HashSet<String>,
    max_words: usize,
}

/// Whole-word terms per script: rates of Chinese phrases are per Han term, of others per other
/// term, so that a mixed background does not dilute either.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct TermCounts {
    /// Terms without Han characters.
    pub(super) latin: u64,
    /// Terms with Han characters.
    pub(super) han: u64,
}

impl TermCounts {
    fn of(scanned: &[ScannedTerm]) -> TermCounts {
        let han = scanned.iter().filter(|term| term.han > 0).count() as u64;
        TermCounts {
            latin: scanned.len() as u64 - han,
            han,
        }
    }

    /// Adds `other`'s counts.
    pub(super) fn add(&mut self, other: TermCounts) {
        self.latin += other.latin;
        self.han += other.han;
    }

    /// The count of the script of a phrase.
    pub(super) fn of_script(&self, chinese: bool) -> u64 {
        if chinese {
            self.han
        } else {
            self.latin
        }
    }
}

/// A term of one text as phrase building needs it.
struct ScannedTerm {
    id: u32,
    start: usize,
    end: usize,
    han: usize,
    blocked: bool,
}

impl Vocabulary {
    /// Reads the candidates of `texts`; English phrases hold at most `max_words` words
    /// (stopwords inside included).
    pub(super) fn build(texts: &[&str], max_words: usize) -> Vocabulary {
        let mut vocabulary = Vocabulary {
            terms: Vec::new(),
            term_ids: HashMap::default(),
            keys: Vec::new(),
            key_ids: HashMap::default(),
            chinese: Vec::new(),
            occurrences: Vec::new(),
            starts: vec![0],
            term_counts: Vec::with_capacity(texts.len()),
            handles: mention_handles(texts),
            max_words: max_words.clamp(1, MAX_TERMS),
        };
        let mut scanned = Vec::new();
        let mut found = Vec::new();
        for text in texts {
            vocabulary.scan(text, &mut scanned);
            found.clear();
            for_each_phrase(text, &scanned, vocabulary.max_words, |key, start, end| {
                let candidate = vocabulary.insert_key(key, text, start, end);
                found.push(Occurrence {
                    candidate,
                    start: start as u32,
                    end: end as u32,
                });
            });
            found.sort_by_key(|occurrence| occurrence.candidate);
            found.dedup_by_key(|occurrence| occurrence.candidate);
            vocabulary.occurrences.extend_from_slice(&found);
            vocabulary.starts.push(vocabulary.occurrences.len());
            vocabulary.term_counts.push(TermCounts::of(&scanned));
        }
        vocabulary
    }

    /// Every candidate's occurrences in `texts` (read like the units, but adding no
    /// candidates), and the texts' terms per script.
    ///
    /// Texts are read in parallel (counts are sums, so the result does not depend on the split).
    pub(super) fn count_in(&self, texts: &[&str]) -> (Vec<u32>, TermCounts) {
        let mut handles = self.handles.clone();
        handles.extend(mention_handles(texts));
        let empty = || (vec![0u32; self.keys.len()], TermCounts::default());
        texts
            .par_chunks(BACKGROUND_CHUNK)
            .fold(empty, |(mut counts, mut terms), chunk| {
                let mut scanned = Vec::new();
                for text in chunk {
                    terms.add(self.count_text(text, &handles, &mut scanned, &mut counts));
                }
                (counts, terms)
            })
            .reduce(empty, |(mut counts, mut terms), (other, other_terms)| {
                counts
                    .iter_mut()
                    .zip(other)
                    .for_each(|(count, more)| *count += more);
                terms.add(other_terms);
                (counts, terms)
            })
    }

    /// Adds the candidate occurrences of one background text to `counts`; returns its terms.
    fn count_text(
        &self,
        text: &str,
        handles: &HashSet<String>,
        scanned: &mut Vec<ScannedTerm>,
        counts: &mut [u32],
    ) -> TermCounts {
        let masked = masked_ranges(text, handles);
        scan_terms(text, &masked, scanned, |term| {
            self.term_ids.get(term).copied().unwrap_or(UNKNOWN)
        });
        for_each_phrase(text, scanned, self.max_words, |key, _, _| {
            if let Some(&candidate) = self.key_ids.get(&key) {
                counts[candidate as usize] += 1;
            }
        });
        TermCounts::of(scanned)
    }

    /// The whole-word terms of text `index` per script.
    pub(super) fn term_counts(&self, index: usize) -> TermCounts {
        self.term_counts[index]
    }

    /// The occurrences of text `index`, one per distinct candidate.
    pub(super) fn occurrences(&self, index: usize) -> &[Occurrence] {
        &self.occurrences[self.starts[index]..self.starts[index + 1]]
    }

    /// The candidate made of the one term `term`, if there is one.
    pub(super) fn single(&self, term: u32) -> Option<u32> {
        self.key_ids.get(&Key::single(term)).copied()
    }

    /// Orders candidates by their terms' text, for ties that must not depend on input order.
    pub(super) fn compare(&self, a: u32, b: u32) -> Ordering {
        let words = |candidate: u32| {
            self.keys[candidate as usize]
                .terms()
                .iter()
                .map(|&term| &*self.terms[term as usize])
        };
        words(a).cmp(words(b))
    }

    fn insert_key(&mut self, key: Key, text: &str, start: usize, end: usize) -> u32 {
        if let Some(&candidate) = self.key_ids.get(&key) {
            return candidate;
        }
        let candidate = self.keys.len() as u32;
        self.keys.push(key);
        self.chinese.push(text[start..end].chars().any(is_han));
        self.key_ids.insert(key, candidate);
        candidate
    }

    /// The terms of a unit text, adding new terms to the vocabulary.
    fn scan(&mut self, text: &str, scanned: &mut Vec<ScannedTerm>) {
        let masked = masked_ranges(text, &self.handles);
        let (terms, term_ids) = (&mut self.terms, &mut self.term_ids);
        scan_terms(text, &masked, scanned, |term| {
            if let Some(&id) = term_ids.get(term) {
                return id;
            }
            let id = terms.len() as u32;
            terms.push(term.into());
            term_ids.insert(term.into(), id);
            id
        });
    }
}

/// The lowercased @mention handles of `texts`.
fn mention_handles(texts: &[&str]) -> HashSet<String> {
    texts
        .iter()
        .flat_map(|text| MENTION.captures_iter(text))
        .map(|captures| captures[1].to_lowercase())
        .collect()
}

/// Byte ranges whose terms are never phrases: mentions, URLs, PII masks and hashtags of handles.
/// Most texts have none of these, and a byte scan is cheaper than four patterns.
fn masked_ranges(text: &str, handles: &HashSet<String>) -> Vec<(usize, usize)> {
    let patterns = [
        (&*MENTION, "@"),
        (&*URL, "/"),
        (&*URL, "www."),
        (&*MASK, "["),
    ];
    let mut ranges: Vec<(usize, usize)> = patterns
        .iter()
        .filter(|(_, sign)| text.contains(sign))
        .flat_map(|(pattern, _)| pattern.find_iter(text))
        .map(|found| (found.start(), found.end()))
        .collect();
    if text.contains('#') {
        ranges.extend(
            HASHTAG
                .captures_iter(text)
                .filter(|captures| handles.contains(&captures[1].to_lowercase()))
                .filter_map(|captures| captures.get(0))
                .map(|found| (found.start(), found.end())),
        );
    }
    ranges
}

/// The analyzer's whole-word terms of `text` into `scanned`, with their ids from `term_id`.
fn scan_terms(
    text: &str,
    masked: &[(usize, usize)],
    scanned: &mut Vec<ScannedTerm>,
    mut term_id: impl FnMut(&str) -> u32,
) {
    scanned.clear();
    for_each_term(text, |term| {
        if term.sub_word {
            return;
        }
        let hidden = masked
            .iter()
            .any(|&(start, end)| term.offset_from < end && start < term.offset_to);
        let blocked = hidden || is_filler(term.text);
        scanned.push(ScannedTerm {
            id: if blocked { PADDING } else { term_id(term.text) },
            start: term.offset_from,
            end: term.offset_to,
            han: term.surface.chars().filter(|&c| is_han(c)).count(),
            blocked,
        });
    });
}

/// Hands every phrase of a text to `emit` as its key and byte span.
fn for_each_phrase(
    text: &str,
    scanned: &[ScannedTerm],
    max_words: usize,
    mut emit: impl FnMut(Key, usize, usize),
) {
    for first in 0..scanned.len() {
        if !scanned[first].blocked {
            phrases_from(text, &scanned[first..], max_words, &mut emit);
        }
    }
}

/// The phrases that start at `scanned[0]`: one term, two terms, ... until a rule stops them.
fn phrases_from(
    text: &str,
    scanned: &[ScannedTerm],
    max_words: usize,
    emit: &mut impl FnMut(Key, usize, usize),
) {
    let mut key = [PADDING; MAX_TERMS];
    let (mut words, mut han) = (0, 0);
    for (length, term) in scanned.iter().enumerate().take(MAX_TERMS) {
        if length > 0 {
            match gap_words(&text[scanned[length - 1].end..term.start]) {
                Some(gap) => words += gap,
                None => break,
            }
        }
        if term.blocked || term.id == UNKNOWN {
            break;
        }
        key[length] = term.id;
        words += 1;
        han += term.han;
        let too_long = if han > 0 {
            length + 1 > CHINESE_MAX_TERMS
        } else {
            words > max_words
        };
        if too_long {
            break;
        }
        if han == 0 || han >= 2 {
            emit(Key(key), scanned[0].start, term.end);
        }
    }
}

/// The number of words between two terms of a phrase, or None when the gap ends the phrase:
/// punctuation (other than hyphens and apostrophes), line breaks and dropped words that are not
/// stopwords (redactions, overlong words).
fn gap_words(gap: &str) -> Option<usize> {
    let joins = |c: char| matches!(c, ' ' | '\t' | '\u{a0}' | '\u{3000}' | '-' | '\u{2010}');
    let inside_word = |c: char| c.is_alphanumeric() || matches!(c, '\'' | '\u{2019}');
    if !gap.chars().all(|c| joins(c) || inside_word(c)) {
        return None;
    }
    let mut words = 0;
    for word in gap.split(joins).filter(|word| !word.is_empty()) {
        let redaction = word.len() >= 2 && word.chars().all(|c| c == 'x' || c == 'X');
        if redaction || word.len() > MAX_TERM_BYTES {
            return None;
        }
        if !word.chars().any(is_han) {
            words += 1;
        }
    }
    Some(words)
}

/// How a phrase is shown from one of its spans: whitespace runs as one space, English in
/// lowercase (Chinese phrases keep the case of Latin parts, as in `安装XP系统`).
pub(super) fn display_form(span: &str, chinese: bool) -> String {
    let joined = span.split_whitespace().collect::<Vec<_>>().join(" ");
    if chinese {
        joined
    } else {
        joined.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shown forms of every candidate of one text.
    fn phrases(text: &str) -> Vec<String> {
        let vocabulary = Vocabulary::build(&[text], 4);
        let mut shown: Vec<String> = vocabulary
            .occurrences(0)
            .iter()
            .map(|occurrence| {
                let span = &text[occurrence.start as usize..occurrence.end as usize];
                display_form(span, vocabulary.chinese[occurrence.candidate as usize])
            })
            .collect();
        shown.sort();
        shown
    }

    #[test]
    fn stopwords_inside_a_phrase_are_shown_but_never_start_or_end_it() {
        let shown = phrases("On hold for hours");
        assert!(shown.contains(&"hold for hours".to_string()), "{shown:?}");
        assert!(shown.iter().all(|phrase| !phrase.starts_with("on ")));
        assert!(shown.iter().all(|phrase| !phrase.ends_with(" for")));
    }

    #[test]
    fn phrases_do_not_cross_punctuation_or_line_breaks() {
        let shown = phrases("Luggage lost. Flight delayed, crew rude\nseat broken");
        assert!(shown.contains(&"luggage lost".to_string()), "{shown:?}");
        for crossing in ["lost flight", "delayed crew", "rude seat"] {
            assert!(
                shown.iter().all(|phrase| !phrase.contains(crossing)),
                "{shown:?}"
            );
        }
    }

    #[test]
    fn boilerplate_mentions_and_handle_hashtags_are_never_phrases() {
        let text =
            "@JetBlue lost XXXX bag, call [PHONE] or see https://t.co/abc 2026 #jetblue #lostbag";
        let shown = phrases(text);
        for word in [
            "jetblue", "xxxx", "phone", "http", "t.co", "2026", "lost bag",
        ] {
            assert!(
                shown.iter().all(|phrase| !phrase.contains(word)),
                "{word}: {shown:?}"
            );
        }
        assert!(shown.contains(&"lostbag".to_string()), "{shown:?}");
        assert!(shown.contains(&"call".to_string()), "{shown:?}");
    }

    #[test]
    fn chinese_phrases_are_one_to_three_words_with_two_han_characters() {
        let shown = phrases("房间隔音差，安装XP系统很麻烦");
        assert!(
            shown.iter().any(|phrase| phrase.contains("隔音")),
            "{shown:?}"
        );
        assert!(shown.contains(&"安装XP系统".to_string()), "{shown:?}");
        let han = |phrase: &String| phrase.chars().filter(|&c| is_han(c)).count();
        assert!(shown.iter().all(|phrase| han(phrase) != 1), "{shown:?}");
        assert!(!shown.contains(&"差".to_string()), "{shown:?}");
        assert!(
            shown.iter().all(|phrase| !phrase.contains('，')),
            "{shown:?}"
        );
    }

    #[test]
    fn background_texts_count_occurrences_and_add_no_candidates() {
        let vocabulary = Vocabulary::build(&["lost luggage", "delayed flight"], 4);
        let (counts, terms) = vocabulary.count_in(&["Lost luggage, lost luggage!", "行李 words"]);
        let two_words = (0..vocabulary.keys.len())
            .find(|&candidate| vocabulary.keys[candidate].terms().len() == 2)
            .unwrap();
        let total: u32 = counts.iter().sum();
        assert_eq!(counts.len(), vocabulary.keys.len());
        // "lost", "luggage" and "lost luggage", twice each.
        assert_eq!(total, 6);
        assert_eq!(counts[two_words], 2);
        assert_eq!(terms, TermCounts { latin: 5, han: 1 });
    }
}
