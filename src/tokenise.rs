//! The one analyzer of vocmine, shared by the tantivy index, the query parser and keyword
//! extraction: text in, [`Term`]s out. Because the index and the queries go through the same
//! code, whatever it decides (stems, Simplified forms, dropped words) matches on both sides.
//!
//! Mixed text is split into runs by script:
//! - Han runs are converted to Simplified ([`crate::normalise::to_simplified`], character for
//!   character) and segmented with jieba (`cut` with its HMM for unknown words, default
//!   dictionary), one ordinal position per word, so 刹車 and 刹车 give the same term and phrase
//!   queries work on Chinese.
//! - Word runs (letters and digits of any other script, with apostrophes inside words) are
//!   lowercased, full-width letters folded to ASCII, contractions reduced (`customer's` ->
//!   `customer`, `we'll` -> `we`, `don't` and `dont` -> `dont`), and English words stemmed with
//!   Snowball (`refunds`, `refunded` -> `refund`).
//! - Everything else (punctuation, symbols, emoji, spaces) separates terms and is never a term.
//!
//! Dropped and never indexed: English and Chinese stopwords, PII placeholders left by
//! [`crate::normalise::mask_pii`] (`[phone]` would otherwise match the word "phone"), redaction
//! marks such as `XXXX` (the consumer complaint data masks names and dates with them), and terms
//! longer than [`MAX_TERM_BYTES`]. A dropped word consumes no position: positions count kept
//! terms only, so the phrase "brake the pads" matches "brake pads" as well. Offsets are byte
//! offsets into the text passed in, for snippet highlighting.

mod stopwords;

use crate::normalise::{is_han, to_simplified};
use jieba_rs::Jieba;
use rust_stemmers::{Algorithm, Stemmer};
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::sync::LazyLock;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

pub use stopwords::is_stopword;

/// Name under which the analyzer is registered in the tantivy index.
pub const ANALYZER_NAME: &str = "vocmine";

/// Terms longer than this (in bytes) are dropped: URLs, hashes and runs of letters that no one
/// searches for, and that would bloat the term dictionary.
pub const MAX_TERM_BYTES: usize = 64;

/// One token of analysed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The indexed form: a lowercased English stem or a Simplified Chinese word.
    pub text: String,
    /// The text as it appeared (for showing stems as words).
    pub surface: String,
    /// Byte offsets of the surface in the analysed text.
    pub offset_from: usize,
    /// End byte offset (exclusive).
    pub offset_to: usize,
    /// Ordinal position (stopwords removed still consume no position).
    pub position: usize,
    /// True for a dictionary word inside a longer Chinese word (see [`TermRef::sub_word`]).
    pub sub_word: bool,
}

/// A term borrowed from the analyser's buffers, for callers that want to avoid an allocation
/// per term (the index, keyword counting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermRef<'a> {
    /// The indexed form, as in [`Term::text`].
    pub text: &'a str,
    /// The text as it appeared: `&analysed_text[offset_from..offset_to]`.
    pub surface: &'a str,
    /// Start byte offset in the analysed text.
    pub offset_from: usize,
    /// End byte offset (exclusive).
    pub offset_to: usize,
    /// Ordinal position among kept terms.
    pub position: usize,
    /// True for a dictionary word inside a longer Chinese word, at that word's position
    /// (indexed so a search for the part finds the whole; keyword counting skips it).
    pub sub_word: bool,
}

impl TermRef<'_> {
    /// An owned copy.
    pub fn to_term(&self) -> Term {
        Term {
            text: self.text.to_string(),
            surface: self.surface.to_string(),
            offset_from: self.offset_from,
            offset_to: self.offset_to,
            position: self.position,
            sub_word: self.sub_word,
        }
    }
}

static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);
static STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// Analyses text into terms, the same way the index does.
pub fn analyze(text: &str) -> Vec<Term> {
    let mut terms = Vec::new();
    for_each_term(text, |term| terms.push(term.to_term()));
    terms
}

/// Analyses text and hands each term to `emit`, in text order, without allocating per term.
pub fn for_each_term(text: &str, mut emit: impl FnMut(TermRef<'_>)) {
    let mut analyzer = Analyzer {
        text,
        position: 0,
        word: String::new(),
        stem: String::new(),
    };
    let mut at = 0;
    while let Some(c) = text[at..].chars().next() {
        if is_han(c) {
            let end = run_end(text, at, is_han);
            analyzer.han_run(at, end, &mut emit);
            at = end;
        } else if is_word_char(c) {
            let end = word_end(text, at);
            analyzer.word(at, end, &mut emit);
            at = end;
        } else {
            at += c.len_utf8();
        }
    }
}

/// Letters and digits outside the Han script start and continue a word run.
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        c.is_alphanumeric() && !is_han(c)
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}')
}

fn run_end(text: &str, start: usize, belongs: impl Fn(char) -> bool) -> usize {
    text[start..]
        .char_indices()
        .find(|&(_, c)| !belongs(c))
        .map_or(text.len(), |(offset, _)| start + offset)
}

/// End of the word starting at `start`: word characters, combining marks after them, and
/// apostrophes with a word character on both sides.
fn word_end(text: &str, start: usize) -> usize {
    let mut chars = text[start..].char_indices().peekable();
    while let Some((offset, c)) = chars.next() {
        let continues = is_word_char(c)
            || unicode_normalization::char::is_combining_mark(c)
            || (is_apostrophe(c) && chars.peek().is_some_and(|&(_, next)| is_word_char(next)));
        if !continues {
            return start + offset;
        }
    }
    text.len()
}

/// Per-call state: the text, the next position and reusable buffers for word forms.
struct Analyzer<'t> {
    text: &'t str,
    position: usize,
    word: String,
    stem: String,
}

impl<'t> Analyzer<'t> {
    fn keep(&mut self, text: &str, start: usize, end: usize, emit: &mut impl FnMut(TermRef<'_>)) {
        emit(TermRef {
            text,
            surface: &self.text[start..end],
            offset_from: start,
            offset_to: end,
            position: self.position,
            sub_word: false,
        });
        self.position += 1;
    }

    /// Segments a run of Han characters. Conversion keeps every character's byte length, so
    /// jieba's byte offsets in the Simplified run are offsets in the original run too.
    fn han_run(&mut self, start: usize, end: usize, emit: &mut impl FnMut(TermRef<'_>)) {
        let simplified = to_simplified(&self.text[start..end]);
        debug_assert_eq!(simplified.len(), end - start);
        for token in JIEBA.cut(&simplified, true) {
            if token.word.len() <= MAX_TERM_BYTES && !is_stopword(token.word) {
                let (from, to) = (start + token.byte_start, start + token.byte_end);
                self.sub_words(token.word, from, emit);
                self.keep(token.word, from, to, emit);
            }
        }
    }

    /// For a Chinese word of three or more characters, also emits the dictionary words of two
    /// and three characters inside it, at the word's own position (as jieba's search mode
    /// does, but without extra positions): 服务 finds 服务态度, and the phrase 服务态度 still
    /// matches, since the query is analysed the same way.
    fn sub_words(&mut self, word: &str, start: usize, emit: &mut impl FnMut(TermRef<'_>)) {
        let boundaries: Vec<usize> = word
            .char_indices()
            .map(|(offset, _)| offset)
            .chain(std::iter::once(word.len()))
            .collect();
        let characters = boundaries.len() - 1;
        for width in [2, 3] {
            if characters <= width {
                continue;
            }
            for first in 0..=characters - width {
                let (from, to) = (boundaries[first], boundaries[first + width]);
                let piece = &word[from..to];
                if JIEBA.has_word(piece) && !is_stopword(piece) {
                    emit(TermRef {
                        text: piece,
                        surface: &self.text[start + from..start + to],
                        offset_from: start + from,
                        offset_to: start + to,
                        position: self.position,
                        sub_word: true,
                    });
                }
            }
        }
    }

    fn word(&mut self, start: usize, end: usize, emit: &mut impl FnMut(TermRef<'_>)) {
        let surface = &self.text[start..end];
        if surface.len() > MAX_TERM_BYTES || is_placeholder(self.text, start, end) {
            return;
        }
        let mut word = std::mem::take(&mut self.word);
        fold_word(surface, &mut word);
        if !word.is_empty() && !is_stopword(&word) && !is_redaction(&word) {
            if word.bytes().any(|b| b.is_ascii_digit()) {
                self.keep(&word, start, end, emit);
            } else {
                let mut stem = std::mem::take(&mut self.stem);
                stem_cached(&word, &mut stem);
                self.keep(&stem, start, end, emit);
                self.stem = stem;
            }
        }
        self.word = word;
    }
}

/// Lowercases `surface` into `out`, folds full-width letters and digits to ASCII and reduces
/// contractions: `'s`, `'ll`, `'re`, `'ve`,
/// `'d` and `'m` are cut off, other apostrophes removed (`don't` -> `dont`).
fn fold_word(surface: &str, out: &mut String) {
    out.clear();
    let without_suffix = contraction_stem(surface);
    if without_suffix.is_ascii() {
        out.extend(
            without_suffix
                .bytes()
                .filter(|&b| b != b'\'')
                .map(|b| char::from(b.to_ascii_lowercase())),
        );
        return;
    }
    for c in without_suffix.chars().filter(|&c| !is_apostrophe(c)) {
        match c {
            '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                let ascii = char::from_u32(c as u32 - 0xFEE0).unwrap_or(c);
                out.push(ascii.to_ascii_lowercase());
            }
            _ => out.extend(c.to_lowercase()),
        }
    }
}

/// The word without an English contraction or possessive suffix.
fn contraction_stem(surface: &str) -> &str {
    let Some((apostrophe, c)) = surface
        .char_indices()
        .rev()
        .find(|&(_, c)| is_apostrophe(c))
    else {
        return surface;
    };
    let suffix = &surface[apostrophe + c.len_utf8()..];
    let cut = ["s", "ll", "re", "ve", "d", "m"]
        .iter()
        .any(|s| suffix.eq_ignore_ascii_case(s));
    if cut && apostrophe > 0 {
        &surface[..apostrophe]
    } else {
        surface
    }
}

thread_local! {
    /// Stems of words seen on this thread. Word frequencies are Zipfian, so nearly every word is
    /// a hit, and a lookup costs a fraction of running Snowball.
    static STEM_CACHE: RefCell<FxHashMap<Box<str>, Box<str>>> = RefCell::default();
}

/// Entries kept before the cache starts afresh: bounds memory on odd vocabularies.
const STEM_CACHE_MAX: usize = 200_000;

/// The Snowball English stem of a folded word, into `out`.
fn stem_cached(word: &str, out: &mut String) {
    out.clear();
    let cached = STEM_CACHE.try_with(|cache| {
        let cache = cache.try_borrow().ok()?;
        cache.get(word).map(|stem| out.push_str(stem))
    });
    if let Ok(Some(())) = cached {
        return;
    }
    let stem = STEMMER.stem(word);
    out.push_str(&stem);
    let _ = STEM_CACHE.try_with(|cache| {
        if let Ok(mut cache) = cache.try_borrow_mut() {
            if cache.len() >= STEM_CACHE_MAX {
                cache.clear();
            }
            cache.insert(word.into(), stem.into());
        }
    });
}

/// `[email]`, `[phone]`, `[card]` or `[id]` as written by PII masking.
fn is_placeholder(text: &str, start: usize, end: usize) -> bool {
    let bytes = text.as_bytes();
    start > 0
        && bytes[start - 1] == b'['
        && bytes.get(end) == Some(&b']')
        && crate::normalise::PiiKind::ALL
            .iter()
            .any(|kind| kind.placeholder().trim_matches(['[', ']']) == &text[start..end])
}

/// `xx`, `xxxx`: redaction marks, not words.
fn is_redaction(word: &str) -> bool {
    word.len() >= 2 && word.bytes().all(|b| b == b'x')
}

/// The analyzer as a tantivy tokenizer. The index variant also emits the sub-words of long
/// Chinese words; the query variant does not, so that a query word matches as one term (a
/// phrase of terms stacked at one position would not match in tantivy).
#[derive(Debug, Clone, Default)]
pub struct VocmineTokenizer {
    /// Emit [`TermRef::sub_word`] terms (index side).
    pub sub_words: bool,
}

/// Token stream over pre-analysed terms. Its token buffer is recycled through a per-thread pool
/// when the stream is dropped, so indexing does not allocate per token once warmed up.
pub struct VocmineTokenStream {
    tokens: Vec<Token>,
    len: usize,
    index: usize,
}

thread_local! {
    static TOKEN_POOL: RefCell<Vec<Token>> = const { RefCell::new(Vec::new()) };
}

/// Buffers above this many tokens (a very long document) are not kept in the pool.
const POOL_MAX_TOKENS: usize = 1 << 16;

impl Tokenizer for VocmineTokenizer {
    type TokenStream<'a> = VocmineTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VocmineTokenStream {
        let mut tokens = TOKEN_POOL
            .try_with(|pool| std::mem::take(&mut *pool.borrow_mut()))
            .unwrap_or_default();
        let mut len = 0;
        let sub_words = self.sub_words;
        for_each_term(text, |term| {
            if term.sub_word && !sub_words {
                return;
            }
            if len == tokens.len() {
                tokens.push(Token::default());
            }
            let token = &mut tokens[len];
            token.text.clear();
            token.text.push_str(term.text);
            token.offset_from = term.offset_from;
            token.offset_to = term.offset_to;
            token.position = term.position;
            token.position_length = 1;
            len += 1;
        });
        VocmineTokenStream {
            tokens,
            len,
            index: 0,
        }
    }
}

impl Drop for VocmineTokenStream {
    fn drop(&mut self) {
        if self.tokens.len() <= POOL_MAX_TOKENS {
            let tokens = std::mem::take(&mut self.tokens);
            let _ = TOKEN_POOL.try_with(|pool| {
                let mut pool = pool.borrow_mut();
                if pool.len() < tokens.len() {
                    *pool = tokens;
                }
            });
        }
    }
}

impl TokenStream for VocmineTokenStream {
    fn advance(&mut self) -> bool {
        if self.index < self.len {
            self.index += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.index.saturating_sub(1)]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index.saturating_sub(1)]
    }
}

/// Registers the analyzer with an index so that text fields using [`ANALYZER_NAME`] work.
pub fn register(index: &tantivy::Index) {
    index
        .tokenizers()
        .register(ANALYZER_NAME, VocmineTokenizer { sub_words: true });
}

/// Tokenizers for parsing queries: the analyzer without sub-words.
pub fn query_tokenizers() -> tantivy::tokenizer::TokenizerManager {
    let manager = tantivy::tokenizer::TokenizerManager::default();
    manager.register(ANALYZER_NAME, VocmineTokenizer { sub_words: false });
    manager
}

#[cfg(test)]
mod tests;
