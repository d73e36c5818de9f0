//! An impact score that orders recurring problems for the teams that own
//! them.
//!
//! Goes in: a cluster's size this period, its share of negative documents,
//! the mean age of its documents, and the summed value of the customers who
//! wrote them. Comes out: a score and the four factors it multiplies, so a
//! report can say why one problem ranks above another. Each factor grows
//! with what it measures but saturates or decays, so no single input
//! dominates: size and value enter through a logarithm, negativity through a
//! floored share, recency through an exponential half-life.

/// Shape of the impact factors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImpactSettings {
    /// Weight a cluster with no negative documents still gets (0..1).
    pub sentiment_floor: f64,
    /// Age in days at which the recency factor halves.
    pub half_life_days: f64,
    /// Customer value that counts as "one typical customer".
    pub reference_value: f64,
}

impl Default for ImpactSettings {
    fn default() -> Self {
        Self {
            sentiment_floor: 0.2,
            half_life_days: 30.0,
            reference_value: 1.0,
        }
    }
}

/// What is known about one cluster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImpactInputs {
    /// Documents in the cluster this period.
    pub size: usize,
    /// Share of them classified negative (0..1).
    pub negative_share: f64,
    /// Mean age of its documents in days (0 = today).
    pub mean_age_days: f64,
    /// Sum of the customer value attached to its documents (0 when unknown).
    pub customer_value: f64,
}

/// The score and the factors it is the product of.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImpactScore {
    /// `size_factor * sentiment_factor * recency_factor * value_factor`.
    pub score: f64,
    /// `ln(1 + size)`.
    pub size_factor: f64,
    /// `floor + (1 - floor) * negative_share`.
    pub sentiment_factor: f64,
    /// `0.5 ^ (mean_age_days / half_life_days)`.
    pub recency_factor: f64,
    /// `1 + ln(1 + customer_value / reference_value)`.
    pub value_factor: f64,
}

/// Computes the impact score of one cluster.
pub fn impact_score(inputs: &ImpactInputs, settings: &ImpactSettings) -> ImpactScore {
    let floor = settings.sentiment_floor.clamp(0.0, 1.0);
    let size_factor = (1.0 + inputs.size as f64).ln();
    let sentiment_factor = floor + (1.0 - floor) * inputs.negative_share.clamp(0.0, 1.0);
    let age_in_half_lives =
        inputs.mean_age_days.max(0.0) / settings.half_life_days.max(f64::MIN_POSITIVE);
    let recency_factor = 0.5f64.powf(age_in_half_lives);
    let value = inputs.customer_value.max(0.0) / settings.reference_value.max(f64::MIN_POSITIVE);
    let value_factor = 1.0 + value.ln_1p();
    ImpactScore {
        score: size_factor * sentiment_factor * recency_factor * value_factor,
        size_factor,
        sentiment_factor,
        recency_factor,
        value_factor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(
        size: usize,
        negative_share: f64,
        mean_age_days: f64,
        customer_value: f64,
    ) -> ImpactInputs {
        ImpactInputs {
            size,
            negative_share,
            mean_age_days,
            customer_value,
        }
    }

    #[test]
    fn factors_match_their_formulas() {
        let score = impact_score(&inputs(99, 0.5, 30.0, 0.0), &ImpactSettings::default());
        assert!((score.size_factor - 100f64.ln()).abs() < 1e-12);
        assert!((score.sentiment_factor - 0.6).abs() < 1e-12);
        assert!((score.recency_factor - 0.5).abs() < 1e-12);
        assert_eq!(score.value_factor, 1.0);
        assert!((score.score - 100f64.ln() * 0.6 * 0.5).abs() < 1e-12);
    }

    #[test]
    fn each_input_moves_the_score_the_right_way() {
        let settings = ImpactSettings::default();
        let base = impact_score(&inputs(50, 0.5, 10.0, 100.0), &settings).score;
        assert!(impact_score(&inputs(80, 0.5, 10.0, 100.0), &settings).score > base);
        assert!(impact_score(&inputs(50, 0.9, 10.0, 100.0), &settings).score > base);
        assert!(impact_score(&inputs(50, 0.5, 2.0, 100.0), &settings).score > base);
        assert!(impact_score(&inputs(50, 0.5, 10.0, 900.0), &settings).score > base);
        assert_eq!(
            impact_score(&inputs(0, 1.0, 0.0, 0.0), &settings).score,
            0.0
        );
    }
}
