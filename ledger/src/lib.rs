//! treatfirst-ledger: money, the double-entry journal and its storage, insurance settlement
//! and the visit lifecycle of "treat first, pay later".

pub mod ids;
pub mod insurance;
pub mod money;

pub use ids::*;
pub use money::{Money, MoneyError, Ratio, RatioError};
