use serde::{Deserialize, Serialize};

use super::{KindMarker, RawRecord, RecordHash};
use crate::accounts::Balances;
use crate::transfers::Phase;
use crate::{AccountId, Money, Timestamp, TransferId};

/// Storage failed: the engine stops accepting writes (an fsync that failed cannot be retried
/// safely) and the process must restart and recover from the journal.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage: {0}")]
    Backend(String),
    #[error("journal record {seq} is corrupt: {reason}")]
    Corrupt { seq: u64, reason: String },
}

impl From<sled::Error> for StoreError {
    fn from(error: sled::Error) -> StoreError {
        StoreError::Backend(error.to_string())
    }
}

/// Which side of an account an entry is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EntrySide {
    Debit,
    Credit,
}

/// One side of one movement, as seen from an account: the rows of an account statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountEntry {
    pub account: AccountId,
    /// The journal record it belongs to.
    pub seq: u64,
    /// Its place among the record's entries for this account.
    pub index: u16,
    pub timestamp: Timestamp,
    pub transfer_id: Option<TransferId>,
    pub side: EntrySide,
    pub phase: Phase,
    pub amount: Money,
    /// The account's balances once the whole record applied.
    pub balances_after: Balances,
}

/// Where the journal lives. Implementations: [`super::SledStore`] (embedded, the default) and
/// [`super::PostgresStore`] (shared by several nodes).
///
/// The contract the engine relies on:
/// - `append` is atomic (all records and entries of a call, or none, survive a crash) and
///   durable (on disk, fsynced) when it returns `Ok`;
/// - records are read back in sequence order, exactly as appended.
pub trait JournalStore: Send + Sync + 'static {
    /// The newest record, if any.
    fn last_record(&self) -> Result<Option<RawRecord>, StoreError>;

    /// Records with `seq >= from_seq`, in order.
    fn records_from(
        &self,
        from_seq: u64,
    ) -> Box<dyn Iterator<Item = Result<RawRecord, StoreError>> + '_>;

    /// Appends a commit group: records and their account entries, atomically and durably.
    fn append(&self, records: &[RawRecord], entries: &[AccountEntry]) -> Result<(), StoreError>;

    /// An account's entries after `after` (a `(seq, index)` cursor), oldest first.
    fn account_entries(
        &self,
        account: &AccountId,
        after: Option<(u64, u16)>,
        limit: usize,
    ) -> Result<Vec<AccountEntry>, StoreError>;

    /// The account's last entry at or before `at`.
    fn last_entry_at(
        &self,
        account: &AccountId,
        at: Timestamp,
    ) -> Result<Option<AccountEntry>, StoreError>;

    /// Bytes on disk, when known.
    fn size_on_disk(&self) -> Option<u64>;

    /// Where the store records which state machine writes the journal (see
    /// [`super::JournalKind`]); `None` when it keeps no such marker, and then readers
    /// recognise the kind from the records.
    fn kind_marker(&self) -> Option<&dyn KindMarker> {
        None
    }

    /// Where the journal ends according to the store's own head marker, for stores that keep
    /// one apart from the records (the shared store's `journal_head` row): `(seq, hash of
    /// that record)`. The auditor checks it against the chain. `None` when the store keeps
    /// no such marker.
    ///
    /// # Errors
    /// The store failed.
    fn recorded_head(&self) -> Result<Option<(u64, RecordHash)>, StoreError> {
        Ok(None)
    }

    /// A journal that other processes append to as well: the engine then leases it for every
    /// commit group (see [`SharedJournal`]) instead of appending blindly. `None` for a store
    /// only this process writes.
    fn shared(&self) -> Option<&dyn SharedJournal> {
        None
    }
}

/// A journal several engines write (nodes over one database). Writing a commit group is:
/// take the lease (the journal's write lock), replay what the others appended meanwhile,
/// execute, and commit the group through the lease. Only one lease exists at a time across
/// every writer.
pub trait SharedJournal: Send + Sync {
    /// Takes the journal's write lock and returns it with the records after `after_seq`,
    /// in order. Waits while another writer holds it.
    ///
    /// # Errors
    /// The store failed.
    fn lease(
        &self,
        after_seq: u64,
    ) -> Result<(Box<dyn JournalLease + '_>, Vec<RawRecord>), StoreError>;
}

/// The journal's write lock. Dropped without `commit`, it is released with nothing written.
pub trait JournalLease {
    /// Appends the records (which continue the journal as the lease found it) and their
    /// entries, atomically and durably, and releases the lock.
    ///
    /// # Errors
    /// The store failed: nothing was written.
    fn commit(
        self: Box<Self>,
        records: &[RawRecord],
        entries: &[AccountEntry],
    ) -> Result<(), StoreError>;
}
