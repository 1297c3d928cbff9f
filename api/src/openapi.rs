//! `GET /openapi.json`: the OpenAPI document, generated from the code with utoipa.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(info(
    title = "treatfirst",
    description = "Treat first, pay later: the REST API v1"
))]
struct ApiDocument;

/// The document as JSON text.
pub fn document_json() -> String {
    ApiDocument::openapi()
        .to_json()
        .unwrap_or_else(|_| "{}".to_owned())
}
