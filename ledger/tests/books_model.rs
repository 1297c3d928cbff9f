//! The books against a reference model, in random sequences of operations.
//!
//! The model below is written from the documentation of [`Rejection`] and [`AccountLimit`]
//! alone: balances as `i128`, transfers in a map with their statuses and deadlines, and its
//! own decision on every request. After every step the books must agree with it: the same
//! acceptance (and the same rejection), the same balances, money conserved, a refused
//! request leaving no trace, bounded accounts within their limits whenever a request grew
//! the side the limit bounds. At the end, replaying the journaled changes into fresh books
//! rebuilds the same books.
//!
//! A second, smaller property runs the same operations through the durable [`Ledger`], then
//! reopens it from disk and audits the journal.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::FileFailurePersistence;
use treatfirst_ledger::books::StoredTransfer;
use treatfirst_ledger::journal::SledStore;
use treatfirst_ledger::transfers::{HOLD_TIMEOUT_SECONDS_MAX, LEGS_PER_TRANSFER_MAX};
use treatfirst_ledger::verify::verify;
use treatfirst_ledger::{
    Account, AccountEntry, AccountId, AccountLimit, AccountSpec, Balances, Books, EntrySide,
    Ledger, LedgerChange, Leg, ManualClock, Money, Phase, Rejection, Timestamp, TransferAction,
    TransferId, TransferOutcome, TransferRequest, TransferStatus,
};

const T0: Timestamp = Timestamp::from_seconds(1_800_000_000);

/// The accounts of every run: two unbounded, a credit line and a ceiling.
const ACCOUNT_NAMES: [&str; ACCOUNTS] = ["cash", "hospital", "patient", "deposit"];
const ACCOUNTS: usize = 4;
const PATIENT: usize = 2;
const DEPOSIT: usize = 3;
/// An account id no run opens.
const GHOST: &str = "ghost";
const LIMIT_FEN_START: u64 = 20_000;
const LIMIT_FEN_MAX: u64 = 30_000;
const AMOUNT_FEN_MAX: u64 = 6_000;
const HOLD_SECONDS_MAX: u32 = 120;
const ADVANCE_SECONDS_MAX: u32 = 90;
const OPS_PER_RUN_MAX: usize = 60;
const OPS_PER_DURABLE_RUN_MAX: usize = 40;
/// Small pages, so that reading a statement crosses page boundaries.
const ENTRIES_PAGE: usize = 7;

fn account(index: usize) -> AccountId {
    AccountId::new(ACCOUNT_NAMES[index]).unwrap()
}

fn account_specs() -> Vec<AccountSpec> {
    (0..ACCOUNTS)
        .map(|index| AccountSpec {
            id: account(index),
            limit: limit_of(index, LIMIT_FEN_START),
        })
        .collect()
}

fn limit_of(index: usize, limit_fen: u64) -> AccountLimit {
    let limit = Money::from_fen(limit_fen).unwrap();
    match index {
        PATIENT => AccountLimit::DebitsWithinCredits { limit },
        DEPOSIT => AccountLimit::CreditsWithinDebits { limit },
        _ => AccountLimit::Unbounded,
    }
}

fn fen(money: Money) -> i128 {
    i128::from(money.fen())
}

// =======================================================================================
// The reference model.
// =======================================================================================

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ModelBalances {
    debits_pending: i128,
    debits_posted: i128,
    credits_pending: i128,
    credits_posted: i128,
}

impl ModelBalances {
    fn of(balances: &Balances) -> ModelBalances {
        ModelBalances {
            debits_pending: fen(balances.debits_pending),
            debits_posted: fen(balances.debits_posted),
            credits_pending: fen(balances.credits_pending),
            credits_posted: fen(balances.credits_posted),
        }
    }

    fn fields(&self) -> [i128; 4] {
        [
            self.debits_pending,
            self.debits_posted,
            self.credits_pending,
            self.credits_posted,
        ]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bucket {
    Posted,
    Held,
    Released,
}

/// One movement: debit account, credit account, fen, bucket.
type ModelMovement = (usize, usize, i128, Bucket);
/// A leg by account index: debit, credit, fen.
type ModelLeg = (usize, usize, i128);

#[derive(Debug, Clone)]
struct ModelTransfer {
    request: TransferRequest,
    created_at: Timestamp,
    status: TransferStatus,
    /// What a hold reserves.
    held: Vec<ModelLeg>,
    /// What a posting moved, for a reversal.
    posted: Vec<ModelLeg>,
    deadline: Option<Timestamp>,
}

/// What the model expects instead of an acceptance.
#[derive(Debug, Clone, PartialEq)]
struct Refusal {
    rejection: Rejection,
    /// Also tolerated. Only set when one transfer breaks both a credit line and a ceiling:
    /// the documented order says `exceeds_credits`, the books report the account they meet
    /// first (see `exceeds_credits_comes_before_exceeds_debits` in books_rejections.rs).
    tolerated: Option<Rejection>,
}

impl Refusal {
    fn exactly(rejection: Rejection) -> Refusal {
        Refusal {
            rejection,
            tolerated: None,
        }
    }

    fn accepts(&self, actual: &Rejection) -> bool {
        *actual == self.rejection || self.tolerated.as_ref() == Some(actual)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ModelOutcome {
    replayed: bool,
    created_at: Timestamp,
}

/// What an accepted request does besides moving money.
struct Plan {
    movements: Vec<ModelMovement>,
    status: TransferStatus,
    held: Vec<ModelLeg>,
    posted: Vec<ModelLeg>,
    deadline: Option<Timestamp>,
    /// The transfer it refers to and that transfer's new status.
    closes: Option<(TransferId, TransferStatus)>,
}

#[derive(Debug, Clone)]
struct Model {
    names: Vec<AccountId>,
    limits: Vec<AccountLimit>,
    balances: Vec<ModelBalances>,
    transfers: BTreeMap<TransferId, ModelTransfer>,
}

impl Model {
    fn new(specs: &[AccountSpec]) -> Model {
        Model {
            names: specs.iter().map(|spec| spec.id.clone()).collect(),
            limits: specs.iter().map(|spec| spec.limit).collect(),
            balances: vec![ModelBalances::default(); specs.len()],
            transfers: BTreeMap::new(),
        }
    }

    fn index(&self, id: &AccountId) -> Option<usize> {
        self.names.iter().position(|name| name == id)
    }

    fn pending_count(&self) -> usize {
        self.transfers
            .values()
            .filter(|transfer| transfer.status == TransferStatus::Pending)
            .count()
    }

    fn execute(
        &mut self,
        request: &TransferRequest,
        now: Timestamp,
    ) -> Result<ModelOutcome, Refusal> {
        check_shape(&request.action).map_err(Refusal::exactly)?;
        if let Some(existing) = self.transfers.get(&request.id) {
            check_same_content(&existing.request.action, &request.action)
                .map_err(Refusal::exactly)?;
            return Ok(ModelOutcome {
                replayed: true,
                created_at: existing.created_at,
            });
        }
        let plan = self.plan(&request.action, now).map_err(Refusal::exactly)?;
        let after = self.balances_after(&plan.movements);
        // Documented order: limits, then overflow (amounts here never come near the maximum).
        self.check_limits(&after)?;
        check_range(&after).map_err(Refusal::exactly)?;
        self.balances = after;
        if let Some((id, status)) = &plan.closes {
            self.transfers.get_mut(id).expect("planned on it").status = *status;
        }
        let transfer = ModelTransfer {
            request: request.clone(),
            created_at: now,
            status: plan.status,
            held: plan.held,
            posted: plan.posted,
            deadline: plan.deadline,
        };
        self.transfers.insert(request.id.clone(), transfer);
        Ok(ModelOutcome {
            replayed: false,
            created_at: now,
        })
    }

    /// All or nothing: the index of the first refused request.
    fn execute_chain(
        &mut self,
        requests: &[TransferRequest],
        now: Timestamp,
    ) -> Result<Vec<ModelOutcome>, (usize, Refusal)> {
        let mut scratch = self.clone();
        let mut outcomes = Vec::new();
        for (index, request) in requests.iter().enumerate() {
            outcomes.push(
                scratch
                    .execute(request, now)
                    .map_err(|refusal| (index, refusal))?,
            );
        }
        *self = scratch;
        Ok(outcomes)
    }

    /// Releases every live hold whose deadline is at or before `now`, by deadline then id.
    fn expire(&mut self, now: Timestamp) -> Vec<TransferId> {
        let mut due: Vec<(Timestamp, TransferId)> = self
            .transfers
            .iter()
            .filter(|(_, transfer)| transfer.status == TransferStatus::Pending)
            .filter_map(|(id, transfer)| {
                let deadline = transfer.deadline.expect("a hold has a deadline");
                (deadline <= now).then(|| (deadline, id.clone()))
            })
            .collect();
        due.sort();
        for (_, id) in &due {
            let transfer = self.transfers.get_mut(id).unwrap();
            transfer.status = TransferStatus::PendingExpired;
            let releases: Vec<ModelMovement> = transfer
                .held
                .iter()
                .map(|&(debit, credit, amount)| (debit, credit, amount, Bucket::Released))
                .collect();
            self.balances = self.balances_after(&releases);
        }
        due.into_iter().map(|(_, id)| id).collect()
    }

    fn set_limit(&mut self, index: usize, limit: AccountLimit) {
        self.limits[index] = limit;
    }

    fn legs(&self, legs: &[Leg]) -> Result<Vec<ModelLeg>, Rejection> {
        legs.iter()
            .map(|leg| {
                let debit = self
                    .index(&leg.debit)
                    .ok_or(Rejection::DebitAccountNotFound)?;
                let credit = self
                    .index(&leg.credit)
                    .ok_or(Rejection::CreditAccountNotFound)?;
                Ok((debit, credit, fen(leg.amount)))
            })
            .collect()
    }

    fn plan(&self, action: &TransferAction, now: Timestamp) -> Result<Plan, Rejection> {
        let plain = |movements, status, held, posted, deadline| Plan {
            movements,
            status,
            held,
            posted,
            deadline,
            closes: None,
        };
        match action {
            TransferAction::Post { legs } => {
                let legs = self.legs(legs)?;
                let movements = in_bucket(&legs, Bucket::Posted);
                Ok(plain(movements, TransferStatus::Posted, vec![], legs, None))
            }
            TransferAction::Hold {
                legs,
                timeout_seconds,
            } => {
                let legs = self.legs(legs)?;
                let movements = in_bucket(&legs, Bucket::Held);
                let deadline = now.plus_seconds(i64::from(*timeout_seconds));
                let status = TransferStatus::Pending;
                Ok(plain(movements, status, legs, vec![], Some(deadline)))
            }
            TransferAction::PostPending {
                pending_id,
                amounts,
            } => {
                let held = self.live_hold(pending_id, now)?;
                let posted = posted_part(&held.held, amounts.as_deref())?;
                let mut movements = in_bucket(&held.held, Bucket::Released);
                movements.extend(in_bucket(&posted, Bucket::Posted));
                let closes = Some((pending_id.clone(), TransferStatus::PendingPosted));
                Ok(Plan {
                    closes,
                    ..plain(movements, TransferStatus::Posted, vec![], posted, None)
                })
            }
            TransferAction::VoidPending { pending_id } => {
                let held = self.live_hold(pending_id, now)?;
                let movements = in_bucket(&held.held, Bucket::Released);
                let closes = Some((pending_id.clone(), TransferStatus::PendingVoided));
                Ok(Plan {
                    closes,
                    ..plain(movements, TransferStatus::Posted, vec![], vec![], None)
                })
            }
            TransferAction::Reverse { original_id } => {
                let original = self.reversible(original_id)?;
                let swapped: Vec<ModelLeg> = original
                    .posted
                    .iter()
                    .map(|&(debit, credit, amount)| (credit, debit, amount))
                    .collect();
                let movements = in_bucket(&swapped, Bucket::Posted);
                let closes = Some((original_id.clone(), TransferStatus::Reversed));
                Ok(Plan {
                    closes,
                    ..plain(movements, TransferStatus::Posted, vec![], swapped, None)
                })
            }
        }
    }

    /// A hold that may still be posted or voided at `now`.
    fn live_hold(&self, id: &TransferId, now: Timestamp) -> Result<&ModelTransfer, Rejection> {
        let transfer = self
            .transfers
            .get(id)
            .ok_or(Rejection::PendingTransferNotFound)?;
        if !matches!(transfer.request.action, TransferAction::Hold { .. }) {
            return Err(Rejection::PendingTransferNotPending);
        }
        match transfer.status {
            TransferStatus::Pending if transfer.deadline.is_some_and(|at| at <= now) => {
                Err(Rejection::PendingTransferExpired)
            }
            TransferStatus::Pending => Ok(transfer),
            TransferStatus::PendingPosted => Err(Rejection::PendingTransferAlreadyPosted),
            TransferStatus::PendingVoided => Err(Rejection::PendingTransferAlreadyVoided),
            TransferStatus::PendingExpired => Err(Rejection::PendingTransferExpired),
            other => panic!("model: a hold cannot be {other:?}"),
        }
    }

    /// A posting (plain, or of a hold) that was not reversed yet.
    fn reversible(&self, id: &TransferId) -> Result<&ModelTransfer, Rejection> {
        let transfer = self
            .transfers
            .get(id)
            .ok_or(Rejection::OriginalTransferNotFound)?;
        if transfer.status == TransferStatus::Reversed {
            return Err(Rejection::OriginalTransferAlreadyReversed);
        }
        let is_posting = matches!(
            transfer.request.action,
            TransferAction::Post { .. } | TransferAction::PostPending { .. }
        );
        if !is_posting {
            return Err(Rejection::OriginalTransferNotPosted);
        }
        Ok(transfer)
    }

    fn balances_after(&self, movements: &[ModelMovement]) -> Vec<ModelBalances> {
        let mut after = self.balances.clone();
        for &(debit, credit, amount, bucket) in movements {
            match bucket {
                Bucket::Posted => {
                    after[debit].debits_posted += amount;
                    after[credit].credits_posted += amount;
                }
                Bucket::Held => {
                    after[debit].debits_pending += amount;
                    after[credit].credits_pending += amount;
                }
                Bucket::Released => {
                    after[debit].debits_pending -= amount;
                    after[credit].credits_pending -= amount;
                }
            }
        }
        after
    }

    /// Only a side that grows is bounded; credit lines are reported first.
    fn check_limits(&self, after: &[ModelBalances]) -> Result<(), Refusal> {
        let mut exceeds_credits = false;
        let mut exceeds_debits = false;
        for (index, limit) in self.limits.iter().enumerate() {
            let (before, after) = (&self.balances[index], &after[index]);
            match *limit {
                AccountLimit::Unbounded => {}
                AccountLimit::DebitsWithinCredits { limit } => {
                    let grew = debits(after) > debits(before);
                    exceeds_credits |= grew && debits(after) > after.credits_posted + fen(limit);
                }
                AccountLimit::CreditsWithinDebits { limit } => {
                    let grew = credits(after) > credits(before);
                    exceeds_debits |= grew && credits(after) > after.debits_posted + fen(limit);
                }
            }
        }
        match (exceeds_credits, exceeds_debits) {
            (true, both) => Err(Refusal {
                rejection: Rejection::ExceedsCredits,
                tolerated: both.then_some(Rejection::ExceedsDebits),
            }),
            (false, true) => Err(Refusal::exactly(Rejection::ExceedsDebits)),
            (false, false) => Ok(()),
        }
    }
}

fn debits(balances: &ModelBalances) -> i128 {
    balances.debits_pending + balances.debits_posted
}

fn credits(balances: &ModelBalances) -> i128 {
    balances.credits_pending + balances.credits_posted
}

fn within_limit(limit: AccountLimit, balances: &ModelBalances) -> bool {
    match limit {
        AccountLimit::Unbounded => true,
        AccountLimit::DebitsWithinCredits { limit } => {
            debits(balances) <= balances.credits_posted + fen(limit)
        }
        AccountLimit::CreditsWithinDebits { limit } => {
            credits(balances) <= balances.debits_posted + fen(limit)
        }
    }
}

fn in_bucket(legs: &[ModelLeg], bucket: Bucket) -> Vec<ModelMovement> {
    legs.iter()
        .map(|&(debit, credit, amount)| (debit, credit, amount, bucket))
        .collect()
}

fn posted_part(held: &[ModelLeg], amounts: Option<&[Money]>) -> Result<Vec<ModelLeg>, Rejection> {
    let Some(amounts) = amounts else {
        return Ok(held.to_vec());
    };
    if amounts.len() != held.len() {
        return Err(Rejection::PostAmountsCountMismatch);
    }
    if held
        .iter()
        .zip(amounts)
        .any(|(&(_, _, held), amount)| fen(*amount) > held)
    {
        return Err(Rejection::PostAmountExceedsPending);
    }
    Ok(held
        .iter()
        .zip(amounts)
        .filter(|(_, amount)| !amount.is_zero())
        .map(|(&(debit, credit, _), amount)| (debit, credit, fen(*amount)))
        .collect())
}

fn check_range(after: &[ModelBalances]) -> Result<(), Rejection> {
    let maximum = fen(Money::MAX);
    for balances in after {
        assert!(
            balances.fields().iter().all(|&field| field >= 0),
            "model: a release beyond what is held"
        );
        if balances.fields().iter().any(|&field| field > maximum) {
            return Err(Rejection::OverflowsBalance);
        }
    }
    Ok(())
}

fn check_shape(action: &TransferAction) -> Result<(), Rejection> {
    let check_legs = |legs: &[Leg]| {
        if legs.is_empty() {
            Err(Rejection::LegsMustNotBeEmpty)
        } else if legs.len() > LEGS_PER_TRANSFER_MAX {
            Err(Rejection::LegsExceedMaximum)
        } else if legs.iter().any(|leg| leg.amount.is_zero()) {
            Err(Rejection::AmountMustNotBeZero)
        } else if legs.iter().any(|leg| leg.debit == leg.credit) {
            Err(Rejection::AccountsMustBeDifferent)
        } else {
            Ok(())
        }
    };
    match action {
        TransferAction::Post { legs } => check_legs(legs),
        TransferAction::Hold {
            legs,
            timeout_seconds,
        } => {
            check_legs(legs)?;
            match *timeout_seconds {
                0 => Err(Rejection::TimeoutMustBePositive),
                seconds if seconds > HOLD_TIMEOUT_SECONDS_MAX => {
                    Err(Rejection::TimeoutExceedsMaximum)
                }
                _ => Ok(()),
            }
        }
        TransferAction::PostPending {
            amounts: Some(amounts),
            ..
        } if amounts.len() > LEGS_PER_TRANSFER_MAX => Err(Rejection::PostAmountsCountMismatch),
        _ => Ok(()),
    }
}

/// The same id again: identical content replays, anything else is a named conflict.
fn check_same_content(
    existing: &TransferAction,
    requested: &TransferAction,
) -> Result<(), Rejection> {
    use TransferAction as A;
    let same_legs = |a: &[Leg], b: &[Leg]| {
        let accounts = |legs: &[Leg]| -> Vec<(AccountId, AccountId)> {
            legs.iter()
                .map(|leg| (leg.debit.clone(), leg.credit.clone()))
                .collect()
        };
        let amounts = |legs: &[Leg]| -> Vec<Money> { legs.iter().map(|leg| leg.amount).collect() };
        if accounts(a) != accounts(b) {
            Err(Rejection::ExistsWithDifferentLegs)
        } else if amounts(a) != amounts(b) {
            Err(Rejection::ExistsWithDifferentAmount)
        } else {
            Ok(())
        }
    };
    match (existing, requested) {
        (A::Post { legs: a }, A::Post { legs: b }) => same_legs(a, b),
        (
            A::Hold {
                legs: a,
                timeout_seconds: x,
            },
            A::Hold {
                legs: b,
                timeout_seconds: y,
            },
        ) => {
            same_legs(a, b)?;
            (x == y)
                .then_some(())
                .ok_or(Rejection::ExistsWithDifferentTimeout)
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
        ) if a == b => (x == y)
            .then_some(())
            .ok_or(Rejection::ExistsWithDifferentAmount),
        (A::PostPending { .. }, A::PostPending { .. })
        | (A::VoidPending { .. }, A::VoidPending { .. }) => (existing == requested)
            .then_some(())
            .ok_or(Rejection::ExistsWithDifferentPendingId),
        (A::Reverse { .. }, A::Reverse { .. }) => (existing == requested)
            .then_some(())
            .ok_or(Rejection::ExistsWithDifferentOriginalId),
        _ => Err(Rejection::ExistsWithDifferentAction),
    }
}

// =======================================================================================
// Operations: generated abstractly, turned into requests against the history.
// =======================================================================================

#[derive(Debug, Clone)]
enum Party {
    Known(usize),
    Ghost,
}

#[derive(Debug, Clone)]
struct LegSpec {
    debit: Party,
    credit: Party,
    amount: Amount,
}

#[derive(Debug, Clone)]
enum Amount {
    Fen(u64),
    /// Exactly the room a bounded account has left (`over`: one fen more), as the model
    /// sees it before the request; limits are where off-by-one errors live.
    Room {
        over: bool,
    },
}

#[derive(Debug, Clone)]
enum Reference {
    /// The newest accepted hold (for posts and voids) or posting (for reversals), preferring
    /// one still pending (or not reversed).
    Latest,
    /// Any earlier request's id, accepted or not.
    Earlier(Index),
    /// An id never used.
    Unknown,
}

#[derive(Debug, Clone)]
enum PostAmounts {
    Full,
    /// A percentage of each leg (zero included).
    Partial(Vec<u8>),
    WrongCount,
    AboveHeld,
}

#[derive(Debug, Clone)]
enum Step {
    Post(Vec<LegSpec>),
    Hold(Vec<LegSpec>, u32),
    PostPending(Reference, PostAmounts),
    Void(Reference),
    Reverse(Reference),
}

#[derive(Debug, Clone, Copy)]
enum Conflict {
    Action,
    Legs,
    Amount,
    Timeout,
    Reference,
}

#[derive(Debug, Clone)]
enum Op {
    Single(Step),
    Chain(Vec<Step>),
    /// Time passes; `expire` runs `expire_due` (the durable ledger always does, before its
    /// next command).
    Advance {
        seconds: u32,
        expire: bool,
    },
    /// An earlier request again, identical.
    Replay(Index),
    /// An earlier request's id with other content.
    Reuse(Index, Conflict),
    SetLimit {
        patient: bool,
        limit_fen: u64,
    },
}

fn amount() -> impl Strategy<Value = Amount> {
    prop_oneof![
        12 => (1..=AMOUNT_FEN_MAX).prop_map(Amount::Fen),
        1 => any::<bool>().prop_map(|over| Amount::Room { over }),
    ]
}

fn leg_spec() -> impl Strategy<Value = LegSpec> {
    let known = |debit: usize, credit: usize, amount: Amount| LegSpec {
        debit: Party::Known(debit),
        credit: Party::Known(credit),
        amount,
    };
    let other = |debit: usize, offset: usize| (debit + offset) % ACCOUNTS;
    prop_oneof![
        60 => (0..ACCOUNTS, 1..ACCOUNTS, amount())
            .prop_map(move |(debit, offset, amount)| known(debit, other(debit, offset), amount)),
        1 => (0..ACCOUNTS, amount()).prop_map(move |(both, amount)| known(both, both, amount)),
        1 => (0..ACCOUNTS, 1..ACCOUNTS)
            .prop_map(move |(debit, offset)| known(debit, other(debit, offset), Amount::Fen(0))),
        1 => (0..ACCOUNTS, amount()).prop_map(|(credit, amount)| LegSpec {
            debit: Party::Ghost,
            credit: Party::Known(credit),
            amount,
        }),
        1 => (0..ACCOUNTS, amount()).prop_map(|(debit, amount)| LegSpec {
            debit: Party::Known(debit),
            credit: Party::Ghost,
            amount,
        }),
    ]
}

fn legs() -> impl Strategy<Value = Vec<LegSpec>> {
    prop_oneof![30 => vec(leg_spec(), 1..=3), 1 => Just(Vec::new())]
}

fn reference() -> impl Strategy<Value = Reference> {
    prop_oneof![
        6 => Just(Reference::Latest),
        2 => any::<Index>().prop_map(Reference::Earlier),
        1 => Just(Reference::Unknown),
    ]
}

fn post_amounts() -> impl Strategy<Value = PostAmounts> {
    prop_oneof![
        4 => Just(PostAmounts::Full),
        4 => vec(0u8..=100, 1..=3).prop_map(PostAmounts::Partial),
        1 => Just(PostAmounts::WrongCount),
        1 => Just(PostAmounts::AboveHeld),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let timeout = prop_oneof![30 => 1..=HOLD_SECONDS_MAX, 1 => Just(0)];
    prop_oneof![
        5 => legs().prop_map(Step::Post),
        5 => (legs(), timeout).prop_map(|(legs, timeout)| Step::Hold(legs, timeout)),
        4 => (reference(), post_amounts())
            .prop_map(|(pending, amounts)| Step::PostPending(pending, amounts)),
        2 => reference().prop_map(Step::Void),
        2 => reference().prop_map(Step::Reverse),
    ]
}

fn conflict() -> impl Strategy<Value = Conflict> {
    prop_oneof![
        Just(Conflict::Action),
        Just(Conflict::Legs),
        Just(Conflict::Amount),
        Just(Conflict::Timeout),
        Just(Conflict::Reference),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => step().prop_map(Op::Single),
        2 => vec(step(), 2..=3).prop_map(Op::Chain),
        3 => (1..=ADVANCE_SECONDS_MAX, prop::bool::weighted(0.75))
            .prop_map(|(seconds, expire)| Op::Advance { seconds, expire }),
        2 => any::<Index>().prop_map(Op::Replay),
        2 => (any::<Index>(), conflict()).prop_map(|(which, conflict)| Op::Reuse(which, conflict)),
        1 => (any::<bool>(), 0..=LIMIT_FEN_MAX)
            .prop_map(|(patient, limit_fen)| Op::SetLimit { patient, limit_fen }),
    ]
}

/// Turns steps into requests: fresh ids, references resolved against what came before.
#[derive(Default)]
struct Requests {
    history: Vec<TransferRequest>,
    fresh: usize,
}

impl Requests {
    fn fresh_id(&mut self, prefix: &str) -> TransferId {
        self.fresh += 1;
        TransferId::new(&format!("{prefix}{}", self.fresh)).unwrap()
    }

    fn build(&mut self, step: &Step, model: &Model) -> TransferRequest {
        let id = self.fresh_id("t");
        let action = match step {
            Step::Post(legs) => TransferAction::Post {
                legs: build_legs(legs, model),
            },
            Step::Hold(legs, timeout_seconds) => TransferAction::Hold {
                legs: build_legs(legs, model),
                timeout_seconds: *timeout_seconds,
            },
            Step::PostPending(reference, amounts) => {
                let pending_id = self.resolve(reference, model, is_hold);
                let amounts = post_amounts_for(model, &pending_id, amounts);
                TransferAction::PostPending {
                    pending_id,
                    amounts,
                }
            }
            Step::Void(reference) => TransferAction::VoidPending {
                pending_id: self.resolve(reference, model, is_hold),
            },
            Step::Reverse(reference) => TransferAction::Reverse {
                original_id: self.resolve(reference, model, is_posting),
            },
        };
        self.remember(TransferRequest { id, action })
    }

    fn remember(&mut self, request: TransferRequest) -> TransferRequest {
        self.history.push(request.clone());
        request
    }

    fn resolve(
        &mut self,
        reference: &Reference,
        model: &Model,
        wanted: fn(&TransferAction) -> bool,
    ) -> TransferId {
        let found = match reference {
            Reference::Latest => {
                let candidates = || {
                    self.history
                        .iter()
                        .rev()
                        .filter_map(|request| model.transfers.get(&request.id))
                        .filter(|transfer| wanted(&transfer.request.action))
                };
                let open = |transfer: &&ModelTransfer| {
                    matches!(
                        transfer.status,
                        TransferStatus::Pending | TransferStatus::Posted
                    )
                };
                candidates()
                    .find(open)
                    .or_else(|| candidates().next())
                    .map(|transfer| transfer.request.id.clone())
            }
            Reference::Earlier(index) if !self.history.is_empty() => {
                Some(self.history[index.index(self.history.len())].id.clone())
            }
            Reference::Earlier(_) | Reference::Unknown => None,
        };
        found.unwrap_or_else(|| self.fresh_id("unknown"))
    }

    fn earlier(&self, which: &Index) -> Option<TransferRequest> {
        (!self.history.is_empty()).then(|| self.history[which.index(self.history.len())].clone())
    }

    /// The same id as an earlier request, with other content.
    fn conflicting(&mut self, which: &Index, conflict: Conflict) -> Option<TransferRequest> {
        let original = self.earlier(which)?;
        let unknown = self.fresh_id("unknown");
        let one_fen = Money::from_fen(1).unwrap();
        let action = match (original.action, conflict) {
            (TransferAction::Post { legs }, Conflict::Action) => TransferAction::Hold {
                legs,
                timeout_seconds: 30,
            },
            (TransferAction::Hold { legs, .. }, Conflict::Action) => TransferAction::Post { legs },
            (TransferAction::Post { mut legs }, Conflict::Legs | Conflict::Reference) => {
                swap_first(&mut legs);
                TransferAction::Post { legs }
            }
            (TransferAction::Post { mut legs }, Conflict::Amount | Conflict::Timeout) => {
                bump_first(&mut legs);
                TransferAction::Post { legs }
            }
            (
                TransferAction::Hold {
                    mut legs,
                    timeout_seconds,
                },
                conflict,
            ) => {
                let mut timeout_seconds = timeout_seconds;
                match conflict {
                    Conflict::Timeout => timeout_seconds = timeout_seconds % HOLD_SECONDS_MAX + 1,
                    Conflict::Amount => bump_first(&mut legs),
                    _ => swap_first(&mut legs),
                }
                TransferAction::Hold {
                    legs,
                    timeout_seconds,
                }
            }
            (
                TransferAction::PostPending {
                    pending_id,
                    amounts,
                },
                Conflict::Amount,
            ) => TransferAction::PostPending {
                pending_id,
                amounts: match amounts {
                    Some(_) => None,
                    None => Some(vec![one_fen]),
                },
            },
            (TransferAction::PostPending { amounts, .. }, Conflict::Reference) => {
                TransferAction::PostPending {
                    pending_id: unknown,
                    amounts,
                }
            }
            (TransferAction::VoidPending { .. }, Conflict::Reference) => {
                TransferAction::VoidPending {
                    pending_id: unknown,
                }
            }
            (TransferAction::Reverse { .. }, Conflict::Reference) => TransferAction::Reverse {
                original_id: unknown,
            },
            (TransferAction::VoidPending { pending_id }, _) => TransferAction::Reverse {
                original_id: pending_id,
            },
            (TransferAction::PostPending { pending_id, .. }, _)
            | (
                TransferAction::Reverse {
                    original_id: pending_id,
                },
                _,
            ) => TransferAction::VoidPending { pending_id },
        };
        Some(self.remember(TransferRequest {
            id: original.id,
            action,
        }))
    }
}

fn is_hold(action: &TransferAction) -> bool {
    matches!(action, TransferAction::Hold { .. })
}

fn is_posting(action: &TransferAction) -> bool {
    matches!(
        action,
        TransferAction::Post { .. } | TransferAction::PostPending { .. }
    )
}

fn swap_first(legs: &mut Vec<Leg>) {
    match legs.first_mut() {
        Some(leg) => std::mem::swap(&mut leg.debit, &mut leg.credit),
        None => legs.push(Leg::new(&account(0), &account(1), Money::yuan(1))),
    }
}

fn bump_first(legs: &mut Vec<Leg>) {
    match legs.first_mut() {
        Some(leg) => leg.amount = Money::from_fen(leg.amount.fen() + 1).unwrap(),
        None => legs.push(Leg::new(&account(0), &account(1), Money::yuan(1))),
    }
}

fn build_legs(specs: &[LegSpec], model: &Model) -> Vec<Leg> {
    let id = |party: &Party| match party {
        Party::Known(index) => account(*index),
        Party::Ghost => AccountId::new(GHOST).unwrap(),
    };
    specs
        .iter()
        .map(|spec| {
            let fen = match spec.amount {
                Amount::Fen(fen) => fen,
                Amount::Room { over } => room(model, spec) + u64::from(over),
            };
            Leg::new(
                &id(&spec.debit),
                &id(&spec.credit),
                Money::from_fen(fen).unwrap(),
            )
        })
        .collect()
}

/// What the leg's bounded account can still take (at least a fen; a default elsewhere).
fn room(model: &Model, spec: &LegSpec) -> u64 {
    let room = match (&spec.debit, &spec.credit) {
        (Party::Known(PATIENT), _) => {
            let balances = &model.balances[PATIENT];
            let limit = match model.limits[PATIENT] {
                AccountLimit::DebitsWithinCredits { limit } => fen(limit),
                _ => 0,
            };
            balances.credits_posted + limit - debits(balances)
        }
        (_, Party::Known(DEPOSIT)) => {
            let balances = &model.balances[DEPOSIT];
            let limit = match model.limits[DEPOSIT] {
                AccountLimit::CreditsWithinDebits { limit } => fen(limit),
                _ => 0,
            };
            balances.debits_posted + limit - credits(balances)
        }
        _ => i128::from(AMOUNT_FEN_MAX),
    };
    u64::try_from(room.max(1)).unwrap()
}

/// Amounts for a post of `pending_id`, shaped by what the hold (if it is one) reserves.
fn post_amounts_for(
    model: &Model,
    pending_id: &TransferId,
    amounts: &PostAmounts,
) -> Option<Vec<Money>> {
    let held: Vec<u64> = match model.transfers.get(pending_id).map(|t| &t.request.action) {
        Some(TransferAction::Hold { legs, .. }) => {
            legs.iter().map(|leg| leg.amount.fen()).collect()
        }
        _ => vec![1],
    };
    let money = |fen: u64| Money::from_fen(fen).unwrap();
    match amounts {
        PostAmounts::Full => None,
        PostAmounts::Partial(percentages) => Some(
            held.iter()
                .zip(percentages.iter().cycle())
                .map(|(&held, &percent)| money(held * u64::from(percent) / 100))
                .collect(),
        ),
        PostAmounts::WrongCount => Some(vec![money(1); held.len() + 1]),
        PostAmounts::AboveHeld => Some(
            held.iter()
                .enumerate()
                .map(|(leg, &held)| money(if leg == 0 { held + 1 } else { held }))
                .collect(),
        ),
    }
}

// =======================================================================================
// Comparing the books with the model.
// =======================================================================================

fn assert_single(
    context: &str,
    expected: &Result<ModelOutcome, Refusal>,
    actual: Result<&TransferOutcome, &Rejection>,
) {
    match (expected, actual) {
        (Ok(model), Ok(outcome)) => {
            assert_eq!(outcome.replayed, model.replayed, "{context}: replayed");
            assert_eq!(
                outcome.created_at, model.created_at,
                "{context}: created_at"
            );
        }
        (Err(refusal), Err(rejection)) => {
            assert!(
                refusal.accepts(rejection),
                "{context}: the model expects {refusal:?}, the books say {rejection:?}"
            );
        }
        (expected, actual) => {
            panic!("{context}: the model expects {expected:?}, the books say {actual:?}")
        }
    }
}

fn assert_chain(
    context: &str,
    expected: &Result<Vec<ModelOutcome>, (usize, Refusal)>,
    actual: Result<&Vec<TransferOutcome>, &(usize, Rejection)>,
) {
    match (expected, actual) {
        (Ok(models), Ok(outcomes)) => {
            assert_eq!(models.len(), outcomes.len(), "{context}: one outcome each");
            for (model, outcome) in models.iter().zip(outcomes) {
                assert_single(context, &Ok(*model), Ok(outcome));
            }
        }
        (Err((index, refusal)), Err((actual_index, rejection))) => {
            assert_eq!(index, actual_index, "{context}: the failing index");
            assert!(
                refusal.accepts(rejection),
                "{context}: the model expects {refusal:?}, the books say {rejection:?}"
            );
        }
        (expected, actual) => {
            panic!("{context}: the model expects {expected:?}, the books say {actual:?}")
        }
    }
}

/// What a refused (or replayed) operation must leave exactly as it was.
#[derive(Debug, PartialEq)]
struct Footprint {
    accounts: Vec<Account>,
    transfers: Vec<Option<StoredTransfer>>,
    transfer_count: usize,
    pending_count: usize,
}

fn footprint(books: &Books, ids: &[TransferId]) -> Footprint {
    let mut accounts: Vec<Account> = books.accounts().cloned().collect();
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    Footprint {
        accounts,
        transfers: ids
            .iter()
            .map(|id| books.stored_transfer(id).cloned())
            .collect(),
        transfer_count: books.transfer_count(),
        pending_count: books.pending_count(),
    }
}

/// The ids a request names: its own and the one it refers to.
fn named_ids(request: &TransferRequest) -> Vec<TransferId> {
    let mut ids = vec![request.id.clone()];
    match &request.action {
        TransferAction::PostPending { pending_id, .. }
        | TransferAction::VoidPending { pending_id } => ids.push(pending_id.clone()),
        TransferAction::Reverse { original_id } => ids.push(original_id.clone()),
        TransferAction::Post { .. } | TransferAction::Hold { .. } => {}
    }
    ids
}

/// Balances, conservation, statuses and deadlines: the books hold what the model holds.
fn assert_books_match_model(context: &str, books: &Books, model: &Model) {
    for (index, name) in model.names.iter().enumerate() {
        let account = books.account(name).expect("every model account is open");
        assert_eq!(
            ModelBalances::of(&account.balances),
            model.balances[index],
            "{context}: balances of {name}"
        );
        assert_eq!(
            account.limit, model.limits[index],
            "{context}: limit of {name}"
        );
    }
    assert_conserved(context, books.accounts().map(|account| account.balances));
    assert_eq!(books.transfer_count(), model.transfers.len(), "{context}");
    assert_eq!(books.pending_count(), model.pending_count(), "{context}");
    for (id, transfer) in &model.transfers {
        let stored = books.stored_transfer(id).unwrap_or_else(|| {
            panic!("{context}: {id} accepted by the model, unknown to the books")
        });
        assert_eq!(stored.status, transfer.status, "{context}: status of {id}");
        assert_eq!(stored.action, transfer.request.action, "{context}: {id}");
        assert_eq!(stored.created_at, transfer.created_at, "{context}: {id}");
        assert_eq!(stored.expires_at, transfer.deadline, "{context}: {id}");
    }
}

/// Sum of debits == sum of credits, posted and pending.
fn assert_conserved(context: &str, all: impl Iterator<Item = Balances>) {
    let mut totals = ModelBalances::default();
    for balances in all {
        let balances = ModelBalances::of(&balances);
        totals.debits_pending += balances.debits_pending;
        totals.debits_posted += balances.debits_posted;
        totals.credits_pending += balances.credits_pending;
        totals.credits_posted += balances.credits_posted;
    }
    assert_eq!(
        totals.debits_posted, totals.credits_posted,
        "{context}: posted"
    );
    assert_eq!(
        totals.debits_pending, totals.credits_pending,
        "{context}: pending"
    );
}

/// An account whose bounded side grew ends within its limit.
fn assert_limits_held(context: &str, before: &[Account], books: &Books) {
    for old in before {
        let new = books.account(&old.id).unwrap();
        let (old_balances, new_balances) = (
            ModelBalances::of(&old.balances),
            ModelBalances::of(&new.balances),
        );
        let grew = match new.limit {
            AccountLimit::Unbounded => false,
            AccountLimit::DebitsWithinCredits { .. } => {
                debits(&new_balances) > debits(&old_balances)
            }
            AccountLimit::CreditsWithinDebits { .. } => {
                credits(&new_balances) > credits(&old_balances)
            }
        };
        if grew {
            assert!(
                within_limit(new.limit, &new_balances),
                "{context}: {} grew past its limit: {new:?}",
                old.id
            );
        }
    }
}

// =======================================================================================
// The books, step by step.
// =======================================================================================

struct BooksRun {
    books: Books,
    model: Model,
    requests: Requests,
    now: Timestamp,
    /// Every change the books returned, with the instant it applied.
    journal: Vec<(LedgerChange, Timestamp)>,
}

impl BooksRun {
    fn new() -> BooksRun {
        let specs = account_specs();
        let mut books = Books::new();
        let mut journal = Vec::new();
        for spec in &specs {
            let change = books
                .open_account(spec.clone())
                .unwrap()
                .expect("new account");
            journal.push((change, T0));
        }
        BooksRun {
            books,
            model: Model::new(&specs),
            requests: Requests::default(),
            now: T0,
            journal,
        }
    }

    fn run(&mut self, step_number: usize, op: &Op) {
        let context = format!("step {step_number}: {op:?}");
        let before_accounts: Vec<Account> = self.books.accounts().cloned().collect();
        match op {
            Op::Single(step) => {
                let request = self.requests.build(step, &self.model);
                self.single(&context, request);
            }
            Op::Replay(which) => {
                if let Some(request) = self.requests.earlier(which) {
                    self.single(&context, request);
                }
            }
            Op::Reuse(which, conflict) => {
                if let Some(request) = self.requests.conflicting(which, *conflict) {
                    self.single(&context, request);
                }
            }
            Op::Chain(steps) => self.chain(&context, steps),
            Op::Advance { seconds, expire } => {
                self.now = self.now.plus_seconds(i64::from(*seconds));
                if *expire {
                    self.expire(&context);
                }
            }
            Op::SetLimit { patient, limit_fen } => {
                let index = if *patient { PATIENT } else { DEPOSIT };
                let limit = limit_of(index, *limit_fen);
                let change = self.books.set_limit(&account(index), limit).unwrap();
                assert_eq!(
                    change.is_some(),
                    self.model.limits[index] != limit,
                    "{context}"
                );
                self.journal.extend(change.map(|change| (change, self.now)));
                self.model.set_limit(index, limit);
            }
        }
        assert_books_match_model(&context, &self.books, &self.model);
        assert_limits_held(&context, &before_accounts, &self.books);
    }

    fn single(&mut self, context: &str, request: TransferRequest) {
        let context = format!("{context} as {request:?}");
        let ids = named_ids(&request);
        let before = footprint(&self.books, &ids);
        let expected = self.model.execute(&request, self.now);
        let actual = self.books.transfer(request, self.now);
        assert_single(
            &context,
            &expected,
            actual.as_ref().map(|(outcome, _)| outcome),
        );
        match actual {
            Ok((outcome, Some(change))) => {
                assert!(!outcome.replayed, "{context}");
                self.journal.push((change, self.now));
            }
            Ok((outcome, None)) => {
                assert!(outcome.replayed, "{context}: only a replay writes nothing");
                assert_eq!(footprint(&self.books, &ids), before, "{context}: replay");
            }
            Err(_) => assert_eq!(footprint(&self.books, &ids), before, "{context}: refused"),
        }
    }

    fn chain(&mut self, context: &str, steps: &[Step]) {
        // Each step is built against the model as the chain so far would leave it.
        let mut scratch = self.model.clone();
        let mut requests = Vec::new();
        for step in steps {
            let request = self.requests.build(step, &scratch);
            let _ = scratch.execute(&request, self.now);
            requests.push(request);
        }
        let context = format!("{context} as {requests:?}");
        let ids: Vec<TransferId> = requests.iter().flat_map(named_ids).collect();
        let before = footprint(&self.books, &ids);
        let expected = self.model.execute_chain(&requests, self.now);
        let actual = self.books.transfer_chain(requests, self.now);
        assert_chain(
            &context,
            &expected,
            actual.as_ref().map(|(outcomes, _)| outcomes),
        );
        match actual {
            Ok((outcomes, Some(change))) => {
                assert!(
                    outcomes.iter().any(|outcome| !outcome.replayed),
                    "{context}"
                );
                self.journal.push((change, self.now));
            }
            Ok((outcomes, None)) => {
                assert!(outcomes.iter().all(|outcome| outcome.replayed), "{context}");
                assert_eq!(footprint(&self.books, &ids), before, "{context}: replay");
            }
            Err(_) => assert_eq!(footprint(&self.books, &ids), before, "{context}: refused"),
        }
    }

    fn expire(&mut self, context: &str) {
        let changes = self.books.expire_due(self.now);
        let expired: Vec<TransferId> = changes
            .iter()
            .map(|change| match change {
                LedgerChange::Expired { pending_id, .. } => pending_id.clone(),
                other => panic!("{context}: expire_due returned {other:?}"),
            })
            .collect();
        assert_eq!(expired, self.model.expire(self.now), "{context}: expired");
        self.journal
            .extend(changes.into_iter().map(|change| (change, self.now)));
    }

    /// The journaled changes, encoded and decoded as the journal does, rebuild the books.
    fn assert_replay_rebuilds(&self) {
        let mut rebuilt = Books::new();
        for (change, at) in &self.journal {
            let bytes = postcard::to_stdvec(change).unwrap();
            let decoded: LedgerChange = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(&decoded, change, "a change survives encoding");
            rebuilt.apply(&decoded, *at);
        }
        let sorted = |books: &Books| {
            let mut accounts: Vec<Account> = books.accounts().cloned().collect();
            accounts.sort_by(|a, b| a.id.cmp(&b.id));
            accounts
        };
        assert_eq!(sorted(&rebuilt), sorted(&self.books), "replayed balances");
        assert_eq!(rebuilt.transfer_count(), self.books.transfer_count());
        assert_eq!(rebuilt.pending_count(), self.books.pending_count());
        for id in self.model.transfers.keys() {
            assert_eq!(
                rebuilt.stored_transfer(id),
                self.books.stored_transfer(id),
                "replayed {id}"
            );
        }
        assert_books_match_model("after replay", &rebuilt, &self.model);
    }
}

/// Failing cases are kept next to this file (`books_model.proptest-regressions`) and replayed
/// first.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn the_books_agree_with_the_model(ops in vec(op(), 1..=OPS_PER_RUN_MAX)) {
        let mut run = BooksRun::new();
        for (step_number, op) in ops.iter().enumerate() {
            run.run(step_number, op);
        }
        run.assert_replay_rebuilds();
    }
}

// =======================================================================================
// The durable ledger: the same operations, then a restart and an audit.
// =======================================================================================

struct LedgerRun {
    directory: tempfile::TempDir,
    clock: ManualClock,
    store: Arc<SledStore>,
    ledger: Ledger,
    model: Model,
    requests: Requests,
    now: Timestamp,
    /// The model's balances after each command, with the command's instant.
    history: Vec<(Timestamp, Vec<ModelBalances>)>,
    /// A request the ledger accepted, to replay after the restart.
    first_accepted: Option<TransferRequest>,
}

impl LedgerRun {
    fn new() -> LedgerRun {
        let directory = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(T0);
        let store = Arc::new(SledStore::open(directory.path()).unwrap());
        let ledger = Ledger::with_store(store.clone(), Arc::new(clock.clone())).unwrap();
        let specs = account_specs();
        for spec in &specs {
            ledger.open_account(spec.clone()).unwrap().unwrap();
        }
        LedgerRun {
            directory,
            clock,
            store,
            ledger,
            model: Model::new(&specs),
            requests: Requests::default(),
            now: T0,
            history: Vec::new(),
            first_accepted: None,
        }
    }

    fn run(&mut self, step_number: usize, op: &Op) {
        let context = format!("durable step {step_number}: {op:?}");
        if let Op::Advance { seconds, .. } = op {
            self.clock.advance_seconds(i64::from(*seconds));
            self.now = self.now.plus_seconds(i64::from(*seconds));
            return;
        }
        // The writer releases due holds before every commit group.
        self.model.expire(self.now);
        match op {
            Op::Single(step) => {
                let request = self.requests.build(step, &self.model);
                self.single(&context, request);
            }
            Op::Replay(which) => {
                if let Some(request) = self.requests.earlier(which) {
                    self.single(&context, request);
                }
            }
            Op::Reuse(which, conflict) => {
                if let Some(request) = self.requests.conflicting(which, *conflict) {
                    self.single(&context, request);
                }
            }
            Op::Chain(steps) => {
                let mut scratch = self.model.clone();
                let mut requests = Vec::new();
                for step in steps {
                    let request = self.requests.build(step, &scratch);
                    let _ = scratch.execute(&request, self.now);
                    requests.push(request);
                }
                let expected = self.model.execute_chain(&requests, self.now);
                let actual = self.ledger.transfer_chain(requests).unwrap();
                assert_chain(&context, &expected, actual.as_ref());
            }
            Op::SetLimit { patient, limit_fen } => {
                let index = if *patient { PATIENT } else { DEPOSIT };
                let limit = limit_of(index, *limit_fen);
                self.ledger
                    .set_limit(account(index), limit)
                    .unwrap()
                    .unwrap();
                self.model.set_limit(index, limit);
            }
            Op::Advance { .. } => unreachable!("handled above"),
        }
        self.assert_balances(&context, &self.ledger);
        self.history.push((self.now, self.model.balances.clone()));
    }

    fn single(&mut self, context: &str, request: TransferRequest) {
        let expected = self.model.execute(&request, self.now);
        let actual = self.ledger.transfer(request.clone()).unwrap();
        assert_single(context, &expected, actual.as_ref());
        if matches!(
            expected,
            Ok(ModelOutcome {
                replayed: false,
                ..
            })
        ) {
            self.first_accepted.get_or_insert(request);
        }
    }

    fn assert_balances(&self, context: &str, ledger: &Ledger) {
        for (index, expected) in self.model.balances.iter().enumerate() {
            let actual = ledger.balances(&account(index)).unwrap().balances;
            assert_eq!(ModelBalances::of(&actual), *expected, "{context}: {index}");
        }
        assert_books_match_model(context, &ledger.engine().read(), &self.model);
    }

    /// An account's statement, page by page, sums to its balance.
    fn assert_statements(&self) {
        for (index, expected) in self.model.balances.iter().enumerate() {
            let entries = statement(&self.ledger, &account(index));
            let mut folded = ModelBalances::default();
            for entry in &entries {
                fold_entry(&mut folded, entry);
            }
            assert_eq!(folded, *expected, "statement of {}", account(index));
            let order: Vec<(u64, u16)> = entries.iter().map(|e| (e.seq, e.index)).collect();
            assert!(
                order.windows(2).all(|pair| pair[0] < pair[1]),
                "in journal order"
            );
            assert!(entries
                .windows(2)
                .all(|pair| pair[0].timestamp <= pair[1].timestamp));
        }
    }

    /// `balances_at` an earlier instant is what the model held then.
    fn assert_history(&self) {
        let zero = vec![ModelBalances::default(); ACCOUNTS];
        let mut checks = vec![(T0.plus_seconds(-1), &zero)];
        for (position, (at, balances)) in self.history.iter().enumerate() {
            let last_at_this_instant = self
                .history
                .get(position + 1)
                .map_or(true, |(next, _)| next != at);
            if last_at_this_instant {
                checks.push((*at, balances));
                checks.push((Timestamp::from_micros(at.micros() + 500_000), balances));
            }
        }
        for (at, balances) in checks {
            for (index, expected) in balances.iter().enumerate() {
                let actual = self.ledger.balances_at(&account(index), at).unwrap();
                assert_eq!(
                    ModelBalances::of(&actual),
                    *expected,
                    "{} at {at}",
                    account(index)
                );
            }
        }
    }

    /// Closes the ledger, audits the journal, reopens it from disk.
    fn restart_and_audit(self) {
        let LedgerRun {
            directory,
            clock,
            store,
            ledger,
            model,
            first_accepted,
            ..
        } = self;
        drop(ledger);
        let report = verify::<Books>(store.as_ref());
        assert!(report.is_sound(), "{:?}", report.problems);
        assert_eq!(report.accounts, ACCOUNTS);
        drop(store);

        let store = Arc::new(SledStore::open(directory.path()).unwrap());
        let reopened = Ledger::with_store(store.clone(), Arc::new(clock)).unwrap();
        for (index, expected) in model.balances.iter().enumerate() {
            let actual = reopened.balances(&account(index)).unwrap().balances;
            assert_eq!(ModelBalances::of(&actual), *expected, "after reopening");
        }
        assert_books_match_model("after reopening", &reopened.engine().read(), &model);
        if let Some(request) = first_accepted {
            let outcome = reopened.transfer(request).unwrap().unwrap();
            assert!(outcome.replayed, "idempotency survives a restart");
        }
        drop(reopened);
        let report = verify::<Books>(store.as_ref());
        assert!(report.is_sound(), "{:?}", report.problems);
    }
}

fn statement(ledger: &Ledger, id: &AccountId) -> Vec<AccountEntry> {
    let mut entries: Vec<AccountEntry> = Vec::new();
    loop {
        let after = entries.last().map(|entry| (entry.seq, entry.index));
        let page = ledger.entries(id, after, ENTRIES_PAGE).unwrap();
        let done = page.len() < ENTRIES_PAGE;
        entries.extend(page);
        if done {
            return entries;
        }
    }
}

fn fold_entry(balances: &mut ModelBalances, entry: &AccountEntry) {
    let amount = fen(entry.amount);
    let (pending, posted) = match entry.side {
        EntrySide::Debit => (&mut balances.debits_pending, &mut balances.debits_posted),
        EntrySide::Credit => (&mut balances.credits_pending, &mut balances.credits_posted),
    };
    match entry.phase {
        Phase::Posted => *posted += amount,
        Phase::Held => *pending += amount,
        Phase::Released => *pending -= amount,
    }
}

proptest! {
    #![proptest_config(config(32))]

    #[test]
    fn the_durable_ledger_agrees_with_the_model_and_survives_a_restart(
        ops in vec(op(), 1..=OPS_PER_DURABLE_RUN_MAX)
    ) {
        let mut run = LedgerRun::new();
        for (step_number, op) in ops.iter().enumerate() {
            run.run(step_number, op);
        }
        run.assert_statements();
        run.assert_history();
        run.restart_and_audit();
    }
}

/// Each entry's `balances_after` is the account's balance once its own record applied.
/// Two holds that expire in one commit group make two records; the first one's entries must
/// not already show the second release.
#[test]
fn each_expiry_record_carries_its_own_running_balance() {
    let run = LedgerRun::new();
    let hold = |id: &str, fen_amount: u64| {
        let legs = vec![Leg::new(
            &account(PATIENT),
            &account(1),
            Money::from_fen(fen_amount).unwrap(),
        )];
        TransferRequest::hold(TransferId::new(id).unwrap(), legs, 60)
    };
    run.ledger.transfer(hold("H1", 100)).unwrap().unwrap();
    run.ledger.transfer(hold("H2", 200)).unwrap().unwrap();
    run.clock.advance_seconds(60);
    // Any command runs the housekeeping: both holds expire in this group.
    let legs = vec![Leg::new(&account(0), &account(1), Money::yuan(1))];
    let post = TransferRequest::post(TransferId::new("T1").unwrap(), legs);
    run.ledger.transfer(post).unwrap().unwrap();

    let entries = statement(&run.ledger, &account(PATIENT));
    let mut running = ModelBalances::default();
    for (position, entry) in entries.iter().enumerate() {
        fold_entry(&mut running, entry);
        let last_of_its_record = entries
            .get(position + 1)
            .map_or(true, |next| next.seq != entry.seq);
        if last_of_its_record {
            assert_eq!(
                ModelBalances::of(&entry.balances_after),
                running,
                "entry {} of record {}",
                entry.index,
                entry.seq
            );
        }
    }
}
