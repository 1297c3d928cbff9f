//! Request ids, structured logs and request metrics, as one middleware.
//!
//! Logs carry the request id, method, route pattern, status, latency and the token's
//! reference: no personal data (never the concrete path, a body, or a token).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use crate::state::AppState;

pub const REQUEST_ID_HEADER: &str = "x-request-id";
const REQUEST_ID_LENGTH_MAX: usize = 64;

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Installs the log subscriber: `TREATFIRST_LOG` (an env-filter directive, `info` by
/// default) on standard error. Standard output stays for what the operator must read.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TREATFIRST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// The client's request id when it is a safe token, else a new one.
fn request_id(request: &ServiceRequest) -> String {
    let given = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| {
            !value.is_empty()
                && value.len() <= REQUEST_ID_LENGTH_MAX
                && value
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || b"._:-".contains(&byte))
        });
    match given {
        Some(value) => value.to_owned(),
        None => format!(
            "req-{:x}-{:x}",
            std::process::id(),
            REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed)
        ),
    }
}

/// Tags the response with its request id, logs it and counts it.
pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&request);
    let method = request.method().as_str().to_owned();
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let mut response = next.call(request).await?;
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = response.status().as_u16();
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    let elapsed = started.elapsed();
    if let Some(state) = state {
        state
            .metrics
            .observe(&method, &route, status, elapsed.as_secs_f64());
    }
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    if status >= 500 {
        tracing::error!(request_id = %id, %method, %route, status, micros, "request");
    } else {
        tracing::info!(request_id = %id, %method, %route, status, micros, "request");
    }
    Ok(response)
}
