//! Who the caller is (an addition to the contract): any valid token learns its own grant, so
//! a client (the web UI's sign-in) can tell a patient's token from a hospital's.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};

use super::{json, principal, resource, Handled};
use crate::auth::Grant;
use crate::state::AppState;

pub fn configure(config: &mut web::ServiceConfig) {
    config.service(resource("/v1/whoami").route(web::get().to(whoami)));
}

#[utoipa::path(
    get,
    path = "/v1/whoami",
    tag = "access",
    summary = "The caller's grant",
    description = "Any token (an addition to the contract): the role it was issued for and, for `hospital` and `patient`, the id it is bound to. Nothing else about the token (never the token itself).",
    responses(
        (status = 200, description = "The grant of the token that called.", body = Grant),
        (status = 401, response = crate::openapi::Unauthorized),
    ),
    security(("bearer_auth" = []))
)]
async fn whoami(state: web::Data<AppState>, request: HttpRequest) -> Handled {
    let caller = principal(&state, &request)?;
    Ok(json(StatusCode::OK, &caller.grant))
}
