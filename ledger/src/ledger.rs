//! The double-entry ledger as a service: [`Books`] run by the [`Engine`] over a journal store.

use std::path::Path;
use std::sync::Arc;

use crate::accounts::{AccountLimit, AccountSpec, Balances};
use crate::books::{Books, LedgerChange};
use crate::engine::{Engine, EngineError, StateMachine};
use crate::journal::{AccountEntry, EntrySide, JournalKind, JournalStore, SledStore, StoreError};
use crate::transfers::{AccountRejection, Phase, Rejection, TransferOutcome, TransferRequest};
use crate::{AccountId, Clock, SystemClock, Timestamp};

/// What the ledger can be asked to do.
#[derive(Debug, Clone)]
pub enum LedgerCommand {
    OpenAccount(AccountSpec),
    SetLimit {
        account: AccountId,
        limit: AccountLimit,
    },
    Transfer(TransferRequest),
    /// All or nothing.
    Chain(Vec<TransferRequest>),
}

/// The answer to a [`LedgerCommand`], in the same shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerReply {
    Account(Result<(), AccountRejection>),
    Transfer(Result<TransferOutcome, Rejection>),
    Chain(Result<Vec<TransferOutcome>, (usize, Rejection)>),
}

impl StateMachine for Books {
    type Command = LedgerCommand;
    type Reply = LedgerReply;
    type Change = LedgerChange;
    const JOURNAL_KIND: JournalKind = JournalKind::Ledger;

    fn execute(
        &mut self,
        command: LedgerCommand,
        now: Timestamp,
    ) -> (LedgerReply, Vec<LedgerChange>) {
        match command {
            LedgerCommand::OpenAccount(spec) => account_reply(self.open_account(spec)),
            LedgerCommand::SetLimit { account, limit } => {
                account_reply(self.set_limit(&account, limit))
            }
            LedgerCommand::Transfer(request) => match self.transfer(request, now) {
                Ok((outcome, change)) => (
                    LedgerReply::Transfer(Ok(outcome)),
                    change.into_iter().collect(),
                ),
                Err(rejection) => (LedgerReply::Transfer(Err(rejection)), Vec::new()),
            },
            LedgerCommand::Chain(requests) => match self.transfer_chain(requests, now) {
                Ok((outcomes, change)) => (
                    LedgerReply::Chain(Ok(outcomes)),
                    change.into_iter().collect(),
                ),
                Err(failure) => (LedgerReply::Chain(Err(failure)), Vec::new()),
            },
        }
    }

    fn housekeeping(&mut self, now: Timestamp) -> Option<LedgerChange> {
        self.expire_next(now)
    }

    fn replay(&mut self, change: &LedgerChange, at: Timestamp) {
        self.apply(change, at);
    }

    fn entries(&self, change: &LedgerChange, out: &mut Vec<AccountEntry>) {
        ledger_entries(self, change, out);
    }
}

fn account_reply(
    result: Result<Option<LedgerChange>, AccountRejection>,
) -> (LedgerReply, Vec<LedgerChange>) {
    match result {
        Ok(change) => (LedgerReply::Account(Ok(())), change.into_iter().collect()),
        Err(rejection) => (LedgerReply::Account(Err(rejection)), Vec::new()),
    }
}

/// The statement rows of a change: each movement is a debit entry on one account and a
/// credit entry on the other.
pub fn ledger_entries(books: &Books, change: &LedgerChange, out: &mut Vec<AccountEntry>) {
    let transfer_of = |movement_index: usize| -> Option<crate::TransferId> {
        match change {
            LedgerChange::Transfers(effects) => {
                let mut remaining = movement_index;
                for effect in effects {
                    if remaining < effect.movements.len() {
                        return Some(effect.request.id.clone());
                    }
                    remaining -= effect.movements.len();
                }
                None
            }
            LedgerChange::Expired { pending_id, .. } => Some(pending_id.clone()),
            _ => None,
        }
    };
    let first = out.len();
    for (movement_index, movement) in change.movements().enumerate() {
        for (account, side) in [
            (&movement.debit, EntrySide::Debit),
            (&movement.credit, EntrySide::Credit),
        ] {
            let index = out[first..]
                .iter()
                .filter(|entry| &entry.account == account)
                .count();
            out.push(AccountEntry {
                account: account.clone(),
                seq: 0,
                index: u16::try_from(index).expect("entries per record are bounded"),
                timestamp: Timestamp::EPOCH,
                transfer_id: transfer_of(movement_index),
                side,
                phase: movement.phase,
                amount: movement.amount,
                balances_after: books
                    .account(account)
                    .map(|account| account.balances)
                    .unwrap_or_default(),
            });
        }
    }
}

/// Errors of the ledger's queries and commands that are not rejections.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("account {0} not found")]
    AccountNotFound(AccountId),
}

/// Balances of one account as clients read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountBalances {
    pub balances: Balances,
    pub limit: AccountLimit,
}

/// The most entries one page of an account's statement returns.
pub const ENTRIES_PAGE_MAX: usize = 1_000;

/// A double-entry ledger on durable storage.
///
/// ```
/// use treatfirst_ledger::{Ledger, AccountSpec, AccountLimit, AccountId, Leg, Money, TransferId, TransferRequest};
/// let directory = tempfile::tempdir().unwrap();
/// let ledger = Ledger::open(directory.path()).unwrap();
/// let cash = AccountId::new("cash").unwrap();
/// let loan = AccountId::new("loan").unwrap();
/// ledger.open_account(AccountSpec { id: cash.clone(), limit: AccountLimit::Unbounded }).unwrap().unwrap();
/// ledger.open_account(AccountSpec { id: loan.clone(), limit: AccountLimit::Unbounded }).unwrap().unwrap();
/// let request = TransferRequest::post(TransferId::new("T1").unwrap(), vec![Leg::new(&loan, &cash, Money::yuan(100))]);
/// let outcome = ledger.transfer(request.clone()).unwrap().unwrap();
/// assert!(!outcome.replayed);
/// assert!(ledger.transfer(request).unwrap().unwrap().replayed);
/// assert_eq!(ledger.balances(&loan).unwrap().balances.debits_posted, Money::yuan(100));
/// ```
pub struct Ledger {
    engine: Engine<Books>,
}

impl Ledger {
    /// Opens the embedded (sled) ledger in `directory` with the system clock.
    ///
    /// # Errors
    /// The store cannot be opened or its journal does not verify.
    pub fn open(directory: &Path) -> Result<Ledger, LedgerError> {
        let store = Arc::new(SledStore::open(directory)?);
        Ledger::with_store(store, Arc::new(SystemClock))
    }

    /// Opens the ledger over any store and clock.
    ///
    /// # Errors
    /// The journal cannot be read or does not verify.
    pub fn with_store(
        store: Arc<dyn JournalStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Ledger, LedgerError> {
        Ok(Ledger {
            engine: Engine::open(store, Books::new(), clock)?,
        })
    }

    pub fn engine(&self) -> &Engine<Books> {
        &self.engine
    }

    /// # Errors
    /// Storage failure (the rejection is the inner result).
    pub fn open_account(
        &self,
        spec: AccountSpec,
    ) -> Result<Result<(), AccountRejection>, LedgerError> {
        match self.engine.submit(LedgerCommand::OpenAccount(spec))? {
            LedgerReply::Account(result) => Ok(result),
            other => unreachable!("account command answered with {other:?}"),
        }
    }

    /// # Errors
    /// Storage failure (the rejection is the inner result).
    pub fn set_limit(
        &self,
        account: AccountId,
        limit: AccountLimit,
    ) -> Result<Result<(), AccountRejection>, LedgerError> {
        match self
            .engine
            .submit(LedgerCommand::SetLimit { account, limit })?
        {
            LedgerReply::Account(result) => Ok(result),
            other => unreachable!("account command answered with {other:?}"),
        }
    }

    /// Executes one transfer and waits until it is durable.
    ///
    /// # Errors
    /// Storage failure (the rejection is the inner result).
    pub fn transfer(
        &self,
        request: TransferRequest,
    ) -> Result<Result<TransferOutcome, Rejection>, LedgerError> {
        match self.engine.submit(LedgerCommand::Transfer(request))? {
            LedgerReply::Transfer(result) => Ok(result),
            other => unreachable!("transfer answered with {other:?}"),
        }
    }

    /// Executes a linked chain, all or nothing.
    ///
    /// # Errors
    /// Storage failure (the rejection is the inner result).
    pub fn transfer_chain(
        &self,
        requests: Vec<TransferRequest>,
    ) -> Result<Result<Vec<TransferOutcome>, (usize, Rejection)>, LedgerError> {
        match self.engine.submit(LedgerCommand::Chain(requests))? {
            LedgerReply::Chain(result) => Ok(result),
            other => unreachable!("chain answered with {other:?}"),
        }
    }

    /// Executes independent transfers as one submission (they share one commit).
    ///
    /// # Errors
    /// Storage failure (each rejection is in its own result).
    pub fn transfer_batch(
        &self,
        requests: Vec<TransferRequest>,
    ) -> Result<Vec<Result<TransferOutcome, Rejection>>, LedgerError> {
        let commands = requests.into_iter().map(LedgerCommand::Transfer).collect();
        let replies = self.engine.submit_many(commands)?;
        Ok(replies
            .into_iter()
            .map(|reply| match reply {
                LedgerReply::Transfer(result) => result,
                other => unreachable!("transfer answered with {other:?}"),
            })
            .collect())
    }

    /// Current balances (posted and pending) and limit.
    ///
    /// # Errors
    /// Unknown account.
    pub fn balances(&self, account: &AccountId) -> Result<AccountBalances, LedgerError> {
        let books = self.engine.read();
        let found = books
            .account(account)
            .ok_or_else(|| LedgerError::AccountNotFound(account.clone()))?;
        Ok(AccountBalances {
            balances: found.balances,
            limit: found.limit,
        })
    }

    /// Balances as they stood at `at` (after every record journaled at or before it).
    ///
    /// # Errors
    /// Unknown account, storage failure.
    pub fn balances_at(&self, account: &AccountId, at: Timestamp) -> Result<Balances, LedgerError> {
        if self.engine.read().account(account).is_none() {
            return Err(LedgerError::AccountNotFound(account.clone()));
        }
        let entry = self.engine.store().last_entry_at(account, at)?;
        Ok(entry.map(|entry| entry.balances_after).unwrap_or_default())
    }

    /// An account's entries in journal order, a page at a time: pass the last entry's
    /// `(seq, index)` to get the next page.
    ///
    /// # Errors
    /// Unknown account, storage failure.
    pub fn entries(
        &self,
        account: &AccountId,
        after: Option<(u64, u16)>,
        limit: usize,
    ) -> Result<Vec<AccountEntry>, LedgerError> {
        if self.engine.read().account(account).is_none() {
            return Err(LedgerError::AccountNotFound(account.clone()));
        }
        Ok(self
            .engine
            .store()
            .account_entries(account, after, limit.min(ENTRIES_PAGE_MAX))?)
    }
}

/// True when the phase moves posted balances (statements show these as money moved).
pub fn is_posted(phase: Phase) -> bool {
    phase == Phase::Posted
}
