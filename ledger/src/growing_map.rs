//! The map for in-memory indexes that only grow with history (transfers, visits, payments).
//!
//! A std `HashMap` doubles all at once: every entry is rehashed and moved inside one insert.
//! The engine makes its inserts under the state's write lock, so at millions of entries one
//! resize stalled a whole commit group (650 ms for the transfer index at 1.8 million
//! transfers in `benchmark ledger`). `griddle` moves a few entries per insert instead.
//! The hasher stays std's SipHash with a random key: these maps are keyed by client-chosen
//! ids.

/// A hash map that resizes incrementally (see the module docs).
pub type GrowingMap<K, V> = griddle::HashMap<K, V, std::hash::RandomState>;
