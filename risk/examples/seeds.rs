//! Measures the models side by side over holdout seeds 1..=5 (30% stratified holdout): the
//! boosted scorecard (shipped kind), the WoE logistic scorecard, and, as the reference for
//! what interactions beyond pairs would add, boosted trees of depth 3 on the same bins.
//!
//! ```text
//! cargo run --release -p treatfirst-risk --example seeds -- \
//!     ../shared/data/uci_credit_card_taiwan.csv default.payment.next.month
//! ```
//!
//! Experiment knobs (environment): RISK_LR, RISK_BINS, RISK_LEAF, RISK_L2, RISK_VALID,
//! RISK_BAGS, RISK_PATIENCE, RISK_PAIRS, RISK_MONOTONE (0 none, 1 informative, 2 all),
//! RISK_TREES=0 to skip the trees.

use std::path::Path;
use std::time::Instant;

use treatfirst_risk::gbm::{fit_trees, TreeConfig};
use treatfirst_risk::metrics::MetricsReport;
use treatfirst_risk::scaling::sigmoid;
use treatfirst_risk::train::{binned_splits, Monotone};
use treatfirst_risk::{train, ModelKind, Table, TrainConfig};

const SEEDS: [u64; 5] = [1, 2, 3, 4, 5];

fn main() -> Result<(), treatfirst_risk::RiskError> {
    let arguments: Vec<String> = std::env::args().collect();
    let [_, data, label] = arguments.as_slice() else {
        eprintln!("usage: seeds DATA.csv LABEL");
        std::process::exit(2);
    };
    let table = Table::read_csv(Path::new(data))?;
    let with_trees = std::env::var("RISK_TREES").map_or(true, |value| value != "0");
    let kinds = ["boosted_scorecard", "woe_scorecard", "gbm_trees_depth3"];
    let mut sums = [[0.0f64; 5]; 3];
    println!("seed kind                auc     ks      brier   ece     train_seconds");
    for seed in SEEDS {
        let mut config = TrainConfig::new(label.clone());
        config.seed = seed;
        config.holdout_fraction = 0.3;
        config.kind = ModelKind::BoostedScorecard;
        tune(&mut config);
        let started = Instant::now();
        let outcome = train(&table, &config, &mut |_| {})?;
        let seconds = started.elapsed().as_secs_f64();
        let mut rows = Vec::new();
        for model in [&outcome.model, &outcome.challenger] {
            rows.push((model.metrics().holdout.clone().expect("holdout"), seconds));
        }
        if with_trees {
            let (inner, validation, holdout) = binned_splits(&table, &config)?;
            let started = Instant::now();
            let ensemble = fit_trees(&inner, &validation, &TreeConfig::default());
            let seconds = started.elapsed().as_secs_f64();
            let probabilities: Vec<f64> = ensemble
                .log_odds(&holdout)
                .into_iter()
                .map(sigmoid)
                .collect();
            rows.push((
                MetricsReport::compute(&probabilities, &holdout.bads),
                seconds,
            ));
        }
        for (slot, (metrics, seconds)) in rows.iter().enumerate() {
            let values = [
                metrics.auc,
                metrics.ks,
                metrics.brier,
                metrics.ece,
                *seconds,
            ];
            for (sum, value) in sums[slot].iter_mut().zip(values) {
                *sum += value / SEEDS.len() as f64;
            }
            println!(
                "{seed:<4} {:<19} {:.4}  {:.4}  {:.4}  {:.4}  {:.2}",
                kinds[slot], values[0], values[1], values[2], values[3], values[4]
            );
        }
    }
    for (slot, kind) in kinds
        .iter()
        .enumerate()
        .take(if with_trees { 3 } else { 2 })
    {
        let mean = sums[slot];
        println!(
            "mean {kind:<19} {:.4}  {:.4}  {:.4}  {:.4}  {:.2}",
            mean[0], mean[1], mean[2], mean[3], mean[4]
        );
    }
    Ok(())
}

fn tune(config: &mut TrainConfig) {
    let read = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|text| text.parse::<f64>().ok())
    };
    let boosted = &mut config.boosted;
    if let Some(value) = read("RISK_LR") {
        boosted.boost.learning_rate = value;
    }
    if let Some(value) = read("RISK_BINS") {
        boosted.fine_bins = value as usize;
    }
    if let Some(value) = read("RISK_LEAF") {
        boosted.boost.leaf_rows_min = value as usize;
    }
    if let Some(value) = read("RISK_L2") {
        boosted.boost.l2 = value;
    }
    if let Some(value) = read("RISK_VALID") {
        boosted.validation_fraction = value;
    }
    if let Some(value) = read("RISK_BAGS") {
        boosted.bags = value as usize;
    }
    if let Some(value) = read("RISK_PATIENCE") {
        boosted.boost.patience = value as usize;
    }
    if let Some(value) = read("RISK_PAIRS") {
        boosted.pairs.pairs_max = value as usize;
    }
    if let Some(value) = read("RISK_MONOTONE") {
        boosted.monotone = match value as u8 {
            0 => Monotone::None,
            1 => Monotone::Informative,
            _ => Monotone::All,
        };
    }
}
