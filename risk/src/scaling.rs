//! Points-to-double-odds scaling.
//!
//! `points = offset + factor * ln(odds)`, with `odds = goods : bads = (1 - p) / p`,
//! `factor = pdo / ln 2` and `offset = base_points - factor * ln(base_odds)`. So a patient at
//! the base odds scores the base points, and every `pdo` more points doubles the odds of
//! repaying. The shipped default: 600 points at odds 50:1 (a 1.96% probability of default),
//! 20 points to double the odds.

use serde::{Deserialize, Serialize};

/// The documented default: 600 points at odds 50:1, 20 points to double the odds.
pub const DEFAULT_SCALING: Scaling = Scaling {
    base_points: 600.0,
    base_odds: 50.0,
    points_to_double_odds: 20.0,
};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    /// Points at the base odds.
    pub base_points: f64,
    /// Good : bad odds that score `base_points`.
    pub base_odds: f64,
    /// Points that double the odds (PDO).
    pub points_to_double_odds: f64,
}

impl Scaling {
    /// Whether the parameters make a scale (positive odds and PDO, finite points).
    pub fn is_valid(&self) -> bool {
        self.base_points.is_finite()
            && self.base_odds.is_finite()
            && self.base_odds > 0.0
            && self.points_to_double_odds.is_finite()
            && self.points_to_double_odds > 0.0
    }

    pub fn factor(&self) -> f64 {
        self.points_to_double_odds / std::f64::consts::LN_2
    }

    pub fn offset(&self) -> f64 {
        self.base_points - self.factor() * self.base_odds.ln()
    }

    /// Points for a log-odds of default `ln(p / (1 - p))` (higher log-odds, fewer points).
    pub fn points_from_log_odds_of_default(&self, log_odds: f64) -> f64 {
        self.offset() - self.factor() * log_odds
    }

    /// The inverse of [`Scaling::points_from_log_odds_of_default`].
    pub fn log_odds_of_default_from_points(&self, points: f64) -> f64 {
        (self.offset() - points) / self.factor()
    }
}

/// The logistic function: probability from log-odds.
pub fn sigmoid(log_odds: f64) -> f64 {
    if log_odds >= 0.0 {
        1.0 / (1.0 + (-log_odds).exp())
    } else {
        let e = log_odds.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points_at_odds(scaling: &Scaling, odds: f64) -> f64 {
        // odds = goods : bads, so log-odds of default = -ln(odds).
        scaling.points_from_log_odds_of_default(-odds.ln())
    }

    #[test]
    fn base_odds_score_base_points_and_pdo_doubles_the_odds() {
        let scaling = DEFAULT_SCALING;
        assert!(scaling.is_valid());
        assert!((points_at_odds(&scaling, 50.0) - 600.0).abs() < 1e-9);
        assert!((points_at_odds(&scaling, 100.0) - 620.0).abs() < 1e-9);
        assert!((points_at_odds(&scaling, 25.0) - 580.0).abs() < 1e-9);
        // Hand-computed: factor = 20 / ln 2 = 28.8539; offset = 600 - 28.8539 * ln 50 = 487.1229.
        assert!((scaling.factor() - 28.853_900_817_779_27).abs() < 1e-9);
        assert!((scaling.offset() - 487.122_876_204_5).abs() < 1e-6);
        let points = 555.0;
        let back = scaling
            .points_from_log_odds_of_default(scaling.log_odds_of_default_from_points(points));
        assert!((back - points).abs() < 1e-9);
    }

    #[test]
    fn sigmoid_is_stable_at_the_extremes() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert!(sigmoid(800.0) <= 1.0 && sigmoid(800.0) > 0.999);
        assert!(sigmoid(-800.0) >= 0.0 && sigmoid(-800.0) < 1e-300);
    }
}
