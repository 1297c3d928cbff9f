//! Payments (oldest due first, `applied`, `outstanding`, overpayment refused, the payment
//! record) and delinquency runs (overdue, defaulted, written off; never backwards).

use chrono::{DateTime, Duration, FixedOffset, SecondsFormat};
use serde_json::json;

use crate::support::*;

fn pay(app: &App, token: &str, payment: &str, patient: &str, amount: &str) -> Reply {
    app.post(
        "/v1/payments",
        token,
        &json!({"payment_id": payment, "patient_id": patient, "amount": amount,
                "channel": "alipay"}),
    )
}

#[test]
fn payments_go_to_the_oldest_due_visit_first() {
    let app = spawn_app();
    let scheme = setup(&app);
    settled_visit(&app, &scheme, "V1");
    // V2: the same charge; the deductible and the MSA are used up: fund 242.00, cash 138.00.
    let second = settled_visit(&app, &scheme, "V2");
    assert_eq!(second.text("deductible"), "0.00");
    assert_eq!(second.text("fund_paid"), "242.00");
    assert_eq!(second.text("msa_paid"), "0.00");
    assert_eq!(second.text("financed"), "138.00");
    assert_eq!(app.patient("P1")["outstanding"], "306.00");

    let paid = pay(&app, &scheme.channel, "PAY1", "P1", "200.00");
    assert_eq!(paid.status, 201, "{}", paid.body);
    assert_eq!(paid.text("payment_id"), "PAY1");
    assert_eq!(paid.text("outstanding"), "106.00");
    let applied = paid.body["applied"].as_array().unwrap();
    assert_eq!(applied.len(), 2, "{}", paid.body);
    for (part, (visit, amount)) in applied.iter().zip([("V1", "168.00"), ("V2", "32.00")]) {
        assert_eq!(part["hospital_id"], "H1");
        assert_eq!(part["visit_id"], visit);
        assert_eq!(part["amount"], amount);
    }
    assert_eq!(app.visit("H1", "V1")["status"], "paid");
    assert_eq!(app.visit("H1", "V2")["outstanding"], "106.00");
    let patient = app.patient("P1");
    assert_eq!(patient["outstanding"], "106.00");
    assert_eq!(patient["available_credit"], "4894.00");

    // More than outstanding: refused, nothing changes.
    let before = app.snapshot();
    let over = pay(&app, &scheme.channel, "PAY2", "P1", "106.01");
    assert_problem(&over, 422, "amount_exceeds_outstanding");
    assert_eq!(over.body["outstanding"], "106.00");
    assert_eq!(app.snapshot(), before);
    // Nothing owed at all: also refused.
    assert_problem(
        &pay(&app, &scheme.channel, "PAY3", "P2", "0.01"),
        422,
        "amount_exceeds_outstanding",
    );

    // The rest, by the patient itself.
    let rest = pay(&app, &scheme.patient_1, "PAY4", "P1", "106.00");
    assert_eq!(rest.status, 201, "{}", rest.body);
    assert_eq!(rest.text("outstanding"), "0.00");
    assert_eq!(rest.body["applied"][0]["visit_id"], "V2");
    assert_eq!(rest.body["applied"][0]["amount"], "106.00");
    assert_eq!(app.visit("H1", "V2")["status"], "paid");
    let patient = app.patient("P1");
    assert_eq!(patient["outstanding"], "0.00");
    assert_eq!(patient["available_credit"], "5000.00");

    // The payment record.
    let record = app.get("/v1/payments/PAY1", &scheme.channel);
    assert_eq!(record.status, 200, "{}", record.body);
    assert_eq!(record.body["request"]["amount"], "200.00");
    assert_eq!(record.body["request"]["patient_id"], "P1");
    assert_eq!(record.body["outstanding_after"], "106.00");
    assert_eq!(
        record.body["applied"].as_array().unwrap().len(),
        2,
        "{}",
        record.body
    );
    assert_eq!(app.get("/v1/payments/PAY4", &scheme.patient_1).status, 200);
    assert_problem(
        &app.get("/v1/payments/PAY9", &scheme.finance),
        404,
        "not_found",
    );
    assert_problem(
        &pay(&app, &scheme.channel, "PAY5", "P9", "1.00"),
        404,
        "not_found",
    );
}

fn time(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).unwrap()
}

fn stamp(at: DateTime<FixedOffset>) -> String {
    at.to_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[test]
fn delinquency_ages_an_unpaid_visit_and_never_runs_backwards() {
    let app = spawn_app();
    let scheme = setup(&app);
    let settled = settled_visit(&app, &scheme, "V1");
    let due = time(settled.text("due_at"));

    // Before the due date nothing happens.
    let run = |as_of: &str| {
        app.post(
            "/v1/delinquency/run",
            &scheme.finance,
            &json!({"as_of": as_of}),
        )
    };
    let early = run(&stamp(due - Duration::hours(1)));
    assert_eq!(early.status, 200, "{}", early.body);
    assert_eq!(
        (
            early.body["overdue"].clone(),
            early.body["defaulted"].clone(),
            early.body["written_off"].clone()
        ),
        (json!(0), json!(0), json!(0))
    );
    // A day past due: overdue, the patient suspended everywhere.
    let as_of = stamp(due + Duration::days(1));
    let overdue = run(&as_of);
    assert_eq!(overdue.status, 200, "{}", overdue.body);
    assert_eq!(time(overdue.text("as_of")), time(&as_of));
    assert_eq!(overdue.body["overdue"], 1);
    assert_eq!(overdue.body["defaulted"], 0);
    assert_eq!(overdue.body["written_off"], 0);
    assert_eq!(app.visit("H1", "V1")["status"], "overdue");
    let patient = app.patient("P1");
    assert_eq!(patient["status"], "suspended");
    assert_eq!(patient["overdue"], "168.00");
    let declined = app.post(
        "/v1/hospitals/H2/visits",
        &scheme.hospital_2,
        &visit_body("V9", "P1", "1.00"),
    );
    assert_problem(&declined, 422, "patient_not_active");
    // 31 days past due: defaulted, blacklisted.
    let defaulted = run(&stamp(due + Duration::days(31)));
    assert_eq!(defaulted.body["overdue"], 0);
    assert_eq!(defaulted.body["defaulted"], 1);
    assert_eq!(app.visit("H1", "V1")["status"], "defaulted");
    assert_eq!(app.patient("P1")["status"], "blacklisted");

    // An earlier as_of than the last run: 409, nothing changes.
    let before = app.snapshot();
    let backwards = run(&stamp(due + Duration::days(2)));
    assert_problem(&backwards, 409, "invalid_state");
    assert_eq!(app.snapshot(), before);

    // Far in the future: written off; what is owed stays owed (and overdue).
    let far = run("2040-01-01T00:00:00Z");
    assert_eq!(far.status, 200, "{}", far.body);
    assert_eq!(far.body["written_off"], 1);
    assert_eq!(app.visit("H1", "V1")["status"], "written_off");
    let patient = app.patient("P1");
    assert_eq!(patient["outstanding"], "168.00");
    assert_eq!(patient["overdue"], "168.00");
    // A payment after the write-off is a recovery.
    let recovered = pay(&app, &scheme.channel, "PAY1", "P1", "168.00");
    assert_eq!(recovered.status, 201, "{}", recovered.body);
    assert_eq!(recovered.body["applied"][0]["status_before"], "written_off");
    assert_eq!(app.patient("P1")["outstanding"], "0.00");
    assert_problem(&run("2039-12-31T23:59:59Z"), 409, "invalid_state");
}

#[test]
fn one_far_future_run_takes_a_visit_all_the_way() {
    let app = spawn_app();
    let scheme = setup(&app);
    settled_visit(&app, &scheme, "V1");
    // A paid visit is not aged.
    settle_at_h1(
        &app,
        &scheme.hospital_1,
        "V2",
        "P2",
        &[one_line_charge("C1", "C", "10.00")],
    );
    assert_eq!(
        pay(&app, &scheme.channel, "PAY1", "P2", "10.00").status,
        201
    );
    let run = app.post(
        "/v1/delinquency/run",
        ADMIN_TOKEN,
        &json!({"as_of": "2040-01-01T00:00:00Z"}),
    );
    assert_eq!(run.status, 200, "{}", run.body);
    assert_fields(
        &run.body,
        &json!({"as_of": "2040-01-01T00:00:00Z", "overdue": 1, "defaulted": 1,
               "written_off": 1}),
    );
    assert_eq!(app.visit("H1", "V1")["status"], "written_off");
    assert_eq!(app.visit("H1", "V2")["status"], "paid");
    assert_eq!(app.patient("P2")["status"], "active");
    assert_eq!(app.patient("P1")["status"], "blacklisted");
}
