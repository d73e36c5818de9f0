//! HDBSCAN density clustering through the `hdbscan` crate.
//!
//! Goes in: a row-major matrix (typically a low-dimensional reduction of the
//! embeddings) and the two HDBSCAN parameters. Comes out: a cluster id or
//! `None` (noise) per row. The crate follows scikit-learn's algorithm
//! (core distances counting the point itself, mutual-reachability minimum
//! spanning tree, condensed tree, excess-of-mass selection); the test at the
//! bottom checks it against scikit-learn's labels in
//! `tests/fixtures/cluster/hdbscan_reference.json`.
//!
//! Its minimum spanning tree is Prim's algorithm over all pairs, O(n^2), so
//! this path suits a few thousand rows; the default clustering uses the
//! neighbour graph instead (see `lib.rs`).

use hdbscan::{Hdbscan, HdbscanError, HdbscanHyperParams};

/// HDBSCAN parameters, named as in scikit-learn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DensitySettings {
    /// Smallest group that counts as a cluster.
    pub min_cluster_size: usize,
    /// Neighbours (the point itself included) that define a core distance.
    pub min_samples: usize,
}

/// HDBSCAN labels (`None` = noise) for the rows of a `rows x width` matrix.
pub fn density_clusters(
    points: &[f32],
    width: usize,
    settings: &DensitySettings,
) -> Result<Vec<Option<u32>>, HdbscanError> {
    let rows: Vec<Vec<f32>> = points.chunks_exact(width).map(<[f32]>::to_vec).collect();
    if rows.len() < settings.min_cluster_size.max(2) {
        return Ok(vec![None; rows.len()]);
    }
    let parameters = HdbscanHyperParams::builder()
        .min_cluster_size(settings.min_cluster_size.max(2))
        .min_samples(settings.min_samples.clamp(1, rows.len()))
        .build();
    let labels = Hdbscan::new(&rows, parameters).cluster()?;
    Ok(labels
        .into_iter()
        .map(|label| u32::try_from(label).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::metrics::adjusted_rand_index;
    use serde_json::Value;

    fn reference_cases() -> Vec<Value> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/cluster/hdbscan_reference.json"
        );
        let text = std::fs::read_to_string(path).expect("fixture file");
        let json: Value = serde_json::from_str(&text).expect("fixture JSON");
        json["cases"].as_array().expect("cases").clone()
    }

    fn as_usize(value: &Value) -> usize {
        value.as_u64().expect("unsigned integer") as usize
    }

    #[test]
    fn matches_scikit_learn_on_the_fixture() {
        for case in reference_cases() {
            let width = as_usize(&case["dimension"]);
            let points: Vec<f32> = case["points"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|row| {
                    row.as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_f64().unwrap() as f32)
                })
                .collect();
            let expected: Vec<i64> = case["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
                .collect();
            let settings = DensitySettings {
                min_cluster_size: as_usize(&case["min_cluster_size"]),
                min_samples: as_usize(&case["min_samples"]),
            };
            let found = density_clusters(&points, width, &settings).unwrap();
            let found: Vec<i64> = found.iter().map(|l| l.map_or(-1, i64::from)).collect();
            let agreement = adjusted_rand_index(&expected, &found);
            let noise_expected = expected.iter().filter(|&&l| l < 0).count();
            let noise_found = found.iter().filter(|&&l| l < 0).count();
            println!(
                "{}: ARI {agreement:.4}, noise {noise_found} vs {noise_expected}",
                case["name"]
            );
            assert!(agreement >= 0.99, "{}: ARI {agreement}", case["name"]);
        }
    }

    #[test]
    fn too_few_rows_are_all_noise() {
        let settings = DensitySettings {
            min_cluster_size: 5,
            min_samples: 5,
        };
        assert_eq!(
            density_clusters(&[0.0, 1.0], 1, &settings).unwrap(),
            vec![None, None]
        );
    }
}
