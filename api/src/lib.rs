//! treatfirst-api: the REST service of API.md over the scheme ledger (actix-web).
//!
//! Layers: [`server`] binds and runs; [`routes`] parse, authorize ([`auth`]) and hand one
//! command to the ledger per write; [`problem`] turns every refusal into
//! `application/problem+json`; [`telemetry`] and [`metrics`] observe; [`openapi`] documents;
//! [`fresh_reads`] keeps reads on the shared store no older than the request.
//!
//! **Architecture Invariant:** a write is acknowledged only after the ledger's engine has
//! made it durable (the engine replies after its group's fsync); handlers never hold rules.
//!
//! **Architecture Invariant:** idempotency is the ledger's: every create carries its client
//! id, the scheme replays the original outcome for the same body (the HTTP status is the
//! route's, so a replay gets the original status and body, plus `Idempotent-Replayed: true`)
//! and refuses another body with `idempotency_conflict`.

pub mod auth;
pub mod body;
pub mod fresh_reads;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod risk;
pub mod routes;
pub mod server;
pub mod state;
pub mod telemetry;
pub mod ui;

pub use server::{serve, ServeConfig, ServeError};
