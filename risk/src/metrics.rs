//! Discrimination, calibration and stability metrics.
//!
//! - AUC: probability that a random bad scores riskier than a random good (ties count half).
//! - KS: largest gap between the cumulative shares of bads and goods over all thresholds.
//! - Brier: mean squared error of the predicted probability.
//! - ECE: expected calibration error over 10 equal-count bins of the predicted probability,
//!   `sum over bins of (rows in bin / rows) * |mean predicted - observed bad rate|`.
//! - Calibration table: the same 10 bins (deciles of predicted probability).
//! - PSI: `sum over bins of (actual share - expected share) * ln(actual / expected)`, shares
//!   floored at [`PSI_SHARE_FLOOR`]; < 0.1 stable, 0.1-0.25 drifting, > 0.25 shifted.

use serde::{Deserialize, Serialize};

/// Bins of the ECE and of the calibration table.
pub const CALIBRATION_BINS: usize = 10;
/// Smallest share a PSI bin counts with, so an empty bin gives a large but finite term.
pub const PSI_SHARE_FLOOR: f64 = 1e-4;

/// One decile of predicted probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationRow {
    /// 1 = the lowest predicted probabilities.
    pub decile: usize,
    pub rows: usize,
    pub mean_predicted: f64,
    pub observed_bad_rate: f64,
}

/// Everything the CLI prints about a set of predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsReport {
    pub rows: usize,
    pub bad_rate: f64,
    pub auc: f64,
    pub ks: f64,
    pub brier: f64,
    pub ece: f64,
    pub log_loss: f64,
    pub calibration: Vec<CalibrationRow>,
}

impl MetricsReport {
    /// # Panics
    /// If the lengths differ, there are no rows, or a probability lies outside [0, 1].
    pub fn compute(probabilities: &[f64], bads: &[bool]) -> MetricsReport {
        assert_eq!(probabilities.len(), bads.len());
        assert!(!bads.is_empty(), "metrics need rows");
        assert!(probabilities.iter().all(|p| (0.0..=1.0).contains(p)));
        let rows = bads.len();
        MetricsReport {
            rows,
            bad_rate: bads.iter().filter(|&&bad| bad).count() as f64 / rows as f64,
            auc: auc(probabilities, bads),
            ks: ks(probabilities, bads),
            brier: brier(probabilities, bads),
            ece: ece(probabilities, bads),
            log_loss: log_loss(probabilities, bads),
            calibration: calibration_table(probabilities, bads),
        }
    }
}

/// Indices sorted by ascending score, and the groups of tied scores as ranges.
fn tie_groups(scores: &[f64]) -> (Vec<usize>, Vec<std::ops::Range<usize>>) {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut groups = Vec::new();
    let mut start = 0;
    for end in 1..=order.len() {
        if end == order.len() || scores[order[end]] != scores[order[start]] {
            groups.push(start..end);
            start = end;
        }
    }
    (order, groups)
}

/// Area under the ROC curve (Mann-Whitney with mid-ranks); 0.5 if a class is absent.
pub fn auc(scores: &[f64], bads: &[bool]) -> f64 {
    let bad_count = bads.iter().filter(|&&bad| bad).count();
    let good_count = bads.len() - bad_count;
    if bad_count == 0 || good_count == 0 {
        return 0.5;
    }
    let (order, groups) = tie_groups(scores);
    let mut bad_rank_sum = 0.0;
    for group in groups {
        let mid_rank = (group.start + group.end + 1) as f64 / 2.0;
        let bads_in_group = order[group].iter().filter(|&&row| bads[row]).count();
        bad_rank_sum += mid_rank * bads_in_group as f64;
    }
    let pairs_won = bad_rank_sum - (bad_count * (bad_count + 1)) as f64 / 2.0;
    let value = pairs_won / (bad_count as f64 * good_count as f64);
    debug_assert!((0.0..=1.0).contains(&value));
    value
}

/// Kolmogorov-Smirnov statistic between the score distributions of bads and goods.
pub fn ks(scores: &[f64], bads: &[bool]) -> f64 {
    let bad_count = bads.iter().filter(|&&bad| bad).count() as f64;
    let good_count = bads.len() as f64 - bad_count;
    if bad_count == 0.0 || good_count == 0.0 {
        return 0.0;
    }
    let (order, groups) = tie_groups(scores);
    let (mut bads_below, mut goods_below, mut best) = (0.0, 0.0, 0.0f64);
    for group in groups {
        for &row in &order[group] {
            if bads[row] {
                bads_below += 1.0;
            } else {
                goods_below += 1.0;
            }
        }
        best = best.max((goods_below / good_count - bads_below / bad_count).abs());
    }
    best
}

pub fn brier(probabilities: &[f64], bads: &[bool]) -> f64 {
    let sum: f64 = probabilities
        .iter()
        .zip(bads)
        .map(|(&p, &bad)| (p - f64::from(u8::from(bad))).powi(2))
        .sum();
    sum / bads.len() as f64
}

/// Mean negative log-likelihood, probabilities clamped to [1e-15, 1 - 1e-15].
pub fn log_loss(probabilities: &[f64], bads: &[bool]) -> f64 {
    let sum: f64 = probabilities
        .iter()
        .zip(bads)
        .map(|(&p, &bad)| {
            let p = p.clamp(1e-15, 1.0 - 1e-15);
            if bad {
                -p.ln()
            } else {
                -(1.0 - p).ln()
            }
        })
        .sum();
    sum / bads.len() as f64
}

/// The calibration table over [`CALIBRATION_BINS`] equal-count bins of predicted probability.
pub fn calibration_table(probabilities: &[f64], bads: &[bool]) -> Vec<CalibrationRow> {
    let mut order: Vec<usize> = (0..probabilities.len()).collect();
    order.sort_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]));
    let rows = order.len();
    (0..CALIBRATION_BINS)
        .filter_map(|bin| {
            let members =
                &order[bin * rows / CALIBRATION_BINS..(bin + 1) * rows / CALIBRATION_BINS];
            if members.is_empty() {
                return None;
            }
            let count = members.len() as f64;
            Some(CalibrationRow {
                decile: bin + 1,
                rows: members.len(),
                mean_predicted: members.iter().map(|&row| probabilities[row]).sum::<f64>() / count,
                observed_bad_rate: members.iter().filter(|&&row| bads[row]).count() as f64 / count,
            })
        })
        .collect()
}

/// Expected calibration error over [`CALIBRATION_BINS`] equal-count bins.
pub fn ece(probabilities: &[f64], bads: &[bool]) -> f64 {
    let rows = bads.len() as f64;
    calibration_table(probabilities, bads)
        .iter()
        .map(|row| row.rows as f64 / rows * (row.mean_predicted - row.observed_bad_rate).abs())
        .sum()
}

/// Population stability index between expected and actual bin counts (same bins).
pub fn psi(expected: &[u64], actual: &[u64]) -> f64 {
    assert_eq!(expected.len(), actual.len(), "PSI compares the same bins");
    let expected_total = expected.iter().sum::<u64>().max(1) as f64;
    let actual_total = actual.iter().sum::<u64>().max(1) as f64;
    expected
        .iter()
        .zip(actual)
        .map(|(&expected, &actual)| {
            let e = (expected as f64 / expected_total).max(PSI_SHARE_FLOOR);
            let a = (actual as f64 / actual_total).max(PSI_SHARE_FLOOR);
            (a - e) * (a / e).ln()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_and_ks_on_hand_computed_cases() {
        let bads = [false, false, true, true];
        assert_eq!(auc(&[0.1, 0.2, 0.3, 0.4], &bads), 1.0);
        assert_eq!(auc(&[0.4, 0.3, 0.2, 0.1], &bads), 0.0);
        // Pairs (bad, good): (0.3 vs 0.1 win, 0.3 vs 0.35 lose, 0.5 vs both win) = 3/4.
        assert_eq!(auc(&[0.1, 0.35, 0.3, 0.5], &bads), 0.75);
        assert_eq!(auc(&[0.5; 4], &bads), 0.5, "ties count half");
        assert_eq!(ks(&[0.1, 0.2, 0.3, 0.4], &bads), 1.0);
        assert_eq!(ks(&[0.1, 0.35, 0.3, 0.5], &bads), 0.5);
        assert_eq!(ks(&[0.5; 4], &bads), 0.0);
    }

    #[test]
    fn brier_ece_and_calibration() {
        let bads = [false, true];
        assert!((brier(&[0.25, 0.75], &bads) - 0.0625).abs() < 1e-12);
        // 20 rows, predicted 0.5 everywhere, half bad in every decile: perfectly calibrated.
        let probabilities = vec![0.5; 20];
        let bads: Vec<bool> = (0..20).map(|row| row % 2 == 0).collect();
        assert!(ece(&probabilities, &bads) < 1e-12);
        let table = calibration_table(&probabilities, &bads);
        assert_eq!(table.len(), 10);
        assert!(table.iter().all(|row| row.rows == 2));
        // Predicting 0.9 for rows that are bad half the time: ECE 0.4.
        assert!((ece(&[0.9; 20], &bads) - 0.4).abs() < 1e-12);
    }

    #[test]
    fn psi_is_zero_for_equal_shares_and_grows_with_shift() {
        assert_eq!(psi(&[10, 20, 30], &[20, 40, 60]), 0.0);
        let shifted = psi(&[50, 50], &[90, 10]);
        let expected = (0.9 - 0.5) * (0.9f64 / 0.5).ln() + (0.1 - 0.5) * (0.1f64 / 0.5).ln();
        assert!((shifted - expected).abs() < 1e-12);
        assert!(psi(&[100, 0], &[50, 50]) > 0.25);
    }
}
