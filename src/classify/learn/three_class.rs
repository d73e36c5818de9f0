//! Three-way sentiment from a two-class head. A head trained only on negative and positive
//! documents still has to say "neutral" in production; here a document is neutral when the
//! calibrated probabilities of the two classes are within `margin` of each other. Calibration is
//! what makes one margin meaningful across heads and data sets.

use serde::{Deserialize, Serialize};

/// A three-way sentiment decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreeWaySentiment {
    /// Negative clearly more likely.
    Negative,
    /// Neither side by more than the margin.
    Neutral,
    /// Positive clearly more likely.
    Positive,
}

impl ThreeWaySentiment {
    /// Position in the order negative, neutral, positive.
    pub fn index(self) -> usize {
        match self {
            ThreeWaySentiment::Negative => 0,
            ThreeWaySentiment::Neutral => 1,
            ThreeWaySentiment::Positive => 2,
        }
    }
}

/// Reads a binary head's calibrated probabilities as a three-way decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BinaryToThreeWay {
    /// Index of the negative class in the head's probabilities.
    pub negative_index: usize,
    /// Index of the positive class.
    pub positive_index: usize,
    /// Neutral when `|p_positive - p_negative| < margin`; 0 never says neutral.
    pub margin: f32,
}

impl BinaryToThreeWay {
    /// Finds the classes named `negative` and `positive` in `class_names`.
    pub fn from_class_names(class_names: &[String], margin: f32) -> Option<Self> {
        let position = |name: &str| class_names.iter().position(|class| class == name);
        Some(Self {
            negative_index: position("negative")?,
            positive_index: position("positive")?,
            margin,
        })
    }

    /// The decision for one row of calibrated probabilities.
    pub fn decide(&self, probabilities: &[f32]) -> ThreeWaySentiment {
        let negative = probabilities[self.negative_index];
        let positive = probabilities[self.positive_index];
        if (positive - negative).abs() < self.margin {
            ThreeWaySentiment::Neutral
        } else if positive > negative {
            ThreeWaySentiment::Positive
        } else {
            ThreeWaySentiment::Negative
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_probabilities_are_neutral() {
        let names = ["negative", "positive"].map(String::from);
        let rule = BinaryToThreeWay::from_class_names(&names, 0.3).unwrap();
        assert_eq!(rule.decide(&[0.9, 0.1]), ThreeWaySentiment::Negative);
        assert_eq!(rule.decide(&[0.2, 0.8]), ThreeWaySentiment::Positive);
        assert_eq!(rule.decide(&[0.45, 0.55]), ThreeWaySentiment::Neutral);
        assert_eq!(rule.decide(&[0.6, 0.4]), ThreeWaySentiment::Neutral);
    }

    #[test]
    fn zero_margin_never_says_neutral() {
        let rule = BinaryToThreeWay {
            negative_index: 1,
            positive_index: 0,
            margin: 0.0,
        };
        assert_eq!(rule.decide(&[0.5, 0.5]), ThreeWaySentiment::Negative);
        assert_eq!(rule.decide(&[0.51, 0.49]), ThreeWaySentiment::Positive);
    }

    #[test]
    fn missing_class_names_give_none() {
        let names = ["bad", "good"].map(String::from);
        assert!(BinaryToThreeWay::from_class_names(&names, 0.2).is_none());
    }
}
