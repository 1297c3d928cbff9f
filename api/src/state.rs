//! What every request handler shares: the scheme ledger, the token store, metrics, limits.

use std::sync::Arc;

use tokio::sync::oneshot;
use treatfirst_ledger::scheme::{Accepted, SchemeCommand, SchemeLedger, SchemeLedgerError};
use treatfirst_ledger::{Clock, PatientId, Timestamp};

use crate::auth::TokenStore;
use crate::metrics::Metrics;
use crate::problem::ApiError;
use crate::risk::{Rescored, RiskService};

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
        let reply = result.map_err(SchemeLedgerError::from)?;
        Ok(reply?)
    }

    /// Waits until this node's state holds everything durable in the journal when called
    /// (on the shared store, what other nodes appended): a read after it is no older than
    /// the request. Read barriers share one round trip to the database per commit group.
    pub async fn refresh(&self) -> Result<(), ApiError> {
        let (sender, receiver) = oneshot::channel();
        self.scheme.engine().refresh_with(move |result| {
            let _ = sender.send(result);
        });
        let result = receiver
            .await
            .map_err(|_| ApiError::unavailable("the ledger stopped before replying"))?;
        result.map_err(|error| ApiError::from(SchemeLedgerError::from(error)))
    }

    /// Adds the patient's risk assessment (band, score, reason codes) to a visit declined
    /// for credit, so the hospital can tell the patient why.
    pub fn explain_decline(&self, error: ApiError, patient_id: &PatientId) -> ApiError {
        if error.code != "insufficient_credit" && error.code != "patient_not_active" {
            return error;
        }
        match self.risk.assess(&self.scheme, patient_id, self.clock.now()) {
            Ok(Some(assessment)) => error.with(
                "risk",
                serde_json::json!({
                    "band": assessment.band,
                    "score": assessment.score,
                    "reasons": assessment.reasons,
                    "recommended_limit": assessment.recommended_limit,
                }),
            ),
            _ => error,
        }
    }

    /// A delinquency run as of `as_of`, then the rescoring that lowers the limits the
    /// policy now recommends lower (the endpoint and the scheduler both call this).
    ///
    /// # Errors
    /// The run was refused (earlier than the last) or the ledger failed.
    pub async fn run_delinquency(
        self: &Arc<AppState>,
        as_of: Timestamp,
    ) -> Result<(Accepted, Rescored), ApiError> {
        let reply = self
            .execute(SchemeCommand::RunDelinquency { as_of })
            .await?;
        let rescored = self
            .off_worker("the rescoring was interrupted", move |state| {
                state.risk.rescore_all(&state.scheme, as_of)
            })
            .await??;
        Ok((reply, rescored))
    }

    /// Runs `work` on actix's blocking pool, so that work that walks the whole state or reads
    /// the journal (reports, lists, reconciliations, rescoring) holds no worker thread.
    /// `interrupted` is the 503's detail if the blocking thread goes away.
    ///
    /// # Errors
    /// `unavailable` when the work did not complete.
    pub async fn off_worker<R: Send + 'static>(
        self: &Arc<AppState>,
        interrupted: &'static str,
        work: impl FnOnce(&AppState) -> R + Send + 'static,
    ) -> Result<R, ApiError> {
        let state = Arc::clone(self);
        actix_web::web::block(move || work(&state))
            .await
            .map_err(|_| ApiError::unavailable(interrupted))
    }
}
