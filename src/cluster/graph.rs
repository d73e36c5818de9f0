//! An undirected weighted graph in compressed sparse rows, built from a
//! k-nearest-neighbour list.
//!
//! Community detection works on this graph. Each node also carries a
//! weight (its degree, self-loops included) so that aggregated graphs, whose
//! nodes stand for groups of documents, keep the modularity arithmetic right.

use crate::cluster::neighbours::NeighbourGraph;
use rayon::prelude::*;

/// Undirected weighted graph; every edge is stored in both directions and
/// self-loops are kept only as part of the node weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    offsets: Vec<usize>,
    targets: Vec<u32>,
    weights: Vec<f64>,
    node_weights: Vec<f64>,
    total_weight: f64,
}

impl Graph {
    /// Builds a graph from symmetric adjacency lists: `adjacency[i]` holds
    /// (neighbour, weight) pairs, each edge listed from both ends, and
    /// `self_weights[i]` the weight of node `i`'s self-loop (counted twice in
    /// its degree, as in an adjacency matrix diagonal of 2w).
    pub fn from_adjacency(adjacency: Vec<Vec<(u32, f64)>>, self_weights: &[f64]) -> Graph {
        let mut offsets = vec![0];
        let mut targets = Vec::new();
        let mut weights = Vec::new();
        let mut node_weights = Vec::with_capacity(adjacency.len());
        for (node, edges) in adjacency.into_iter().enumerate() {
            let degree: f64 = edges.iter().map(|&(_, weight)| weight).sum();
            node_weights.push(degree + 2.0 * self_weights.get(node).copied().unwrap_or(0.0));
            for (target, weight) in edges {
                targets.push(target);
                weights.push(weight);
            }
            offsets.push(targets.len());
        }
        let total_weight = node_weights.iter().sum();
        Graph {
            offsets,
            targets,
            weights,
            node_weights,
            total_weight,
        }
    }

    /// The union of several symmetrised k-nearest-neighbour graphs over the
    /// same rows. Within a view, an edge exists wherever either row lists the
    /// other, weighted by the larger of the two listed weights; across views
    /// the weights, each multiplied by its view's scale, are summed.
    pub fn from_views(views: &[ViewEdges<'_>]) -> Graph {
        let rows = views.first().map_or(0, |view| view.neighbours.row_count());
        let mut merged: Vec<(u32, u32, f64)> = Vec::new();
        for view in views {
            merged.extend(symmetric_edges(view));
        }
        // Sorted on the whole edge, so the sums below add in one order.
        merged.par_sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(a.2.total_cmp(&b.2)));
        let mut adjacency: Vec<Vec<(u32, f64)>> = vec![Vec::new(); rows];
        for (source, target, value) in merged {
            let edges = &mut adjacency[source as usize];
            match edges.last_mut() {
                Some(last) if last.0 == target => last.1 += value,
                _ => edges.push((target, value)),
            }
        }
        Graph::from_adjacency(adjacency, &[])
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.node_weights.len()
    }

    /// The (neighbour, weight) edges of one node.
    pub fn edges(&self, node: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let range = self.offsets[node]..self.offsets[node + 1];
        self.targets[range.clone()]
            .iter()
            .zip(&self.weights[range])
            .map(|(&target, &weight)| (target as usize, weight))
    }

    /// A node's weight (its degree, self-loops counted twice).
    pub fn node_weight(&self, node: usize) -> f64 {
        self.node_weights[node]
    }

    /// Sum of all node weights (twice the total edge weight).
    pub fn total_weight(&self) -> f64 {
        self.total_weight
    }

    /// The graph whose nodes are the groups of `membership` (ids `0..groups`):
    /// edge weights between groups are summed and edges inside a group become
    /// that group's self-loop, so node weights are preserved.
    pub fn aggregate(&self, membership: &[u32], groups: usize) -> Graph {
        let mut self_weights = vec![0.0; groups];
        let mut adjacency = Vec::with_capacity(groups);
        let mut sums = vec![0.0f64; groups];
        let mut touched: Vec<u32> = Vec::new();
        for members in members_by_group(membership, groups) {
            let group = membership[members[0] as usize];
            for &node in &members {
                let node = node as usize;
                self_weights[group as usize] +=
                    (self.node_weight(node) - self.edge_sum(node)) / 2.0;
                for (target, weight) in self.edges(node) {
                    let other = membership[target];
                    if other == group {
                        self_weights[group as usize] += weight / 2.0;
                    } else {
                        if sums[other as usize] == 0.0 {
                            touched.push(other);
                        }
                        sums[other as usize] += weight;
                    }
                }
            }
            touched.sort_unstable();
            adjacency.push(
                touched
                    .iter()
                    .map(|&other| (other, sums[other as usize]))
                    .collect(),
            );
            touched.iter().for_each(|&other| sums[other as usize] = 0.0);
            touched.clear();
        }
        Graph::from_adjacency(adjacency, &self_weights)
    }

    fn edge_sum(&self, node: usize) -> f64 {
        self.edges(node).map(|(_, weight)| weight).sum()
    }
}

/// One view's neighbour lists, a weight per (row, slot), and the view's scale.
#[derive(Debug, Clone, Copy)]
pub struct ViewEdges<'a> {
    /// The view's k-nearest-neighbour lists.
    pub neighbours: &'a NeighbourGraph,
    /// Row-major `rows x k` edge weights matching `neighbours.indices`.
    pub weights: &'a [f64],
    /// Multiplier for this view's weights in the union.
    pub scale: f64,
}

/// The view's edges in both directions, one per unordered pair (the larger
/// weight when both rows list each other), scaled.
fn symmetric_edges(view: &ViewEdges<'_>) -> Vec<(u32, u32, f64)> {
    let neighbours = view.neighbours;
    let mut directed: Vec<(u32, u32, f64)> = Vec::with_capacity(2 * neighbours.indices.len());
    for row in 0..neighbours.row_count() {
        for (slot, &other) in neighbours.neighbours(row).0.iter().enumerate() {
            let value = view.weights[row * neighbours.k + slot] * view.scale;
            if value > 0.0 && other as usize != row {
                directed.push((row as u32, other, value));
                directed.push((other, row as u32, value));
            }
        }
    }
    directed.par_sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(b.2.total_cmp(&a.2)));
    directed.dedup_by_key(|edge| (edge.0, edge.1));
    directed
}

/// Node ids grouped by membership, group `g` at position `g` (every group
/// from `0..groups` must be non-empty).
fn members_by_group(membership: &[u32], groups: usize) -> Vec<Vec<u32>> {
    let mut members = vec![Vec::new(); groups];
    for (node, &group) in membership.iter().enumerate() {
        members[group as usize].push(node as u32);
    }
    members
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triangle_and_pair() -> Graph {
        // Nodes 0-1-2 form a triangle, 3-4 a pair, 2-3 a weak bridge.
        let adjacency = vec![
            vec![(1, 1.0), (2, 1.0)],
            vec![(0, 1.0), (2, 1.0)],
            vec![(0, 1.0), (1, 1.0), (3, 0.5)],
            vec![(2, 0.5), (4, 1.0)],
            vec![(3, 1.0)],
        ];
        Graph::from_adjacency(adjacency, &[])
    }

    #[test]
    fn aggregation_preserves_node_and_total_weights() {
        let graph = triangle_and_pair();
        let aggregated = graph.aggregate(&[0, 0, 0, 1, 1], 2);
        assert_eq!(aggregated.node_count(), 2);
        assert!((aggregated.node_weight(0) - 6.5).abs() < 1e-12);
        assert!((aggregated.node_weight(1) - 2.5).abs() < 1e-12);
        assert!((aggregated.total_weight() - graph.total_weight()).abs() < 1e-12);
        assert_eq!(aggregated.edges(0).collect::<Vec<_>>(), vec![(1, 0.5)]);
    }

    #[test]
    fn neighbour_lists_become_symmetric_edges_summed_over_views() {
        let neighbours = NeighbourGraph {
            rows: 3,
            k: 1,
            indices: vec![1, 0, 1],
            similarities: vec![0.9, 0.9, 0.5],
        };
        let weights: Vec<f64> = neighbours.similarities.iter().map(|&s| s as f64).collect();
        let view = ViewEdges {
            neighbours: &neighbours,
            weights: &weights,
            scale: 1.0,
        };
        let graph = Graph::from_views(&[view]);
        assert_eq!(graph.edges(1).count(), 2);
        assert!((graph.total_weight() - 2.0 * (0.9 + 0.5)).abs() < 1e-6);
        let both = Graph::from_views(&[view, ViewEdges { scale: 0.5, ..view }]);
        assert!((both.total_weight() - 1.5 * graph.total_weight()).abs() < 1e-6);
    }
}
