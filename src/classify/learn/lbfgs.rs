//! Limited-memory BFGS for smooth unconstrained minimisation, used to fit the multinomial
//! logistic regression head. In goes an objective returning value and gradient, and a start
//! point; out comes the minimiser. Sequential and free of randomness, so it is deterministic as
//! long as the objective is.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Stopping rules and memory size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LbfgsSettings {
    /// Number of curvature pairs kept.
    pub memory: usize,
    /// Upper bound on iterations.
    pub max_iterations: usize,
    /// Stop when the largest gradient component falls below this.
    pub gradient_tolerance: f64,
    /// Stop when one iteration lowers the objective by less than this, relative to its size.
    pub relative_decrease_tolerance: f64,
}

impl Default for LbfgsSettings {
    fn default() -> Self {
        Self {
            memory: 10,
            max_iterations: 500,
            gradient_tolerance: 1e-5,
            relative_decrease_tolerance: 1e-10,
        }
    }
}

/// Where the minimiser stopped.
#[derive(Clone, Debug, PartialEq)]
pub struct Minimum {
    /// The best point found.
    pub point: Vec<f64>,
    /// Objective value at that point.
    pub value: f64,
    /// Iterations taken.
    pub iterations: usize,
    /// Whether a tolerance was met (rather than the iteration limit or a failed line search).
    pub converged: bool,
}

/// A curvature pair: step `s`, gradient change `y`, and `1 / (s . y)`.
struct CurvaturePair {
    step: Vec<f64>,
    gradient_change: Vec<f64>,
    inverse_curvature: f64,
}

const ARMIJO_FRACTION: f64 = 1e-4;
const MAX_BACKTRACKS: usize = 40;

/// Minimises `objective`, which returns the value and the gradient at a point.
pub fn minimise<F>(objective: F, start: Vec<f64>, settings: &LbfgsSettings) -> Minimum
where
    F: Fn(&[f64]) -> (f64, Vec<f64>),
{
    let mut point = start;
    let (mut value, mut gradient) = objective(&point);
    let mut history: VecDeque<CurvaturePair> = VecDeque::new();
    for iteration in 0..settings.max_iterations {
        if max_magnitude(&gradient) < settings.gradient_tolerance {
            return finish(point, value, iteration, true);
        }
        let mut direction = search_direction(&gradient, &history);
        if dot(&gradient, &direction) >= 0.0 {
            history.clear();
            direction = gradient.iter().map(|value| -value).collect();
        }
        let first_step = if history.is_empty() {
            (1.0 / norm(&gradient)).min(1.0)
        } else {
            1.0
        };
        let Some((next_point, next_value, next_gradient)) =
            line_search(&objective, &point, value, &gradient, &direction, first_step)
        else {
            return finish(point, value, iteration, false);
        };
        remember(
            &mut history,
            settings.memory,
            &point,
            &next_point,
            &gradient,
            &next_gradient,
        );
        let decrease = (value - next_value) / value.abs().max(next_value.abs()).max(1.0);
        point = next_point;
        value = next_value;
        gradient = next_gradient;
        if decrease < settings.relative_decrease_tolerance {
            return finish(point, value, iteration + 1, true);
        }
    }
    finish(point, value, settings.max_iterations, false)
}

fn finish(point: Vec<f64>, value: f64, iterations: usize, converged: bool) -> Minimum {
    Minimum {
        point,
        value,
        iterations,
        converged,
    }
}

/// Backtracking until the Armijo sufficient-decrease condition holds.
fn line_search<F>(
    objective: &F,
    point: &[f64],
    value: f64,
    gradient: &[f64],
    direction: &[f64],
    first_step: f64,
) -> Option<(Vec<f64>, f64, Vec<f64>)>
where
    F: Fn(&[f64]) -> (f64, Vec<f64>),
{
    let slope = dot(gradient, direction);
    let mut step = first_step;
    for _ in 0..MAX_BACKTRACKS {
        let candidate: Vec<f64> = point
            .iter()
            .zip(direction)
            .map(|(coordinate, delta)| coordinate + step * delta)
            .collect();
        let (candidate_value, candidate_gradient) = objective(&candidate);
        if candidate_value.is_finite() && candidate_value <= value + ARMIJO_FRACTION * step * slope
        {
            return Some((candidate, candidate_value, candidate_gradient));
        }
        step *= 0.5;
    }
    None
}

/// The two-loop recursion: an approximation of `-inverse_hessian * gradient`.
fn search_direction(gradient: &[f64], history: &VecDeque<CurvaturePair>) -> Vec<f64> {
    let mut direction: Vec<f64> = gradient.iter().map(|value| -value).collect();
    let mut coefficients = Vec::with_capacity(history.len());
    for pair in history.iter().rev() {
        let coefficient = pair.inverse_curvature * dot(&pair.step, &direction);
        axpy(&mut direction, -coefficient, &pair.gradient_change);
        coefficients.push(coefficient);
    }
    if let Some(latest) = history.back() {
        let scale = 1.0
            / (latest.inverse_curvature * dot(&latest.gradient_change, &latest.gradient_change));
        direction.iter_mut().for_each(|value| *value *= scale);
    }
    for (pair, coefficient) in history.iter().zip(coefficients.iter().rev()) {
        let correction = pair.inverse_curvature * dot(&pair.gradient_change, &direction);
        axpy(&mut direction, coefficient - correction, &pair.step);
    }
    direction
}

/// Stores the newest curvature pair when it has positive curvature, dropping the oldest.
fn remember(
    history: &mut VecDeque<CurvaturePair>,
    memory: usize,
    point: &[f64],
    next_point: &[f64],
    gradient: &[f64],
    next_gradient: &[f64],
) {
    let step: Vec<f64> = next_point.iter().zip(point).map(|(a, b)| a - b).collect();
    let gradient_change: Vec<f64> = next_gradient
        .iter()
        .zip(gradient)
        .map(|(a, b)| a - b)
        .collect();
    let curvature = dot(&step, &gradient_change);
    if curvature <= 1e-12 * dot(&gradient_change, &gradient_change) || curvature <= 0.0 {
        return;
    }
    if history.len() == memory {
        history.pop_front();
    }
    history.push_back(CurvaturePair {
        step,
        gradient_change,
        inverse_curvature: 1.0 / curvature,
    });
}

fn dot(left: &[f64], right: &[f64]) -> f64 {
    left.iter().zip(right).map(|(a, b)| a * b).sum()
}

fn norm(values: &[f64]) -> f64 {
    dot(values, values).sqrt()
}

fn max_magnitude(values: &[f64]) -> f64 {
    values
        .iter()
        .fold(0.0, |largest, value| largest.max(value.abs()))
}

fn axpy(target: &mut [f64], scale: f64, source: &[f64]) {
    for (value, addend) in target.iter_mut().zip(source) {
        *value += scale * addend;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rosenbrock(point: &[f64]) -> (f64, Vec<f64>) {
        let (x, y) = (point[0], point[1]);
        let value = (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2);
        let gradient = vec![
            -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
            200.0 * (y - x * x),
        ];
        (value, gradient)
    }

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let settings = LbfgsSettings {
            max_iterations: 1000,
            relative_decrease_tolerance: 0.0,
            ..LbfgsSettings::default()
        };
        let minimum = minimise(rosenbrock, vec![-1.2, 1.0], &settings);
        assert!(minimum.converged);
        assert!((minimum.point[0] - 1.0).abs() < 1e-4, "{:?}", minimum.point);
        assert!((minimum.point[1] - 1.0).abs() < 1e-4, "{:?}", minimum.point);
    }

    #[test]
    fn solves_a_quadratic_quickly() {
        let scales = [1.0, 10.0, 100.0];
        let quadratic = |point: &[f64]| {
            let value = point
                .iter()
                .zip(scales)
                .map(|(x, s)| 0.5 * s * (x - 2.0).powi(2))
                .sum();
            let gradient = point
                .iter()
                .zip(scales)
                .map(|(x, s)| s * (x - 2.0))
                .collect();
            (value, gradient)
        };
        let minimum = minimise(quadratic, vec![0.0; 3], &LbfgsSettings::default());
        assert!(minimum.iterations < 30);
        assert!(minimum.point.iter().all(|x| (x - 2.0).abs() < 1e-5));
    }
}
