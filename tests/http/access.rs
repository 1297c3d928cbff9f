//! The access matrix: for every route, which roles pass authorization (2xx or a 4xx that is
//! not 403) and which get 403; 401 without a token or with an unknown one; hospitals and
//! patients confined to their own ids. A refused write changes nothing.

use serde_json::{json, Value};

use crate::support::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Admin,
    H1,
    H2,
    P1,
    P2,
    Finance,
    Channel,
}

use Role::*;

const ALL: [Role; 7] = [Admin, H1, H2, P1, P2, Finance, Channel];

struct Route {
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
    allowed: &'static [Role],
}

fn route(
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
    allowed: &'static [Role],
) -> Route {
    Route {
        method,
        path,
        body,
        allowed,
    }
}

fn routes() -> Vec<Route> {
    const READERS: &[Role] = &[Admin, Finance, H1, H2, P1];
    vec![
        route(
            "POST",
            "/v1/tokens",
            Some(json!({"role": "finance"})),
            &[Admin],
        ),
        route("GET", "/v1/plans/city", None, &[Admin, Finance]),
        route("PUT", "/v1/plans/city", Some(city_plan()), &[Admin]),
        route("GET", "/v1/hospitals/H1", None, &[Admin, Finance, H1]),
        route(
            "PUT",
            "/v1/hospitals/H1",
            Some(json!({"name": "Hospital H1", "level": 2})),
            &[Admin],
        ),
        route(
            "POST",
            "/v1/patients",
            Some(
                json!({"patient_id": "P1", "plan_id": "city", "member_type": "employee",
                        "birth_date": "1980-05-01", "msa_balance": "50.00",
                        "credit_limit": "5000.00", "external_score": 700}),
            ),
            &[Admin],
        ),
        route(
            "POST",
            "/v1/patients/P1/msa-deposits",
            Some(json!({"deposit_id": "D1", "amount": "1.00"})),
            &[Admin],
        ),
        route(
            "PUT",
            "/v1/patients/P1/credit-limit",
            Some(json!({"credit_limit": "5000.00"})),
            &[Admin],
        ),
        route("POST", "/v1/patients/P3/revoke", Some(json!({})), &[Admin]),
        route("GET", "/v1/patients/P1", None, READERS),
        route("GET", "/v1/patients/P1/statement", None, READERS),
        route("GET", "/v1/patients/P1/visits", None, READERS),
        route(
            "POST",
            "/v1/hospitals/H1/visits",
            Some(visit_body("V2", "P1", "10.00")),
            &[H1],
        ),
        route(
            "GET",
            "/v1/hospitals/H1/visits/V1",
            None,
            &[Admin, Finance, H1],
        ),
        route(
            "POST",
            "/v1/hospitals/H1/visits/V2/charges",
            Some(one_line_charge("C1", "A", "5.00")),
            &[H1],
        ),
        route(
            "POST",
            "/v1/hospitals/H1/visits/V1/settle",
            Some(json!({})),
            &[H1],
        ),
        route(
            "POST",
            "/v1/hospitals/H1/visits/V1/refunds",
            Some(json!({"refund_id": "R1", "charge_id": "V1-C1"})),
            &[H1],
        ),
        route(
            "POST",
            "/v1/hospitals/H1/visits/V2/cancel",
            Some(json!({})),
            &[H1],
        ),
        route(
            "POST",
            "/v1/payments",
            Some(
                json!({"payment_id": "PAY2", "patient_id": "P1", "amount": "0.01",
                        "channel": "alipay"}),
            ),
            &[Channel, P1],
        ),
        route(
            "GET",
            "/v1/payments/PAY1",
            None,
            &[Admin, Finance, Channel, P1],
        ),
        route(
            "POST",
            "/v1/delinquency/run",
            Some(json!({"as_of": "2020-01-01T00:00:00Z"})),
            &[Admin, Finance],
        ),
        route(
            "GET",
            "/v1/reports/aging?as_of=2026-12-01T00:00:00Z",
            None,
            &[Admin, Finance],
        ),
        route(
            "GET",
            "/v1/reports/defaults?from=2026-01-01&to=2026-12-31",
            None,
            &[Admin, Finance],
        ),
        route(
            "POST",
            "/v1/reports/provision",
            Some(json!({"as_of": "2026-12-01T00:00:00Z"})),
            &[Admin, Finance],
        ),
        route(
            "POST",
            "/v1/reconciliations/fund",
            Some(json!({})),
            &[Admin, Finance],
        ),
        route(
            "POST",
            "/v1/reconciliations/channel",
            Some(json!({})),
            &[Admin, Finance],
        ),
        route("GET", "/v1/risk/patients/P1", None, &[Admin, Finance]),
    ]
}

struct Tokens {
    scheme: Scheme,
}

impl Tokens {
    fn of(&self, role: Role) -> &str {
        match role {
            Admin => ADMIN_TOKEN,
            H1 => &self.scheme.hospital_1,
            H2 => &self.scheme.hospital_2,
            P1 => &self.scheme.patient_1,
            P2 => &self.scheme.patient_2,
            Finance => &self.scheme.finance,
            Channel => &self.scheme.channel,
        }
    }
}

fn send(app: &App, route: &Route, token: Option<&str>) -> Reply {
    let body = route.body.as_ref().map(Value::to_string);
    app.send(
        route.method,
        route.path,
        token,
        "application/json",
        body.as_deref().map(str::as_bytes),
    )
}

/// P1 with a settled visit V1 at H1 and a payment PAY1; P3 to revoke.
fn scheme_for_the_matrix(app: &App) -> Tokens {
    let scheme = setup(app);
    settled_visit(app, &scheme, "V1");
    enroll(app, "P3", "0.00", "100.00");
    let paid = app.post(
        "/v1/payments",
        &scheme.channel,
        &json!({"payment_id": "PAY1", "patient_id": "P1", "amount": "1.00",
                "channel": "alipay"}),
    );
    assert_eq!(paid.status, 201);
    Tokens { scheme }
}

#[test]
fn every_route_refuses_the_roles_it_does_not_serve_and_changes_nothing() {
    let app = spawn_app();
    let tokens = scheme_for_the_matrix(&app);
    // Refused roles first: nothing may change.
    let before = app.snapshot();
    for route in routes() {
        for role in ALL.into_iter().filter(|role| !route.allowed.contains(role)) {
            let reply = send(&app, &route, Some(tokens.of(role)));
            assert_eq!(
                reply.status, 403,
                "{role:?} {} {}: {}",
                route.method, route.path, reply.body
            );
            assert_problem(&reply, 403, "forbidden");
        }
    }
    assert_eq!(app.snapshot(), before);
    // Allowed roles pass authorization: 2xx, or a 4xx/501 of the request itself.
    for route in routes() {
        for &role in route.allowed {
            let reply = send(&app, &route, Some(tokens.of(role)));
            assert!(
                reply.status < 500 || reply.status == 501,
                "{role:?} {} {}: {} {}",
                route.method,
                route.path,
                reply.status,
                reply.body
            );
            assert!(
                reply.status != 403 && reply.status != 401,
                "{role:?} {} {}: {} {}",
                route.method,
                route.path,
                reply.status,
                reply.body
            );
        }
    }
}

#[test]
fn no_token_or_an_unknown_token_is_401_everywhere_but_operations() {
    let app = spawn_app();
    let tokens = scheme_for_the_matrix(&app);
    let before = app.snapshot();
    let bad_headers = [
        None,
        Some("Bearer tf_0000000000000000000000000000000000000000000000000000000000000000"),
        Some("Bearer "),
        Some("Basic dXNlcjpwYXNz"),
        Some("tf_not_even_bearer"),
    ];
    for route in routes() {
        for header in bad_headers {
            let body = route.body.as_ref().map(Value::to_string);
            let mut request = ureq::request(route.method, &app.url(route.path));
            if let Some(header) = header {
                request = request.set("Authorization", header);
            }
            let result = match &body {
                Some(body) => request
                    .set("Content-Type", "application/json")
                    .send_string(body),
                None => request.call(),
            };
            let response = match result {
                Ok(response) | Err(ureq::Error::Status(_, response)) => response,
                Err(error) => panic!("{error}"),
            };
            assert_eq!(
                response.status(),
                401,
                "{header:?} {} {}",
                route.method,
                route.path
            );
            assert_eq!(response.header("www-authenticate"), Some("Bearer"));
            assert_eq!(response.content_type(), PROBLEM_JSON);
            let problem: Value = response.into_json().unwrap();
            assert_eq!(problem["code"], "unauthorized");
            assert_eq!(problem["status"], 401);
        }
    }
    // An unknown token that looks like a real one.
    let reply = app.get("/v1/patients/P1", &format!("{}x", tokens.of(P1)));
    assert_problem(&reply, 401, "unauthorized");
    assert_eq!(app.snapshot(), before);
    for path in ["/healthz", "/metrics", "/openapi.json"] {
        assert_eq!(app.send("GET", path, None, "", None).status, 200, "{path}");
        assert_eq!(
            app.send("GET", path, Some("garbage"), "", None).status,
            200,
            "{path}"
        );
    }
}

#[test]
fn hospitals_and_patients_are_confined_to_their_own_ids() {
    let app = spawn_app();
    let tokens = scheme_for_the_matrix(&app);
    let scheme = &tokens.scheme;
    let before = app.snapshot();
    // H2 on H1's paths.
    for (method, path, body) in [
        (
            "POST",
            "/v1/hospitals/H1/visits",
            Some(visit_body("V7", "P1", "1.00")),
        ),
        ("GET", "/v1/hospitals/H1/visits/V1", None),
        (
            "POST",
            "/v1/hospitals/H1/visits/V1/charges",
            Some(one_line_charge("C7", "A", "1.00")),
        ),
        ("POST", "/v1/hospitals/H1/visits/V1/settle", Some(json!({}))),
        ("POST", "/v1/hospitals/H1/visits/V1/cancel", Some(json!({}))),
        (
            "POST",
            "/v1/hospitals/H1/visits/V1/refunds",
            Some(json!({"refund_id": "R7", "charge_id": "V1-C1"})),
        ),
        ("GET", "/v1/hospitals/H1", None),
    ] {
        let bytes = body.map(|body| body.to_string());
        let reply = app.send(
            method,
            path,
            Some(&scheme.hospital_2),
            "application/json",
            bytes.as_deref().map(str::as_bytes),
        );
        assert_problem(&reply, 403, "forbidden");
    }
    // P1 on P2, P2 on P1.
    for path in [
        "/v1/patients/P2",
        "/v1/patients/P2/statement",
        "/v1/patients/P2/visits",
    ] {
        assert_problem(&app.get(path, &scheme.patient_1), 403, "forbidden");
    }
    assert_problem(
        &app.get("/v1/patients/P1", &scheme.patient_2),
        403,
        "forbidden",
    );
    // A patient pays for itself only, and reads only its own payments.
    let for_other = app.post(
        "/v1/payments",
        &scheme.patient_2,
        &json!({"payment_id": "PAY7", "patient_id": "P1", "amount": "1.00",
                "channel": "alipay"}),
    );
    assert_problem(&for_other, 403, "forbidden");
    assert_problem(
        &app.get("/v1/payments/PAY1", &scheme.patient_2),
        403,
        "forbidden",
    );
    // An unknown id looks the same to a patient as someone else's: existence does not leak.
    assert_problem(
        &app.get("/v1/payments/NO-SUCH-PAYMENT", &scheme.patient_2),
        403,
        "forbidden",
    );
    assert_problem(
        &app.get("/v1/payments/NO-SUCH-PAYMENT", &scheme.hospital_1),
        403,
        "forbidden",
    );
    assert_problem(
        &app.get("/v1/payments/NO-SUCH-PAYMENT", &scheme.channel),
        404,
        "not_found",
    );
    assert_eq!(app.snapshot(), before);
    let for_self = app.post(
        "/v1/payments",
        &scheme.patient_1,
        &json!({"payment_id": "PAY7", "patient_id": "P1", "amount": "1.00",
                "channel": "alipay"}),
    );
    assert_eq!(for_self.status, 201, "{}", for_self.body);
    assert_eq!(app.patient("P1")["outstanding"], "166.00");
    // A hospital token reads any patient's balance (check-in), but only its own visits.
    assert_eq!(app.get("/v1/patients/P1", &scheme.hospital_2).status, 200);
    assert_fields(
        &app.get("/v1/patients/P1/visits", &scheme.hospital_2).body,
        &json!({"visits": []}),
    );
}
