//! Matching this period's clusters to the previous period's, so cluster ids
//! stay stable across runs.
//!
//! Goes in: the previous clusters' ids and centroids and the current
//! centroids (unit vectors in the same embedding space). Comes out: for each
//! current cluster the previous id it continues (one-to-one, greedily by
//! descending cosine similarity above a threshold), plus the merges (several
//! previous clusters strongly similar to one current cluster) and splits
//! (one previous cluster strongly similar to several current ones), and the
//! previous ids that found no successor.

use crate::cluster::dense::dot;

/// A cluster from an earlier period.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedCluster {
    /// Its stable id.
    pub id: u32,
    /// Its unit-length centroid in embedding space.
    pub centroid: Vec<f32>,
}

/// Similarity thresholds for matching.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackingSettings {
    /// Minimum centroid cosine similarity for a one-to-one match.
    pub match_threshold: f32,
    /// Minimum similarity for a non-matched pair to count towards a merge or split.
    pub related_threshold: f32,
}

impl Default for TrackingSettings {
    fn default() -> Self {
        Self {
            match_threshold: 0.85,
            related_threshold: 0.85,
        }
    }
}

/// Several previous clusters that now form one current cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Merge {
    /// Index of the current cluster.
    pub current: usize,
    /// Ids of the previous clusters it absorbed, most similar first.
    pub previous: Vec<u32>,
}

/// One previous cluster that now appears as several current clusters.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Id of the previous cluster.
    pub previous: u32,
    /// Indices of the current clusters it became, most similar first.
    pub current: Vec<usize>,
}

/// The outcome of matching one period against the previous one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterMatching {
    /// Per current cluster: the previous id it continues, if any.
    pub assignments: Vec<Option<u32>>,
    /// Similarity of each assignment (0 when unmatched).
    pub similarities: Vec<f32>,
    /// Merges detected.
    pub merges: Vec<Merge>,
    /// Splits detected.
    pub splits: Vec<Split>,
    /// Previous ids with no current successor.
    pub gone: Vec<u32>,
}

/// Matches `current` centroids (`clusters x dimension`, row-major) to `previous`.
pub fn match_clusters(
    previous: &[TrackedCluster],
    current: &[f32],
    dimension: usize,
    settings: &TrackingSettings,
) -> ClusterMatching {
    let current_count = current.len().checked_div(dimension).unwrap_or(0);
    let similarity = |p: usize, c: usize| {
        dot(
            &previous[p].centroid,
            &current[c * dimension..(c + 1) * dimension],
        )
    };
    let mut pairs: Vec<(f32, usize, usize)> = (0..previous.len())
        .flat_map(|p| (0..current_count).map(move |c| (p, c)))
        .map(|(p, c)| (similarity(p, c), p, c))
        .collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut matching = ClusterMatching {
        assignments: vec![None; current_count],
        similarities: vec![0.0; current_count],
        ..ClusterMatching::default()
    };
    let mut previous_taken = vec![false; previous.len()];
    for &(value, p, c) in pairs
        .iter()
        .filter(|pair| pair.0 >= settings.match_threshold)
    {
        if !previous_taken[p] && matching.assignments[c].is_none() {
            previous_taken[p] = true;
            matching.assignments[c] = Some(previous[p].id);
            matching.similarities[c] = value;
        }
    }
    let related: Vec<(f32, usize, usize)> = pairs
        .into_iter()
        .filter(|pair| pair.0 >= settings.related_threshold)
        .collect();
    matching.merges = find_merges(previous, &related, current_count);
    matching.splits = find_splits(previous, &related);
    matching.gone = previous
        .iter()
        .zip(&previous_taken)
        .filter(|(_, &taken)| !taken)
        .map(|(cluster, _)| cluster.id)
        .collect();
    matching
}

fn find_merges(
    previous: &[TrackedCluster],
    related: &[(f32, usize, usize)],
    current_count: usize,
) -> Vec<Merge> {
    (0..current_count)
        .filter_map(|c| {
            let sources: Vec<u32> = related
                .iter()
                .filter(|pair| pair.2 == c)
                .map(|pair| previous[pair.1].id)
                .collect();
            (sources.len() >= 2).then_some(Merge {
                current: c,
                previous: sources,
            })
        })
        .collect()
}

fn find_splits(previous: &[TrackedCluster], related: &[(f32, usize, usize)]) -> Vec<Split> {
    (0..previous.len())
        .filter_map(|p| {
            let targets: Vec<usize> = related
                .iter()
                .filter(|pair| pair.1 == p)
                .map(|pair| pair.2)
                .collect();
            (targets.len() >= 2).then_some(Split {
                previous: previous[p].id,
                current: targets,
            })
        })
        .collect()
}

/// Final ids: matched clusters keep their previous id, the others get fresh
/// ids counting up from `next_id`.
pub fn assign_ids(matching: &ClusterMatching, next_id: u32) -> Vec<u32> {
    let mut next = next_id;
    matching
        .assignments
        .iter()
        .map(|assignment| {
            assignment.unwrap_or_else(|| {
                next += 1;
                next - 1
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracked(id: u32, centroid: &[f32]) -> TrackedCluster {
        TrackedCluster {
            id,
            centroid: centroid.to_vec(),
        }
    }

    fn unit(angle_degrees: f32) -> [f32; 2] {
        let radians = angle_degrees.to_radians();
        [radians.cos(), radians.sin()]
    }

    #[test]
    fn matches_one_to_one_and_reports_new_and_gone() {
        let previous = vec![
            tracked(7, &unit(0.0)),
            tracked(9, &unit(90.0)),
            tracked(11, &unit(200.0)),
        ];
        let current: Vec<f32> = [unit(85.0), unit(5.0), unit(135.0)].concat();
        let matching = match_clusters(&previous, &current, 2, &TrackingSettings::default());
        assert_eq!(matching.assignments, vec![Some(9), Some(7), None]);
        assert_eq!(matching.gone, vec![11]);
        assert_eq!(assign_ids(&matching, 12), vec![9, 7, 12]);
    }

    #[test]
    fn detects_merges_and_splits() {
        // Two previous clusters 20 degrees apart now one cluster in between.
        let previous = vec![tracked(1, &unit(0.0)), tracked(2, &unit(20.0))];
        let merged = match_clusters(&previous, &unit(10.0), 2, &TrackingSettings::default());
        assert_eq!(merged.assignments.iter().flatten().count(), 1);
        assert_eq!(
            merged.merges,
            vec![Merge {
                current: 0,
                previous: vec![1, 2]
            }]
        );
        // One previous cluster now two current ones on either side.
        let single = vec![tracked(5, &unit(45.0))];
        let current: Vec<f32> = [unit(35.0), unit(56.0)].concat();
        let split = match_clusters(&single, &current, 2, &TrackingSettings::default());
        assert_eq!(
            split.splits,
            vec![Split {
                previous: 5,
                current: vec![0, 1]
            }]
        );
        assert_eq!(split.assignments, vec![Some(5), None]);
    }

    #[test]
    fn nothing_matches_below_the_threshold() {
        let previous = vec![tracked(1, &unit(0.0))];
        let matching = match_clusters(&previous, &unit(60.0), 2, &TrackingSettings::default());
        assert_eq!(matching.assignments, vec![None]);
        assert_eq!(matching.gone, vec![1]);
    }
}
