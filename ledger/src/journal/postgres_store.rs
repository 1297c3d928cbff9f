//! The shared store: the journal in PostgreSQL (or a PostgreSQL-compatible database such as
//! CockroachDB or YugabyteDB), so that several `treatfirst serve` nodes write one ledger.
//!
//! # How several nodes stay correct
//! Every node runs the same engine and the same pure rules over its own copy of the state in
//! memory. The journal in the database is the one order of events. A node writes a commit
//! group in one database transaction that:
//! 1. locks the journal's head row (`SELECT ... FROM journal_head ... FOR UPDATE`): one row
//!    lock, always the same one, so no two nodes write at once and no deadlock is possible;
//! 2. reads the records other nodes appended since this node last looked, and the engine
//!    replays them, so the rules decide on the latest state (idempotency ids, credit held,
//!    deductibles and caps used, payments applied);
//! 3. appends the group's records and account entries and moves the head, then commits.
//!
//! Why one lock rather than serializable transactions per patient: the state machine is one
//! deterministic sequence (the hash chain needs a total order, and fund pools, deductibles
//! and caps cross patients), and every decision is made in memory. A serializable
//! transaction would abort and retry on every overlapping group without making any decision
//! safer; the head lock makes the order explicit, cannot fail for a conflict, and group
//! commit amortises it over every command the group holds.
//!
//! A transaction that dies with its node (SIGKILL, a dropped connection) is rolled back by
//! the database, and its lock goes with it: the other nodes carry on.

use std::sync::Mutex;

use postgres::{Client, NoTls, Statement};

use super::{
    AccountEntry, JournalKind, JournalStore, KindMarker, RawRecord, RecordHash, StoreError,
};
use crate::{AccountId, Timestamp};

/// The schema, one migration per version, applied in order at open (see
/// [`PostgresStore::open`]). Never edit a released migration: add the next one.
const MIGRATIONS: &[(i32, &str, &str)] = &[(
    1,
    "journal, account entries, head, metadata, access tokens",
    "CREATE TABLE journal_records (
         seq BIGINT PRIMARY KEY,
         recorded_at BIGINT NOT NULL,
         prev_hash BYTEA NOT NULL,
         payload BYTEA NOT NULL
     );
     CREATE TABLE journal_head (
         id SMALLINT PRIMARY KEY CHECK (id = 1),
         seq BIGINT NOT NULL,
         hash BYTEA NOT NULL
     );
     INSERT INTO journal_head (id, seq, hash)
         VALUES (1, 0, decode(repeat('00', 32), 'hex'));
     CREATE TABLE account_entries (
         account TEXT NOT NULL,
         seq BIGINT NOT NULL,
         entry_index INTEGER NOT NULL,
         recorded_at BIGINT NOT NULL,
         body BYTEA NOT NULL,
         PRIMARY KEY (account, seq, entry_index)
     );
     CREATE TABLE journal_meta (
         name TEXT PRIMARY KEY,
         value BYTEA NOT NULL
     );
     CREATE TABLE access_tokens (
         token_hash BYTEA PRIMARY KEY,
         grant_record BYTEA NOT NULL
     );",
)];

/// Records fetched per round trip when reading the journal.
const RECORDS_PAGE: i64 = 4_096;
/// Idle connections kept for reuse.
const POOL_IDLE_MAX: usize = 16;

/// The journal in PostgreSQL. Cheap to share (`Arc`); connections are pooled.
pub struct PostgresStore {
    config: postgres::Config,
    /// Where the database is, without the password: for messages.
    display: String,
    idle: Mutex<Vec<Connection>>,
}

/// A connection and its prepared statements.
struct Connection {
    client: Client,
    statements: Statements,
}

struct Statements {
    lock_head: Statement,
    records_after: Statement,
    insert_records: Statement,
    insert_entries: Statement,
    move_head: Statement,
    last_record: Statement,
    account_entries: Statement,
    last_entry_at: Statement,
}

impl Connection {
    fn open(config: &postgres::Config) -> Result<Connection, postgres::Error> {
        let mut client = config.connect(NoTls)?;
        let statements = Statements {
            lock_head: client.prepare("SELECT seq FROM journal_head WHERE id = 1 FOR UPDATE")?,
            records_after: client.prepare(
                "SELECT seq, recorded_at, prev_hash, payload FROM journal_records
                 WHERE seq > $1 ORDER BY seq LIMIT $2",
            )?,
            insert_records: client.prepare(
                "INSERT INTO journal_records (seq, recorded_at, prev_hash, payload)
                 SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::BYTEA[], $4::BYTEA[])",
            )?,
            insert_entries: client.prepare(
                "INSERT INTO account_entries (account, seq, entry_index, recorded_at, body)
                 SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::INTEGER[], $4::BIGINT[],
                                      $5::BYTEA[])",
            )?,
            move_head: client
                .prepare("UPDATE journal_head SET seq = $1, hash = $2 WHERE id = 1")?,
            last_record: client.prepare(
                "SELECT seq, recorded_at, prev_hash, payload FROM journal_records
                 ORDER BY seq DESC LIMIT 1",
            )?,
            account_entries: client.prepare(
                "SELECT body FROM account_entries
                 WHERE account = $1 AND (seq, entry_index) > ($2, $3)
                 ORDER BY seq, entry_index LIMIT $4",
            )?,
            last_entry_at: client.prepare(
                "SELECT body FROM account_entries
                 WHERE account = $1 AND recorded_at <= $2
                 ORDER BY seq DESC, entry_index DESC LIMIT 1",
            )?,
        };
        Ok(Connection { client, statements })
    }
}

/// Closing a connection blocks on the driver's runtime too: the pool closes outside async.
impl Drop for PostgresStore {
    fn drop(&mut self) {
        let idle = std::mem::take(&mut *self.idle_connections());
        outside_async(move || drop(idle));
    }
}

/// A connection taken from the pool; it goes back when dropped, unless it broke.
struct Pooled<'a> {
    store: &'a PostgresStore,
    connection: Option<Connection>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.connection.as_ref().expect("present until dropped")
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.connection.as_mut().expect("present until dropped")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            if connection.client.is_closed() {
                return;
            }
            let mut idle = self.store.idle_connections();
            if idle.len() < POOL_IDLE_MAX {
                idle.push(connection);
            }
        }
    }
}

/// Runs `work` where the blocking driver may run: here, or on a scoped thread when this
/// thread drives an async runtime.
fn outside_async<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return work();
    }
    std::thread::scope(|scope| match scope.spawn(work).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

fn backend(error: postgres::Error) -> StoreError {
    // The driver's Display says only "db error"; the server's message is what helps.
    match error.as_db_error() {
        Some(db) => StoreError::Backend(format!(
            "postgres: {} ({}){}",
            db.message(),
            db.code().code(),
            db.detail()
                .map(|detail| format!(": {detail}"))
                .unwrap_or_default()
        )),
        None => StoreError::Backend(format!("postgres: {error}")),
    }
}

/// Why a database URL was refused before connecting.
fn parse_url(url: &str) -> Result<postgres::Config, StoreError> {
    url.parse::<postgres::Config>()
        .map_err(|error| StoreError::Backend(format!("not a PostgreSQL URL: {error}")))
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`), applies the schema
    /// migrations this version knows and has not yet applied, and returns the store.
    ///
    /// Connections are plain TCP (no TLS in this build): run it over a private network or a
    /// local TLS-terminating proxy.
    ///
    /// # Errors
    /// The URL does not parse, the database cannot be reached, or a migration failed.
    pub fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let config = parse_url(url)?;
        let display = describe(&config);
        let store = PostgresStore {
            config,
            display,
            idle: Mutex::new(Vec::new()),
        };
        outside_async(|| store.migrate())?;
        Ok(store)
    }

    /// Where the database is (host, port, database; never the password).
    pub fn describe(&self) -> &str {
        &self.display
    }

    /// Applies pending migrations, each in its own transaction, under a table lock so that
    /// nodes starting at the same moment apply each one once.
    fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.config.connect(NoTls).map_err(backend)?;
        // Two nodes may both try to create the table: the loser's error is harmless.
        let created = client.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version INTEGER PRIMARY KEY,
                 description TEXT NOT NULL,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        );
        if let Err(error) = created {
            if client
                .query_opt(
                    "SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_migrations'",
                    &[],
                )
                .map_err(backend)?
                .is_none()
            {
                return Err(backend(error));
            }
        }
        for (version, description, sql) in MIGRATIONS {
            let mut transaction = client.transaction().map_err(backend)?;
            transaction
                .batch_execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
                .map_err(backend)?;
            let applied = transaction
                .query_opt(
                    "SELECT 1 FROM schema_migrations WHERE version = $1",
                    &[version],
                )
                .map_err(backend)?
                .is_some();
            if applied {
                continue;
            }
            transaction.batch_execute(sql).map_err(|error| {
                StoreError::Backend(format!("migration {version} ({description}): {error}"))
            })?;
            transaction
                .execute(
                    "INSERT INTO schema_migrations (version, description) VALUES ($1, $2)",
                    &[version, description],
                )
                .map_err(backend)?;
            transaction.commit().map_err(backend)?;
        }
        Ok(())
    }

    fn idle_connections(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `work` on a pooled connection. The driver is blocking and runs its own small
    /// runtime, which may not start inside an async one: called from an async context (a
    /// request handler), the work runs on a short-lived thread of its own.
    fn with_connection<T: Send>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        outside_async(|| {
            let mut connection = self.connection()?;
            work(&mut connection)
        })
    }

    fn connection(&self) -> Result<Pooled<'_>, StoreError> {
        let idle = self.idle_connections().pop();
        let connection = match idle {
            Some(connection) => connection,
            None => Connection::open(&self.config).map_err(backend)?,
        };
        Ok(Pooled {
            store: self,
            connection: Some(connection),
        })
    }

    /// Takes the journal's write lock in a new transaction and returns it with the records
    /// appended after `after_seq` (by other nodes). The lock holds until the lease commits
    /// or is dropped (rolled back).
    ///
    /// # Errors
    /// The database failed, or its head is behind `after_seq` (another database?).
    pub fn lease(&self, after_seq: u64) -> Result<(PostgresLease<'_>, Vec<RawRecord>), StoreError> {
        let mut connection = self.connection()?;
        connection.client.batch_execute("BEGIN").map_err(backend)?;
        let mut lease = PostgresLease {
            connection,
            open: true,
            head_seq: 0,
        };
        let statement = lease.connection.statements.lock_head.clone();
        let head = lease
            .connection
            .client
            .query_one(&statement, &[])
            .map_err(backend)?;
        let head_seq = to_seq(head.get::<_, i64>(0))?;
        if head_seq < after_seq {
            return Err(StoreError::Backend(format!(
                "the database's journal ends at record {head_seq}, but this node has {after_seq}: \
                 is it the same database?"
            )));
        }
        lease.head_seq = head_seq;
        let mut newer = Vec::new();
        let mut from = after_seq;
        while from < head_seq {
            let page = read_records(&mut lease.connection, from)?;
            let Some(last) = page.last() else { break };
            from = last.seq;
            newer.extend(page);
        }
        Ok((lease, newer))
    }

    /// Stores an access token's grant (service data that every node must see).
    ///
    /// # Errors
    /// The database failed.
    pub fn put_access_token(
        &self,
        token_hash: &[u8],
        grant_record: &[u8],
    ) -> Result<(), StoreError> {
        self.with_connection(|connection| {
            connection
                .client
                .execute(
                    "INSERT INTO access_tokens (token_hash, grant_record) VALUES ($1, $2)
                     ON CONFLICT (token_hash) DO UPDATE SET grant_record = EXCLUDED.grant_record",
                    &[&token_hash, &grant_record],
                )
                .map_err(backend)?;
            Ok(())
        })
    }

    /// One access token's grant.
    ///
    /// # Errors
    /// The database failed.
    pub fn access_token(&self, token_hash: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_connection(|connection| {
            let row = connection
                .client
                .query_opt(
                    "SELECT grant_record FROM access_tokens WHERE token_hash = $1",
                    &[&token_hash],
                )
                .map_err(backend)?;
            Ok(row.map(|row| row.get(0)))
        })
    }

    /// Every access token's grant.
    ///
    /// # Errors
    /// The database failed.
    pub fn access_tokens(&self) -> Result<Vec<StoredAccessToken>, StoreError> {
        self.with_connection(|connection| {
            let rows = connection
                .client
                .query("SELECT token_hash, grant_record FROM access_tokens", &[])
                .map_err(backend)?;
            Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
        })
    }
}

/// An access token's hash and its grant, as the service encoded it.
pub type StoredAccessToken = (Vec<u8>, Vec<u8>);

/// The journal's write lock, held in an open transaction (see [`PostgresStore::lease`]).
/// Dropped without [`PostgresLease::commit`], it rolls back.
pub struct PostgresLease<'a> {
    connection: Pooled<'a>,
    open: bool,
    head_seq: u64,
}

impl PostgresLease<'_> {
    /// Appends a commit group after the head this lease locked, and commits: durable once
    /// it returns `Ok` (the database's commit, `synchronous_commit` as configured).
    ///
    /// # Errors
    /// The records do not continue the head, or the database failed (nothing was written).
    pub fn commit(
        mut self,
        records: &[RawRecord],
        entries: &[AccountEntry],
    ) -> Result<(), StoreError> {
        if let Some(first) = records.first() {
            if first.seq != self.head_seq + 1 {
                return Err(StoreError::Backend(format!(
                    "records start at {} but the journal ends at {}",
                    first.seq, self.head_seq
                )));
            }
            write_group(&mut self.connection, records, entries)?;
        }
        self.open = false;
        self.connection
            .client
            .batch_execute("COMMIT")
            .map_err(backend)
    }
}

impl Drop for PostgresLease<'_> {
    fn drop(&mut self) {
        if self.open && self.connection.client.batch_execute("ROLLBACK").is_err() {
            // A connection that cannot roll back is not reused.
            self.connection.connection = None;
        }
    }
}

fn write_group(
    connection: &mut Connection,
    records: &[RawRecord],
    entries: &[AccountEntry],
) -> Result<(), StoreError> {
    let Some(last) = records.last() else {
        return Ok(());
    };
    let seqs: Vec<i64> = records
        .iter()
        .map(|record| to_sql_seq(record.seq))
        .collect::<Result<_, _>>()?;
    let times: Vec<i64> = records
        .iter()
        .map(|record| record.timestamp.micros())
        .collect();
    let hashes: Vec<&[u8]> = records.iter().map(|record| &record.prev_hash[..]).collect();
    let payloads: Vec<&[u8]> = records.iter().map(|record| &record.payload[..]).collect();
    connection
        .client
        .execute(
            &connection.statements.insert_records,
            &[&seqs, &times, &hashes, &payloads],
        )
        .map_err(backend)?;
    if !entries.is_empty() {
        let accounts: Vec<&str> = entries.iter().map(|entry| entry.account.as_str()).collect();
        let entry_seqs: Vec<i64> = entries
            .iter()
            .map(|entry| to_sql_seq(entry.seq))
            .collect::<Result<_, _>>()?;
        let indexes: Vec<i32> = entries.iter().map(|entry| i32::from(entry.index)).collect();
        let entry_times: Vec<i64> = entries
            .iter()
            .map(|entry| entry.timestamp.micros())
            .collect();
        let bodies: Vec<Vec<u8>> = entries
            .iter()
            .map(|entry| {
                postcard::to_stdvec(entry).map_err(|error| StoreError::Backend(error.to_string()))
            })
            .collect::<Result<_, _>>()?;
        connection
            .client
            .execute(
                &connection.statements.insert_entries,
                &[&accounts, &entry_seqs, &indexes, &entry_times, &bodies],
            )
            .map_err(backend)?;
    }
    let head_seq = to_sql_seq(last.seq)?;
    let head_hash = last.hash();
    connection
        .client
        .execute(
            &connection.statements.move_head,
            &[&head_seq, &&head_hash[..]],
        )
        .map_err(backend)?;
    Ok(())
}

fn read_records(connection: &mut Connection, after: u64) -> Result<Vec<RawRecord>, StoreError> {
    let after = to_sql_seq(after)?;
    let rows = connection
        .client
        .query(
            &connection.statements.records_after,
            &[&after, &RECORDS_PAGE],
        )
        .map_err(backend)?;
    rows.iter().map(record_from_row).collect()
}

fn record_from_row(row: &postgres::Row) -> Result<RawRecord, StoreError> {
    let seq = to_seq(row.get::<_, i64>(0))?;
    let prev_hash: Vec<u8> = row.get(2);
    let prev_hash =
        <[u8; 32]>::try_from(prev_hash.as_slice()).map_err(|_| StoreError::Corrupt {
            seq,
            reason: "the previous hash is not 32 bytes".to_owned(),
        })?;
    Ok(RawRecord {
        seq,
        timestamp: Timestamp::from_micros(row.get(1)),
        prev_hash,
        payload: row.get(3),
    })
}

fn decode_entry(body: &[u8]) -> Result<AccountEntry, StoreError> {
    postcard::from_bytes(body).map_err(|error| StoreError::Corrupt {
        seq: 0,
        reason: format!("account entry: {error}"),
    })
}

fn to_seq(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt {
        seq: 0,
        reason: format!("negative sequence number {value}"),
    })
}

fn to_sql_seq(seq: u64) -> Result<i64, StoreError> {
    i64::try_from(seq).map_err(|_| StoreError::Backend(format!("sequence number {seq} too large")))
}

fn describe(config: &postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgres://{}:{port}/{}",
        hosts.join(","),
        config.get_dbname().unwrap_or("")
    )
}

/// Pages through the journal, a few thousand records per round trip.
struct RecordPages<'a> {
    store: &'a PostgresStore,
    after: u64,
    page: std::vec::IntoIter<RawRecord>,
    done: bool,
}

impl Iterator for RecordPages<'_> {
    type Item = Result<RawRecord, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(record) = self.page.next() {
            self.after = record.seq;
            return Some(Ok(record));
        }
        if self.done {
            return None;
        }
        let after = self.after;
        let page = self
            .store
            .with_connection(|connection| read_records(connection, after));
        match page {
            Ok(page) => {
                self.done = (page.len() as i64) < RECORDS_PAGE;
                self.page = page.into_iter();
                let record = self.page.next()?;
                self.after = record.seq;
                Some(Ok(record))
            }
            Err(error) => {
                self.done = true;
                Some(Err(error))
            }
        }
    }
}

impl JournalStore for PostgresStore {
    fn last_record(&self) -> Result<Option<RawRecord>, StoreError> {
        self.with_connection(|connection| {
            let row = connection
                .client
                .query_opt(&connection.statements.last_record, &[])
                .map_err(backend)?;
            row.as_ref().map(record_from_row).transpose()
        })
    }

    fn records_from(
        &self,
        from_seq: u64,
    ) -> Box<dyn Iterator<Item = Result<RawRecord, StoreError>> + '_> {
        Box::new(RecordPages {
            store: self,
            after: from_seq.saturating_sub(1),
            page: Vec::new().into_iter(),
            done: false,
        })
    }

    /// Appends under the head lock, checking that the records continue the journal (used by
    /// `treatfirst migrate` and by engines that do not lease).
    fn append(&self, records: &[RawRecord], entries: &[AccountEntry]) -> Result<(), StoreError> {
        let Some(first) = records.first() else {
            return Ok(());
        };
        let (lease, newer) = self.lease(first.seq.saturating_sub(1))?;
        if !newer.is_empty() {
            return Err(StoreError::Backend(format!(
                "another writer appended record {} first",
                first.seq
            )));
        }
        lease.commit(records, entries)
    }

    fn account_entries(
        &self,
        account: &AccountId,
        after: Option<(u64, u16)>,
        limit: usize,
    ) -> Result<Vec<AccountEntry>, StoreError> {
        let (seq, index) = match after {
            Some((seq, index)) => (to_sql_seq(seq)?, i32::from(index)),
            None => (0, -1),
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with_connection(|connection| {
            let rows = connection
                .client
                .query(
                    &connection.statements.account_entries,
                    &[&account.as_str(), &seq, &index, &limit],
                )
                .map_err(backend)?;
            rows.iter()
                .map(|row| decode_entry(row.get::<_, &[u8]>(0)))
                .collect()
        })
    }

    fn last_entry_at(
        &self,
        account: &AccountId,
        at: Timestamp,
    ) -> Result<Option<AccountEntry>, StoreError> {
        self.with_connection(|connection| {
            let row = connection
                .client
                .query_opt(
                    &connection.statements.last_entry_at,
                    &[&account.as_str(), &at.micros()],
                )
                .map_err(backend)?;
            row.map(|row| decode_entry(row.get::<_, &[u8]>(0)))
                .transpose()
        })
    }

    fn recorded_head(&self) -> Result<Option<(u64, RecordHash)>, StoreError> {
        self.with_connection(|connection| {
            let row = connection
                .client
                .query_one("SELECT seq, hash FROM journal_head WHERE id = 1", &[])
                .map_err(backend)?;
            let seq = to_seq(row.get::<_, i64>(0))?;
            let hash: Vec<u8> = row.get(1);
            let hash =
                <RecordHash>::try_from(hash.as_slice()).map_err(|_| StoreError::Corrupt {
                    seq,
                    reason: "the journal head's hash is not 32 bytes".to_owned(),
                })?;
            Ok(Some((seq, hash)))
        })
    }

    fn size_on_disk(&self) -> Option<u64> {
        self.with_connection(|connection| {
            let row = connection
                .client
                .query_one("SELECT pg_database_size(current_database())", &[])
                .map_err(backend)?;
            Ok(u64::try_from(row.get::<_, i64>(0)).ok())
        })
        .ok()
        .flatten()
    }

    fn kind_marker(&self) -> Option<&dyn KindMarker> {
        Some(self)
    }

    fn shared(&self) -> Option<&dyn super::SharedJournal> {
        Some(self)
    }
}

/// The journal's kind, in `journal_meta`.
impl KindMarker for PostgresStore {
    fn read_kind(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_connection(|connection| {
            let row = connection
                .client
                .query_opt("SELECT value FROM journal_meta WHERE name = 'kind'", &[])
                .map_err(backend)?;
            Ok(row.map(|row| row.get(0)))
        })
    }

    fn write_kind(&self, kind: JournalKind) -> Result<(), StoreError> {
        self.with_connection(|connection| {
            connection
                .client
                .execute(
                    "INSERT INTO journal_meta (name, value) VALUES ('kind', $1)
                     ON CONFLICT (name) DO NOTHING",
                    &[&kind.as_str().as_bytes()],
                )
                .map_err(backend)?;
            Ok(())
        })
    }
}

impl super::SharedJournal for PostgresStore {
    fn lease(
        &self,
        after_seq: u64,
    ) -> Result<(Box<dyn super::JournalLease + '_>, Vec<RawRecord>), StoreError> {
        let (lease, newer) = PostgresStore::lease(self, after_seq)?;
        Ok((Box::new(lease), newer))
    }
}

impl super::JournalLease for PostgresLease<'_> {
    fn commit(
        self: Box<Self>,
        records: &[RawRecord],
        entries: &[AccountEntry],
    ) -> Result<(), StoreError> {
        PostgresLease::commit(*self, records, entries)
    }
}

/// A database of its own on a PostgreSQL server, created empty and dropped (with whatever
/// connections are left) when this goes away: for tests and benchmarks that need a fresh
/// shared store, like a temporary directory for the embedded one.
pub struct ScratchDatabase {
    server_url: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    /// Creates `treatfirst_scratch_<pid>_<n>` on the server `server_url` points at (its user
    /// needs `CREATEDB`).
    ///
    /// # Errors
    /// The URL does not parse or the database cannot be created.
    pub fn create(server_url: &str) -> Result<ScratchDatabase, StoreError> {
        static CREATED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let config = parse_url(server_url)?;
        let serial = CREATED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let name = format!("treatfirst_scratch_{}_{serial}_{nanos}", std::process::id());
        let mut client = config.connect(NoTls).map_err(backend)?;
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(backend)?;
        Ok(ScratchDatabase {
            url: with_database(server_url, &name)?,
            server_url: server_url.to_owned(),
            name,
        })
    }

    /// The URL of the new database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if let Ok(config) = parse_url(&self.server_url) {
            if let Ok(mut client) = config.connect(NoTls) {
                let _ = client.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ));
            }
        }
    }
}

/// `url` with its database name replaced by `database`.
fn with_database(url: &str, database: &str) -> Result<String, StoreError> {
    let refuse = || StoreError::Backend(format!("not a postgres:// URL: {url}"));
    let (scheme, rest) = url.split_once("://").ok_or_else(refuse)?;
    let (location, query) = match rest.split_once('?') {
        Some((location, query)) => (location, Some(query)),
        None => (rest, None),
    };
    let authority = location
        .split_once('/')
        .map_or(location, |(authority, _)| authority);
    let mut result = format!("{scheme}://{authority}/{database}");
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    Ok(result)
}
