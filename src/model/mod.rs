//! Model backends behind small traits: a [`SubwordTokenizer`] turns text into model token ids and
//! an [`Encoder`] turns texts into L2-normalised sentence embeddings. The rust-bert implementation
//! lives in its own module; pipeline logic can be tested with a tiny deterministic backend.
//!
//! PLACEHOLDER: the seam only; backends are being written.

/// Token ids of one text, ready for a transformer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// Token ids including the model's special tokens (for example `<s>` ... `</s>`).
    pub ids: Vec<i64>,
    /// True when the text was cut at the token limit.
    pub truncated: bool,
}

/// Turns text into a model's subword token ids.
pub trait SubwordTokenizer: Send + Sync {
    /// Tokenises `text` into at most `max_tokens` ids, special tokens included.
    fn encode(&self, text: &str, max_tokens: usize) -> Encoded;
}

pub mod e5;
