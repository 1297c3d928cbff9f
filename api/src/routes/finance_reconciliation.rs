//! Reconciliation of CSV files (finance and admin tokens): fund remittances (matched lines
//! post the remittance, idempotent by reference) and channel statements (nothing posted).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use treatfirst_ledger::reconciliation::{self, RowError};

use super::super::{json, principal, Handled};
use crate::body;
use crate::problem::ApiError;
use crate::state::AppState;

/// A malformed file: 422 `invalid_request` with every row at fault (`errors: [{line,
/// message}]`); nothing was applied.
fn malformed(errors: Vec<RowError>) -> ApiError {
    let first = errors
        .first()
        .map(|error| format!("line {}: {}", error.line, error.message))
        .unwrap_or_default();
    ApiError::unprocessable(format!(
        "the file has {} malformed row(s); nothing was applied; first: {first}",
        errors.len()
    ))
    .with("errors", errors)
}

async fn csv_body(
    state: &AppState,
    request: &HttpRequest,
    payload: web::Payload,
) -> Result<web::Bytes, ApiError> {
    let content_type = request
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("text/csv") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "the body must be text/csv",
        ));
    }
    body::read_limited(payload, state.limits.csv_bytes).await
}

#[utoipa::path(
    post,
    path = "/v1/reconciliations/fund",
    tag = "finance",
    summary = "Reconcile a fund remittance file",
    description = "Finance and admin. `reference,hospital_id,visit_id,amount` lines. A line matching a settled visit's fund share posts the remittance (`plan:PL:fund_payable` / `hospital:H:due_from_fund`), once per reference: the same file again changes nothing. Mismatched amounts, unknown visits and settled visits missing from the file are reported. A malformed row (422, with line numbers) applies nothing.",
    request_body(content = String, content_type = "text/csv", description = "`reference,hospital_id,visit_id,amount` lines."),
    responses(
        (status = 200, description = "`{matched, posted, matched_amount, mismatched: [...], unknown: [...], missing: [...], missing_count, missing_amount}`.", body = treatfirst_ledger::reconciliation::FundReconciliation),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, description = "The body is not `text/csv`.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_request`: malformed rows, listed in `errors` with their line numbers; nothing applied.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer_auth" = []))
)]
pub async fn fund(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Handled {
    principal(&state, &request)?.require_finance()?;
    let bytes = csv_body(&state, &request, payload).await?;
    let result = state
        .off_worker("the reconciliation was interrupted", move |state| {
            reconciliation::reconcile_fund(&state.scheme, &bytes)
        })
        .await?
        .map_err(ApiError::from)?
        .map_err(malformed)?;
    Ok(json(StatusCode::OK, &result))
}

#[utoipa::path(
    post,
    path = "/v1/reconciliations/channel",
    tag = "finance",
    summary = "Reconcile a channel statement",
    description = "Finance and admin. `payment_id,amount,channel` lines against the payments of the ledger: matched, amount (or channel) mismatch, unknown to the ledger, and payments through the statement's channels missing from it. Nothing is posted. A malformed row (422, with line numbers) reconciles nothing.",
    request_body(content = String, content_type = "text/csv", description = "`payment_id,amount,channel` lines."),
    responses(
        (status = 200, description = "`{matched, matched_amount, mismatched: [...], unknown: [...], missing: [...], missing_count}`.", body = treatfirst_ledger::reconciliation::ChannelReconciliation),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, description = "The body is not `text/csv`.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_request`: malformed rows, listed in `errors` with their line numbers.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
pub async fn channel(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Handled {
    principal(&state, &request)?.require_finance()?;
    let bytes = csv_body(&state, &request, payload).await?;
    let result = state
        .off_worker("the reconciliation was interrupted", move |state| {
            reconciliation::reconcile_channel_file(&state.scheme.read(), &bytes)
        })
        .await?
        .map_err(malformed)?;
    Ok(json(StatusCode::OK, &result))
}
