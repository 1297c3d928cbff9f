//! Start-up: open the store, the token store and the ledger; bind; serve until SIGTERM or
//! SIGINT, then drain (graceful shutdown) and close the ledger.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{middleware, web, App, HttpServer};
use treatfirst_ledger::journal::{PostgresStore, SledStore};
use treatfirst_ledger::scheme::{SchemeConfig, SchemeLedger, SchemeLedgerError};
use treatfirst_ledger::SystemClock;

use crate::auth::{Grant, TokenStore, TokenStoreError};
use crate::metrics::Metrics;
use crate::risk::RiskService;
use crate::state::{AppState, BodyLimits};

/// How `treatfirst serve` runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// `TREATFIRST_BIND`: `127.0.0.1:8080` by default; port 0 picks a free port.
    pub bind: String,
    /// `TREATFIRST_DATA_DIR`: the embedded store, `./data` by default.
    pub data_dir: PathBuf,
    /// `TREATFIRST_DATABASE_URL`: when set, the ledger lives in this PostgreSQL database
    /// (shared with any other node given the same URL) instead of `data_dir`.
    pub database_url: Option<String>,
    /// `TREATFIRST_ADMIN_TOKEN`: accepted as an admin token when set.
    pub admin_token: Option<String>,
    pub limits: BodyLimits,
    /// HTTP worker threads (the number of cores by default).
    pub workers: Option<usize>,
    /// How long a graceful shutdown waits for requests in flight.
    pub shutdown_timeout: Duration,
    pub scheme: SchemeConfig,
    /// `TREATFIRST_DELINQUENCY_EVERY`: when set, a delinquency run as of the current time
    /// this often (the first one interval after start).
    pub delinquency_every: Option<Duration>,
}

impl ServeConfig {
    pub fn new(bind: impl Into<String>, data_dir: impl Into<PathBuf>) -> ServeConfig {
        ServeConfig {
            bind: bind.into(),
            data_dir: data_dir.into(),
            database_url: None,
            admin_token: None,
            limits: BodyLimits::default(),
            workers: None,
            shutdown_timeout: Duration::from_secs(10),
            scheme: SchemeConfig::default(),
            delinquency_every: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the ledger in {path}: {source}")]
    Ledger {
        path: PathBuf,
        source: SchemeLedgerError,
    },
    #[error("cannot open the ledger in the database: {0}")]
    Database(SchemeLedgerError),
    #[error("cannot open the token store: {0}")]
    Tokens(#[from] TokenStoreError),
    #[error("cannot listen on {bind}: {source}")]
    Bind {
        bind: String,
        source: std::io::Error,
    },
    #[error("the server failed: {0}")]
    Server(std::io::Error),
}

/// Runs the service until it is told to stop. Prints `listening on http://ADDR` (with the
/// real port when the bind asked for port 0) on standard output once it accepts requests.
///
/// # Errors
/// The data directory, the ledger, the token store or the socket could not be opened.
pub fn serve(config: ServeConfig) -> Result<(), ServeError> {
    actix_web::rt::System::new().block_on(run(config))
}

/// The ledger and the token store, on the embedded store or the shared one.
fn open_stores(
    config: &ServeConfig,
    clock: Arc<SystemClock>,
) -> Result<(SchemeLedger, TokenStore), ServeError> {
    if let Some(url) = &config.database_url {
        let store = PostgresStore::open(url)
            .map_err(|error| ServeError::Database(SchemeLedgerError::Store(error)))?;
        tracing::info!(database = store.describe(), "ledger on the shared store");
        let store = Arc::new(store);
        let tokens = TokenStore::open_shared(Arc::clone(&store))?;
        let scheme =
            SchemeLedger::with_store(store, config.scheme, clock).map_err(ServeError::Database)?;
        return Ok((scheme, tokens));
    }
    std::fs::create_dir_all(&config.data_dir).map_err(|source| ServeError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let ledger_error = |source| ServeError::Ledger {
        path: config.data_dir.clone(),
        source,
    };
    let store = SledStore::open(&config.data_dir)
        .map_err(|error| ledger_error(SchemeLedgerError::Store(error)))?;
    let tokens = TokenStore::open(&store)?;
    let scheme =
        SchemeLedger::with_store(Arc::new(store), config.scheme, clock).map_err(ledger_error)?;
    Ok((scheme, tokens))
}

async fn run(config: ServeConfig) -> Result<(), ServeError> {
    let clock = Arc::new(SystemClock);
    let (scheme, tokens) = open_stores(&config, clock.clone())?;

    if let Some(token) = &config.admin_token {
        tokens.trust_admin_token(token);
    } else if !tokens.has_admin() {
        let token = tokens.issue(Grant::Admin, treatfirst_ledger::Clock::now(clock.as_ref()))?;
        println!("admin token (shown once, keep it safe): {token}");
    }

    let state = web::Data::new(AppState {
        scheme,
        tokens,
        metrics: Metrics::new(),
        limits: config.limits,
        clock,
        risk: RiskService::default(),
    });
    if let Some(every) = config.delinquency_every {
        actix_web::rt::spawn(run_delinquency_every(state.clone(), every));
    }
    let listener = TcpListener::bind(&config.bind).map_err(|source| ServeError::Bind {
        bind: config.bind.clone(),
        source,
    })?;
    let address = listener.local_addr().map_err(ServeError::Server)?;
    let app_state = state.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(app_state.clone())
            .wrap(middleware::from_fn(crate::fresh_reads::fresh_reads))
            .wrap(middleware::from_fn(crate::telemetry::observe))
            .configure(crate::routes::configure)
            .default_service(web::to(crate::routes::not_found))
    })
    .shutdown_timeout(config.shutdown_timeout.as_secs())
    .listen(listener)
    .map_err(ServeError::Server)?;
    if let Some(workers) = config.workers {
        server = server.workers(workers);
    }
    let server = server.run();
    println!("listening on http://{address}");
    tracing::info!(%address, data_dir = %config.data_dir.display(), "listening");
    server.await.map_err(ServeError::Server)?;
    tracing::info!("stopped accepting requests; closing the ledger");
    drop(state);
    Ok(())
}

/// The scheduler: a delinquency run as of the current time every `every`, until the server
/// stops. A refused run (the clock behind the last run's `as_of`) or a failure is logged
/// and the next tick tries again.
async fn run_delinquency_every(state: web::Data<AppState>, every: Duration) {
    let mut ticks = actix_web::rt::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let as_of = treatfirst_ledger::Clock::now(state.clock.as_ref());
        match state.run_delinquency(as_of).await {
            Ok((reply, _)) => {
                tracing::info!(%as_of, outcome = ?reply.outcome, "scheduled delinquency run")
            }
            Err(error) => tracing::warn!(%as_of, ?error, "scheduled delinquency run refused"),
        }
    }
}
