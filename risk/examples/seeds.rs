//! Measures both model kinds over holdout seeds 1..=5 on one CSV (30% stratified holdout).
//!
//! ```text
//! cargo run --release -p treatfirst-risk --example seeds -- \
//!     ../shared/data/uci_credit_card_taiwan.csv default.payment.next.month
//! ```

use std::path::Path;
use std::time::Instant;

use treatfirst_risk::{train, ModelKind, Table, TrainConfig};

fn main() -> Result<(), treatfirst_risk::RiskError> {
    let arguments: Vec<String> = std::env::args().collect();
    let [_, data, label] = arguments.as_slice() else {
        eprintln!("usage: seeds DATA.csv LABEL");
        std::process::exit(2);
    };
    let table = Table::read_csv(Path::new(data))?;
    println!("seed kind               auc     ks      brier   ece     seconds");
    let mut sums = [[0.0f64; 5]; 2];
    for seed in 1..=5u64 {
        let mut config = TrainConfig::new(label.clone());
        config.seed = seed;
        config.holdout_fraction = 0.3;
        config.kind = ModelKind::BoostedScorecard;
        tune(&mut config);
        let started = Instant::now();
        let outcome = train(&table, &config, &mut |_| {})?;
        let seconds = started.elapsed().as_secs_f64();
        for (slot, model) in [&outcome.model, &outcome.challenger]
            .into_iter()
            .enumerate()
        {
            let holdout = model.metrics().holdout.as_ref().expect("holdout");
            let values = [holdout.auc, holdout.ks, holdout.brier, holdout.ece, seconds];
            for (sum, value) in sums[slot].iter_mut().zip(values) {
                *sum += value;
            }
            println!(
                "{seed:<4} {:<18} {:.4}  {:.4}  {:.4}  {:.4}  {:.2}",
                model.kind().as_str(),
                values[0],
                values[1],
                values[2],
                values[3],
                values[4]
            );
        }
    }
    for (slot, kind) in ["boosted_scorecard", "woe_scorecard"].iter().enumerate() {
        let mean = sums[slot].map(|sum| sum / 5.0);
        println!(
            "mean {kind:<18} {:.4}  {:.4}  {:.4}  {:.4}  {:.2}",
            mean[0], mean[1], mean[2], mean[3], mean[4]
        );
    }
    Ok(())
}

/// Optional overrides for experiments: RISK_LR, RISK_BINS, RISK_LEAF, RISK_L2, RISK_VALID,
/// RISK_BAGS, RISK_PATIENCE.
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
}
