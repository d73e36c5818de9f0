//! Centroids, and a second chance for documents no cluster took.
//!
//! Goes in: unit-length feature rows and labels with `None` for outliers.
//! Comes out: the same labels with every outlier that sits close enough to
//! some cluster centroid moved into that cluster. "Close enough" is
//! calibrated on the data: an outlier joins a cluster when it is at least as
//! similar to the centroid as the least typical members already are (a low
//! quantile of member-to-own-centroid cosine similarity), so the threshold
//! adapts to how tight the clusters of this corpus are.

use crate::cluster::dense::{dot, normalise_rows};

/// Unit-length mean of the rows in each cluster, `clusters x width`.
pub fn centroids(
    values: &[f32],
    width: usize,
    labels: &[Option<u32>],
    clusters: usize,
) -> Vec<f32> {
    let mut sums = vec![0.0f32; clusters * width];
    for (row, label) in values.chunks_exact(width).zip(labels) {
        if let Some(cluster) = label {
            let target = &mut sums[*cluster as usize * width..(*cluster as usize + 1) * width];
            target
                .iter_mut()
                .zip(row)
                .for_each(|(sum, &value)| *sum += value);
        }
    }
    normalise_rows(&mut sums, width);
    sums
}

/// The `quantile` (0..1) of member-to-own-centroid cosine similarity over
/// all assigned rows; `None` when no row is assigned.
pub fn calibrated_threshold(
    values: &[f32],
    width: usize,
    labels: &[Option<u32>],
    centroids: &[f32],
    quantile: f32,
) -> Option<f32> {
    let mut similarities: Vec<f32> = values
        .chunks_exact(width)
        .zip(labels)
        .filter_map(|(row, label)| label.map(|cluster| (row, cluster as usize)))
        .map(|(row, cluster)| dot(row, &centroids[cluster * width..(cluster + 1) * width]))
        .collect();
    if similarities.is_empty() {
        return None;
    }
    similarities.sort_by(f32::total_cmp);
    let position = ((similarities.len() - 1) as f32 * quantile.clamp(0.0, 1.0)).round() as usize;
    Some(similarities[position])
}

/// The most similar centroid to `row` and its cosine similarity.
pub fn nearest_centroid(row: &[f32], centroids: &[f32], width: usize) -> Option<(u32, f32)> {
    centroids
        .chunks_exact(width)
        .enumerate()
        .map(|(cluster, centroid)| (cluster as u32, dot(row, centroid)))
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
}

/// Moves every outlier whose nearest centroid is at least `threshold`
/// similar into that cluster. Centroids are not updated while doing so, so
/// the result does not depend on the order of the rows.
pub fn reassign_outliers(
    values: &[f32],
    width: usize,
    labels: &mut [Option<u32>],
    centroids: &[f32],
    threshold: f32,
) {
    for (row, label) in values.chunks_exact(width).zip(labels.iter_mut()) {
        if label.is_none() {
            if let Some((cluster, similarity)) = nearest_centroid(row, centroids, width) {
                if similarity >= threshold {
                    *label = Some(cluster);
                }
            }
        }
    }
}

/// Share of rows left without a cluster.
pub fn unassigned_share(labels: &[Option<u32>]) -> f64 {
    if labels.is_empty() {
        return 0.0;
    }
    labels.iter().filter(|label| label.is_none()).count() as f64 / labels.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centroids_are_unit_means() {
        let values = [1.0, 0.0, 0.0, 1.0, -1.0, 0.0];
        let labels = [Some(0), Some(0), None];
        let centres = centroids(&values, 2, &labels, 1);
        let half = 0.5f32.sqrt();
        assert!((centres[0] - half).abs() < 1e-6 && (centres[1] - half).abs() < 1e-6);
    }

    #[test]
    fn only_close_outliers_are_reassigned() {
        let values = [1.0, 0.0, 0.0, 1.0, 0.9, 0.436, -1.0, 0.0];
        let mut labels = [Some(0), Some(1), None, None];
        let centres = centroids(&values, 2, &labels, 2);
        reassign_outliers(&values, 2, &mut labels, &centres, 0.5);
        assert_eq!(labels, [Some(0), Some(1), Some(0), None]);
        assert_eq!(unassigned_share(&labels), 0.25);
    }

    #[test]
    fn threshold_is_a_quantile_of_member_similarities() {
        let values = [1.0, 0.0, 0.8, 0.6, 0.6, 0.8];
        let labels = [Some(0), Some(0), Some(0)];
        let centres = centroids(&values, 2, &labels, 1);
        let lowest = calibrated_threshold(&values, 2, &labels, &centres, 0.0).unwrap();
        let highest = calibrated_threshold(&values, 2, &labels, &centres, 1.0).unwrap();
        assert!(lowest < highest);
        assert!(calibrated_threshold(&values, 2, &[None, None, None], &centres, 0.5).is_none());
    }
}
