//! Patients read their balances (admin, finance, any hospital, the patient itself).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use serde::{Deserialize, Serialize};
use treatfirst_ledger::scheme::PatientView;
use treatfirst_ledger::scheme::{StatementCursor, StatementEntry, VisitView, STATEMENT_PAGE_MAX};
use treatfirst_ledger::PatientId;

use super::{json, path_id, principal, resource, Handled};
use crate::auth::{Grant, Principal};
use crate::problem::ApiError;
use crate::state::AppState;

/// Statement entries per page when the client does not say.
pub const STATEMENT_PAGE_DEFAULT: usize = 100;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/v1/patients/{patient_id}").route(web::get().to(get_patient)))
        .service(
            resource("/v1/patients/{patient_id}/statement").route(web::get().to(get_statement)),
        )
        .service(resource("/v1/patients/{patient_id}/visits").route(web::get().to(get_visits)));
}

#[utoipa::path(
    get,
    path = "/v1/patients/{patient_id}",
    tag = "patients",
    summary = "Read a patient",
    description = "Admin, finance, any hospital, the patient itself. `available_credit = credit_limit - credit_held - outstanding`, never below 0.",
    params(("patient_id" = PatientId, Path, description = "The patient.")),
    responses(
        (status = 200, description = "The patient's balances.", body = PatientView),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: the patient is not enrolled.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
async fn get_patient(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Handled {
    let (_, patient_id) = readable_patient(&state, &request, &path)?;
    let view = state
        .scheme
        .patient(&patient_id)
        .ok_or_else(|| unknown(&patient_id))?;
    Ok(json(StatusCode::OK, &view))
}

/// The patient of a patient path, the caller allowed to read it.
fn readable_patient(
    state: &AppState,
    request: &HttpRequest,
    path: &str,
) -> Result<(Principal, PatientId), ApiError> {
    let caller = principal(state, request)?;
    let patient_id: PatientId = path_id(path)?;
    caller.require_patient_reader(&patient_id)?;
    Ok((caller, patient_id))
}

fn unknown(patient_id: &PatientId) -> ApiError {
    ApiError::not_found(format!("patient {patient_id} is not enrolled"))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct StatementQuery {
    /// The `next` of the previous page (`seq.account.index`); omitted: the first page.
    after: Option<String>,
    /// Entries per page, 1 to 1000 (100 when omitted).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

/// `GET /v1/patients/{patient_id}/statement` response: a page of entries, oldest first;
/// `next` is the `after` of the following page (null on the last).
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct StatementPage {
    entries: Vec<StatementEntry>,
    next: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/patients/{patient_id}/statement",
    tag = "patients",
    summary = "A patient's statement",
    description = "Admin, finance, any hospital, the patient itself. One page of entries, oldest first; pass `next` as `after` for the following page.",
    params(("patient_id" = PatientId, Path, description = "The patient."), StatementQuery),
    responses(
        (status = 200, description = "A page of entries.", body = StatementPage),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: the patient is not enrolled.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
async fn get_statement(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Handled {
    let (_, patient_id) = readable_patient(&state, &request, &path)?;
    let query = web::Query::<StatementQuery>::from_query(request.query_string())
        .map_err(|error| ApiError::bad_request(format!("query: {error}")))?
        .into_inner();
    let limit = query.limit.unwrap_or(STATEMENT_PAGE_DEFAULT);
    if limit == 0 || limit > STATEMENT_PAGE_MAX {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {STATEMENT_PAGE_MAX}"
        )));
    }
    let after = query
        .after
        .as_deref()
        .map(str::parse::<StatementCursor>)
        .transpose()
        .map_err(|error| ApiError::bad_request(format!("after: {error}")))?;
    let entries = state
        .scheme
        .statement(&patient_id, after, limit)?
        .ok_or_else(|| unknown(&patient_id))?;
    let next = (entries.len() == limit)
        .then(|| entries.last().map(|entry| entry.cursor.to_string()))
        .flatten();
    Ok(json(StatusCode::OK, &StatementPage { entries, next }))
}

/// `GET /v1/patients/{patient_id}/visits` (an addition): the patient's visits in the order
/// they were opened, each with its charges and settlement.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct PatientVisits {
    visits: Vec<VisitView>,
}

#[utoipa::path(
    get,
    path = "/v1/patients/{patient_id}/visits",
    tag = "patients",
    summary = "A patient's visits",
    description = "Admin, finance, any hospital (its own visits only), the patient itself (an addition to the contract).",
    params(("patient_id" = PatientId, Path, description = "The patient.")),
    responses(
        (status = 200, description = "The visits in the order they were opened.", body = PatientVisits),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: the patient is not enrolled.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
async fn get_visits(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Handled {
    let (caller, patient_id) = readable_patient(&state, &request, &path)?;
    // A hospital sees only its own visits (their charges are medical information).
    let own_hospital = match &caller.grant {
        Grant::Hospital { hospital_id } => Some(hospital_id.clone()),
        _ => None,
    };
    let visits = {
        let scheme = state.scheme.read();
        let patient = scheme
            .patient(&patient_id)
            .ok_or_else(|| unknown(&patient_id))?;
        patient
            .visits
            .iter()
            .filter(|key| {
                own_hospital
                    .as_ref()
                    .map_or(true, |own| *own == key.hospital_id)
            })
            .filter_map(|key| scheme.visit_view(key))
            .collect()
    };
    Ok(json(StatusCode::OK, &PatientVisits { visits }))
}
