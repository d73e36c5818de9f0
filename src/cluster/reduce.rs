//! Linear reductions: PCA of the dense embeddings and a truncated SVD (LSA)
//! of the sparse keyword rows.
//!
//! Both go in as row-major data and come out as a row-major `rows x target`
//! matrix with unit-length rows, ready for cosine neighbour search. Both use
//! seeded subspace iteration, so the result is deterministic, and both cost
//! time linear in the number of rows.

use crate::cluster::dense::{
    add_in_order, orthonormalise_columns, symmetric_eigen, transpose_times,
};
use crate::cluster::random::Random;
use crate::cluster::sparse::SparseRows;
use rayon::prelude::*;

/// Rows used to estimate the covariance; more adds time, not accuracy
/// for the few dozen leading directions kept.
const COVARIANCE_SAMPLE_ROWS: usize = 4_000;
/// Extra directions carried through subspace iteration for accuracy.
const OVERSAMPLING: usize = 12;
/// Subspace iterations: enough for the leading subspace, which is what
/// neighbour search needs (individual directions with close eigenvalues may
/// still mix, which does not matter here).
const ITERATIONS: usize = 6;
/// Power iterations of the randomised sparse SVD (one is enough to guide
/// neighbour search; each costs two passes over the keyword rows).
const POWER_ITERATIONS: usize = 1;

/// Projects `rows x width` data onto its leading `target` principal
/// directions (after centring). Returns `rows x target` coordinates.
pub fn principal_components(data: &[f32], width: usize, target: usize, seed: u64) -> Vec<f32> {
    let rows = data.len() / width;
    let target = target.min(width);
    let mean = column_mean(data, width);
    let covariance = sample_covariance(data, width, &mean);
    let basis = leading_eigenvectors(&covariance, width, target, seed);
    project(data, width, &mean, &basis, target, rows)
}

fn column_mean(data: &[f32], width: usize) -> Vec<f64> {
    let rows = (data.len() / width).max(1);
    let mut mean = vec![0.0f64; width];
    for row in data.chunks_exact(width) {
        mean.iter_mut()
            .zip(row)
            .for_each(|(sum, &value)| *sum += value as f64);
    }
    mean.iter_mut().for_each(|sum| *sum /= rows as f64);
    mean
}

/// Covariance from an evenly strided sample of rows, summed in parallel chunks.
///
/// The chunks' partial sums are added first to last, so the result does not depend on how
/// rayon split the work (a tree reduction would group the float sums by whichever thread stole
/// what, and the last bits, then the clusters, would change from run to run).
fn sample_covariance(data: &[f32], width: usize, mean: &[f64]) -> Vec<f64> {
    let rows = data.len() / width;
    let stride = rows.div_ceil(COVARIANCE_SAMPLE_ROWS).max(1);
    let sampled: Vec<usize> = (0..rows).step_by(stride).collect();
    let parts: Vec<Vec<f64>> = sampled
        .par_chunks(512)
        .map(|chunk| {
            let mut sum = vec![0.0f32; width * width];
            let mut centred = vec![0.0f32; width];
            for &row in chunk {
                let values = &data[row * width..(row + 1) * width];
                for (slot, (&value, &centre)) in centred.iter_mut().zip(values.iter().zip(mean)) {
                    *slot = value - centre as f32;
                }
                add_outer_product(&mut sum, &centred);
            }
            sum.into_iter().map(f64::from).collect()
        })
        .collect();
    let count = sampled.len().max(1) as f64;
    let mut covariance = add_in_order(parts, width * width);
    covariance.iter_mut().for_each(|value| *value /= count);
    mirror_upper_triangle(&mut covariance, width);
    covariance
}

/// Adds the upper triangle of `vector vector^T` (the caller mirrors it).
fn add_outer_product(sum: &mut [f32], vector: &[f32]) {
    let width = vector.len();
    for (row, &scale) in vector.iter().enumerate() {
        let target = &mut sum[row * width + row..(row + 1) * width];
        target
            .iter_mut()
            .zip(&vector[row..])
            .for_each(|(slot, &value)| *slot += scale * value);
    }
}

fn mirror_upper_triangle(matrix: &mut [f64], width: usize) {
    for row in 0..width {
        for column in 0..row {
            matrix[row * width + column] = matrix[column * width + row];
        }
    }
}

/// Leading `target` eigenvectors of a symmetric `width x width` matrix,
/// as a row-major `width x target` matrix (subspace iteration + Rayleigh-Ritz).
fn leading_eigenvectors(matrix: &[f64], width: usize, target: usize, seed: u64) -> Vec<f64> {
    let block = (target + OVERSAMPLING).min(width);
    let mut random = Random::new(seed);
    let mut basis: Vec<f64> = (0..width * block).map(|_| random.normal()).collect();
    orthonormalise_columns(&mut basis, width, block);
    for _ in 0..ITERATIONS {
        basis = multiply_square(matrix, width, &basis, block);
        orthonormalise_columns(&mut basis, width, block);
    }
    let image = multiply_square(matrix, width, &basis, block);
    let small = transpose_times(&basis, &image, width, block);
    let (_, rotation) = symmetric_eigen(&small, block);
    rotate(&basis, width, block, &rotation, target)
}

/// `matrix (width x width) * block (width x columns)`.
fn multiply_square(matrix: &[f64], width: usize, block: &[f64], columns: usize) -> Vec<f64> {
    let mut result = vec![0.0; width * columns];
    result
        .par_chunks_mut(columns)
        .enumerate()
        .for_each(|(row, output)| {
            for (inner, &scale) in matrix[row * width..(row + 1) * width].iter().enumerate() {
                let source = &block[inner * columns..(inner + 1) * columns];
                output
                    .iter_mut()
                    .zip(source)
                    .for_each(|(slot, &value)| *slot += scale * value);
            }
        });
    result
}

/// `basis (rows x columns) * rotation (columns x columns)`, keeping `keep` columns.
fn rotate(basis: &[f64], rows: usize, columns: usize, rotation: &[f64], keep: usize) -> Vec<f64> {
    let mut result = vec![0.0; rows * keep];
    result
        .par_chunks_mut(keep)
        .zip(basis[..rows * columns].par_chunks(columns))
        .for_each(|(output, row)| {
            for (column, slot) in output.iter_mut().enumerate() {
                *slot = (0..columns)
                    .map(|inner| row[inner] * rotation[inner * columns + column])
                    .sum();
            }
        });
    result
}

fn project(
    data: &[f32],
    width: usize,
    mean: &[f64],
    basis: &[f64],
    target: usize,
    rows: usize,
) -> Vec<f32> {
    let basis_f32: Vec<f32> = basis.iter().map(|&value| value as f32).collect();
    let mean_f32: Vec<f32> = mean.iter().map(|&value| value as f32).collect();
    let mut result = vec![0.0f32; rows * target];
    result
        .par_chunks_mut(target)
        .zip(data.par_chunks_exact(width))
        .for_each(|(output, row)| {
            for (inner, (&value, &centre)) in row.iter().zip(&mean_f32).enumerate() {
                let scale = value - centre;
                let direction = &basis_f32[inner * target..(inner + 1) * target];
                output
                    .iter_mut()
                    .zip(direction)
                    .for_each(|(slot, &d)| *slot += scale * d);
            }
        });
    result
}

/// Truncated SVD of the keyword rows (latent semantic analysis): returns
/// `rows x target` document coordinates `U * S` (not centred, as usual for
/// sparse text).
pub fn latent_semantic(keywords: &SparseRows, target: usize, seed: u64) -> Vec<f32> {
    let block = target + OVERSAMPLING;
    let mut random = Random::new(seed);
    let gaussian: Vec<f64> = (0..keywords.width() * block)
        .map(|_| random.normal())
        .collect();
    let mut range = sparse_times(keywords, &gaussian, block);
    orthonormalise_columns(&mut range, keywords.row_count(), block);
    for _ in 0..POWER_ITERATIONS {
        let mut back = sparse_transpose_times(keywords, &range, block);
        orthonormalise_columns(&mut back, keywords.width(), block);
        range = sparse_times(keywords, &back, block);
        orthonormalise_columns(&mut range, keywords.row_count(), block);
    }
    // B = Q^T X; B B^T = (X^T Q)^T (X^T Q) gives the left singular vectors of B.
    let projected = sparse_transpose_times(keywords, &range, block);
    let gram = transpose_times(&projected, &projected, keywords.width(), block);
    let (values, rotation) = symmetric_eigen(&gram, block);
    let left = rotate(&range, keywords.row_count(), block, &rotation, target);
    scale_columns(left, target, &values)
}

fn scale_columns(matrix: Vec<f64>, columns: usize, squared_scales: &[f64]) -> Vec<f32> {
    matrix
        .chunks_exact(columns)
        .flat_map(|row| {
            row.iter()
                .zip(squared_scales)
                .map(|(&value, &square)| (value * square.max(0.0).sqrt()) as f32)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `keywords (rows x width) * dense (width x columns)`.
fn sparse_times(keywords: &SparseRows, dense: &[f64], columns: usize) -> Vec<f64> {
    let mut result = vec![0.0; keywords.row_count() * columns];
    result
        .par_chunks_mut(columns)
        .enumerate()
        .for_each(|(row, output)| {
            let (indices, weights) = keywords.row(row);
            for (&index, &weight) in indices.iter().zip(weights) {
                let source = &dense[index as usize * columns..(index as usize + 1) * columns];
                output
                    .iter_mut()
                    .zip(source)
                    .for_each(|(slot, &value)| *slot += weight as f64 * value);
            }
        });
    result
}

/// `keywords^T (width x rows) * dense (rows x columns)`.
fn sparse_transpose_times(keywords: &SparseRows, dense: &[f64], columns: usize) -> Vec<f64> {
    // Two fixed halves summed in order: the result does not depend on scheduling.
    let rows = keywords.row_count();
    let half = rows.div_ceil(2).max(1);
    let parts: Vec<Vec<f64>> = (0..rows)
        .step_by(half)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|start| {
            let mut part = vec![0.0; keywords.width() * columns];
            for row in start..(start + half).min(rows) {
                let (indices, weights) = keywords.row(row);
                let source = &dense[row * columns..(row + 1) * columns];
                for (&index, &weight) in indices.iter().zip(weights) {
                    let target =
                        &mut part[index as usize * columns..(index as usize + 1) * columns];
                    target
                        .iter_mut()
                        .zip(source)
                        .for_each(|(slot, &value)| *slot += weight as f64 * value);
                }
            }
            part
        })
        .collect();
    add_in_order(parts, keywords.width() * columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points spread along (1, 1, 0) with small noise elsewhere.
    fn line_data() -> Vec<f32> {
        let mut random = Random::new(5);
        (0..200)
            .flat_map(|_| {
                let along = random.normal() as f32 * 3.0;
                let noise = [random.normal() as f32 * 0.1, random.normal() as f32 * 0.1];
                [along + noise[0], along - noise[0], noise[1]]
            })
            .collect()
    }

    #[test]
    fn first_component_follows_the_main_direction() {
        let data = line_data();
        let projected = principal_components(&data, 3, 1, 0);
        // The projection onto the main axis equals (x + y) / sqrt 2 up to sign and centring.
        let expected: Vec<f32> = data
            .chunks_exact(3)
            .map(|row| (row[0] + row[1]) / 2f32.sqrt())
            .collect();
        let correlation = correlation(&projected, &expected);
        assert!(correlation.abs() > 0.999, "correlation {correlation}");
    }

    #[test]
    fn principal_components_are_deterministic() {
        let data = line_data();
        assert_eq!(
            principal_components(&data, 3, 2, 9),
            principal_components(&data, 3, 2, 9)
        );
    }

    /// The covariance's bits do not depend on the thread count or on how rayon split the
    /// chunks (a tree reduction of the chunks' float sums did: the demo's problems changed
    /// between runs of the same input).
    #[test]
    fn the_covariance_is_the_same_on_any_number_of_threads() {
        let width = 24;
        let mut random = Random::new(11);
        let data: Vec<f32> = (0..COVARIANCE_SAMPLE_ROWS * width)
            .map(|_| random.normal() as f32)
            .collect();
        let mean = column_mean(&data, width);
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(|| sample_covariance(&data, width, &mean))
        };
        let bits = |values: Vec<f64>| values.into_iter().map(f64::to_bits).collect::<Vec<_>>();
        let alone = bits(on(1));
        for threads in [2, 3, 5, 8] {
            assert_eq!(bits(on(threads)), alone, "{threads} threads");
        }
    }

    #[test]
    fn lsa_separates_two_vocabularies() {
        let rows: Vec<Vec<(u32, f32)>> = (0..40)
            .map(|row| {
                let base = if row < 20 { 0 } else { 5 };
                vec![
                    (base + (row % 5) as u32, 1.0),
                    (base + ((row + 1) % 5) as u32, 1.0),
                ]
            })
            .collect();
        let keywords = SparseRows::from_rows(&rows, 10).normalised();
        let mut coordinates = latent_semantic(&keywords, 2, 1);
        crate::cluster::dense::normalise_rows(&mut coordinates, 2);
        let similarity = |a: usize, b: usize| {
            crate::cluster::dense::dot(
                &coordinates[a * 2..a * 2 + 2],
                &coordinates[b * 2..b * 2 + 2],
            )
        };
        assert!(similarity(0, 1) > 0.9 && similarity(25, 26) > 0.9);
        assert!(similarity(0, 25).abs() < 0.2);
    }

    fn correlation(first: &[f32], second: &[f32]) -> f64 {
        let mean =
            |values: &[f32]| values.iter().map(|&v| v as f64).sum::<f64>() / values.len() as f64;
        let (mean_first, mean_second) = (mean(first), mean(second));
        let mut products = (0.0, 0.0, 0.0);
        for (&a, &b) in first.iter().zip(second) {
            let (a, b) = (a as f64 - mean_first, b as f64 - mean_second);
            products = (products.0 + a * b, products.1 + a * a, products.2 + b * b);
        }
        products.0 / (products.1 * products.2).sqrt()
    }
}
