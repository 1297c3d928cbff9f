//! Risk (finance and admin tokens): a patient's score, reasons and recommended limit.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use serde::Deserialize;
use treatfirst_ledger::{PatientId, Timestamp};

use super::{json, path_id, principal, resource, Handled};
use crate::problem::ApiError;
use crate::state::AppState;

pub fn configure(config: &mut web::ServiceConfig) {
    config.service(resource("/v1/risk/patients/{patient_id}").route(web::get().to(assess)));
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AssessQuery {
    /// Score as of this instant (default: now).
    as_of: Option<Timestamp>,
}

#[utoipa::path(
    get,
    path = "/v1/risk/patients/{patient_id}",
    tag = "finance",
    summary = "A patient's risk score",
    description = "Finance and admin. Scores the patient's repayment history with the shipped model: score, probability of default, band, reason codes and the recommended limit.",
    params(("patient_id" = PatientId, Path, description = "The patient."), AssessQuery),
    responses(
        (status = 200, description = "The assessment.", body = crate::risk::Assessment),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: the patient is not enrolled.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer_auth" = []))
)]
async fn assess(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Handled {
    principal(&state, &request)?.require_finance()?;
    let patient_id: PatientId = path_id(&path)?;
    let query = web::Query::<AssessQuery>::from_query(request.query_string())
        .map_err(|error| ApiError::bad_request(format!("query: {error}")))?;
    let as_of = query.as_of.unwrap_or_else(|| state.clock.now());
    let assessment = state
        .risk
        .assess(&state.scheme, &patient_id, as_of)?
        .ok_or_else(|| ApiError::not_found(format!("patient {patient_id} is not enrolled")))?;
    Ok(json(StatusCode::OK, &assessment))
}
