//! The journal: an append-only, hash-chained sequence of records, and the storage it lives in.
//!
//! A record holds one change of the state machine, the time it was applied and the hash of
//! the previous record. Records are appended a commit group at a time, atomically and durably
//! (see [`JournalStore::append`]).

mod copy;
mod kind;
mod postgres_store;
mod record;
mod sled_store;
mod sled_sync;
mod store;

pub use copy::{copy_journal, CopyError, CopyReport};
pub use kind::{marked_kind, JournalKind, KindMarker, MarkedKind, SLED_KIND_KEY};
pub use postgres::Config as PostgresConfig;
pub use postgres_store::{PostgresLease, PostgresStore, ScratchDatabase, StoredAccessToken};
pub use record::{chain_hash, RawRecord, RecordHash, GENESIS_HASH};
pub use sled_store::SledStore;
pub use sled_sync::SledSync;
pub use store::{AccountEntry, EntrySide, JournalLease, JournalStore, SharedJournal, StoreError};
