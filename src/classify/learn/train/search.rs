//! The regularisation search behind [`super::train_head`]: every candidate strength is fitted
//! on the fit part and scored on the validation part ([`ValidationSet`]); the winner is refitted
//! (linear) or kept at its best early-stopped epoch (MLP), and its validation logits are handed
//! back for calibration.

use rayon::prelude::*;

use super::{class_weights, SelectionCriterion, TrainingSettings};
use crate::classify::learn::head::{CandidateScore, HeadModel, MlpModel};
use crate::classify::learn::linear::{fit_linear, WeightedRows};
use crate::classify::learn::matrix::Matrix;
use crate::classify::learn::metrics::ClassificationReport;
use crate::classify::learn::mlp::{fit_mlp, MlpFit, MlpRows};
use crate::classify::learn::softmax::{argmax, negative_log_likelihood};
use crate::classify::learn::split::Partition;

/// The held-out rows, transformed, with the loss weights of the fit part's classes.
pub(super) struct ValidationSet {
    features: Matrix,
    pub(super) labels: Vec<usize>,
    class_names: Vec<String>,
    class_weights: Vec<f64>,
    selection: SelectionCriterion,
}

impl ValidationSet {
    pub(super) fn new(
        features: &Matrix,
        labels: &[usize],
        class_count: usize,
        partition: &Partition,
        settings: &TrainingSettings,
    ) -> Self {
        let fit_labels: Vec<usize> = partition.fit.iter().map(|&row| labels[row]).collect();
        Self {
            features: features.view().select_rows(&partition.validation),
            labels: partition
                .validation
                .iter()
                .map(|&row| labels[row])
                .collect(),
            class_names: (0..class_count).map(|class| class.to_string()).collect(),
            class_weights: class_weights(&fit_labels, class_count, settings.class_weighting),
            selection: settings.selection,
        }
    }

    /// Loss weight of each class, from the fit part's labels.
    pub(super) fn class_weights(&self) -> &[f64] {
        &self.class_weights
    }

    /// Scores a model (given as its logits function); returns the score and the logits.
    fn score(
        &self,
        logits_of: impl Fn(&[f32]) -> Vec<f32> + Sync,
        regularisation: f64,
    ) -> (CandidateScore, Vec<f32>) {
        let logits: Vec<f32> = (0..self.features.rows())
            .into_par_iter()
            .flat_map_iter(|row| logits_of(self.features.row(row)))
            .collect();
        let class_count = self.class_weights.len();
        let predicted: Vec<usize> = logits.chunks_exact(class_count).map(argmax).collect();
        let report = ClassificationReport::compute(&self.labels, &predicted, &self.class_names)
            .expect("validation labels are in range");
        let (mut weighted_loss, mut total_weight) = (0.0, 0.0);
        for (row, &label) in logits.chunks_exact(class_count).zip(&self.labels) {
            weighted_loss += self.class_weights[label] * negative_log_likelihood(row, label, 1.0);
            total_weight += self.class_weights[label];
        }
        let score = CandidateScore {
            regularisation,
            validation_macro_f1: report.macro_f1,
            validation_nll: weighted_loss / total_weight,
        };
        (score, logits)
    }

    /// The number the selection maximises.
    fn objective(&self, score: &CandidateScore) -> f64 {
        match self.selection {
            SelectionCriterion::MacroF1 => score.validation_macro_f1,
            SelectionCriterion::LogLoss => -score.validation_nll,
        }
    }
}

/// A trained model before calibration, with what the summary needs.
pub(super) struct TrainedModel {
    pub(super) model: HeadModel,
    pub(super) validation_logits: Vec<f32>,
    pub(super) candidates: Vec<CandidateScore>,
    pub(super) regularisation: f64,
    pub(super) epochs: Option<usize>,
    pub(super) final_rows: usize,
    pub(super) class_weights: Vec<f64>,
}

/// Grid search over L2 on the fit part (warm-started, strongest penalty first), refit on all.
pub(super) fn train_linear(
    features: &Matrix,
    labels: &[usize],
    partition: &Partition,
    validation: &ValidationSet,
    settings: &TrainingSettings,
) -> TrainedModel {
    let fit_rows = WeightedRows::new(
        features.view(),
        labels,
        &partition.fit,
        &validation.class_weights,
    );
    let (candidates, best) = search_l2(&fit_rows, validation, settings);
    let LinearCandidate {
        l2,
        parameters,
        validation_logits,
        ..
    } = best;
    let all_rows: Vec<usize> = (0..labels.len()).collect();
    let final_weights = class_weights(
        labels,
        validation.class_weights.len(),
        settings.class_weighting,
    );
    let refit_rows = WeightedRows::new(features.view(), labels, &all_rows, &final_weights);
    let refit = fit_linear(&refit_rows, l2, &settings.linear.lbfgs, Some(parameters));
    TrainedModel {
        model: HeadModel::Linear(refit.model),
        validation_logits,
        candidates,
        regularisation: l2,
        epochs: None,
        final_rows: labels.len(),
        class_weights: final_weights,
    }
}

/// The best linear candidate so far.
struct LinearCandidate {
    objective: f64,
    l2: f64,
    parameters: Vec<f64>,
    validation_logits: Vec<f32>,
}

/// Fits every L2 strength on the fit part, strongest first, each warm-started from the last;
/// returns every candidate's scores and the best one (the stronger penalty wins ties).
fn search_l2(
    fit_rows: &WeightedRows,
    validation: &ValidationSet,
    settings: &TrainingSettings,
) -> (Vec<CandidateScore>, LinearCandidate) {
    let mut grid = settings.linear.l2_grid.clone();
    grid.sort_by(|left, right| right.total_cmp(left));
    let mut candidates = Vec::new();
    let mut best: Option<LinearCandidate> = None;
    let mut start = None;
    for &l2 in &grid {
        let fit = fit_linear(fit_rows, l2, &settings.linear.lbfgs, start);
        let (score, validation_logits) = validation.score(|row| fit.model.logits(row), l2);
        let objective = validation.objective(&score);
        if best.as_ref().is_none_or(|best| objective > best.objective) {
            let parameters = fit.parameters.clone();
            best = Some(LinearCandidate {
                objective,
                l2,
                parameters,
                validation_logits,
            });
        }
        candidates.push(score);
        start = Some(fit.parameters);
    }
    (candidates, best.expect("the grid is not empty"))
}

/// Grid search over weight decay; each candidate is early-stopped on the validation part.
pub(super) fn train_mlp(
    features: &Matrix,
    labels: &[usize],
    partition: &Partition,
    validation: &ValidationSet,
    settings: &TrainingSettings,
) -> TrainedModel {
    let fit_features = features.view().select_rows(&partition.fit);
    let fit_labels: Vec<usize> = partition.fit.iter().map(|&row| labels[row]).collect();
    let fit_weights: Vec<f32> = fit_labels
        .iter()
        .map(|&label| validation.class_weights[label] as f32)
        .collect();
    let rows = MlpRows {
        features: fit_features.view(),
        labels: &fit_labels,
        weights: &fit_weights,
        class_count: validation.class_weights.len(),
    };
    let mut candidates = Vec::new();
    let mut best: Option<(f64, f64, MlpFit)> = None;
    for &decay in &settings.mlp.weight_decay_grid {
        let validate = |model: &MlpModel| {
            validation.objective(&validation.score(|row| model.logits(row), decay).0)
        };
        let fit = fit_mlp(&rows, decay, &settings.mlp, settings.seed, validate);
        let (score, _) = validation.score(|row| fit.model.logits(row), decay);
        candidates.push(score);
        if best
            .as_ref()
            .is_none_or(|(best_objective, ..)| fit.score > *best_objective)
        {
            best = Some((fit.score, decay, fit));
        }
    }
    let (_, decay, fit) = best.expect("the grid is not empty");
    let (_, validation_logits) = validation.score(|row| fit.model.logits(row), decay);
    TrainedModel {
        model: HeadModel::Mlp(fit.model),
        validation_logits,
        candidates,
        regularisation: decay,
        epochs: Some(fit.epoch),
        final_rows: partition.fit.len(),
        class_weights: validation.class_weights.clone(),
    }
}
