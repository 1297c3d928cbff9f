//! A boosted scorecard: gradient boosting of one-split trees (stumps) on binned features.
//!
//! Each round fits, for every feature, the best stump on the gradient and Hessian of the
//! log-loss (value bins split in two, the missing bin its own leaf) and keeps the one that
//! lowers the loss most. A sum of stumps is a sum of one function per feature, so the result
//! is still a scorecard: every bin of every feature carries its own log-odds contribution and
//! points, and reason codes stay exact. Rounds stop when the log-loss on a validation set has
//! not improved for [`BoostConfig::patience`] rounds; the best round is kept.

use crate::scaling::sigmoid;

/// Most bins a boosted feature may have (bin indices are bytes).
pub const BOOST_BINS_MAX: usize = 256;

/// A shape constraint on one feature: how its contribution to the log-odds of default may move
/// as the value grows. The sum of stumps that each respect it respects it too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Free,
    /// Never falls as the value grows (riskier with larger values).
    Increasing,
    /// Never rises as the value grows.
    Decreasing,
}

impl Direction {
    fn allows(self, left: f64, right: f64) -> bool {
        match self {
            Direction::Free => true,
            Direction::Increasing => right >= left,
            Direction::Decreasing => right <= left,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BoostConfig {
    /// Shrinkage of every stump.
    pub learning_rate: f64,
    /// Most rounds (stumps).
    pub rounds_max: usize,
    /// Rounds without improvement on the validation set before stopping.
    pub patience: usize,
    /// L2 penalty on leaf values (in Hessian units).
    pub l2: f64,
    /// Fewest training rows a value leaf may hold.
    pub leaf_rows_min: usize,
}

impl Default for BoostConfig {
    fn default() -> BoostConfig {
        BoostConfig {
            learning_rate: 0.1,
            rounds_max: 3000,
            patience: 150,
            l2: 1.0,
            leaf_rows_min: 50,
        }
    }
}

/// Binned rows: one bin index per feature per row, the missing bin last in each feature.
#[derive(Debug, Clone)]
pub struct BinnedRows {
    /// `bins[feature][row]`.
    pub bins: Vec<Vec<u8>>,
    /// Number of bins of each feature, the missing bin included.
    pub bin_counts: Vec<usize>,
    pub bads: Vec<bool>,
}

impl BinnedRows {
    pub fn rows(&self) -> usize {
        self.bads.len()
    }

    fn check(&self) {
        assert_eq!(self.bins.len(), self.bin_counts.len());
        for (bins, &count) in self.bins.iter().zip(&self.bin_counts) {
            assert!((2..=BOOST_BINS_MAX).contains(&count));
            assert_eq!(bins.len(), self.rows());
            debug_assert!(bins.iter().all(|&bin| usize::from(bin) < count));
        }
    }
}

/// The fitted additive model: `log-odds of default = intercept + sum of shapes[f][bin]`,
/// each shape centred to a zero mean over the training rows.
#[derive(Debug, Clone, PartialEq)]
pub struct AdditiveFit {
    pub intercept: f64,
    pub shapes: Vec<Vec<f64>>,
    pub rounds: usize,
    pub validation_log_loss: f64,
}

impl AdditiveFit {
    /// Log-odds of default of every row.
    pub fn log_odds(&self, rows: &BinnedRows) -> Vec<f64> {
        let mut scores = vec![self.intercept; rows.rows()];
        for (shape, bins) in self.shapes.iter().zip(&rows.bins) {
            for (score, &bin) in scores.iter_mut().zip(bins) {
                *score += shape[usize::from(bin)];
            }
        }
        scores
    }

    /// How much each feature moves the log-odds: the standard deviation of its contribution
    /// over `rows`.
    pub fn importance(&self, rows: &BinnedRows) -> Vec<f64> {
        self.shapes
            .iter()
            .zip(&rows.bins)
            .map(|(shape, bins)| {
                let count = bins.len().max(1) as f64;
                let mean = bins.iter().map(|&bin| shape[usize::from(bin)]).sum::<f64>() / count;
                let variance = bins
                    .iter()
                    .map(|&bin| (shape[usize::from(bin)] - mean).powi(2))
                    .sum::<f64>()
                    / count;
                variance.sqrt()
            })
            .collect()
    }
}

/// One stump: value bins `..=threshold` get `left`, the other value bins `right`, the missing
/// bin `missing`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stump {
    feature: usize,
    threshold: usize,
    left: f64,
    right: f64,
    missing: f64,
    gain: f64,
}

impl Stump {
    fn value(&self, bin: usize, missing_bin: usize) -> f64 {
        if bin == missing_bin {
            self.missing
        } else if bin <= self.threshold {
            self.left
        } else {
            self.right
        }
    }
}

#[derive(Clone, Copy, Default)]
struct Sums {
    gradient: f64,
    hessian: f64,
    rows: usize,
}

impl Sums {
    fn add(self, other: Sums) -> Sums {
        Sums {
            gradient: self.gradient + other.gradient,
            hessian: self.hessian + other.hessian,
            rows: self.rows + other.rows,
        }
    }

    fn minus(self, other: Sums) -> Sums {
        Sums {
            gradient: self.gradient - other.gradient,
            hessian: self.hessian - other.hessian,
            rows: self.rows - other.rows,
        }
    }

    /// Newton leaf value and its loss reduction.
    fn leaf(self, l2: f64) -> (f64, f64) {
        let denominator = self.hessian + l2;
        (
            -self.gradient / denominator,
            self.gradient * self.gradient / denominator,
        )
    }
}

/// Fits the boosted scorecard, early-stopping on `validation`.
///
/// # Panics
/// If the row sets are malformed or disagree on the features.
pub fn fit_additive(
    train: &BinnedRows,
    validation: &BinnedRows,
    directions: &[Direction],
    config: &BoostConfig,
    progress: &mut dyn FnMut(usize, usize),
) -> AdditiveFit {
    train.check();
    validation.check();
    assert_eq!(
        directions.len(),
        train.bins.len(),
        "one direction per feature"
    );
    assert_eq!(train.bin_counts, validation.bin_counts);
    assert!(config.learning_rate > 0.0 && config.learning_rate <= 1.0);
    let bad_rate = train.bads.iter().filter(|&&bad| bad).count() as f64 / train.rows() as f64;
    let bad_rate = bad_rate.clamp(1e-6, 1.0 - 1e-6);
    let base = (bad_rate / (1.0 - bad_rate)).ln();
    let mut train_scores = vec![base; train.rows()];
    let mut validation_scores = vec![base; validation.rows()];
    let mut stumps: Vec<Stump> = Vec::new();
    let mut best = (log_loss(&validation_scores, &validation.bads), 0usize);
    let rows_per_bin: Vec<Vec<usize>> = train
        .bins
        .iter()
        .zip(&train.bin_counts)
        .map(|(bins, &count)| {
            let mut rows = vec![0usize; count];
            bins.iter().for_each(|&bin| rows[usize::from(bin)] += 1);
            rows
        })
        .collect();
    let mut gradient_hessian = vec![[0.0f64; 2]; train.rows()];
    for round in 1..=config.rounds_max {
        for ((pair, &score), &bad) in gradient_hessian
            .iter_mut()
            .zip(&train_scores)
            .zip(&train.bads)
        {
            let probability = sigmoid(score);
            *pair = [
                probability - f64::from(u8::from(bad)),
                probability * (1.0 - probability),
            ];
        }
        let Some(stump) = best_stump(train, &rows_per_bin, &gradient_hessian, directions, config)
        else {
            break;
        };
        apply(&stump, train, &mut train_scores, config.learning_rate);
        apply(
            &stump,
            validation,
            &mut validation_scores,
            config.learning_rate,
        );
        stumps.push(stump);
        let loss = log_loss(&validation_scores, &validation.bads);
        if loss < best.0 - 1e-9 {
            best = (loss, round);
        } else if round - best.1 >= config.patience {
            break;
        }
        if round % 25 == 0 {
            progress(round, config.rounds_max);
        }
    }
    stumps.truncate(best.1);
    let fit = shapes_from_stumps(&stumps, train, base, config.learning_rate);
    AdditiveFit {
        validation_log_loss: best.0,
        rounds: best.1,
        ..fit
    }
}

fn best_stump(
    rows: &BinnedRows,
    rows_per_bin: &[Vec<usize>],
    gradient_hessian: &[[f64; 2]],
    directions: &[Direction],
    config: &BoostConfig,
) -> Option<Stump> {
    let mut best: Option<Stump> = None;
    let mut histogram = [[0.0f64; 2]; BOOST_BINS_MAX];
    for (feature, bins) in rows.bins.iter().enumerate() {
        let count = rows.bin_counts[feature];
        let histogram = &mut histogram[..count];
        histogram.fill([0.0; 2]);
        for (&bin, pair) in bins.iter().zip(gradient_hessian) {
            let slot = &mut histogram[usize::from(bin)];
            slot[0] += pair[0];
            slot[1] += pair[1];
        }
        let sums = |bin: usize| Sums {
            gradient: histogram[bin][0],
            hessian: histogram[bin][1],
            rows: rows_per_bin[feature][bin],
        };
        let missing_bin = count - 1;
        let missing = sums(missing_bin);
        let (missing_value, missing_gain) = if missing.rows >= config.leaf_rows_min {
            missing.leaf(config.l2)
        } else {
            (0.0, 0.0)
        };
        let values = (0..missing_bin).fold(Sums::default(), |sum, bin| sum.add(sums(bin)));
        let mut left = Sums::default();
        for threshold in 0..missing_bin.saturating_sub(1) {
            left = left.add(sums(threshold));
            let right = values.minus(left);
            if left.rows < config.leaf_rows_min || right.rows < config.leaf_rows_min {
                continue;
            }
            let (left_value, left_gain) = left.leaf(config.l2);
            let (right_value, right_gain) = right.leaf(config.l2);
            if !directions[feature].allows(left_value, right_value) {
                continue;
            }
            let gain = left_gain + right_gain + missing_gain;
            if best.map_or(true, |stump| gain > stump.gain) {
                best = Some(Stump {
                    feature,
                    threshold,
                    left: left_value,
                    right: right_value,
                    missing: missing_value,
                    gain,
                });
            }
        }
    }
    best.filter(|stump| stump.gain > 1e-12)
}

fn apply(stump: &Stump, rows: &BinnedRows, scores: &mut [f64], learning_rate: f64) {
    let missing_bin = rows.bin_counts[stump.feature] - 1;
    let table: Vec<f64> = (0..=missing_bin)
        .map(|bin| learning_rate * stump.value(bin, missing_bin))
        .collect();
    for (score, &bin) in scores.iter_mut().zip(&rows.bins[stump.feature]) {
        *score += table[usize::from(bin)];
    }
}

fn shapes_from_stumps(
    stumps: &[Stump],
    train: &BinnedRows,
    base: f64,
    learning_rate: f64,
) -> AdditiveFit {
    let mut shapes: Vec<Vec<f64>> = train
        .bin_counts
        .iter()
        .map(|&count| vec![0.0; count])
        .collect();
    for stump in stumps {
        let shape = &mut shapes[stump.feature];
        let missing_bin = shape.len() - 1;
        for (bin, value) in shape.iter_mut().enumerate() {
            *value += learning_rate * stump.value(bin, missing_bin);
        }
    }
    let mut intercept = base;
    for (shape, bins) in shapes.iter_mut().zip(&train.bins) {
        let mean = bins.iter().map(|&bin| shape[usize::from(bin)]).sum::<f64>() / bins.len() as f64;
        shape.iter_mut().for_each(|value| *value -= mean);
        intercept += mean;
    }
    AdditiveFit {
        intercept,
        shapes,
        rounds: stumps.len(),
        validation_log_loss: f64::NAN,
    }
}

pub(crate) fn log_loss(scores: &[f64], bads: &[bool]) -> f64 {
    let sum: f64 = scores
        .iter()
        .zip(bads)
        .map(|(&score, &bad)| {
            let eta = if bad { -score } else { score };
            // log(1 + e^eta), stably.
            eta.max(0.0) + (-eta.abs()).exp().ln_1p()
        })
        .sum();
    sum / bads.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SeededRng;

    /// One informative feature (bad rate 10% in bins 0..4, 50% in bins 5..9) and one noise
    /// feature; every bin has 100 rows.
    fn rows(seed: u64) -> BinnedRows {
        let mut rng = SeededRng::new(seed);
        let mut signal = Vec::new();
        let mut noise = Vec::new();
        let mut bads = Vec::new();
        for bin in 0..10u8 {
            for index in 0..400 {
                signal.push(bin);
                noise.push(rng.below(10) as u8);
                let bad_per_ten = if bin < 5 { 1 } else { 5 };
                bads.push(index % 10 < bad_per_ten);
            }
        }
        BinnedRows {
            bins: vec![signal, noise],
            bin_counts: vec![11, 11],
            bads,
        }
    }

    #[test]
    fn stumps_recover_a_step_and_ignore_noise() {
        let fit = fit_additive(
            &rows(1),
            &rows(2),
            &[Direction::Free; 2],
            &BoostConfig::default(),
            &mut |_, _| {},
        );
        let signal = &fit.shapes[0];
        let step = signal[7] - signal[2];
        let expected = 9.0f64.ln();
        assert!((step - expected).abs() < 0.1, "{step} vs {expected}");
        let noise_range = fit.shapes[1][..10]
            .iter()
            .fold(0.0f64, |range, value| range.max(value.abs()));
        assert!(noise_range < 0.1, "{noise_range}");
        // Centred: the mean contribution over training rows is zero.
        let mean: f64 = signal[..10].iter().sum::<f64>() / 10.0;
        assert!(mean.abs() < 1e-9);
    }

    #[test]
    fn monotone_directions_hold_for_every_feature() {
        let fit = fit_additive(
            &rows(1),
            &rows(2),
            &[Direction::Decreasing, Direction::Increasing],
            &BoostConfig::default(),
            &mut |_, _| {},
        );
        // The signal rises with the bin, so a decreasing constraint leaves it flat.
        let signal = &fit.shapes[0][..10];
        assert!(signal.windows(2).all(|pair| pair[1] <= pair[0] + 1e-12));
        let noise = &fit.shapes[1][..10];
        assert!(noise.windows(2).all(|pair| pair[1] >= pair[0] - 1e-12));
    }
}
