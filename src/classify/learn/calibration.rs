//! Temperature scaling: one scalar `T` divides every logit before the softmax, chosen to minimise
//! the negative log-likelihood of held-out rows. It keeps the predicted class and fixes the
//! over- or under-confidence that class weights, regularisation and early stopping leave behind.
//!
//! In go row-major logits and their labels; out comes `T`. With `b = 1 / T` the likelihood is
//! convex in `b` and its derivative, `mean(E_p[z] - z_label)`, only grows with `b`, so bisection
//! on the derivative finds the optimum without any step-size tuning, deterministically.

/// Smallest inverse temperature searched (`T = 100`).
const MINIMUM_INVERSE_TEMPERATURE: f64 = 1e-2;
/// Largest inverse temperature searched (`T = 0.01`).
const MAXIMUM_INVERSE_TEMPERATURE: f64 = 1e2;
const BISECTION_STEPS: usize = 80;

/// The temperature minimising the mean negative log-likelihood of `labels` under
/// `softmax(logits / T)`; `logits` is row-major with `labels.len()` rows. Returns 1 with no rows.
pub fn fit_temperature(logits: &[f32], labels: &[usize]) -> f32 {
    if labels.is_empty() {
        return 1.0;
    }
    let class_count = logits.len() / labels.len();
    let slope = |inverse: f64| likelihood_slope(logits, labels, class_count, inverse);
    let (mut low, mut high) = (
        MINIMUM_INVERSE_TEMPERATURE.ln(),
        MAXIMUM_INVERSE_TEMPERATURE.ln(),
    );
    if slope(low.exp()) >= 0.0 {
        return (1.0 / low.exp()) as f32;
    }
    if slope(high.exp()) <= 0.0 {
        return (1.0 / high.exp()) as f32;
    }
    for _ in 0..BISECTION_STEPS {
        let middle = 0.5 * (low + high);
        if slope(middle.exp()) < 0.0 {
            low = middle;
        } else {
            high = middle;
        }
    }
    (1.0 / (0.5 * (low + high)).exp()) as f32
}

/// Derivative of the mean negative log-likelihood with respect to the inverse temperature.
fn likelihood_slope(logits: &[f32], labels: &[usize], class_count: usize, inverse: f64) -> f64 {
    let total: f64 = logits
        .chunks_exact(class_count)
        .zip(labels)
        .map(|(row, &label)| expected_logit(row, inverse) - row[label] as f64)
        .sum();
    total / labels.len() as f64
}

/// `E[z]` under `softmax(inverse * z)`.
fn expected_logit(row: &[f32], inverse: f64) -> f64 {
    let maximum = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let (mut weighted, mut total) = (0.0, 0.0);
    for &value in row {
        let mass = (inverse * (value as f64 - maximum)).exp();
        weighted += mass * value as f64;
        total += mass;
    }
    weighted / total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::learn::random::SeededRandom;
    use crate::classify::learn::softmax::mean_negative_log_likelihood;

    /// Logits that are too confident: the right class gets +6, but a third of rows are wrong.
    fn overconfident() -> (Vec<f32>, Vec<usize>) {
        let mut random = SeededRandom::new(5);
        let mut logits = Vec::new();
        let mut labels = Vec::new();
        for _ in 0..600 {
            let label = random.below(3);
            let predicted = if random.next_unit() < 0.67 {
                label
            } else {
                (label + 1) % 3
            };
            for class in 0..3 {
                logits.push(if class == predicted { 6.0 } else { 0.0 } + random.normal() as f32);
            }
            labels.push(label);
        }
        (logits, labels)
    }

    #[test]
    fn calibration_lowers_the_likelihood_loss() {
        let (logits, labels) = overconfident();
        let temperature = fit_temperature(&logits, &labels);
        assert!(temperature > 1.5, "temperature {temperature}");
        let before = mean_negative_log_likelihood(&logits, &labels, 1.0);
        let after = mean_negative_log_likelihood(&logits, &labels, temperature as f64);
        assert!(after < before * 0.7, "before {before}, after {after}");
        for nearby in [0.9, 1.1] {
            let other = mean_negative_log_likelihood(&logits, &labels, temperature as f64 * nearby);
            assert!(
                after <= other,
                "temperature {temperature} is not the optimum"
            );
        }
    }

    #[test]
    fn well_separated_data_gets_a_low_temperature() {
        let logits = vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0];
        let temperature = fit_temperature(&logits, &[0, 1, 0]);
        assert!(temperature <= 0.011);
    }

    #[test]
    fn no_rows_means_no_change() {
        assert_eq!(fit_temperature(&[], &[]), 1.0);
    }
}
