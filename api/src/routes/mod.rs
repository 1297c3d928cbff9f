//! The routes of API.md, one module per part of the contract. Handlers parse and authorize,
//! then hand a command to the ledger; they hold no rules of their own.

pub mod admin;
pub mod finance;
pub mod hospital_desk;
pub mod operations;
pub mod patients;
pub mod payments;
pub mod risk;
pub mod visits;
pub mod whoami;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use treatfirst_ledger::scheme::Accepted;
use treatfirst_ledger::IdError;

use crate::auth::Principal;
use crate::problem::ApiError;
use crate::state::AppState;

/// Set on a response that repeats an earlier request with the same id and body.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

pub type Handled = Result<HttpResponse, ApiError>;

/// Mounts every route.
pub fn configure(config: &mut web::ServiceConfig) {
    operations::configure(config);
    admin::configure(config);
    patients::configure(config);
    visits::configure(config);
    payments::configure(config);
    finance::configure(config);
    risk::configure(config);
    hospital_desk::configure(config);
    whoami::configure(config);
    crate::ui::configure(config);
}

/// A resource whose other methods answer 405 as problem+json.
pub(crate) fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed() -> Handled {
    Err(ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this path does not take that method",
    ))
}

/// Unknown paths.
pub async fn not_found() -> Handled {
    Err(ApiError::not_found("no such endpoint"))
}

/// The caller of a request.
pub(crate) fn principal(state: &AppState, request: &HttpRequest) -> Result<Principal, ApiError> {
    state.tokens.authenticate(request)
}

/// A path segment as an id.
pub(crate) fn path_id<T>(text: &str) -> Result<T, ApiError>
where
    T: std::str::FromStr<Err = IdError>,
{
    text.parse()
        .map_err(|error: IdError| ApiError::bad_request(format!("in the path: {error}")))
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: &impl Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(serde_json::to_string(body).unwrap_or_else(|_| "{}".to_owned()))
}

/// The response to an accepted command: its outcome, with the original status on a replay.
pub(crate) fn accepted(status: StatusCode, accepted: &Accepted) -> HttpResponse {
    let mut response = json(status, &accepted.outcome);
    if accepted.replayed {
        response.headers_mut().insert(
            header::HeaderName::from_static(REPLAYED_HEADER),
            header::HeaderValue::from_static("true"),
        );
    }
    response
}
