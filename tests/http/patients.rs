//! What a patient sees: the patient view and the statement (oldest first, paginated).

use serde_json::{json, Value};

use crate::support::*;

#[test]
fn the_patient_view_has_every_field() {
    let app = spawn_app();
    let scheme = setup(&app);
    settled_visit(&app, &scheme, "V1");
    app.post(
        "/v1/hospitals/H2/visits",
        &scheme.hospital_2,
        &visit_body("V2", "P1", "32.00"),
    );
    let view = app.get("/v1/patients/P1", &scheme.patient_1);
    assert_eq!(view.status, 200, "{}", view.body);
    assert_eq!(view.content_type, "application/json");
    assert_fields(
        &view.body,
        &json!({"patient_id": "P1", "status": "active", "credit_limit": "5000.00",
               "credit_held": "32.00", "outstanding": "168.00", "overdue": "0.00",
               "available_credit": "4800.00", "msa_balance": "0.00",
               "refund_owed": "0.00"}),
    );
    assert_problem(&app.get("/v1/patients/P9", ADMIN_TOKEN), 404, "not_found");
}

fn entries(reply: &Reply) -> Vec<Value> {
    reply.body["entries"].as_array().unwrap().clone()
}

#[test]
fn the_statement_is_oldest_first_and_pages_with_after() {
    let app = spawn_app();
    let scheme = setup(&app);
    settled_visit(&app, &scheme, "V1");
    paid_by_alipay(&app, &scheme, "PAY1", "100.00");

    let whole = app.get("/v1/patients/P1/statement", &scheme.patient_1);
    assert_eq!(whole.status, 200, "{}", whole.body);
    assert_eq!(whole.body["next"], Value::Null);
    let all = entries(&whole);
    assert!(all.len() >= 5, "{}", whole.body);
    // Oldest first: journal sequence never decreases; times never go back.
    let seqs: Vec<u64> = all
        .iter()
        .map(|entry| entry["cursor"]["seq"].as_u64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|pair| pair[0] <= pair[1]), "{seqs:?}");
    let times: Vec<_> = all
        .iter()
        .map(|entry| chrono::DateTime::parse_from_rfc3339(entry["at"].as_str().unwrap()).unwrap())
        .collect();
    assert!(times.windows(2).all(|pair| pair[0] <= pair[1]));
    // The money: 50.00 into the MSA at enrollment, 168.00 onto the receivable and 50.00 out
    // of the MSA at settlement, 100.00 off the receivable by the payment (last).
    let first = &all[0];
    assert_eq!(first["account"], "msa");
    assert_eq!(first["kind"], "msa_deposit");
    assert_eq!(first["amount"], "50.00");
    assert_eq!(first["side"], "credit");
    let settle: Vec<&Value> = all
        .iter()
        .filter(|entry| entry["kind"] == "settle")
        .collect();
    assert_eq!(settle.len(), 2, "{}", whole.body);
    assert!(settle.iter().any(|entry| entry["account"] == "receivable"
        && entry["amount"] == "168.00"
        && entry["side"] == "debit"
        && entry["balance_after"] == "168.00"));
    assert!(settle.iter().any(|entry| entry["account"] == "msa"
        && entry["amount"] == "50.00"
        && entry["balance_after"] == "0.00"));
    let last = all.last().unwrap();
    assert_eq!(last["kind"], "payment");
    assert_eq!(last["amount"], "100.00");
    assert_eq!(last["side"], "credit");
    assert_eq!(last["balance_after"], "68.00");

    // Pages of 2, each `after` the previous page's `next`, give the same entries.
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..all.len() + 2 {
        let path = match &after {
            Some(cursor) => format!("/v1/patients/P1/statement?limit=2&after={cursor}"),
            None => "/v1/patients/P1/statement?limit=2".to_owned(),
        };
        let page = app.get(&path, &scheme.patient_1);
        assert_eq!(page.status, 200, "{}", page.body);
        let page_entries = entries(&page);
        assert!(page_entries.len() <= 2);
        paged.extend(page_entries);
        match page.body["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(paged, all);
    // A page of exactly the rest ends with a cursor; the page after it is empty.
    let limit = all.len();
    let exact = app.get(
        &format!("/v1/patients/P1/statement?limit={limit}"),
        &scheme.patient_1,
    );
    let next = exact.body["next"]
        .as_str()
        .expect("a full page has a next")
        .to_owned();
    let empty = app.get(
        &format!("/v1/patients/P1/statement?after={next}"),
        &scheme.patient_1,
    );
    assert_eq!(empty.status, 200);
    assert_fields(&empty.body, &json!({"entries": [], "next": null}));
    // A patient without history has an empty statement (P2 has no MSA balance).
    let quiet = app.get("/v1/patients/P2/statement", &scheme.patient_2);
    assert_fields(&quiet.body, &json!({"entries": [], "next": null}));
    assert_problem(
        &app.get("/v1/patients/P9/statement", ADMIN_TOKEN),
        404,
        "not_found",
    );
}
