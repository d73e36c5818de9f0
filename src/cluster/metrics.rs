//! Agreement between two labellings of the same documents.
//!
//! Goes in: two label slices of equal length, of any hashable label types.
//! Comes out: one agreement score. Normalised and adjusted mutual information
//! (arithmetic-mean normalisation, scikit-learn's default), the adjusted Rand
//! index and purity, so an evaluation can put a clustering next to a known
//! truth or next to a baseline such as [`kmeans`](super::kmeans). A caller
//! that wants unassigned documents counted as one extra group maps them to a
//! label of their own first. The adjusted mutual information reproduces
//! scikit-learn's `adjusted_mutual_info_score`; the tests carry its values.

use rayon::prelude::*;
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
    (mutual_information(&table) / ((first_entropy + second_entropy) / 2.0)).clamp(0.0, 1.0)
}

/// Mutual information of the two labellings behind `table`, in nats, never below zero (as
/// scikit-learn clips it: rounding can push the sum of an independent pair a hair under).
fn mutual_information(table: &Contingency) -> f64 {
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
    mutual_information.max(0.0)
}

/// Adjusted mutual information, `(MI - E[MI]) / (mean(H(first), H(second)) - E[MI])`:
/// scikit-learn's `adjusted_mutual_info_score` with its default `average_method="arithmetic"`,
/// step for step (the tests agree with it to 1e-14 on 200 documents, 1e-11 on 30,000).
///
/// `E[MI]` is the mutual information expected of two random labellings with the same group
/// sizes (the hypergeometric model of Vinh, Epps and Bailey, 2010), so 1 means identical up to
/// the names of the groups, about 0 no better than chance and below 0 worse than chance. As in
/// scikit-learn, two labellings with one group each (or two empty ones) score 1.0, one group
/// against several scores 0.0, and a numerator or denominator closer to zero than machine
/// epsilon is held at epsilon with its sign.
pub fn adjusted_mutual_information<A, B>(first: &[A], second: &[B]) -> f64
where
    A: Hash + Eq + Clone,
    B: Hash + Eq + Clone,
{
    let table = contingency(first, second);
    let first_groups = table.row_totals.len();
    let second_groups = table.column_totals.len();
    if first_groups == second_groups && first_groups <= 1 {
        return 1.0;
    }
    if first_groups == 1 || second_groups == 1 {
        return 0.0;
    }
    let expected = expected_mutual_information(&table);
    let first_entropy = entropy(&table.row_totals, table.total);
    let second_entropy = entropy(&table.column_totals, table.total);
    let mean_entropy = (first_entropy + second_entropy) / 2.0;
    away_from_zero(mutual_information(&table) - expected) / away_from_zero(mean_entropy - expected)
}

/// `value`, or machine epsilon with its sign when it is closer to zero: scikit-learn's guard
/// against `0 / 0` when the expected mutual information equals the maximum.
fn away_from_zero(value: f64) -> f64 {
    if value < 0.0 {
        value.min(-f64::EPSILON)
    } else {
        value.max(f64::EPSILON)
    }
}

/// The mutual information expected under the hypergeometric model, summed as scikit-learn's
/// `expected_mutual_information` does: for every pair of group sizes `a` and `b`, over every
/// feasible cell count `n` from `max(1, a + b - N)` to `min(a, b)`.
///
/// That is `O(groups x groups x N)` at worst but about 6 million terms for 30,000 documents in
/// 200 groups on each side; rows of the table are summed in parallel and added in order, so the
/// result does not depend on the thread count.
fn expected_mutual_information(table: &Contingency) -> f64 {
    let total = table.total as usize;
    let ln_factorials: Vec<f64> = (0..=total).map(ln_factorial).collect();
    let column_sizes: Vec<usize> = table
        .column_totals
        .iter()
        .map(|&size| size as usize)
        .collect();
    let per_row: Vec<f64> = table
        .row_totals
        .par_iter()
        .map(|&row_size| {
            column_sizes
                .iter()
                .map(|&column_size| {
                    cell_expectation(row_size as usize, column_size, total, &ln_factorials)
                })
                .sum()
        })
        .collect();
    per_row.iter().sum()
}

/// The expected contribution of one cell whose row holds `row` documents and whose column
/// holds `column`, out of `total`: each count `n` weighs `(n / N) ln(N n / (a b))` by its
/// hypergeometric probability `a! b! (N-a)! (N-b)! / (N! n! (a-n)! (b-n)! (N-a-b+n)!)`,
/// computed in log space because the factorials overflow.
fn cell_expectation(row: usize, column: usize, total: usize, ln_factorials: &[f64]) -> f64 {
    let ln_margins = ln_factorials[row]
        + ln_factorials[column]
        + ln_factorials[total - row]
        + ln_factorials[total - column]
        - ln_factorials[total];
    let ln_total_over_sizes = (total as f64).ln() - (row as f64).ln() - (column as f64).ln();
    let start = (row + column).saturating_sub(total).max(1);
    (start..=row.min(column))
        .map(|count| {
            let ln_probability = ln_margins
                - ln_factorials[count]
                - ln_factorials[row - count]
                - ln_factorials[column - count]
                - ln_factorials[total + count - row - column];
            let share = count as f64 / total as f64;
            share * (ln_total_over_sizes + (count as f64).ln()) * ln_probability.exp()
        })
        .sum()
}

/// `ln(value!)`, the log-gamma function at `value + 1`: the exact product up to 20! (it fits in
/// a `u64`), Stirling's series from there, where its first five terms leave an error far
/// below one unit in the last place.
fn ln_factorial(value: usize) -> f64 {
    if value <= 20 {
        return ((1..=value as u64).product::<u64>() as f64).ln();
    }
    let argument = value as f64 + 1.0;
    let inverse = 1.0 / argument;
    let inverse_square = inverse * inverse;
    let series = inverse
        * (1.0 / 12.0
            - inverse_square
                * (1.0 / 360.0
                    - inverse_square
                        * (1.0 / 1260.0
                            - inverse_square * (1.0 / 1680.0 - inverse_square / 1188.0))));
    let half_ln_tau = 0.5 * std::f64::consts::TAU.ln();
    (argument - 0.5) * (argument.ln() - 1.0) + (half_ln_tau - 0.5) + series
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

/// Purity of `found` against `truth`: the share of documents whose found cluster's most common
/// true label is their own, that is the sum over found clusters of their largest true-label
/// count, divided by the number of documents.
///
/// When two true labels tie for most common in a cluster, either gives the same count, so the
/// score does not depend on how the tie is broken. Purity rewards splitting (every singleton
/// cluster is pure), so read it next to [`adjusted_mutual_information`]. No documents score 1.0:
/// none is misplaced.
pub fn purity<A, B>(truth: &[A], found: &[B]) -> f64
where
    A: Hash + Eq + Clone,
    B: Hash + Eq + Clone,
{
    let table = contingency(truth, found);
    if table.total == 0.0 {
        return 1.0;
    }
    let column_count = table.column_totals.len();
    let mut majorities = vec![0.0f64; column_count];
    for (index, &count) in table.cells.iter().enumerate() {
        let majority = &mut majorities[index % column_count];
        *majority = majority.max(count);
    }
    majorities.iter().sum::<f64>() / table.total
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

    /// The labellings of `tests/fixtures/cluster/make_metrics_reference.py`, which ports
    /// `crate::cluster::random::Random` to Python to rebuild them for scikit-learn.
    mod labellings {
        use crate::cluster::random::Random;

        pub fn uniform(seed: u64, size: usize, classes: usize) -> Vec<usize> {
            let mut random = Random::new(seed);
            (0..size).map(|_| random.below(classes)).collect()
        }

        /// `labels` with each label kept with probability `keep_share`, else drawn anew.
        pub fn noisy_copy(
            seed: u64,
            labels: &[usize],
            keep_share: f64,
            classes: usize,
        ) -> Vec<usize> {
            let mut random = Random::new(seed);
            labels
                .iter()
                .map(|&label| {
                    if random.unit() < keep_share {
                        label
                    } else {
                        random.below(classes)
                    }
                })
                .collect()
        }

        /// 200 documents in classes of 150, 30, 15, 4 and 1.
        pub fn imbalanced_truth() -> Vec<usize> {
            [150, 30, 15, 4, 1]
                .iter()
                .enumerate()
                .flat_map(|(label, &size)| std::iter::repeat_n(label, size))
                .collect()
        }

        /// 80% in group 0, the rest spread over groups 1 to 6.
        pub fn skewed(seed: u64, size: usize) -> Vec<usize> {
            let mut random = Random::new(seed);
            (0..size)
                .map(|_| {
                    if random.below(100) < 80 {
                        0
                    } else {
                        1 + random.below(6)
                    }
                })
                .collect()
        }

        pub fn shuffled(seed: u64, labels: &[usize]) -> Vec<usize> {
            let mut items = labels.to_vec();
            Random::new(seed).shuffle(&mut items);
            items
        }
    }

    /// One case of the reference script: the first labels it printed for each side (to catch
    /// a drift between the Python port and `Random`), then scikit-learn's AMI and the purity.
    struct Reference {
        first_starts: [usize; 8],
        second_starts: [usize; 8],
        ami: f64,
        purity: f64,
    }

    fn assert_matches(first: &[usize], second: &[usize], reference: &Reference, tolerance: f64) {
        assert_eq!(
            first[..8],
            reference.first_starts,
            "first labelling drifted"
        );
        assert_eq!(
            second[..8],
            reference.second_starts,
            "second labelling drifted"
        );
        let ami = adjusted_mutual_information(first, second);
        assert!(
            (ami - reference.ami).abs() < tolerance,
            "AMI {ami} vs {}",
            reference.ami
        );
        let purity = purity(first, second);
        assert!(
            (purity - reference.purity).abs() < 1e-12,
            "purity {purity} vs {}",
            reference.purity
        );
    }

    // Reference values below: scikit-learn 1.9.1 `adjusted_mutual_info_score` (default
    // average_method="arithmetic") and purity from numpy 2.4.6 over scikit-learn's
    // `contingency_matrix` (sum of column maxima / total), printed by
    // tests/fixtures/cluster/make_metrics_reference.py.

    #[test]
    fn independent_labellings_with_five_and_nine_classes_match_scikit_learn() {
        let reference = Reference {
            first_starts: [4, 1, 2, 3, 4, 4, 1, 3],
            second_starts: [6, 5, 6, 2, 3, 6, 6, 2],
            ami: 0.006_004_882_816_424_592_4,
            purity: 0.325,
        };
        let five = labellings::uniform(1, 200, 5);
        assert_matches(&five, &labellings::uniform(2, 200, 9), &reference, 1e-12);
    }

    #[test]
    fn noisy_copy_of_five_classes_into_nine_matches_scikit_learn() {
        let reference = Reference {
            first_starts: [4, 1, 2, 3, 4, 4, 1, 3],
            second_starts: [8, 1, 2, 7, 4, 4, 3, 3],
            ami: 0.576_862_050_046_184_1,
            purity: 0.825,
        };
        let five = labellings::uniform(1, 200, 5);
        let copy = labellings::noisy_copy(3, &five, 0.7, 9);
        assert_matches(&five, &copy, &reference, 1e-12);
    }

    #[test]
    fn noisy_copy_of_nine_classes_matches_scikit_learn() {
        let reference = Reference {
            first_starts: [7, 2, 0, 8, 3, 0, 1, 1],
            second_starts: [7, 6, 0, 8, 3, 0, 1, 1],
            ami: 0.339_566_841_862_872_4,
            purity: 0.59,
        };
        let nine = labellings::uniform(4, 200, 9);
        let copy = labellings::noisy_copy(5, &nine, 0.5, 9);
        assert_matches(&nine, &copy, &reference, 1e-12);
    }

    #[test]
    fn imbalanced_labellings_match_scikit_learn_below_zero() {
        let reference = Reference {
            first_starts: [0; 8],
            second_starts: [0, 1, 0, 6, 0, 0, 0, 0],
            ami: -0.009_155_510_691_738_998,
            purity: 0.75,
        };
        let truth = labellings::imbalanced_truth();
        assert_matches(&truth, &labellings::skewed(6, 200), &reference, 1e-12);
    }

    #[test]
    fn shuffled_copy_scores_about_zero_as_in_scikit_learn() {
        let reference = Reference {
            first_starts: [4, 1, 2, 3, 4, 4, 1, 3],
            second_starts: [0, 3, 3, 0, 0, 3, 4, 2],
            ami: -0.004_295_391_293_707_264,
            purity: 0.27,
        };
        let five = labellings::uniform(1, 200, 5);
        assert_matches(&five, &labellings::shuffled(7, &five), &reference, 1e-12);
    }

    #[test]
    fn renamed_copy_scores_one() {
        // scikit-learn: AMI 1.0, purity 1.0.
        let five = labellings::uniform(1, 200, 5);
        let renamed: Vec<usize> = five.iter().map(|&label| (2 * label + 3) % 5).collect();
        assert!((adjusted_mutual_information(&five, &renamed) - 1.0).abs() < 1e-12);
        assert!((adjusted_mutual_information(&five, &five) - 1.0).abs() < 1e-12);
        assert_eq!(purity(&five, &renamed), 1.0);
    }

    #[test]
    fn thirty_thousand_documents_in_two_hundred_groups_match_scikit_learn() {
        let reference = Reference {
            first_starts: [122, 137, 107, 12, 74, 190, 71, 16],
            second_starts: [122, 116, 49, 65, 74, 20, 183, 172],
            ami: 0.206_439_148_671_435_78,
            purity: 0.303_266_666_666_666_7,
        };
        let first = labellings::uniform(8, 30_000, 200);
        let second = labellings::noisy_copy(9, &first, 0.3, 200);
        assert_matches(&first, &second, &reference, 1e-10);
    }

    #[test]
    fn small_labellings_match_scikit_learn() {
        // (first, second, scikit-learn AMI, purity of second against first).
        let cases: [(&[u8], &[u8], f64, f64); 5] = [
            (&[0, 0, 1, 1], &[1, 1, 0, 0], 1.0, 1.0),
            (&[0, 0, 0, 0], &[0, 1, 2, 3], 0.0, 1.0),
            (&[0, 1, 2, 3], &[0, 1, 2, 3], 1.0, 1.0),
            (
                &[0, 1, 2, 3],
                &[0, 0, 1, 1],
                -6.406_853_007_629_836e-16,
                0.5,
            ),
            (
                &[0, 0, 1, 1, 2, 2],
                &[0, 0, 0, 1, 1, 1],
                0.298_792_458_170_890_3,
                2.0 / 3.0,
            ),
        ];
        for (first, second, ami, expected_purity) in cases {
            let found = adjusted_mutual_information(first, second);
            assert!(
                (found - ami).abs() < 1e-12,
                "{first:?} {second:?}: AMI {found}"
            );
            assert!((purity(first, second) - expected_purity).abs() < 1e-12);
        }
    }

    #[test]
    fn degenerate_labellings_score_as_in_scikit_learn() {
        let empty: [u8; 0] = [];
        assert_eq!(adjusted_mutual_information(&empty, &empty), 1.0);
        assert_eq!(
            adjusted_mutual_information(&[3, 3, 3], &["a", "a", "a"]),
            1.0
        );
        assert_eq!(adjusted_mutual_information(&[3, 3, 3], &[0, 1, 1]), 0.0);
        assert_eq!(adjusted_mutual_information(&[0, 1, 1], &[3, 3, 3]), 0.0);
        assert_eq!(purity(&empty, &empty), 1.0);
        assert_eq!(purity(&[0, 1, 1], &[3, 3, 3]), 2.0 / 3.0);
    }

    #[test]
    fn purity_is_the_same_whichever_tied_label_wins() {
        // Found cluster 7 holds one document of each true label.
        assert_eq!(purity(&[0, 1, 2, 2], &[7, 7, 8, 8]), 0.75);
        assert_eq!(purity(&[1, 0, 2, 2], &[7, 7, 8, 8]), 0.75);
    }

    #[test]
    fn ln_factorial_matches_log_gamma() {
        // scipy 1.17.1 `gammaln(n + 1)` (ln 2! is `LN_2` to the last digit).
        let reference = [
            (0, 0.0),
            (1, 0.0),
            (2, std::f64::consts::LN_2),
            (10, 15.104_412_573_075_516),
            (20, 42.335_616_460_753_485),
            (21, 45.380_138_898_476_91),
            (22, 48.471_181_351_835_23),
            (50, 148.477_766_951_773_02),
            (100, 363.739_375_555_563_47),
            (1000, 5_912.128_178_488_164),
            (30_000, 279_274.653_236_970_1),
        ];
        for (value, expected) in reference {
            let found = ln_factorial(value);
            assert!(
                (found - expected).abs() <= 4.0 * f64::EPSILON * expected.max(1.0),
                "ln({value}!) = {found}, log-gamma says {expected}"
            );
        }
    }
}
