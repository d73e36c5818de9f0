//! Clustering settings and their defaults, which scale with the number of
//! documents.
//!
//! Callers set only what they want to override; every `None` is resolved
//! against the corpus size by [`ClusterSettings::resolve`] into
//! [`ResolvedSettings`], the plain values the stages read.

use crate::cluster::affinity::EdgeWeighting;
use crate::cluster::density::DensitySettings;
use crate::cluster::features::FeatureSettings;
use crate::cluster::resolution::ResolutionSearch;

/// Which clustering method runs on the document features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterMethod {
    /// Leiden communities on the cosine k-nearest-neighbour graph (default):
    /// near-linear time and the best agreement with real product labels.
    NeighbourGraph,
    /// HDBSCAN on the reduced features (O(n^2): a few thousand rows at most).
    Density,
}

/// What the caller may set; `None` means "choose from the corpus size".
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterSettings {
    /// Seed for every random choice; equal input and seed give equal output.
    pub seed: u64,
    /// The clustering method.
    pub method: ClusterMethod,
    /// PCA dimensions kept from the embeddings.
    pub embedding_dimensions: usize,
    /// Whiten the principal components before normalising.
    pub whiten: bool,
    /// LSA dimensions kept from the keyword rows.
    pub keyword_dimensions: usize,
    /// Heaviest terms kept per document for the keyword view (`None`: all).
    pub keyword_terms: Option<usize>,
    /// Share of the similarity that comes from keywords when they are given.
    pub keyword_weight: f32,
    /// Neighbours per document and view (default 20, fewer below 200 rows).
    pub neighbours: Option<usize>,
    /// How neighbour similarities become edge weights.
    pub edge_weighting: EdgeWeighting,
    /// A fixed Leiden resolution; `None` picks the most stable candidate.
    pub resolution: Option<f64>,
    /// Resolutions tried when choosing by stability.
    pub resolution_candidates: Vec<f64>,
    /// Leiden runs (seeds) per candidate resolution.
    pub stability_runs: usize,
    /// Resolution of the micro-communities the stability runs work on.
    pub micro_resolution: f64,
    /// Smallest group reported as a cluster (default: 0.5% of n, 5 to 100).
    pub min_cluster_size: Option<usize>,
    /// HDBSCAN `min_samples` for the density method (default: min_cluster_size).
    pub min_samples: Option<usize>,
    /// Quantile of member-to-centroid similarity an outlier must reach to be
    /// reassigned; `None` keeps every outlier unassigned.
    pub reassign_quantile: Option<f32>,
    /// A cluster holding more than this share of the documents is clustered again on its own
    /// and replaced by its parts (see [`crate::cluster::refine`]); `None` never splits.
    pub split_share: Option<f64>,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        Self {
            seed: 0,
            method: ClusterMethod::NeighbourGraph,
            embedding_dimensions: 48,
            whiten: false,
            keyword_dimensions: 48,
            keyword_terms: None,
            keyword_weight: 0.5,
            neighbours: None,
            edge_weighting: EdgeWeighting::Fuzzy,
            resolution: None,
            resolution_candidates: vec![0.5, 0.6, 0.7, 0.8, 1.0],
            stability_runs: 4,
            micro_resolution: 50.0,
            min_cluster_size: None,
            min_samples: None,
            reassign_quantile: Some(0.05),
            split_share: None,
        }
    }
}

/// Settings with every size-dependent value fixed.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedSettings {
    /// Seed for every random choice.
    pub seed: u64,
    /// The clustering method.
    pub method: ClusterMethod,
    /// How the features are built.
    pub features: FeatureSettings,
    /// Share of the graph (and of centroid similarity) that comes from keywords.
    pub keyword_weight: f32,
    /// Neighbours per document.
    pub neighbours: usize,
    /// Edge weighting of the neighbour graph.
    pub edge_weighting: EdgeWeighting,
    /// Fixed resolution, if any.
    pub resolution: Option<f64>,
    /// How the resolution is chosen when it is not fixed.
    pub resolution_search: ResolutionSearch,
    /// Density parameters (`min_cluster_size` is also the graph method's floor).
    pub density: DensitySettings,
    /// Outlier reassignment quantile.
    pub reassign_quantile: Option<f32>,
}

impl ClusterSettings {
    /// Fixes the size-dependent defaults for a corpus of `rows` documents.
    pub fn resolve(&self, rows: usize) -> ResolvedSettings {
        let min_cluster_size = self
            .min_cluster_size
            .unwrap_or_else(|| (rows / 200).clamp(5, 100));
        // 20 neighbours per view was the measured sweet spot on 10,000
        // narratives (10 and 15 too sparse, 25 blurs); tiny corpora get fewer.
        let default_neighbours = (rows / 10).clamp(5, 20);
        ResolvedSettings {
            seed: self.seed,
            method: self.method,
            features: FeatureSettings {
                embedding_dimensions: self.embedding_dimensions,
                whiten: self.whiten,
                keyword_dimensions: self.keyword_dimensions,
                keyword_terms: self.keyword_terms,
                seed: self.seed,
            },
            keyword_weight: self.keyword_weight.clamp(0.0, 1.0),
            neighbours: self.neighbours.unwrap_or(default_neighbours),
            edge_weighting: self.edge_weighting,
            resolution: self.resolution,
            resolution_search: ResolutionSearch {
                candidates: self.resolution_candidates.clone(),
                runs: self.stability_runs,
                micro_resolution: self.micro_resolution,
                min_cluster_size,
                seed: self.seed,
            },
            density: DensitySettings {
                min_cluster_size,
                min_samples: self.min_samples.unwrap_or(min_cluster_size),
            },
            reassign_quantile: self.reassign_quantile,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_scale_with_corpus_size() {
        let settings = ClusterSettings::default();
        let small = settings.resolve(60);
        let large = settings.resolve(100_000);
        assert_eq!(small.density.min_cluster_size, 5);
        assert_eq!(large.density.min_cluster_size, 100);
        assert_eq!((small.neighbours, large.neighbours), (6, 20));
    }

    #[test]
    fn explicit_values_win() {
        let settings = ClusterSettings {
            min_cluster_size: Some(42),
            neighbours: Some(7),
            ..ClusterSettings::default()
        };
        let resolved = settings.resolve(10_000);
        assert_eq!(
            (resolved.density.min_cluster_size, resolved.neighbours),
            (42, 7)
        );
    }
}
