//! The cluster stage: recurring problems among the negative and complaint documents.
//!
//! Goes in: a row-major matrix of unit-length sentence embeddings and,
//! optionally, sparse keyword (TF-IDF) rows for the same documents. Comes
//! out: a [`Clustering`]: one cluster id or `None` (unassigned) per
//! document, a centroid per cluster in embedding space, and the share of
//! documents left unassigned.
//!
//! The default method (see [`ClusterMethod::NeighbourGraph`]): two views of
//! each document ([`features`]): PCA of the embeddings, and the TF-IDF
//! keyword rows with an LSA projection; an approximate k-nearest-neighbour
//! graph per view ([`neighbours`]: random-projection
//! forest + NN-descent), exact sparse cosine for keywords, locally
//! calibrated edge weights ([`affinity`]), the two graphs joined
//! ([`view_graph`]); Leiden communities ([`communities`]) at the resolution
//! whose runs agree best across seeds ([`resolution`]); communities below
//! the minimum size turned into outliers, and outliers close enough to a
//! centroid reassigned ([`outliers`]). HDBSCAN ([`density`]) is the
//! alternative method: on raw or PCA-reduced sentence embeddings it finds
//! almost no density structure.
//!
//! The agreement scores an evaluation uses ([`metrics`]) and the k-means
//! baseline it compares against ([`kmeans`]) are small modules of their own;
//! tracking clusters across periods, their trends and their impact belong to
//! the problem stage ([`crate::problems`]).

pub mod affinity;
pub mod communities;
pub mod dense;
pub mod density;
mod descent;
mod exhaustive;
pub mod features;
pub mod graph;
pub mod keywords;
pub mod kmeans;
pub mod metrics;
pub mod neighbours;
pub mod outliers;
pub mod random;
pub mod reduce;
pub mod refine;
pub mod resolution;
pub mod settings;
pub mod sparse;
pub mod view_graph;

use communities::number_by_size;
use features::{build_views, Features, Views};
pub use settings::{ClusterMethod, ClusterSettings, ResolvedSettings};
pub use sparse::SparseRows;
pub use view_graph::neighbour_graph;

/// The result of clustering one set of documents.
#[derive(Debug, Clone, PartialEq)]
pub struct Clustering {
    /// One entry per input row: its cluster (0 = largest) or `None`.
    pub labels: Vec<Option<u32>>,
    /// Number of clusters.
    pub cluster_count: usize,
    /// Row-major `cluster_count x dimension` unit-length centroids of the
    /// input embeddings, for matching clusters across periods.
    pub centroids: Vec<f32>,
    /// Share of rows with no cluster, after reassignment.
    pub unassigned_share: f64,
    /// The Leiden resolution used (graph method only).
    pub resolution: Option<f64>,
    /// Similarity an outlier needed to be reassigned, if reassignment ran.
    pub reassign_threshold: Option<f32>,
    /// The candidate resolutions tried and how stable each was.
    pub resolution_trials: Vec<resolution::ResolutionTrial>,
}

/// Clusters `embeddings` (`rows x dimension`, row-major, unit rows), then splits clusters too
/// broad to be one problem ([`refine`]).
///
/// `keywords`, when given, must have one row per embedding row; otherwise it
/// is ignored. Deterministic for equal inputs and `settings.seed`.
pub fn cluster(
    embeddings: &[f32],
    dimension: usize,
    keywords: Option<&SparseRows>,
    settings: &ClusterSettings,
) -> Clustering {
    let mut clustering = cluster_once(embeddings, dimension, keywords, settings);
    if settings.split_share.is_none() || clustering.cluster_count == 0 {
        return clustering;
    }
    let before = clustering.cluster_count;
    refine::split_broad_clusters(embeddings, dimension, keywords, settings, &mut clustering);
    if clustering.cluster_count == before {
        return clustering;
    }
    clustering.labels = renumber_by_size(&clustering.labels);
    clustering.centroids = outliers::centroids(
        embeddings,
        dimension,
        &clustering.labels,
        clustering.cluster_count,
    );
    clustering.unassigned_share = outliers::unassigned_share(&clustering.labels);
    clustering
}

/// One level of clustering, without splitting broad clusters.
pub fn cluster_once(
    embeddings: &[f32],
    dimension: usize,
    keywords: Option<&SparseRows>,
    settings: &ClusterSettings,
) -> Clustering {
    let rows = embeddings.len().checked_div(dimension).unwrap_or(0);
    let resolved = settings.resolve(rows);
    if rows == 0 {
        return empty_clustering(rows);
    }
    let views = timed("views (PCA, keyword projection)", || {
        build_views(
            &embeddings[..rows * dimension],
            dimension,
            keywords,
            &resolved.features,
        )
    });
    let features = views.combined(resolved.keyword_weight);
    let (raw_labels, trials) = match resolved.method {
        ClusterMethod::NeighbourGraph => graph_labels(&views, &resolved),
        ClusterMethod::Density => (density_labels(&features, &resolved), Vec::new()),
    };
    let mut clustering = timed("outliers and centroids", || {
        finish(embeddings, dimension, &features, raw_labels, &resolved)
    });
    clustering.resolution = resolved.resolution.or_else(|| best_trial(&trials));
    clustering.resolution_trials = trials;
    clustering
}

/// Runs `work`, logging its wall time at debug level (`RUST_LOG=vocmine=debug` shows where a
/// clustering run spends its time).
pub fn timed<T>(stage: &str, work: impl FnOnce() -> T) -> T {
    let started = std::time::Instant::now();
    let result = work();
    tracing::debug!(
        "cluster stage {stage}: {:.3} s",
        started.elapsed().as_secs_f64()
    );
    result
}

/// A clustering of `rows` rows with no cluster (every row unassigned).
pub fn empty_clustering(rows: usize) -> Clustering {
    Clustering {
        labels: vec![None; rows],
        cluster_count: 0,
        centroids: Vec::new(),
        unassigned_share: if rows == 0 { 0.0 } else { 1.0 },
        resolution: None,
        reassign_threshold: None,
        resolution_trials: Vec::new(),
    }
}

fn best_trial(trials: &[resolution::ResolutionTrial]) -> Option<f64> {
    trials
        .iter()
        .find(|trial| trial.chosen)
        .map(|trial| trial.resolution)
}

/// Leiden communities on the neighbour graph; communities smaller than the
/// minimum cluster size become outliers.
fn graph_labels(
    views: &Views,
    resolved: &ResolvedSettings,
) -> (Vec<Option<u32>>, Vec<resolution::ResolutionTrial>) {
    let graph = timed("neighbour graph", || neighbour_graph(views, resolved));
    let (partition, trials) = timed("communities", || match resolved.resolution {
        Some(resolution) => (
            communities::leiden(&graph, resolution, resolved.seed),
            Vec::new(),
        ),
        None => resolution::choose_resolution(&graph, &resolved.resolution_search),
    });
    (
        drop_small_groups(&partition, resolved.density.min_cluster_size),
        trials,
    )
}

fn density_labels(features: &Features, resolved: &ResolvedSettings) -> Vec<Option<u32>> {
    density::density_clusters(&features.values, features.width, &resolved.density)
        .unwrap_or_else(|_| vec![None; features.values.len() / features.width.max(1)])
}

/// Keeps groups of at least `min_size` members, numbered by size; the rest
/// become `None`.
fn drop_small_groups(partition: &[u32], min_size: usize) -> Vec<Option<u32>> {
    let ranked = number_by_size(partition);
    let mut sizes = vec![0usize; ranked.len()];
    ranked.iter().for_each(|&label| sizes[label as usize] += 1);
    ranked
        .iter()
        .map(|&label| (sizes[label as usize] >= min_size.max(1)).then_some(label))
        .collect()
}

/// Reassigns close outliers, renumbers clusters by size and computes
/// embedding-space centroids.
fn finish(
    embeddings: &[f32],
    dimension: usize,
    features: &Features,
    raw_labels: Vec<Option<u32>>,
    resolved: &ResolvedSettings,
) -> Clustering {
    let mut labels = renumber_by_size(&raw_labels);
    let cluster_count = labels
        .iter()
        .flatten()
        .map(|&label| label as usize + 1)
        .max()
        .unwrap_or(0);
    let feature_centroids =
        outliers::centroids(&features.values, features.width, &labels, cluster_count);
    let threshold = resolved.reassign_quantile.and_then(|quantile| {
        outliers::calibrated_threshold(
            &features.values,
            features.width,
            &labels,
            &feature_centroids,
            quantile,
        )
    });
    if let Some(threshold) = threshold {
        outliers::reassign_outliers(
            &features.values,
            features.width,
            &mut labels,
            &feature_centroids,
            threshold,
        );
    }
    let labels = renumber_by_size(&labels);
    let centroids = outliers::centroids(embeddings, dimension, &labels, cluster_count);
    Clustering {
        unassigned_share: outliers::unassigned_share(&labels),
        labels,
        cluster_count,
        centroids,
        resolution: None,
        reassign_threshold: threshold,
        resolution_trials: Vec::new(),
    }
}

/// Renumbers assigned labels so that 0 is the largest cluster.
fn renumber_by_size(labels: &[Option<u32>]) -> Vec<Option<u32>> {
    let assigned: Vec<u32> = labels.iter().flatten().copied().collect();
    let ranked = number_by_size(&assigned);
    let mut next = ranked.into_iter();
    labels
        .iter()
        .map(|label| label.and_then(|_| next.next()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::random::Random;

    /// `groups` tight clusters of unit vectors in `dimension` dimensions.
    pub(crate) fn clustered_embeddings(
        groups: usize,
        per_group: usize,
        dimension: usize,
        seed: u64,
    ) -> Vec<f32> {
        let mut random = Random::new(seed);
        let centres: Vec<Vec<f32>> = (0..groups)
            .map(|_| (0..dimension).map(|_| random.normal() as f32).collect())
            .collect();
        let mut values = Vec::with_capacity(groups * per_group * dimension);
        for index in 0..groups * per_group {
            let centre = &centres[index % groups];
            values.extend(centre.iter().map(|&c| c + 0.3 * random.normal() as f32));
        }
        dense::normalise_rows(&mut values, dimension);
        values
    }

    #[test]
    fn recovers_well_separated_groups() {
        let embeddings = clustered_embeddings(4, 60, 16, 1);
        let clustering = cluster(&embeddings, 16, None, &ClusterSettings::default());
        let truth: Vec<usize> = (0..240).map(|index| index % 4).collect();
        let found: Vec<i64> = clustering
            .labels
            .iter()
            .map(|l| l.map_or(-1, i64::from))
            .collect();
        assert!(
            metrics::adjusted_rand_index(&truth, &found) > 0.95,
            "{clustering:?}"
        );
        assert_eq!(clustering.cluster_count, 4);
        assert_eq!(clustering.centroids.len(), 4 * 16);
    }

    #[test]
    fn equal_seeds_give_equal_results() {
        let embeddings = clustered_embeddings(5, 50, 8, 2);
        let settings = ClusterSettings::default();
        assert_eq!(
            cluster(&embeddings, 8, None, &settings),
            cluster(&embeddings, 8, None, &settings)
        );
    }

    #[test]
    fn density_method_finds_the_groups_too() {
        let embeddings = clustered_embeddings(3, 40, 8, 3);
        let settings = ClusterSettings {
            method: ClusterMethod::Density,
            embedding_dimensions: 4,
            ..ClusterSettings::default()
        };
        let clustering = cluster(&embeddings, 8, None, &settings);
        assert_eq!(clustering.cluster_count, 3);
    }

    #[test]
    fn empty_input_gives_empty_output() {
        let clustering = cluster(&[], 384, None, &ClusterSettings::default());
        assert!(clustering.labels.is_empty());
        assert_eq!(clustering.cluster_count, 0);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(24))]
            #[test]
            fn one_label_per_input_row(rows in 0usize..80, dimension in 1usize..12, seed in 0u64..1000) {
                let mut random = Random::new(seed);
                let mut embeddings: Vec<f32> = (0..rows * dimension).map(|_| random.normal() as f32).collect();
                dense::normalise_rows(&mut embeddings, dimension);
                let clustering = cluster(&embeddings, dimension, None, &ClusterSettings { seed, ..ClusterSettings::default() });
                prop_assert_eq!(clustering.labels.len(), rows);
                prop_assert!(clustering.labels.iter().flatten().all(|&l| (l as usize) < clustering.cluster_count));
                prop_assert!((0.0..=1.0).contains(&clustering.unassigned_share));
            }
        }
    }
}
