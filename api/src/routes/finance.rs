//! Finance (finance and admin tokens): delinquency runs, reports, reconciliation, risk.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use serde::Deserialize;
use treatfirst_ledger::scheme::DelinquencyRun;
use treatfirst_ledger::Timestamp;

use super::{json, principal, resource, Handled};
use crate::body;
use crate::state::AppState;

#[path = "finance_reports.rs"]
pub mod reports;

#[path = "finance_reconciliation.rs"]
pub mod reconciliations;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/v1/delinquency/run").route(web::post().to(run_delinquency)))
        .service(resource("/v1/reports/aging").route(web::get().to(reports::aging)))
        .service(resource("/v1/reports/defaults").route(web::get().to(reports::defaults)))
        .service(resource("/v1/reports/provision").route(web::post().to(reports::provision)))
        .service(resource("/v1/reports/write-offs").route(web::get().to(reports::write_offs)))
        .service(resource("/v1/reports/allowance").route(web::get().to(reports::allowance)))
        .service(resource("/v1/reports/headline").route(web::get().to(reports::headline)))
        .service(resource("/v1/reconciliations/fund").route(web::post().to(reconciliations::fund)))
        .service(
            resource("/v1/reconciliations/channel").route(web::post().to(reconciliations::channel)),
        );
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct DelinquencyBody {
    as_of: Timestamp,
}

#[utoipa::path(
    post,
    path = "/v1/delinquency/run",
    tag = "finance",
    summary = "Run delinquency",
    description = "Finance and admin. Ages every settled visit as of an instant: overdue, defaulted, written off.",
    request_body(content = DelinquencyBody),
    responses(
        (status = 200, description = "How many visits entered each stage.", body = DelinquencyRun),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 409, description = "`invalid_state`: `as_of` is earlier than the last run.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer_auth" = []))
)]
async fn run_delinquency(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Handled {
    principal(&state, &request)?.require_finance()?;
    let body: DelinquencyBody = body::json(payload, state.limits.json_bytes).await?;
    let (reply, rescored) = state.run_delinquency(body.as_of).await?;
    let mut response = serde_json::to_value(&reply.outcome).unwrap_or_default();
    response["rescoring"] = serde_json::to_value(rescored).unwrap_or_default();
    Ok(json(StatusCode::OK, &response))
}
