//! Every kind of bad input is a 4xx problem+json with the contract's code, and changes
//! nothing: malformed JSON, wrong types, numbers for amounts, too many decimals, negatives,
//! amounts above the maximum, unknown enum values, over-long and invalid ids, missing fields,
//! oversized bodies, bad query parameters, unknown paths and wrong methods.

use serde_json::{json, Value};

use crate::support::*;

const LONG_ID: &str = "a123456789b123456789c123456789d123456789e123456789f123456789g1234";
const MAX_ID: &str = "a123456789b123456789c123456789d123456789e123456789f123456789g123";

/// A JSON body with `field` set to `value` (or removed when `value` is `None`).
fn with(mut body: Value, field: &str, value: Option<Value>) -> Vec<u8> {
    let object = body.as_object_mut().expect("an object");
    match value {
        Some(value) => {
            object.insert(field.to_owned(), value);
        }
        None => {
            object.remove(field);
        }
    }
    body.to_string().into_bytes()
}

fn item_with(field: &str, value: Option<Value>) -> Vec<u8> {
    let mut item = json!({"code": "X1", "description": "d", "category": "A", "quantity": "1",
                          "unit_price": "10.00"});
    let object = item.as_object_mut().unwrap();
    match value {
        Some(value) => {
            object.insert(field.to_owned(), value);
        }
        None => {
            object.remove(field);
        }
    }
    json!({"charge_id": "C9", "items": [item]})
        .to_string()
        .into_bytes()
}

/// Malformed, empty and non-object bodies: 400 for every JSON endpoint.
fn syntax_errors() -> Vec<&'static [u8]> {
    vec![
        b"{",
        b"",
        b"   ",
        b"{\"a\": }",
        b"null",
        b"\"text\"",
        b"42",
        b"{\"a\": 1} {\"b\": 2}",
        b"{'single': 'quotes'}",
        b"\xff\xfe{}",
    ]
}

/// The bad variants of one valid body: (bytes, status).
fn field_errors(valid: &Value, fields: &[(&str, Vec<Value>)]) -> Vec<(Vec<u8>, u16)> {
    let mut cases = Vec::new();
    for (field, values) in fields {
        cases.push((with(valid.clone(), field, None), 400));
        for value in values {
            cases.push((with(valid.clone(), field, Some(value.clone())), 400));
        }
    }
    cases
}

fn bad_ids() -> Vec<Value> {
    vec![
        json!(LONG_ID),
        json!(""),
        json!("V 1"),
        json!("V/1"),
        json!("Ü1"),
        json!("V1\n"),
        json!("V1;DROP"),
        json!(7),
        json!(null),
        json!(["V1"]),
    ]
}

fn bad_amounts() -> Vec<Value> {
    vec![
        json!(300),
        json!(300.5),
        json!("300.001"),
        json!("-1.00"),
        json!("-0.01"),
        json!("-0.00"),
        json!("1e3"),
        json!(" 300.00"),
        json!("300,00"),
        json!("300."),
        json!(".5"),
        json!("+1.00"),
        json!("0x10"),
        json!("NaN"),
        json!(""),
        json!("99999999999999999999.00"),
        json!(null),
    ]
}

struct Case {
    method: &'static str,
    path: String,
    token: String,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
}

fn case(method: &'static str, path: &str, token: &str, body: Vec<u8>, status: u16) -> Case {
    Case {
        method,
        path: path.to_owned(),
        token: token.to_owned(),
        body,
        status,
        code: "invalid_request",
    }
}

fn run(app: &App, cases: &[Case]) {
    let before = app.snapshot();
    for case in cases {
        let reply = app.send(
            case.method,
            &case.path,
            Some(&case.token),
            "application/json",
            Some(&case.body),
        );
        let shown = String::from_utf8_lossy(&case.body);
        assert_eq!(
            reply.status, case.status,
            "{} {} {shown}: {}",
            case.method, case.path, reply.body
        );
        assert_problem(&reply, case.status, case.code);
        assert_eq!(
            app.snapshot(),
            before,
            "{} {} {shown} changed the scheme",
            case.method,
            case.path
        );
    }
}

/// P1 with a settled visit V1 at H1 (charge V1-C1) and an open visit V2.
fn scheme_with_visits(app: &App) -> Scheme {
    let scheme = setup(app);
    settled_visit(app, &scheme, "V1");
    let opened = app.post(
        "/v1/hospitals/H1/visits",
        &scheme.hospital_1,
        &visit_body("V2", "P1", "10.00"),
    );
    assert_eq!(opened.status, 201);
    scheme
}

/// Every write endpoint with a valid body: (method, path, token, body).
fn endpoints(scheme: &Scheme) -> Vec<(&'static str, &'static str, String, Value)> {
    vec![
        (
            "POST",
            "/v1/tokens",
            ADMIN_TOKEN.to_owned(),
            json!({"role": "finance"}),
        ),
        ("PUT", "/v1/plans/city", ADMIN_TOKEN.to_owned(), city_plan()),
        (
            "PUT",
            "/v1/hospitals/H1",
            ADMIN_TOKEN.to_owned(),
            json!({"name": "Hospital H1", "level": 2}),
        ),
        (
            "POST",
            "/v1/patients",
            ADMIN_TOKEN.to_owned(),
            json!({"patient_id": "P5", "plan_id": "city", "member_type": "employee",
                   "birth_date": "1980-05-01", "msa_balance": "10.00",
                   "credit_limit": "100.00", "external_score": 700}),
        ),
        (
            "POST",
            "/v1/patients/P1/msa-deposits",
            ADMIN_TOKEN.to_owned(),
            json!({"deposit_id": "D9", "amount": "10.00"}),
        ),
        (
            "PUT",
            "/v1/patients/P1/credit-limit",
            ADMIN_TOKEN.to_owned(),
            json!({"credit_limit": "6000.00"}),
        ),
        (
            "POST",
            "/v1/hospitals/H1/visits",
            scheme.hospital_1.clone(),
            visit_body("V9", "P1", "10.00"),
        ),
        (
            "POST",
            "/v1/hospitals/H1/visits/V2/charges",
            scheme.hospital_1.clone(),
            one_line_charge("C9", "A", "10.00"),
        ),
        (
            "POST",
            "/v1/hospitals/H1/visits/V1/refunds",
            scheme.hospital_1.clone(),
            json!({"refund_id": "R9", "charge_id": "V1-C1"}),
        ),
        (
            "POST",
            "/v1/payments",
            scheme.channel.clone(),
            json!({"payment_id": "PAY9", "patient_id": "P1", "amount": "10.00",
                   "channel": "alipay"}),
        ),
        (
            "POST",
            "/v1/delinquency/run",
            scheme.finance.clone(),
            json!({"as_of": "2020-01-01T00:00:00Z"}),
        ),
    ]
}

#[test]
fn malformed_bodies_are_400_on_every_json_endpoint() {
    let app = spawn_app();
    let scheme = scheme_with_visits(&app);
    let mut cases = Vec::new();
    for (method, path, token, _) in endpoints(&scheme) {
        for body in syntax_errors() {
            cases.push(case(method, path, &token, body.to_vec(), 400));
        }
        // A JSON array or a list of objects is not the object expected.
        cases.push(case(method, path, &token, b"[]".to_vec(), 400));
        cases.push(case(method, path, &token, b"[{}]".to_vec(), 400));
    }
    // The array form serde accepts for a struct is not the JSON object of the contract.
    for (method, path, token, body) in [
        (
            "POST",
            "/v1/hospitals/H1/visits",
            &scheme.hospital_1,
            json!(["V9", "P1", "outpatient", "10.00"]),
        ),
        (
            "POST",
            "/v1/payments",
            &scheme.channel,
            json!(["PAY9", "P1", "10.00", "alipay"]),
        ),
        (
            "POST",
            "/v1/patients/P1/msa-deposits",
            &ADMIN_TOKEN.to_owned(),
            json!(["D9", "10.00"]),
        ),
        (
            "PUT",
            "/v1/hospitals/H1",
            &ADMIN_TOKEN.to_owned(),
            json!(["Renamed", 3]),
        ),
    ] {
        cases.push(case(
            method,
            path,
            token,
            body.to_string().into_bytes(),
            400,
        ));
    }
    // Actions without fields take an empty body or an object, nothing else.
    for path in [
        "/v1/hospitals/H1/visits/V2/settle",
        "/v1/hospitals/H1/visits/V2/cancel",
    ] {
        for body in syntax_errors()
            .into_iter()
            .filter(|body| !body.iter().all(u8::is_ascii_whitespace))
        {
            cases.push(case("POST", path, &scheme.hospital_1, body.to_vec(), 400));
        }
        cases.push(case("POST", path, &scheme.hospital_1, b"[]".to_vec(), 400));
    }
    cases.push(case(
        "POST",
        "/v1/patients/P1/revoke",
        ADMIN_TOKEN,
        b"{".to_vec(),
        400,
    ));
    run(&app, &cases);
}

#[test]
fn bad_fields_are_400_and_change_nothing() {
    let app = spawn_app();
    let scheme = scheme_with_visits(&app);
    let h1 = scheme.hospital_1.clone();
    let mut cases = Vec::new();
    let mut add = |method: &'static str, path: &str, token: &str, variants: Vec<(Vec<u8>, u16)>| {
        for (body, status) in variants {
            cases.push(case(method, path, token, body, status));
        }
    };
    // Check-in.
    let open = visit_body("V9", "P1", "10.00");
    add(
        "POST",
        "/v1/hospitals/H1/visits",
        &h1,
        field_errors(
            &open,
            &[
                ("visit_id", bad_ids()),
                ("patient_id", bad_ids()),
                (
                    "kind",
                    vec![
                        json!("emergency"),
                        json!("Outpatient"),
                        json!(1),
                        json!(null),
                    ],
                ),
                ("estimated_amount", bad_amounts()),
            ],
        ),
    );
    // Charges: the charge and its lines.
    let charge = one_line_charge("C9", "A", "10.00");
    add(
        "POST",
        "/v1/hospitals/H1/visits/V2/charges",
        &h1,
        field_errors(
            &charge,
            &[
                ("charge_id", bad_ids()),
                (
                    "items",
                    vec![json!("x"), json!({}), json!([{}]), json!([1]), json!(null)],
                ),
            ],
        ),
    );
    let mut line_cases = Vec::new();
    for (field, values) in [
        ("code", vec![json!(1), json!(null)]),
        (
            "category",
            vec![json!("D"), json!("a"), json!(1), json!(null)],
        ),
        (
            "quantity",
            vec![json!(2), json!("-1"), json!("two"), json!("")],
        ),
        ("unit_price", bad_amounts()),
        (
            "self_pay_ratio",
            vec![
                json!("1.5"),
                json!("-0.1"),
                json!(0.1),
                json!("0.1234567"),
                json!("x"),
            ],
        ),
        (
            "price_cap",
            vec![json!(200), json!("-1.00"), json!("1.001")],
        ),
    ] {
        if !matches!(field, "self_pay_ratio" | "price_cap") {
            line_cases.push((item_with(field, None), 400));
        }
        for value in values {
            line_cases.push((item_with(field, Some(value)), 400));
        }
    }
    add(
        "POST",
        "/v1/hospitals/H1/visits/V2/charges",
        &h1,
        line_cases,
    );
    // Refunds.
    let refund = json!({"refund_id": "R9", "charge_id": "V1-C1"});
    add(
        "POST",
        "/v1/hospitals/H1/visits/V1/refunds",
        &h1,
        field_errors(
            &refund,
            &[("refund_id", bad_ids()), ("charge_id", bad_ids())],
        ),
    );
    // Payments.
    let payment = json!({"payment_id": "PAY9", "patient_id": "P1", "amount": "10.00",
                         "channel": "alipay"});
    add(
        "POST",
        "/v1/payments",
        &scheme.channel,
        field_errors(
            &payment,
            &[
                ("payment_id", bad_ids()),
                ("patient_id", bad_ids()),
                ("amount", bad_amounts()),
                ("channel", bad_ids()),
            ],
        ),
    );
    // Deposits and credit limits.
    let deposit = json!({"deposit_id": "D9", "amount": "10.00"});
    add(
        "POST",
        "/v1/patients/P1/msa-deposits",
        ADMIN_TOKEN,
        field_errors(
            &deposit,
            &[("deposit_id", bad_ids()), ("amount", bad_amounts())],
        ),
    );
    let limit = json!({"credit_limit": "6000.00"});
    add(
        "PUT",
        "/v1/patients/P1/credit-limit",
        ADMIN_TOKEN,
        field_errors(&limit, &[("credit_limit", bad_amounts())]),
    );
    // Enrollment.
    let enrollment = json!({"patient_id": "P5", "plan_id": "city", "member_type": "employee",
                            "birth_date": "1980-05-01", "msa_balance": "10.00",
                            "credit_limit": "100.00", "external_score": 700});
    let mut enrollment_cases = field_errors(
        &enrollment,
        &[
            ("patient_id", bad_ids()),
            ("plan_id", bad_ids()),
            (
                "member_type",
                vec![json!("alien"), json!("Employee"), json!(null)],
            ),
            (
                "birth_date",
                vec![
                    json!("1980-13-01"),
                    json!("1980-02-30"),
                    json!("01/05/1980"),
                    json!(1980),
                    json!(""),
                ],
            ),
        ],
    );
    for (field, values) in [
        ("msa_balance", bad_amounts()),
        ("credit_limit", bad_amounts()),
        (
            "external_score",
            vec![json!(-1), json!("700"), json!(700.5), json!(70000)],
        ),
    ] {
        for value in values.into_iter().filter(|value| !value.is_null()) {
            enrollment_cases.push((with(enrollment.clone(), field, Some(value)), 400));
        }
    }
    add("POST", "/v1/patients", ADMIN_TOKEN, enrollment_cases);
    // Tokens.
    for grant in [
        json!({}),
        json!({"role": "root"}),
        json!({"role": "Admin"}),
        json!({"role": "hospital"}),
        json!({"role": "hospital", "hospital_id": LONG_ID}),
        json!({"role": "patient", "patient_id": "P 1"}),
        json!({"role": 1}),
    ] {
        add(
            "POST",
            "/v1/tokens",
            ADMIN_TOKEN,
            vec![(grant.to_string().into_bytes(), 400)],
        );
    }
    // Hospitals.
    let hospital = json!({"name": "Hospital H1", "level": 2});
    add(
        "PUT",
        "/v1/hospitals/H1",
        ADMIN_TOKEN,
        field_errors(
            &hospital,
            &[
                ("name", vec![json!(1), json!(null)]),
                (
                    "level",
                    vec![json!(0), json!(4), json!("2"), json!(2.5), json!(-1)],
                ),
            ],
        ),
    );
    // Plans.
    let plan = city_plan();
    let mut plan_cases = field_errors(
        &plan,
        &[
            ("currency", vec![json!(1)]),
            (
                "payment_window_hours",
                vec![
                    json!(48),
                    json!({"outpatient": -1, "inpatient": 48}),
                    json!({"outpatient": "48", "inpatient": 48}),
                ],
            ),
            (
                "default_self_pay_ratio",
                vec![json!("1.01"), json!(0.1), json!("-0.10")],
            ),
            ("msa_scope", vec![json!("some"), json!(null)]),
            ("rules", vec![json!({}), json!("x"), json!([1])]),
        ],
    );
    for (field, values) in [
        ("member_type", vec![json!("alien")]),
        ("visit_kind", vec![json!("emergency")]),
        ("hospital_level", vec![json!(4), json!("3")]),
        (
            "deductible",
            vec![json!("-1.00"), json!(100), json!("1.001")],
        ),
        ("deductible_period", vec![json!("month")]),
        (
            "bands",
            vec![
                json!("x"),
                json!([{"up_to": null, "fund_ratio": "1.5"}]),
                json!([{"up_to": "-1.00", "fund_ratio": "0.5"}]),
            ],
        ),
        ("annual_cap", vec![json!("-1.00"), json!(400000)]),
    ] {
        for value in values {
            let mut changed = plan.clone();
            changed["rules"][1][field] = value;
            plan_cases.push((changed.to_string().into_bytes(), 400));
        }
    }
    add("PUT", "/v1/plans/city", ADMIN_TOKEN, plan_cases);
    // Delinquency.
    let run_body = json!({"as_of": "2020-01-01T00:00:00Z"});
    add(
        "POST",
        "/v1/delinquency/run",
        &scheme.finance,
        field_errors(
            &run_body,
            &[(
                "as_of",
                vec![
                    json!("yesterday"),
                    json!("2026-12-01"),
                    json!("2026-13-01T00:00:00Z"),
                    json!(1_700_000_000),
                    json!(null),
                ],
            )],
        ),
    );
    run(&app, &cases);
    assert_problem(&app.get("/v1/patients/P5", ADMIN_TOKEN), 404, "not_found");
    assert_problem(&app.get("/v1/payments/PAY9", ADMIN_TOKEN), 404, "not_found");
}

#[test]
fn values_the_rules_refuse_are_422_and_change_nothing() {
    let app = spawn_app();
    let scheme = scheme_with_visits(&app);
    let h1 = scheme.hospital_1.clone();
    let above = json!("100000000.01");
    let mut cases = vec![
        case("POST", "/v1/hospitals/H1/visits", &h1, with(visit_body("V9", "P1", "1.00"), "estimated_amount", Some(above.clone())), 422),
        case("POST", "/v1/payments", &scheme.channel, json!({"payment_id": "PAY9", "patient_id": "P1", "amount": "100000000.01", "channel": "alipay"}).to_string().into_bytes(), 422),
        case("POST", "/v1/payments", &scheme.channel, json!({"payment_id": "PAY9", "patient_id": "P1", "amount": "0.00", "channel": "alipay"}).to_string().into_bytes(), 422),
        case("POST", "/v1/patients/P1/msa-deposits", ADMIN_TOKEN, json!({"deposit_id": "D9", "amount": "100000000.01"}).to_string().into_bytes(), 422),
        case("POST", "/v1/patients/P1/msa-deposits", ADMIN_TOKEN, json!({"deposit_id": "D9", "amount": "0.00"}).to_string().into_bytes(), 422),
        case("PUT", "/v1/patients/P1/credit-limit", ADMIN_TOKEN, json!({"credit_limit": "100000000.01"}).to_string().into_bytes(), 422),
        case("PUT", "/v1/hospitals/H1", ADMIN_TOKEN, json!({"name": "", "level": 2}).to_string().into_bytes(), 422),
        case("PUT", "/v1/hospitals/H1", ADMIN_TOKEN, json!({"name": "x".repeat(257), "level": 2}).to_string().into_bytes(), 422),
        case("POST", "/v1/hospitals/H1/visits/V2/charges", &h1, json!({"charge_id": "C9", "items": []}).to_string().into_bytes(), 422),
    ];
    let enrollment = json!({"patient_id": "P5", "plan_id": "city", "member_type": "employee",
                            "birth_date": "1980-05-01", "msa_balance": "10.00",
                            "credit_limit": "100.00", "external_score": 700});
    for (field, value) in [
        ("msa_balance", above.clone()),
        ("credit_limit", above.clone()),
        ("external_score", json!(1001)),
        ("birth_date", json!("2999-01-01")),
    ] {
        cases.push(case(
            "POST",
            "/v1/patients",
            ADMIN_TOKEN,
            with(enrollment.clone(), field, Some(value)),
            422,
        ));
    }
    // Too many lines in one charge.
    let line = json!({"code": "X1", "description": "d", "category": "A", "quantity": "1",
                      "unit_price": "1.00"});
    let lines: Vec<Value> = (0..257).map(|_| line.clone()).collect();
    cases.push(case(
        "POST",
        "/v1/hospitals/H1/visits/V2/charges",
        &h1,
        json!({"charge_id": "C9", "items": lines})
            .to_string()
            .into_bytes(),
        422,
    ));
    run(&app, &cases);
    assert_problem(&app.get("/v1/patients/P5", ADMIN_TOKEN), 404, "not_found");
    // Boundaries that are valid: a 64-character id, the maximum amount, one decimal.
    let edge = app.post(
        "/v1/patients",
        ADMIN_TOKEN,
        &json!({"patient_id": MAX_ID, "plan_id": "city", "member_type": "employee",
                "birth_date": "1980-05-01", "msa_balance": "100000000.00",
                "credit_limit": "0.5", "external_score": 1000}),
    );
    assert_eq!(edge.status, 201, "{}", edge.body);
    assert_eq!(edge.text("credit_limit"), "0.50");
    assert_eq!(edge.text("msa_balance"), "100000000.00");
    assert_eq!(app.patient(MAX_ID)["patient_id"], MAX_ID);
}

#[test]
fn bad_path_ids_and_query_parameters_are_400() {
    let app = spawn_app();
    let scheme = scheme_with_visits(&app);
    let before = app.snapshot();
    for path in [
        format!("/v1/patients/{LONG_ID}"),
        "/v1/patients/P%201".to_owned(),
        "/v1/patients/P%0A1".to_owned(),
        format!("/v1/patients/{LONG_ID}/statement"),
        format!("/v1/hospitals/H1/visits/{LONG_ID}"),
        "/v1/hospitals/H1/visits/V%2F1".to_owned(),
        format!("/v1/payments/{LONG_ID}"),
        "/v1/patients/P1/statement?limit=0".to_owned(),
        "/v1/patients/P1/statement?limit=-1".to_owned(),
        "/v1/patients/P1/statement?limit=abc".to_owned(),
        "/v1/patients/P1/statement?limit=1000000".to_owned(),
        "/v1/patients/P1/statement?after=garbage".to_owned(),
        "/v1/patients/P1/statement?after=1.nothing.0".to_owned(),
        "/v1/patients/P1/statement?after=x.receivable.0".to_owned(),
    ] {
        let reply = app.get(&path, ADMIN_TOKEN);
        assert_problem(&reply, 400, "invalid_request");
    }
    let writes = [
        (
            "POST",
            "/v1/hospitals/H%201/visits".to_owned(),
            visit_body("V9", "P1", "1.00"),
        ),
        (
            "POST",
            format!("/v1/hospitals/H1/visits/{LONG_ID}/charges"),
            one_line_charge("C9", "A", "1.00"),
        ),
        (
            "POST",
            format!("/v1/hospitals/H1/visits/{LONG_ID}/settle"),
            json!({}),
        ),
        (
            "POST",
            format!("/v1/patients/{LONG_ID}/msa-deposits"),
            json!({"deposit_id": "D9", "amount": "1.00"}),
        ),
        ("PUT", format!("/v1/plans/{LONG_ID}"), city_plan()),
        (
            "PUT",
            "/v1/hospitals/H%3F1".to_owned(),
            json!({"name": "x", "level": 2}),
        ),
    ];
    for (method, path, body) in writes {
        let token = if path.starts_with("/v1/hospitals/H1/") {
            scheme.hospital_1.as_str()
        } else {
            ADMIN_TOKEN
        };
        let bytes = body.to_string();
        let reply = app.send(
            method,
            &path,
            Some(token),
            "application/json",
            Some(bytes.as_bytes()),
        );
        assert!(
            reply.status == 400 || reply.status == 403,
            "{method} {path}: {}",
            reply.body
        );
        assert_eq!(reply.content_type, PROBLEM_JSON);
    }
    assert_eq!(app.snapshot(), before);
}

#[test]
fn unknown_paths_are_404_and_wrong_methods_405() {
    let app = spawn_app();
    let scheme = scheme_with_visits(&app);
    let before = app.snapshot();
    for path in [
        "/",
        "/v2/patients/P1",
        "/v1/patient/P1",
        "/v1/hospitals/H1/visits/V1/unknown",
        "/v1/payments/PAY1/extra",
        "/healthz/x",
    ] {
        for token in [Some(ADMIN_TOKEN), None] {
            let reply = app.send("GET", path, token, "", None);
            assert_problem(&reply, 404, "not_found");
        }
    }
    let post = app.post("/v1/nothing", ADMIN_TOKEN, &json!({}));
    assert_problem(&post, 404, "not_found");
    for (method, path) in [
        ("GET", "/v1/payments"),
        ("GET", "/v1/tokens"),
        ("DELETE", "/v1/patients/P1"),
        ("PUT", "/v1/patients/P1"),
        ("PATCH", "/v1/plans/city"),
        ("DELETE", "/v1/plans/city"),
        ("GET", "/v1/hospitals/H1/visits"),
        ("PUT", "/v1/hospitals/H1/visits/V1"),
        ("GET", "/v1/hospitals/H1/visits/V1/settle"),
        ("DELETE", "/v1/hospitals/H1/visits/V1"),
        ("GET", "/v1/delinquency/run"),
        ("POST", "/v1/reports/aging"),
        ("POST", "/healthz"),
        ("DELETE", "/metrics"),
        ("GET", "/v1/patients/P1/revoke"),
        ("GET", "/v1/patients/P1/msa-deposits"),
    ] {
        let reply = app.send(
            method,
            path,
            Some(&scheme.channel),
            "application/json",
            Some(b"{}"),
        );
        assert_problem(&reply, 405, "method_not_allowed");
    }
    assert_eq!(app.snapshot(), before);
}

#[test]
fn bodies_over_the_limit_are_413() {
    // The default limit: 262144 bytes.
    let app = spawn_app();
    let scheme = scheme_with_visits(&app);
    let padded = |body: &Value, size: usize| {
        let mut bytes = body.to_string().into_bytes();
        let closing = bytes.pop().expect("}");
        bytes.resize(size - 1, b' ');
        bytes.push(closing);
        bytes
    };
    let before = app.snapshot();
    for (path, token, body) in [
        (
            "/v1/hospitals/H1/visits",
            scheme.hospital_1.as_str(),
            visit_body("V9", "P1", "1.00"),
        ),
        (
            "/v1/payments",
            scheme.channel.as_str(),
            json!({"payment_id": "PAY9", "patient_id": "P1", "amount": "1.00", "channel": "alipay"}),
        ),
        (
            "/v1/patients",
            ADMIN_TOKEN,
            json!({"patient_id": "P5", "plan_id": "city", "member_type": "employee", "birth_date": "1980-05-01"}),
        ),
        (
            "/v1/hospitals/H1/visits/V2/settle",
            scheme.hospital_1.as_str(),
            json!({}),
        ),
    ] {
        for size in [262_145, 1_000_000] {
            let reply = app.post_raw(path, token, &padded(&body, size));
            assert_problem(&reply, 413, "payload_too_large");
            assert_eq!(reply.body["limit_bytes"], 262_144);
        }
    }
    assert_eq!(app.snapshot(), before);
    // Exactly at the limit is accepted.
    let at_limit = app.post_raw(
        "/v1/hospitals/H1/visits",
        &scheme.hospital_1,
        &padded(&visit_body("V9", "P1", "1.00"), 262_144),
    );
    assert_eq!(at_limit.status, 201, "{}", at_limit.body);
    drop(app);

    // A configured limit.
    let directory = tempfile::tempdir().unwrap();
    let app = start(
        &directory.path().join("data"),
        &[("TREATFIRST_BODY_LIMIT_BYTES", "1024")],
    );
    let scheme = setup(&app);
    let charge = one_line_charge("C1", "A", "1.00");
    let opened = app.post(
        "/v1/hospitals/H1/visits",
        &scheme.hospital_1,
        &visit_body("V1", "P1", "1.00"),
    );
    assert_eq!(opened.status, 201);
    let over = app.post_raw(
        "/v1/hospitals/H1/visits/V1/charges",
        &scheme.hospital_1,
        &padded(&charge, 1025),
    );
    assert_problem(&over, 413, "payload_too_large");
    assert_eq!(over.body["limit_bytes"], 1024);
    assert_eq!(app.visit("H1", "V1")["charges"], json!([]));
    let fits = app.post_raw(
        "/v1/hospitals/H1/visits/V1/charges",
        &scheme.hospital_1,
        &padded(&charge, 1024),
    );
    assert_eq!(fits.status, 201, "{}", fits.body);
    assert_eq!(app.visit("H1", "V1")["total"], "1.00");
}
