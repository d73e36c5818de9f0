//! Small dense linear algebra: dot products, row normalisation,
//! Cholesky QR and a Jacobi eigensolver for small symmetric matrices.
//!
//! The reductions only ever need eigenvectors of matrices a few dozen rows
//! wide (after subspace iteration has done the heavy lifting), so a plain
//! cyclic Jacobi method is accurate and fast enough, and avoids a linear
//! algebra dependency.

use rayon::prelude::*;

/// Dot product of two equal-length `f32` slices, accumulated in eight lanes
/// so the compiler can vectorise it.
pub fn dot(first: &[f32], second: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = first.len() / 8 * 8;
    for (a, b) in first[..chunks]
        .chunks_exact(8)
        .zip(second[..chunks].chunks_exact(8))
    {
        for lane in 0..8 {
            lanes[lane] += a[lane] * b[lane];
        }
    }
    let tail: f32 = first[chunks..]
        .iter()
        .zip(&second[chunks..])
        .map(|(a, b)| a * b)
        .sum();
    lanes.iter().sum::<f32>() + tail
}

/// Scales every row of a row-major matrix to unit length (zero rows stay zero).
pub fn normalise_rows(matrix: &mut [f32], width: usize) {
    for row in matrix.chunks_exact_mut(width) {
        let norm = dot(row, row).sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|value| *value /= norm);
        }
    }
}

/// Orthonormalises the columns of a row-major `rows x columns` matrix in
/// place by Cholesky QR, applied twice for accuracy: with `A^T A = L L^T`,
/// `A <- A L^-T`. It reads the matrix row by row, so it stays fast for tall
/// matrices. A tiny ridge keeps the factorisation defined when columns are
/// dependent (such columns come out near zero), so callers should
/// oversample a little.
pub fn orthonormalise_columns(matrix: &mut [f64], rows: usize, columns: usize) {
    for _ in 0..2 {
        let mut gram = gram_matrix(matrix, rows, columns);
        let trace: f64 = (0..columns)
            .map(|index| gram[index * columns + index])
            .sum();
        let ridge = trace.max(f64::MIN_POSITIVE) * 1e-13;
        (0..columns).for_each(|index| gram[index * columns + index] += ridge);
        let factor = cholesky(&gram, columns);
        matrix[..rows * columns]
            .par_chunks_exact_mut(columns)
            .for_each(|row| solve_lower_transposed(&factor, columns, row));
    }
}

/// Lower-triangular `L` with `L L^T = matrix` (symmetric positive definite).
fn cholesky(matrix: &[f64], size: usize) -> Vec<f64> {
    let mut factor = vec![0.0; size * size];
    for i in 0..size {
        for j in 0..=i {
            let partial: f64 = (0..j)
                .map(|k| factor[i * size + k] * factor[j * size + k])
                .sum();
            let value = matrix[i * size + j] - partial;
            factor[i * size + j] = if i == j {
                value.max(f64::MIN_POSITIVE).sqrt()
            } else {
                value / factor[j * size + j]
            };
        }
    }
    factor
}

/// Replaces the row vector `x` by `x L^-T`, i.e. solves `L y = x` for `y`.
fn solve_lower_transposed(factor: &[f64], size: usize, row: &mut [f64]) {
    for i in 0..size {
        let partial: f64 = (0..i).map(|k| factor[i * size + k] * row[k]).sum();
        row[i] = (row[i] - partial) / factor[i * size + i];
    }
}

fn gram_matrix(matrix: &[f64], rows: usize, columns: usize) -> Vec<f64> {
    transpose_times(matrix, matrix, rows, columns)
}

/// Rows per part of a parallel sum: parts are fixed, and added in order, so
/// the sum does not depend on how the work was scheduled.
const SUM_PART_ROWS: usize = 1024;

/// `first^T * second` for two `rows x columns` matrices (row-major).
pub fn transpose_times(first: &[f64], second: &[f64], rows: usize, columns: usize) -> Vec<f64> {
    let parts: Vec<Vec<f64>> = first[..rows * columns]
        .par_chunks(SUM_PART_ROWS * columns)
        .zip(second[..rows * columns].par_chunks(SUM_PART_ROWS * columns))
        .map(|(first, second)| {
            let mut part = vec![0.0; columns * columns];
            for (a, b) in first
                .chunks_exact(columns)
                .zip(second.chunks_exact(columns))
            {
                for (i, &left) in a.iter().enumerate() {
                    part[i * columns..(i + 1) * columns]
                        .iter_mut()
                        .zip(b)
                        .for_each(|(slot, &right)| *slot += left * right);
                }
            }
            part
        })
        .collect();
    add_in_order(parts, columns * columns)
}

/// The element-wise sum of `parts` (each `length` long), added first to last.
pub fn add_in_order(parts: Vec<Vec<f64>>, length: usize) -> Vec<f64> {
    let mut total = vec![0.0; length];
    for part in parts {
        total
            .iter_mut()
            .zip(&part)
            .for_each(|(sum, value)| *sum += value);
    }
    total
}

/// Eigen-decomposition of a symmetric `size x size` row-major matrix.
///
/// Returns eigenvalues in descending order and the matching eigenvectors as
/// the columns of a row-major `size x size` matrix.
pub fn symmetric_eigen(matrix: &[f64], size: usize) -> (Vec<f64>, Vec<f64>) {
    let mut work = matrix.to_vec();
    let mut vectors = identity(size);
    for _sweep in 0..100 {
        if off_diagonal_norm(&work, size) < 1e-22 * diagonal_norm(&work, size).max(1e-300) {
            break;
        }
        for p in 0..size {
            for q in (p + 1)..size {
                jacobi_rotate(&mut work, &mut vectors, size, p, q);
            }
        }
    }
    sort_by_eigenvalue(&work, &vectors, size)
}

fn identity(size: usize) -> Vec<f64> {
    let mut matrix = vec![0.0; size * size];
    (0..size).for_each(|index| matrix[index * size + index] = 1.0);
    matrix
}

fn off_diagonal_norm(matrix: &[f64], size: usize) -> f64 {
    // Summed directly: total minus diagonal would cancel to zero too early.
    (0..size)
        .flat_map(|row| {
            (0..size)
                .filter(move |&column| column != row)
                .map(move |column| (row, column))
        })
        .map(|(row, column)| matrix[row * size + column].powi(2))
        .sum()
}

fn diagonal_norm(matrix: &[f64], size: usize) -> f64 {
    (0..size)
        .map(|index| matrix[index * size + index].powi(2))
        .sum()
}

/// One Jacobi rotation zeroing element (p, q), applied to both sides of
/// `work` and accumulated into `vectors`.
fn jacobi_rotate(work: &mut [f64], vectors: &mut [f64], size: usize, p: usize, q: usize) {
    let off = work[p * size + q];
    if off.abs() < 1e-300 {
        return;
    }
    let theta = (work[q * size + q] - work[p * size + p]) / (2.0 * off);
    let tangent = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
    let tangent = if theta == 0.0 { 1.0 } else { tangent };
    let cosine = 1.0 / (tangent * tangent + 1.0).sqrt();
    let sine = tangent * cosine;
    for k in 0..size {
        let (kp, kq) = (work[k * size + p], work[k * size + q]);
        work[k * size + p] = cosine * kp - sine * kq;
        work[k * size + q] = sine * kp + cosine * kq;
    }
    for k in 0..size {
        let (pk, qk) = (work[p * size + k], work[q * size + k]);
        work[p * size + k] = cosine * pk - sine * qk;
        work[q * size + k] = sine * pk + cosine * qk;
    }
    for k in 0..size {
        let (kp, kq) = (vectors[k * size + p], vectors[k * size + q]);
        vectors[k * size + p] = cosine * kp - sine * kq;
        vectors[k * size + q] = sine * kp + cosine * kq;
    }
}

fn sort_by_eigenvalue(work: &[f64], vectors: &[f64], size: usize) -> (Vec<f64>, Vec<f64>) {
    let mut order: Vec<usize> = (0..size).collect();
    order.sort_by(|&a, &b| work[b * size + b].total_cmp(&work[a * size + a]));
    let values = order
        .iter()
        .map(|&index| work[index * size + index])
        .collect();
    let mut sorted = vec![0.0; size * size];
    for (target, &source) in order.iter().enumerate() {
        for row in 0..size {
            sorted[row * size + target] = vectors[row * size + source];
        }
    }
    (values, sorted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_handles_tails() {
        let first: Vec<f32> = (0..11).map(|value| value as f32).collect();
        let second = vec![1.0f32; 11];
        assert_eq!(dot(&first, &second), 55.0);
    }

    #[test]
    fn eigen_of_a_known_symmetric_matrix() {
        // [[2, 1], [1, 2]] has eigenvalues 3 and 1 with vectors (1, 1) and (1, -1).
        let (values, vectors) = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        assert!((values[0] - 3.0).abs() < 1e-12 && (values[1] - 1.0).abs() < 1e-12);
        assert!((vectors[0].abs() - vectors[2].abs()).abs() < 1e-12);
        assert!((vectors[0] * vectors[2]) > 0.0);
    }

    #[test]
    fn eigenvectors_reconstruct_the_matrix() {
        let matrix = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 1.0];
        let (values, vectors) = symmetric_eigen(&matrix, 3);
        for row in 0..3 {
            for column in 0..3 {
                let rebuilt: f64 = (0..3)
                    .map(|k| vectors[row * 3 + k] * values[k] * vectors[column * 3 + k])
                    .sum();
                assert!(
                    (rebuilt - matrix[row * 3 + column]).abs() < 1e-10,
                    "{row} {column} {rebuilt}"
                );
            }
        }
    }

    #[test]
    fn gram_schmidt_gives_orthonormal_columns() {
        let mut matrix = vec![1.0, 1.0, 0.0, 1.0, 1.0, 0.0];
        orthonormalise_columns(&mut matrix, 3, 2);
        let inner: f64 = (0..3)
            .map(|row| matrix[row * 2] * matrix[row * 2 + 1])
            .sum();
        let length: f64 = (0..3).map(|row| matrix[row * 2 + 1].powi(2)).sum();
        assert!(inner.abs() < 1e-12 && (length - 1.0).abs() < 1e-12);
    }
}
