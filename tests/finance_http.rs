//! Finance over HTTP: the reports of API.md ("Finance") and their additions, on the real
//! server. The server runs on the system clock, so the ledger is aged by delinquency runs
//! with an `as_of` in the future.

#[path = "http/support.rs"]
#[allow(dead_code)]
mod support;

use chrono::{Duration, Utc};
use serde_json::json;
use support::*;

fn in_days(days: i64) -> String {
    (Utc::now() + Duration::days(days)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn today(offset_days: i64) -> String {
    // Report dates are in UTC+8.
    (Utc::now() + Duration::hours(8) + Duration::days(offset_days))
        .format("%Y-%m-%d")
        .to_string()
}

/// The worked example settled for P1 (168.00 financed), then aged 40 days: defaulted.
fn defaulted_city() -> (App, Scheme, String) {
    let app = spawn_app();
    let scheme = setup(&app);
    settled_visit(&app, &scheme, "V1");
    let as_of = in_days(40);
    let run = app.post(
        "/v1/delinquency/run",
        &scheme.finance,
        &json!({"as_of": as_of}),
    );
    assert_eq!(run.status, 200, "{}", run.body);
    assert_eq!(run.body["defaulted"], 1);
    (app, scheme, as_of)
}

#[test]
fn aging_defaults_provision_and_headline_over_http() {
    let (app, scheme, as_of) = defaulted_city();
    let aging = app.get(&format!("/v1/reports/aging?as_of={as_of}"), &scheme.finance);
    assert_eq!(aging.status, 200, "{}", aging.body);
    assert_eq!(aging.text("total"), "168.00");
    let buckets = aging.body["buckets"].as_array().unwrap();
    let names: Vec<&str> = buckets
        .iter()
        .map(|row| row["bucket"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["current", "1-7", "8-30", "31-60", "61-90", "91+"]);
    assert_eq!(buckets[3]["amount"], "168.00");
    assert_eq!(buckets[3]["count"], 1);
    assert_eq!(aging.body["by_hospital"][0]["hospital_id"], "H1");

    let defaults = app.get(
        &format!(
            "/v1/reports/defaults?from={}&to={}&as_of={as_of}",
            today(-1),
            today(1)
        ),
        &scheme.finance,
    );
    assert_eq!(defaults.status, 200, "{}", defaults.body);
    for (field, value) in [
        ("credit_extended", "168.00"),
        ("defaulted_amount", "168.00"),
        ("recovered_amount", "0.00"),
        ("default_rate_by_amount", "1.000000"),
        ("default_rate_by_count", "1.000000"),
        ("net_default_rate_by_amount", "1.000000"),
    ] {
        assert_eq!(defaults.text(field), value, "{field}");
    }
    assert_eq!(defaults.body["defaulted_patients"], 1);
    assert!(defaults
        .text("default_definition")
        .contains("days past due"));
    assert_eq!(defaults.body["by_hospital"][0]["hospital_id"], "H1");

    let provision = app.post(
        "/v1/reports/provision",
        &scheme.finance,
        &json!({"as_of": as_of, "loss_rates": {"current": "0.003", "1-7": "0.016",
                "8-30": "0.1", "31-60": "0.333", "61-90": "0.75", "91+": "1"}}),
    );
    assert_eq!(provision.status, 200, "{}", provision.body);
    // 168.00 × 0.333 = 55.944 -> 55.94.
    assert_eq!(provision.text("total_allowance"), "55.94");
    assert_eq!(provision.text("source"), "given");
    assert_eq!(provision.text("ledger_allowance"), "168.00");
    let derived = app.post(
        "/v1/reports/provision",
        &scheme.finance,
        &json!({"as_of": as_of}),
    );
    assert_eq!(derived.status, 200, "{}", derived.body);
    assert_eq!(derived.text("source"), "derived");
    assert!(derived.text("method").contains("flow to default"));

    let headline = app.get("/v1/reports/headline", &scheme.finance);
    assert_eq!(headline.status, 200, "{}", headline.body);
    assert_eq!(headline.body["patients_enrolled"], 2);
    assert_eq!(headline.text("credit_extended"), "168.00");
    assert_eq!(headline.text("defaulted"), "168.00");
    assert_eq!(headline.text("default_rate_per_100_000"), "100000.00");

    let allowance = app.get("/v1/reports/allowance", &scheme.finance);
    assert_eq!(allowance.status, 200, "{}", allowance.body);
    assert_eq!(allowance.text("charge"), "168.00");
    assert_eq!(allowance.text("closing"), "168.00");
}

#[test]
fn write_off_register_over_http() {
    let (app, scheme, _) = defaulted_city();
    let run = app.post(
        "/v1/delinquency/run",
        &scheme.finance,
        &json!({"as_of": in_days(200)}),
    );
    assert_eq!(run.status, 200, "{}", run.body);
    let register = app.get("/v1/reports/write-offs", &scheme.finance);
    assert_eq!(register.status, 200, "{}", register.body);
    assert_eq!(register.body["count"], 1);
    assert_eq!(register.text("total_written_off"), "168.00");
    assert_eq!(register.body["entries"][0]["visit_id"], "V1");
    let allowance = app.get("/v1/reports/allowance", &scheme.finance);
    assert_eq!(allowance.text("write_offs"), "168.00");
    assert_eq!(allowance.text("closing"), "0.00");
}

#[test]
fn reports_refuse_bad_parameters_and_other_roles() {
    let app = spawn_app();
    let scheme = setup(&app);
    let cases = [
        ("/v1/reports/aging?as_of=yesterday", 400, "invalid_request"),
        (
            "/v1/reports/defaults?from=2026-01-01",
            400,
            "invalid_request",
        ),
        (
            "/v1/reports/defaults?from=2026-02-01&to=2026-01-01",
            400,
            "invalid_request",
        ),
        (
            "/v1/reports/write-offs?from=2026-13-01",
            400,
            "invalid_request",
        ),
    ];
    for (path, status, code) in cases {
        let reply = app.get(path, &scheme.finance);
        assert_problem(&reply, status, code);
    }
    for path in [
        "/v1/reports/aging",
        "/v1/reports/headline",
        "/v1/reports/allowance",
    ] {
        assert_problem(&app.get(path, &scheme.hospital_1), 403, "forbidden");
    }
    let partial = app.post(
        "/v1/reports/provision",
        &scheme.finance,
        &json!({"loss_rates": {"current": "0.01"}}),
    );
    assert_problem(&partial, 400, "invalid_request");
    let above_one = app.post(
        "/v1/reports/provision",
        &scheme.finance,
        &json!({"loss_rates": {"current": "1.5", "1-7": "0", "8-30": "0", "31-60": "0",
                "61-90": "0", "91+": "0"}}),
    );
    assert_problem(&above_one, 400, "invalid_request");
    let admin = app.get("/v1/reports/headline", ADMIN_TOKEN);
    assert_eq!(admin.status, 200);
    assert_eq!(admin.text("credit_extended"), "0.00");
}

#[test]
fn serve_runs_delinquency_on_a_schedule() {
    let before_start = in_days(0);
    let directory = tempfile::tempdir().unwrap();
    let app = start(
        &directory.path().join("data"),
        &[("TREATFIRST_DELINQUENCY_EVERY", "1")],
    );
    let finance = app.token(json!({"role": "finance"}));
    // A run as of an instant before the start is accepted until the scheduler has run as of
    // a later time; from then on it is backwards in time and refused.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let reply = app.post(
            "/v1/delinquency/run",
            &finance,
            &json!({"as_of": before_start}),
        );
        if reply.status == 409 {
            assert_eq!(reply.code(), "invalid_state");
            break;
        }
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(
            std::time::Instant::now() < deadline,
            "the scheduler never ran"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

fn post_csv(app: &App, path: &str, token: &str, text: &str) -> Reply {
    app.send("POST", path, Some(token), "text/csv", Some(text.as_bytes()))
}

#[test]
fn fund_and_channel_reconciliation_over_http() {
    let app = spawn_app();
    let scheme = setup(&app);
    // The worked example: fund share 162.00, financed 168.00.
    settled_visit(&app, &scheme, "V1");
    settled_visit(&app, &scheme, "V2");
    let file = "reference,hospital_id,visit_id,amount\nREM-1,H1,V1,162.00\nREM-2,H1,V9,5.00\n";
    let first = post_csv(&app, "/v1/reconciliations/fund", &scheme.finance, file);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["matched"], 1);
    assert_eq!(first.body["posted"], 1);
    assert_eq!(first.body["unknown"][0]["reference"], "REM-2");
    assert_eq!(first.body["missing"][0]["visit_id"], "V2");
    assert_eq!(first.body["mismatched"], json!([]));
    let again = post_csv(&app, "/v1/reconciliations/fund", &scheme.finance, file);
    assert_eq!(again.body["matched"], 1);
    assert_eq!(again.body["posted"], 0);
    let mismatch = post_csv(
        &app,
        "/v1/reconciliations/fund",
        &scheme.finance,
        "reference,hospital_id,visit_id,amount\nREM-3,H1,V2,100.00\n",
    );
    // V2 is P1's second visit of the year: the deductible is used up, the fund pays 242.00.
    assert_eq!(mismatch.body["mismatched"][0]["expected"], "242.00");
    let malformed = post_csv(
        &app,
        "/v1/reconciliations/fund",
        &scheme.finance,
        "reference,hospital_id,visit_id,amount\nREM-4,H1,V2,242.00\nREM-5,H1,V2,abc\n",
    );
    assert_problem(&malformed, 422, "invalid_request");
    assert_eq!(malformed.body["errors"][0]["line"], 3);
    // Nothing of the malformed file applied: V2 is still unremitted.
    let check = post_csv(
        &app,
        "/v1/reconciliations/fund",
        &scheme.finance,
        "reference,hospital_id,visit_id,amount\n",
    );
    assert_eq!(check.body["missing_count"], 1);
    let json_body = app.post_raw("/v1/reconciliations/fund", &scheme.finance, b"{}");
    assert_eq!(json_body.status, 415);
    assert_problem(
        &post_csv(&app, "/v1/reconciliations/fund", &scheme.hospital_1, file),
        403,
        "forbidden",
    );

    paid_by_alipay(&app, &scheme, "PAY1", "100.00");
    let statement = "payment_id,amount,channel\nPAY1,100.00,alipay\nPAY2,1.00,alipay\n";
    let channel = post_csv(
        &app,
        "/v1/reconciliations/channel",
        &scheme.finance,
        statement,
    );
    assert_eq!(channel.status, 200, "{}", channel.body);
    assert_eq!(channel.body["matched"], 1);
    assert_eq!(channel.body["unknown"][0]["payment_id"], "PAY2");
    assert_eq!(channel.body["missing_count"], 0);
    let mut app = app;
    assert!(app.terminate(), "the server stops");
    let _kept = app.take_data_dir();
    let ledger = app.ledger.clone();
    drop(app);
    let (sound, output) = verify(&ledger);
    assert!(sound, "{output}");
}

/// The members a schema documents (following `$ref`, `allOf` and `oneOf`) and those it
/// requires (`oneOf` alternatives require nothing here: which one applies varies).
fn documented_members(
    document: &serde_json::Value,
    schema: &serde_json::Value,
    members: &mut std::collections::BTreeSet<String>,
    required: &mut std::collections::BTreeSet<String>,
    in_alternative: bool,
) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        let target = &document["components"]["schemas"][name];
        return documented_members(document, target, members, required, in_alternative);
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        documented_members(document, part, members, required, in_alternative);
    }
    for part in schema["oneOf"].as_array().into_iter().flatten() {
        documented_members(document, part, members, required, true);
    }
    if let Some(properties) = schema["properties"].as_object() {
        members.extend(properties.keys().cloned());
    }
    if !in_alternative {
        for name in schema["required"].as_array().into_iter().flatten() {
            required.insert(name.as_str().unwrap().to_owned());
        }
    }
}

/// Asserts that `body` has only members `schema` documents and every one it requires.
#[track_caller]
fn assert_documented(
    document: &serde_json::Value,
    schema: &serde_json::Value,
    body: &serde_json::Value,
    what: &str,
) {
    let mut members = std::collections::BTreeSet::new();
    let mut required = std::collections::BTreeSet::new();
    documented_members(document, schema, &mut members, &mut required, false);
    let given: std::collections::BTreeSet<String> = body
        .as_object()
        .unwrap_or_else(|| panic!("{what}: not an object: {body}"))
        .keys()
        .cloned()
        .collect();
    assert!(
        given.is_subset(&members),
        "{what}: undocumented {:?}",
        given.difference(&members)
    );
    assert!(
        required.is_subset(&given),
        "{what}: missing {:?}",
        required.difference(&given)
    );
}

/// The schema of member `name` of `schema` (following `$ref` and `allOf`).
fn member_schema<'a>(
    document: &'a serde_json::Value,
    schema: &'a serde_json::Value,
    name: &str,
) -> Option<&'a serde_json::Value> {
    if let Some(reference) = schema["$ref"].as_str() {
        let target = reference.trim_start_matches("#/components/schemas/");
        return member_schema(document, &document["components"]["schemas"][target], name);
    }
    if let Some(found) = schema["properties"].get(name) {
        return Some(found);
    }
    schema["allOf"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|part| member_schema(document, part, name))
}

#[test]
fn reconciliation_bodies_have_exactly_the_members_the_openapi_document_gives() {
    let app = spawn_app();
    let scheme = setup(&app);
    settled_visit(&app, &scheme, "V1");
    settled_visit(&app, &scheme, "V2");
    settled_visit(&app, &scheme, "V3");
    paid_by_alipay(&app, &scheme, "PAY1", "100.00");
    let document = app.get("/openapi.json", ADMIN_TOKEN).body;
    // Every list of each body has an element: a match, a mismatch, an unknown, a missing.
    let fund = post_csv(
        &app,
        "/v1/reconciliations/fund",
        &scheme.finance,
        "reference,hospital_id,visit_id,amount\nREM-1,H1,V1,162.00\nREM-2,H1,V2,1.00\n\
         REM-3,H1,V9,5.00\n",
    );
    let channel = post_csv(
        &app,
        "/v1/reconciliations/channel",
        &scheme.finance,
        "payment_id,amount,channel\nPAY1,99.00,alipay\nPAY2,1.00,alipay\n",
    );
    let missing_payment = post_csv(
        &app,
        "/v1/reconciliations/channel",
        &scheme.finance,
        "payment_id,amount,channel\nPAY3,1.00,alipay\n",
    );
    for (path, reply, lists) in [
        (
            "/v1/reconciliations/fund",
            &fund,
            &["mismatched", "unknown", "missing"][..],
        ),
        (
            "/v1/reconciliations/channel",
            &channel,
            &["mismatched", "unknown"][..],
        ),
        (
            "/v1/reconciliations/channel",
            &missing_payment,
            &["missing"][..],
        ),
    ] {
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        let schema = &document["paths"][path]["post"]["responses"]["200"]["content"]
            ["application/json"]["schema"];
        assert!(schema["$ref"].is_string(), "{path} documents a schema");
        assert_documented(&document, schema, &reply.body, path);
        for list in lists {
            let element = &reply.body[*list][0];
            assert!(element.is_object(), "{path}: no {list} in {}", reply.body);
            let items = &member_schema(&document, schema, list)
                .unwrap_or_else(|| panic!("{path}: {list} undocumented"))["items"];
            assert_documented(&document, items, element, &format!("{path} {list}[0]"));
        }
    }
}

#[test]
fn report_bodies_have_exactly_the_members_the_openapi_document_gives() {
    let (app, scheme, as_of) = defaulted_city();
    let document = app.get("/openapi.json", ADMIN_TOKEN).body;
    let range = format!("from={}&to={}&as_of={as_of}", today(-1), today(1));
    let provision = app.post(
        &format!("/v1/reports/provision?as_of={as_of}"),
        &scheme.finance,
        &json!({}),
    );
    let reports = [
        (
            "/v1/reports/aging",
            "get",
            app.get(&format!("/v1/reports/aging?as_of={as_of}"), &scheme.finance),
        ),
        (
            "/v1/reports/defaults",
            "get",
            app.get(&format!("/v1/reports/defaults?{range}"), &scheme.finance),
        ),
        ("/v1/reports/provision", "post", provision),
        (
            "/v1/reports/write-offs",
            "get",
            app.get("/v1/reports/write-offs", &scheme.finance),
        ),
        (
            "/v1/reports/allowance",
            "get",
            app.get("/v1/reports/allowance", &scheme.finance),
        ),
        (
            "/v1/reports/headline",
            "get",
            app.get("/v1/reports/headline", &scheme.finance),
        ),
    ];
    for (path, method, reply) in reports {
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        let schema = &document["paths"][path][method]["responses"]["200"]["content"]
            ["application/json"]["schema"];
        assert!(
            schema["$ref"].is_string(),
            "{path} documents a schema: {schema}"
        );
        assert_documented(&document, schema, &reply.body, path);
    }
}
