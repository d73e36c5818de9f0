//! A problem recurs: it is raised by several customers, not by one long review whose clauses
//! are alike because they share its context. Clusters whose units come from fewer than
//! [`MIN_DOCUMENTS`] documents are dissolved, and their units join the nearest remaining
//! cluster; clusters are then numbered by size again.

use crate::cluster::communities::number_by_size;
use crate::cluster::dense::dot;
use crate::cluster::outliers::{centroids, unassigned_share};
use crate::cluster::Clustering;

/// Fewest distinct documents a problem is raised in.
pub const MIN_DOCUMENTS: usize = 3;

/// Dissolves clusters raised in fewer than `min_documents` documents (`documents[row]` is the
/// document of row `row`); `embeddings` are the clustered rows, `dimension` wide.
pub fn keep_recurring(
    mut clustering: Clustering,
    embeddings: &[f32],
    dimension: usize,
    documents: &[usize],
    min_documents: usize,
) -> Clustering {
    let count = clustering.cluster_count;
    let mut raised_in: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (label, &document) in clustering.labels.iter().zip(documents) {
        if let Some(label) = label {
            raised_in[*label as usize].push(document);
        }
    }
    let keep: Vec<bool> = raised_in
        .iter_mut()
        .map(|documents| {
            documents.sort_unstable();
            documents.dedup();
            documents.len() >= min_documents
        })
        .collect();
    if keep.iter().all(|&kept| kept) || !keep.iter().any(|&kept| kept) {
        return clustering;
    }
    let survivors: Vec<Option<u32>> = clustering
        .labels
        .iter()
        .map(|label| label.filter(|&label| keep[label as usize]))
        .collect();
    let survivor_centroids = centroids(embeddings, dimension, &survivors, count);
    let labels: Vec<Option<u32>> = clustering
        .labels
        .iter()
        .zip(&survivors)
        .zip(embeddings.chunks_exact(dimension))
        .map(|((label, survivor), row)| match (label, survivor) {
            (Some(_), None) => nearest_kept(row, &survivor_centroids, dimension, &keep),
            _ => *survivor,
        })
        .collect();
    let assigned: Vec<u32> = labels.iter().flatten().copied().collect();
    let mut ranked = number_by_size(&assigned).into_iter();
    clustering.labels = labels
        .iter()
        .map(|label| label.and_then(|_| ranked.next()))
        .collect();
    clustering.cluster_count = keep.iter().filter(|&&kept| kept).count();
    clustering.centroids = centroids(
        embeddings,
        dimension,
        &clustering.labels,
        clustering.cluster_count,
    );
    clustering.unassigned_share = unassigned_share(&clustering.labels);
    clustering
}

/// The most similar centroid among the kept clusters (ties: the lower index).
fn nearest_kept(row: &[f32], centroids: &[f32], dimension: usize, keep: &[bool]) -> Option<u32> {
    centroids
        .chunks_exact(dimension)
        .enumerate()
        .filter(|(cluster, _)| keep[*cluster])
        .map(|(cluster, centroid)| (cluster, dot(row, centroid)))
        .fold(
            None,
            |best: Option<(usize, f32)>, (cluster, similarity)| match best {
                Some((_, best_similarity)) if best_similarity >= similarity => best,
                _ => Some((cluster, similarity)),
            },
        )
        .map(|(cluster, _)| cluster as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clustering(labels: Vec<Option<u32>>, count: usize) -> Clustering {
        Clustering {
            labels,
            cluster_count: count,
            centroids: Vec::new(),
            unassigned_share: 0.0,
            resolution: None,
            reassign_threshold: None,
            resolution_trials: Vec::new(),
        }
    }

    #[test]
    fn a_cluster_of_one_documents_clauses_joins_its_nearest_recurring_neighbour() {
        // Rows 0-3: four documents near (1, 0); rows 4-6: three clauses of document 9 near
        // (0.8, 0.6); rows 7-9: three documents near (0, 1).
        let embeddings = [
            1.0, 0.0, 0.99, 0.14, 0.98, 0.2, 1.0, 0.0, //
            0.8, 0.6, 0.8, 0.6, 0.8, 0.6, //
            0.0, 1.0, 0.14, 0.99, 0.0, 1.0,
        ];
        let labels = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2].map(Some).to_vec();
        let documents = [0, 1, 2, 3, 9, 9, 9, 4, 5, 6];
        let kept = keep_recurring(clustering(labels, 3), &embeddings, 2, &documents, 3);
        assert_eq!(kept.cluster_count, 2);
        let first = kept.labels[0];
        assert!(kept.labels[..7].iter().all(|&label| label == first));
        assert!(kept.labels[7..]
            .iter()
            .all(|&label| label != first && label.is_some()));
        assert_eq!(kept.centroids.len(), 4);
    }

    #[test]
    fn nothing_changes_when_every_cluster_recurs_or_none_does() {
        let embeddings = [1.0, 0.0, 0.0, 1.0];
        let once = clustering(vec![Some(0), Some(1)], 2);
        assert_eq!(
            keep_recurring(once.clone(), &embeddings, 2, &[0, 1], 3),
            once
        );
        let recurring = clustering(vec![Some(0), Some(0)], 1);
        assert_eq!(
            keep_recurring(recurring.clone(), &embeddings, 2, &[0, 1], 2),
            recurring
        );
    }
}
