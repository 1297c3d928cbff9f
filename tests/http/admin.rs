//! Administration over HTTP: tokens, plans (versions), hospitals, enrollment (with and
//! without a credit limit), MSA deposits, credit limits and revocation.

use serde_json::json;

use crate::support::*;

#[test]
fn tokens_are_issued_for_every_role_and_work() {
    let app = spawn_app();
    setup(&app);
    for (grant, read_path, read_status) in [
        (json!({"role": "admin"}), "/v1/plans/city", 200),
        (json!({"role": "finance"}), "/v1/plans/city", 200),
        (json!({"role": "channel"}), "/v1/plans/city", 403),
        (
            json!({"role": "hospital", "hospital_id": "H2"}),
            "/v1/hospitals/H2",
            200,
        ),
        (
            json!({"role": "patient", "patient_id": "P2"}),
            "/v1/patients/P2",
            200,
        ),
    ] {
        let issued = app.post("/v1/tokens", ADMIN_TOKEN, &grant);
        assert_eq!(issued.status, 201, "{}", issued.body);
        assert_eq!(issued.content_type, "application/json");
        let token = issued.text("token").to_owned();
        assert!(token.len() >= 32, "{token}");
        for (name, value) in grant.as_object().unwrap() {
            assert_eq!(&issued.body[name], value, "{name} in {}", issued.body);
        }
        assert_eq!(app.get(read_path, &token).status, read_status, "{grant}");
    }
    // Two tokens for the same grant are different secrets.
    let first = app.token(json!({"role": "finance"}));
    let second = app.token(json!({"role": "finance"}));
    assert_ne!(first, second);
    // A grant for a hospital or patient that does not exist is refused.
    let unknown = app.post(
        "/v1/tokens",
        ADMIN_TOKEN,
        &json!({"role": "hospital", "hospital_id": "H9"}),
    );
    assert_problem(&unknown, 422, "invalid_request");
    let unknown = app.post(
        "/v1/tokens",
        ADMIN_TOKEN,
        &json!({"role": "patient", "patient_id": "P9"}),
    );
    assert_problem(&unknown, 422, "invalid_request");
}

#[test]
fn a_plan_is_stored_and_echoed_with_its_version() {
    let app = spawn_app();
    let mut plan = city_plan();
    let stored = app.put("/v1/plans/city", ADMIN_TOKEN, &plan);
    assert_eq!(stored.status, 200, "{}", stored.body);
    assert!(!stored.replayed);
    assert_eq!(stored.body["plan_id"], "city");
    assert_eq!(stored.body["version"], 1);
    for (name, value) in plan.as_object().unwrap() {
        assert_eq!(&stored.body[name], value, "{name}");
    }
    // The same plan again: version 1, replayed.
    let again = app.put("/v1/plans/city", ADMIN_TOKEN, &plan);
    assert_eq!(again.status, 200);
    assert!(again.replayed);
    assert_eq!(again.body, stored.body);
    // A changed plan is version 2.
    plan["default_self_pay_ratio"] = json!("0.20");
    plan["rules"][0]["deductible"] = json!("200.00");
    let changed = app.put("/v1/plans/city", ADMIN_TOKEN, &plan);
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert!(!changed.replayed);
    assert_eq!(changed.body["version"], 2);
    assert_eq!(changed.body["default_self_pay_ratio"], "0.20");
    assert_eq!(changed.body["rules"][0]["deductible"], "200.00");
    let read = app.get("/v1/plans/city", ADMIN_TOKEN);
    assert_eq!(read.status, 200);
    assert_eq!(read.body["version"], 2);
    assert_eq!(read.body["plan"], plan);
    // Another plan id starts at version 1.
    let other = app.put("/v1/plans/rural", ADMIN_TOKEN, &city_plan());
    assert_eq!(other.body["version"], 1);
    assert_problem(&app.get("/v1/plans/nowhere", ADMIN_TOKEN), 404, "not_found");
}

#[test]
fn settlements_use_the_plan_version_in_force() {
    let app = spawn_app();
    let scheme = setup(&app);
    let first = settled_visit(&app, &scheme, "V1");
    assert_eq!(first.body["plan_version"], 1);
    // Version 2: the 80 % band becomes 50 %; the deductible is used up by V1 already.
    let mut plan = city_plan();
    plan["rules"][0]["bands"][0]["fund_ratio"] = json!("0.50");
    assert_eq!(
        app.put("/v1/plans/city", ADMIN_TOKEN, &plan).body["version"],
        2
    );
    let second = settle_at_h1(
        &app,
        &scheme.hospital_1,
        "V2",
        "P1",
        &[one_line_charge("C1", "A", "100.00")],
    );
    assert_eq!(second.body["plan_version"], 2);
    assert_eq!(second.text("in_scope"), "100.00");
    assert_eq!(second.text("deductible"), "0.00");
    assert_eq!(second.text("fund_paid"), "50.00");
    assert_eq!(second.text("personal_share"), "50.00");
    // V1 keeps its version.
    assert_eq!(app.visit("H1", "V1")["settlement"]["plan_version"], 1);
}

#[test]
fn hospitals_are_registered_and_changed() {
    let app = spawn_app();
    let stored = app.put(
        "/v1/hospitals/H7",
        ADMIN_TOKEN,
        &json!({"name": "City Hospital No. 7", "level": 2}),
    );
    assert_eq!(stored.status, 200, "{}", stored.body);
    assert_fields(
        &stored.body,
        &json!({"hospital_id": "H7", "name": "City Hospital No. 7", "level": 2}),
    );
    let changed = app.put(
        "/v1/hospitals/H7",
        ADMIN_TOKEN,
        &json!({"name": "City Hospital No. 7", "level": 3}),
    );
    assert_eq!(changed.status, 200);
    assert_eq!(changed.body["level"], 3);
    let read = app.get("/v1/hospitals/H7", ADMIN_TOKEN);
    assert_eq!(read.status, 200);
    assert_eq!(read.body, changed.body);
}

#[test]
fn enrollment_with_a_credit_limit_returns_the_full_patient_view() {
    let app = spawn_app();
    setup(&app);
    let enrolled = app.post(
        "/v1/patients",
        ADMIN_TOKEN,
        &json!({"patient_id": "P3", "plan_id": "city", "member_type": "retiree",
                "birth_date": "1950-02-28", "msa_balance": "120.50",
                "credit_limit": "2500.00", "external_score": 640}),
    );
    assert_eq!(enrolled.status, 201, "{}", enrolled.body);
    assert!(!enrolled.replayed);
    let expected = json!({"patient_id": "P3", "status": "active", "credit_limit": "2500.00",
                          "credit_held": "0.00", "outstanding": "0.00", "overdue": "0.00",
                          "available_credit": "2500.00", "msa_balance": "120.50",
                          "refund_owed": "0.00"});
    assert_fields(&enrolled.body, &expected);
    assert_fields(&app.patient("P3"), &expected);
}

#[test]
fn enrollment_without_a_credit_limit_gets_the_risk_policy_limit() {
    let app = spawn_app();
    setup(&app);
    let enrolled = app.post(
        "/v1/patients",
        ADMIN_TOKEN,
        &json!({"patient_id": "P4", "plan_id": "city", "member_type": "resident",
                "birth_date": "1990-07-15"}),
    );
    assert_eq!(enrolled.status, 201, "{}", enrolled.body);
    let limit: f64 = enrolled.text("credit_limit").parse().unwrap();
    assert!(limit > 0.0, "{}", enrolled.body);
    assert_eq!(
        enrolled.text("available_credit"),
        enrolled.text("credit_limit")
    );
    assert_eq!(enrolled.text("msa_balance"), "0.00");
    // The limit is usable: a visit up to it opens.
    let hospital = app.token(json!({"role": "hospital", "hospital_id": "H1"}));
    let limit = enrolled.text("credit_limit").to_owned();
    let opened = app.post(
        "/v1/hospitals/H1/visits",
        &hospital,
        &visit_body("V1", "P4", &limit),
    );
    assert_eq!(opened.status, 201, "{}", opened.body);
    assert_eq!(app.patient("P4")["available_credit"], "0.00");
    // Enrolling in an unknown plan is 404.
    let unknown_plan = app.post(
        "/v1/patients",
        ADMIN_TOKEN,
        &json!({"patient_id": "P5", "plan_id": "nowhere", "member_type": "resident",
                "birth_date": "1990-07-15"}),
    );
    assert_problem(&unknown_plan, 404, "not_found");
}

#[test]
fn msa_deposits_add_to_the_balance_and_pay_settlements() {
    let app = spawn_app();
    let scheme = setup(&app);
    let deposited = app.post(
        "/v1/patients/P2/msa-deposits",
        ADMIN_TOKEN,
        &json!({"deposit_id": "D1", "amount": "80.25"}),
    );
    assert_eq!(deposited.status, 201, "{}", deposited.body);
    assert_fields(
        &deposited.body,
        &json!({"deposit_id": "D1", "patient_id": "P2", "amount": "80.25",
               "msa_balance": "80.25"}),
    );
    let second = app.post(
        "/v1/patients/P2/msa-deposits",
        ADMIN_TOKEN,
        &json!({"deposit_id": "D2", "amount": "19.75"}),
    );
    assert_eq!(second.text("msa_balance"), "100.00");
    assert_eq!(app.patient("P2")["msa_balance"], "100.00");
    // The MSA pays the personal share first: C 1 × 150.00 is all personal.
    let settled = settle_at_h1(
        &app,
        &scheme.hospital_1,
        "V1",
        "P2",
        &[one_line_charge("C1", "C", "150.00")],
    );
    assert_eq!(settled.text("msa_paid"), "100.00");
    assert_eq!(settled.text("cash_due"), "50.00");
    let patient = app.patient("P2");
    assert_eq!(patient["msa_balance"], "0.00");
    assert_eq!(patient["outstanding"], "50.00");
    assert_problem(
        &app.post(
            "/v1/patients/P9/msa-deposits",
            ADMIN_TOKEN,
            &json!({"deposit_id": "D1", "amount": "1.00"}),
        ),
        404,
        "not_found",
    );
}

#[test]
fn credit_limits_change_but_never_below_what_is_used() {
    let app = spawn_app();
    let scheme = setup(&app);
    settled_visit(&app, &scheme, "V1");
    let raised = app.put(
        "/v1/patients/P1/credit-limit",
        ADMIN_TOKEN,
        &json!({"credit_limit": "6000.00"}),
    );
    assert_eq!(raised.status, 200, "{}", raised.body);
    assert_eq!(raised.text("credit_limit"), "6000.00");
    assert_eq!(raised.text("outstanding"), "168.00");
    assert_eq!(raised.text("available_credit"), "5832.00");
    let lowered = app.put(
        "/v1/patients/P1/credit-limit",
        ADMIN_TOKEN,
        &json!({"credit_limit": "168.00"}),
    );
    assert_eq!(lowered.status, 200, "{}", lowered.body);
    assert_eq!(lowered.text("available_credit"), "0.00");
    let before = app.patient("P1");
    let too_low = app.put(
        "/v1/patients/P1/credit-limit",
        ADMIN_TOKEN,
        &json!({"credit_limit": "167.99"}),
    );
    assert_problem(&too_low, 409, "invalid_state");
    assert_eq!(app.patient("P1"), before);
}

#[test]
fn a_revoked_patient_opens_no_visits_and_still_owes() {
    let app = spawn_app();
    let scheme = setup(&app);
    settled_visit(&app, &scheme, "V1");
    let revoked = app.post("/v1/patients/P1/revoke", ADMIN_TOKEN, &json!({}));
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(revoked.text("status"), "revoked");
    assert_eq!(revoked.text("outstanding"), "168.00");
    let declined = app.post(
        "/v1/hospitals/H1/visits",
        &scheme.hospital_1,
        &visit_body("V2", "P1", "10.00"),
    );
    assert_problem(&declined, 422, "patient_not_active");
    assert_eq!(declined.body["reasons"], json!(["patient_revoked"]));
    // Debts stay payable.
    let paid = app.post(
        "/v1/payments",
        &scheme.channel,
        &json!({"payment_id": "PAY1", "patient_id": "P1", "amount": "168.00",
                "channel": "bank"}),
    );
    assert_eq!(paid.status, 201, "{}", paid.body);
    let patient = app.patient("P1");
    assert_eq!(patient["outstanding"], "0.00");
    assert_eq!(patient["status"], "revoked");
}
