//! Agreement between two labellings of the same documents.
//!
//! Normalised mutual information (arithmetic-mean normalisation, as
//! scikit-learn's default) and the adjusted Rand index. Both take any two
//! label slices of equal length; a caller that wants unassigned documents
//! counted as one extra group maps them to a label of their own first.

use std::collections::HashMap;
use std::hash::Hash;

/// Counts of documents per (first label, second label) pair, plus marginals.
struct Contingency {
    cells: Vec<f64>,
    row_totals: Vec<f64>,
    column_totals: Vec<f64>,
    total: f64,
}

fn dense_ids<T: Hash + Eq + Clone>(labels: &[T]) -> (Vec<usize>, usize) {
    let mut ids: HashMap<T, usize> = HashMap::new();
    let dense = labels
        .iter()
        .map(|label| {
            let next = ids.len();
            *ids.entry(label.clone()).or_insert(next)
        })
        .collect();
    (dense, ids.len())
}

fn contingency<A: Hash + Eq + Clone, B: Hash + Eq + Clone>(
    first: &[A],
    second: &[B],
) -> Contingency {
    assert_eq!(first.len(), second.len(), "labellings differ in length");
    let (rows, row_count) = dense_ids(first);
    let (columns, column_count) = dense_ids(second);
    let mut cells = vec![0.0; row_count * column_count];
    let mut row_totals = vec![0.0; row_count];
    let mut column_totals = vec![0.0; column_count];
    for (&row, &column) in rows.iter().zip(&columns) {
        cells[row * column_count + column] += 1.0;
        row_totals[row] += 1.0;
        column_totals[column] += 1.0;
    }
    Contingency {
        cells,
        row_totals,
        column_totals,
        total: first.len() as f64,
    }
}

fn entropy(totals: &[f64], total: f64) -> f64 {
    totals
        .iter()
        .filter(|&&count| count > 0.0)
        .map(|&count| {
            let share = count / total;
            -share * share.ln()
        })
        .sum()
}

/// Normalised mutual information, `MI / mean(H(first), H(second))`.
///
/// Two single-group labellings agree perfectly (1.0), as in scikit-learn.
pub fn normalized_mutual_information<A, B>(first: &[A], second: &[B]) -> f64
where
    A: Hash + Eq + Clone,
    B: Hash + Eq + Clone,
{
    let table = contingency(first, second);
    let first_entropy = entropy(&table.row_totals, table.total);
    let second_entropy = entropy(&table.column_totals, table.total);
    if first_entropy == 0.0 && second_entropy == 0.0 {
        return 1.0;
    }
    let column_count = table.column_totals.len();
    let mut mutual_information = 0.0;
    for (index, &count) in table.cells.iter().enumerate() {
        if count > 0.0 {
            let row_total = table.row_totals[index / column_count];
            let column_total = table.column_totals[index % column_count];
            let ratio = count * table.total / (row_total * column_total);
            mutual_information += count / table.total * ratio.ln();
        }
    }
    (mutual_information / ((first_entropy + second_entropy) / 2.0)).clamp(0.0, 1.0)
}

fn pairs(count: f64) -> f64 {
    count * (count - 1.0) / 2.0
}

/// Adjusted Rand index: pair agreement corrected for chance (1 = identical, ~0 = random).
pub fn adjusted_rand_index<A, B>(first: &[A], second: &[B]) -> f64
where
    A: Hash + Eq + Clone,
    B: Hash + Eq + Clone,
{
    let table = contingency(first, second);
    let together: f64 = table.cells.iter().map(|&count| pairs(count)).sum();
    let first_pairs: f64 = table.row_totals.iter().map(|&count| pairs(count)).sum();
    let second_pairs: f64 = table.column_totals.iter().map(|&count| pairs(count)).sum();
    let expected = first_pairs * second_pairs / pairs(table.total).max(1.0);
    let maximum = (first_pairs + second_pairs) / 2.0;
    if maximum == expected {
        return 1.0;
    }
    (together - expected) / (maximum - expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_labellings_score_one_whatever_the_names() {
        let truth = [0, 0, 1, 1, 2];
        let renamed = ["b", "b", "c", "c", "a"];
        assert!((normalized_mutual_information(&truth, &renamed) - 1.0).abs() < 1e-12);
        assert!((adjusted_rand_index(&truth, &renamed) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn crossed_labellings_match_hand_computed_values() {
        // Every cell of the 2x2 table holds one document: MI = 0;
        // ARI = (0 - 2*2/6) / (2 - 2*2/6) = -0.5.
        let truth = [0, 0, 1, 1];
        let found = [0, 1, 0, 1];
        assert!(normalized_mutual_information(&truth, &found).abs() < 1e-12);
        assert!((adjusted_rand_index(&truth, &found) + 0.5).abs() < 1e-12);
    }

    #[test]
    fn split_labelling_matches_hand_computed_values() {
        // MI = (2/3) ln 2, H = ln 2 and ln 3, NMI = MI / ((ln 2 + ln 3) / 2) = 0.515804.
        // ARI: together 2, expected 6*3/15 = 1.2, maximum 4.5: 0.8 / 3.3 = 0.242424.
        let truth = [0, 0, 0, 1, 1, 1];
        let found = [0, 0, 1, 1, 2, 2];
        let expected_nmi = (2.0 / 3.0) * 2f64.ln() / ((2f64.ln() + 3f64.ln()) / 2.0);
        assert!((normalized_mutual_information(&truth, &found) - expected_nmi).abs() < 1e-12);
        assert!((expected_nmi - 0.515_803_7).abs() < 1e-6);
        assert!((adjusted_rand_index(&truth, &found) - 0.8 / 3.3).abs() < 1e-12);
    }

    #[test]
    fn single_group_on_both_sides_is_perfect_agreement() {
        assert_eq!(normalized_mutual_information(&[1, 1, 1], &[5, 5, 5]), 1.0);
        assert_eq!(adjusted_rand_index(&[1, 1, 1], &[5, 5, 5]), 1.0);
    }
}
