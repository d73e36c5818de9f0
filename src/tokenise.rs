//! The one analyzer of vocmine, shared by the tantivy index, the query parser and keyword
//! extraction: text in, [`Term`]s out. Mixed text is split into runs by script: Han runs are
//! converted to Simplified and segmented with jieba (one ordinal position per word, so phrase
//! queries work); Latin runs are lowercased and stemmed; stopwords of both languages are dropped.
//!
//! PLACEHOLDER: jieba segmentation, stemming and stopwords are being written; the contract
//! ([`analyze`], [`VocmineTokenizer`], [`register`], [`ANALYZER_NAME`]) is fixed.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Name under which the analyzer is registered in the tantivy index.
pub const ANALYZER_NAME: &str = "vocmine";

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
}

/// Analyses text into terms, the same way the index does.
pub fn analyze(text: &str) -> Vec<Term> {
    let mut terms = Vec::new();
    for (position, (start, word)) in word_spans(text).enumerate() {
        let lower = word.to_lowercase();
        terms.push(Term {
            text: lower,
            surface: word.to_string(),
            offset_from: start,
            offset_to: start + word.len(),
            position,
        });
    }
    terms
}

fn word_spans(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(move |w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
}

/// The analyzer as a tantivy tokenizer.
#[derive(Debug, Clone, Default)]
pub struct VocmineTokenizer;

/// Token stream over pre-analysed terms.
pub struct VocmineTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl Tokenizer for VocmineTokenizer {
    type TokenStream<'a> = VocmineTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VocmineTokenStream {
        let tokens = analyze(text)
            .into_iter()
            .map(|term| Token {
                offset_from: term.offset_from,
                offset_to: term.offset_to,
                position: term.position,
                text: term.text,
                position_length: 1,
            })
            .collect();
        VocmineTokenStream { tokens, index: 0 }
    }
}

impl TokenStream for VocmineTokenStream {
    fn advance(&mut self) -> bool {
        self.index += 1;
        self.index <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.index - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index - 1]
    }
}

/// Registers the analyzer with an index so that text fields using [`ANALYZER_NAME`] work.
pub fn register(index: &tantivy::Index) {
    index.tokenizers().register(ANALYZER_NAME, VocmineTokenizer);
}
