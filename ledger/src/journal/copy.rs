//! Copying a journal from one store to another (`treatfirst migrate`): the embedded store
//! into the shared one when a scheme outgrows one machine.
//!
//! Records are copied byte for byte (same sequence numbers, times, hashes and payloads), so
//! the copy's hash chain ends on the same hash. Account entries are not read from the source
//! but rebuilt by replaying each record through the state machine, exactly as the writer
//! made them: the entries are a projection of the records.

use super::{AccountEntry, JournalKind, JournalStore, RawRecord, RecordHash, StoreError};
use crate::engine::StateMachine;
use crate::verify::{recognise, RecogniseError};

/// Records appended to the target per transaction.
const COPY_BATCH_RECORDS: usize = 2_048;

/// What a copy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    pub kind: JournalKind,
    pub records: u64,
    pub entries: u64,
    /// The hash the copied chain ends on (the source's).
    pub head_hash: RecordHash,
}

/// Why a copy did not happen or stopped.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Source(#[from] RecogniseError),
    #[error("the target already holds a journal ({records} records): copy only into an empty one")]
    TargetNotEmpty { records: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("record {seq} does not decode: {reason}")]
    Decode { seq: u64, reason: String },
}

/// Copies every record of `from` into the empty store `to`, with the account entries each
/// one makes, and marks the target with the source's journal kind.
///
/// # Errors
/// The source is empty or not recognised, the target is not empty, a record does not
/// decode, or a store failed (records already appended stay: the target then holds a
/// prefix of the source, and a retry needs an empty target again).
pub fn copy_journal(
    from: &dyn JournalStore,
    to: &dyn JournalStore,
) -> Result<CopyReport, CopyError> {
    if let Some(last) = to.last_record()? {
        return Err(CopyError::TargetNotEmpty { records: last.seq });
    }
    let (kind, _) = recognise(from)?;
    let report = match kind {
        JournalKind::Ledger => copy_as::<crate::Books>(from, to, kind)?,
        JournalKind::Scheme => copy_as::<crate::scheme::Scheme>(from, to, kind)?,
    };
    if let Some(marker) = to.kind_marker() {
        marker.write_kind(kind)?;
    }
    Ok(report)
}

fn copy_as<M: StateMachine + Default>(
    from: &dyn JournalStore,
    to: &dyn JournalStore,
    kind: JournalKind,
) -> Result<CopyReport, CopyError> {
    let mut machine = M::default();
    let mut report = CopyReport {
        kind,
        records: 0,
        entries: 0,
        head_hash: super::GENESIS_HASH,
    };
    let mut records: Vec<RawRecord> = Vec::with_capacity(COPY_BATCH_RECORDS);
    let mut entries: Vec<AccountEntry> = Vec::new();
    for record in from.records_from(1) {
        let record = record?;
        let change: M::Change =
            postcard::from_bytes(&record.payload).map_err(|error| CopyError::Decode {
                seq: record.seq,
                reason: error.to_string(),
            })?;
        machine.replay(&change, record.timestamp);
        machine.journal_entries(&change, record.seq, record.timestamp, &mut entries);
        report.head_hash = record.hash();
        records.push(record);
        if records.len() == COPY_BATCH_RECORDS {
            append(to, &mut records, &mut entries, &mut report)?;
        }
    }
    append(to, &mut records, &mut entries, &mut report)?;
    Ok(report)
}

fn append(
    to: &dyn JournalStore,
    records: &mut Vec<RawRecord>,
    entries: &mut Vec<AccountEntry>,
    report: &mut CopyReport,
) -> Result<(), CopyError> {
    if records.is_empty() {
        return Ok(());
    }
    to.append(records, entries)?;
    report.records += records.len() as u64;
    report.entries += entries.len() as u64;
    records.clear();
    entries.clear();
    Ok(())
}
