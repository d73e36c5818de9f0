//! MiniLM's tokenizer: BERT WordPiece over `vocab.txt` (lowercased, accents stripped, as the
//! uncased model was trained), through `rust_tokenizers`. Output is `[CLS] pieces… [SEP]`, cut at
//! the token limit. Very long texts are first cut at a character boundary well past what the limit
//! can use, so a 1 MB complaint does not cost a 1 MB tokenisation.

use std::path::Path;

use rust_tokenizers::tokenizer::{BertTokenizer, Tokenizer};
use rust_tokenizers::vocab::Vocab;

use super::{Encoded, ModelError, SubwordTokenizer};

/// Bytes of text tokenised first per allowed token: a WordPiece token covers at least one
/// character, so this rarely falls short; when it does, the whole text is tokenised.
const BYTES_PER_TOKEN: usize = 16;

/// BERT WordPiece tokenizer for uncased English models.
pub struct WordPieceTokenizer {
    tokenizer: BertTokenizer,
    cls: i64,
    sep: i64,
}

impl WordPieceTokenizer {
    /// Reads `vocab.txt`; lowercases and strips accents like the uncased BERT tokenizer.
    pub fn from_vocab_file(path: &Path) -> Result<Self, ModelError> {
        let tokenizer =
            BertTokenizer::from_file(path, true, true).map_err(|error| ModelError::Tokenizer {
                path: path.to_path_buf(),
                source: Box::new(error),
            })?;
        let vocab = tokenizer.vocab();
        let cls = vocab.token_to_id(vocab.get_cls_value());
        let sep = vocab.token_to_id(vocab.get_sep_value());
        Ok(WordPieceTokenizer {
            tokenizer,
            cls,
            sep,
        })
    }

    fn piece_ids(&self, text: &str) -> Vec<i64> {
        let tokens = self.tokenizer.tokenize(text);
        self.tokenizer.convert_tokens_to_ids(&tokens)
    }
}

impl SubwordTokenizer for WordPieceTokenizer {
    fn encode(&self, text: &str, max_tokens: usize) -> Encoded {
        let room = max_tokens.saturating_sub(2);
        let head = head_of(text, room.saturating_mul(BYTES_PER_TOKEN).max(64));
        let mut pieces = self.piece_ids(head);
        // The head ends between words, so its pieces are the first pieces of the whole text; when
        // they do not fill the limit (whitespace-heavy text), tokenise the whole text instead.
        if pieces.len() <= room && head.len() < text.len() {
            pieces = self.piece_ids(text);
        }
        let truncated = pieces.len() > room;
        pieces.truncate(room);
        let mut ids = Vec::with_capacity(pieces.len() + 2);
        ids.push(self.cls);
        ids.extend(pieces);
        ids.push(self.sep);
        Encoded { ids, truncated }
    }
}

/// A prefix of `text` of at most `max_bytes` bytes, ending at whitespace when there is some in its
/// second half (so no word is cut), else at a character boundary.
fn head_of(text: &str, max_bytes: usize) -> &str {
    let head = prefix_at_char_boundary(text, max_bytes);
    if head.len() == text.len() {
        return head;
    }
    match head.rfind(char::is_whitespace) {
        Some(end) if end >= head.len() / 2 => &head[..end],
        _ => head,
    }
}

/// The longest prefix of `text` of at most `max_bytes` bytes that ends on a character boundary.
pub fn prefix_at_char_boundary(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_never_splits_a_character() {
        let text = "退款太慢了";
        for max in 0..=text.len() + 2 {
            let prefix = prefix_at_char_boundary(text, max);
            assert!(prefix.len() <= max);
            assert!(text.starts_with(prefix));
            assert_eq!(prefix.len() % 3, 0);
        }
        assert_eq!(prefix_at_char_boundary("abc", 10), "abc");
    }
}
