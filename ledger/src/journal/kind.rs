//! Which state machine writes a journal: the double-entry [`crate::Books`] (`ledger`) or the
//! credit scheme (`scheme`). The payloads of a journal are one state machine's changes, so
//! reading a journal (recovery, `treatfirst verify`) needs to know which.
//!
//! A store that can keep a small marker beside its records says so through
//! [`super::JournalStore::kind_marker`]; the engine claims the marker for its state machine
//! when it opens (writing it into a journal that has none, refusing a journal marked for
//! another kind). For a journal without a marker (written before markers existed, or by a
//! store that keeps none) `verify` recognises the kind from the records themselves (see
//! [`crate::verify::verify_journal`]).

use std::fmt;

use super::StoreError;

/// The state machines whose journals the ledger knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JournalKind {
    /// The double-entry ledger alone ([`crate::Ledger`], changes are `LedgerChange`s).
    Ledger,
    /// The credit scheme ([`crate::scheme::SchemeLedger`], changes are `SchemeChange`s).
    Scheme,
}

impl JournalKind {
    pub const ALL: [JournalKind; 2] = [JournalKind::Ledger, JournalKind::Scheme];

    /// The name stored in the marker and printed by `verify`.
    pub const fn as_str(self) -> &'static str {
        match self {
            JournalKind::Ledger => "ledger",
            JournalKind::Scheme => "scheme",
        }
    }

    /// The kind a stored name stands for.
    pub fn from_name(name: &[u8]) -> Option<JournalKind> {
        JournalKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().as_bytes() == name)
    }
}

impl fmt::Display for JournalKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Where a store keeps the journal's kind.
pub trait KindMarker: Send + Sync {
    /// The stored kind name, if any.
    ///
    /// # Errors
    /// The store cannot be read.
    fn read_kind(&self) -> Result<Option<Vec<u8>>, StoreError>;

    /// Stores the kind name durably.
    ///
    /// # Errors
    /// The store cannot be written.
    fn write_kind(&self, kind: JournalKind) -> Result<(), StoreError>;
}

/// The marker's key in a sled tree. The journal's own keys start with `b` (blocks) and `e`
/// (entries), so `k` never meets them in a scan.
pub const SLED_KIND_KEY: &[u8] = b"kind";

/// The sled store keeps the marker in its journal tree, under [`SLED_KIND_KEY`].
impl KindMarker for sled::Tree {
    fn read_kind(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.get(SLED_KIND_KEY)?.map(|value| value.to_vec()))
    }

    fn write_kind(&self, kind: JournalKind) -> Result<(), StoreError> {
        self.insert(SLED_KIND_KEY, kind.as_str().as_bytes())?;
        self.flush()?;
        Ok(())
    }
}

/// What a journal's marker says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkedKind {
    /// The store keeps no marker, or this journal has none yet.
    Unmarked,
    Marked(JournalKind),
    /// A marker naming no kind this code knows (a newer version wrote it, or it is damaged).
    Unknown(String),
}

/// Reads the marker of `store`.
///
/// # Errors
/// The store cannot be read.
pub fn marked_kind(store: &dyn super::JournalStore) -> Result<MarkedKind, StoreError> {
    let Some(marker) = store.kind_marker() else {
        return Ok(MarkedKind::Unmarked);
    };
    Ok(match marker.read_kind()? {
        None => MarkedKind::Unmarked,
        Some(name) => match JournalKind::from_name(&name) {
            Some(kind) => MarkedKind::Marked(kind),
            None => MarkedKind::Unknown(String::from_utf8_lossy(&name).into_owned()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in JournalKind::ALL {
            assert_eq!(JournalKind::from_name(kind.as_str().as_bytes()), Some(kind));
        }
        assert_eq!(JournalKind::from_name(b"books"), None);
    }

    #[test]
    fn a_sled_tree_keeps_the_marker() {
        let directory = tempfile::tempdir().unwrap();
        let database = sled::open(directory.path()).unwrap();
        let tree = database.open_tree("ledger").unwrap();
        assert_eq!(tree.read_kind().unwrap(), None);
        tree.write_kind(JournalKind::Scheme).unwrap();
        assert_eq!(tree.read_kind().unwrap().as_deref(), Some(&b"scheme"[..]));
        assert_eq!(
            tree.scan_prefix(b"b").count() + tree.scan_prefix(b"e").count(),
            0
        );
    }
}
