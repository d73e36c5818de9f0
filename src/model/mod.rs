//! Model backends behind small traits: a [`SubwordTokenizer`] turns text into model token ids and
//! an [`Encoder`] turns texts into L2-normalised sentence embeddings, returned as one contiguous
//! [`Embeddings`] matrix. The rust-bert implementation lives in [`bert`] (with MiniLM's WordPiece
//! tokenizer in [`wordpiece`]); [`registry`] finds a model's files in the cache; pipeline logic can
//! be tested with the tiny deterministic [`hashing::HashingEncoder`].

pub mod bert;
pub mod e5;
pub mod hashing;
pub mod kernels;
pub mod registry;
pub mod wordpiece;

use std::path::PathBuf;
use std::sync::Arc;

pub use registry::{ModelChoice, ModelLocation};

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

/// Turns texts into an encoder's inputs. It holds no model, so one thread can prepare the next
/// texts while another runs the model on the last ones.
pub trait Preparer: Send + Sync {
    /// The inputs of `texts`, one per text, in input order.
    fn prepare(&self, texts: &[&str]) -> Vec<Encoded>;
}

/// Turns texts into sentence embeddings, in two halves: a [`Preparer`] (tokenising, any thread)
/// and the model itself.
pub trait Encoder: Send {
    /// Length of every embedding row.
    fn dimension(&self) -> usize;

    /// A stable name of the model and the settings that change its output (for cache keys).
    fn model_id(&self) -> String;

    /// The half that turns texts into inputs, to be run ahead on another thread.
    fn preparer(&self) -> Arc<dyn Preparer>;

    /// Embeds texts its [`Preparer`] made `inputs` of, one L2-normalised row per input, in
    /// order.
    fn encode_prepared(&mut self, inputs: Vec<Encoded>) -> Result<Embeddings, ModelError>;

    /// Embeds `texts`, one L2-normalised row per text, in input order.
    fn encode(&mut self, texts: &[&str]) -> Result<Embeddings, ModelError> {
        let inputs = self.preparer().prepare(texts);
        self.encode_prepared(inputs)
    }
}

/// Sentence embeddings of a list of texts: one contiguous row-major `f32` matrix, so large
/// batches are not held as a `Vec<Vec<f32>>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    dimension: usize,
    values: Vec<f32>,
    truncated: usize,
}

impl Embeddings {
    /// Wraps `values` (row-major, `values.len()` a multiple of `dimension`).
    ///
    /// `truncated` counts the texts that were cut at the token limit.
    pub fn new(dimension: usize, values: Vec<f32>, truncated: usize) -> Self {
        assert!(dimension > 0, "embedding dimension must be positive");
        assert_eq!(values.len() % dimension, 0, "values must fill whole rows");
        Embeddings {
            dimension,
            values,
            truncated,
        }
    }

    /// Length of each row.
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// Number of rows (texts).
    pub fn len(&self) -> usize {
        self.values.len() / self.dimension
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// How many of the texts were cut at the token limit.
    pub fn truncated(&self) -> usize {
        self.truncated
    }

    /// The embedding of text `index`.
    pub fn row(&self, index: usize) -> &[f32] {
        &self.values[index * self.dimension..(index + 1) * self.dimension]
    }

    /// All rows, one after another.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &[f32]> {
        self.values.chunks_exact(self.dimension)
    }

    /// The whole matrix, row-major.
    pub fn as_slice(&self) -> &[f32] {
        &self.values
    }

    /// A copy of the first `count` rows.
    pub fn first_rows(&self, count: usize) -> Embeddings {
        let end = (count * self.dimension).min(self.values.len());
        Embeddings::new(self.dimension, self.values[..end].to_vec(), self.truncated)
    }

    /// The whole matrix, row-major, without copying.
    pub fn into_values(self) -> Vec<f32> {
        self.values
    }
}

/// Scales `row` to unit L2 length (a zero row stays zero).
pub fn l2_normalise(row: &mut [f32]) {
    let norm = row.iter().map(|value| value * value).sum::<f32>().sqrt();
    if norm > 0.0 {
        row.iter_mut().for_each(|value| *value /= norm);
    }
}

/// Errors of the model backends.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A model file is not in the cache.
    #[error("{model} model file {} is missing: run scripts/setup to fetch and prepare the models", path.display())]
    MissingFile {
        /// Which model.
        model: &'static str,
        /// The file that was looked for.
        path: PathBuf,
    },
    /// A model's config.json could not be read or parsed.
    #[error("cannot read model config {}", path.display())]
    Config {
        /// The config file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The weights could not be loaded into the model.
    #[error("cannot load model weights {}: delete the file and run scripts/setup again", path.display())]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// What libtorch said.
        #[source]
        source: tch::TchError,
    },
    /// A tokenizer file could not be read.
    #[error("cannot read tokenizer file {}", path.display())]
    Tokenizer {
        /// The tokenizer file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Running the transformer failed.
    #[error("the transformer forward pass failed")]
    Forward(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The e5 package could not be found, checked or converted.
    #[error(transparent)]
    E5(#[from] e5::E5Error),
}

/// Opens the encoder `choice` from the cache ([`registry::cache_dir`]), converting the e5 package
/// on first use.
pub fn open_encoder(
    choice: ModelChoice,
    settings: bert::BertSettings,
) -> Result<bert::BertEncoder, ModelError> {
    match choice {
        ModelChoice::E5Small => bert::BertEncoder::e5(settings),
        ModelChoice::MiniLm => bert::BertEncoder::minilm(settings),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_split_the_matrix() {
        let embeddings = Embeddings::new(2, vec![1.0, 0.0, 0.0, 1.0, 0.6, 0.8], 1);
        assert_eq!(embeddings.len(), 3);
        assert_eq!(embeddings.row(2), &[0.6, 0.8]);
        assert_eq!(embeddings.rows().count(), 3);
        assert_eq!(embeddings.truncated(), 1);
    }

    #[test]
    fn l2_normalise_makes_unit_rows_and_keeps_zero_rows() {
        let mut row = [3.0, 4.0];
        l2_normalise(&mut row);
        assert_eq!(row, [0.6, 0.8]);
        let mut zero = [0.0, 0.0];
        l2_normalise(&mut zero);
        assert_eq!(zero, [0.0, 0.0]);
    }
}
