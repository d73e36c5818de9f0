//! Splitting clusters too broad to be one problem. On a corpus that mixes businesses (airline
//! tweets, hotel reviews, bank complaints), the most stable partition is by business, and
//! "everything airline customers complain about" is not a problem one team can fix. A cluster
//! holding more than a set share of the documents is clustered again on its own, with the same
//! method and settings; its most stable sub-partition replaces it when it has at least two parts.
//! One level only: the sub-clusters are not split again.

use crate::cluster::{cluster_once, ClusterSettings, Clustering, SparseRows};

/// Replaces every broad cluster of `clustering` by its sub-clusters. Labels are renumbered by
/// the caller.
pub fn split_broad_clusters(
    embeddings: &[f32],
    dimension: usize,
    keywords: Option<&SparseRows>,
    settings: &ClusterSettings,
    clustering: &mut Clustering,
) {
    let Some(share) = settings.split_share else {
        return;
    };
    let rows = clustering.labels.len();
    let min_size = settings.resolve(rows).density.min_cluster_size;
    let mut next_label = clustering.cluster_count as u32;
    for label in 0..clustering.cluster_count as u32 {
        let members: Vec<usize> = (0..rows)
            .filter(|&row| clustering.labels[row] == Some(label))
            .collect();
        if (members.len() as f64) <= share * rows as f64 || members.len() < 4 * min_size {
            continue;
        }
        let sub_embeddings: Vec<f32> = members
            .iter()
            .flat_map(|&row| {
                embeddings[row * dimension..(row + 1) * dimension]
                    .iter()
                    .copied()
            })
            .collect();
        let sub_keywords = keywords.map(|keywords| keywords.select(&members));
        let sub_settings = ClusterSettings {
            min_cluster_size: Some(min_size),
            split_share: None,
            ..settings.clone()
        };
        let sub = cluster_once(
            &sub_embeddings,
            dimension,
            sub_keywords.as_ref(),
            &sub_settings,
        );
        let stability = sub
            .resolution_trials
            .iter()
            .find(|trial| trial.chosen)
            .map(|trial| trial.stability);
        tracing::debug!(
            members = members.len(),
            parts = sub.cluster_count,
            ?stability,
            "splitting a broad cluster"
        );
        if sub.cluster_count < 2 {
            continue;
        }
        for (&row, sub_label) in members.iter().zip(&sub.labels) {
            clustering.labels[row] = match sub_label {
                Some(0) => Some(label),
                Some(other) => Some(next_label + other - 1),
                None => None,
            };
        }
        next_label += sub.cluster_count as u32 - 1;
    }
    clustering.cluster_count = next_label as usize;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::dense::normalise_rows;
    use crate::cluster::metrics::adjusted_rand_index;
    use crate::cluster::random::Random;
    use crate::cluster::{cluster, cluster_once};

    /// Two far-apart families of documents, each made of two nearer groups.
    fn families(per_group: usize, dimension: usize) -> Vec<f32> {
        let mut random = Random::new(7);
        let mut centre = |scale: f64, base: Option<&[f32]>| -> Vec<f32> {
            (0..dimension)
                .map(|axis| base.map_or(0.0, |base| base[axis]) + (scale * random.normal()) as f32)
                .collect()
        };
        let families: Vec<Vec<f32>> = (0..2).map(|_| centre(3.0, None)).collect();
        let groups: Vec<Vec<f32>> = (0..4)
            .map(|group| centre(1.2, Some(&families[group / 2])))
            .collect();
        let mut values = Vec::new();
        for item in 0..4 * per_group {
            let group = &groups[item % 4];
            values.extend(group.iter().map(|&c| c + 0.25 * random.normal() as f32));
        }
        normalise_rows(&mut values, dimension);
        values
    }

    #[test]
    fn broad_clusters_are_split_into_their_groups() {
        let embeddings = families(60, 16);
        let rows = 240;
        // One cluster per family, as a coarse partition would have it.
        let mut clustering = cluster_once(&embeddings, 16, None, &ClusterSettings::default());
        clustering.labels = (0..rows).map(|row| Some(((row % 4) / 2) as u32)).collect();
        clustering.cluster_count = 2;
        let settings = ClusterSettings {
            split_share: Some(0.3),
            ..ClusterSettings::default()
        };
        split_broad_clusters(&embeddings, 16, None, &settings, &mut clustering);
        assert_eq!(clustering.cluster_count, 4);
        let truth: Vec<usize> = (0..rows).map(|row| row % 4).collect();
        let found: Vec<i64> = clustering
            .labels
            .iter()
            .map(|label| label.map_or(-1, i64::from))
            .collect();
        assert!(adjusted_rand_index(&truth, &found) > 0.95, "{found:?}");
    }

    #[test]
    fn nothing_is_split_without_a_share() {
        let embeddings = families(30, 8);
        let settings = ClusterSettings::default();
        assert_eq!(
            cluster(&embeddings, 8, None, &settings),
            cluster_once(&embeddings, 8, None, &settings)
        );
    }
}
