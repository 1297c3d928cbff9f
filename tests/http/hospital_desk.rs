//! The additions the web UI reads: `GET /v1/whoami`, and the hospital desk (a hospital's
//! open visits, and its settlements of a day).

use chrono::{DateTime, FixedOffset};
use serde_json::{json, Value};

use crate::support::*;

/// The UTC+8 date of an RFC 3339 instant.
fn china_date(instant: &str) -> String {
    DateTime::parse_from_rfc3339(instant)
        .expect("an instant")
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%d")
        .to_string()
}

#[test]
fn whoami_tells_each_token_its_grant() {
    let app = spawn_app();
    let scheme = setup(&app);
    for (token, grant) in [
        (ADMIN_TOKEN, json!({"role": "admin"})),
        (
            scheme.hospital_1.as_str(),
            json!({"role": "hospital", "hospital_id": "H1"}),
        ),
        (
            scheme.patient_2.as_str(),
            json!({"role": "patient", "patient_id": "P2"}),
        ),
        (scheme.finance.as_str(), json!({"role": "finance"})),
        (scheme.channel.as_str(), json!({"role": "channel"})),
    ] {
        let reply = app.get("/v1/whoami", token);
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body, grant);
    }
    assert_problem(
        &app.send("GET", "/v1/whoami", None, "", None),
        401,
        "unauthorized",
    );
    assert_problem(&app.get("/v1/whoami", "tf_unknown"), 401, "unauthorized");
    assert_problem(
        &app.send(
            "POST",
            "/v1/whoami",
            Some(ADMIN_TOKEN),
            "application/json",
            Some(b"{}"),
        ),
        405,
        "method_not_allowed",
    );
}

/// H1: V-OPEN open (estimate 300.00, a charge of 380.00), V-SETTLED settled, V-CANCELLED
/// cancelled; H2: nothing.
fn desk(app: &App, scheme: &Scheme) -> Value {
    let settled = settled_visit(app, scheme, "V-SETTLED").body;
    for visit in ["V-OPEN", "V-CANCELLED"] {
        let opened = app.post(
            "/v1/hospitals/H1/visits",
            &scheme.hospital_1,
            &visit_body(visit, "P1", "300.00"),
        );
        assert_eq!(opened.status, 201, "{}", opened.body);
    }
    let charged = app.post(
        "/v1/hospitals/H1/visits/V-OPEN/charges",
        &scheme.hospital_1,
        &worked_example_charge("V-OPEN-C1"),
    );
    assert_eq!(charged.status, 201, "{}", charged.body);
    let cancelled = app.post(
        "/v1/hospitals/H1/visits/V-CANCELLED/cancel",
        &scheme.hospital_1,
        &json!({}),
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    settled
}

#[test]
fn a_hospital_sees_its_open_visits_with_their_authorizations() {
    let app = spawn_app();
    let scheme = setup(&app);
    desk(&app, &scheme);
    let reply = app.get("/v1/hospitals/H1/open-visits", &scheme.hospital_1);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let open = &reply.body;
    let view = app.visit("H1", "V-OPEN");
    assert_fields(
        open,
        &json!({"hospital_id": "H1", "count": 1, "truncated": false,
                "authorized_total": view["authorized_amount"],
                "credit_held_total": view["credit_held"]}),
    );
    assert_eq!(open["visits"].as_array().unwrap().len(), 1);
    assert_eq!(
        open["visits"][0],
        json!({"visit_id": "V-OPEN", "patient_id": "P1", "kind": "outpatient",
               "opened_at": view["timeline"]["opened_at"],
               "estimated_amount": "300.00", "authorized_amount": "300.00",
               "credit_held": view["credit_held"], "total": "380.00", "charges": 1})
    );
    // The hold grew with the charge beyond the authorization.
    assert_eq!(view["credit_held"], "380.00");

    // Finance and admin may read it; another hospital, a patient, a channel may not.
    for token in [scheme.finance.as_str(), ADMIN_TOKEN] {
        let reply = app.get("/v1/hospitals/H1/open-visits", token);
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(&reply.body["visits"], &open["visits"]);
    }
    for token in [&scheme.hospital_2, &scheme.patient_1, &scheme.channel] {
        assert_problem(
            &app.get("/v1/hospitals/H1/open-visits", token),
            403,
            "forbidden",
        );
    }
    let empty = app.get("/v1/hospitals/H2/open-visits", &scheme.hospital_2);
    assert_eq!(empty.status, 200);
    assert_fields(
        &empty.body,
        &json!({"count": 0, "visits": [], "authorized_total": "0.00", "credit_held_total": "0.00"}),
    );
    assert_problem(
        &app.get("/v1/hospitals/H9/open-visits", ADMIN_TOKEN),
        404,
        "not_found",
    );
    assert_problem(
        &app.get("/v1/hospitals/H%201/open-visits", ADMIN_TOKEN),
        400,
        "invalid_request",
    );
    assert_problem(
        &app.send("GET", "/v1/hospitals/H1/open-visits", None, "", None),
        401,
        "unauthorized",
    );
}

#[test]
fn a_hospital_sees_the_settlements_of_a_day() {
    let app = spawn_app();
    let scheme = setup(&app);
    let settled = desk(&app, &scheme);
    let today = china_date(settled["settled_at"].as_str().unwrap());

    // Today by default; the same for the date given.
    let reply = app.get("/v1/hospitals/H1/settlements", &scheme.hospital_1);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let day = reply.body;
    let dated = app.get(
        &format!("/v1/hospitals/H1/settlements?date={today}"),
        &scheme.finance,
    );
    assert_eq!(dated.status, 200, "{}", dated.body);
    assert_eq!(dated.body, day);
    assert_fields(
        &day,
        &json!({"hospital_id": "H1", "date": today, "count": 1, "truncated": false,
                "totals": {"total": "380.00", "fund_paid": "162.00", "msa_paid": "50.00",
                           "financed": "168.00", "collect_now": "0.00"}}),
    );
    // Each settlement as settling returned it.
    assert_eq!(day["settlements"], json!([settled]));

    // Another day, another hospital: nothing of H1's today.
    let yesterday = app.get(
        "/v1/hospitals/H1/settlements?date=2020-02-29",
        &scheme.hospital_1,
    );
    assert_eq!(yesterday.status, 200);
    assert_fields(
        &yesterday.body,
        &json!({"date": "2020-02-29", "count": 0, "settlements": [],
                "totals": {"total": "0.00", "fund_paid": "0.00", "msa_paid": "0.00",
                           "financed": "0.00", "collect_now": "0.00"}}),
    );
    let other = app.get("/v1/hospitals/H2/settlements", &scheme.hospital_2);
    assert_eq!(other.status, 200);
    assert_eq!(other.body["count"], 0);

    assert_problem(
        &app.get("/v1/hospitals/H1/settlements", &scheme.hospital_2),
        403,
        "forbidden",
    );
    for query in ["date=2026-02-30", "date=tomorrow", "date="] {
        assert_problem(
            &app.get(
                &format!("/v1/hospitals/H1/settlements?{query}"),
                &scheme.hospital_1,
            ),
            400,
            "invalid_request",
        );
    }
    assert_problem(
        &app.get("/v1/hospitals/H9/settlements", ADMIN_TOKEN),
        404,
        "not_found",
    );
}
