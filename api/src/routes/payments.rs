//! Payments: a payment channel, or the patient for its own id.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use treatfirst_ledger::scheme::{PaymentRequest, SchemeCommand};
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

async fn pay(state: web::Data<AppState>, request: HttpRequest, payload: web::Payload) -> Handled {
    let caller = principal(&state, &request)?;
    let payment: PaymentRequest = body::json(payload, state.limits.json_bytes).await?;
    caller.require_payer(&payment.patient_id)?;
    let reply = state.execute(SchemeCommand::Pay(payment)).await?;
    Ok(accepted(StatusCode::CREATED, &reply))
}

/// `GET /v1/payments/{payment_id}` (an addition): a payment as applied (channels, finance,
/// admin, and the patient who paid).
async fn get_payment(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Handled {
    let caller = principal(&state, &request)?;
    let payment_id: PaymentId = path_id(&path)?;
    let record = state.scheme.read().payment(&payment_id).cloned();
    let record = record
        .ok_or_else(|| ApiError::not_found(format!("payment {payment_id} does not exist")))?;
    if caller.require_finance().is_err() {
        caller.require_payer(&record.request.patient_id)?;
    }
    Ok(json(StatusCode::OK, &record))
}
