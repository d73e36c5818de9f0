//! The document representations ("views") the neighbour graphs are built on.
//!
//! Goes in: unit-length sentence embeddings and, optionally, sparse keyword
//! (TF-IDF) rows. Comes out: [`Views`]: the embeddings' leading principal
//! components (unit rows) and, when keywords are given, the normalised
//! TF-IDF rows with a low-rank LSA projection of them (unit rows) that guides
//! the approximate neighbour search. Sentence embeddings blur
//! product-specific vocabulary ("escrow", "FICO", "garnishment") that
//! keywords carry sharply, while keywords miss paraphrase; a neighbour graph
//! per view, joined, beats either view alone and beats one graph over
//! concatenated features (measured on the CFPB narratives).
//!
//! [`Views::combined`] mixes the two into one unit-row matrix whose dot
//! products are `(1 - w) * cos(embedding) + w * cos(keyword LSA)`; centroids
//! and outlier reassignment use it.

use crate::cluster::dense::normalise_rows;
use crate::cluster::reduce::{latent_semantic, principal_components};
use crate::cluster::sparse::SparseRows;
use crate::cluster::timed;

/// How the views are reduced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureSettings {
    /// PCA dimensions kept from the embeddings.
    pub embedding_dimensions: usize,
    /// Scale each principal direction to unit variance before normalising.
    pub whiten: bool,
    /// LSA dimensions of the keyword projection.
    pub keyword_dimensions: usize,
    /// Keep only this many heaviest terms per document (speed; `None` keeps all).
    pub keyword_terms: Option<usize>,
    /// Seed for the randomised reductions.
    pub seed: u64,
}

/// Unit-length rows (`rows x width`).
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    /// Row-major values.
    pub values: Vec<f32>,
    /// Columns per row.
    pub width: usize,
}

/// The keyword view: exact rows plus a projection for candidate search.
#[derive(Debug, Clone, PartialEq)]
pub struct KeywordView {
    /// TF-IDF rows, L2-normalised.
    pub rows: SparseRows,
    /// LSA projection of `rows`, unit rows.
    pub projection: Features,
}

/// Everything the graph is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct Views {
    /// PCA of the embeddings, unit rows.
    pub embedding: Features,
    /// The keyword view, when keywords were given and usable.
    pub keywords: Option<KeywordView>,
}

impl Views {
    /// `[sqrt(1 - w) * embedding, sqrt(w) * keyword LSA]` with rows
    /// renormalised; the embedding view alone without keywords.
    pub fn combined(&self, keyword_weight: f32) -> Features {
        let weight = keyword_weight.clamp(0.0, 1.0);
        match &self.keywords {
            Some(keywords) if weight > 0.0 => {
                concatenate(&self.embedding, &keywords.projection, weight)
            }
            _ => self.embedding.clone(),
        }
    }
}

/// Builds the views described in the module docs. Keywords are ignored
/// unless they have one row per embedding row.
pub fn build_views(
    embeddings: &[f32],
    dimension: usize,
    keywords: Option<&SparseRows>,
    settings: &FeatureSettings,
) -> Views {
    let rows = embeddings.len() / dimension;
    let target = settings
        .embedding_dimensions
        .min(dimension)
        .min(rows.max(1));
    let usable = keywords.filter(|keywords| keywords.row_count() == rows && keywords.width() > 0);
    let (mut values, keywords) = rayon::join(
        || {
            timed("PCA", || {
                principal_components(embeddings, dimension, target, settings.seed)
            })
        },
        || usable.map(|keywords| timed("keyword LSA", || keyword_view(keywords, settings))),
    );
    if settings.whiten {
        whiten_columns(&mut values, target);
    }
    normalise_rows(&mut values, target);
    Views {
        embedding: Features {
            values,
            width: target,
        },
        keywords,
    }
}

fn keyword_view(keywords: &SparseRows, settings: &FeatureSettings) -> KeywordView {
    let rows = match settings.keyword_terms {
        Some(keep) => keywords.truncated(keep).normalised(),
        None => keywords.normalised(),
    };
    let target = settings
        .keyword_dimensions
        .min(rows.width())
        .min(rows.row_count());
    let mut values = latent_semantic(&rows, target, settings.seed ^ 0x5eed);
    normalise_rows(&mut values, target);
    KeywordView {
        rows,
        projection: Features {
            values,
            width: target,
        },
    }
}

/// Divides every column by its standard deviation.
fn whiten_columns(values: &mut [f32], width: usize) {
    let rows = (values.len() / width).max(1) as f64;
    let mut squares = vec![0.0f64; width];
    for row in values.chunks_exact(width) {
        squares
            .iter_mut()
            .zip(row)
            .for_each(|(sum, &v)| *sum += (v as f64).powi(2));
    }
    let scales: Vec<f32> = squares
        .iter()
        .map(|&sum| (sum / rows).sqrt())
        .map(|deviation| {
            if deviation > 1e-12 {
                (1.0 / deviation) as f32
            } else {
                0.0
            }
        })
        .collect();
    for row in values.chunks_exact_mut(width) {
        row.iter_mut()
            .zip(&scales)
            .for_each(|(v, &scale)| *v *= scale);
    }
}

fn concatenate(first: &Features, second: &Features, weight: f32) -> Features {
    let (first_scale, second_scale) = ((1.0 - weight).sqrt(), weight.sqrt());
    let width = first.width + second.width;
    let mut values = Vec::with_capacity(first.values.len() + second.values.len());
    let pairs = first
        .values
        .chunks_exact(first.width)
        .zip(second.values.chunks_exact(second.width));
    for (a, b) in pairs {
        values.extend(a.iter().map(|v| v * first_scale));
        values.extend(b.iter().map(|v| v * second_scale));
    }
    normalise_rows(&mut values, width);
    Features { values, width }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::dense::dot;

    fn settings() -> FeatureSettings {
        FeatureSettings {
            embedding_dimensions: 2,
            whiten: false,
            keyword_dimensions: 2,
            keyword_terms: None,
            seed: 0,
        }
    }

    #[test]
    fn rows_have_unit_length_with_and_without_keywords() {
        let embeddings = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.6, 0.8, 0.0];
        let keywords = SparseRows::from_rows(
            &[
                vec![(0, 1.0)],
                vec![(1, 1.0)],
                vec![(0, 1.0), (2, 1.0)],
                vec![],
            ],
            3,
        );
        for keyword_rows in [None, Some(&keywords)] {
            let features = build_views(&embeddings, 3, keyword_rows, &settings()).combined(0.5);
            for row in features.values.chunks_exact(features.width) {
                let length = dot(row, row);
                assert!(
                    length < 1e-9 || (length - 1.0).abs() < 1e-5,
                    "length {length}"
                );
            }
        }
    }

    #[test]
    fn mismatched_keywords_are_ignored_and_weight_zero_means_embeddings_only() {
        let embeddings = [1.0, 0.0, 0.0, 1.0, 0.7, 0.7];
        let short = SparseRows::from_rows(&[vec![(0, 1.0)]], 2);
        assert!(build_views(&embeddings, 2, Some(&short), &settings())
            .keywords
            .is_none());
        let keywords = SparseRows::from_rows(&[vec![(0, 1.0)], vec![(1, 1.0)], vec![]], 2);
        let views = build_views(&embeddings, 2, Some(&keywords), &settings());
        assert!(views.keywords.is_some());
        assert_eq!(views.combined(0.0), views.embedding);
    }
}
