//! The neighbour graph the communities are found in.
//!
//! Goes in: the [`Views`] of the documents and the resolved settings. Comes
//! out: one weighted undirected [`Graph`]: the union of a k-nearest-neighbour
//! graph per view (embedding PCA by cosine; keywords by exact sparse TF-IDF
//! cosine), each view's locally calibrated edge weights scaled by `1 - w`
//! and `w` for keyword weight `w`. A graph per view, joined, agreed with the
//! CFPB product labels better than one graph over concatenated features:
//! a pair of documents that is close in either signal stays connected.

use crate::cluster::affinity::edge_weights;
use crate::cluster::features::Views;
use crate::cluster::graph::{Graph, ViewEdges};
use crate::cluster::neighbours::{dense_neighbours, sparse_neighbours, NeighbourGraph};
use crate::cluster::settings::ResolvedSettings;
use crate::cluster::timed;

/// The union graph described in the module docs.
pub fn neighbour_graph(views: &Views, resolved: &ResolvedSettings) -> Graph {
    let (k, seed) = (resolved.neighbours, resolved.seed);
    let embedding = &views.embedding;
    let keyword_weight = resolved.keyword_weight as f64;
    // One after the other: each search uses every core, and libtorch's GEMM
    // threads beside rayon's would fight over the same two.
    let embedding_graph = timed("embedding neighbours", || {
        dense_neighbours(&embedding.values, embedding.width, k, seed)
    });
    let keyword_graph = views.keywords.as_ref().map(|keywords| {
        timed("keyword neighbours", || {
            let projection = &keywords.projection;
            sparse_neighbours(
                &keywords.rows,
                &projection.values,
                projection.width,
                k,
                seed ^ 1,
            )
        })
    });
    let mut graphs: Vec<(NeighbourGraph, f64)> = vec![(embedding_graph, 1.0 - keyword_weight)];
    graphs.extend(keyword_graph.map(|graph| (graph, keyword_weight)));
    let weights: Vec<Vec<f64>> = graphs
        .iter()
        .map(|(neighbours, _)| edge_weights(neighbours, resolved.edge_weighting))
        .collect();
    let edges: Vec<ViewEdges> = graphs
        .iter()
        .zip(&weights)
        .filter(|((_, scale), _)| *scale > 0.0)
        .map(|((neighbours, scale), weights)| ViewEdges {
            neighbours,
            weights,
            scale: *scale,
        })
        .collect();
    Graph::from_views(&edges)
}
