//! Visits: the hospital itself writes; finance and admin may read.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use serde::Deserialize;
use treatfirst_ledger::scheme::{
    ChargeAdded, Refunded, SettlementView, VisitCancelled, VisitOpened, VisitView,
};
use treatfirst_ledger::scheme::{ChargeRequest, OpenVisitRequest, SchemeCommand};
use treatfirst_ledger::{ChargeId, HospitalId, RefundId, VisitId};

use super::{accepted, json, path_id, principal, resource, Handled};
use crate::body;
use crate::openapi::ActionBody;
use crate::problem::ApiError;
use crate::state::AppState;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/v1/hospitals/{hospital_id}/visits").route(web::post().to(open_visit)))
        .service(
            resource("/v1/hospitals/{hospital_id}/visits/{visit_id}")
                .route(web::get().to(get_visit)),
        )
        .service(
            resource("/v1/hospitals/{hospital_id}/visits/{visit_id}/charges")
                .route(web::post().to(add_charge)),
        )
        .service(
            resource("/v1/hospitals/{hospital_id}/visits/{visit_id}/settle")
                .route(web::post().to(settle)),
        )
        .service(
            resource("/v1/hospitals/{hospital_id}/visits/{visit_id}/cancel")
                .route(web::post().to(cancel)),
        )
        .service(
            resource("/v1/hospitals/{hospital_id}/visits/{visit_id}/refunds")
                .route(web::post().to(refund)),
        );
}

/// The hospital and visit of a visit path, the caller allowed to write it.
fn writable_visit(
    state: &AppState,
    request: &HttpRequest,
    path: &(String, String),
) -> Result<(HospitalId, VisitId), ApiError> {
    let caller = principal(state, request)?;
    let hospital_id: HospitalId = path_id(&path.0)?;
    caller.require_hospital(&hospital_id)?;
    Ok((hospital_id, path_id(&path.1)?))
}

#[utoipa::path(
    post,
    path = "/v1/hospitals/{hospital_id}/visits",
    tag = "visits",
    summary = "Open a visit",
    description = "The hospital itself. Authorizes the estimate against the patient's available credit and holds it.",
    params(("hospital_id" = HospitalId, Path, description = "The hospital.")),
    request_body(content = OpenVisitRequest),
    responses(
        (status = 201, description = "The visit, open, with the authorized amount.", body = VisitOpened, headers(("idempotent-replayed" = bool, description = "`true` when the request repeated an earlier one (same id, same body); absent otherwise."))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: no such patient or hospital.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`idempotency_conflict`: the visit id was used with a different body.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Declined: `insufficient_credit` (with `available_credit` and `reasons`) or `patient_not_active` (with `patient_status` and `reasons`); or `invalid_request`.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer_auth" = []))
)]
async fn open_visit(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Handled {
    let caller = principal(&state, &request)?;
    let hospital_id: HospitalId = path_id(&path)?;
    caller.require_hospital(&hospital_id)?;
    let request: OpenVisitRequest = body::json(payload, state.limits.json_bytes).await?;
    let patient_id = request.patient_id.clone();
    let reply = state
        .execute(SchemeCommand::OpenVisit {
            hospital_id,
            request,
        })
        .await
        .map_err(|error| state.explain_decline(error, &patient_id))?;
    Ok(accepted(StatusCode::CREATED, &reply))
}

#[utoipa::path(
    post,
    path = "/v1/hospitals/{hospital_id}/visits/{visit_id}/charges",
    tag = "visits",
    summary = "Add a charge",
    description = "The hospital itself. Adds charge items to an open visit.",
    params(("hospital_id" = HospitalId, Path, description = "The hospital."), ("visit_id" = VisitId, Path, description = "The hospital's visit id.")),
    request_body(content = ChargeRequest),
    responses(
        (status = 201, description = "The charge's amount and the visit total.", body = ChargeAdded, headers(("idempotent-replayed" = bool, description = "`true` when the request repeated an earlier one (same id, same body); absent otherwise."))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: no such visit.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state`: the visit is not open; `idempotency_conflict`: the charge id was used with a different body.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_request`: an item is not valid or the visit total exceeds the maximum.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer_auth" = []))
)]
async fn add_charge(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Handled {
    let (hospital_id, visit_id) = writable_visit(&state, &request, &path)?;
    let charge: ChargeRequest = body::json(payload, state.limits.json_bytes).await?;
    let reply = state
        .execute(SchemeCommand::AddCharge {
            hospital_id,
            visit_id,
            charge,
        })
        .await?;
    Ok(accepted(StatusCode::CREATED, &reply))
}

#[utoipa::path(
    post,
    path = "/v1/hospitals/{hospital_id}/visits/{visit_id}/settle",
    tag = "visits",
    summary = "Settle a visit",
    description = "The hospital itself. Adjudicates the visit under the patient's plan and finances the cash part. Settling again returns the same settlement. The body is empty or `{}`.",
    params(("hospital_id" = HospitalId, Path, description = "The hospital."), ("visit_id" = VisitId, Path, description = "The hospital's visit id.")),
    request_body(content = Option<ActionBody>, description = "Empty, or `{}`."),
    responses(
        (status = 200, description = "The settlement.", body = SettlementView, headers(("idempotent-replayed" = bool, description = "`true` when the request repeated an earlier one (same id, same body); absent otherwise."))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: no such visit, or the plan is gone.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state`: the visit cannot be settled (cancelled).", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_request`: no plan rule matches the visit.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer_auth" = []))
)]
async fn settle(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Handled {
    let (hospital_id, visit_id) = writable_visit(&state, &request, &path)?;
    body::empty_object(payload, state.limits.json_bytes).await?;
    let reply = state
        .execute(SchemeCommand::Settle {
            hospital_id,
            visit_id,
        })
        .await?;
    Ok(accepted(StatusCode::OK, &reply))
}

#[utoipa::path(
    post,
    path = "/v1/hospitals/{hospital_id}/visits/{visit_id}/cancel",
    tag = "visits",
    summary = "Cancel a visit",
    description = "The hospital itself. Open visits only; releases the hold. The body is empty or `{}`.",
    params(("hospital_id" = HospitalId, Path, description = "The hospital."), ("visit_id" = VisitId, Path, description = "The hospital's visit id.")),
    request_body(content = Option<ActionBody>, description = "Empty, or `{}`."),
    responses(
        (status = 200, description = "The cancelled visit.", body = VisitCancelled, headers(("idempotent-replayed" = bool, description = "`true` when the request repeated an earlier one (same id, same body); absent otherwise."))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: no such visit.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state`: the visit is not open.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer_auth" = []))
)]
async fn cancel(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Handled {
    let (hospital_id, visit_id) = writable_visit(&state, &request, &path)?;
    body::empty_object(payload, state.limits.json_bytes).await?;
    let reply = state
        .execute(SchemeCommand::Cancel {
            hospital_id,
            visit_id,
        })
        .await?;
    Ok(accepted(StatusCode::OK, &reply))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct RefundBody {
    refund_id: RefundId,
    charge_id: ChargeId,
}

#[utoipa::path(
    post,
    path = "/v1/hospitals/{hospital_id}/visits/{visit_id}/refunds",
    tag = "visits",
    summary = "Refund a charge",
    description = "The hospital itself. Refunds one charge of a settled visit and re-adjudicates it on the same terms.",
    params(("hospital_id" = HospitalId, Path, description = "The hospital."), ("visit_id" = VisitId, Path, description = "The hospital's visit id.")),
    request_body(content = RefundBody),
    responses(
        (status = 201, description = "The new settlement and the differences per payer.", body = Refunded, headers(("idempotent-replayed" = bool, description = "`true` when the request repeated an earlier one (same id, same body); absent otherwise."))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: no such visit or charge.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state`: the visit is not settled or the charge is already refunded; `idempotency_conflict`: the refund id was used with a different body.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_request`: the re-adjudication failed.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer_auth" = []))
)]
async fn refund(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Handled {
    let (hospital_id, visit_id) = writable_visit(&state, &request, &path)?;
    let body: RefundBody = body::json(payload, state.limits.json_bytes).await?;
    let reply = state
        .execute(SchemeCommand::Refund {
            hospital_id,
            visit_id,
            refund_id: body.refund_id,
            charge_id: body.charge_id,
        })
        .await?;
    Ok(accepted(StatusCode::CREATED, &reply))
}

#[utoipa::path(
    get,
    path = "/v1/hospitals/{hospital_id}/visits/{visit_id}",
    tag = "visits",
    summary = "Read a visit",
    description = "The hospital itself, finance and admin. The visit, its charges, refunds and settlement (after refunds).",
    params(("hospital_id" = HospitalId, Path, description = "The hospital."), ("visit_id" = VisitId, Path, description = "The hospital's visit id.")),
    responses(
        (status = 200, description = "The visit.", body = VisitView),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: no such visit.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
async fn get_visit(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> Handled {
    let caller = principal(&state, &request)?;
    let hospital_id: HospitalId = path_id(&path.0)?;
    caller.require_visit_reader(&hospital_id)?;
    let visit_id: VisitId = path_id(&path.1)?;
    let view = state.scheme.visit(&hospital_id, &visit_id).ok_or_else(|| {
        ApiError::not_found(format!(
            "visit {visit_id} of hospital {hospital_id} does not exist"
        ))
    })?;
    Ok(json(StatusCode::OK, &view))
}
