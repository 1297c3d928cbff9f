//! The offline auditor behind `treatfirst verify`: it trusts nothing the writer computed.
//!
//! It walks the journal checking the hash chain, re-adds every movement into balances of its
//! own (a fold independent of the state machine), replays the state machine, and checks that
//! - every record is well formed (no zero movement, no account on both sides),
//! - the whole journal balances, and so do all accounts together,
//! - every account's balance equals the sum of its entries, both in the replayed state and
//!   in the per-account entry index.
//!
//! [`verify_journal`] first establishes which state machine wrote the journal: from the
//! store's marker when it keeps one, otherwise from the records (the first ones must decode
//! exactly, with no byte left over, as the changes of one state machine and not the other).

use std::collections::HashMap;

use crate::accounts::Balances;
use crate::engine::StateMachine;
use serde::de::DeserializeOwned;

use crate::journal::{
    marked_kind, JournalKind, JournalStore, MarkedKind, RecordHash, StoreError, GENESIS_HASH,
};
use crate::transfers::{Movement, Phase};
use crate::{AccountId, Money, Timestamp};

/// A state machine the auditor can check.
pub trait Audited: StateMachine + Default {
    /// The movements of a change, in order.
    fn change_movements(change: &Self::Change) -> Vec<&Movement>;
    /// The balances of every account, as the replayed state holds them.
    fn all_balances(&self) -> Vec<(AccountId, Balances)>;
    /// Domain invariants beyond double entry (limits, accumulators, ...).
    fn check_invariants(&self) -> Vec<String>;
}

/// What the auditor found.
#[derive(Debug, Default)]
pub struct VerifyReport {
    pub records: u64,
    pub movements: u64,
    pub accounts: usize,
    pub posted_total: Money,
    pub last_timestamp: Timestamp,
    pub head_hash: RecordHash,
    /// Every violation found (empty when the ledger is sound).
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The most problems listed before the auditor stops looking.
pub const PROBLEMS_MAX: usize = 100;

/// How the kind of a journal was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindSource {
    /// The store's marker, written when the engine first opened the journal.
    Marker,
    /// The first records decode as this kind's changes only.
    Records,
}

impl KindSource {
    pub const fn as_str(self) -> &'static str {
        match self {
            KindSource::Marker => "marker",
            KindSource::Records => "records",
        }
    }
}

/// Why the auditor cannot tell which state machine wrote a journal.
#[derive(Debug, thiserror::Error)]
pub enum RecogniseError {
    #[error("the journal is empty: no records to verify")]
    Empty,
    #[error("the journal is marked as a {0:?} journal, a kind this version does not know")]
    UnknownMarker(String),
    #[error("cannot tell which state machine wrote the journal: {0}")]
    Unrecognised(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A verified journal: its kind, how the kind was known, and the audit.
#[derive(Debug)]
pub struct JournalVerification {
    pub kind: JournalKind,
    pub source: KindSource,
    pub report: VerifyReport,
}

/// How many records, from the first, recognition decodes (without a marker).
pub const RECOGNITION_SAMPLE: usize = 16;

/// Which state machine wrote the journal in `store`.
///
/// # Errors
/// The journal has no marker and no record, its marker names an unknown kind, or its first
/// records decode as no kind (or as both).
pub fn recognise(store: &dyn JournalStore) -> Result<(JournalKind, KindSource), RecogniseError> {
    match marked_kind(store)? {
        MarkedKind::Marked(kind) => return Ok((kind, KindSource::Marker)),
        MarkedKind::Unknown(name) => return Err(RecogniseError::UnknownMarker(name)),
        MarkedKind::Unmarked => {}
    }
    let mut payloads = Vec::new();
    for record in store.records_from(1).take(RECOGNITION_SAMPLE) {
        match record {
            Ok(record) => payloads.push(record.payload),
            // What can be read decides; the audit reports the unreadable record.
            Err(_) if !payloads.is_empty() => break,
            Err(error) => {
                return Err(RecogniseError::Unrecognised(format!(
                    "record 1 cannot be read: {error}"
                )))
            }
        }
    }
    if payloads.is_empty() {
        return Err(RecogniseError::Empty);
    }
    // How many records, from the first, decode exactly as each kind's changes.
    let leading = |decodes: fn(&[u8]) -> bool| {
        payloads
            .iter()
            .take_while(|payload| decodes(payload))
            .count()
    };
    let as_ledger = leading(decodes_exactly::<crate::LedgerChange>);
    let as_scheme = leading(decodes_exactly::<crate::scheme::SchemeChange>);
    match as_ledger.cmp(&as_scheme) {
        std::cmp::Ordering::Greater => Ok((JournalKind::Ledger, KindSource::Records)),
        std::cmp::Ordering::Less => Ok((JournalKind::Scheme, KindSource::Records)),
        std::cmp::Ordering::Equal if as_ledger == 0 => Err(RecogniseError::Unrecognised(
            "record 1 decodes as neither a ledger nor a scheme change".to_owned(),
        )),
        std::cmp::Ordering::Equal => Err(RecogniseError::Unrecognised(format!(
            "the first {as_ledger} records decode both as ledger and as scheme changes"
        ))),
    }
}

fn decodes_exactly<C: DeserializeOwned>(payload: &[u8]) -> bool {
    matches!(postcard::take_from_bytes::<C>(payload), Ok((_, rest)) if rest.is_empty())
}

/// Recognises the journal's kind (see [`recognise`]) and audits it as that kind.
///
/// # Errors
/// See [`recognise`].
pub fn verify_journal(store: &dyn JournalStore) -> Result<JournalVerification, RecogniseError> {
    let (kind, source) = recognise(store)?;
    let report = match kind {
        JournalKind::Ledger => verify::<crate::Books>(store),
        JournalKind::Scheme => verify::<crate::scheme::Scheme>(store),
    };
    Ok(JournalVerification {
        kind,
        source,
        report,
    })
}

/// Audits the journal in `store` for state machine `M`.
pub fn verify<M: Audited>(store: &dyn JournalStore) -> VerifyReport {
    let mut report = VerifyReport {
        head_hash: GENESIS_HASH,
        ..VerifyReport::default()
    };
    let mut machine = M::default();
    let mut folded: HashMap<AccountId, Balances> = HashMap::new();
    let mut expected_seq = 1;
    for record in store.records_from(1) {
        if report.problems.len() >= PROBLEMS_MAX {
            break;
        }
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                report
                    .problems
                    .push(format!("cannot read record {expected_seq}: {error}"));
                break;
            }
        };
        if record.seq != expected_seq {
            report.problems.push(format!(
                "record {} follows record {}: a gap",
                record.seq,
                expected_seq - 1
            ));
        }
        if record.prev_hash != report.head_hash {
            report.problems.push(format!(
                "record {}: hash chain broken (prev_hash does not match)",
                record.seq
            ));
        }
        if record.timestamp < report.last_timestamp {
            report
                .problems
                .push(format!("record {}: time goes backwards", record.seq));
        }
        let change: M::Change = match postcard::from_bytes(&record.payload) {
            Ok(change) => change,
            Err(error) => {
                report
                    .problems
                    .push(format!("record {} does not decode: {error}", record.seq));
                break;
            }
        };
        let movements = M::change_movements(&change);
        check_record_balances(record.seq, &movements, &mut report.problems);
        for movement in &movements {
            if let Err(problem) = fold(&mut folded, movement) {
                report
                    .problems
                    .push(format!("record {}: {problem}", record.seq));
            }
        }
        report.movements += movements.len() as u64;
        machine.replay(&change, record.timestamp);
        report.records += 1;
        report.head_hash = record.hash();
        report.last_timestamp = record.timestamp;
        expected_seq = record.seq + 1;
    }
    check_recorded_head(store, expected_seq - 1, &mut report);
    compare_balances(&machine, &folded, store, &mut report);
    report.problems.extend(machine.check_invariants());
    report
}

/// A store that keeps the journal's head apart from the records (the shared store) must
/// point at the record the chain actually ends on: a head behind the records would let a
/// node overwrite them, one ahead means records are missing.
fn check_recorded_head(store: &dyn JournalStore, last_seq: u64, report: &mut VerifyReport) {
    if report.problems.len() >= PROBLEMS_MAX {
        return;
    }
    match store.recorded_head() {
        Ok(None) => {}
        Ok(Some((seq, hash))) => {
            if seq != last_seq || hash != report.head_hash {
                report.problems.push(format!(
                    "the journal head says record {seq} (hash {}), but the chain ends at record \
                     {} (hash {})",
                    hex::encode(hash),
                    last_seq,
                    hex::encode(report.head_hash)
                ));
            }
        }
        Err(error) => report
            .problems
            .push(format!("cannot read the journal head: {error}")),
    }
}

/// A movement carries one amount for both of its sides, so a record balances by
/// construction; what can still be wrong in a stored record is checked here: no empty
/// movement, no account on both sides. Debits against credits are compared over the whole
/// ledger from the independent fold (see `compare_balances`).
fn check_record_balances(seq: u64, movements: &[&Movement], problems: &mut Vec<String>) {
    if movements.iter().any(|movement| movement.amount.is_zero()) {
        problems.push(format!("record {seq}: a movement of zero"));
    }
    if let Some(movement) = movements
        .iter()
        .find(|movement| movement.debit == movement.credit)
    {
        problems.push(format!(
            "record {seq}: {} is debited and credited by one movement",
            movement.debit
        ));
    }
}

fn fold(folded: &mut HashMap<AccountId, Balances>, movement: &Movement) -> Result<(), String> {
    for (account, is_debit) in [(&movement.debit, true), (&movement.credit, false)] {
        let balances = folded.entry(account.clone()).or_default();
        let (pending, posted) = if is_debit {
            (&mut balances.debits_pending, &mut balances.debits_posted)
        } else {
            (&mut balances.credits_pending, &mut balances.credits_posted)
        };
        let target = match movement.phase {
            Phase::Posted => posted.checked_add(movement.amount).map(|sum| (true, sum)),
            Phase::Held => pending.checked_add(movement.amount).map(|sum| (false, sum)),
            Phase::Released => pending
                .checked_sub(movement.amount)
                .map(|rest| (false, rest)),
        };
        match target {
            Some((true, value)) => *posted = value,
            Some((false, value)) => *pending = value,
            None => {
                return Err(format!(
                    "{account}: {:?} of {} leaves the balance out of range",
                    movement.phase, movement.amount
                ))
            }
        }
    }
    Ok(())
}

fn compare_balances<M: Audited>(
    machine: &M,
    folded: &HashMap<AccountId, Balances>,
    store: &dyn JournalStore,
    report: &mut VerifyReport,
) {
    let replayed = machine.all_balances();
    report.accounts = replayed.len();
    let (mut debits_posted, mut credits_posted, mut debits_pending, mut credits_pending) =
        (0u128, 0u128, 0u128, 0u128);
    for (account, balances) in &replayed {
        let from_entries = folded.get(account).copied().unwrap_or_default();
        if *balances != from_entries {
            report.problems.push(format!(
                "{account}: balance {balances:?} != sum of its journal entries {from_entries:?}"
            ));
        }
        match store.last_entry_at(account, Timestamp::from_micros(i64::MAX)) {
            Ok(Some(entry)) if entry.balances_after != *balances => {
                report.problems.push(format!(
                    "{account}: entry index ends at {:?}, balance is {balances:?}",
                    entry.balances_after
                ));
            }
            Ok(None) if *balances != Balances::default() => {
                report
                    .problems
                    .push(format!("{account}: has a balance but no entries"));
            }
            Err(error) => report
                .problems
                .push(format!("{account}: cannot read entries: {error}")),
            Ok(_) => {}
        }
        debits_posted += u128::from(balances.debits_posted.fen());
        credits_posted += u128::from(balances.credits_posted.fen());
        debits_pending += u128::from(balances.debits_pending.fen());
        credits_pending += u128::from(balances.credits_pending.fen());
    }
    if folded.len() > replayed.len() {
        report
            .problems
            .push("movements touch accounts the state does not know".to_owned());
    }
    if debits_posted != credits_posted {
        report.problems.push(format!(
            "all accounts: posted debits {debits_posted} != posted credits {credits_posted} (fen)"
        ));
    }
    if debits_pending != credits_pending {
        report.problems.push(format!("all accounts: pending debits {debits_pending} != pending credits {credits_pending} (fen)"));
    }
    report.posted_total = u64::try_from(debits_posted)
        .ok()
        .and_then(|fen| Money::from_fen(fen).ok())
        .unwrap_or(Money::MAX);
}

impl Audited for crate::Books {
    fn change_movements(change: &crate::LedgerChange) -> Vec<&Movement> {
        change.movements().collect()
    }

    fn all_balances(&self) -> Vec<(AccountId, Balances)> {
        self.accounts()
            .map(|account| (account.id.clone(), account.balances))
            .collect()
    }

    fn check_invariants(&self) -> Vec<String> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::engine::{Engine, EngineError};
    use crate::journal::{AccountEntry, KindMarker, RawRecord, SledStore};
    use crate::{AccountSpec, ManualClock};

    /// A sled store that keeps a kind marker (in a tree of a second database), as a store
    /// with the marker hook does.
    struct MarkedStore {
        journal: SledStore,
        _database: sled::Db,
        marker: sled::Tree,
    }

    impl MarkedStore {
        fn open(directory: &std::path::Path) -> MarkedStore {
            let database = sled::open(directory.join("marker")).unwrap();
            MarkedStore {
                journal: SledStore::open(&directory.join("journal")).unwrap(),
                marker: database.open_tree("ledger").unwrap(),
                _database: database,
            }
        }
    }

    impl JournalStore for MarkedStore {
        fn last_record(&self) -> Result<Option<RawRecord>, StoreError> {
            self.journal.last_record()
        }

        fn records_from(
            &self,
            from_seq: u64,
        ) -> Box<dyn Iterator<Item = Result<RawRecord, StoreError>> + '_> {
            self.journal.records_from(from_seq)
        }

        fn append(
            &self,
            records: &[RawRecord],
            entries: &[AccountEntry],
        ) -> Result<(), StoreError> {
            self.journal.append(records, entries)
        }

        fn account_entries(
            &self,
            account: &AccountId,
            after: Option<(u64, u16)>,
            limit: usize,
        ) -> Result<Vec<AccountEntry>, StoreError> {
            self.journal.account_entries(account, after, limit)
        }

        fn last_entry_at(
            &self,
            account: &AccountId,
            at: Timestamp,
        ) -> Result<Option<AccountEntry>, StoreError> {
            self.journal.last_entry_at(account, at)
        }

        fn size_on_disk(&self) -> Option<u64> {
            None
        }

        fn kind_marker(&self) -> Option<&dyn KindMarker> {
            Some(&self.marker)
        }
    }

    fn clock() -> Arc<ManualClock> {
        Arc::new(ManualClock::new(Timestamp::from_seconds(1_800_000_000)))
    }

    #[test]
    fn the_engine_marks_its_journal_and_refuses_another_kind() {
        let directory = tempfile::tempdir().unwrap();
        let store: Arc<dyn JournalStore> = Arc::new(MarkedStore::open(directory.path()));
        // Even an empty journal is known by its marker once an engine opened it.
        drop(Engine::open(Arc::clone(&store), crate::Books::new(), clock()).unwrap());
        let verification = verify_journal(store.as_ref()).unwrap();
        assert_eq!(verification.kind, JournalKind::Ledger);
        assert_eq!(verification.source, KindSource::Marker);
        assert_eq!(verification.report.records, 0);
        match Engine::open(
            Arc::clone(&store),
            crate::scheme::Scheme::default(),
            clock(),
        ) {
            Err(EngineError::WrongJournalKind { found, expected }) => {
                assert_eq!((found.as_str(), expected), ("ledger", JournalKind::Scheme));
            }
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("a ledger journal opened as a scheme"),
        }
    }

    #[test]
    fn an_unmarked_journal_is_recognised_from_its_records_then_marked() {
        let directory = tempfile::tempdir().unwrap();
        let sled_store = Arc::new(SledStore::open(&directory.path().join("journal")).unwrap());
        let ledger =
            crate::Ledger::with_store(Arc::clone(&sled_store) as Arc<dyn JournalStore>, clock())
                .unwrap();
        ledger
            .open_account(AccountSpec {
                id: AccountId::new("scheme:cash").unwrap(),
                limit: crate::AccountLimit::Unbounded,
            })
            .unwrap()
            .unwrap();
        // The sled store keeps the marker; a journal written before markers existed has none.
        assert!(matches!(
            recognise(ledger.engine().store().as_ref()),
            Ok((JournalKind::Ledger, KindSource::Marker))
        ));
        let tree = sled_store.database().open_tree("ledger").unwrap();
        tree.remove(crate::journal::SLED_KIND_KEY).unwrap();
        drop(tree);
        assert!(matches!(
            recognise(ledger.engine().store().as_ref()),
            Ok((JournalKind::Ledger, KindSource::Records))
        ));
        drop(sled_store);
        drop(ledger);
        // `SledStore::open` waits for sled to release the lock of the dropped ledger.
        let store = Arc::new(MarkedStore::open(directory.path()));
        assert!(matches!(
            recognise(store.as_ref()),
            Ok((JournalKind::Ledger, KindSource::Records))
        ));
        drop(
            Engine::open(
                Arc::clone(&store) as Arc<dyn JournalStore>,
                crate::Books::new(),
                clock(),
            )
            .unwrap(),
        );
        assert!(matches!(
            recognise(store.as_ref()),
            Ok((JournalKind::Ledger, KindSource::Marker))
        ));
        assert_eq!(verify_journal(store.as_ref()).unwrap().report.records, 1);
    }
}
