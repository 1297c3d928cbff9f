//! Idempotent replays and conflicts for every create: the same id and body returns the
//! original status and body (with `idempotent-replayed: true`) and applies nothing again;
//! the same id with another body is 409 `idempotency_conflict` and changes nothing.

use serde_json::{json, Value};

use crate::support::*;

/// Sends `body` twice to `path`, then `conflicting` with the same id; checks the replay and
/// the conflict, and that neither changed the scheme. Returns the first reply.
#[track_caller]
fn replay_then_conflict(
    app: &App,
    method: &str,
    path: &str,
    token: &str,
    body: &Value,
    status: u16,
    conflicting: &Value,
) -> Reply {
    let send = |body: &Value| {
        let bytes = body.to_string();
        app.send(
            method,
            path,
            Some(token),
            "application/json",
            Some(bytes.as_bytes()),
        )
    };
    let first = send(body);
    assert_eq!(first.status, status, "{path}: {}", first.body);
    assert!(!first.replayed, "{path}: the first request is no replay");
    let after_first = app.snapshot();
    for _ in 0..2 {
        let again = send(body);
        assert_eq!(again.status, status, "{path}: {}", again.body);
        assert!(again.replayed, "{path}: no idempotent-replayed header");
        assert_eq!(again.body, first.body, "{path}");
        assert_eq!(
            app.snapshot(),
            after_first,
            "{path}: the replay changed the scheme"
        );
    }
    let conflict = send(conflicting);
    assert_problem(&conflict, 409, "idempotency_conflict");
    assert_eq!(
        app.snapshot(),
        after_first,
        "{path}: the conflict changed the scheme"
    );
    first
}

#[test]
fn every_create_replays_and_conflicts() {
    let app = spawn_app();
    let scheme = setup(&app);
    let h1 = scheme.hospital_1.as_str();

    // Enrollment (an explicit limit, then one set by the risk policy).
    let enrollment = json!({"patient_id": "P3", "plan_id": "city", "member_type": "employee",
                            "birth_date": "1975-03-03", "msa_balance": "30.00",
                            "credit_limit": "900.00"});
    let mut other = enrollment.clone();
    other["credit_limit"] = json!("901.00");
    replay_then_conflict(
        &app,
        "POST",
        "/v1/patients",
        ADMIN_TOKEN,
        &enrollment,
        201,
        &other,
    );
    let policy = json!({"patient_id": "P4", "plan_id": "city", "member_type": "resident",
                        "birth_date": "1990-01-01"});
    let mut other = policy.clone();
    other["msa_balance"] = json!("1.00");
    let first = replay_then_conflict(
        &app,
        "POST",
        "/v1/patients",
        ADMIN_TOKEN,
        &policy,
        201,
        &other,
    );
    assert_eq!(
        app.patient("P4")["credit_limit"],
        first.body["credit_limit"]
    );

    // Deposit: balance raised once.
    let deposit = json!({"deposit_id": "D1", "amount": "20.00"});
    replay_then_conflict(
        &app,
        "POST",
        "/v1/patients/P3/msa-deposits",
        ADMIN_TOKEN,
        &deposit,
        201,
        &json!({"deposit_id": "D1", "amount": "20.01"}),
    );
    assert_eq!(app.patient("P3")["msa_balance"], "50.00");

    // Visit: held once; the same visit id at another hospital is another visit.
    let visit = visit_body("V1", "P1", "300.00");
    replay_then_conflict(
        &app,
        "POST",
        "/v1/hospitals/H1/visits",
        h1,
        &visit,
        201,
        &visit_body("V1", "P1", "300.01"),
    );
    let conflict = app.post(
        "/v1/hospitals/H1/visits",
        h1,
        &visit_body("V1", "P2", "300.00"),
    );
    assert_problem(&conflict, 409, "idempotency_conflict");
    assert_eq!(app.patient("P1")["credit_held"], "300.00");
    let elsewhere = app.post("/v1/hospitals/H2/visits", &scheme.hospital_2, &visit);
    assert_eq!(elsewhere.status, 201);
    assert!(!elsewhere.replayed);
    assert_eq!(app.patient("P1")["credit_held"], "600.00");

    // Charge: added once.
    let mut other = worked_example_charge("C1");
    other["items"][0]["quantity"] = json!("4");
    replay_then_conflict(
        &app,
        "POST",
        "/v1/hospitals/H1/visits/V1/charges",
        h1,
        &worked_example_charge("C1"),
        201,
        &other,
    );
    let second = app.post(
        "/v1/hospitals/H1/visits/V1/charges",
        h1,
        &one_line_charge("C2", "C", "100.00"),
    );
    assert_eq!(second.text("visit_total"), "480.00");
    // A replay after later charges still returns the original reply.
    let again = app.post(
        "/v1/hospitals/H1/visits/V1/charges",
        h1,
        &worked_example_charge("C1"),
    );
    assert!(again.replayed);
    assert_eq!(again.text("visit_total"), "380.00");
    assert_eq!(app.visit("H1", "V1")["total"], "480.00");

    // Settle: settled once (no id of its own: the visit's).
    let settle = |path: &str| app.post(path, h1, &json!({}));
    let settled = settle("/v1/hospitals/H1/visits/V1/settle");
    assert_eq!(settled.status, 200);
    assert!(!settled.replayed);
    let after = app.snapshot();
    let again = settle("/v1/hospitals/H1/visits/V1/settle");
    assert!(again.replayed);
    assert_eq!(again.body, settled.body);
    assert_eq!(app.snapshot(), after);
    assert_eq!(app.patient("P1")["outstanding"], "268.00");

    // Refund: reversed once.
    replay_then_conflict(
        &app,
        "POST",
        "/v1/hospitals/H1/visits/V1/refunds",
        h1,
        &json!({"refund_id": "R1", "charge_id": "C2"}),
        201,
        &json!({"refund_id": "R1", "charge_id": "C1"}),
    );
    assert_eq!(app.patient("P1")["outstanding"], "168.00");

    // Payment: applied once; a replay after a later payment repeats the original reply.
    let payment = json!({"payment_id": "PAY1", "patient_id": "P1", "amount": "100.00",
                         "channel": "alipay"});
    let mut other = payment.clone();
    other["channel"] = json!("bank");
    let first = replay_then_conflict(
        &app,
        "POST",
        "/v1/payments",
        &scheme.channel,
        &payment,
        201,
        &other,
    );
    assert_eq!(first.text("outstanding"), "68.00");
    let mut other = payment.clone();
    other["amount"] = json!("1.00");
    assert_problem(
        &app.post("/v1/payments", &scheme.channel, &other),
        409,
        "idempotency_conflict",
    );
    let later = app.post(
        "/v1/payments",
        &scheme.channel,
        &json!({"payment_id": "PAY2", "patient_id": "P1", "amount": "8.00", "channel": "alipay"}),
    );
    assert_eq!(later.text("outstanding"), "60.00");
    // The patient's own replay of the channel's payment: the same reply.
    let replayed = app.post("/v1/payments", &scheme.patient_1, &payment);
    assert_eq!(replayed.status, 201);
    assert!(replayed.replayed);
    assert_eq!(replayed.body, first.body);
    assert_eq!(app.patient("P1")["outstanding"], "60.00");

    // Cancel: cancelled once; the hold released once.
    let cancelled = app.post(
        "/v1/hospitals/H2/visits/V1/cancel",
        &scheme.hospital_2,
        &json!({}),
    );
    assert_eq!(cancelled.status, 200);
    let after = app.snapshot();
    let again = app.post(
        "/v1/hospitals/H2/visits/V1/cancel",
        &scheme.hospital_2,
        &json!({}),
    );
    assert_eq!(again.status, 200);
    assert!(again.replayed);
    assert_eq!(again.body, cancelled.body);
    assert_eq!(app.snapshot(), after);
    assert_eq!(app.patient("P1")["credit_held"], "0.00");
}

#[test]
fn plans_hospitals_limits_and_runs_repeat_without_new_records() {
    let app = spawn_app();
    setup(&app);
    let records = app.gauge("treatfirst_ledger_records");
    assert!(
        app.put("/v1/plans/city", ADMIN_TOKEN, &city_plan())
            .replayed
    );
    let hospital = app.put(
        "/v1/hospitals/H1",
        ADMIN_TOKEN,
        &json!({"name": "Hospital H1", "level": 2}),
    );
    assert_eq!(hospital.status, 200);
    assert!(hospital.replayed);
    let limit = app.put(
        "/v1/patients/P1/credit-limit",
        ADMIN_TOKEN,
        &json!({"credit_limit": "5000.00"}),
    );
    assert_eq!(limit.status, 200);
    assert!(limit.replayed);
    assert_eq!(app.gauge("treatfirst_ledger_records"), records);
    let revoked = app.post("/v1/patients/P2/revoke", ADMIN_TOKEN, &json!({}));
    assert!(!revoked.replayed);
    let again = app.post("/v1/patients/P2/revoke", ADMIN_TOKEN, &json!({}));
    assert!(again.replayed);
    assert_eq!(again.body, revoked.body);
    assert_eq!(app.gauge("treatfirst_ledger_records"), records + 1);
}
