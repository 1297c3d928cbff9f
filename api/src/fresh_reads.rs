//! Reads on the shared store: a node answers from its own copy of the state, which other
//! nodes' writes reach only when this node replays them. This middleware makes a read wait
//! for that replay first.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::state::AppState;

/// On the shared store, brings this node's state up to date with the journal before a read
/// of the ledger, so that a read on one node sees every write another node acknowledged
/// before it. Writes need nothing: the writer replays the others' records under the
/// journal's lease before it executes. On the embedded store this node is the only writer
/// and reads go straight to memory.
pub async fn fresh_reads<B: MessageBody + 'static>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let reads_ledger =
        request.method() == actix_web::http::Method::GET && request.path().starts_with("/v1/");
    let shared = request
        .app_data::<web::Data<AppState>>()
        .filter(|state| reads_ledger && state.scheme.engine().is_shared());
    if let Some(state) = shared {
        if let Err(error) = state.refresh().await {
            return Ok(request.error_response(error).map_into_right_body());
        }
    }
    next.call(request)
        .await
        .map(ServiceResponse::map_into_left_body)
}
