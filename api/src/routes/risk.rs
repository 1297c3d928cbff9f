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

#[derive(Debug, Deserialize)]
struct AssessQuery {
    /// Score as of this instant (default: now).
    as_of: Option<Timestamp>,
}

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
