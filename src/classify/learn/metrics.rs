//! Classification quality: accuracy, macro-F1, per-class precision / recall / F1 and the
//! confusion matrix, from true and predicted class indices. The report serialises to JSON for
//! `vocmine eval` and renders as a plain-text table for people.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::classify::learn::error::HeadError;

/// Quality of one set of predictions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// Rows scored.
    pub rows: usize,
    /// Share of rows predicted correctly.
    pub accuracy: f64,
    /// Unweighted mean of the per-class F1 scores.
    pub macro_f1: f64,
    /// Scores per class, in class order.
    pub per_class: Vec<ClassScores>,
    /// `confusion[truth][predicted]`: rows of each true class by predicted class.
    pub confusion: Vec<Vec<usize>>,
}

/// Scores of one class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    /// Class name.
    pub name: String,
    /// Correct predictions of this class / all predictions of it (0 when never predicted).
    pub precision: f64,
    /// Correct predictions of this class / rows truly of it (0 when it has none).
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
    /// Rows truly of this class.
    pub support: usize,
}

impl ClassificationReport {
    /// Scores `predicted` against `truth`; both hold indices into `class_names`.
    pub fn compute(
        truth: &[usize],
        predicted: &[usize],
        class_names: &[String],
    ) -> Result<Self, HeadError> {
        if truth.len() != predicted.len() {
            return Err(HeadError::LabelCount {
                rows: predicted.len(),
                labels: truth.len(),
            });
        }
        let class_count = class_names.len();
        let mut confusion = vec![vec![0usize; class_count]; class_count];
        for (row, (&actual, &guess)) in truth.iter().zip(predicted).enumerate() {
            let label = actual.max(guess);
            if label >= class_count {
                return Err(HeadError::LabelOutOfRange {
                    row,
                    label,
                    class_count,
                });
            }
            confusion[actual][guess] += 1;
        }
        let per_class: Vec<ClassScores> = class_names
            .iter()
            .enumerate()
            .map(|(class, name)| class_scores(&confusion, class, name))
            .collect();
        let correct: usize = (0..class_count).map(|class| confusion[class][class]).sum();
        Ok(Self {
            rows: truth.len(),
            accuracy: ratio(correct, truth.len()),
            macro_f1: per_class.iter().map(|scores| scores.f1).sum::<f64>()
                / class_count.max(1) as f64,
            per_class,
            confusion,
        })
    }

    /// A plain-text table: per-class scores, the totals, then the confusion matrix.
    pub fn render_table(&self) -> String {
        let width = self
            .per_class
            .iter()
            .map(|scores| scores.name.len())
            .max()
            .unwrap_or(0)
            .max(9);
        let mut table = String::new();
        let _ = writeln!(
            table,
            "{:<width$}  precision  recall      f1  support",
            "class"
        );
        for scores in &self.per_class {
            let _ = writeln!(
                table,
                "{:<width$}  {:>9.3}  {:>6.3}  {:>6.3}  {:>7}",
                scores.name, scores.precision, scores.recall, scores.f1, scores.support
            );
        }
        let _ = writeln!(
            table,
            "{:<width$}  {:>9}  {:>6}  {:>6.3}  {:>7}",
            "macro", "", "", self.macro_f1, self.rows
        );
        let _ = writeln!(
            table,
            "{:<width$}  {:>9}  {:>6}  {:>6.3}  {:>7}",
            "accuracy", "", "", self.accuracy, self.rows
        );
        let _ = writeln!(table, "\nconfusion (rows: truth, columns: predicted)");
        let _ = write!(table, "{:<width$}", "");
        for scores in &self.per_class {
            let _ = write!(table, "  {:>w$}", scores.name, w = scores.name.len().max(6));
        }
        for (scores, counts) in self.per_class.iter().zip(&self.confusion) {
            let _ = write!(table, "\n{:<width$}", scores.name);
            for (column, count) in self.per_class.iter().zip(counts) {
                let _ = write!(table, "  {:>w$}", count, w = column.name.len().max(6));
            }
        }
        table.push('\n');
        table
    }
}

fn class_scores(confusion: &[Vec<usize>], class: usize, name: &str) -> ClassScores {
    let correct = confusion[class][class];
    let predicted: usize = confusion.iter().map(|counts| counts[class]).sum();
    let support: usize = confusion[class].iter().sum();
    let precision = ratio(correct, predicted);
    let recall = ratio(correct, support);
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    ClassScores {
        name: name.to_string(),
        precision,
        recall,
        f1,
        support,
    }
}

fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["negative", "neutral", "positive"]
            .map(String::from)
            .to_vec()
    }

    /// Hand-checked: truth n n n n u u p p p p, predicted n n n u u n p p p n.
    /// negative: 3 correct of 5 predicted (P 0.6) and of 4 true (R 0.75), F1 = 2/3.
    /// neutral: 1 of 2 predicted (P 0.5), 1 of 2 true (R 0.5), F1 0.5.
    /// positive: 3 of 3 predicted (P 1), 3 of 4 true (R 0.75), F1 = 6/7.
    #[test]
    fn hand_checked_example() {
        let truth = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2];
        let predicted = [0, 0, 0, 1, 1, 0, 2, 2, 2, 0];
        let report = ClassificationReport::compute(&truth, &predicted, &names()).unwrap();
        assert!((report.accuracy - 0.7).abs() < 1e-12);
        let expected_f1 = [2.0 / 3.0, 0.5, 6.0 / 7.0];
        for (scores, expected) in report.per_class.iter().zip(expected_f1) {
            assert!((scores.f1 - expected).abs() < 1e-12, "{}", scores.name);
        }
        assert!((report.per_class[0].precision - 0.6).abs() < 1e-12);
        assert!((report.per_class[2].recall - 0.75).abs() < 1e-12);
        assert!((report.macro_f1 - (2.0 / 3.0 + 0.5 + 6.0 / 7.0) / 3.0).abs() < 1e-12);
        assert_eq!(
            report.confusion,
            vec![vec![3, 1, 0], vec![1, 1, 0], vec![1, 0, 3]]
        );
        assert_eq!(report.per_class[1].support, 2);
    }

    #[test]
    fn never_predicted_class_scores_zero() {
        let report = ClassificationReport::compute(&[0, 1], &[0, 0], &names()).unwrap();
        assert_eq!(report.per_class[1].precision, 0.0);
        assert_eq!(report.per_class[1].f1, 0.0);
        assert_eq!(report.per_class[2].support, 0);
    }

    #[test]
    fn mismatched_lengths_and_bad_labels_fail() {
        assert!(ClassificationReport::compute(&[0], &[0, 1], &names()).is_err());
        assert!(ClassificationReport::compute(&[3], &[0], &names()).is_err());
    }

    #[test]
    fn table_lists_every_class_and_the_totals() {
        let report = ClassificationReport::compute(&[0, 1, 2], &[0, 1, 1], &names()).unwrap();
        let table = report.render_table();
        for word in [
            "negative",
            "neutral",
            "positive",
            "macro",
            "accuracy",
            "confusion",
        ] {
            assert!(table.contains(word), "{word} missing from\n{table}");
        }
        assert!(table.contains("0.667"), "{table}");
    }
}
