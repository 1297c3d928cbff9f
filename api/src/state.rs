//! What every request handler shares: the scheme ledger, the token store, metrics, limits.

use std::sync::Arc;

use tokio::sync::oneshot;
use treatfirst_ledger::scheme::{Accepted, SchemeCommand, SchemeLedger};
use treatfirst_ledger::Clock;

use crate::auth::TokenStore;
use crate::metrics::Metrics;
use crate::problem::ApiError;
use crate::risk::RiskService;

/// Size limits of request bodies (`TREATFIRST_BODY_LIMIT_BYTES`, `TREATFIRST_CSV_LIMIT_BYTES`).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// JSON bodies.
    pub json_bytes: usize,
    /// CSV uploads (reconciliation files).
    pub csv_bytes: usize,
}

impl Default for BodyLimits {
    fn default() -> BodyLimits {
        BodyLimits {
            json_bytes: 256 * 1024,
            csv_bytes: 16 * 1024 * 1024,
        }
    }
}

pub struct AppState {
    pub scheme: SchemeLedger,
    pub tokens: TokenStore,
    pub metrics: Metrics,
    pub limits: BodyLimits,
    pub clock: Arc<dyn Clock>,
    pub risk: RiskService,
}

impl AppState {
    /// Executes a command on the ledger's writer and waits, without blocking the worker,
    /// until it is durable. A refusal is the contract's error; a storage failure is 503 and
    /// applied nothing.
    pub async fn execute(&self, command: SchemeCommand) -> Result<Accepted, ApiError> {
        let (sender, receiver) = oneshot::channel();
        self.scheme.submit_with(command, move |result| {
            // The request may have gone (client disconnected): the write stands regardless.
            let _ = sender.send(result);
        });
        let result = receiver
            .await
            .map_err(|_| ApiError::unavailable("the ledger stopped before replying"))?;
        let reply = result.map_err(|error| {
            tracing::error!(%error, "ledger failure");
            ApiError::unavailable(
                "the ledger could not complete the request; nothing was applied, retry later",
            )
        })?;
        Ok(reply?)
    }
}
