//! Risk over HTTP: limits at enrollment from the policy, the assessment endpoint, decline
//! reasons at visit open, and the rescoring of the delinquency run.

use serde_json::json;

use crate::support::*;

fn enroll_without_limit(app: &App, patient: &str, external_score: Option<u16>) -> Reply {
    let mut body = json!({"patient_id": patient, "plan_id": "city",
                          "member_type": "employee", "birth_date": "1980-05-01",
                          "msa_balance": "0.00"});
    if let Some(score) = external_score {
        body["external_score"] = json!(score);
    }
    app.post("/v1/patients", ADMIN_TOKEN, &body)
}

#[test]
fn enrollment_without_a_limit_takes_the_policy_limit_of_the_newcomer_band() {
    let app = spawn_app();
    let scheme = setup(&app);
    // The standard policy's outpatient limits: A 5000, B 3000, C 2000, D 1000, E 0.
    for (patient, score, limit) in [
        ("N1", Some(780), "5000.00"),
        ("N2", Some(720), "3000.00"),
        ("N3", None, "2000.00"),
        ("N4", Some(610), "1000.00"),
        ("N5", Some(500), "0.00"),
    ] {
        let enrolled = enroll_without_limit(&app, patient, score);
        assert_eq!(enrolled.status, 201, "{}", enrolled.body);
        assert_eq!(enrolled.text("credit_limit"), limit, "{patient}");
        // Retrying the enrollment replays it rather than conflicting.
        let again = enroll_without_limit(&app, patient, score);
        assert_eq!(again.status, 201, "{}", again.body);
        assert!(again.replayed);
    }
    let newcomer = app.get("/v1/risk/patients/N2", &scheme.finance);
    assert_eq!(newcomer.status, 200, "{}", newcomer.body);
    assert_eq!(newcomer.text("basis"), "external_score");
    assert_eq!(newcomer.text("band"), "B");
    assert_eq!(newcomer.text("recommended_limit"), "3000.00");
    assert!(newcomer.body["score"].is_null());
}

#[test]
fn a_first_bill_is_a_thin_file_judged_by_the_external_score() {
    let app = spawn_app();
    let scheme = setup(&app);
    settled_visit(&app, &scheme, "V1");
    let assessed = app.get("/v1/risk/patients/P1", &scheme.finance);
    assert_eq!(assessed.status, 200, "{}", assessed.body);
    // One billed cycle of the three the model needs: P1's external score 700 is band B.
    assert_eq!(assessed.text("basis"), "external_score");
    assert_eq!(assessed.text("band"), "B");
    assert!(assessed.body["score"].is_null());
    assert_eq!(assessed.text("recommended_limit"), "3000.00");
    assert_eq!(assessed.body["lowers_limit"], false);
    let reason = assessed.body["reasons"][0]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.contains("billed in 1 of the 3 cycles"),
        "{}",
        assessed.body
    );
}

#[test]
fn a_patient_with_history_is_scored_by_the_model_with_reasons() {
    let app = spawn_app();
    let scheme = setup(&app);
    settled_visit(&app, &scheme, "V1");
    // Long after the bill fell due, unpaid: months past due, so the model decides.
    let assessed = app.get(
        "/v1/risk/patients/P1?as_of=2099-01-01T00:00:00Z",
        &scheme.finance,
    );
    assert_eq!(assessed.status, 200, "{}", assessed.body);
    assert_eq!(assessed.text("basis"), "repayment_history");
    assert_eq!(assessed.body["lowers_limit"], true, "{}", assessed.body);
    assert_eq!(assessed.text("model_version"), "default-v1");
    let points = assessed.body["score"].as_i64().expect("points");
    assert!((300..=900).contains(&points), "{points}");
    let probability = assessed.body["probability_of_default"]
        .as_f64()
        .expect("pd");
    assert!((0.0..=1.0).contains(&probability));
    assert!(["A", "B", "C", "D", "E"].contains(&assessed.text("band")));
    let reasons = assessed.body["reasons"].as_array().expect("reasons");
    assert!(!reasons.is_empty() && reasons.len() <= 4, "{reasons:?}");
    for reason in reasons {
        assert!(!reason["description"].as_str().unwrap_or("").is_empty());
    }
    assert_eq!(assessed.text("credit_limit"), "5000.00");

    // Finance and admin only.
    assert_eq!(
        app.get("/v1/risk/patients/P1", &scheme.hospital_1).status,
        403
    );
    assert_eq!(
        app.get("/v1/risk/patients/P1", &scheme.patient_1).status,
        403
    );
    assert_eq!(app.get("/v1/risk/patients/P1", ADMIN_TOKEN).status, 200);
    let unknown = app.get("/v1/risk/patients/NOBODY", &scheme.finance);
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.code(), "not_found");
}

#[test]
fn the_delinquency_run_rescores_and_lowers_limits_never_below_what_is_owed() {
    let app = spawn_app();
    let scheme = setup(&app);
    settled_visit(&app, &scheme, "V1");
    let run = app.post(
        "/v1/delinquency/run",
        &scheme.finance,
        &json!({"as_of": "2099-01-01T00:00:00Z"}),
    );
    assert_eq!(run.status, 200, "{}", run.body);
    assert_eq!(run.body["defaulted"], 1);
    assert!(run.body["rescoring"]["patients_scored"].as_u64().unwrap() >= 1);
    assert_eq!(run.body["rescoring"]["limits_lowered"], 1);
    let patient = app.get("/v1/patients/P1", &scheme.finance);
    // Defaulted: band E recommends nothing, so the limit falls to what is owed.
    assert_eq!(patient.text("outstanding"), "168.00");
    assert_eq!(patient.text("credit_limit"), "168.00");
    assert_eq!(patient.text("available_credit"), "0.00");
    // P2 never used the line: a newcomer keeps its enrollment limit.
    assert_eq!(
        app.get("/v1/patients/P2", &scheme.finance)
            .text("credit_limit"),
        "1000.00"
    );

    // A declined visit says why, with the risk reasons.
    let declined = app.post(
        "/v1/hospitals/H1/visits",
        &scheme.hospital_1,
        &json!({"visit_id": "V2", "patient_id": "P1", "kind": "outpatient",
                "estimated_amount": "10.00"}),
    );
    assert_eq!(declined.status, 422, "{}", declined.body);
    assert_eq!(declined.code(), "patient_not_active");
    assert_eq!(declined.body["risk"]["band"], "E");
    assert!(!declined.body["risk"]["reasons"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn a_patient_who_pays_the_bill_keeps_the_limit_through_the_delinquency_run() {
    let app = spawn_app();
    let scheme = setup(&app);
    settled_visit(&app, &scheme, "V1");
    paid_by_alipay(&app, &scheme, "PAY1", "168.00");
    // The shipped model alone would rate this paid first bill band E (a limit of 0.00).
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    let run = app.post(
        "/v1/delinquency/run",
        &scheme.finance,
        &json!({"as_of": tomorrow.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}),
    );
    assert_eq!(run.status, 200, "{}", run.body);
    assert_eq!(run.body["rescoring"]["limits_lowered"], 0, "{}", run.body);
    let patient = app.get("/v1/patients/P1", &scheme.finance);
    assert_eq!(patient.text("credit_limit"), "5000.00");
    assert_eq!(patient.text("outstanding"), "0.00");
    assert_eq!(patient.text("available_credit"), "5000.00");
}
