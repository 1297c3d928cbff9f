use treatfirst_risk::columns::refusal_reason;
use treatfirst_risk::{Band, CreditPolicy, DefaultHistory, FeatureValues, Model, ModelKind};

/// A patient with the given repayment status in all six cycles, half the limit used and a
/// tenth of each bill repaid.
fn patient(status: f64) -> FeatureValues {
    let mut values = FeatureValues::new()
        .with("LIMIT_BAL", 50000.0)
        .with("AGE", 35.0);
    for column in ["PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6"] {
        values.set(column, status);
    }
    for cycle in 1..=6 {
        values.set(format!("BILL_AMT{cycle}"), 25000.0);
        values.set(format!("PAY_AMT{cycle}"), 2500.0);
    }
    values
}

#[test]
fn the_shipped_model_loads_and_scores() {
    let model = Model::default_shipped();
    assert_eq!(model.model_version(), "default-v1");
    assert_eq!(model.kind(), ModelKind::BoostedScorecard);
    assert!(model
        .required_columns()
        .iter()
        .all(|column| refusal_reason(column).is_none()));
    let holdout = model.metrics().holdout.as_ref().expect("held-out metrics");
    assert!(holdout.auc > 0.75 && holdout.ece < 0.03);

    let late = model.score(&patient(2.0));
    let on_time = model.score(&patient(-1.0));
    assert!(late.probability_of_default > 2.0 * on_time.probability_of_default);
    assert!(late.points < on_time.points);
    assert!(late.band > on_time.band);
    assert!(!late.reasons.is_empty() && late.reasons.len() <= 4);
    assert!(
        late.reasons
            .iter()
            .any(|reason| reason.description.contains("payment delay")),
        "{:?}",
        late.reasons
    );

    let policy = CreditPolicy::standard();
    let limit = policy.recommend(on_time.band, DefaultHistory::NoDefault);
    let after_default = policy.recommend(on_time.band, DefaultHistory::AnyDefault);
    assert!(after_default.outpatient_yuan <= limit.outpatient_yuan);
    assert_eq!(
        policy
            .recommend(Band::E, DefaultHistory::NoDefault)
            .outpatient_yuan,
        0
    );
}

#[test]
fn an_empty_history_still_scores() {
    let score = Model::default_shipped().score(&FeatureValues::new());
    assert!((0.0..=1.0).contains(&score.probability_of_default));
}
