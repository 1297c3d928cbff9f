use std::path::Path;

use treatfirst_risk::columns::RefusalReason;
use treatfirst_risk::{train, ModelKind, RiskError, Table, TrainConfig};

use crate::generated::{history_csv, LABEL};

fn table(rows: usize, seed: u64) -> Table {
    Table::from_reader(
        history_csv(rows, seed).as_bytes(),
        Path::new("generated.csv"),
    )
    .expect("generated CSV parses")
}

fn config(kind: ModelKind) -> TrainConfig {
    let mut config = TrainConfig::new(LABEL);
    config.seed = 7;
    config.kind = kind;
    config.exclude = vec!["noise".to_owned()];
    config
}

#[test]
fn training_recovers_the_signal_and_refuses_protected_columns() {
    let table = table(5000, 11);
    for kind in [ModelKind::BoostedScorecard, ModelKind::WoeScorecard] {
        let outcome = train(&table, &config(kind), &mut |_| {}).expect("training succeeds");
        let model = &outcome.model;
        assert_eq!(model.kind(), kind);
        let holdout = model.metrics().holdout.as_ref().expect("a holdout");
        assert_eq!(holdout.rows, 1500);
        assert!(holdout.auc > 0.75, "{kind:?} AUC {}", holdout.auc);
        assert!(holdout.ece < 0.05, "{kind:?} ECE {}", holdout.ece);

        let candidates = &model.training().candidate_features;
        let strongest = candidates
            .iter()
            .max_by(|a, b| a.information_value.total_cmp(&b.information_value))
            .expect("candidates");
        assert_eq!(strongest.name, "PAY_0", "the signal has the highest IV");
        let noise_free = candidates.iter().all(|candidate| candidate.name != "noise");
        assert!(noise_free, "--exclude keeps noise out");

        let refused = &model.training().refused_columns;
        let reason_of = |column: &str| {
            refused
                .iter()
                .find(|refused| refused.column == column)
                .map(|refused| refused.reason)
        };
        assert_eq!(reason_of("SEX"), Some(RefusalReason::Protected));
        assert_eq!(reason_of("ID"), Some(RefusalReason::Identifier));
        let columns = model.required_columns();
        assert!(!columns.contains(&"SEX") && !columns.contains(&"ID"));
        assert!(columns.contains(&"PAY_0"));
        assert_eq!(outcome.screen.excluded, vec!["noise"]);
    }
}

#[test]
fn the_same_seed_trains_the_same_model() {
    let table = table(2000, 3);
    let config = config(ModelKind::BoostedScorecard);
    let first = train(&table, &config, &mut |_| {}).unwrap().model;
    let second = train(&table, &config, &mut |_| {}).unwrap().model;
    assert_eq!(first.to_json_pretty(), second.to_json_pretty());
}

#[test]
fn scoring_one_patient_agrees_with_scoring_the_table() {
    let table = table(2000, 5);
    let model = train(&table, &config(ModelKind::BoostedScorecard), &mut |_| {})
        .unwrap()
        .model;
    let probabilities = model.predict_table(&table).unwrap();
    for row in (0..table.rows()).step_by(97) {
        let values = table
            .names()
            .iter()
            .map(|name| (name.clone(), table.column(name).unwrap()[row]))
            .collect();
        let score = model.score(&values);
        assert!((score.probability_of_default - probabilities[row]).abs() < 1e-12);
        assert!(score.reasons.len() <= 4);
        assert!(score
            .reasons
            .windows(2)
            .all(|pair| pair[0].points_below_max >= pair[1].points_below_max));
    }
}

#[test]
fn bad_inputs_are_typed_errors() {
    let table = table(300, 1);
    let mut config = config(ModelKind::BoostedScorecard);
    config.holdout_fraction = 0.95;
    assert!(matches!(
        train(&table, &config, &mut |_| {}),
        Err(RiskError::InvalidHoldout { .. })
    ));
    let config = TrainConfig::new("no_such_label");
    assert!(matches!(
        train(&table, &config, &mut |_| {}),
        Err(RiskError::MissingColumn { .. })
    ));
    let rows: String = (0..100)
        .map(|row| format!("{},1,{}\n", row % 2 + 1, row % 2))
        .collect();
    let protected_only = Table::from_reader(
        format!("SEX,MARRIAGE,defaulted\n{rows}").as_bytes(),
        Path::new("protected.csv"),
    )
    .unwrap();
    assert!(matches!(
        train(&protected_only, &TrainConfig::new(LABEL), &mut |_| {}),
        Err(RiskError::NoFeatures)
    ));
}

#[test]
fn tiny_and_signal_free_data_still_train() {
    let tiny = table(60, 9);
    for kind in [ModelKind::BoostedScorecard, ModelKind::WoeScorecard] {
        let outcome = train(&tiny, &config(kind), &mut |_| {}).expect("60 rows train");
        assert!(!outcome.model.features().is_empty());
    }
    let rows: String = (0..400)
        .map(|row| format!("{},{}\n", (row * 7919) % 13, row % 2))
        .collect();
    let noise = Table::from_reader(
        format!("x,defaulted\n{rows}").as_bytes(),
        Path::new("noise.csv"),
    )
    .unwrap();
    let mut config = TrainConfig::new(LABEL);
    config.holdout_fraction = 0.0;
    let outcome = train(&noise, &config, &mut |_| {}).expect("noise trains");
    assert!(outcome.model.metrics().holdout.is_none());
    let score = outcome
        .model
        .score(&treatfirst_risk::FeatureValues::new().with("x", 3.0));
    assert!((score.probability_of_default - 0.5).abs() < 0.2);
}
