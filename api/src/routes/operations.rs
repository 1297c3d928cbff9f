//! Operations, without a token: health, metrics, the OpenAPI document.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use serde_json::json;

use super::{json, resource, Handled};
use crate::state::AppState;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/healthz").route(web::get().to(healthz)))
        .service(resource("/metrics").route(web::get().to(metrics)))
        .service(resource("/openapi.json").route(web::get().to(openapi)));
}

/// 200 while the ledger takes writes; 503 once it stopped after a storage failure.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    summary = "Health",
    responses(
        (status = 200, description = "The ledger takes writes: `{\"status\": \"ok\"}`.", body = crate::openapi::Health),
        (status = 503, description = "The ledger stopped after a storage failure.", body = crate::openapi::Health),
    )
)]
async fn healthz(state: web::Data<AppState>) -> Handled {
    if state.scheme.engine().is_stopped() {
        return Ok(json(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"status": "stopped", "detail": "the ledger stopped after a storage failure"}),
        ));
    }
    Ok(json(StatusCode::OK, &json!({"status": "ok"})))
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    summary = "Metrics",
    description = "Prometheus text exposition (OpenMetrics).",
    responses(
        (status = 200, description = "The metrics.", body = String, content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"),
    )
)]
async fn metrics(state: web::Data<AppState>) -> Handled {
    let text = state.metrics.render(&state.scheme);
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ))
        .body(text))
}

#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    summary = "This document",
    description = "The OpenAPI 3.1 document of the service, generated from the code.",
    responses(
        (status = 200, description = "The OpenAPI document.", body = Object, content_type = "application/json"),
    )
)]
async fn openapi() -> Handled {
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(crate::openapi::document_json()))
}
