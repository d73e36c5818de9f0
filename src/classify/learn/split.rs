//! Split rules. The test split is fixed by the text alone ([`is_test`], the project-wide rule in
//! DESIGN.md), so every tool agrees on it without coordination. The validation split is carved
//! out of the training rows by a seeded, per-class shuffle ([`carve_validation`]): it only has to
//! be reproducible for one training run, and stratifying keeps rare classes represented.

use sha2::{Digest, Sha256};

use crate::classify::learn::random::SeededRandom;

/// Rows whose first sha256 byte is below this value form the test split (51 / 256, about 20%).
pub const TEST_BYTE_LIMIT: u8 = 0x33;

/// Whether a labelled document belongs to the test split: the first byte of
/// sha256(text as UTF-8) is below [`TEST_BYTE_LIMIT`]. Heads never train on these documents.
pub fn is_test(text: &str) -> bool {
    Sha256::digest(text.as_bytes())[0] < TEST_BYTE_LIMIT
}

/// Training rows divided into the part a candidate model is fitted on and the part it is
/// judged on. Both lists hold row indices in increasing order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// Rows the candidate models are fitted on.
    pub fit: Vec<usize>,
    /// Rows held out to choose settings, stop early and calibrate.
    pub validation: Vec<usize>,
}

/// Carves a validation part of about `fraction` of each class out of the training rows.
///
/// Each class's rows are shuffled with a stream derived from `seed` and the class index, and the
/// first `round(fraction * rows)` (at least one, at most all but one) are held out, so the carve
/// depends only on the labels, their order and the seed.
pub fn carve_validation(
    labels: &[usize],
    class_count: usize,
    fraction: f64,
    seed: u64,
) -> Partition {
    let mut is_validation = vec![false; labels.len()];
    for class in 0..class_count {
        let mut rows: Vec<usize> = (0..labels.len())
            .filter(|&row| labels[row] == class)
            .collect();
        if rows.len() < 2 {
            continue;
        }
        SeededRandom::for_stream(seed, class as u64 + 1).shuffle(&mut rows);
        let held_out = ((fraction * rows.len() as f64).round() as usize).clamp(1, rows.len() - 1);
        for &row in &rows[..held_out] {
            is_validation[row] = true;
        }
    }
    let (validation, fit): (Vec<usize>, Vec<usize>) =
        (0..labels.len()).partition(|&row| is_validation[row]);
    Partition { fit, validation }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_rule_matches_sha256_first_byte() {
        // sha256("") starts with 0xe3, sha256("abc") with 0xba: both train.
        assert!(!is_test(""));
        assert!(!is_test("abc"));
        let share = (0..10_000)
            .filter(|number| is_test(&format!("document {number}")))
            .count() as f64
            / 10_000.0;
        assert!((share - 51.0 / 256.0).abs() < 0.015, "test share {share}");
    }

    #[test]
    fn test_rule_known_member() {
        let member = (0..)
            .map(|number: u32| format!("text {number}"))
            .find(|text| Sha256::digest(text.as_bytes())[0] < 0x33)
            .unwrap();
        assert!(is_test(&member));
    }

    #[test]
    fn validation_is_stratified_and_reproducible() {
        let labels: Vec<usize> = (0..1000).map(|row| usize::from(row % 10 == 0)).collect();
        let partition = carve_validation(&labels, 2, 0.2, 11);
        assert_eq!(partition, carve_validation(&labels, 2, 0.2, 11));
        assert_ne!(partition, carve_validation(&labels, 2, 0.2, 12));
        let rare_held_out = partition.validation.iter().filter(|&&row| labels[row] == 1);
        assert_eq!(rare_held_out.count(), 20);
        assert_eq!(partition.validation.len(), 200);
        assert_eq!(partition.fit.len() + partition.validation.len(), 1000);
    }
}
