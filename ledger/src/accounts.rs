//! Accounts: an id, a limit, and four balances that only ever grow or shrink through
//! journaled movements.

use serde::{Deserialize, Serialize};

use crate::{AccountId, Money};

/// What an account may not do. Checked only when a transfer increases the side it bounds,
/// so lowering a limit below the current position never blocks repayments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AccountLimit {
    /// No bound: clearing, fund and expense accounts.
    #[default]
    Unbounded,
    /// `debits_pending + debits_posted <= credits_posted + limit`: a credit line, holds
    /// included. A limit of zero is "never overdrawn".
    DebitsWithinCredits { limit: Money },
    /// `credits_pending + credits_posted <= debits_posted + limit`.
    CreditsWithinDebits { limit: Money },
}

/// What a client asks for when opening an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSpec {
    pub id: AccountId,
    pub limit: AccountLimit,
}

/// Balances in the two phases, per side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balances {
    pub debits_pending: Money,
    pub debits_posted: Money,
    pub credits_pending: Money,
    pub credits_posted: Money,
}

/// Which way a balance is read: debit-normal (assets, receivables, expenses) or
/// credit-normal (liabilities, income).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normal {
    Debit,
    Credit,
}

impl Balances {
    /// The posted balance read on its normal side; zero when the account stands on the
    /// other side (see [`Balances::posted_signed_fen`] for the signed figure).
    pub fn posted(&self, normal: Normal) -> Money {
        match normal {
            Normal::Debit => self.debits_posted.saturating_sub(self.credits_posted),
            Normal::Credit => self.credits_posted.saturating_sub(self.debits_posted),
        }
    }

    /// Posted debits minus posted credits, in fen (reports and verification).
    pub fn posted_signed_fen(&self) -> i128 {
        i128::from(self.debits_posted.fen()) - i128::from(self.credits_posted.fen())
    }

    /// Pending debits minus pending credits, in fen.
    pub fn pending_signed_fen(&self) -> i128 {
        i128::from(self.debits_pending.fen()) - i128::from(self.credits_pending.fen())
    }

    /// What may still be debited under a `DebitsWithinCredits` limit (holds included).
    pub fn available_to_debit(&self, limit: Money) -> Money {
        let capacity = self.credits_posted.checked_add(limit).unwrap_or(Money::MAX);
        let used = self
            .debits_posted
            .checked_add(self.debits_pending)
            .unwrap_or(Money::MAX);
        capacity.saturating_sub(used)
    }
}

/// An account as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub limit: AccountLimit,
    pub balances: Balances,
}

impl Account {
    /// True when the balances satisfy the limit (judged in u128: exact at the top of the
    /// range too).
    pub fn within_limit(&self) -> bool {
        let fen = |money: Money| u128::from(money.fen());
        let balances = &self.balances;
        match self.limit {
            AccountLimit::Unbounded => true,
            AccountLimit::DebitsWithinCredits { limit } => {
                fen(balances.debits_posted) + fen(balances.debits_pending)
                    <= fen(balances.credits_posted) + fen(limit)
            }
            AccountLimit::CreditsWithinDebits { limit } => {
                fen(balances.credits_posted) + fen(balances.credits_pending)
                    <= fen(balances.debits_posted) + fen(limit)
            }
        }
    }
}
