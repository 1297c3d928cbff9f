//! Pairwise interaction terms on top of a boosted scorecard (a GA2M, "generalised additive
//! model with pairwise interactions").
//!
//! After the one-feature shapes are fitted, the most promising pairs among the most important
//! features are ranked by the loss reduction of one two-level tree on the residual, and the
//! best [`PairConfig::pairs_max`] pairs are boosted with two-level trees restricted to each
//! pair (split on one feature, then each side on the other). Every pair term is a table of
//! log-odds over the bins of its two features; the missing bin sorts after all values.

use crate::boost::{log_loss, BinnedRows};
use crate::scaling::sigmoid;

#[derive(Debug, Clone, PartialEq)]
pub struct PairConfig {
    /// Features (by importance) whose pairs are candidates.
    pub candidates_max: usize,
    /// Pairs kept.
    pub pairs_max: usize,
    pub learning_rate: f64,
    pub rounds_max: usize,
    pub patience: usize,
    pub l2: f64,
    pub leaf_rows_min: usize,
}

impl Default for PairConfig {
    fn default() -> PairConfig {
        PairConfig {
            candidates_max: 12,
            pairs_max: 10,
            learning_rate: 0.1,
            rounds_max: 2000,
            patience: 100,
            l2: 1.0,
            leaf_rows_min: 50,
        }
    }
}

/// A fitted pair term: `table[first_bin * second_bins + second_bin]`, centred to a zero mean
/// over the training rows.
#[derive(Debug, Clone, PartialEq)]
pub struct PairFit {
    pub first: usize,
    pub second: usize,
    pub table: Vec<f64>,
}

impl PairFit {
    fn second_bins(&self, rows: &BinnedRows) -> usize {
        rows.bin_counts[self.second]
    }

    pub fn value(&self, rows: &BinnedRows, row: usize) -> f64 {
        let first = usize::from(rows.bins[self.first][row]);
        let second = usize::from(rows.bins[self.second][row]);
        self.table[first * self.second_bins(rows) + second]
    }
}

/// Gradient, Hessian and row sums of one cell.
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    gradient: f64,
    hessian: f64,
    rows: f64,
}

impl Cell {
    fn add(self, other: Cell) -> Cell {
        Cell {
            gradient: self.gradient + other.gradient,
            hessian: self.hessian + other.hessian,
            rows: self.rows + other.rows,
        }
    }

    fn minus(self, other: Cell) -> Cell {
        Cell {
            gradient: self.gradient - other.gradient,
            hessian: self.hessian - other.hessian,
            rows: self.rows - other.rows,
        }
    }
}

/// A two-level tree on a pair: `outer` bins `..=outer_threshold` go low, the rest high; each
/// side then splits the `inner` bins at its own threshold. Leaf values in the order
/// (low, low), (low, high), (high, low), (high, high).
#[derive(Debug, Clone, Copy)]
struct PairTree {
    pair: usize,
    outer_is_first: bool,
    outer_threshold: usize,
    inner_thresholds: [usize; 2],
    leaves: [f64; 4],
    gain: f64,
}

/// The best split of a one-dimensional histogram: (threshold, low value, high value, gain).
fn best_inner_split(cells: &[Cell], l2: f64, rows_min: f64) -> Option<(usize, f64, f64, f64)> {
    let total = cells
        .iter()
        .fold(Cell::default(), |sum, cell| sum.add(*cell));
    let mut low = Cell::default();
    let mut best: Option<(usize, f64, f64, f64)> = None;
    for (threshold, cell) in cells[..cells.len() - 1].iter().enumerate() {
        low = low.add(*cell);
        let high = total.minus(low);
        if low.rows < rows_min || high.rows < rows_min {
            continue;
        }
        let score = |c: Cell| c.gradient * c.gradient / (c.hessian + l2);
        let gain = score(low) + score(high);
        if best.map_or(true, |(_, _, _, best_gain)| gain > best_gain) {
            best = Some((
                threshold,
                -low.gradient / (low.hessian + l2),
                -high.gradient / (high.hessian + l2),
                gain,
            ));
        }
    }
    best
}

/// The best two-level tree on a pair histogram (`grid[first][second]`).
fn best_pair_tree(
    pair: usize,
    grid: &[Cell],
    first_bins: usize,
    second_bins: usize,
    config: &PairConfig,
) -> Option<PairTree> {
    let rows_min = config.leaf_rows_min as f64;
    let mut best: Option<PairTree> = None;
    for outer_is_first in [true, false] {
        let (outer_bins, inner_bins) = if outer_is_first {
            (first_bins, second_bins)
        } else {
            (second_bins, first_bins)
        };
        let cell = |outer: usize, inner: usize| {
            if outer_is_first {
                grid[outer * second_bins + inner]
            } else {
                grid[inner * second_bins + outer]
            }
        };
        let mut total = vec![Cell::default(); inner_bins];
        for outer in 0..outer_bins {
            for (inner, slot) in total.iter_mut().enumerate() {
                *slot = slot.add(cell(outer, inner));
            }
        }
        let mut low = vec![Cell::default(); inner_bins];
        for outer_threshold in 0..outer_bins - 1 {
            for (inner, slot) in low.iter_mut().enumerate() {
                *slot = slot.add(cell(outer_threshold, inner));
            }
            let high: Vec<Cell> = total.iter().zip(&low).map(|(t, l)| t.minus(*l)).collect();
            let (Some(low_split), Some(high_split)) = (
                best_inner_split(&low, config.l2, rows_min),
                best_inner_split(&high, config.l2, rows_min),
            ) else {
                continue;
            };
            let gain = low_split.3 + high_split.3;
            if best.map_or(true, |tree| gain > tree.gain) {
                best = Some(PairTree {
                    pair,
                    outer_is_first,
                    outer_threshold,
                    inner_thresholds: [low_split.0, high_split.0],
                    leaves: [low_split.1, low_split.2, high_split.1, high_split.2],
                    gain,
                });
            }
        }
    }
    best
}

impl PairTree {
    fn value(&self, first_bin: usize, second_bin: usize) -> f64 {
        let (outer, inner) = if self.outer_is_first {
            (first_bin, second_bin)
        } else {
            (second_bin, first_bin)
        };
        let side = usize::from(outer > self.outer_threshold);
        let high = usize::from(inner > self.inner_thresholds[side]);
        self.leaves[side * 2 + high]
    }
}

fn grid(
    rows: &BinnedRows,
    first: usize,
    second: usize,
    gradient_hessian: &[[f64; 2]],
) -> Vec<Cell> {
    let second_bins = rows.bin_counts[second];
    let mut grid = vec![Cell::default(); rows.bin_counts[first] * second_bins];
    for ((&a, &b), pair) in rows.bins[first]
        .iter()
        .zip(&rows.bins[second])
        .zip(gradient_hessian)
    {
        let cell = &mut grid[usize::from(a) * second_bins + usize::from(b)];
        cell.gradient += pair[0];
        cell.hessian += pair[1];
        cell.rows += 1.0;
    }
    grid
}

fn gradients(scores: &[f64], bads: &[bool], out: &mut [[f64; 2]]) {
    for ((pair, &score), &bad) in out.iter_mut().zip(scores).zip(bads) {
        let p = sigmoid(score);
        *pair = [p - f64::from(u8::from(bad)), p * (1.0 - p)];
    }
}

/// Chooses and boosts pair terms on top of the given scores (the one-feature model's
/// log-odds on the training and validation rows). `importance` ranks the features.
pub fn fit_pairs(
    train: &BinnedRows,
    validation: &BinnedRows,
    mut train_scores: Vec<f64>,
    mut validation_scores: Vec<f64>,
    importance: &[f64],
    config: &PairConfig,
) -> Vec<PairFit> {
    assert_eq!(importance.len(), train.bins.len());
    let mut ranked: Vec<usize> = (0..importance.len())
        .filter(|&f| importance[f] > 0.0)
        .collect();
    ranked.sort_by(|&a, &b| importance[b].total_cmp(&importance[a]));
    ranked.truncate(config.candidates_max);
    let mut gradient_hessian = vec![[0.0f64; 2]; train.rows()];
    gradients(&train_scores, &train.bads, &mut gradient_hessian);
    let mut scored: Vec<(f64, usize, usize)> = Vec::new();
    for (position, &first) in ranked.iter().enumerate() {
        for &second in &ranked[position + 1..] {
            let cells = grid(train, first, second, &gradient_hessian);
            let bins = (train.bin_counts[first], train.bin_counts[second]);
            if let Some(tree) = best_pair_tree(0, &cells, bins.0, bins.1, config) {
                scored.push((tree.gain, first, second));
            }
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.truncate(config.pairs_max);
    let mut fits: Vec<PairFit> = scored
        .iter()
        .map(|&(_, first, second)| PairFit {
            first,
            second,
            table: vec![0.0; train.bin_counts[first] * train.bin_counts[second]],
        })
        .collect();
    if fits.is_empty() {
        return fits;
    }
    let mut history: Vec<(usize, Vec<f64>)> = Vec::new();
    let mut best = (log_loss(&validation_scores, &validation.bads), 0usize);
    for round in 1..=config.rounds_max {
        gradients(&train_scores, &train.bads, &mut gradient_hessian);
        let chosen = fits
            .iter()
            .enumerate()
            .filter_map(|(index, fit)| {
                let cells = grid(train, fit.first, fit.second, &gradient_hessian);
                let bins = (train.bin_counts[fit.first], train.bin_counts[fit.second]);
                best_pair_tree(index, &cells, bins.0, bins.1, config)
            })
            .max_by(|a, b| a.gain.total_cmp(&b.gain));
        let Some(tree) = chosen else { break };
        let fit = &fits[tree.pair];
        let second_bins = train.bin_counts[fit.second];
        let update: Vec<f64> = (0..fit.table.len())
            .map(|cell| config.learning_rate * tree.value(cell / second_bins, cell % second_bins))
            .collect();
        let apply = |rows: &BinnedRows, scores: &mut [f64]| {
            let pairs = rows.bins[fit.first].iter().zip(&rows.bins[fit.second]);
            for (score, (&a, &b)) in scores.iter_mut().zip(pairs) {
                *score += update[usize::from(a) * second_bins + usize::from(b)];
            }
        };
        apply(train, &mut train_scores);
        apply(validation, &mut validation_scores);
        history.push((tree.pair, update));
        let loss = log_loss(&validation_scores, &validation.bads);
        if loss < best.0 - 1e-9 {
            best = (loss, round);
        } else if round - best.1 >= config.patience {
            break;
        }
    }
    for (pair, update) in history.into_iter().take(best.1) {
        fits[pair]
            .table
            .iter_mut()
            .zip(update)
            .for_each(|(cell, delta)| *cell += delta);
    }
    fits.retain(|fit| fit.table.iter().any(|&value| value != 0.0));
    fits
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Bad rate 40% when exactly one of two features is high (bins 2..=3), 10% otherwise:
    /// no main effect at all, only an interaction.
    pub(crate) fn exclusive_or(repeats: usize) -> BinnedRows {
        let (mut first, mut second, mut bads) = (Vec::new(), Vec::new(), Vec::new());
        for a in 0..4u8 {
            for b in 0..4u8 {
                let bad_per_ten = if (a >= 2) != (b >= 2) { 4 } else { 1 };
                for index in 0..repeats {
                    first.push(a);
                    second.push(b);
                    bads.push(index % 10 < bad_per_ten);
                }
            }
        }
        BinnedRows {
            bins: vec![first, second],
            bin_counts: vec![5, 5],
            bads,
        }
    }

    #[test]
    fn a_pure_interaction_is_found_and_fitted() {
        let rows = exclusive_or(100);
        let base = (0.25f64 / 0.75).ln();
        let scores = vec![base; rows.rows()];
        let fits = fit_pairs(
            &rows,
            &rows,
            scores.clone(),
            scores,
            &[1.0, 1.0],
            &PairConfig::default(),
        );
        assert_eq!(fits.len(), 1);
        let fit = &fits[0];
        let cell = |a: usize, b: usize| fit.table[a * 5 + b];
        // Expected log-odds gap between mixed and matching cells: ln(4/6) - ln(1/9) = 1.79.
        let gap = cell(3, 0) - cell(0, 0);
        assert!((gap - 1.79).abs() < 0.15, "{gap}");
        assert!((cell(0, 3) - cell(3, 3) - 1.79).abs() < 0.15);
    }
}
