//! A cluster's trend over periods: its status and whether this period spikes.
//!
//! Goes in: the cluster's document count per period, oldest first, the last
//! entry being the current period. Comes out: a [`ProblemStatus`] and a spike
//! flag. Counts (not shares) are compared; a caller whose period volumes
//! swing widely can pass counts scaled to a common volume.

use crate::problem::ProblemStatus;

/// Thresholds for status and spikes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendSettings {
    /// Relative change on the previous period that counts as growing or shrinking.
    pub change_ratio: f64,
    /// Earlier periods needed before a spike can be flagged.
    pub spike_history: usize,
    /// Standard deviations above the earlier mean that make a spike.
    pub spike_deviations: f64,
}

impl Default for TrendSettings {
    fn default() -> Self {
        Self {
            change_ratio: 0.2,
            spike_history: 3,
            spike_deviations: 2.0,
        }
    }
}

/// The status of a cluster from its per-period counts (current last).
pub fn cluster_status(counts: &[usize], settings: &TrendSettings) -> ProblemStatus {
    let Some((&current, earlier)) = counts.split_last() else {
        return ProblemStatus::Gone;
    };
    let seen_before = earlier.iter().any(|&count| count > 0);
    if current == 0 {
        return if seen_before {
            ProblemStatus::Gone
        } else {
            ProblemStatus::New
        };
    }
    let previous = *earlier.last().unwrap_or(&0);
    if !seen_before {
        return ProblemStatus::New;
    }
    let change = (current as f64 - previous as f64) / (previous as f64).max(1.0);
    if change > settings.change_ratio {
        ProblemStatus::Growing
    } else if change < -settings.change_ratio {
        ProblemStatus::Shrinking
    } else {
        ProblemStatus::Stable
    }
}

/// Whether the current period (last count) exceeds the mean of the earlier
/// periods by more than `spike_deviations` sample standard deviations, given
/// at least `spike_history` earlier periods.
pub fn is_spike(counts: &[usize], settings: &TrendSettings) -> bool {
    let Some((&current, earlier)) = counts.split_last() else {
        return false;
    };
    if earlier.len() < settings.spike_history.max(2) {
        return false;
    }
    let count = earlier.len() as f64;
    let mean = earlier.iter().map(|&value| value as f64).sum::<f64>() / count;
    let variance = earlier
        .iter()
        .map(|&value| (value as f64 - mean).powi(2))
        .sum::<f64>()
        / (count - 1.0);
    current as f64 > mean + settings.spike_deviations * variance.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_counts() {
        let settings = TrendSettings::default();
        assert_eq!(cluster_status(&[0, 0, 5], &settings), ProblemStatus::New);
        assert_eq!(cluster_status(&[7], &settings), ProblemStatus::New);
        assert_eq!(
            cluster_status(&[10, 10, 13], &settings),
            ProblemStatus::Growing
        );
        assert_eq!(
            cluster_status(&[10, 10, 11], &settings),
            ProblemStatus::Stable
        );
        assert_eq!(
            cluster_status(&[10, 10, 7], &settings),
            ProblemStatus::Shrinking
        );
        assert_eq!(cluster_status(&[10, 3, 0], &settings), ProblemStatus::Gone);
        assert_eq!(
            cluster_status(&[4, 0, 6], &settings),
            ProblemStatus::Growing
        );
    }

    #[test]
    fn spikes_need_history_and_two_deviations() {
        let settings = TrendSettings::default();
        // Earlier 10, 12, 14: mean 12, sample sd 2, so the bar is 16.
        assert!(!is_spike(&[10, 12, 14, 16], &settings));
        assert!(is_spike(&[10, 12, 14, 17], &settings));
        assert!(!is_spike(&[10, 12, 40], &settings));
        assert!(is_spike(&[5, 5, 5, 6], &settings));
    }
}
