//! Errors as `application/problem+json` (RFC 9457) with the contract's codes.
//!
//! **Architecture Invariant:** every error the service returns goes through [`ApiError`]:
//! a client mistake is a 4xx with a code from API.md and a detail that says what to fix;
//! a 5xx only ever means the server could not do its part (storage), never bad input.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Map, Value};
use treatfirst_ledger::scheme::{SchemeError, SchemeLedgerError};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error response: status, contract code, human detail and extra members.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub extra: Map<String, Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            detail: detail.into(),
            extra: Map::new(),
        }
    }

    /// Adds an extra member to the problem document.
    pub fn with(mut self, name: &str, value: impl serde::Serialize) -> ApiError {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.extra.insert(name.to_owned(), value);
        self
    }

    pub fn unauthorized(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    /// The request itself is malformed (syntax, types, field values): 400.
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", detail)
    }

    /// Well-formed, but the rules refuse it: 422.
    pub fn unprocessable(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", detail)
    }

    pub fn payload_too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than the limit of {limit} bytes"),
        )
        .with("limit_bytes", limit)
    }

    pub fn not_implemented(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "not_implemented",
            format!("{what} is not available in this version of the service"),
        )
    }

    /// The ledger could not take the write (storage failure): nothing was applied.
    pub fn unavailable(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
    }

    fn title(&self) -> &'static str {
        match self.code {
            "unauthorized" => "Authentication required",
            "forbidden" => "Not allowed for this token",
            "not_found" => "Not found",
            "invalid_request" => "Invalid request",
            "idempotency_conflict" => "Id already used with a different body",
            "invalid_state" => "Not allowed in the current state",
            "insufficient_credit" => "Insufficient credit",
            "patient_not_active" => "Patient not active",
            "amount_exceeds_outstanding" => "Amount exceeds what is outstanding",
            "payload_too_large" => "Request body too large",
            "method_not_allowed" => "Method not allowed",
            "not_implemented" => "Not implemented",
            "unavailable" => "Service unavailable",
            _ => "Error",
        }
    }

    /// The problem document.
    pub fn body(&self) -> Value {
        let mut document = Map::new();
        document.insert(
            "type".into(),
            Value::String(format!("https://treatfirst.dev/problems/{}", self.code)),
        );
        document.insert("title".into(), Value::String(self.title().into()));
        document.insert("status".into(), Value::from(self.status.as_u16()));
        document.insert("code".into(), Value::String(self.code.into()));
        document.insert("detail".into(), Value::String(self.detail.clone()));
        for (name, value) in &self.extra {
            document.insert(name.clone(), value.clone());
        }
        Value::Object(document)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{} {}: {}", self.status, self.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.body(self.body().to_string())
    }
}

impl From<SchemeError> for ApiError {
    fn from(error: SchemeError) -> ApiError {
        let reasons = error.reasons().to_vec();
        match error {
            SchemeError::InvalidRequest { detail } => ApiError::unprocessable(detail),
            SchemeError::NotFound { kind, id } => {
                ApiError::not_found(format!("{kind} {id} does not exist"))
            }
            SchemeError::IdempotencyConflict { kind, id } => ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_conflict",
                format!("{kind} {id} already exists with a different body"),
            ),
            SchemeError::InvalidState { detail } => {
                ApiError::new(StatusCode::CONFLICT, "invalid_state", detail)
            }
            SchemeError::InsufficientCredit { available, .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "insufficient_credit",
                format!("the estimate does not fit the available credit of {available}"),
            )
            .with("available_credit", available)
            .with("reasons", reasons),
            SchemeError::PatientNotActive { status, .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "patient_not_active",
                format!("the patient is {status}"),
            )
            .with("patient_status", status)
            .with("reasons", reasons),
            SchemeError::AmountExceedsOutstanding { outstanding } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "amount_exceeds_outstanding",
                format!("the payment is more than the {outstanding} outstanding"),
            )
            .with("outstanding", outstanding),
            other => ApiError::unprocessable(other.to_string()),
        }
    }
}

impl From<SchemeLedgerError> for ApiError {
    fn from(error: SchemeLedgerError) -> ApiError {
        tracing::error!(%error, "ledger failure");
        ApiError::unavailable(
            "the ledger could not complete the request; nothing was applied, retry later",
        )
    }
}
