//! Request bodies: read within a limit, parsed strictly, with errors that name the field.

use actix_web::web;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

/// Reads the whole body, refusing more than `limit` bytes with 413.
pub async fn read_limited(payload: web::Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    match payload.to_bytes_limited(limit).await {
        Err(_) => Err(ApiError::payload_too_large(limit)),
        Ok(Err(error)) => Err(ApiError::bad_request(format!(
            "the request body could not be read: {error}"
        ))),
        Ok(Ok(bytes)) => Ok(bytes),
    }
}

/// Parses a JSON body into `T`. Syntax errors, wrong types, missing fields and invalid
/// values (amounts, ids, enums) are 400 `invalid_request` naming the field at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the request body is empty; a JSON object is expected",
        ));
    }
    // Every body of the API is an object; serde would also read a struct from an array.
    if bytes.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let what = if inner.is_syntax() || inner.is_eof() {
            "the request body is not valid JSON"
        } else {
            "the request body does not match the expected shape"
        };
        if path.is_empty() || path == "." {
            ApiError::bad_request(format!("{what}: {inner}"))
        } else {
            ApiError::bad_request(format!("{what}: {path}: {inner}")).with("field", path)
        }
    })?;
    deserializer
        .end()
        .map_err(|error| ApiError::bad_request(format!("trailing data after the JSON: {error}")))?;
    Ok(value)
}

/// Reads and parses a JSON body.
pub async fn json<T: DeserializeOwned>(payload: web::Payload, limit: usize) -> Result<T, ApiError> {
    let bytes = read_limited(payload, limit).await?;
    parse_json(&bytes)
}

/// Reads an action body: empty, or a JSON object (its members are ignored).
pub async fn empty_object(payload: web::Payload, limit: usize) -> Result<(), ApiError> {
    let bytes = read_limited(payload, limit).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    // A map, not a struct without fields: serde reads such a struct from `[]` as well.
    parse_json::<serde_json::Map<String, serde_json::Value>>(&bytes).map(|_| ())
}
