//! Experiment: boosted trees of several depths on the boosted scorecard's bins, seeds 1..=5.
use std::path::Path;
use std::time::Instant;

use treatfirst_risk::gbm::{fit_trees, TreeConfig};
use treatfirst_risk::metrics::MetricsReport;
use treatfirst_risk::scaling::sigmoid;
use treatfirst_risk::train::binned_splits;
use treatfirst_risk::{Table, TrainConfig};

fn main() -> Result<(), treatfirst_risk::RiskError> {
    let arguments: Vec<String> = std::env::args().collect();
    let table = Table::read_csv(Path::new(&arguments[1]))?;
    let depths: Vec<usize> = arguments[3]
        .split(',')
        .map(|d| d.parse().unwrap())
        .collect();
    for depth in depths {
        let mut sums = [0.0; 5];
        for seed in 1..=5 {
            let mut config = TrainConfig::new(arguments[2].clone());
            config.seed = seed;
            let (inner, validation, holdout) = binned_splits(&table, &config)?;
            let started = Instant::now();
            let tree_config = TreeConfig {
                depth_max: depth,
                ..TreeConfig::default()
            };
            let ensemble = fit_trees(&inner, &validation, &tree_config);
            let seconds = started.elapsed().as_secs_f64();
            let probabilities: Vec<f64> = ensemble
                .log_odds(&holdout)
                .into_iter()
                .map(sigmoid)
                .collect();
            let metrics = MetricsReport::compute(&probabilities, &holdout.bads);
            let values = [metrics.auc, metrics.ks, metrics.brier, metrics.ece, seconds];
            println!(
                "depth {depth} seed {seed} trees {} {values:.4?}",
                ensemble.trees.len()
            );
            for (sum, value) in sums.iter_mut().zip(values) {
                *sum += value / 5.0;
            }
        }
        println!("depth {depth} mean auc ks brier ece seconds {sums:.4?}");
    }
    Ok(())
}
