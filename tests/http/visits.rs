//! The visit lifecycle over HTTP with exact amounts: open, charges (the hold grows), settle
//! (again: the same settlement), cancel, refunds (differences per payer, refund owed), the
//! visit view and the patient's visits.

use serde_json::{json, Value};

use crate::support::*;

fn c2_charge() -> Value {
    one_line_charge("C2", "C", "100.00")
}

#[test]
fn open_charge_and_settle_move_the_hold_and_the_receivable() {
    let app = spawn_app();
    let scheme = setup(&app);
    let opened = app.post(
        "/v1/hospitals/H1/visits",
        &scheme.hospital_1,
        &visit_body("V1", "P1", "300.00"),
    );
    assert_eq!(opened.status, 201, "{}", opened.body);
    assert_fields(
        &opened.body,
        &json!({"visit_id": "V1", "hospital_id": "H1", "patient_id": "P1", "status": "open",
               "authorized_amount": "300.00"}),
    );
    let patient = app.patient("P1");
    assert_eq!(patient["credit_held"], "300.00");
    assert_eq!(patient["available_credit"], "4700.00");

    let charged = app.post(
        "/v1/hospitals/H1/visits/V1/charges",
        &scheme.hospital_1,
        &worked_example_charge("C1"),
    );
    assert_eq!(charged.status, 201, "{}", charged.body);
    assert_fields(
        &charged.body,
        &json!({"charge_id": "C1", "amount": "380.00", "visit_total": "380.00"}),
    );
    // The hold grows to the visit total.
    assert_eq!(app.patient("P1")["credit_held"], "380.00");
    let second = app.post(
        "/v1/hospitals/H1/visits/V1/charges",
        &scheme.hospital_1,
        &c2_charge(),
    );
    assert_fields(
        &second.body,
        &json!({"charge_id": "C2", "amount": "100.00", "visit_total": "480.00"}),
    );
    assert_eq!(app.patient("P1")["credit_held"], "480.00");

    let settled = app.post(
        "/v1/hospitals/H1/visits/V1/settle",
        &scheme.hospital_1,
        &json!({}),
    );
    assert_eq!(settled.status, 200, "{}", settled.body);
    for (field, amount) in [
        ("total", "480.00"),
        ("full_self_pay", "140.00"),
        ("over_limit", "0.00"),
        ("pre_self_pay", "37.50"),
        ("in_scope", "302.50"),
        ("deductible", "100.00"),
        ("fund_paid", "162.00"),
        ("personal_share", "318.00"),
        ("msa_paid", "50.00"),
        ("cash_due", "268.00"),
        ("financed", "268.00"),
        ("collect_now", "0.00"),
    ] {
        assert_eq!(settled.text(field), amount, "{field}");
    }
    assert_eq!(settled.text("status"), "settled");
    assert_eq!(settled.text("visit_id"), "V1");
    let settled_at = chrono::DateTime::parse_from_rfc3339(settled.text("settled_at")).unwrap();
    let due_at = chrono::DateTime::parse_from_rfc3339(settled.text("due_at")).unwrap();
    assert_eq!(due_at - settled_at, chrono::Duration::hours(48));
    let patient = app.patient("P1");
    assert_eq!(patient["credit_held"], "0.00");
    assert_eq!(patient["outstanding"], "268.00");
    assert_eq!(patient["overdue"], "0.00");
    assert_eq!(patient["msa_balance"], "0.00");
    assert_eq!(patient["available_credit"], "4732.00");

    // Settling again returns the same settlement and changes nothing.
    let again = app.post(
        "/v1/hospitals/H1/visits/V1/settle",
        &scheme.hospital_1,
        &json!({}),
    );
    assert_eq!(again.status, 200);
    assert!(again.replayed);
    assert_eq!(again.body, settled.body);
    assert_eq!(app.patient("P1"), patient);

    // A settled visit takes no charges and cannot be cancelled.
    let late = app.post(
        "/v1/hospitals/H1/visits/V1/charges",
        &scheme.hospital_1,
        &one_line_charge("C3", "A", "1.00"),
    );
    assert_problem(&late, 409, "invalid_state");
    let cancel = app.post(
        "/v1/hospitals/H1/visits/V1/cancel",
        &scheme.hospital_1,
        &json!({}),
    );
    assert_problem(&cancel, 409, "invalid_state");
    assert_eq!(app.patient("P1"), patient);
}

#[test]
fn what_the_credit_cannot_cover_is_collected_now() {
    let app = spawn_app();
    let scheme = setup(&app);
    // P2: limit 1000.00, no MSA; a C line of 1500.00 is all personal.
    let settled = settle_at_h1(
        &app,
        &scheme.hospital_1,
        "V1",
        "P2",
        &[one_line_charge("C1", "C", "1500.00")],
    );
    assert_eq!(settled.text("personal_share"), "1500.00");
    assert_eq!(settled.text("cash_due"), "1500.00");
    assert_eq!(settled.text("financed"), "1000.00");
    assert_eq!(settled.text("collect_now"), "500.00");
    let patient = app.patient("P2");
    assert_eq!(patient["outstanding"], "1000.00");
    assert_eq!(patient["available_credit"], "0.00");
    // No credit left: the next check-in is declined with reasons.
    let declined = app.post(
        "/v1/hospitals/H1/visits",
        &scheme.hospital_1,
        &visit_body("V2", "P2", "0.01"),
    );
    assert_problem(&declined, 422, "insufficient_credit");
    assert_eq!(
        declined.body["reasons"],
        json!(["estimate_exceeds_available_credit", "credit_line_exhausted"])
    );
}

#[test]
fn an_estimate_above_the_available_credit_is_declined() {
    let app = spawn_app();
    let scheme = setup(&app);
    let before = app.snapshot();
    let declined = app.post(
        "/v1/hospitals/H1/visits",
        &scheme.hospital_1,
        &visit_body("V1", "P2", "1000.01"),
    );
    assert_problem(&declined, 422, "insufficient_credit");
    assert_eq!(
        declined.body["reasons"],
        json!(["estimate_exceeds_available_credit"])
    );
    assert_eq!(declined.body["available_credit"], "1000.00");
    assert_eq!(app.snapshot(), before);
    let exact = app.post(
        "/v1/hospitals/H1/visits",
        &scheme.hospital_1,
        &visit_body("V1", "P2", "1000.00"),
    );
    assert_eq!(exact.status, 201, "{}", exact.body);
    // Unknown patient or visit: 404.
    assert_problem(
        &app.post(
            "/v1/hospitals/H1/visits",
            &scheme.hospital_1,
            &visit_body("V2", "P9", "1.00"),
        ),
        404,
        "not_found",
    );
    assert_problem(
        &app.post(
            "/v1/hospitals/H1/visits/V9/charges",
            &scheme.hospital_1,
            &c2_charge(),
        ),
        404,
        "not_found",
    );
    assert_problem(
        &app.get("/v1/hospitals/H1/visits/V9", &scheme.hospital_1),
        404,
        "not_found",
    );
}

#[test]
fn cancel_releases_the_hold() {
    let app = spawn_app();
    let scheme = setup(&app);
    let opened = app.post(
        "/v1/hospitals/H1/visits",
        &scheme.hospital_1,
        &visit_body("V1", "P1", "250.00"),
    );
    assert_eq!(opened.status, 201);
    assert_eq!(app.patient("P1")["credit_held"], "250.00");
    let cancelled = app.post(
        "/v1/hospitals/H1/visits/V1/cancel",
        &scheme.hospital_1,
        &json!({}),
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.text("status"), "cancelled");
    assert_eq!(cancelled.text("visit_id"), "V1");
    let patient = app.patient("P1");
    assert_eq!(patient["credit_held"], "0.00");
    assert_eq!(patient["available_credit"], "5000.00");
    assert_eq!(app.visit("H1", "V1")["status"], "cancelled");
    // Cancelled: no charges, no settlement.
    assert_problem(
        &app.post(
            "/v1/hospitals/H1/visits/V1/charges",
            &scheme.hospital_1,
            &c2_charge(),
        ),
        409,
        "invalid_state",
    );
    assert_problem(
        &app.post(
            "/v1/hospitals/H1/visits/V1/settle",
            &scheme.hospital_1,
            &json!({}),
        ),
        409,
        "invalid_state",
    );
    assert_eq!(app.patient("P1"), patient);
}

#[test]
fn the_visit_view_has_the_visit_its_charges_and_its_settlement() {
    let app = spawn_app();
    let scheme = setup(&app);
    let settled = settled_visit(&app, &scheme, "V1");
    let view = app.get("/v1/hospitals/H1/visits/V1", &scheme.hospital_1);
    assert_eq!(view.status, 200, "{}", view.body);
    for (field, value) in [
        ("visit_id", json!("V1")),
        ("hospital_id", json!("H1")),
        ("patient_id", json!("P1")),
        ("kind", json!("outpatient")),
        ("status", json!("settled")),
        ("estimated_amount", json!("300.00")),
        ("authorized_amount", json!("300.00")),
        ("credit_held", json!("0.00")),
        ("total", json!("380.00")),
        ("paid", json!("0.00")),
        ("outstanding", json!("168.00")),
        ("refund_owed", json!("0.00")),
        ("refunds", json!([])),
    ] {
        assert_eq!(view.body[field], value, "{field}");
    }
    assert_eq!(view.body["settlement"], settled.body);
    assert_eq!(view.body["due_at"], settled.body["due_at"]);
    let charges = view.body["charges"].as_array().unwrap();
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0]["charge_id"], "V1-C1");
    assert_eq!(charges[0]["amount"], "380.00");
    assert_eq!(charges[0]["items"].as_array().unwrap().len(), 3);
    assert_eq!(charges[0]["items"][1]["self_pay_ratio"], "0.15");
    assert_eq!(charges[0]["refunded_by"], Value::Null);
    // An open visit has no settlement yet.
    app.post(
        "/v1/hospitals/H1/visits",
        &scheme.hospital_1,
        &visit_body("V2", "P1", "10.00"),
    );
    let open = app.visit("H1", "V2");
    assert_eq!(open["status"], "open");
    assert_eq!(open["settlement"], Value::Null);
    assert_eq!(open["credit_held"], "10.00");
}

#[test]
fn a_patients_visits_in_the_order_opened_and_hospitals_see_their_own() {
    let app = spawn_app();
    let scheme = setup(&app);
    settled_visit(&app, &scheme, "V1");
    let at_h2 = app.post(
        "/v1/hospitals/H2/visits",
        &scheme.hospital_2,
        &visit_body("V1", "P1", "20.00"),
    );
    assert_eq!(at_h2.status, 201, "{}", at_h2.body);
    app.post(
        "/v1/hospitals/H1/visits",
        &scheme.hospital_1,
        &visit_body("V3", "P1", "30.00"),
    );
    let keys = |reply: &Reply| -> Vec<(String, String)> {
        reply.body["visits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|visit| {
                (
                    visit["hospital_id"].as_str().unwrap().to_owned(),
                    visit["visit_id"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let pair = |h: &str, v: &str| (h.to_owned(), v.to_owned());
    let all = app.get("/v1/patients/P1/visits", &scheme.patient_1);
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(
        keys(&all),
        vec![pair("H1", "V1"), pair("H2", "V1"), pair("H1", "V3")]
    );
    assert_eq!(all.body["visits"][0]["outstanding"], "168.00");
    assert_eq!(all.body["visits"][1]["credit_held"], "20.00");
    let from_h2 = app.get("/v1/patients/P1/visits", &scheme.hospital_2);
    assert_eq!(keys(&from_h2), vec![pair("H2", "V1")]);
    let finance = app.get("/v1/patients/P1/visits", &scheme.finance);
    assert_eq!(finance.body, all.body);
    let none = app.get("/v1/patients/P2/visits", &scheme.finance);
    assert_fields(&none.body, &json!({"visits": []}));
}

#[test]
fn refunds_readjudicate_and_reverse_each_payers_difference() {
    let app = spawn_app();
    let scheme = setup(&app);
    // V1: the worked example (C1) plus C 1 × 100.00 (C2): personal 318.00, cash 268.00.
    let settled = settle_at_h1(
        &app,
        &scheme.hospital_1,
        "V1",
        "P1",
        &[worked_example_charge("C1"), c2_charge()],
    );
    assert_eq!(settled.text("financed"), "268.00");

    // Refund C2: back to the worked example; the financed part shrinks by 100.00.
    let refunded = app.post(
        "/v1/hospitals/H1/visits/V1/refunds",
        &scheme.hospital_1,
        &json!({"refund_id": "R1", "charge_id": "C2"}),
    );
    assert_eq!(refunded.status, 201, "{}", refunded.body);
    assert_eq!(refunded.text("refund_id"), "R1");
    assert_eq!(refunded.text("charge_id"), "C2");
    let settlement = &refunded.body["settlement"];
    for (field, amount) in [
        ("total", "380.00"),
        ("full_self_pay", "40.00"),
        ("pre_self_pay", "37.50"),
        ("in_scope", "302.50"),
        ("deductible", "100.00"),
        ("fund_paid", "162.00"),
        ("personal_share", "218.00"),
        ("msa_paid", "50.00"),
        ("cash_due", "168.00"),
        ("financed", "168.00"),
        ("collect_now", "0.00"),
    ] {
        assert_eq!(settlement[field], amount, "{field}");
    }
    assert_fields(
        &refunded.body["differences"],
        &json!({"total": "100.00", "fund": "0.00", "msa": "0.00", "financed": "100.00",
               "collect_now": "0.00", "outstanding_reduced": "100.00",
               "refund_owed": "0.00"}),
    );
    let patient = app.patient("P1");
    assert_eq!(patient["outstanding"], "168.00");
    assert_eq!(patient["refund_owed"], "0.00");
    let view = app.visit("H1", "V1");
    assert_eq!(view["settlement"]["total"], "380.00");
    assert_eq!(view["charges"][1]["refunded_by"], "R1");
    assert_eq!(view["refunds"][0]["refund_id"], "R1");
    assert_eq!(
        view["refunds"][0]["differences"],
        refunded.body["differences"]
    );
    // Settling again still returns the settlement as first settled.
    let again = app.post(
        "/v1/hospitals/H1/visits/V1/settle",
        &scheme.hospital_1,
        &json!({}),
    );
    assert_eq!(again.text("total"), "480.00");
    // A charge is refunded once.
    assert_problem(
        &app.post(
            "/v1/hospitals/H1/visits/V1/refunds",
            &scheme.hospital_1,
            &json!({"refund_id": "R2", "charge_id": "C2"}),
        ),
        409,
        "invalid_state",
    );
    assert_problem(
        &app.post(
            "/v1/hospitals/H1/visits/V1/refunds",
            &scheme.hospital_1,
            &json!({"refund_id": "R2", "charge_id": "C9"}),
        ),
        404,
        "not_found",
    );
}

#[test]
fn a_refund_below_what_was_paid_becomes_refund_owed() {
    let app = spawn_app();
    let scheme = setup(&app);
    settle_at_h1(
        &app,
        &scheme.hospital_1,
        "V1",
        "P1",
        &[worked_example_charge("C1"), c2_charge()],
    );
    // The patient pays all 268.00 first.
    let paid = app.post(
        "/v1/payments",
        &scheme.patient_1,
        &json!({"payment_id": "PAY1", "patient_id": "P1", "amount": "268.00",
                "channel": "citizen_card"}),
    );
    assert_eq!(paid.status, 201, "{}", paid.body);
    assert_eq!(paid.text("outstanding"), "0.00");
    assert_eq!(app.visit("H1", "V1")["status"], "paid");
    // Refund the worked example (C1): only C2 (C 1 × 100.00) remains, all personal; the
    // fund gives back 162.00; the MSA keeps paying first (50.00), so cash due is 50.00 and
    // 218.00 of what was paid is owed back.
    let refunded = app.post(
        "/v1/hospitals/H1/visits/V1/refunds",
        &scheme.hospital_1,
        &json!({"refund_id": "R1", "charge_id": "C1"}),
    );
    assert_eq!(refunded.status, 201, "{}", refunded.body);
    let settlement = &refunded.body["settlement"];
    for (field, amount) in [
        ("total", "100.00"),
        ("full_self_pay", "100.00"),
        ("in_scope", "0.00"),
        ("deductible", "0.00"),
        ("fund_paid", "0.00"),
        ("personal_share", "100.00"),
        ("msa_paid", "50.00"),
        ("cash_due", "50.00"),
        ("financed", "50.00"),
    ] {
        assert_eq!(settlement[field], amount, "{field}");
    }
    assert_fields(
        &refunded.body["differences"],
        &json!({"total": "380.00", "fund": "162.00", "msa": "0.00", "financed": "218.00",
               "collect_now": "0.00", "outstanding_reduced": "0.00",
               "refund_owed": "218.00"}),
    );
    let patient = app.patient("P1");
    assert_eq!(patient["outstanding"], "0.00");
    assert_eq!(patient["refund_owed"], "218.00");
    assert_eq!(patient["available_credit"], "5000.00");
    assert_eq!(app.visit("H1", "V1")["refund_owed"], "218.00");
}
