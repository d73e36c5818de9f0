//! TF-IDF keyword rows from already tokenised documents.
//!
//! Goes in: one list of tokens per document (the main project's analyzer
//! produces them; the probe uses a naive splitter). Comes out: sparse
//! [`SparseRows`] with sublinear term frequency times smoothed inverse
//! document frequency, keeping terms that occur in at least `min_documents`
//! documents and at most `max_document_share` of them, rows L2-normalised.

use crate::cluster::sparse::SparseRows;
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

/// Vocabulary pruning for TF-IDF.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeywordSettings {
    /// Terms in fewer documents are dropped (typos, names).
    pub min_documents: usize,
    /// Terms in a larger share of documents are dropped (near-stopwords).
    pub max_document_share: f64,
}

impl Default for KeywordSettings {
    fn default() -> Self {
        Self {
            min_documents: 2,
            max_document_share: 0.5,
        }
    }
}

/// TF-IDF rows for `documents`, one row per document, in input order.
pub fn tfidf_rows<S: AsRef<str> + Sync>(
    documents: &[Vec<S>],
    settings: &KeywordSettings,
) -> SparseRows {
    let counts: Vec<HashMap<&str, u32>> = documents
        .par_iter()
        .map(|tokens| term_counts(tokens))
        .collect();
    let vocabulary = build_vocabulary(&counts, settings);
    let total = documents.len() as f64;
    let rows: Vec<Vec<(u32, f32)>> = counts
        .par_iter()
        .map(|terms| {
            terms
                .iter()
                .filter_map(|(term, &count)| {
                    vocabulary.get(term).map(|&(column, frequency)| {
                        let idf = ((1.0 + total) / (1.0 + frequency as f64)).ln() + 1.0;
                        let tf = 1.0 + (count as f64).ln();
                        (column, (tf * idf) as f32)
                    })
                })
                .collect()
        })
        .collect();
    SparseRows::from_rows(&rows, vocabulary.len()).normalised()
}

fn term_counts<S: AsRef<str>>(tokens: &[S]) -> HashMap<&str, u32> {
    let mut counts = HashMap::default();
    for token in tokens {
        *counts.entry(token.as_ref()).or_insert(0) += 1;
    }
    counts
}

/// Term -> (column, document frequency), columns in sorted term order so
/// the result does not depend on hash iteration order.
fn build_vocabulary<'a>(
    counts: &[HashMap<&'a str, u32>],
    settings: &KeywordSettings,
) -> HashMap<&'a str, (u32, usize)> {
    let mut frequency: HashMap<&str, usize> = HashMap::default();
    for terms in counts {
        terms
            .keys()
            .for_each(|term| *frequency.entry(term).or_insert(0) += 1);
    }
    let ceiling = (settings.max_document_share * counts.len() as f64).floor() as usize;
    let mut kept: Vec<(&str, usize)> = frequency
        .into_iter()
        .filter(|&(_, documents)| {
            documents >= settings.min_documents && documents <= ceiling.max(1)
        })
        .collect();
    kept.sort_unstable();
    kept.into_iter()
        .enumerate()
        .map(|(column, (term, documents))| (term, (column as u32, documents)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_and_rare_terms_are_pruned() {
        let documents = vec![
            vec!["loan", "escrow", "the"],
            vec!["loan", "escrow", "the"],
            vec!["card", "fee", "the"],
            vec!["card", "fee", "typo"],
        ];
        let rows = tfidf_rows(&documents, &KeywordSettings::default());
        // "the" is in 3 of 4 documents (> 50%), "typo" in one: both dropped.
        assert_eq!(rows.width(), 4);
        assert_eq!(rows.row(3).0.len(), 2);
    }

    #[test]
    fn repeated_terms_weigh_more_but_sublinearly() {
        let documents = vec![
            vec!["a", "a", "a", "a", "b"],
            vec!["a", "b"],
            vec!["c"],
            vec!["c"],
        ];
        let settings = KeywordSettings {
            min_documents: 1,
            max_document_share: 1.0,
        };
        let rows = tfidf_rows(&documents, &settings);
        let (_, weights) = rows.row(0);
        assert!(weights[0] > weights[1] && weights[0] < 4.0 * weights[1]);
    }
}
