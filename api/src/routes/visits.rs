//! Visits: the hospital itself writes; finance and admin may read.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use serde::Deserialize;
use treatfirst_ledger::scheme::{ChargeRequest, OpenVisitRequest, SchemeCommand};
use treatfirst_ledger::{ChargeId, HospitalId, RefundId, VisitId};

use super::{accepted, json, path_id, principal, resource, Handled};
use crate::body;
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
    let reply = state
        .execute(SchemeCommand::OpenVisit {
            hospital_id,
            request,
        })
        .await?;
    Ok(accepted(StatusCode::CREATED, &reply))
}

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

#[derive(Debug, Deserialize)]
struct RefundBody {
    refund_id: RefundId,
    charge_id: ChargeId,
}

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
