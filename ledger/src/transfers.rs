//! Transfers: what clients ask for ([`TransferRequest`]), what the journal records
//! ([`Movement`]s), and the closed set of reasons a request is refused ([`Rejection`]).

use serde::{Deserialize, Serialize};

use crate::{AccountId, Money, Timestamp, TransferId};

/// The most legs one transfer may carry.
pub const LEGS_PER_TRANSFER_MAX: usize = 64;
/// The most transfers in one linked (all-or-nothing) chain.
pub const TRANSFERS_PER_CHAIN_MAX: usize = 64;
/// The longest a hold may stay pending: one year.
pub const HOLD_TIMEOUT_SECONDS_MAX: u32 = 366 * 24 * 3600;

/// One debit and one credit of the same amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leg {
    pub debit: AccountId,
    pub credit: AccountId,
    pub amount: Money,
}

impl Leg {
    pub fn new(debit: &AccountId, credit: &AccountId, amount: Money) -> Leg {
        Leg {
            debit: debit.clone(),
            credit: credit.clone(),
            amount,
        }
    }
}

/// What a transfer does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferAction {
    /// Post all legs at once.
    Post { legs: Vec<Leg> },
    /// Reserve the legs as pending (a hold) until posted, voided or expired.
    Hold {
        legs: Vec<Leg>,
        timeout_seconds: u32,
    },
    /// Post a hold: in full (`amounts: None`) or in part, one amount per leg; the remainder is
    /// released.
    PostPending {
        pending_id: TransferId,
        amounts: Option<Vec<Money>>,
    },
    /// Release a hold.
    VoidPending { pending_id: TransferId },
    /// Undo a posted transfer with new, opposite entries.
    Reverse { original_id: TransferId },
}

/// A client's request: its id is the idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferRequest {
    pub id: TransferId,
    pub action: TransferAction,
}

impl TransferRequest {
    pub fn post(id: TransferId, legs: Vec<Leg>) -> TransferRequest {
        TransferRequest {
            id,
            action: TransferAction::Post { legs },
        }
    }

    pub fn hold(id: TransferId, legs: Vec<Leg>, timeout_seconds: u32) -> TransferRequest {
        TransferRequest {
            id,
            action: TransferAction::Hold {
                legs,
                timeout_seconds,
            },
        }
    }
}

/// Which balances a movement touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Adds to the posted debits and credits.
    Posted,
    /// Adds to the pending debits and credits (a hold).
    Held,
    /// Takes back from the pending debits and credits (a hold posted, voided or expired).
    Released,
}

/// One balanced movement as the journal records it: the debit account's side and the credit
/// account's side move by the same amount in the same phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    pub debit: AccountId,
    pub credit: AccountId,
    pub amount: Money,
    pub phase: Phase,
}

/// Where a transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    Posted,
    Pending,
    PendingPosted,
    PendingVoided,
    PendingExpired,
    Reversed,
}

/// The reply to an accepted request. A replay of the same id with the same content returns
/// the original outcome with `replayed: true` and writes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferOutcome {
    pub id: TransferId,
    pub created_at: Timestamp,
    pub replayed: bool,
}

/// Why a request was refused. A refused request changes nothing, and its id stays free.
///
/// Checked in this order, first failure wins:
/// 1. shape: `legs_must_not_be_empty`, `legs_exceed_maximum`, `amount_must_not_be_zero`,
///    `accounts_must_be_different`, `timeout_must_be_positive`, `timeout_exceeds_maximum`,
///    more post amounts than legs can exist (`post_amounts_count_mismatch`);
/// 2. idempotency: the id exists with other content (`exists_with_different_*`);
/// 3. references: accounts, the pending or original transfer, its state, then whether the
///    post amounts match the hold's legs (`post_amounts_count_mismatch`);
/// 4. amounts: `post_amount_exceeds_pending`, `exceeds_credits`, `exceeds_debits`,
///    `overflows_balance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "code")]
#[non_exhaustive]
pub enum Rejection {
    #[error("legs_must_not_be_empty")]
    LegsMustNotBeEmpty,
    #[error("legs_exceed_maximum")]
    LegsExceedMaximum,
    #[error("amount_must_not_be_zero")]
    AmountMustNotBeZero,
    #[error("accounts_must_be_different")]
    AccountsMustBeDifferent,
    #[error("timeout_must_be_positive")]
    TimeoutMustBePositive,
    #[error("timeout_exceeds_maximum")]
    TimeoutExceedsMaximum,
    #[error("post_amounts_count_mismatch")]
    PostAmountsCountMismatch,
    #[error("exists_with_different_action")]
    ExistsWithDifferentAction,
    #[error("exists_with_different_legs")]
    ExistsWithDifferentLegs,
    #[error("exists_with_different_amount")]
    ExistsWithDifferentAmount,
    #[error("exists_with_different_timeout")]
    ExistsWithDifferentTimeout,
    #[error("exists_with_different_pending_id")]
    ExistsWithDifferentPendingId,
    #[error("exists_with_different_original_id")]
    ExistsWithDifferentOriginalId,
    #[error("debit_account_not_found")]
    DebitAccountNotFound,
    #[error("credit_account_not_found")]
    CreditAccountNotFound,
    #[error("pending_transfer_not_found")]
    PendingTransferNotFound,
    #[error("pending_transfer_not_pending")]
    PendingTransferNotPending,
    #[error("pending_transfer_already_posted")]
    PendingTransferAlreadyPosted,
    #[error("pending_transfer_already_voided")]
    PendingTransferAlreadyVoided,
    #[error("pending_transfer_expired")]
    PendingTransferExpired,
    #[error("original_transfer_not_found")]
    OriginalTransferNotFound,
    #[error("original_transfer_not_posted")]
    OriginalTransferNotPosted,
    #[error("original_transfer_already_reversed")]
    OriginalTransferAlreadyReversed,
    #[error("post_amount_exceeds_pending")]
    PostAmountExceedsPending,
    #[error("exceeds_credits")]
    ExceedsCredits,
    #[error("exceeds_debits")]
    ExceedsDebits,
    #[error("overflows_balance")]
    OverflowsBalance,
    #[error("linked_transfer_failed")]
    LinkedTransferFailed,
}

impl Rejection {
    /// The snake_case code clients see.
    pub fn code(&self) -> String {
        self.to_string()
    }
}

/// Why opening an account or changing its limit was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "code")]
#[non_exhaustive]
pub enum AccountRejection {
    #[error("account_exists_with_different_limit")]
    ExistsWithDifferentLimit,
    #[error("account_not_found")]
    AccountNotFound,
}
