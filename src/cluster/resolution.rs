//! Choosing the Leiden resolution without looking at any labels.
//!
//! Goes in: the neighbour graph, candidate resolutions and a seed. Comes
//! out: a partition at the chosen resolution and a report of every
//! candidate. A resolution is good when the partition it gives is
//! reproducible: for each candidate, Leiden runs with several seeds
//! (different visiting orders), and the candidate whose runs agree best
//! (mean pairwise adjusted Rand index) wins. Candidates that leave fewer
//! than two clusters of the minimum size are skipped, since a single blob is
//! trivially "stable".
//!
//! Running Leiden many times on the full graph would dominate the cost, so
//! the runs work on a coarsened graph: one Leiden run at a high resolution
//! cuts the graph into small, well-connected micro-communities (far smaller
//! than the minimum cluster size), which become the nodes of an aggregated
//! graph with the same modularity arithmetic. Each run's partition is then
//! polished on the full graph by one round of local moves.

use crate::cluster::communities::{leiden, leiden_passes, number_by_size, polish};
use crate::cluster::graph::Graph;
use crate::cluster::metrics::adjusted_rand_index;
use rayon::prelude::*;

/// Leiden passes per run on the coarse graph (a polish follows each run).
const COARSE_PASSES: usize = 2;

/// One candidate's outcome, kept for reporting.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolutionTrial {
    /// The resolution tried.
    pub resolution: f64,
    /// Mean pairwise ARI between the runs (1 = identical partitions).
    pub stability: f64,
    /// Clusters of at least the minimum size in the first run.
    pub clusters: usize,
    /// Whether this candidate was chosen.
    pub chosen: bool,
}

/// How the search runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolutionSearch {
    /// Candidate resolutions (an empty list means 1.0 only).
    pub candidates: Vec<f64>,
    /// Leiden runs (seeds) per candidate.
    pub runs: usize,
    /// Resolution of the micro-communities the runs work on.
    pub micro_resolution: f64,
    /// Smallest group that counts as a cluster.
    pub min_cluster_size: usize,
    /// Base seed.
    pub seed: u64,
}

/// Every run's partition of the full graph's nodes, per candidate.
pub fn trial_partitions(graph: &Graph, search: &ResolutionSearch) -> Vec<Vec<Vec<u32>>> {
    let micro = leiden(graph, search.micro_resolution, search.seed);
    let micro_count = micro.iter().max().map_or(0, |&m| m as usize + 1);
    let coarse = graph.aggregate(&micro, micro_count);
    let candidates = candidates(search);
    let runs = search.runs.max(1);
    let jobs: Vec<(usize, usize)> = (0..candidates.len())
        .flat_map(|candidate| (0..runs).map(move |run| (candidate, run)))
        .collect();
    let partitions: Vec<Vec<u32>> = jobs
        .par_iter()
        .map(|&(candidate, run)| {
            let (resolution, seed) = (candidates[candidate], search.seed.wrapping_add(run as u64));
            let coarse_partition = leiden_passes(&coarse, resolution, seed, COARSE_PASSES);
            let expanded: Vec<u32> = micro
                .iter()
                .map(|&node| coarse_partition[node as usize])
                .collect();
            number_by_size(&polish(graph, &expanded, resolution, seed))
        })
        .collect();
    partitions.chunks(runs).map(<[Vec<u32>]>::to_vec).collect()
}

fn candidates(search: &ResolutionSearch) -> Vec<f64> {
    if search.candidates.is_empty() {
        vec![1.0]
    } else {
        search.candidates.clone()
    }
}

/// The chosen resolution's most typical run (the medoid by ARI), and all
/// trials (the chosen one marked).
pub fn choose_resolution(
    graph: &Graph,
    search: &ResolutionSearch,
) -> (Vec<u32>, Vec<ResolutionTrial>) {
    let partitions = trial_partitions(graph, search);
    let mut trials: Vec<ResolutionTrial> = candidates(search)
        .iter()
        .zip(&partitions)
        .map(|(&resolution, runs)| ResolutionTrial {
            resolution,
            stability: mean_pairwise_agreement(runs),
            clusters: large_clusters(&runs[0], search.min_cluster_size),
            chosen: false,
        })
        .collect();
    let best = pick(&trials);
    trials[best].chosen = true;
    let medoid = medoid(&partitions[best]);
    (partitions[best][medoid].clone(), trials)
}

/// Index of the most stable trial with at least two large clusters (ties:
/// the later, finer one); the finest trial when none qualifies.
pub fn pick(trials: &[ResolutionTrial]) -> usize {
    let mut best: Option<usize> = None;
    for (index, trial) in trials.iter().enumerate() {
        if trial.clusters >= 2 && best.is_none_or(|b| trial.stability >= trials[b].stability) {
            best = Some(index);
        }
    }
    best.unwrap_or(trials.len().saturating_sub(1))
}

/// Index of the run that agrees best on average with the others (the most
/// typical partition at that resolution).
fn medoid(partitions: &[Vec<u32>]) -> usize {
    let count = partitions.len();
    let mut totals = vec![0.0; count];
    for first in 0..count {
        for second in first + 1..count {
            let agreement = adjusted_rand_index(&partitions[first], &partitions[second]);
            totals[first] += agreement;
            totals[second] += agreement;
        }
    }
    (0..count).fold(0, |best, index| {
        if totals[index] > totals[best] {
            index
        } else {
            best
        }
    })
}

/// Mean adjusted Rand index over all pairs of partitions.
pub fn mean_pairwise_agreement(partitions: &[Vec<u32>]) -> f64 {
    let mut total = 0.0;
    let mut pairs = 0;
    for (position, first) in partitions.iter().enumerate() {
        for second in &partitions[position + 1..] {
            total += adjusted_rand_index(first, second);
            pairs += 1;
        }
    }
    if pairs == 0 {
        1.0
    } else {
        total / pairs as f64
    }
}

fn large_clusters(partition: &[u32], min_cluster_size: usize) -> usize {
    let mut sizes = std::collections::HashMap::new();
    partition
        .iter()
        .for_each(|&label| *sizes.entry(label).or_insert(0usize) += 1);
    sizes
        .values()
        .filter(|&&size| size >= min_cluster_size)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(resolution: f64, stability: f64, clusters: usize) -> ResolutionTrial {
        ResolutionTrial {
            resolution,
            stability,
            clusters,
            chosen: false,
        }
    }

    #[test]
    fn picks_the_most_stable_multi_cluster_trial() {
        let trials = [
            trial(0.1, 1.0, 1),
            trial(0.5, 0.8, 4),
            trial(1.0, 0.9, 9),
            trial(2.0, 0.7, 20),
        ];
        assert_eq!(pick(&trials), 2);
        assert_eq!(pick(&[trial(0.1, 1.0, 1)]), 0);
    }

    #[test]
    fn medoid_is_the_most_typical_run() {
        let runs = vec![
            vec![0, 0, 1, 1],
            vec![0, 1, 0, 1],
            vec![0, 0, 1, 1],
            vec![0, 0, 1, 2],
        ];
        assert_eq!(medoid(&runs), 0);
    }

    #[test]
    fn identical_runs_are_perfectly_stable() {
        let runs = vec![vec![0, 0, 1, 1], vec![1, 1, 0, 0], vec![0, 0, 1, 1]];
        assert_eq!(mean_pairwise_agreement(&runs), 1.0);
        assert_eq!(large_clusters(&runs[0], 2), 2);
    }
}
