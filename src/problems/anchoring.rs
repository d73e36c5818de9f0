//! A new period starts from the previous period's problems instead of clustering the whole
//! archive again: a unit that was in a problem last period stays in it (the history keeps each
//! unit's problem, [`super::history::PeriodEntry::units`]), every other unit within a previous
//! problem's radius of its centroid is assigned to the most similar such problem, and those
//! problems keep their ids; only the units that fit none are clustered,
//! and a new cluster whose centroid is as close to a previous problem as a match would be is
//! folded into it. Problems therefore never merge or split silently from one month to the next,
//! and a few new or moved documents cannot renumber last month's problems (the usual way to keep
//! topics and their ids across periods; re-clustering everything let 10% new documents merge two
//! large problems and dissolve nine).
//!
//! A problem's radius is the similarity to its centroid that all but [`RADIUS_QUANTILE`] of its
//! member units reach, recorded with its centroid in the cluster history. Problems recorded
//! without one (before units) are not anchors; their period is matched by centroids as before.

use crate::cluster::communities::number_by_size;
use crate::cluster::dense::dot;
use crate::cluster::outliers::{centroids, unassigned_share};
use crate::cluster::Clustering;

use super::history::{problem_number, PeriodEntry};

/// Share of a problem's member units allowed outside its radius.
pub const RADIUS_QUANTILE: f32 = 0.05;

/// A previous problem, in one embedding space.
#[derive(Debug, Clone, PartialEq)]
pub struct Anchor {
    /// Its problem number.
    pub number: u32,
    /// Its unit-length centroid in the space (one block of the tracked centroid).
    pub centroid: Vec<f32>,
    /// The similarity to `centroid` a unit needs to join it.
    pub radius: f32,
}

/// The previous entry's problems of space `space` that can anchor units: those with a radius
/// and a centroid `SPACES` blocks of `dimension` wide whose block `space` is filled.
pub fn anchors_of(previous: Option<&PeriodEntry>, dimension: usize, space: usize) -> Vec<Anchor> {
    let Some(previous) = previous else {
        return Vec::new();
    };
    previous
        .problems
        .iter()
        .filter(|tracked| tracked.centroid.len() == dimension * super::SPACES && dimension > 0)
        .filter_map(|tracked| {
            let radius = tracked.radius?;
            let block = &tracked.centroid[space * dimension..(space + 1) * dimension];
            if block.iter().all(|&value| value == 0.0) {
                return None;
            }
            Some(Anchor {
                number: problem_number(&tracked.problem.id)?,
                centroid: block.to_vec(),
                radius,
            })
        })
        .collect()
}

/// The radius of a problem whose member units have `similarities` to its centroid.
pub fn radius(similarities: &[f32]) -> Option<f32> {
    if similarities.is_empty() {
        return None;
    }
    let mut sorted = similarities.to_vec();
    sorted.sort_by(f32::total_cmp);
    let position = ((sorted.len() - 1) as f32 * RADIUS_QUANTILE).floor() as usize;
    Some(sorted[position])
}

/// Per row of `embeddings` (`dimension` wide): the position in `anchors` of the problem the row
/// was in last period (`previous[row]`, a problem number) when that problem is an anchor, else
/// of the most similar anchor whose radius it is within, if any (ties: the earlier anchor).
pub fn anchor_rows(
    embeddings: &[f32],
    dimension: usize,
    anchors: &[Anchor],
    previous: &[Option<u32>],
) -> Vec<Option<usize>> {
    embeddings
        .chunks_exact(dimension.max(1))
        .zip(previous)
        .map(|(row, previous)| {
            if let Some(position) = previous
                .and_then(|number| anchors.iter().position(|anchor| anchor.number == number))
            {
                return Some(position);
            }
            let mut best: Option<(usize, f32)> = None;
            for (position, anchor) in anchors.iter().enumerate() {
                let similarity = dot(row, &anchor.centroid);
                if similarity >= anchor.radius && best.is_none_or(|(_, top)| similarity > top) {
                    best = Some((position, similarity));
                }
            }
            best.map(|(position, _)| position)
        })
        .collect()
}

/// One clustering of all rows from the anchored rows and a clustering of the rest (`rest_rows`
/// are the rows `rest` labels, in its order): first the anchors that hold rows, in anchor order,
/// then the new clusters by size, a new cluster whose centroid reaches `absorb` similarity to an
/// anchor folded into the most similar one. Returns it with, per cluster, the problem number it
/// continues.
pub fn combine(
    anchored: &[Option<usize>],
    rest_rows: &[usize],
    rest: Clustering,
    embeddings: &[f32],
    dimension: usize,
    anchors: &[Anchor],
    absorb: f32,
) -> (Clustering, Vec<Option<u32>>) {
    let rest_centroids = &rest.centroids;
    let folded: Vec<Option<usize>> = (0..rest.cluster_count)
        .map(|cluster| {
            let centroid = &rest_centroids[cluster * dimension..(cluster + 1) * dimension];
            anchors
                .iter()
                .enumerate()
                .map(|(position, anchor)| (position, dot(centroid, &anchor.centroid)))
                .filter(|&(_, similarity)| similarity >= absorb)
                .fold(
                    None,
                    |best: Option<(usize, f32)>, (position, similarity)| match best {
                        Some((_, top)) if top >= similarity => best,
                        _ => Some((position, similarity)),
                    },
                )
                .map(|(position, _)| position)
        })
        .collect();
    // Every row's anchor (directly or through its folded cluster) or new cluster.
    enum Owner {
        Anchor(usize),
        New(u32),
    }
    let mut owners: Vec<Option<Owner>> = anchored
        .iter()
        .map(|anchor| anchor.map(Owner::Anchor))
        .collect();
    for (&row, label) in rest_rows.iter().zip(&rest.labels) {
        owners[row] = label.map(|cluster| match folded[cluster as usize] {
            Some(anchor) => Owner::Anchor(anchor),
            None => Owner::New(cluster),
        });
    }
    let mut used = vec![false; anchors.len()];
    for owner in owners.iter().flatten() {
        if let Owner::Anchor(anchor) = owner {
            used[*anchor] = true;
        }
    }
    let anchor_label: Vec<Option<u32>> = {
        let mut next = 0u32;
        used.iter()
            .map(|&used| {
                used.then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect()
    };
    let continued = anchor_label.iter().flatten().count() as u32;
    let new_labels: Vec<u32> = owners
        .iter()
        .flatten()
        .filter_map(|owner| match owner {
            Owner::New(cluster) => Some(*cluster),
            Owner::Anchor(_) => None,
        })
        .collect();
    let mut ranked = number_by_size(&new_labels).into_iter();
    let labels: Vec<Option<u32>> = owners
        .iter()
        .map(|owner| match owner {
            Some(Owner::Anchor(anchor)) => anchor_label[*anchor],
            Some(Owner::New(_)) => ranked.next().map(|label| label + continued),
            None => None,
        })
        .collect();
    let new_count = new_labels
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let cluster_count = continued as usize + new_count;
    let mut continues: Vec<Option<u32>> = anchors
        .iter()
        .zip(&used)
        .filter(|(_, &used)| used)
        .map(|(anchor, _)| Some(anchor.number))
        .collect();
    continues.resize(cluster_count, None);
    let clustering = Clustering {
        centroids: centroids(embeddings, dimension, &labels, cluster_count),
        unassigned_share: unassigned_share(&labels),
        labels,
        cluster_count,
        resolution: rest.resolution,
        reassign_threshold: rest.reassign_threshold,
        resolution_trials: rest.resolution_trials,
    };
    (clustering, continues)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::{Problem, ProblemStatus};
    use crate::problems::history::TrackedProblem;

    fn problem(id: &str) -> Problem {
        Problem {
            id: id.into(),
            title: String::new(),
            statement: String::new(),
            keywords: Vec::new(),
            quotes: Vec::new(),
            size: 1,
            units: 1,
            negative_share: 1.0,
            counts: Default::default(),
            status: ProblemStatus::New,
            spike: false,
            impact: 0.0,
            customer_value: None,
            topic: None,
            team: String::new(),
            route_rule: String::new(),
            route_reason: String::new(),
            merged_from: Vec::new(),
            split_from: None,
            parent: None,
        }
    }

    fn anchor(number: u32, centroid: [f32; 2], radius: f32) -> Anchor {
        Anchor {
            number,
            centroid: centroid.to_vec(),
            radius,
        }
    }

    fn clustering(labels: Vec<Option<u32>>, count: usize, centroids: Vec<f32>) -> Clustering {
        Clustering {
            labels,
            cluster_count: count,
            centroids,
            unassigned_share: 0.0,
            resolution: None,
            reassign_threshold: None,
            resolution_trials: Vec::new(),
        }
    }

    #[test]
    fn a_unit_joins_the_most_similar_anchor_whose_radius_it_is_within() {
        let anchors = [anchor(7, [1.0, 0.0], 0.9), anchor(3, [0.0, 1.0], 0.99)];
        // (0.96, 0.28): within the first; (0.6, 0.8): outside both radii.
        let rows = [0.96, 0.28, 0.0, 1.0, 0.6, 0.8];
        assert_eq!(
            anchor_rows(&rows, 2, &anchors, &[None; 3]),
            vec![Some(0), Some(1), None]
        );
        // A unit stays in the problem it was in, if that problem still anchors; an unknown
        // number falls back to similarity.
        assert_eq!(
            anchor_rows(&rows, 2, &anchors, &[Some(3), None, Some(8)]),
            vec![Some(1), Some(1), None]
        );
    }

    #[test]
    fn the_radius_leaves_out_the_least_similar_members_only() {
        let mut similarities: Vec<f32> = (0..100).map(|i| i as f32 / 100.0).collect();
        similarities.reverse();
        assert_eq!(radius(&similarities), Some(0.04));
        assert_eq!(radius(&[0.5]), Some(0.5));
        assert_eq!(radius(&[]), None);
    }

    #[test]
    fn anchors_keep_their_numbers_and_new_clusters_follow_or_fold_into_them() {
        let anchors = [
            anchor(12, [1.0, 0.0], 0.9),
            anchor(4, [0.0, 1.0], 0.9),
            anchor(9, [-1.0, 0.0], 0.9),
        ];
        // Rows 0-1 anchored to P12; rows 2-5 clustered: cluster 0 (rows 2, 3) near P4 is
        // folded into it, cluster 1 (rows 4, 5) near (0.7, -0.7) is new; P9 receives nothing.
        let embeddings = [
            1.0, 0.0, 0.99, 0.14, 0.2, 0.98, 0.14, 0.99, 0.7, -0.7, 0.71, -0.71,
        ];
        let anchored = [Some(0), Some(0), None, None, None, None];
        let rest = clustering(
            vec![Some(0), Some(0), Some(1), Some(1)],
            2,
            vec![0.17, 0.985, 0.705, -0.705],
        );
        let (combined, continues) = combine(
            &anchored,
            &[2, 3, 4, 5],
            rest,
            &embeddings,
            2,
            &anchors,
            0.85,
        );
        assert_eq!(combined.cluster_count, 3);
        assert_eq!(continues, vec![Some(12), Some(4), None]);
        assert_eq!(
            combined.labels,
            vec![Some(0), Some(0), Some(1), Some(1), Some(2), Some(2)]
        );
        assert_eq!(combined.centroids.len(), 6);
    }

    #[test]
    fn only_problems_recorded_with_a_radius_and_a_filled_block_anchor() {
        let tracked = |id: &str, centroid: Vec<f32>, radius: Option<f32>| TrackedProblem {
            problem: problem(id),
            centroid,
            radius,
        };
        let entry = PeriodEntry {
            units: Default::default(),
            period: "2026-10".into(),
            run: "r".into(),
            model: "m".into(),
            index_documents: 0,
            problems: vec![
                tracked("P0001", vec![1.0, 0.0, 0.0, 0.0], Some(0.8)),
                tracked("P0002", vec![0.0, 0.0, 0.0, 1.0], Some(0.7)),
                tracked("P0003", vec![1.0, 0.0, 0.0, 0.0], None),
                tracked("P0004", vec![1.0, 0.0], Some(0.8)),
            ],
        };
        let first = anchors_of(Some(&entry), 2, 0);
        assert_eq!(first, vec![anchor(1, [1.0, 0.0], 0.8)]);
        let second = anchors_of(Some(&entry), 2, 1);
        assert_eq!(second, vec![anchor(2, [0.0, 1.0], 0.7)]);
        assert!(anchors_of(None, 2, 0).is_empty());
    }
}
