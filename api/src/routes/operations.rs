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
async fn healthz(state: web::Data<AppState>) -> Handled {
    if state.scheme.engine().is_stopped() {
        return Ok(json(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"status": "stopped", "detail": "the ledger stopped after a storage failure"}),
        ));
    }
    Ok(json(StatusCode::OK, &json!({"status": "ok"})))
}

async fn metrics(state: web::Data<AppState>) -> Handled {
    let text = state.metrics.render(&state.scheme);
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ))
        .body(text))
}

async fn openapi() -> Handled {
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(crate::openapi::document_json()))
}
