//! A tiny deterministic [`Encoder`] for pipeline unit tests: each lowercased word (and each CJK
//! character) is hashed to a signed bucket, the bucket counts form the vector, which is then
//! L2-normalised. Texts sharing words get similar vectors, so clustering and classification logic
//! can be tested without libtorch or model files. Never used where a user or a reported number is
//! involved.

use sha2::{Digest, Sha256};

use super::{l2_normalise, Embeddings, Encoder, ModelError};

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

    fn embed_into(&self, text: &str, row: &mut [f32]) {
        for word in words(text) {
            let digest = Sha256::digest(word.as_bytes());
            let bucket = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
            let sign = if digest[8] & 1 == 0 { 1.0 } else { -1.0 };
            row[(bucket % self.dimension as u64) as usize] += sign;
        }
        l2_normalise(row);
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

    fn encode(&mut self, texts: &[&str]) -> Result<Embeddings, ModelError> {
        let mut values = vec![0.0; texts.len() * self.dimension];
        for (text, row) in texts.iter().zip(values.chunks_exact_mut(self.dimension)) {
            self.embed_into(text, row);
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
