//! `treatfirst serve`: the REST service on the embedded store or the shared one.

use std::path::PathBuf;

use clap::Args;
use treatfirst_api::state::BodyLimits;
use treatfirst_api::ServeConfig;

#[derive(Debug, Args)]
pub struct ServeArguments {
    /// Address to listen on; port 0 picks a free port (printed at start-up).
    #[arg(long, env = "TREATFIRST_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// The data directory (embedded sled store), created if missing.
    #[arg(long, env = "TREATFIRST_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// A PostgreSQL database for the ledger instead of the data directory: several nodes
    /// given the same URL share one ledger (postgres://user:password@host:port/database).
    #[arg(long, env = "TREATFIRST_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Accepted as an admin token. When not set and no admin token exists yet, one is
    /// generated and printed once.
    #[arg(long, env = "TREATFIRST_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Largest JSON request body, in bytes (larger ones are refused with 413).
    #[arg(long, env = "TREATFIRST_BODY_LIMIT_BYTES", default_value_t = BodyLimits::default().json_bytes)]
    body_limit_bytes: usize,
    /// Largest CSV upload, in bytes.
    #[arg(long, env = "TREATFIRST_CSV_LIMIT_BYTES", default_value_t = BodyLimits::default().csv_bytes)]
    csv_limit_bytes: usize,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "TREATFIRST_WORKERS")]
    workers: Option<usize>,
    /// Run delinquency as of the current time every this many seconds (off when not set).
    #[arg(long, env = "TREATFIRST_DELINQUENCY_EVERY", value_parser = clap::value_parser!(u64).range(1..))]
    delinquency_every: Option<u64>,
}

pub fn run(arguments: ServeArguments) -> anyhow::Result<()> {
    treatfirst_api::telemetry::init_logging();
    let mut config = ServeConfig::new(arguments.bind, arguments.data_dir);
    config.database_url = arguments.database_url.filter(|url| !url.is_empty());
    config.admin_token = arguments.admin_token.filter(|token| !token.is_empty());
    config.limits = BodyLimits {
        json_bytes: arguments.body_limit_bytes,
        csv_bytes: arguments.csv_limit_bytes,
    };
    config.workers = arguments.workers;
    config.delinquency_every = arguments
        .delinquency_every
        .map(std::time::Duration::from_secs);
    treatfirst_api::serve(config)?;
    Ok(())
}
