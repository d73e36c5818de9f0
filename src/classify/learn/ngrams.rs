//! Character n-gram features of a text, for the text head that sits beside an embedding head
//! ([`super::text_head`]). In goes a text; out comes a sparse, L2-normalised row: each n-gram of
//! 1 to 3 characters of the text's analysis form (Simplified, lowercased, whitespace collapsed)
//! is hashed into one of a fixed number of buckets, and a bucket's value is `1 + ln(count)`.
//!
//! Why characters and hashing: Chinese has no spaces, and character n-grams need no segmenter,
//! so the features do not move when jieba's dictionary does; hashing needs no vocabulary in the
//! head file. The hash is FNV-1a over the n-gram's UTF-8 bytes, written out here, so a bucket
//! never depends on a library version or on the process.

use serde::{Deserialize, Serialize};

use crate::normalise::analysis_form;

/// How texts become n-gram rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NgramSettings {
    /// Number of hash buckets (columns of a row).
    pub buckets: usize,
    /// Shortest n-gram, in characters.
    pub shortest: usize,
    /// Longest n-gram, in characters.
    pub longest: usize,
}

impl Default for NgramSettings {
    fn default() -> Self {
        NgramSettings {
            buckets: 1 << 17,
            shortest: 1,
            longest: 3,
        }
    }
}

/// A sparse row: bucket indices in increasing order, one value each.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SparseRow {
    /// Bucket indices, increasing, without repeats.
    pub indices: Vec<u32>,
    /// The value of each bucket.
    pub values: Vec<f32>,
}

impl SparseRow {
    /// `sum(row[i] * dense[i])`.
    pub fn dot(&self, dense: &[f64]) -> f64 {
        self.indices
            .iter()
            .zip(&self.values)
            .map(|(&index, &value)| f64::from(value) * dense[index as usize])
            .sum()
    }
}

impl NgramSettings {
    /// What is wrong with these settings, if anything.
    pub fn problem(&self) -> Option<String> {
        if self.buckets == 0 || self.buckets > u32::MAX as usize {
            return Some(format!("{} buckets: need 1 to {}", self.buckets, u32::MAX));
        }
        if self.shortest == 0 || self.shortest > self.longest {
            return Some(format!(
                "n-grams of {} to {} characters: need 1 <= shortest <= longest",
                self.shortest, self.longest
            ));
        }
        None
    }

    /// The row of `text` (display text: the analysis form is taken here).
    pub fn row(&self, text: &str) -> SparseRow {
        let characters: Vec<char> = analysis_form(text).chars().collect();
        let mut buckets = Vec::with_capacity(characters.len() * (self.longest + 1));
        let mut bytes = [0u8; 4];
        for start in 0..characters.len() {
            let mut hash = FNV_OFFSET;
            for (length, &character) in characters[start..].iter().enumerate().take(self.longest) {
                for &byte in character.encode_utf8(&mut bytes).as_bytes() {
                    hash = (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
                }
                if length + 1 >= self.shortest {
                    buckets.push((hash % self.buckets as u64) as u32);
                }
            }
        }
        counted(buckets)
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// Sorted distinct buckets with `1 + ln(count)`, scaled to unit length.
fn counted(mut buckets: Vec<u32>) -> SparseRow {
    buckets.sort_unstable();
    let mut row = SparseRow::default();
    for chunk in buckets.chunk_by(|a, b| a == b) {
        row.indices.push(chunk[0]);
        row.values.push(1.0 + (chunk.len() as f32).ln());
    }
    let norm = row
        .values
        .iter()
        .map(|value| value * value)
        .sum::<f32>()
        .sqrt();
    if norm > 0.0 {
        row.values.iter_mut().for_each(|value| *value /= norm);
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(buckets: usize) -> NgramSettings {
        NgramSettings {
            buckets,
            ..NgramSettings::default()
        }
    }

    #[test]
    fn a_row_has_unit_length_and_increasing_distinct_indices() {
        let row = settings(1 << 17).row("房间很干净，服务很好。Room was clean!");
        let length: f32 = row.values.iter().map(|value| value * value).sum();
        assert!((length - 1.0).abs() < 1e-5, "{length}");
        assert!(row.indices.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(row.indices.len(), row.values.len());
    }

    #[test]
    fn counts_every_ngram_of_one_to_three_characters() {
        // "abab": a, b, a, b (a x2, b x2), ab, ba, ab (ab x2, ba), aba, bab: 6 distinct n-grams.
        let row = settings(1 << 20).row("abab");
        assert_eq!(row.indices.len(), 6);
        let mut values = row.values.clone();
        values.sort_by(f32::total_cmp);
        let twice = 1.0 + 2f32.ln();
        let norm = (3.0 * twice * twice + 3.0f32).sqrt();
        let expected = [
            1.0 / norm,
            1.0 / norm,
            1.0 / norm,
            twice / norm,
            twice / norm,
            twice / norm,
        ];
        for (value, expected) in values.iter().zip(expected) {
            assert!((value - expected).abs() < 1e-6, "{values:?}");
        }
    }

    #[test]
    fn traditional_and_simplified_give_the_same_row_and_case_does_not_matter() {
        let ngrams = settings(1 << 17);
        assert_eq!(ngrams.row("服務態度很差"), ngrams.row("服务态度很差"));
        assert_eq!(ngrams.row("Slow  SERVICE"), ngrams.row("slow service"));
    }

    #[test]
    fn buckets_are_fixed_fnv_hashes() {
        // FNV-1a of the bytes of "a" is 0xaf63dc4c8601ec8c; the bucket is that modulo 1000.
        let row = settings(1000).row("a");
        assert_eq!(row.indices, vec![(0xaf63_dc4c_8601_ec8c_u64 % 1000) as u32]);
    }

    #[test]
    fn an_empty_text_gives_an_empty_row() {
        assert_eq!(settings(16).row("   "), SparseRow::default());
    }
}
