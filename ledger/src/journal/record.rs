use sha2::{Digest, Sha256};

use crate::Timestamp;

/// SHA-256 of a record, chaining it to the one before.
pub type RecordHash = [u8; 32];

/// The `prev_hash` of the first record.
pub const GENESIS_HASH: RecordHash = [0; 32];

/// A journal record as stored: the payload is the state machine's change, encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    /// 1, 2, 3, ... without gaps.
    pub seq: u64,
    pub timestamp: Timestamp,
    pub prev_hash: RecordHash,
    pub payload: Vec<u8>,
}

impl RawRecord {
    /// The hash the next record must carry.
    pub fn hash(&self) -> RecordHash {
        chain_hash(self.seq, self.timestamp, &self.prev_hash, &self.payload)
    }
}

/// `sha256(seq ‖ timestamp ‖ prev_hash ‖ payload)`.
pub fn chain_hash(
    seq: u64,
    timestamp: Timestamp,
    prev_hash: &RecordHash,
    payload: &[u8],
) -> RecordHash {
    let mut hasher = Sha256::new();
    hasher.update(seq.to_be_bytes());
    hasher.update(timestamp.micros().to_be_bytes());
    hasher.update(prev_hash);
    hasher.update(payload);
    hasher.finalize().into()
}
