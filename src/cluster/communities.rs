//! Community detection on a weighted graph: the Leiden algorithm
//! (Traag, Waltman & van Eck 2019) maximising modularity with a resolution
//! parameter (the "RB configuration" quality).
//!
//! Goes in: a [`Graph`], a resolution and a seed. Comes out: one community
//! id per node, numbered by decreasing size. Leiden rather than Louvain
//! because its refinement step guarantees connected communities, which
//! matters when small, badly attached groups of documents would otherwise be
//! glued onto a big cluster. The refinement here merges greedily (the
//! deterministic limit of Leiden's randomised merge); node visiting orders
//! come from the seed, so results are reproducible.

use crate::cluster::graph::Graph;
use crate::cluster::random::Random;
use std::collections::VecDeque;

/// Full Leiden passes, each starting from the previous partition.
const PASSES: usize = 2;
/// Safety bound on aggregation levels within one pass.
const MAX_LEVELS: usize = 32;

/// Leiden communities of `graph` at `resolution` (1.0 = classic modularity;
/// higher gives more, smaller communities).
pub fn leiden(graph: &Graph, resolution: f64, seed: u64) -> Vec<u32> {
    leiden_passes(graph, resolution, seed, PASSES)
}

/// [`leiden`] with an explicit number of full passes (one is cheaper and
/// nearly as good when a polish follows).
pub fn leiden_passes(graph: &Graph, resolution: f64, seed: u64, passes: usize) -> Vec<u32> {
    let mut random = Random::new(seed);
    let mut partition: Vec<u32> = (0..graph.node_count() as u32).collect();
    for _ in 0..passes.max(1) {
        partition = leiden_pass(graph, partition, resolution, &mut random);
    }
    number_by_size(&partition)
}

fn leiden_pass(graph: &Graph, start: Vec<u32>, resolution: f64, random: &mut Random) -> Vec<u32> {
    let mut level_graph = graph.clone();
    let mut partition = start;
    // Which level-graph node each original node belongs to.
    let mut membership: Vec<u32> = (0..graph.node_count() as u32).collect();
    for _ in 0..MAX_LEVELS {
        move_nodes(&level_graph, &mut partition, resolution, random);
        let community_count = renumber(&mut partition);
        if community_count == level_graph.node_count() {
            break;
        }
        let mut refined = refine(&level_graph, &partition, resolution, random);
        let mut refined_count = renumber(&mut refined);
        if refined_count == level_graph.node_count() {
            // Refinement merged nothing: aggregate by the communities
            // themselves so the next level can still make progress.
            refined.clone_from(&partition);
            refined_count = community_count;
        }
        let mut next_partition = vec![0u32; refined_count];
        for (node, &group) in refined.iter().enumerate() {
            next_partition[group as usize] = partition[node];
        }
        membership
            .iter_mut()
            .for_each(|node| *node = refined[*node as usize]);
        level_graph = level_graph.aggregate(&refined, refined_count);
        partition = next_partition;
    }
    membership
        .iter()
        .map(|&node| partition[node as usize])
        .collect()
}

/// One round of Leiden's local moves on `graph` starting from `partition`
/// (no aggregation): moves boundary nodes a coarser computation misplaced.
pub fn polish(graph: &Graph, partition: &[u32], resolution: f64, seed: u64) -> Vec<u32> {
    let mut polished = partition.to_vec();
    let count = renumber(&mut polished);
    // move_nodes indexes community weights by id, which must stay below the node count.
    if count <= graph.node_count() {
        move_nodes(graph, &mut polished, resolution, &mut Random::new(seed));
    }
    polished
}

/// Renumbers ids to `0..count` in order of first appearance; returns `count`.
fn renumber(labels: &mut [u32]) -> usize {
    let largest = labels.iter().max().map_or(0, |&label| label as usize + 1);
    let mut mapping = vec![u32::MAX; largest];
    let mut count = 0u32;
    for label in labels.iter_mut() {
        let slot = &mut mapping[*label as usize];
        if *slot == u32::MAX {
            *slot = count;
            count += 1;
        }
        *label = *slot;
    }
    count as usize
}

/// Relabels so that community 0 is the largest (ties: first seen first).
pub fn number_by_size(labels: &[u32]) -> Vec<u32> {
    let mut dense = labels.to_vec();
    let count = renumber(&mut dense);
    let mut sizes = vec![0usize; count];
    dense.iter().for_each(|&label| sizes[label as usize] += 1);
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_by_key(|&label| (std::cmp::Reverse(sizes[label]), label));
    let mut rank = vec![0u32; count];
    order
        .iter()
        .enumerate()
        .for_each(|(position, &label)| rank[label] = position as u32);
    dense.iter().map(|&label| rank[label as usize]).collect()
}

/// Scratch space for summing a node's edge weight per neighbouring community.
struct CommunityWeights {
    weights: Vec<f64>,
    touched: Vec<usize>,
}

impl CommunityWeights {
    fn new(size: usize) -> Self {
        Self {
            weights: vec![0.0; size],
            touched: Vec::new(),
        }
    }

    fn add(&mut self, community: usize, weight: f64) {
        if self.weights[community] == 0.0 {
            self.touched.push(community);
        }
        self.weights[community] += weight;
    }

    fn clear(&mut self) {
        for &community in &self.touched {
            self.weights[community] = 0.0;
        }
        self.touched.clear();
    }
}

/// Leiden's fast local moving: a queue of nodes, each moved to the
/// neighbouring community with the best modularity gain; when a node moves,
/// its neighbours outside the new community are queued again.
fn move_nodes(graph: &Graph, partition: &mut [u32], resolution: f64, random: &mut Random) {
    let nodes = graph.node_count();
    let scale = resolution / graph.total_weight().max(f64::MIN_POSITIVE);
    let mut community_weight = vec![0.0; nodes];
    for node in 0..nodes {
        community_weight[partition[node] as usize] += graph.node_weight(node);
    }
    let mut order: Vec<usize> = (0..nodes).collect();
    random.shuffle(&mut order);
    let mut queue: VecDeque<usize> = order.into();
    let mut queued = vec![true; nodes];
    let mut scratch = CommunityWeights::new(nodes);
    let mut empty: Vec<u32> = Vec::new();
    while let Some(node) = queue.pop_front() {
        queued[node] = false;
        let current = partition[node] as usize;
        let node_weight = graph.node_weight(node);
        community_weight[current] -= node_weight;
        if community_weight[current] <= 1e-12 {
            empty.push(current as u32);
        }
        let best = best_community(
            graph,
            node,
            partition,
            &community_weight,
            scale,
            &mut scratch,
        );
        let target = match best {
            Some((community, _)) => community,
            None => *empty.last().unwrap_or(&(current as u32)) as usize,
        };
        scratch.clear();
        if empty.last() == Some(&(target as u32)) {
            empty.pop();
        }
        community_weight[target] += node_weight;
        partition[node] = target as u32;
        if target != current {
            for (neighbour, _) in graph.edges(node) {
                if !queued[neighbour] && partition[neighbour] as usize != target {
                    queued[neighbour] = true;
                    queue.push_back(neighbour);
                }
            }
        }
    }
}

/// The neighbouring community with the largest positive gain for `node`
/// (already removed from its own), or `None` when staying alone is best.
/// Ties go to the node's previous community, then to the lowest id.
fn best_community(
    graph: &Graph,
    node: usize,
    partition: &[u32],
    community_weight: &[f64],
    scale: f64,
    scratch: &mut CommunityWeights,
) -> Option<(usize, f64)> {
    for (neighbour, weight) in graph.edges(node) {
        if neighbour != node {
            scratch.add(partition[neighbour] as usize, weight);
        }
    }
    let node_weight = graph.node_weight(node);
    let current = partition[node] as usize;
    let mut best: Option<(usize, f64)> = None;
    for &community in &scratch.touched {
        let gain = scratch.weights[community] - scale * node_weight * community_weight[community];
        let better = match best {
            None => gain > 0.0,
            Some((best_id, best_gain)) => {
                gain > best_gain
                    || (gain == best_gain
                        && (community == current || (best_id != current && community < best_id)))
            }
        };
        if better {
            best = Some((community, gain));
        }
    }
    best
}

/// Leiden refinement: inside each community, start from singletons and
/// merge well-connected singletons into the well-connected sub-community
/// with the best non-negative gain. Returns a sub-community id per node.
fn refine(graph: &Graph, partition: &[u32], resolution: f64, random: &mut Random) -> Vec<u32> {
    let nodes = graph.node_count();
    let scale = resolution / graph.total_weight().max(f64::MIN_POSITIVE);
    let mut community_weight = vec![0.0; nodes];
    for node in 0..nodes {
        community_weight[partition[node] as usize] += graph.node_weight(node);
    }
    let mut refined: Vec<u32> = (0..nodes as u32).collect();
    let mut sub_weight: Vec<f64> = (0..nodes).map(|node| graph.node_weight(node)).collect();
    // Edge weight from each sub-community to the rest of its community.
    let mut outside: Vec<f64> = (0..nodes)
        .map(|node| {
            graph
                .edges(node)
                .filter(|&(other, _)| other != node && partition[other] == partition[node])
                .map(|(_, weight)| weight)
                .sum()
        })
        .collect();
    let mut singleton = vec![true; nodes];
    let mut order: Vec<usize> = (0..nodes).collect();
    random.shuffle(&mut order);
    let mut scratch = CommunityWeights::new(nodes);
    for node in order {
        let community = partition[node] as usize;
        let total = community_weight[community];
        let weight = graph.node_weight(node);
        if !singleton[node] || outside[node] < scale * weight * (total - weight) {
            continue;
        }
        for (neighbour, edge) in graph.edges(node) {
            if neighbour != node && partition[neighbour] as usize == community {
                scratch.add(refined[neighbour] as usize, edge);
            }
        }
        let mut best: Option<(usize, f64)> = None;
        for &sub in &scratch.touched {
            let well_connected =
                outside[sub] >= scale * sub_weight[sub] * (total - sub_weight[sub]);
            let gain = scratch.weights[sub] - scale * weight * sub_weight[sub];
            if sub != node && well_connected && gain >= 0.0 && best.is_none_or(|(_, b)| gain > b) {
                best = Some((sub, gain));
            }
        }
        if let Some((sub, _)) = best {
            let link = scratch.weights[sub];
            refined[node] = sub as u32;
            sub_weight[sub] += weight;
            outside[sub] += outside[node] - 2.0 * link;
            singleton[node] = false;
            singleton[sub] = false;
        }
        scratch.clear();
    }
    refined
}

/// Modularity of a partition at the given resolution (for tests and tuning).
pub fn modularity(graph: &Graph, partition: &[u32], resolution: f64) -> f64 {
    let total = graph.total_weight();
    let mut inside = 0.0;
    let mut community_weight = vec![0.0; graph.node_count()];
    for node in 0..graph.node_count() {
        community_weight[partition[node] as usize] += graph.node_weight(node);
        let edge_sum: f64 = graph.edges(node).map(|(_, weight)| weight).sum();
        inside += graph.node_weight(node) - edge_sum;
        inside += graph
            .edges(node)
            .filter(|&(other, _)| partition[other] == partition[node])
            .map(|(_, weight)| weight)
            .sum::<f64>();
    }
    let expected: f64 = community_weight.iter().map(|weight| weight * weight).sum();
    (inside - resolution * expected / total) / total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `groups` cliques of `size` nodes joined in a ring by single edges.
    fn ring_of_cliques(groups: usize, size: usize) -> Graph {
        let nodes = groups * size;
        let mut adjacency = vec![Vec::new(); nodes];
        for group in 0..groups {
            for a in 0..size {
                for b in 0..size {
                    if a != b {
                        adjacency[group * size + a].push(((group * size + b) as u32, 1.0));
                    }
                }
            }
            let last = group * size + size - 1;
            let next = ((group + 1) % groups) * size;
            adjacency[last].push((next as u32, 1.0));
            adjacency[next].push((last as u32, 1.0));
        }
        Graph::from_adjacency(adjacency, &[])
    }

    #[test]
    fn finds_each_clique_of_a_ring() {
        let graph = ring_of_cliques(8, 6);
        let labels = leiden(&graph, 1.0, 0);
        for group in 0..8 {
            let first = labels[group * 6];
            assert!(labels[group * 6..group * 6 + 6]
                .iter()
                .all(|&label| label == first));
        }
        assert_eq!(labels.iter().max(), Some(&7));
    }

    #[test]
    fn beats_singletons_and_is_deterministic() {
        let graph = ring_of_cliques(5, 4);
        let labels = leiden(&graph, 1.0, 3);
        let singletons: Vec<u32> = (0..20).collect();
        assert!(modularity(&graph, &labels, 1.0) > modularity(&graph, &singletons, 1.0));
        assert_eq!(labels, leiden(&graph, 1.0, 3));
    }

    #[test]
    fn low_resolution_merges_everything() {
        let graph = ring_of_cliques(4, 5);
        let labels = leiden(&graph, 0.01, 1);
        assert!(labels.iter().all(|&label| label == 0));
    }

    #[test]
    fn number_by_size_puts_the_largest_first() {
        assert_eq!(number_by_size(&[5, 9, 9, 5, 9, 2]), vec![1, 0, 0, 1, 0, 2]);
    }
}
