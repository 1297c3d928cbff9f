//! treatfirst-ledger: money, the double-entry journal and its storage, insurance settlement
//! and the visit lifecycle of "treat first, pay later".
//!
//! Layers, bottom up:
//! - [`money`], [`ids`], [`time`]: value types. Money is exact; time is a parameter.
//! - [`accounts`], [`transfers`], [`books`]: the pure double-entry state machine.
//! - [`journal`]: the hash-chained journal and the storage trait (sled by default).
//! - [`engine`]: the single writer with group commit that makes changes durable before they
//!   are acknowledged.
//! - [`ledger`]: the double-entry ledger as a service; [`verify`]: the offline auditor.

pub mod accounts;
pub mod books;
pub mod engine;
pub mod growing_map;
pub mod ids;
pub mod insurance;
pub mod journal;
pub mod ledger;
pub mod money;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod reconciliation;
pub mod reports;
pub mod scheme;
pub mod time;
pub mod transfers;
pub mod verify;

pub use accounts::{Account, AccountLimit, AccountSpec, Balances, Normal};
pub use books::{Books, LedgerChange, TransferEffect};
pub use ids::*;
pub use journal::{AccountEntry, EntrySide};
pub use ledger::{Ledger, LedgerCommand, LedgerError, LedgerReply};
pub use money::{Money, MoneyError, Ratio, RatioError};
pub use time::{Clock, ManualClock, SystemClock, Timestamp, TimestampError};
pub use transfers::{
    AccountRejection, Leg, Movement, Phase, Rejection, TransferAction, TransferOutcome,
    TransferRequest, TransferStatus,
};
