//! k-means, the baseline a clustering is measured against.
//!
//! Goes in: a row-major `rows x dimension` matrix of points, the number of
//! clusters `k` and a seed. Comes out: one cluster in `0..k` per row. The
//! evaluation runs it at the true number of classes to show what a method
//! told the answer's size achieves, so it is the textbook algorithm, kept
//! plain: k-means++ seeding, Lloyd iterations until no label changes (at most
//! 100), the best of 10 restarts by inertia (the sum of squared distances to
//! the assigned centres). A cluster that empties out is re-seeded with the
//! point farthest from its centre. Only the assignment step (rows x k
//! distances) runs in parallel, and each row's nearest centre does not depend
//! on the thread that finds it, so the labels are fixed by the seed.

use crate::cluster::random::Random;
use rayon::prelude::*;

/// Independent k-means++ starts; the one with the lowest inertia wins.
const RESTARTS: usize = 10;

/// Lloyd iterations per start, in case labels keep trading places between tied centres.
const MAX_ITERATIONS: usize = 100;

/// Every row's nearest centre and its squared distance to it.
#[derive(Debug, Clone, PartialEq)]
struct Assignment {
    labels: Vec<u32>,
    distances: Vec<f32>,
}

impl Assignment {
    fn inertia(&self) -> f64 {
        self.distances
            .iter()
            .map(|&distance| f64::from(distance))
            .sum()
    }
}

/// k-means labels, in `0..k`, for the rows of `points` (`rows x dimension`, row-major; a
/// trailing partial row is ignored).
///
/// Deterministic for equal inputs and `seed`. With `k` at least the number of rows, every row
/// is its own cluster (labels `0..rows`). No rows give no labels.
///
/// # Panics
///
/// When `k` is zero and there are rows to label.
pub fn kmeans(points: &[f32], dimension: usize, k: usize, seed: u64) -> Vec<u32> {
    let rows = points.len().checked_div(dimension).unwrap_or(0);
    if rows == 0 {
        return Vec::new();
    }
    assert!(k > 0, "k-means needs at least one cluster for {rows} rows");
    if k >= rows {
        return (0..rows as u32).collect();
    }
    let points = &points[..rows * dimension];
    let mut random = Random::new(seed);
    let mut best: Option<(f64, Assignment)> = None;
    for _ in 0..RESTARTS {
        let assignment = lloyd(points, dimension, k, &mut random.fork());
        let inertia = assignment.inertia();
        if best.as_ref().is_none_or(|(lowest, _)| inertia < *lowest) {
            best = Some((inertia, assignment));
        }
    }
    best.map(|(_, assignment)| assignment.labels)
        .unwrap_or_default()
}

/// One start: k-means++ centres, then assignment and mean updates until the labels settle.
fn lloyd(points: &[f32], dimension: usize, k: usize, random: &mut Random) -> Assignment {
    let centres = seed_centres(points, dimension, k, random);
    let mut assignment = assign(points, dimension, &centres);
    for _ in 0..MAX_ITERATIONS {
        reseed_empty_clusters(&mut assignment, k);
        let centres = means(points, dimension, &assignment.labels, k);
        let next = assign(points, dimension, &centres);
        let settled = next.labels == assignment.labels;
        assignment = next;
        if settled {
            break;
        }
    }
    assignment
}

/// k-means++ (Arthur and Vassilvitskii, 2007): the first centre is a uniform row, each next
/// one a row drawn with probability proportional to its squared distance to the nearest
/// centre so far. Returns `k x dimension` centres.
fn seed_centres(points: &[f32], dimension: usize, k: usize, random: &mut Random) -> Vec<f32> {
    let rows = points.len() / dimension;
    let first = row(points, dimension, random.below(rows));
    let mut centres = first.to_vec();
    let mut nearest = squared_distances_to(points, dimension, first);
    while centres.len() < k * dimension {
        let centre = row(points, dimension, sample_by_weight(&nearest, random));
        let distances = squared_distances_to(points, dimension, centre);
        nearest
            .iter_mut()
            .zip(distances)
            .for_each(|(nearest, distance)| *nearest = nearest.min(distance));
        centres.extend_from_slice(centre);
    }
    centres
}

/// An index drawn with probability proportional to its weight; uniform when every weight is
/// zero (all points sit on a centre already, so any choice is as good).
fn sample_by_weight(weights: &[f32], random: &mut Random) -> usize {
    let total: f64 = weights.iter().map(|&weight| f64::from(weight)).sum();
    if total <= 0.0 {
        return random.below(weights.len());
    }
    let mut remaining = random.unit() * total;
    for (index, &weight) in weights.iter().enumerate() {
        remaining -= f64::from(weight);
        if remaining < 0.0 {
            return index;
        }
    }
    // Rounding left the draw a sliver past the end: the last index with any weight.
    weights
        .iter()
        .rposition(|&weight| weight > 0.0)
        .unwrap_or(0)
}

fn row(points: &[f32], dimension: usize, index: usize) -> &[f32] {
    &points[index * dimension..(index + 1) * dimension]
}

fn squared_distances_to(points: &[f32], dimension: usize, centre: &[f32]) -> Vec<f32> {
    points
        .par_chunks_exact(dimension)
        .map(|point| squared_distance(point, centre))
        .collect()
}

/// Squared Euclidean distance, accumulated in eight lanes so the compiler can vectorise it
/// (as [`crate::cluster::dense::dot`]).
fn squared_distance(first: &[f32], second: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = first.len() / 8 * 8;
    for (a, b) in first[..chunks]
        .chunks_exact(8)
        .zip(second[..chunks].chunks_exact(8))
    {
        for lane in 0..8 {
            let difference = a[lane] - b[lane];
            lanes[lane] += difference * difference;
        }
    }
    let tail: f32 = first[chunks..]
        .iter()
        .zip(&second[chunks..])
        .map(|(a, b)| (a - b) * (a - b))
        .sum();
    lanes.iter().sum::<f32>() + tail
}

/// Each row's nearest centre (the lowest index among equally near ones), in parallel.
fn assign(points: &[f32], dimension: usize, centres: &[f32]) -> Assignment {
    let (labels, distances) = points
        .par_chunks_exact(dimension)
        .map(|point| nearest_centre(point, centres, dimension))
        .collect::<Vec<_>>()
        .into_iter()
        .unzip();
    Assignment { labels, distances }
}

fn nearest_centre(point: &[f32], centres: &[f32], dimension: usize) -> (u32, f32) {
    let mut nearest = (0, f32::INFINITY);
    for (index, centre) in centres.chunks_exact(dimension).enumerate() {
        let distance = squared_distance(point, centre);
        if distance < nearest.1 {
            nearest = (index as u32, distance);
        }
    }
    nearest
}

/// Gives every empty cluster the point farthest from its centre, taken from a cluster that
/// keeps another member (while there are more rows than clusters there always is one). The
/// moved point becomes that cluster's centre at the next mean update.
fn reseed_empty_clusters(assignment: &mut Assignment, k: usize) {
    let mut sizes = vec![0usize; k];
    for &label in &assignment.labels {
        sizes[label as usize] += 1;
    }
    for cluster in 0..k {
        if sizes[cluster] > 0 {
            continue;
        }
        let Some(farthest) = farthest_movable_row(assignment, &sizes) else {
            return;
        };
        sizes[assignment.labels[farthest] as usize] -= 1;
        sizes[cluster] = 1;
        assignment.labels[farthest] = cluster as u32;
        assignment.distances[farthest] = 0.0;
    }
}

/// The row farthest from its centre (the lowest index among ties) whose cluster has another
/// member.
fn farthest_movable_row(assignment: &Assignment, sizes: &[usize]) -> Option<usize> {
    let mut farthest: Option<(usize, f32)> = None;
    for (index, (&label, &distance)) in assignment
        .labels
        .iter()
        .zip(&assignment.distances)
        .enumerate()
    {
        let movable = sizes[label as usize] > 1;
        if movable && farthest.is_none_or(|(_, largest)| distance > largest) {
            farthest = Some((index, distance));
        }
    }
    farthest.map(|(index, _)| index)
}

/// The mean of each cluster's rows, `k x dimension`, summed in `f64` (an empty cluster's
/// centre is the origin; re-seeding leaves none while rows outnumber clusters).
fn means(points: &[f32], dimension: usize, labels: &[u32], k: usize) -> Vec<f32> {
    let mut sums = vec![0.0f64; k * dimension];
    let mut sizes = vec![0usize; k];
    for (point, &label) in points.chunks_exact(dimension).zip(labels) {
        let cluster = label as usize;
        sizes[cluster] += 1;
        sums[cluster * dimension..(cluster + 1) * dimension]
            .iter_mut()
            .zip(point)
            .for_each(|(sum, &value)| *sum += f64::from(value));
    }
    sums.chunks_exact(dimension)
        .zip(&sizes)
        .flat_map(|(sum, &size)| {
            sum.iter()
                .map(move |&total| (total / size.max(1) as f64) as f32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::metrics::adjusted_rand_index;

    /// `groups` Gaussian blobs of spread 0.2 around centres drawn with spread 10, row `index`
    /// in blob `index % groups`.
    fn blobs(groups: usize, per_group: usize, dimension: usize, seed: u64) -> Vec<f32> {
        let mut random = Random::new(seed);
        let centres: Vec<f64> = (0..groups * dimension)
            .map(|_| 10.0 * random.normal())
            .collect();
        (0..groups * per_group)
            .flat_map(|index| {
                let centre = row_of(&centres, dimension, index % groups).to_vec();
                centre
                    .into_iter()
                    .map(|value| (value + 0.2 * random.normal()) as f32)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn row_of(values: &[f64], dimension: usize, index: usize) -> &[f64] {
        &values[index * dimension..(index + 1) * dimension]
    }

    #[test]
    fn separated_blobs_are_recovered_exactly() {
        for (groups, dimension, seed) in [(3, 2, 1), (5, 8, 2), (9, 16, 3)] {
            let points = blobs(groups, 40, dimension, seed);
            let labels = kmeans(&points, dimension, groups, seed);
            let truth: Vec<usize> = (0..groups * 40).map(|index| index % groups).collect();
            assert_eq!(labels.len(), truth.len());
            assert_eq!(adjusted_rand_index(&truth, &labels), 1.0, "{groups} blobs");
        }
    }

    #[test]
    fn equal_seeds_give_equal_labels() {
        let mut random = Random::new(4);
        let points: Vec<f32> = (0..300 * 5).map(|_| random.normal() as f32).collect();
        let first = kmeans(&points, 5, 7, 11);
        assert_eq!(first, kmeans(&points, 5, 7, 11));
        assert!(first.iter().all(|&label| label < 7));
    }

    #[test]
    fn one_cluster_takes_every_row() {
        let points = blobs(3, 10, 4, 5);
        assert_eq!(kmeans(&points, 4, 1, 0), vec![0; 30]);
    }

    #[test]
    fn k_at_least_the_row_count_gives_every_row_its_own_cluster() {
        let points = [0.0, 0.0, 1.0, 1.0, 0.0, 0.0];
        assert_eq!(kmeans(&points, 2, 3, 0), vec![0, 1, 2]);
        assert_eq!(kmeans(&points, 2, 10, 0), vec![0, 1, 2]);
    }

    #[test]
    fn no_rows_give_no_labels() {
        assert!(kmeans(&[], 3, 4, 0).is_empty());
        assert!(kmeans(&[1.0, 2.0], 3, 4, 0).is_empty());
    }

    #[test]
    fn more_clusters_than_distinct_points_still_label_every_row() {
        // Six rows on two spots, four clusters: seeding runs out of distance to sample by.
        let points = [0.0, 0.0, 0.0, 5.0, 5.0, 5.0];
        let labels = kmeans(&points, 1, 4, 3);
        assert_eq!(labels.len(), 6);
        assert!(labels.iter().all(|&label| label < 4));
        assert_ne!(labels[0], labels[3]);
    }

    #[test]
    fn an_empty_cluster_takes_the_farthest_point_of_a_shared_cluster() {
        let mut assignment = Assignment {
            labels: vec![0, 0, 0, 2],
            distances: vec![1.0, 9.0, 4.0, 16.0],
        };
        reseed_empty_clusters(&mut assignment, 3);
        // Row 3 is farther but alone in cluster 2, so row 1 moves.
        assert_eq!(assignment.labels, vec![0, 1, 0, 2]);
        assert_eq!(assignment.distances[1], 0.0);
    }

    #[test]
    fn means_average_each_cluster() {
        let points = [0.0, 2.0, 4.0, 6.0, 10.0, 10.0];
        let centres = means(&points, 2, &[0, 0, 1], 2);
        assert_eq!(centres, vec![2.0, 4.0, 10.0, 10.0]);
    }

    #[test]
    fn sampling_never_picks_a_zero_weight() {
        let mut random = Random::new(9);
        for _ in 0..1000 {
            let index = sample_by_weight(&[0.0, 1.0, 0.0, 3.0, 0.0], &mut random);
            assert!(index == 1 || index == 3);
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(24))]
            #[test]
            fn one_label_below_k_per_row(rows in 0usize..60, dimension in 1usize..6, k in 1usize..8, seed in 0u64..1000) {
                let mut random = Random::new(seed);
                let points: Vec<f32> = (0..rows * dimension).map(|_| random.normal() as f32).collect();
                let labels = kmeans(&points, dimension, k, seed);
                prop_assert_eq!(labels.len(), rows);
                prop_assert!(labels.iter().all(|&label| (label as usize) < k));
            }
        }
    }
}
