//! Row-major `f32` matrices: an owned [`Matrix`] and a borrowed [`MatrixView`], plus the dot
//! product every head uses. Embeddings arrive as one flat buffer (one row per document), so the
//! heads work on flat buffers too instead of a vector per row.

use crate::classify::learn::error::HeadError;

/// A borrowed row-major matrix.
#[derive(Clone, Copy, Debug)]
pub struct MatrixView<'a> {
    data: &'a [f32],
    columns: usize,
}

impl<'a> MatrixView<'a> {
    /// Views `data` as rows of `columns` values; fails unless the length divides evenly.
    pub fn new(data: &'a [f32], columns: usize) -> Result<Self, HeadError> {
        if columns == 0 || !data.len().is_multiple_of(columns) {
            return Err(HeadError::Shape {
                length: data.len(),
                columns,
            });
        }
        Ok(Self { data, columns })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.data.len() / self.columns
    }

    /// Number of columns (features per row).
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Row `index`; panics when out of range, like slice indexing.
    pub fn row(&self, index: usize) -> &'a [f32] {
        &self.data[index * self.columns..(index + 1) * self.columns]
    }

    /// The flat row-major values.
    pub fn data(&self) -> &'a [f32] {
        self.data
    }

    /// A new matrix holding the given rows, in the given order.
    pub fn select_rows(&self, indices: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(indices.len() * self.columns);
        for &index in indices {
            data.extend_from_slice(self.row(index));
        }
        Matrix {
            data,
            columns: self.columns,
        }
    }
}

/// An owned row-major matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    data: Vec<f32>,
    columns: usize,
}

impl Matrix {
    /// Takes `data` as rows of `columns` values; fails unless the length divides evenly.
    pub fn new(data: Vec<f32>, columns: usize) -> Result<Self, HeadError> {
        MatrixView::new(&data, columns)?;
        Ok(Self { data, columns })
    }

    /// A borrowed view of the whole matrix.
    pub fn view(&self) -> MatrixView<'_> {
        MatrixView {
            data: &self.data,
            columns: self.columns,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.data.len() / self.columns
    }

    /// Number of columns.
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Row `index`; panics when out of range.
    pub fn row(&self, index: usize) -> &[f32] {
        self.view().row(index)
    }

    /// The flat row-major values, mutably (the shape cannot change).
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Consumes the matrix, returning its flat values.
    pub fn into_data(self) -> Vec<f32> {
        self.data
    }
}

/// Dot product of two equally long slices.
///
/// Eight independent accumulators let the compiler vectorise the loop while keeping one fixed
/// summation order, so the result is the same on every run.
pub fn dot(left: &[f32], right: &[f32]) -> f32 {
    debug_assert_eq!(left.len(), right.len());
    let mut lanes = [0.0f32; 8];
    let left_chunks = left.chunks_exact(8);
    let right_chunks = right.chunks_exact(8);
    let tail: f32 = left_chunks
        .remainder()
        .iter()
        .zip(right_chunks.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (a, b) in left_chunks.zip(right_chunks) {
        for lane in 0..8 {
            lanes[lane] += a[lane] * b[lane];
        }
    }
    let pairs = [
        lanes[0] + lanes[4],
        lanes[1] + lanes[5],
        lanes[2] + lanes[6],
        lanes[3] + lanes[7],
    ];
    (pairs[0] + pairs[2]) + (pairs[1] + pairs[3]) + tail
}

/// Adds `scale * source` to `target`, element by element.
pub fn add_scaled(target: &mut [f32], scale: f32, source: &[f32]) {
    debug_assert_eq!(target.len(), source.len());
    for (value, addend) in target.iter_mut().zip(source) {
        *value += scale * addend;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_rejects_ragged_buffers() {
        assert!(MatrixView::new(&[1.0, 2.0, 3.0], 2).is_err());
        assert!(MatrixView::new(&[1.0, 2.0], 0).is_err());
    }

    #[test]
    fn rows_and_selection() {
        let matrix = Matrix::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2).unwrap();
        assert_eq!(matrix.rows(), 3);
        assert_eq!(matrix.row(1), &[3.0, 4.0]);
        let selected = matrix.view().select_rows(&[2, 0]);
        assert_eq!(selected.into_data(), vec![5.0, 6.0, 1.0, 2.0]);
    }

    #[test]
    fn dot_matches_naive_sum() {
        let left: Vec<f32> = (0..19).map(|value| value as f32 * 0.5).collect();
        let right: Vec<f32> = (0..19).map(|value| 1.0 - value as f32 * 0.1).collect();
        let naive: f32 = left.iter().zip(&right).map(|(a, b)| a * b).sum();
        assert!((dot(&left, &right) - naive).abs() < 1e-4);
    }
}
