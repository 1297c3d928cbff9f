//! Where a command finds the ledger: a data directory (the embedded store) or a PostgreSQL
//! database (the shared store). One of the two, never both.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::Args;
use treatfirst_ledger::journal::{JournalStore, PostgresStore, SledStore};
use treatfirst_ledger::scheme::{SchemeConfig, SchemeLedger};
use treatfirst_ledger::SystemClock;

#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct LedgerLocation {
    /// The data directory (the embedded store).
    #[arg(long, env = "TREATFIRST_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// A PostgreSQL database (the shared store): postgres://user:password@host:port/database.
    #[arg(long, env = "TREATFIRST_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

impl LedgerLocation {
    /// What to call it in messages (never the password).
    pub fn describe(&self) -> String {
        match (&self.data_dir, &self.database_url) {
            (Some(data_dir), _) => data_dir.display().to_string(),
            (None, Some(url)) => url
                .parse::<treatfirst_ledger::journal::PostgresConfig>()
                .map(|config| format!("database {}", config.get_dbname().unwrap_or("(default)")))
                .unwrap_or_else(|_| "the database".to_owned()),
            (None, None) => "nowhere".to_owned(),
        }
    }

    /// The journal's store, refusing a data directory that holds no store (opening one
    /// there would create an empty store).
    pub fn open_journal(&self) -> anyhow::Result<Arc<dyn JournalStore>> {
        match (&self.data_dir, &self.database_url) {
            (Some(data_dir), _) => {
                check_data_dir(data_dir)?;
                let store = SledStore::open(data_dir).with_context(|| {
                    format!(
                        "opening {} (is a treatfirst process still using it?)",
                        data_dir.display()
                    )
                })?;
                Ok(Arc::new(store))
            }
            (None, Some(url)) => Ok(Arc::new(open_database(url)?)),
            (None, None) => bail!("give --data-dir or --database-url"),
        }
    }

    /// The credit scheme on an existing ledger.
    pub fn open_scheme(&self) -> anyhow::Result<SchemeLedger> {
        let store = self.open_journal()?;
        SchemeLedger::with_store(store, SchemeConfig::default(), Arc::new(SystemClock))
            .with_context(|| format!("opening the ledger in {}", self.describe()))
    }
}

/// The shared store at `url` (migrations applied).
pub fn open_database(url: &str) -> anyhow::Result<PostgresStore> {
    PostgresStore::open(url).context("opening the PostgreSQL store")
}

/// Refuses, with a clear message and without creating anything, a directory that is
/// missing, empty, or holds no store.
pub fn check_data_dir(data_dir: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        data_dir.exists(),
        "data directory {} does not exist",
        data_dir.display()
    );
    anyhow::ensure!(
        data_dir.is_dir(),
        "data directory {} is not a directory",
        data_dir.display()
    );
    let mut contents = data_dir
        .read_dir()
        .with_context(|| format!("reading {}", data_dir.display()))?;
    anyhow::ensure!(
        contents.next().is_some(),
        "data directory {} is empty: it is not a treatfirst data directory (no journal)",
        data_dir.display()
    );
    // sled keeps its configuration in `conf` and its log in `db`.
    anyhow::ensure!(
        data_dir.join("conf").is_file() && data_dir.join("db").is_file(),
        "data directory {} holds no treatfirst store (no sled `conf` and `db` files)",
        data_dir.display()
    );
    Ok(())
}
