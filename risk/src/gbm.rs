//! Gradient-boosted decision trees on binned features: the non-additive challenger.
//!
//! Trees of depth up to [`TreeConfig::depth_max`] split value bins at a threshold and send
//! the missing bin to whichever side lowers the loss more. Used to measure how much a model
//! with interactions gains over the boosted scorecard.

use crate::boost::{BinnedRows, BOOST_BINS_MAX};
use crate::scaling::sigmoid;

#[derive(Debug, Clone, PartialEq)]
pub struct TreeConfig {
    pub learning_rate: f64,
    pub rounds_max: usize,
    pub patience: usize,
    pub depth_max: usize,
    pub l2: f64,
    pub leaf_rows_min: usize,
}

impl Default for TreeConfig {
    fn default() -> TreeConfig {
        TreeConfig {
            learning_rate: 0.05,
            rounds_max: 2000,
            patience: 100,
            depth_max: 3,
            l2: 1.0,
            leaf_rows_min: 50,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Leaf {
        value: f64,
    },
    Split {
        feature: usize,
        threshold: usize,
        missing_left: bool,
        left: usize,
        right: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    fn value(&self, rows: &BinnedRows, row: usize) -> f64 {
        let mut index = 0;
        loop {
            match &self.nodes[index] {
                Node::Leaf { value } => return *value,
                Node::Split {
                    feature,
                    threshold,
                    missing_left,
                    left,
                    right,
                } => {
                    let bin = usize::from(rows.bins[*feature][row]);
                    let missing_bin = rows.bin_counts[*feature] - 1;
                    let goes_left = if bin == missing_bin {
                        *missing_left
                    } else {
                        bin <= *threshold
                    };
                    index = if goes_left { *left } else { *right };
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TreeEnsemble {
    pub base: f64,
    pub trees: Vec<Tree>,
}

impl TreeEnsemble {
    pub fn log_odds(&self, rows: &BinnedRows) -> Vec<f64> {
        (0..rows.bads.len())
            .map(|row| {
                self.base
                    + self
                        .trees
                        .iter()
                        .map(|tree| tree.value(rows, row))
                        .sum::<f64>()
            })
            .collect()
    }
}

struct SplitChoice {
    feature: usize,
    threshold: usize,
    missing_left: bool,
    gain: f64,
}

/// Fits boosted trees, early-stopping on `validation`.
pub fn fit_trees(train: &BinnedRows, validation: &BinnedRows, config: &TreeConfig) -> TreeEnsemble {
    let rows = train.bads.len();
    let bad_rate = train.bads.iter().filter(|&&bad| bad).count() as f64 / rows as f64;
    let base = (bad_rate / (1.0 - bad_rate)).ln();
    let mut scores = vec![base; rows];
    let mut validation_scores = vec![base; validation.bads.len()];
    let mut trees = Vec::new();
    let mut best = (f64::INFINITY, 0usize);
    let mut gradient_hessian = vec![[0.0f64; 2]; rows];
    for round in 1..=config.rounds_max {
        for ((pair, &score), &bad) in gradient_hessian.iter_mut().zip(&scores).zip(&train.bads) {
            let p = sigmoid(score);
            *pair = [p - f64::from(u8::from(bad)), p * (1.0 - p)];
        }
        let mut tree = Tree { nodes: Vec::new() };
        let all: Vec<usize> = (0..rows).collect();
        grow(&mut tree, train, &gradient_hessian, all, 0, config);
        for (row, score) in scores.iter_mut().enumerate() {
            *score += tree.value(train, row);
        }
        for (row, score) in validation_scores.iter_mut().enumerate() {
            *score += tree.value(validation, row);
        }
        trees.push(tree);
        let loss = log_loss(&validation_scores, &validation.bads);
        if loss < best.0 - 1e-9 {
            best = (loss, round);
        } else if round - best.1 >= config.patience {
            break;
        }
    }
    trees.truncate(best.1);
    TreeEnsemble { base, trees }
}

fn grow(
    tree: &mut Tree,
    rows: &BinnedRows,
    gradient_hessian: &[[f64; 2]],
    members: Vec<usize>,
    depth: usize,
    config: &TreeConfig,
) -> usize {
    let index = tree.nodes.len();
    let (gradient, hessian) = members.iter().fold((0.0, 0.0), |(g, h), &row| {
        (g + gradient_hessian[row][0], h + gradient_hessian[row][1])
    });
    let leaf = Node::Leaf {
        value: -config.learning_rate * gradient / (hessian + config.l2),
    };
    tree.nodes.push(leaf);
    if depth >= config.depth_max || members.len() < 2 * config.leaf_rows_min {
        return index;
    }
    let Some(choice) = best_split(rows, gradient_hessian, &members, config) else {
        return index;
    };
    let missing_bin = rows.bin_counts[choice.feature] - 1;
    let (left_rows, right_rows): (Vec<usize>, Vec<usize>) = members.iter().partition(|&&row| {
        let bin = usize::from(rows.bins[choice.feature][row]);
        if bin == missing_bin {
            choice.missing_left
        } else {
            bin <= choice.threshold
        }
    });
    let left = grow(tree, rows, gradient_hessian, left_rows, depth + 1, config);
    let right = grow(tree, rows, gradient_hessian, right_rows, depth + 1, config);
    tree.nodes[index] = Node::Split {
        feature: choice.feature,
        threshold: choice.threshold,
        missing_left: choice.missing_left,
        left,
        right,
    };
    index
}

fn best_split(
    rows: &BinnedRows,
    gradient_hessian: &[[f64; 2]],
    members: &[usize],
    config: &TreeConfig,
) -> Option<SplitChoice> {
    let score = |g: f64, h: f64| g * g / (h + config.l2);
    let mut best: Option<SplitChoice> = None;
    let mut histogram = [[0.0f64; 3]; BOOST_BINS_MAX];
    let (total_g, total_h) = members.iter().fold((0.0, 0.0), |(g, h), &row| {
        (g + gradient_hessian[row][0], h + gradient_hessian[row][1])
    });
    let parent = score(total_g, total_h);
    for (feature, bins) in rows.bins.iter().enumerate() {
        let count = rows.bin_counts[feature];
        let histogram = &mut histogram[..count];
        histogram.fill([0.0; 3]);
        for &row in members {
            let slot = &mut histogram[usize::from(bins[row])];
            slot[0] += gradient_hessian[row][0];
            slot[1] += gradient_hessian[row][1];
            slot[2] += 1.0;
        }
        let missing = histogram[count - 1];
        let add = |a: [f64; 3], b: [f64; 3]| [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
        let mut left = [0.0f64; 3];
        for (threshold, bin) in histogram.iter().enumerate().take(count.saturating_sub(2)) {
            left = add(left, *bin);
            for missing_left in [false, true] {
                let l = if missing_left {
                    add(left, missing)
                } else {
                    left
                };
                let r = [total_g - l[0], total_h - l[1], members.len() as f64 - l[2]];
                if l[2] < config.leaf_rows_min as f64 || r[2] < config.leaf_rows_min as f64 {
                    continue;
                }
                let gain = score(l[0], l[1]) + score(r[0], r[1]) - parent;
                if gain > 1e-9 && best.as_ref().map_or(true, |choice| gain > choice.gain) {
                    best = Some(SplitChoice {
                        feature,
                        threshold,
                        missing_left,
                        gain,
                    });
                }
            }
        }
    }
    best
}

fn log_loss(scores: &[f64], bads: &[bool]) -> f64 {
    let sum: f64 = scores
        .iter()
        .zip(bads)
        .map(|(&score, &bad)| {
            let eta = if bad { -score } else { score };
            eta.max(0.0) + (-eta.abs()).exp().ln_1p()
        })
        .sum();
    sum / bads.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::auc;

    #[test]
    fn trees_reach_the_best_ranking_of_an_interaction() {
        // Bad rate 50% when both features are high (bins 2..=3), 10% otherwise.
        let (mut first, mut second, mut bads) = (Vec::new(), Vec::new(), Vec::new());
        for a in 0..4u8 {
            for b in 0..4u8 {
                let bad_per_ten = if a >= 2 && b >= 2 { 5 } else { 1 };
                for index in 0..100 {
                    first.push(a);
                    second.push(b);
                    bads.push(index % 10 < bad_per_ten);
                }
            }
        }
        let rows = BinnedRows {
            bins: vec![first, second],
            bin_counts: vec![5, 5],
            bads,
        };
        let ensemble = fit_trees(&rows, &rows, &TreeConfig::default());
        assert!(!ensemble.trees.is_empty());
        // The best possible AUC here is 0.734 (ranking the high-high cell first).
        let value = auc(&ensemble.log_odds(&rows), &rows.bads);
        assert!(value > 0.72, "{value}");
    }
}
