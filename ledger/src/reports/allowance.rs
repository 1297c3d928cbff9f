//! The allowance roll-forward, from the journal's entries on `scheme:allowance` and
//! `scheme:recoveries`.

use serde::Serialize;

use super::add;
use crate::journal::{AccountEntry, EntrySide, JournalStore, StoreError};
use crate::scheme::chart::{self, TransferKind};
use crate::transfers::Phase;
use crate::{AccountId, Money, Timestamp};

/// Entries read per page of the store.
const ENTRIES_PER_PAGE: usize = 10_000;

/// `opening + charge − released_on_recovery − released_on_refund − write_offs +
/// recoveries_to_allowance = closing` over `[from, to)`.
///
/// In this chart a repayment of a defaulted visit releases its provision (allowance debited,
/// recoveries credited), and a repayment of a written-off visit is income straight away
/// (`recoveries_to_income`): nothing is credited back to the allowance, so
/// `recoveries_to_allowance` is zero, shown so the identity reads as finance expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AllowanceRollForward {
    pub from: Timestamp,
    pub to: Timestamp,
    pub opening: Money,
    /// Provisions for visits that defaulted (credit-loss expense).
    pub charge: Money,
    /// Provisions released because a defaulted visit was repaid.
    pub released_on_recovery: Money,
    /// Provisions released because a defaulted visit's charge was refunded.
    pub released_on_refund: Money,
    pub write_offs: Money,
    pub recoveries_to_allowance: Money,
    pub closing: Money,
    /// Repayments of written-off visits in the period (credited to `scheme:recoveries`).
    pub recoveries_to_income: Money,
}

/// Every entry of `account` recorded before `to`, oldest first.
fn entries_before(
    store: &dyn JournalStore,
    account: &AccountId,
    to: Timestamp,
) -> Result<Vec<AccountEntry>, StoreError> {
    let mut entries = Vec::new();
    let mut after = None;
    loop {
        let page = store.account_entries(account, after, ENTRIES_PER_PAGE)?;
        let full = page.len() == ENTRIES_PER_PAGE;
        if let Some(last) = page.last() {
            after = Some((last.seq, last.index));
        }
        let before: Vec<AccountEntry> = page
            .into_iter()
            .filter(|entry| entry.timestamp < to)
            .collect();
        let stop = !full || before.len() < ENTRIES_PER_PAGE;
        entries.extend(before);
        if stop {
            return Ok(entries);
        }
    }
}

/// The allowance roll-forward over `[from, to)` (journal times).
///
/// # Errors
/// The store could not be read.
///
/// # Panics
/// When the identity does not hold or an allowance entry is of an unknown kind (a ledger
/// that breaks the chart of accounts).
pub fn allowance_roll_forward(
    store: &dyn JournalStore,
    from: Timestamp,
    to: Timestamp,
) -> Result<AllowanceRollForward, StoreError> {
    let mut report = AllowanceRollForward {
        from,
        to,
        opening: Money::ZERO,
        charge: Money::ZERO,
        released_on_recovery: Money::ZERO,
        released_on_refund: Money::ZERO,
        write_offs: Money::ZERO,
        recoveries_to_allowance: Money::ZERO,
        closing: Money::ZERO,
        recoveries_to_income: Money::ZERO,
    };
    let mut opening: i128 = 0;
    let mut closing_from_books = Money::ZERO;
    for entry in entries_before(store, &chart::allowance(), to)? {
        assert_eq!(entry.phase, Phase::Posted, "the allowance is never held");
        closing_from_books = entry.balances_after.posted(crate::Normal::Credit);
        if entry.timestamp < from {
            opening += signed(&entry);
            continue;
        }
        let kind = entry.transfer_id.as_ref().and_then(TransferKind::of);
        let line = match (kind, entry.side) {
            (Some(TransferKind::Provision), EntrySide::Credit) => &mut report.charge,
            (Some(TransferKind::WriteOff), EntrySide::Debit) => &mut report.write_offs,
            (Some(TransferKind::Payment), EntrySide::Debit) => &mut report.released_on_recovery,
            (Some(TransferKind::Refund), EntrySide::Debit) => &mut report.released_on_refund,
            (kind, side) => panic!("an allowance entry of kind {kind:?} on the {side:?} side"),
        };
        *line = add(*line, entry.amount);
    }
    report.opening =
        Money::from_fen(u64::try_from(opening).expect("credit-normal")).expect("bounded");
    let mut recoveries = Money::ZERO;
    for entry in entries_before(store, &chart::recoveries(), to)? {
        if entry.timestamp >= from && entry.side == EntrySide::Credit {
            recoveries = add(recoveries, entry.amount);
        }
    }
    report.recoveries_to_income = recoveries
        .checked_sub(report.released_on_recovery)
        .expect("every release is credited to recoveries");
    let closing = i128::from(report.opening.fen()) + i128::from(report.charge.fen())
        - i128::from(report.released_on_recovery.fen())
        - i128::from(report.released_on_refund.fen())
        - i128::from(report.write_offs.fen())
        + i128::from(report.recoveries_to_allowance.fen());
    report.closing =
        Money::from_fen(u64::try_from(closing).expect("credit-normal")).expect("bounded");
    assert_eq!(
        report.closing, closing_from_books,
        "the roll-forward ends at the balance the books recorded"
    );
    Ok(report)
}

fn signed(entry: &AccountEntry) -> i128 {
    let amount = i128::from(entry.amount.fen());
    match entry.side {
        EntrySide::Credit => amount,
        EntrySide::Debit => -amount,
    }
}
