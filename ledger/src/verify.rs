//! The offline auditor behind `treatfirst verify`: it trusts nothing the writer computed.
//!
//! It walks the journal checking the hash chain, re-adds every movement into balances of its
//! own (a fold independent of the state machine), replays the state machine, and checks that
//! - every record is well formed (no zero movement, no account on both sides),
//! - the whole journal balances, and so do all accounts together,
//! - every account's balance equals the sum of its entries, both in the replayed state and
//!   in the per-account entry index.

use std::collections::HashMap;

use crate::accounts::Balances;
use crate::engine::StateMachine;
use crate::journal::{JournalStore, RecordHash, GENESIS_HASH};
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
    compare_balances(&machine, &folded, store, &mut report);
    report.problems.extend(machine.check_invariants());
    report
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
