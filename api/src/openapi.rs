//! `GET /openapi.json`: the OpenAPI 3.1 document, generated from the code with utoipa.
//!
//! Every handler in [`crate::routes`] carries a `#[utoipa::path]` attribute (method, path,
//! parameters, request body, responses per status, security); the schemas are those of the
//! real request and response types (the ledger derives them behind its `openapi` feature).
//! The tests below keep the document and the mounted routes in step.

use serde::Serialize;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{Ref, Schema, SchemaType, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, RefOr};
use utoipa::{Modify, OpenApi, ToResponse, ToSchema};

use treatfirst_ledger::scheme::{DeclineReason, PatientStatus};
use treatfirst_ledger::Money;

use crate::problem::PROBLEM_JSON;
use crate::routes;

/// The name of the bearer token security scheme.
pub const BEARER: &str = "bearer_auth";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "treatfirst",
        description = "Treat first, pay later: the REST API v1 of the credit-based healthcare \
                       payment ledger. Amounts are decimal strings with at most 2 decimals; \
                       times are RFC 3339 UTC strings; ids are client-chosen strings of 1-64 \
                       characters from `[A-Za-z0-9._:-]`. Every create carries its own id: the \
                       same id with the same body replays the original status and body \
                       (`Idempotent-Replayed: true`), with another body it is 409 \
                       `idempotency_conflict`. Errors are `application/problem+json`."
    ),
    paths(
        routes::operations::healthz,
        routes::operations::metrics,
        routes::operations::openapi,
        routes::whoami::whoami,
        routes::admin::issue_token,
        routes::admin::put_plan,
        routes::admin::get_plan,
        routes::admin::put_hospital,
        routes::admin::get_hospital,
        routes::admin::enroll_patient,
        routes::admin::deposit_msa,
        routes::admin::set_credit_limit,
        routes::admin::revoke,
        routes::patients::get_patient,
        routes::patients::get_statement,
        routes::patients::get_visits,
        routes::visits::open_visit,
        routes::visits::get_visit,
        routes::visits::add_charge,
        routes::visits::settle,
        routes::visits::cancel,
        routes::visits::refund,
        routes::hospital_desk::open_visits,
        routes::hospital_desk::settlements,
        routes::payments::pay,
        routes::payments::get_payment,
        routes::finance::run_delinquency,
        routes::risk::assess,
        routes::finance::reports::aging,
        routes::finance::reports::defaults,
        routes::finance::reports::provision,
        routes::finance::reports::write_offs,
        routes::finance::reports::allowance,
        routes::finance::reports::headline,
        routes::finance::reconciliations::fund,
        routes::finance::reconciliations::channel,
    ),
    components(
        schemas(Problem, ProblemCode, Health, HealthStatus, treatfirst_ledger::scheme::Outcome),
        responses(
            BadRequest,
            Unauthorized,
            Forbidden,
            PayloadTooLarge,
            NotImplemented,
            Unavailable
        )
    ),
    modifiers(&BearerAuth, &OptionalBodies),
    tags(
        (name = "operations", description = "Health, metrics and this document; no token."),
        (name = "access", description = "Who the caller is (any token)."),
        (name = "admin", description = "Administration (admin tokens): tokens, plans, \
                                        hospitals, enrollment, MSA deposits."),
        (name = "patients", description = "Balances and statements (admin, finance, any \
                                           hospital, the patient itself)."),
        (name = "visits", description = "Visits: the hospital itself writes; finance and \
                                         admin may read."),
        (name = "payments", description = "Payments: a payment channel, or the patient for \
                                           its own id."),
        (name = "finance", description = "Delinquency runs, reports, reconciliation, risk \
                                          (finance and admin tokens)."),
    )
)]
pub struct ApiDocument;

/// The document as JSON text.
pub fn document_json() -> String {
    ApiDocument::openapi()
        .to_json()
        .unwrap_or_else(|_| "{}".to_owned())
}

/// Adds the bearer token scheme the secured operations name.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some(
            "`Authorization: Bearer <token>`; tokens are issued by `POST /v1/tokens`. Roles: \
             admin, hospital (bound to one hospital_id), patient (bound to one patient_id), \
             finance, channel."
                .to_owned(),
        );
        components.add_security_scheme(BEARER, SecurityScheme::Http(bearer));
    }
}

/// An optional request body (`Option<T>` in a path attribute) is absent or a `T`, never
/// JSON `null`: its schema is the `T` alone (`required: false` says it may be absent).
struct OptionalBodies;

impl Modify for OptionalBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let operations = openapi.paths.paths.values_mut().flat_map(|item| {
            [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
        });
        for operation in operations.flatten() {
            let Some(body) = &mut operation.request_body else {
                continue;
            };
            for content in body.content.values_mut() {
                let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema else {
                    continue;
                };
                let is_null = |schema: &RefOr<Schema>| {
                    matches!(schema, RefOr::T(Schema::Object(object))
                        if object.schema_type == SchemaType::Type(Type::Null))
                };
                if let [first, second] = one_of.items.as_slice() {
                    if is_null(first) {
                        content.schema = Some(second.clone());
                    }
                }
            }
        }
    }
}

/// An error response (RFC 9457 problem details), `application/problem+json`. Members beyond
/// these appear where useful; they are listed as optional properties.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "type": "https://treatfirst.dev/problems/insufficient_credit",
    "title": "Insufficient credit",
    "status": 422,
    "code": "insufficient_credit",
    "detail": "the estimate does not fit the available credit of 100.00",
    "available_credit": "100.00",
    "reasons": ["estimate_exceeds_available_credit"]
}))]
#[allow(dead_code)] // Documents the shape `ApiError::body` writes.
pub struct Problem {
    /// `https://treatfirst.dev/problems/{code}`.
    #[serde(rename = "type")]
    kind: String,
    title: String,
    /// The HTTP status.
    status: u16,
    code: ProblemCode,
    /// What went wrong and what to fix.
    detail: String,
    /// `insufficient_credit`, `patient_not_active`: why the visit was declined.
    #[schema(required = false)]
    reasons: Vec<DeclineReason>,
    /// `insufficient_credit`: the credit left.
    #[schema(required = false)]
    available_credit: Money,
    /// `patient_not_active`: the patient's status.
    #[schema(required = false)]
    patient_status: PatientStatus,
    /// `amount_exceeds_outstanding`: what the patient owes.
    #[schema(required = false)]
    outstanding: Money,
    /// `invalid_request` on a body that does not parse: the field at fault
    /// (`items[2].unit_price`).
    #[schema(required = false)]
    field: String,
    /// `payload_too_large`: the body limit.
    #[schema(required = false)]
    limit_bytes: u64,
}

/// The `code` of a problem document (API.md).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ProblemCode {
    Unauthorized,
    Forbidden,
    NotFound,
    InvalidRequest,
    IdempotencyConflict,
    InvalidState,
    InsufficientCredit,
    PatientNotActive,
    AmountExceedsOutstanding,
    PayloadTooLarge,
    MethodNotAllowed,
    NotImplemented,
    Unavailable,
}

/// The body of an action that takes no fields (settle, cancel, revoke): empty, or any JSON
/// object (its members are ignored).
#[derive(Serialize, ToSchema)]
pub struct ActionBody {}

/// `GET /healthz`.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Health {
    status: HealthStatus,
    /// Why the ledger stopped (`stopped` only).
    #[schema(required = false)]
    detail: String,
}

/// `ok` while the ledger takes writes; `stopped` after a storage failure.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum HealthStatus {
    Ok,
    Stopped,
}

fn problem_response(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(Problem::name())))
            .build(),
    )
}

macro_rules! problem_responses {
    ($($(#[$meta:meta])* $name:ident => $description:literal;)*) => {$(
        $(#[$meta])*
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                (stringify!($name), problem_response($description).build().into())
            }
        }
    )*};
}

problem_responses! {
    /// 400 `invalid_request`.
    BadRequest => "`invalid_request`: the request is malformed (JSON syntax, types, missing \
                   fields, an invalid amount, id or enum value, a bad path id); `field` names \
                   the field at fault.";
    /// 403 `forbidden`.
    Forbidden => "`forbidden`: the token's role or binding does not allow this (e.g. a \
                  hospital token on another hospital's path).";
    /// 413 `payload_too_large`.
    PayloadTooLarge => "`payload_too_large`: the body is larger than the limit (`limit_bytes`).";
    /// 501 `not_implemented`.
    NotImplemented => "`not_implemented`: the endpoint is in the contract but not available \
                       in this version of the service.";
    /// 503 `unavailable`.
    Unavailable => "`unavailable`: the ledger could not complete the request (storage); \
                    nothing was applied, retry later.";
}

/// 401 `unauthorized`, with `WWW-Authenticate: Bearer`.
pub struct Unauthorized;

impl<'r> ToResponse<'r> for Unauthorized {
    fn response() -> (&'r str, RefOr<Response>) {
        let response = problem_response(
            "`unauthorized`: no `Authorization: Bearer` token, a malformed one, or an unknown \
             token.",
        )
        .header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some("`Bearer`"))
                .build(),
        )
        .build();
        ("Unauthorized", response.into())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use actix_web::http::{Method, StatusCode};
    use actix_web::{test as web_test, App};
    use serde_json::Value;

    use super::*;

    /// Every route module (a file of `api/src/routes/` with a `pub fn configure`) and its
    /// source, read when the test runs so that a new module is checked without being listed
    /// here. Files without `configure` are helpers of another module.
    fn route_sources() -> Vec<(String, String)> {
        let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/src/routes");
        let mut sources: Vec<(String, String)> = std::fs::read_dir(directory)
            .expect("the routes directory")
            .map(|entry| entry.expect("a directory entry").path())
            .filter(|path| path.extension().is_some_and(|extension| extension == "rs"))
            .filter(|path| !path.ends_with("mod.rs"))
            .map(|path| {
                let module = path.file_stem().unwrap().to_string_lossy().into_owned();
                let source = std::fs::read_to_string(&path).expect("a route module");
                (module, source)
            })
            .filter(|(_, source)| source.contains("pub fn configure("))
            .collect();
        sources.sort();
        sources
    }

    fn routes_mod() -> String {
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/routes/mod.rs"))
            .expect("routes/mod.rs")
    }

    const METHODS: &[&str] = &["get", "post", "put", "delete", "patch", "head", "options"];
    /// Served without a token.
    const PUBLIC: &[&str] = &["/healthz", "/metrics", "/openapi.json"];
    /// Served to any valid token: never 403.
    const ANY_TOKEN: &[&str] = &["/v1/whoami"];

    fn document() -> Value {
        serde_json::from_str(&document_json()).expect("the document is JSON")
    }

    /// (method, path) of every operation in the document.
    fn documented(document: &Value) -> BTreeSet<(String, String)> {
        let mut operations = BTreeSet::new();
        for (path, item) in document["paths"].as_object().expect("paths") {
            for method in METHODS {
                if item.get(*method).is_some() {
                    operations.insert(((*method).to_owned(), path.clone()));
                }
            }
        }
        operations
    }

    /// The body of `pub fn configure` in a route module.
    fn configure_body(source: &str) -> &str {
        let start = source
            .find("pub fn configure(")
            .expect("a route module has `pub fn configure`");
        let end = source[start..]
            .find("\n}\n")
            .expect("configure ends with `}` on its own line");
        &source[start..start + end]
    }

    /// (method, path) of every route the `configure` functions mount: each
    /// `resource("PATH")` followed by its `.route(web::METHOD()...)` calls.
    fn mounted_in_source() -> BTreeSet<(String, String)> {
        let mut routes = BTreeSet::new();
        for (module, source) in route_sources() {
            let body = configure_body(&source);
            assert!(
                !body.contains("scope(") && !body.contains("web::route()"),
                "routes/{module}.rs: scopes and method-less routes are not understood here; \
                 extend the test"
            );
            let mut current: Option<String> = None;
            let mut rest = body;
            loop {
                let next_resource = rest.find("resource(\"");
                let next_method = rest.find("web::");
                let at = match (next_resource, next_method) {
                    (None, None) => break,
                    (Some(resource), Some(method)) => resource.min(method),
                    (Some(resource), None) => resource,
                    (None, Some(method)) => method,
                };
                let tail = &rest[at..];
                if let Some(text) = tail.strip_prefix("resource(\"") {
                    let end = text.find('"').expect("a closing quote");
                    current = Some(text[..end].to_owned());
                    rest = &text[end..];
                    continue;
                }
                let text = &tail["web::".len()..];
                if let Some(method) = METHODS
                    .iter()
                    .find(|method| text.starts_with(&format!("{method}()")))
                {
                    let path = current
                        .clone()
                        .unwrap_or_else(|| panic!("routes/{module}.rs: a method before a path"));
                    assert!(
                        routes.insert(((*method).to_owned(), path.clone())),
                        "{method} {path} is mounted twice"
                    );
                }
                rest = text;
            }
        }
        routes
    }

    #[test]
    fn every_route_module_is_mounted() {
        let routes_mod = routes_mod();
        let declared: BTreeSet<&str> = routes_mod
            .lines()
            .filter_map(|line| line.trim().strip_prefix("pub mod "))
            .map(|rest| rest.trim_end_matches(';'))
            .collect();
        let sources = route_sources();
        let read: BTreeSet<&str> = sources.iter().map(|(module, _)| module.as_str()).collect();
        assert_eq!(
            declared, read,
            "routes/mod.rs and the files of routes/ differ"
        );
        for module in declared {
            assert!(
                routes_mod.contains(&format!("{module}::configure(config)")),
                "routes::configure does not mount {module}"
            );
        }
    }

    #[test]
    fn the_document_has_every_mounted_route_and_no_other() {
        let mounted = mounted_in_source();
        let documented = documented(&document());
        assert!(mounted.len() >= 30, "only {} routes found", mounted.len());
        let undocumented: Vec<_> = mounted.difference(&documented).collect();
        let unmounted: Vec<_> = documented.difference(&mounted).collect();
        assert!(
            undocumented.is_empty() && unmounted.is_empty(),
            "mounted but not documented: {undocumented:?}; documented but not mounted: \
             {unmounted:?}"
        );
    }

    /// The real routing table agrees: every documented operation reaches a handler (not the
    /// 404 of an unknown path, nor the 405 of another method), and every other method on a
    /// documented path is 405.
    #[actix_web::test]
    async fn the_mounted_app_serves_exactly_the_documented_methods() {
        let app = web_test::init_service(App::new().configure(routes::configure)).await;
        let document = document();
        let documented = documented(&document);
        let paths: BTreeSet<&String> = documented.iter().map(|(_, path)| path).collect();
        for path in paths {
            let uri = path.replace('{', "X").replace('}', "");
            for method in METHODS {
                let request = web_test::TestRequest::default()
                    .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
                    .uri(&uri)
                    .to_request();
                let status = web_test::call_service(&app, request).await.status();
                let is_documented = documented.contains(&((*method).to_owned(), path.clone()));
                if is_documented {
                    assert!(
                        status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
                        "{method} {path}: documented, but the app answers {status}"
                    );
                } else {
                    assert_eq!(
                        status,
                        StatusCode::METHOD_NOT_ALLOWED,
                        "{method} {path}: not documented, but the app does not refuse it"
                    );
                }
            }
        }
    }

    #[test]
    fn the_document_is_openapi_3_1() {
        let text = document_json();
        let document: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        assert_eq!(document["info"]["title"], "treatfirst");
        assert!(document["info"]["version"].is_string());
        // It reads back as an OpenAPI document.
        let parsed: utoipa::openapi::OpenApi = serde_json::from_str(&text).unwrap();
        assert_eq!(
            parsed.paths.paths.len(),
            document["paths"].as_object().unwrap().len()
        );
        let ids: Vec<&str> = operations(&document)
            .map(|(_, _, operation)| operation["operationId"].as_str().unwrap())
            .collect();
        let unique: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(ids.len(), unique.len(), "operation ids are unique");
    }

    fn operations(document: &Value) -> impl Iterator<Item = (&str, &str, &Value)> {
        document["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| {
                METHODS.iter().filter_map(move |method| {
                    item.get(*method)
                        .map(|operation| (*method, path.as_str(), operation))
                })
            })
    }

    fn collect_refs<'a>(value: &'a Value, refs: &mut Vec<&'a str>) {
        match value {
            Value::Object(object) => {
                for (key, member) in object {
                    match (key.as_str(), member) {
                        ("$ref", Value::String(target)) => refs.push(target),
                        _ => collect_refs(member, refs),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| collect_refs(item, refs)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves() {
        let document = document();
        let mut refs = Vec::new();
        collect_refs(&document, &mut refs);
        assert!(refs.len() > 100, "only {} references", refs.len());
        for target in &refs {
            let pointer = target
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("{target}: not a local reference"));
            assert!(
                document.pointer(pointer).is_some(),
                "{target} does not resolve"
            );
        }
        // Every schema the document carries is used (directly or through another schema).
        let used: BTreeSet<&str> = refs
            .iter()
            .filter_map(|target| target.strip_prefix("#/components/schemas/"))
            .collect();
        for name in document["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
        {
            assert!(
                used.contains(name.as_str()) || name == "Outcome",
                "schema {name} is never referenced"
            );
        }
    }

    #[test]
    fn operations_are_secured_except_operations_endpoints() {
        let document = document();
        assert_eq!(
            document["components"]["securitySchemes"][BEARER]["scheme"],
            "bearer"
        );
        for (method, path, operation) in operations(&document) {
            if PUBLIC.contains(&path) {
                assert!(operation.get("security").is_none(), "{method} {path}");
                continue;
            }
            assert_eq!(
                operation["security"],
                serde_json::json!([{ BEARER: [] }]),
                "{method} {path}"
            );
            for status in ["401", "403"] {
                if status == "403" && ANY_TOKEN.contains(&path) {
                    assert!(operation["responses"].get(status).is_none(), "{path}");
                    continue;
                }
                assert!(
                    operation["responses"].get(status).is_some(),
                    "{method} {path}: no {status}"
                );
            }
        }
    }

    #[test]
    fn operations_declare_their_path_parameters_bodies_and_responses() {
        let document = document();
        for (method, path, operation) in operations(&document) {
            let in_template: BTreeSet<&str> = path
                .split('/')
                .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            let declared: Vec<&str> = operation["parameters"]
                .as_array()
                .map(|parameters| {
                    parameters
                        .iter()
                        .filter(|parameter| parameter["in"] == "path")
                        .map(|parameter| parameter["name"].as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(
                declared.len(),
                in_template.len(),
                "{method} {path}: {declared:?}"
            );
            assert_eq!(
                declared.iter().copied().collect::<BTreeSet<_>>(),
                in_template,
                "{method} {path}"
            );
            let responses = operation["responses"].as_object().unwrap();
            let success = responses
                .keys()
                .filter(|status| status.starts_with('2'))
                .count();
            let not_built = responses.contains_key("501");
            assert!(
                success > 0 || not_built,
                "{method} {path}: no success response"
            );
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let problem = response.get("$ref").is_some()
                        || response["content"][crate::problem::PROBLEM_JSON]["schema"]["$ref"]
                            == "#/components/schemas/Problem";
                    assert!(
                        problem || path == "/healthz",
                        "{method} {path} {status}: not a problem document"
                    );
                }
            }
            let writes = matches!(method, "post" | "put");
            if writes && !not_built {
                assert!(
                    operation.get("requestBody").is_some(),
                    "{method} {path}: body"
                );
                for status in ["400", "413"] {
                    assert!(responses.contains_key(status), "{method} {path}: {status}");
                }
            }
        }
    }

    #[test]
    fn action_bodies_are_optional_objects() {
        let document = document();
        let body = &document["paths"]["/v1/hospitals/{hospital_id}/visits/{visit_id}/settle"]
            ["post"]["requestBody"];
        assert_ne!(body["required"], true);
        assert_eq!(
            body["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ActionBody"
        );
    }

    #[test]
    fn problem_codes_are_the_codes_of_the_service() {
        let document = document();
        let documented: BTreeSet<&str> = document["components"]["schemas"]["ProblemCode"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|code| code.as_str().unwrap())
            .collect();
        // The codes `ApiError` gives a title to.
        let source = include_str!("problem.rs");
        let titled: BTreeSet<&str> = source
            .lines()
            .filter_map(|line| {
                let rest = line.trim().strip_prefix('"')?;
                let (code, tail) = rest.split_once('"')?;
                tail.trim_start().starts_with("=> \"").then_some(code)
            })
            .collect();
        assert_eq!(documented, titled);
    }

    #[test]
    fn wire_strings_carry_their_pattern_and_format() {
        let document = document();
        let schemas = &document["components"]["schemas"];
        assert_eq!(schemas["Money"]["type"], "string");
        assert_eq!(schemas["Money"]["pattern"], r"^[0-9]+(\.[0-9]{1,2})?$");
        assert_eq!(schemas["Money"]["examples"][0], "120.50");
        assert_eq!(schemas["Timestamp"]["format"], "date-time");
        for id in ["PatientId", "HospitalId", "VisitId", "PlanId", "PaymentId"] {
            assert_eq!(schemas[id]["type"], "string", "{id}");
            assert_eq!(schemas[id]["pattern"], r"^[A-Za-z0-9._:-]{1,64}$", "{id}");
        }
        assert_eq!(
            schemas["HospitalLevel"]["enum"],
            serde_json::json!([1, 2, 3])
        );
        // serde: tagged enums, flattened structs, rename_all.
        assert_eq!(schemas["Grant"]["oneOf"].as_array().unwrap().len(), 5);
        assert_eq!(
            schemas["IssuedToken"]["allOf"][0]["$ref"],
            "#/components/schemas/Grant"
        );
        assert_eq!(
            schemas["SettlementView"]["allOf"][0]["$ref"],
            "#/components/schemas/SettlementFigures"
        );
        assert_eq!(schemas["VisitStatus"]["enum"][5], "written_off");
        let plan_stored = &schemas["PlanStored"]["properties"];
        assert!(plan_stored["plan_id"].is_object() && plan_stored["rules"].is_object());
    }

    #[test]
    fn request_bodies_require_the_fields_of_the_contract() {
        let mut required = BTreeMap::new();
        let document = document();
        for name in [
            "OpenVisitRequest",
            "PaymentRequest",
            "ChargeRequest",
            "Plan",
        ] {
            let list: Vec<String> = document["components"]["schemas"][name]["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|field| field.as_str().unwrap().to_owned())
                .collect();
            required.insert(name, list);
        }
        assert_eq!(
            required["OpenVisitRequest"],
            ["visit_id", "patient_id", "kind", "estimated_amount"]
        );
        assert_eq!(
            required["PaymentRequest"],
            ["payment_id", "patient_id", "amount", "channel"]
        );
        assert_eq!(required["ChargeRequest"], ["charge_id", "items"]);
        assert_eq!(
            required["Plan"],
            [
                "currency",
                "payment_window_hours",
                "default_self_pay_ratio",
                "msa_scope",
                "rules"
            ]
        );
    }
}
