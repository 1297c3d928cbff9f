//! Fuzzing the JSON write endpoints with valid tokens: random JSON, mutated valid bodies and
//! mangled bytes. Whatever arrives, the answer is never a 5xx, every error is problem+json,
//! the books stay consistent and the server stays healthy. Deterministic (a fixed seed).

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{json, Map, Value};

use crate::support::*;

const FIELDS: &[&str] = &[
    "visit_id",
    "patient_id",
    "kind",
    "estimated_amount",
    "charge_id",
    "items",
    "code",
    "description",
    "category",
    "quantity",
    "unit_price",
    "self_pay_ratio",
    "price_cap",
    "refund_id",
    "payment_id",
    "amount",
    "channel",
    "deposit_id",
    "credit_limit",
    "msa_balance",
    "plan_id",
    "member_type",
    "birth_date",
    "external_score",
    "role",
    "hospital_id",
    "name",
    "level",
    "as_of",
    "rules",
    "bands",
    "fund_ratio",
    "up_to",
];

const WORDS: &[&str] = &[
    "outpatient",
    "inpatient",
    "A",
    "B",
    "C",
    "employee",
    "retiree",
    "resident",
    "admin",
    "hospital",
    "patient",
    "finance",
    "channel",
    "year",
    "visit",
    "all",
    "in_scope",
    "P1",
    "P2",
    "P3",
    "H1",
    "H2",
    "V1",
    "V2",
    "C1",
    "PAY1",
    "city",
    "alipay",
    "2026-12-01T00:00:00Z",
    "2040-01-01T00:00:00Z",
    "1980-05-01",
    "0.00",
    "0.01",
    "1.00",
    "168.00",
    "100000000.00",
    "100000000.01",
    "10000000000000.00",
    "-0.00",
    "1e2",
    "",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1.0e12..1.0e12_f64).prop_map(Value::from),
        "[A-Za-z0-9._:-]{0,70}".prop_map(Value::from),
        "\\PC{0,24}".prop_map(Value::from),
        "-?[0-9]{0,20}(\\.[0-9]{0,4})?".prop_map(Value::from),
        prop::sample::select(WORDS).prop_map(Value::from),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(FIELDS).prop_map(str::to_owned),
        "\\PC{0,12}",
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// How one request is made from a valid body.
#[derive(Debug, Clone)]
enum Mutation {
    /// A random JSON document instead of the body.
    Whole(Value),
    /// One member (the n-th, wrapping) replaced by a random value.
    Replace(usize, Value),
    /// One member of the first charge line replaced (charges only; else like Replace).
    ReplaceInLine(usize, Value),
    Remove(usize),
    Add(String, Value),
    /// The serialized body with bytes overwritten at positions (wrapping).
    Bytes(Vec<(usize, u8)>),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any_json().prop_map(Mutation::Whole),
        (any::<usize>(), any_json()).prop_map(|(n, v)| Mutation::Replace(n, v)),
        (any::<usize>(), leaf()).prop_map(|(n, v)| Mutation::Replace(n, v)),
        (any::<usize>(), leaf()).prop_map(|(n, v)| Mutation::ReplaceInLine(n, v)),
        any::<usize>().prop_map(Mutation::Remove),
        (key(), any_json()).prop_map(|(k, v)| Mutation::Add(k, v)),
        prop::collection::vec((any::<usize>(), any::<u8>()), 1..4).prop_map(Mutation::Bytes),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn nth_key(object: &Map<String, Value>, n: usize) -> Option<String> {
    (!object.is_empty()).then(|| object.keys().nth(n % object.len()).unwrap().clone())
}

fn apply(valid: &Value, mutation: &Mutation) -> Vec<u8> {
    let mut body = valid.clone();
    match mutation {
        Mutation::Whole(value) => return value.to_string().into_bytes(),
        Mutation::Replace(n, value) => {
            let object = body.as_object_mut().unwrap();
            if let Some(key) = nth_key(object, *n) {
                object.insert(key, value.clone());
            }
        }
        Mutation::ReplaceInLine(n, value) => {
            let target = match body.pointer_mut("/items/0") {
                Some(line) => line,
                None => &mut body,
            };
            let object = target.as_object_mut().unwrap();
            if let Some(key) = nth_key(object, *n) {
                object.insert(key, value.clone());
            }
        }
        Mutation::Remove(n) => {
            let object = body.as_object_mut().unwrap();
            if let Some(key) = nth_key(object, *n) {
                object.remove(&key);
            }
        }
        Mutation::Add(key, value) => {
            body.as_object_mut()
                .unwrap()
                .insert(key.clone(), value.clone());
        }
        Mutation::Bytes(edits) => {
            let mut bytes = body.to_string().into_bytes();
            let length = bytes.len();
            for (at, byte) in edits {
                bytes[at % length] = *byte;
            }
            return bytes;
        }
        Mutation::Truncate(at) => {
            let mut bytes = body.to_string().into_bytes();
            bytes.truncate(at % bytes.len());
            return bytes;
        }
    }
    body.to_string().into_bytes()
}

/// Amount text to fen.
fn fen(value: &Value) -> i64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("no amount: {value}"));
    text.replace('.', "").parse().unwrap()
}

#[test]
fn random_and_mutated_bodies_never_get_a_server_error() {
    let app = spawn_app();
    let scheme = setup(&app);
    settled_visit(&app, &scheme, "V1");
    app.post(
        "/v1/hospitals/H1/visits",
        &scheme.hospital_1,
        &visit_body("V2", "P1", "10.00"),
    );
    let endpoints: Vec<(&str, &str, &str, Value)> = vec![
        (
            "POST",
            "/v1/tokens",
            ADMIN_TOKEN,
            json!({"role": "hospital", "hospital_id": "H1"}),
        ),
        ("PUT", "/v1/plans/city", ADMIN_TOKEN, city_plan()),
        (
            "PUT",
            "/v1/hospitals/H2",
            ADMIN_TOKEN,
            json!({"name": "Hospital H2", "level": 3}),
        ),
        (
            "POST",
            "/v1/patients",
            ADMIN_TOKEN,
            json!({"patient_id": "P3", "plan_id": "city", "member_type": "employee",
                   "birth_date": "1980-05-01", "msa_balance": "10.00",
                   "credit_limit": "100.00", "external_score": 700}),
        ),
        (
            "POST",
            "/v1/patients/P1/msa-deposits",
            ADMIN_TOKEN,
            json!({"deposit_id": "D1", "amount": "10.00"}),
        ),
        (
            "PUT",
            "/v1/patients/P2/credit-limit",
            ADMIN_TOKEN,
            json!({"credit_limit": "1200.00"}),
        ),
        (
            "POST",
            "/v1/hospitals/H1/visits",
            &scheme.hospital_1,
            visit_body("V3", "P1", "10.00"),
        ),
        (
            "POST",
            "/v1/hospitals/H1/visits/V2/charges",
            &scheme.hospital_1,
            worked_example_charge("C1"),
        ),
        (
            "POST",
            "/v1/hospitals/H1/visits/V2/settle",
            &scheme.hospital_1,
            json!({}),
        ),
        (
            "POST",
            "/v1/hospitals/H1/visits/V3/cancel",
            &scheme.hospital_1,
            json!({}),
        ),
        (
            "POST",
            "/v1/hospitals/H1/visits/V1/refunds",
            &scheme.hospital_1,
            json!({"refund_id": "R1", "charge_id": "V1-C1"}),
        ),
        (
            "POST",
            "/v1/payments",
            &scheme.channel,
            json!({"payment_id": "PAY1", "patient_id": "P1", "amount": "10.00",
                   "channel": "alipay"}),
        ),
        (
            "POST",
            "/v1/delinquency/run",
            &scheme.finance,
            json!({"as_of": "2026-01-01T00:00:00Z"}),
        ),
        ("POST", "/v1/patients/P2/revoke", ADMIN_TOKEN, json!({})),
        (
            "POST",
            "/v1/reports/provision",
            &scheme.finance,
            json!({"as_of": "2026-12-01T00:00:00Z",
                   "loss_rates": {"current": "0.003", "1-7": "0.016", "8-30": "0.05",
                                  "31-60": "0.2", "61-90": "0.5", "91+": "1"}}),
        ),
    ];
    let config = Config {
        cases: 400,
        failure_persistence: None,
        max_shrink_iters: 64,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let strategy = (0..endpoints.len(), mutation());
    let result = runner.run(&strategy, |(index, mutation)| {
        let (method, path, token, valid) = &endpoints[index];
        let body = apply(valid, &mutation);
        let reply = app.send(method, path, Some(token), "application/json", Some(&body));
        let shown = String::from_utf8_lossy(&body).into_owned();
        prop_assert!(
            reply.status < 500,
            "{method} {path} {shown}: {} {}",
            reply.status,
            reply.body
        );
        if reply.status >= 400 {
            prop_assert_eq!(&reply.content_type, PROBLEM_JSON, "{} {}", path, shown);
            prop_assert!(
                !reply.code().is_empty() && reply.body["status"] == reply.status,
                "{} {}: {}",
                path,
                shown,
                reply.body
            );
        } else if !reply.body.is_object() {
            return Err(TestCaseError::fail(format!(
                "{path} {shown}: {}",
                reply.body
            )));
        }
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }

    // Still healthy, still consistent, still taking writes.
    let health = app.send("GET", "/healthz", None, "", None);
    assert_eq!(health.status, 200);
    assert_eq!(app.gauge("treatfirst_ledger_stopped"), 0);
    for patient in ["P1", "P2", "P3"] {
        let reply = app.get(&format!("/v1/patients/{patient}"), ADMIN_TOKEN);
        if reply.status == 404 {
            continue;
        }
        let view = reply.body;
        let free =
            fen(&view["credit_limit"]) - fen(&view["credit_held"]) - fen(&view["outstanding"]);
        assert_eq!(fen(&view["available_credit"]), free.max(0), "{view}");
        assert!(fen(&view["overdue"]) <= fen(&view["outstanding"]), "{view}");
    }
    enroll(&app, "P9", "0.00", "500.00");
    let opened = app.post(
        "/v1/hospitals/H1/visits",
        &scheme.hospital_1,
        &visit_body("V99", "P9", "100.00"),
    );
    assert_eq!(opened.status, 201, "{}", opened.body);
}
