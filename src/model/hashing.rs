//! A tiny deterministic [`Encoder`] for pipeline unit tests: each lowercased word (and each CJK
//! character) is hashed to a signed bucket, the bucket counts form the vector, which is then
//! L2-normalised. Texts sharing words get similar vectors, so clustering and classification logic
//! can be tested without libtorch or model files. Never used where a user or a reported number is
//! involved.

use sha2::{Digest, Sha256};

use std::sync::Arc;

use super::{l2_normalise, Embeddings, Encoded, Encoder, ModelError, Preparer};

/// Bag-of-words hashing encoder with a fixed dimension.
#[derive(Debug, Clone)]
pub struct HashingEncoder {
    dimension: usize,
}

impl HashingEncoder {
    /// An encoder producing rows of length `dimension` (must be positive).
    pub fn new(dimension: usize) -> Self {
        assert!(dimension > 0, "dimension must be positive");
        HashingEncoder { dimension }
    }
}

impl Preparer for HashingEncoder {
    /// One id per word: twice its bucket, plus one when the word counts negatively.
    fn prepare(&self, texts: &[&str]) -> Vec<Encoded> {
        texts
            .iter()
            .map(|text| Encoded {
                ids: words(text)
                    .map(|word| {
                        let digest = Sha256::digest(word.as_bytes());
                        let bucket = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
                        let bucket = (bucket % self.dimension as u64) as i64;
                        2 * bucket + i64::from(digest[8] & 1)
                    })
                    .collect(),
                truncated: false,
            })
            .collect()
    }
}

/// Lowercased alphanumeric runs; every CJK character counts as a word of its own.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .flat_map(|word| {
            if word.chars().any(is_cjk) {
                word.chars().map(|c| c.to_string()).collect::<Vec<_>>()
            } else {
                vec![word.to_lowercase()]
            }
        })
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{9fff}' | '\u{f900}'..='\u{faff}' | '\u{20000}'..='\u{2ffff}')
}

impl Encoder for HashingEncoder {
    fn dimension(&self) -> usize {
        self.dimension
    }

    fn model_id(&self) -> String {
        format!("hashing-{}", self.dimension)
    }

    fn preparer(&self) -> Arc<dyn Preparer> {
        Arc::new(self.clone())
    }

    fn encode_prepared(&mut self, inputs: Vec<Encoded>) -> Result<Embeddings, ModelError> {
        let mut values = vec![0.0; inputs.len() * self.dimension];
        for (input, row) in inputs.iter().zip(values.chunks_exact_mut(self.dimension)) {
            for &id in &input.ids {
                row[(id / 2) as usize] += if id % 2 == 0 { 1.0 } else { -1.0 };
            }
            l2_normalise(row);
        }
        Ok(Embeddings::new(self.dimension, values, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn same_text_same_vector_and_unit_length() {
        let mut encoder = HashingEncoder::new(64);
        let embeddings = encoder
            .encode(&["Late delivery", "late  DELIVERY!"])
            .unwrap();
        assert_eq!(embeddings.row(0), embeddings.row(1));
        assert!((cosine(embeddings.row(0), embeddings.row(0)) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn shared_words_are_closer_than_unrelated_text() {
        let mut encoder = HashingEncoder::new(256);
        let embeddings = encoder
            .encode(&[
                "the refund never arrived",
                "my refund never arrived at all",
                "lovely friendly staff",
            ])
            .unwrap();
        let related = cosine(embeddings.row(0), embeddings.row(1));
        let unrelated = cosine(embeddings.row(0), embeddings.row(2));
        assert!(related > unrelated, "{related} <= {unrelated}");
    }

    #[test]
    fn chinese_characters_count_as_words_and_empty_text_is_zero() {
        let mut encoder = HashingEncoder::new(32);
        let embeddings = encoder.encode(&["退款太慢", ""]).unwrap();
        assert!(embeddings.row(0).iter().any(|value| *value != 0.0));
        assert!(embeddings.row(1).iter().all(|value| *value == 0.0));
    }
}
