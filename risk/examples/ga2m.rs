//! Experiment: boosted scorecard plus pair terms, seeds 1..=5.
use std::path::Path;
use std::time::Instant;

use treatfirst_risk::boost::{fit_additive, BoostConfig};
use treatfirst_risk::metrics::MetricsReport;
use treatfirst_risk::pairs::{fit_pairs, PairConfig};
use treatfirst_risk::scaling::sigmoid;
use treatfirst_risk::train::binned_splits;
use treatfirst_risk::{Table, TrainConfig};

fn main() -> Result<(), treatfirst_risk::RiskError> {
    let arguments: Vec<String> = std::env::args().collect();
    let table = Table::read_csv(Path::new(&arguments[1]))?;
    let pairs_max: usize = arguments[3].parse().unwrap();
    let candidates_max: usize = arguments[4].parse().unwrap();
    let mut sums = [0.0; 6];
    for seed in 1..=5 {
        let mut config = TrainConfig::new(arguments[2].clone());
        config.seed = seed;
        let (inner, validation, holdout) = binned_splits(&table, &config)?;
        let started = Instant::now();
        let mains = fit_additive(&inner, &validation, &BoostConfig::default(), &mut |_, _| {});
        let main_auc = MetricsReport::compute(
            &mains
                .log_odds(&holdout)
                .into_iter()
                .map(sigmoid)
                .collect::<Vec<_>>(),
            &holdout.bads,
        )
        .auc;
        let pair_config = PairConfig {
            pairs_max,
            candidates_max,
            ..PairConfig::default()
        };
        let pairs = fit_pairs(
            &inner,
            &validation,
            mains.log_odds(&inner),
            mains.log_odds(&validation),
            &mains.importance(&inner),
            &pair_config,
        );
        let seconds = started.elapsed().as_secs_f64();
        let mut scores = mains.log_odds(&holdout);
        for (row, score) in scores.iter_mut().enumerate() {
            *score += pairs
                .iter()
                .map(|pair| pair.value(&holdout, row))
                .sum::<f64>();
        }
        let probabilities: Vec<f64> = scores.into_iter().map(sigmoid).collect();
        let metrics = MetricsReport::compute(&probabilities, &holdout.bads);
        let values = [
            main_auc,
            metrics.auc,
            metrics.ks,
            metrics.brier,
            metrics.ece,
            seconds,
        ];
        println!("seed {seed} pairs {} {values:.4?}", pairs.len());
        for (sum, value) in sums.iter_mut().zip(values) {
            *sum += value / 5.0;
        }
    }
    println!("mean main_auc auc ks brier ece seconds {sums:.4?}");
    Ok(())
}
