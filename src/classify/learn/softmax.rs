//! Softmax and log-likelihood helpers shared by training, calibration and prediction.

/// Turns `logits` divided by `temperature` into probabilities, in place.
///
/// Subtracting the maximum first keeps `exp` from overflowing.
pub fn softmax_in_place(logits: &mut [f32], temperature: f32) {
    let maximum = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut total = 0.0f32;
    for value in logits.iter_mut() {
        *value = ((*value - maximum) / temperature).exp();
        total += *value;
    }
    for value in logits.iter_mut() {
        *value /= total;
    }
}

/// Row-major `logits` of `class_count` classes as probabilities at `temperature`.
pub fn softmax_rows(logits: &[f32], class_count: usize, temperature: f32) -> Vec<f32> {
    let mut probabilities = logits.to_vec();
    probabilities
        .chunks_exact_mut(class_count)
        .for_each(|row| softmax_in_place(row, temperature));
    probabilities
}

/// `-log softmax(logits / temperature)[label]`, computed in `f64` for stable sums.
pub fn negative_log_likelihood(logits: &[f32], label: usize, temperature: f64) -> f64 {
    let maximum = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let total: f64 = logits
        .iter()
        .map(|&value| ((value as f64 - maximum) / temperature).exp())
        .sum();
    total.ln() - (logits[label] as f64 - maximum) / temperature
}

/// Mean negative log-likelihood of row-major `logits` (`labels.len()` rows) at `temperature`.
pub fn mean_negative_log_likelihood(logits: &[f32], labels: &[usize], temperature: f64) -> f64 {
    if labels.is_empty() {
        return 0.0;
    }
    let class_count = logits.len() / labels.len();
    let total: f64 = logits
        .chunks_exact(class_count)
        .zip(labels)
        .map(|(row, &label)| negative_log_likelihood(row, label, temperature))
        .sum();
    total / labels.len() as f64
}

/// Index of the largest value; the first one wins ties.
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (index, &value) in values.iter().enumerate() {
        if value > values[best] {
            best = index;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_keeps_order() {
        let mut values = vec![1.0, 3.0, 2.0];
        softmax_in_place(&mut values, 1.0);
        assert!((values.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(argmax(&values), 1);
        assert!(values[1] > values[2] && values[2] > values[0]);
    }

    #[test]
    fn high_temperature_flattens() {
        let mut sharp = vec![0.0, 4.0];
        let mut flat = sharp.clone();
        softmax_in_place(&mut sharp, 1.0);
        softmax_in_place(&mut flat, 10.0);
        assert!(flat[1] < sharp[1]);
    }

    #[test]
    fn likelihood_of_uniform_logits_is_log_classes() {
        let nll = negative_log_likelihood(&[0.5, 0.5, 0.5], 2, 1.0);
        assert!((nll - 3f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn argmax_prefers_first_of_ties() {
        assert_eq!(argmax(&[1.0, 2.0, 2.0]), 1);
    }
}
