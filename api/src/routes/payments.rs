//! Payments: a payment channel, or the patient for its own id.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use treatfirst_ledger::scheme::{PaymentApplied, PaymentRecord, PaymentRequest, SchemeCommand};
use treatfirst_ledger::PaymentId;

use super::{accepted, json, path_id, principal, resource, Handled};
use crate::body;
use crate::problem::ApiError;
use crate::state::AppState;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/v1/payments").route(web::post().to(pay)))
        .service(resource("/v1/payments/{payment_id}").route(web::get().to(get_payment)));
}

#[utoipa::path(
    post,
    path = "/v1/payments",
    tag = "payments",
    summary = "Post a payment",
    description = "A payment channel, or the patient for its own id. Applied to the patient's visits, oldest due first.",
    request_body(content = PaymentRequest),
    responses(
        (status = 201, description = "How the payment was applied and what is still outstanding.", body = PaymentApplied, headers(("idempotent-replayed" = bool, description = "`true` when the request repeated an earlier one (same id, same body); absent otherwise."))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: no such patient.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`idempotency_conflict`: the payment id was used with a different body.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`amount_exceeds_outstanding` (with `outstanding`): more than the patient owes; `invalid_request`: a zero amount.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer_auth" = []))
)]
async fn pay(state: web::Data<AppState>, request: HttpRequest, payload: web::Payload) -> Handled {
    let caller = principal(&state, &request)?;
    let payment: PaymentRequest = body::json(payload, state.limits.json_bytes).await?;
    caller.require_payer(&payment.patient_id)?;
    let reply = state.execute(SchemeCommand::Pay(payment)).await?;
    Ok(accepted(StatusCode::CREATED, &reply))
}

/// `GET /v1/payments/{payment_id}` (an addition): a payment as applied (channels, finance,
/// admin, and the patient who paid).
#[utoipa::path(
    get,
    path = "/v1/payments/{payment_id}",
    tag = "payments",
    summary = "Read a payment",
    description = "Channels, finance, admin, and the patient who paid (an addition to the contract). A patient asking for a payment id that is not its own gets 403 whether or not the payment exists.",
    params(("payment_id" = PaymentId, Path, description = "The payment.")),
    responses(
        (status = 200, description = "The payment as applied.", body = PaymentRecord),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: no such payment (channels, finance, admin).", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
async fn get_payment(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Handled {
    let caller = principal(&state, &request)?;
    let payment_id: PaymentId = path_id(&path)?;
    let record = state.scheme.read().payment(&payment_id).cloned();
    let Some(record) = record else {
        caller.require_payments_reader()?;
        return Err(ApiError::not_found(format!(
            "payment {payment_id} does not exist"
        )));
    };
    if caller.require_finance().is_err() {
        caller.require_payer(&record.request.patient_id)?;
    }
    Ok(json(StatusCode::OK, &record))
}
