//! Sparse keyword vectors, one row per document (compressed sparse rows).
//!
//! The keyword signal (TF-IDF weights over the tokenised text) is sparse and
//! wide; the clustering only needs to multiply it by thin dense matrices, so
//! rows are kept as sorted (column, weight) runs in three flat vectors.

/// Compressed sparse rows: row `r` owns `columns[offsets[r]..offsets[r + 1]]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SparseRows {
    offsets: Vec<usize>,
    columns: Vec<u32>,
    weights: Vec<f32>,
    width: usize,
}

impl SparseRows {
    /// Builds rows from (column, weight) lists; columns are sorted and
    /// duplicates summed, zero weights dropped. `width` is the number of
    /// columns (vocabulary size); every column must be below it.
    pub fn from_rows(rows: &[Vec<(u32, f32)>], width: usize) -> Self {
        let mut sparse = SparseRows {
            offsets: vec![0],
            columns: Vec::new(),
            weights: Vec::new(),
            width,
        };
        for row in rows {
            sparse.push_row(row);
        }
        sparse
    }

    fn push_row(&mut self, row: &[(u32, f32)]) {
        let mut entries = row.to_vec();
        entries.sort_by_key(|&(column, _)| column);
        let start = self.columns.len();
        for (column, weight) in entries {
            assert!(
                (column as usize) < self.width,
                "column {column} >= width {}",
                self.width
            );
            if self.columns.len() > start && *self.columns.last().unwrap() == column {
                *self.weights.last_mut().unwrap() += weight;
            } else {
                self.columns.push(column);
                self.weights.push(weight);
            }
        }
        self.offsets.push(self.columns.len());
        self.drop_zeros_from(start);
    }

    fn drop_zeros_from(&mut self, start: usize) {
        let mut keep = start;
        for read in start..self.columns.len() {
            if self.weights[read] != 0.0 {
                self.columns[keep] = self.columns[read];
                self.weights[keep] = self.weights[read];
                keep += 1;
            }
        }
        self.columns.truncate(keep);
        self.weights.truncate(keep);
        *self.offsets.last_mut().unwrap() = keep;
    }

    /// The given rows, in the given order, as a new matrix of the same width.
    pub fn select(&self, rows: &[usize]) -> SparseRows {
        let mut selected = SparseRows {
            offsets: vec![0],
            columns: Vec::new(),
            weights: Vec::new(),
            width: self.width,
        };
        for &row in rows {
            let range = self.offsets[row]..self.offsets[row + 1];
            selected
                .columns
                .extend_from_slice(&self.columns[range.clone()]);
            selected.weights.extend_from_slice(&self.weights[range]);
            selected.offsets.push(selected.columns.len());
        }
        selected
    }

    /// Number of rows (documents).
    pub fn row_count(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of columns (vocabulary size).
    pub fn width(&self) -> usize {
        self.width
    }

    /// The (columns, weights) of one row, columns ascending.
    pub fn row(&self, index: usize) -> (&[u32], &[f32]) {
        let range = self.offsets[index]..self.offsets[index + 1];
        (&self.columns[range.clone()], &self.weights[range])
    }

    /// A copy keeping only the `keep` largest weights of every row (ties:
    /// lower column first), columns still ascending.
    pub fn truncated(&self, keep: usize) -> SparseRows {
        let rows: Vec<Vec<(u32, f32)>> = (0..self.row_count())
            .map(|row| {
                let (columns, weights) = self.row(row);
                let mut entries: Vec<(u32, f32)> = columns
                    .iter()
                    .copied()
                    .zip(weights.iter().copied())
                    .collect();
                entries.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                entries.truncate(keep);
                entries
            })
            .collect();
        SparseRows::from_rows(&rows, self.width)
    }

    /// A copy whose rows have unit Euclidean length (empty rows stay empty).
    pub fn normalised(&self) -> SparseRows {
        let mut copy = self.clone();
        for row in 0..copy.row_count() {
            let range = copy.offsets[row]..copy.offsets[row + 1];
            let norm = copy.weights[range.clone()]
                .iter()
                .map(|w| w * w)
                .sum::<f32>()
                .sqrt();
            if norm > 0.0 {
                copy.weights[range].iter_mut().for_each(|w| *w /= norm);
            }
        }
        copy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_sorted_merged_and_zero_free() {
        let rows = vec![vec![(3, 1.0), (1, 2.0), (3, 0.5), (2, 0.0)], vec![]];
        let sparse = SparseRows::from_rows(&rows, 4);
        assert_eq!(sparse.row_count(), 2);
        assert_eq!(sparse.row(0), (&[1u32, 3][..], &[2.0f32, 1.5][..]));
        assert_eq!(sparse.row(1), (&[][..], &[][..]));
    }

    #[test]
    fn truncation_keeps_the_heaviest_terms() {
        let sparse = SparseRows::from_rows(&[vec![(0, 0.1), (1, 0.9), (2, 0.5)]], 3);
        assert_eq!(
            sparse.truncated(2).row(0),
            (&[1u32, 2][..], &[0.9f32, 0.5][..])
        );
    }

    #[test]
    fn normalised_rows_have_unit_length() {
        let sparse = SparseRows::from_rows(&[vec![(0, 3.0), (2, 4.0)], vec![]], 3).normalised();
        assert_eq!(sparse.row(0).1, &[0.6, 0.8]);
        assert!(sparse.row(1).0.is_empty());
    }
}
