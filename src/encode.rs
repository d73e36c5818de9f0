//! The encode stage: texts go in, one L2-normalised sentence embedding per text comes out, as one
//! [`Embeddings`] matrix in input order. Texts already in the [`EmbeddingCache`] are not encoded
//! again, so a re-run costs only its new documents; the rest go through the [`Encoder`] in
//! chunks, longest-similar texts together, and each finished chunk is saved to the cache, so an
//! interrupted run keeps the work it did. A second thread tokenises the next chunk while the
//! model runs on the current one.

pub mod cache;
pub mod export;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use thiserror::Error;

pub use cache::{key_of, CacheKey, EmbeddingCache};

use crate::model::{Embeddings, Encoder, ModelError};
use crate::progress::Progress;
use crate::workspace::WorkspaceError;

/// Texts sent to the encoder at once; the cache is saved after every [`SAVE_EVERY`] of them.
const CHUNK_TEXTS: usize = 256;
const SAVE_EVERY: usize = 2048;

/// Errors of the encode stage.
#[derive(Debug, Error)]
pub enum EncodeError {
    /// The encoder failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Reading the embedding cache failed.
    #[error("cannot read the embedding cache {}", path.display())]
    Cache {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A cache segment is damaged or belongs to another model.
    #[error("embedding cache file {} is unusable ({reason}): delete it and run again (its texts are encoded anew)", path.display())]
    CorruptCache {
        /// The segment file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Writing a cache segment failed.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
}

/// What one encode call did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EncodeReport {
    /// Texts asked for.
    pub texts: usize,
    /// Distinct texts found in the cache.
    pub cached: usize,
    /// Distinct texts run through the encoder.
    pub encoded: usize,
    /// Of the encoded texts, how many were cut at the token limit.
    pub truncated: usize,
    /// Seconds spent.
    pub seconds: f64,
}

/// The cache folder for `encoder`'s rows under `root` (one folder per model id).
pub fn cache_directory(root: &Path, encoder: &dyn Encoder) -> PathBuf {
    root.join(encoder.model_id())
}

/// Embeds `texts` in input order, from the cache where possible.
pub fn encode_texts(
    encoder: &mut dyn Encoder,
    cache: &mut EmbeddingCache,
    texts: &[&str],
    progress: &dyn Progress,
) -> Result<(Embeddings, EncodeReport), EncodeError> {
    let started = Instant::now();
    let keys: Vec<CacheKey> = texts.iter().map(|text| key_of(text)).collect();
    let missing = missing_texts(cache, texts, &keys);
    let mut report = EncodeReport {
        texts: texts.len(),
        encoded: missing.len(),
        ..EncodeReport::default()
    };
    progress.start("encode", Some(missing.len() as u64));
    let preparer = encoder.preparer();
    let chunks: Vec<Vec<&str>> = missing
        .chunks(CHUNK_TEXTS)
        .map(|chunk| chunk.iter().map(|&index| texts[index]).collect())
        .collect();
    std::thread::scope(|scope| -> Result<(), EncodeError> {
        // Tokenise the next chunk while the model runs on this one; the bound keeps one
        // prepared chunk waiting at most. If the model fails, the receiver is dropped and the
        // tokenising thread stops at its next send.
        let (sender, prepared) = std::sync::mpsc::sync_channel(1);
        let chunks = &chunks;
        scope.spawn(move || {
            for chunk in chunks {
                if sender.send(preparer.prepare(chunk)).is_err() {
                    break;
                }
            }
        });
        let mut since_save = 0;
        for (chunk, inputs) in missing.chunks(CHUNK_TEXTS).zip(prepared) {
            let embeddings = encoder.encode_prepared(inputs)?;
            report.truncated += embeddings.truncated();
            for (&index, row) in chunk.iter().zip(embeddings.rows()) {
                cache.insert(keys[index], row);
            }
            since_save += chunk.len();
            if since_save >= SAVE_EVERY {
                cache.save()?;
                since_save = 0;
            }
            progress.advance(chunk.len() as u64);
        }
        Ok(())
    })?;
    cache.save()?;
    progress.finish();
    let dimension = encoder.dimension();
    let mut values = Vec::with_capacity(texts.len() * dimension);
    for key in &keys {
        values.extend_from_slice(cache.get(key).expect("every text is cached by now"));
    }
    report.cached = distinct(&keys) - report.encoded;
    report.seconds = started.elapsed().as_secs_f64();
    Ok((Embeddings::new(dimension, values, report.truncated), report))
}

/// Positions of the distinct texts not in the cache, shortest first, so a chunk holds texts of
/// similar length.
fn missing_texts(cache: &EmbeddingCache, texts: &[&str], keys: &[CacheKey]) -> Vec<usize> {
    let mut seen = std::collections::HashSet::new();
    let mut missing: Vec<usize> = (0..texts.len())
        .filter(|&index| cache.get(&keys[index]).is_none() && seen.insert(keys[index]))
        .collect();
    missing.sort_by_key(|&index| (texts[index].len(), index));
    missing
}

fn distinct(keys: &[CacheKey]) -> usize {
    keys.iter().collect::<std::collections::HashSet<_>>().len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::hashing::HashingEncoder;
    use crate::model::{Encoded, Preparer};
    use crate::progress::NoProgress;
    use std::sync::Arc;

    /// Counts the model calls and the texts it is asked to encode; fails on call `fail_on`.
    struct CountingEncoder {
        inner: HashingEncoder,
        calls: usize,
        seen: usize,
        fail_on: Option<usize>,
    }

    impl CountingEncoder {
        fn new(dimension: usize, fail_on: Option<usize>) -> Self {
            CountingEncoder {
                inner: HashingEncoder::new(dimension),
                calls: 0,
                seen: 0,
                fail_on,
            }
        }
    }

    impl Encoder for CountingEncoder {
        fn dimension(&self) -> usize {
            self.inner.dimension()
        }
        fn model_id(&self) -> String {
            self.inner.model_id()
        }
        fn preparer(&self) -> Arc<dyn Preparer> {
            self.inner.preparer()
        }
        fn encode_prepared(&mut self, inputs: Vec<Encoded>) -> Result<Embeddings, ModelError> {
            self.calls += 1;
            if self.fail_on == Some(self.calls) {
                return Err(ModelError::Forward("injected failure".into()));
            }
            self.seen += inputs.len();
            self.inner.encode_prepared(inputs)
        }
    }

    #[test]
    fn second_pass_comes_from_the_cache_and_matches() {
        let directory = tempfile::tempdir().unwrap();
        let mut encoder = CountingEncoder::new(8, None);
        let texts = ["brakes squeal", "刹车异响", "brakes squeal", "slow service"];
        let mut cache = EmbeddingCache::open(directory.path(), 8).unwrap();
        let (first, report) = encode_texts(&mut encoder, &mut cache, &texts, &NoProgress).unwrap();
        assert_eq!((report.encoded, report.cached), (3, 0));
        assert_eq!(first.row(0), first.row(2));

        let mut reopened = EmbeddingCache::open(directory.path(), 8).unwrap();
        let more = ["slow service", "new text"];
        let (second, report) =
            encode_texts(&mut encoder, &mut reopened, &more, &NoProgress).unwrap();
        assert_eq!((report.encoded, report.cached), (1, 1));
        assert_eq!(encoder.seen, 4);
        assert_eq!(second.row(0), first.row(3));
        let direct = HashingEncoder::new(8).encode(&["new text"]).unwrap();
        assert_eq!(second.row(1), direct.row(0));
    }

    fn numbered_texts(count: usize) -> Vec<String> {
        (0..count)
            .map(|n| format!("complaint number {n}"))
            .collect()
    }

    #[test]
    fn many_chunks_prepared_ahead_come_back_in_input_order() {
        let directory = tempfile::tempdir().unwrap();
        let owned = numbered_texts(3 * CHUNK_TEXTS + 7);
        let texts: Vec<&str> = owned.iter().map(String::as_str).collect();
        let mut cache = EmbeddingCache::open(directory.path(), 16).unwrap();
        let mut encoder = HashingEncoder::new(16);
        let (embeddings, report) =
            encode_texts(&mut encoder, &mut cache, &texts, &NoProgress).unwrap();
        assert_eq!(report.encoded, texts.len());
        let direct = HashingEncoder::new(16).encode(&texts).unwrap();
        assert_eq!(embeddings, direct);
    }

    #[test]
    fn a_failing_model_stops_the_run_with_its_error() {
        let directory = tempfile::tempdir().unwrap();
        let owned = numbered_texts(4 * CHUNK_TEXTS);
        let texts: Vec<&str> = owned.iter().map(String::as_str).collect();
        let mut cache = EmbeddingCache::open(directory.path(), 16).unwrap();
        let mut encoder = CountingEncoder::new(16, Some(2));
        let error = encode_texts(&mut encoder, &mut cache, &texts, &NoProgress).unwrap_err();
        assert!(matches!(error, EncodeError::Model(ModelError::Forward(_))));
        assert_eq!(encoder.calls, 2);
    }
}
