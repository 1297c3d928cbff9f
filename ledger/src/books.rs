//! The books: accounts and transfers in memory, changed only by the pure functions here.
//!
//! Every accepted request becomes a [`LedgerChange`] that the engine journals; replaying the
//! journal's changes in order rebuilds exactly the same books. Nothing here reads the clock or
//! does IO: time comes in as a parameter.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::accounts::{Account, AccountLimit, AccountSpec, Balances};
use crate::growing_map::GrowingMap;
use crate::transfers::{
    AccountRejection, Leg, Movement, Phase, Rejection, TransferAction, TransferOutcome,
    TransferRequest, TransferStatus, HOLD_TIMEOUT_SECONDS_MAX, LEGS_PER_TRANSFER_MAX,
    TRANSFERS_PER_CHAIN_MAX,
};
use crate::{AccountId, Money, Timestamp, TransferId};

/// A transfer as the books remember it: enough to answer replays, post or void holds and
/// reverse postings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTransfer {
    pub action: TransferAction,
    pub created_at: Timestamp,
    pub status: TransferStatus,
    /// The legs as they moved balances when they differ from the request's (posts of holds,
    /// reversals); empty for posts and holds, whose legs are the action's, so the index does
    /// not keep them twice. Read through [`StoredTransfer::effective_legs`].
    moved_legs: Vec<Leg>,
    pub expires_at: Option<Timestamp>,
}

impl StoredTransfer {
    /// The legs as they moved posted balances (posts, partial posts, reversals) or pending
    /// balances (holds).
    pub fn effective_legs(&self) -> &[Leg] {
        match &self.action {
            TransferAction::Post { legs } | TransferAction::Hold { legs, .. } => legs,
            _ => &self.moved_legs,
        }
    }
}

/// One accepted transfer as the journal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferEffect {
    pub request: TransferRequest,
    pub movements: Vec<Movement>,
}

/// A change to the books: the unit of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LedgerChange {
    AccountOpened(AccountSpec),
    LimitChanged {
        account: AccountId,
        limit: AccountLimit,
    },
    /// One transfer, or a linked chain applied all or nothing.
    Transfers(Vec<TransferEffect>),
    /// A hold that reached its timeout, released.
    Expired {
        pending_id: TransferId,
        movements: Vec<Movement>,
    },
}

impl LedgerChange {
    /// Every movement of the change, in order.
    pub fn movements(&self) -> impl Iterator<Item = &Movement> {
        let (effects, expired): (&[TransferEffect], &[Movement]) = match self {
            LedgerChange::Transfers(effects) => (effects, &[]),
            LedgerChange::Expired { movements, .. } => (&[], movements),
            LedgerChange::AccountOpened(_) | LedgerChange::LimitChanged { .. } => (&[], &[]),
        };
        effects
            .iter()
            .flat_map(|effect| effect.movements.iter())
            .chain(expired.iter())
    }
}

/// What undoing part of a linked chain needs.
#[derive(Default)]
struct UndoLog {
    balances: Vec<(AccountId, Balances)>,
    transfers: Vec<(TransferId, Option<StoredTransfer>)>,
}

/// Accounts and transfers.
#[derive(Debug, Default, Clone)]
pub struct Books {
    accounts: HashMap<AccountId, Account>,
    /// Every transfer ever accepted, by id: the idempotency index.
    transfers: GrowingMap<TransferId, StoredTransfer>,
    /// Holds by deadline, so expiry never scans every transfer.
    expiries: BTreeSet<(Timestamp, TransferId)>,
}

impl Books {
    pub fn new() -> Books {
        Books::default()
    }

    pub fn account(&self, id: &AccountId) -> Option<&Account> {
        self.accounts.get(id)
    }

    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.values()
    }

    pub fn stored_transfer(&self, id: &TransferId) -> Option<&StoredTransfer> {
        self.transfers.get(id)
    }

    pub fn transfer_count(&self) -> usize {
        self.transfers.len()
    }

    pub fn pending_count(&self) -> usize {
        self.expiries.len()
    }

    /// Opens an account; opening it again with the same limit is a replay (`Ok(None)`).
    ///
    /// # Errors
    /// The account exists with a different limit.
    pub fn open_account(
        &mut self,
        spec: AccountSpec,
    ) -> Result<Option<LedgerChange>, AccountRejection> {
        if let Some(existing) = self.accounts.get(&spec.id) {
            if existing.limit != spec.limit {
                return Err(AccountRejection::ExistsWithDifferentLimit);
            }
            return Ok(None);
        }
        let change = LedgerChange::AccountOpened(spec);
        self.apply(&change, Timestamp::EPOCH);
        Ok(Some(change))
    }

    /// Changes an account's limit (a credit line raised or lowered). A lower limit never
    /// rejects what is already booked: it only bounds what comes next.
    ///
    /// # Errors
    /// The account does not exist.
    pub fn set_limit(
        &mut self,
        account: &AccountId,
        limit: AccountLimit,
    ) -> Result<Option<LedgerChange>, AccountRejection> {
        let existing = self
            .accounts
            .get(account)
            .ok_or(AccountRejection::AccountNotFound)?;
        if existing.limit == limit {
            return Ok(None);
        }
        let change = LedgerChange::LimitChanged {
            account: account.clone(),
            limit,
        };
        self.apply(&change, Timestamp::EPOCH);
        Ok(Some(change))
    }

    /// Executes one transfer at `now`. `Ok((outcome, None))` is a replay.
    ///
    /// # Errors
    /// The first [`Rejection`] in the documented order; nothing changes.
    pub fn transfer(
        &mut self,
        request: TransferRequest,
        now: Timestamp,
    ) -> Result<(TransferOutcome, Option<LedgerChange>), Rejection> {
        let mut undo = UndoLog::default();
        let (outcome, effect) = self.execute_one(request, now, &mut undo)?;
        Ok((
            outcome,
            effect.map(|effect| LedgerChange::Transfers(vec![effect])),
        ))
    }

    /// Executes a linked chain: every transfer applies, or none does.
    ///
    /// # Errors
    /// The index of the first failing transfer and its rejection; nothing changes.
    pub fn transfer_chain(
        &mut self,
        requests: Vec<TransferRequest>,
        now: Timestamp,
    ) -> Result<(Vec<TransferOutcome>, Option<LedgerChange>), (usize, Rejection)> {
        if requests.is_empty() {
            return Err((0, Rejection::LegsMustNotBeEmpty));
        }
        if requests.len() > TRANSFERS_PER_CHAIN_MAX {
            return Err((TRANSFERS_PER_CHAIN_MAX, Rejection::LegsExceedMaximum));
        }
        let mut undo = UndoLog::default();
        let mut outcomes = Vec::with_capacity(requests.len());
        let mut effects = Vec::new();
        for (index, request) in requests.into_iter().enumerate() {
            match self.execute_one(request, now, &mut undo) {
                Ok((outcome, effect)) => {
                    outcomes.push(outcome);
                    effects.extend(effect);
                }
                Err(rejection) => {
                    self.rollback(undo);
                    return Err((index, rejection));
                }
            }
        }
        let change = (!effects.is_empty()).then_some(LedgerChange::Transfers(effects));
        Ok((outcomes, change))
    }

    /// Releases the next hold whose deadline is at or before `now`, if any. Called until it
    /// returns `None`, one journal record per expiry.
    pub fn expire_next(&mut self, now: Timestamp) -> Option<LedgerChange> {
        let (deadline, pending_id) = self.expiries.first().cloned()?;
        if deadline > now {
            return None;
        }
        let movements = moved(
            self.transfers[&pending_id].effective_legs(),
            Phase::Released,
        );
        let change = LedgerChange::Expired {
            pending_id,
            movements,
        };
        self.apply(&change, now);
        Some(change)
    }

    /// Releases every hold whose deadline is at or before `now`.
    pub fn expire_due(&mut self, now: Timestamp) -> Vec<LedgerChange> {
        std::iter::from_fn(|| self.expire_next(now)).collect()
    }

    /// Applies a journaled change. Used on the execute path (after validation) and on replay.
    ///
    /// # Panics
    /// When the change does not fit the books: the journal and the books disagree, which is
    /// corruption, never a client error.
    pub fn apply(&mut self, change: &LedgerChange, at: Timestamp) {
        match change {
            LedgerChange::AccountOpened(spec) => {
                let account = Account {
                    id: spec.id.clone(),
                    limit: spec.limit,
                    balances: Balances::default(),
                };
                let previous = self.accounts.insert(spec.id.clone(), account);
                assert!(previous.is_none(), "account {} opened twice", spec.id);
            }
            LedgerChange::LimitChanged { account, limit } => {
                self.accounts
                    .get_mut(account)
                    .expect("limit of a known account")
                    .limit = *limit;
            }
            LedgerChange::Transfers(effects) => {
                for effect in effects {
                    self.move_balances(&effect.movements)
                        .expect("journaled movements fit");
                    self.record(&effect.request, &effect.movements, at);
                }
            }
            LedgerChange::Expired {
                pending_id,
                movements,
            } => {
                self.move_balances(movements)
                    .expect("journaled movements fit");
                let pending = self
                    .transfers
                    .get_mut(pending_id)
                    .expect("expired hold is known");
                assert_eq!(pending.status, TransferStatus::Pending);
                pending.status = TransferStatus::PendingExpired;
                let deadline = pending.expires_at.expect("a hold has a deadline");
                self.expiries.remove(&(deadline, pending_id.clone()));
            }
        }
    }

    fn execute_one(
        &mut self,
        request: TransferRequest,
        now: Timestamp,
        undo: &mut UndoLog,
    ) -> Result<(TransferOutcome, Option<TransferEffect>), Rejection> {
        validate_shape(&request.action)?;
        if let Some(existing) = self.transfers.get(&request.id) {
            compare_with_existing(&existing.action, &request.action)?;
            let outcome = TransferOutcome {
                id: request.id,
                created_at: existing.created_at,
                replayed: true,
            };
            return Ok((outcome, None));
        }
        let movements = self.resolve_movements(&request.action, now)?;
        self.check_balances(&movements)?;
        for account in touched_accounts(&movements) {
            undo.balances
                .push((account.clone(), self.accounts[account].balances));
        }
        undo.transfers.push((request.id.clone(), None));
        if let Some(referenced) = referenced_transfer(&request.action) {
            undo.transfers
                .push((referenced.clone(), self.transfers.get(referenced).cloned()));
        }
        self.move_balances(&movements)
            .expect("checked movements fit");
        self.record(&request, &movements, now);
        let outcome = TransferOutcome {
            id: request.id.clone(),
            created_at: now,
            replayed: false,
        };
        Ok((outcome, Some(TransferEffect { request, movements })))
    }

    fn rollback(&mut self, undo: UndoLog) {
        for (account, balances) in undo.balances.into_iter().rev() {
            self.accounts
                .get_mut(&account)
                .expect("undo of a known account")
                .balances = balances;
        }
        for (id, previous) in undo.transfers.into_iter().rev() {
            if let Some(current) = self.transfers.remove(&id) {
                if let Some(deadline) = current.expires_at {
                    self.expiries.remove(&(deadline, id.clone()));
                }
            }
            if let Some(previous) = previous {
                if let (Some(deadline), TransferStatus::Pending) =
                    (previous.expires_at, previous.status)
                {
                    self.expiries.insert((deadline, id.clone()));
                }
                self.transfers.insert(id, previous);
            }
        }
    }

    /// The movements a request makes, checking what it refers to.
    fn resolve_movements(
        &self,
        action: &TransferAction,
        now: Timestamp,
    ) -> Result<Vec<Movement>, Rejection> {
        match action {
            TransferAction::Post { legs } => {
                self.check_accounts_exist(legs)?;
                Ok(moved(legs, Phase::Posted))
            }
            TransferAction::Hold { legs, .. } => {
                self.check_accounts_exist(legs)?;
                Ok(moved(legs, Phase::Held))
            }
            TransferAction::PostPending {
                pending_id,
                amounts,
            } => {
                let pending = self.pending(pending_id, now)?;
                let posted_legs = posted_part(pending.effective_legs(), amounts.as_deref())?;
                let mut movements = moved(pending.effective_legs(), Phase::Released);
                movements.extend(moved(&posted_legs, Phase::Posted));
                Ok(movements)
            }
            TransferAction::VoidPending { pending_id } => {
                let pending = self.pending(pending_id, now)?;
                Ok(moved(pending.effective_legs(), Phase::Released))
            }
            TransferAction::Reverse { original_id } => {
                let original = self
                    .transfers
                    .get(original_id)
                    .ok_or(Rejection::OriginalTransferNotFound)?;
                match (&original.action, original.status) {
                    (_, TransferStatus::Reversed) => {
                        Err(Rejection::OriginalTransferAlreadyReversed)
                    }
                    (
                        TransferAction::Post { .. } | TransferAction::PostPending { .. },
                        TransferStatus::Posted,
                    ) => {
                        let reversed: Vec<Leg> = original
                            .effective_legs()
                            .iter()
                            .map(|leg| Leg {
                                debit: leg.credit.clone(),
                                credit: leg.debit.clone(),
                                amount: leg.amount,
                            })
                            .collect();
                        Ok(moved(&reversed, Phase::Posted))
                    }
                    _ => Err(Rejection::OriginalTransferNotPosted),
                }
            }
        }
    }

    fn pending(
        &self,
        pending_id: &TransferId,
        now: Timestamp,
    ) -> Result<&StoredTransfer, Rejection> {
        let pending = self
            .transfers
            .get(pending_id)
            .ok_or(Rejection::PendingTransferNotFound)?;
        match pending.status {
            TransferStatus::Pending
                if pending.expires_at.is_some_and(|deadline| deadline <= now) =>
            {
                Err(Rejection::PendingTransferExpired)
            }
            TransferStatus::Pending => Ok(pending),
            TransferStatus::PendingPosted => Err(Rejection::PendingTransferAlreadyPosted),
            TransferStatus::PendingVoided => Err(Rejection::PendingTransferAlreadyVoided),
            TransferStatus::PendingExpired => Err(Rejection::PendingTransferExpired),
            TransferStatus::Posted | TransferStatus::Reversed => {
                Err(Rejection::PendingTransferNotPending)
            }
        }
    }

    fn check_accounts_exist(&self, legs: &[Leg]) -> Result<(), Rejection> {
        for leg in legs {
            if !self.accounts.contains_key(&leg.debit) {
                return Err(Rejection::DebitAccountNotFound);
            }
            if !self.accounts.contains_key(&leg.credit) {
                return Err(Rejection::CreditAccountNotFound);
            }
        }
        Ok(())
    }

    /// Simulates the movements on copies of the touched accounts: no balance may overflow,
    /// and an account whose bounded side grows must end within its limit.
    fn check_balances(&self, movements: &[Movement]) -> Result<(), Rejection> {
        // Wide totals per touched account: limits are judged exactly even where a sum would
        // pass `Money::MAX`, and before overflow, in the documented order.
        let mut totals: Vec<(&AccountId, WideBalances)> = touched_accounts(movements)
            .map(|id| (id, WideBalances::of(&self.accounts[id].balances)))
            .collect();
        for movement in movements {
            for (account, side) in [
                (&movement.debit, Side::Debit),
                (&movement.credit, Side::Credit),
            ] {
                let (_, wide) = totals
                    .iter_mut()
                    .find(|(id, _)| *id == account)
                    .expect("touched account");
                wide.add(side, movement.phase, movement.amount);
            }
        }
        let limited =
            |wanted: fn(&AccountLimit) -> bool, exceeded: Rejection| -> Result<(), Rejection> {
                for (id, after) in &totals {
                    let account = &self.accounts[*id];
                    if wanted(&account.limit)
                        && after.breaks(&account.limit, &WideBalances::of(&account.balances))
                    {
                        return Err(exceeded.clone());
                    }
                }
                Ok(())
            };
        limited(
            |limit| matches!(limit, AccountLimit::DebitsWithinCredits { .. }),
            Rejection::ExceedsCredits,
        )?;
        limited(
            |limit| matches!(limit, AccountLimit::CreditsWithinDebits { .. }),
            Rejection::ExceedsDebits,
        )?;
        if totals.iter().any(|(_, after)| after.overflows()) {
            return Err(Rejection::OverflowsBalance);
        }
        Ok(())
    }

    fn move_balances(&mut self, movements: &[Movement]) -> Result<(), Rejection> {
        for movement in movements {
            let debit = &mut self
                .accounts
                .get_mut(&movement.debit)
                .expect("debit account")
                .balances;
            move_side(debit, Side::Debit, movement.phase, movement.amount)?;
            let credit = &mut self
                .accounts
                .get_mut(&movement.credit)
                .expect("credit account")
                .balances;
            move_side(credit, Side::Credit, movement.phase, movement.amount)?;
        }
        Ok(())
    }

    /// Remembers an accepted transfer and moves the status of what it refers to.
    fn record(&mut self, request: &TransferRequest, movements: &[Movement], at: Timestamp) {
        let (status, moved_legs, expires_at) = match &request.action {
            TransferAction::Post { .. } => (TransferStatus::Posted, Vec::new(), None),
            TransferAction::Hold {
                timeout_seconds, ..
            } => {
                let deadline = at.plus_seconds(i64::from(*timeout_seconds));
                self.expiries.insert((deadline, request.id.clone()));
                (TransferStatus::Pending, Vec::new(), Some(deadline))
            }
            TransferAction::PostPending { pending_id, .. } => {
                self.close_pending(pending_id, TransferStatus::PendingPosted);
                let posted = movements
                    .iter()
                    .filter(|movement| movement.phase == Phase::Posted)
                    .map(|movement| Leg::new(&movement.debit, &movement.credit, movement.amount))
                    .collect();
                (TransferStatus::Posted, posted, None)
            }
            TransferAction::VoidPending { pending_id } => {
                self.close_pending(pending_id, TransferStatus::PendingVoided);
                (TransferStatus::Posted, Vec::new(), None)
            }
            TransferAction::Reverse { original_id } => {
                let original = self
                    .transfers
                    .get_mut(original_id)
                    .expect("reversed transfer is known");
                assert_eq!(original.status, TransferStatus::Posted);
                original.status = TransferStatus::Reversed;
                let legs = movements
                    .iter()
                    .map(|movement| Leg::new(&movement.debit, &movement.credit, movement.amount))
                    .collect();
                (TransferStatus::Posted, legs, None)
            }
        };
        let stored = StoredTransfer {
            action: request.action.clone(),
            created_at: at,
            status,
            moved_legs,
            expires_at,
        };
        let previous = self.transfers.insert(request.id.clone(), stored);
        assert!(previous.is_none(), "transfer {} recorded twice", request.id);
    }

    fn close_pending(&mut self, pending_id: &TransferId, status: TransferStatus) {
        let pending = self
            .transfers
            .get_mut(pending_id)
            .expect("pending transfer is known");
        assert_eq!(pending.status, TransferStatus::Pending);
        pending.status = status;
        let deadline = pending.expires_at.expect("a hold has a deadline");
        self.expiries.remove(&(deadline, pending_id.clone()));
    }
}

#[derive(Clone, Copy)]
enum Side {
    Debit,
    Credit,
}

fn move_side(
    balances: &mut Balances,
    side: Side,
    phase: Phase,
    amount: Money,
) -> Result<(), Rejection> {
    let (pending, posted) = match side {
        Side::Debit => (&mut balances.debits_pending, &mut balances.debits_posted),
        Side::Credit => (&mut balances.credits_pending, &mut balances.credits_posted),
    };
    match phase {
        Phase::Posted => {
            *posted = posted
                .checked_add(amount)
                .ok_or(Rejection::OverflowsBalance)?
        }
        Phase::Held => {
            *pending = pending
                .checked_add(amount)
                .ok_or(Rejection::OverflowsBalance)?
        }
        Phase::Released => {
            *pending = pending
                .checked_sub(amount)
                .expect("a release never exceeds what is held");
        }
    }
    Ok(())
}

/// Balances in fen as u128: sums of bounded values never overflow it.
#[derive(Clone, Copy)]
struct WideBalances {
    debits_pending: u128,
    debits_posted: u128,
    credits_pending: u128,
    credits_posted: u128,
}

impl WideBalances {
    fn of(balances: &Balances) -> WideBalances {
        WideBalances {
            debits_pending: u128::from(balances.debits_pending.fen()),
            debits_posted: u128::from(balances.debits_posted.fen()),
            credits_pending: u128::from(balances.credits_pending.fen()),
            credits_posted: u128::from(balances.credits_posted.fen()),
        }
    }

    fn add(&mut self, side: Side, phase: Phase, amount: Money) {
        let amount = u128::from(amount.fen());
        let (pending, posted) = match side {
            Side::Debit => (&mut self.debits_pending, &mut self.debits_posted),
            Side::Credit => (&mut self.credits_pending, &mut self.credits_posted),
        };
        match phase {
            Phase::Posted => *posted += amount,
            Phase::Held => *pending += amount,
            Phase::Released => *pending -= amount,
        }
    }

    /// True when the bounded side grew from `before` and ends beyond its limit. A limit
    /// lowered below the current position never blocks movements that do not add to it.
    fn breaks(&self, limit: &AccountLimit, before: &WideBalances) -> bool {
        match *limit {
            AccountLimit::Unbounded => false,
            AccountLimit::DebitsWithinCredits { limit } => {
                let used = self.debits_pending + self.debits_posted;
                used > before.debits_pending + before.debits_posted
                    && used > self.credits_posted + u128::from(limit.fen())
            }
            AccountLimit::CreditsWithinDebits { limit } => {
                let used = self.credits_pending + self.credits_posted;
                used > before.credits_pending + before.credits_posted
                    && used > self.debits_posted + u128::from(limit.fen())
            }
        }
    }

    fn overflows(&self) -> bool {
        let maximum = u128::from(Money::MAX.fen());
        [
            self.debits_pending,
            self.debits_posted,
            self.credits_pending,
            self.credits_posted,
        ]
        .iter()
        .any(|&value| value > maximum)
    }
}

fn moved(legs: &[Leg], phase: Phase) -> Vec<Movement> {
    legs.iter()
        .map(|leg| Movement {
            debit: leg.debit.clone(),
            credit: leg.credit.clone(),
            amount: leg.amount,
            phase,
        })
        .collect()
}

/// The legs a post of a hold books: in full, or the given amount per leg (zero skips a leg).
fn posted_part(held: &[Leg], amounts: Option<&[Money]>) -> Result<Vec<Leg>, Rejection> {
    let Some(amounts) = amounts else {
        return Ok(held.to_vec());
    };
    if amounts.len() != held.len() {
        return Err(Rejection::PostAmountsCountMismatch);
    }
    let mut posted = Vec::with_capacity(held.len());
    for (leg, amount) in held.iter().zip(amounts) {
        if *amount > leg.amount {
            return Err(Rejection::PostAmountExceedsPending);
        }
        if !amount.is_zero() {
            posted.push(Leg {
                amount: *amount,
                ..leg.clone()
            });
        }
    }
    Ok(posted)
}

fn touched_accounts(movements: &[Movement]) -> impl Iterator<Item = &AccountId> {
    let mut seen: Vec<&AccountId> = Vec::with_capacity(movements.len() * 2);
    for movement in movements {
        for id in [&movement.debit, &movement.credit] {
            if !seen.contains(&id) {
                seen.push(id);
            }
        }
    }
    seen.into_iter()
}

fn referenced_transfer(action: &TransferAction) -> Option<&TransferId> {
    match action {
        TransferAction::PostPending { pending_id, .. }
        | TransferAction::VoidPending { pending_id } => Some(pending_id),
        TransferAction::Reverse { original_id } => Some(original_id),
        TransferAction::Post { .. } | TransferAction::Hold { .. } => None,
    }
}

fn validate_legs(legs: &[Leg]) -> Result<(), Rejection> {
    if legs.is_empty() {
        return Err(Rejection::LegsMustNotBeEmpty);
    }
    if legs.len() > LEGS_PER_TRANSFER_MAX {
        return Err(Rejection::LegsExceedMaximum);
    }
    if legs.iter().any(|leg| leg.amount.is_zero()) {
        return Err(Rejection::AmountMustNotBeZero);
    }
    if legs.iter().any(|leg| leg.debit == leg.credit) {
        return Err(Rejection::AccountsMustBeDifferent);
    }
    Ok(())
}

fn validate_shape(action: &TransferAction) -> Result<(), Rejection> {
    match action {
        TransferAction::Post { legs } => validate_legs(legs),
        TransferAction::Hold {
            legs,
            timeout_seconds,
        } => {
            validate_legs(legs)?;
            if *timeout_seconds == 0 {
                return Err(Rejection::TimeoutMustBePositive);
            }
            if *timeout_seconds > HOLD_TIMEOUT_SECONDS_MAX {
                return Err(Rejection::TimeoutExceedsMaximum);
            }
            Ok(())
        }
        TransferAction::PostPending {
            amounts: Some(amounts),
            ..
        } if amounts.len() > LEGS_PER_TRANSFER_MAX => Err(Rejection::PostAmountsCountMismatch),
        TransferAction::PostPending { .. }
        | TransferAction::VoidPending { .. }
        | TransferAction::Reverse { .. } => Ok(()),
    }
}

fn compare_legs(existing: &[Leg], requested: &[Leg]) -> Result<(), Rejection> {
    let same_accounts = existing.len() == requested.len()
        && existing
            .iter()
            .zip(requested)
            .all(|(a, b)| a.debit == b.debit && a.credit == b.credit);
    if !same_accounts {
        return Err(Rejection::ExistsWithDifferentLegs);
    }
    if existing
        .iter()
        .zip(requested)
        .any(|(a, b)| a.amount != b.amount)
    {
        return Err(Rejection::ExistsWithDifferentAmount);
    }
    Ok(())
}

/// Same id: the same content is a replay, anything else a precise conflict.
fn compare_with_existing(
    existing: &TransferAction,
    requested: &TransferAction,
) -> Result<(), Rejection> {
    use TransferAction as A;
    match (existing, requested) {
        (A::Post { legs: a }, A::Post { legs: b }) => compare_legs(a, b),
        (
            A::Hold {
                legs: a,
                timeout_seconds: ta,
            },
            A::Hold {
                legs: b,
                timeout_seconds: tb,
            },
        ) => {
            compare_legs(a, b)?;
            if ta != tb {
                return Err(Rejection::ExistsWithDifferentTimeout);
            }
            Ok(())
        }
        (
            A::PostPending {
                pending_id: a,
                amounts: x,
            },
            A::PostPending {
                pending_id: b,
                amounts: y,
            },
        ) => {
            if a != b {
                return Err(Rejection::ExistsWithDifferentPendingId);
            }
            if x != y {
                return Err(Rejection::ExistsWithDifferentAmount);
            }
            Ok(())
        }
        (A::VoidPending { pending_id: a }, A::VoidPending { pending_id: b }) if a != b => {
            Err(Rejection::ExistsWithDifferentPendingId)
        }
        (A::Reverse { original_id: a }, A::Reverse { original_id: b }) if a != b => {
            Err(Rejection::ExistsWithDifferentOriginalId)
        }
        (A::VoidPending { .. }, A::VoidPending { .. }) | (A::Reverse { .. }, A::Reverse { .. }) => {
            Ok(())
        }
        _ => Err(Rejection::ExistsWithDifferentAction),
    }
}
