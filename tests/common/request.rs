//! One HTTP request to the server under test, answered whatever its status (4xx and 5xx are
//! answers to check, not errors): shared by the HTTP and the browser suites.

use serde_json::Value;

/// Sends `method url` with an optional bearer token and raw body; only a transport failure
/// panics.
pub fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    content_type: &str,
    body: Option<&[u8]>,
) -> ureq::Response {
    let mut request = agent.request(method, url);
    if let Some(token) = token {
        request = request.set("Authorization", &format!("Bearer {token}"));
    }
    let result = match body {
        Some(bytes) => request.set("Content-Type", content_type).send_bytes(bytes),
        None => request.call(),
    };
    match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("{method} {url}: {error}"),
    }
}

/// The body as JSON when it parses, else as a string.
pub fn body_of(response: ureq::Response) -> Value {
    let text = response.into_string().expect("a text body");
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}
