use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::RwLock;

use serde::{Deserialize, Serialize};

use super::{AccountEntry, JournalStore, RawRecord, SledSync, StoreError};
use crate::accounts::Balances;
use crate::transfers::Phase;
use crate::{AccountId, EntrySide, Money, Timestamp, TransferId};

/// Key prefixes of the one sled tree. One tree, so that a commit group is one atomic
/// `apply_batch`.
///
/// - `b` + first seq (8 bytes, big-endian): a block, every record of one commit group.
/// - `e` + first seq: the account entries of that block, grouped by account behind a sorted
///   table of contents, so one account's entries decode without the rest.
///
/// A commit group is thus two sled inserts however many transfers and accounts it holds:
/// sled's cost is per insert, and per-account keys capped throughput at a third of the
/// target. Which blocks hold an account's entries is an in-memory index, rebuilt from the
/// tables of contents at open.
const BLOCK_PREFIX: u8 = b'b';
const ENTRY_PREFIX: u8 = b'e';
/// The most bytes of records one block takes (a single larger record is a block of its own).
/// sled splits a leaf at 16 items and writes a page over 128 KiB to a blob file of its own,
/// which costs an extra fsync of the file and of its directory per commit group; blocks of
/// this size keep a leaf's page below that.
const BLOCK_BYTES_TARGET: usize = 6 * 1024;

/// The embedded store: sled, fsynced once per commit group (see [`SledSync`]).
pub struct SledStore {
    database: sled::Db,
    sync: SledSync,
    tree: sled::Tree,
    /// For each account, the first seq of every block with entries of it, ascending.
    blocks_by_account: RwLock<HashMap<AccountId, Vec<u64>>>,
}

/// Where one account's entries sit inside an entry block.
#[derive(Serialize, Deserialize)]
struct TableOfContents<'a> {
    #[serde(borrow)]
    accounts: Vec<(&'a str, u32, u32)>,
}

/// One stored record of a block.
#[derive(Serialize, Deserialize)]
struct BlockRecord<'a> {
    timestamp: Timestamp,
    prev_hash: [u8; 32],
    #[serde(borrow)]
    payload: &'a [u8],
}

/// What an entry key does not already say.
#[derive(Serialize, Deserialize)]
struct EntryValue {
    seq: u64,
    index: u16,
    timestamp: Timestamp,
    transfer_id: Option<TransferId>,
    side: EntrySide,
    phase: Phase,
    amount: Money,
    balances_after: Balances,
}

impl SledStore {
    /// Opens (or creates) the store in `directory`.
    ///
    /// # Errors
    /// sled could not open the directory.
    pub fn open(directory: &Path) -> Result<SledStore, StoreError> {
        let database = open_database(directory)?;
        let tree = database.open_tree("ledger")?;
        let store = SledStore {
            sync: SledSync::new(database.clone(), directory)?,
            database,
            tree,
            blocks_by_account: RwLock::new(HashMap::new()),
        };
        store.rebuild_account_index()?;
        Ok(store)
    }

    /// The sled database the journal lives in, for services that keep their own
    /// non-journal data (access tokens) in separate trees of the same directory.
    pub fn database(&self) -> &sled::Db {
        &self.database
    }

    /// Flushes the database durably: what a service writing its own trees of
    /// [`SledStore::database`] calls before it acknowledges.
    pub fn sync(&self) -> &SledSync {
        &self.sync
    }

    fn rebuild_account_index(&self) -> Result<(), StoreError> {
        let mut index: HashMap<AccountId, Vec<u64>> = HashMap::new();
        for item in self.tree.scan_prefix([ENTRY_PREFIX]) {
            let (key, value) = item?;
            let first_seq = block_first_seq(&key);
            let (contents, _) = decode_contents(first_seq, &value)?;
            for (account, _, _) in contents.accounts {
                let account = AccountId::new(account).map_err(|error| StoreError::Corrupt {
                    seq: first_seq,
                    reason: error.to_string(),
                })?;
                index.entry(account).or_default().push(first_seq);
            }
        }
        *self
            .blocks_by_account
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = index;
        Ok(())
    }

    fn account_blocks(&self, account: &AccountId) -> Vec<u64> {
        let index = self
            .blocks_by_account
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        index.get(account).cloned().unwrap_or_default()
    }

    /// One account's entries in the entry block starting at `first_seq`.
    fn block_entries(
        &self,
        account: &AccountId,
        first_seq: u64,
    ) -> Result<Vec<AccountEntry>, StoreError> {
        let Some(value) = self.tree.get(SledStore::entry_key(first_seq))? else {
            return Err(StoreError::Corrupt {
                seq: first_seq,
                reason: "entry block missing".to_owned(),
            });
        };
        let (contents, chunks) = decode_contents(first_seq, &value)?;
        let Ok(position) = contents
            .accounts
            .binary_search_by(|(candidate, _, _)| (*candidate).cmp(account.as_str()))
        else {
            return Ok(Vec::new());
        };
        let (_, offset, length) = contents.accounts[position];
        let chunk = chunks
            .get(offset as usize..(offset + length) as usize)
            .ok_or(StoreError::Corrupt {
                seq: first_seq,
                reason: "entry chunk out of range".to_owned(),
            })?;
        SledStore::decode_entries(account, chunk)
    }

    fn block_key(first_seq: u64) -> [u8; 9] {
        let mut key = [0; 9];
        key[0] = BLOCK_PREFIX;
        key[1..].copy_from_slice(&first_seq.to_be_bytes());
        key
    }

    fn entry_key(first_seq: u64) -> [u8; 9] {
        let mut key = SledStore::block_key(first_seq);
        key[0] = ENTRY_PREFIX;
        key
    }

    fn decode_entries(account: &AccountId, value: &[u8]) -> Result<Vec<AccountEntry>, StoreError> {
        let values: Vec<EntryValue> =
            postcard::from_bytes(value).map_err(|error| StoreError::Corrupt {
                seq: 0,
                reason: format!("entries of {account}: {error}"),
            })?;
        Ok(values
            .into_iter()
            .map(|value| AccountEntry {
                account: account.clone(),
                seq: value.seq,
                index: value.index,
                timestamp: value.timestamp,
                transfer_id: value.transfer_id,
                side: value.side,
                phase: value.phase,
                amount: value.amount,
                balances_after: value.balances_after,
            })
            .collect())
    }

    /// Every block from the one holding `from_seq` on, in order.
    fn blocks_from(
        &self,
        from_seq: u64,
    ) -> Result<impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>, StoreError> {
        let holding = self
            .tree
            .range(SledStore::block_key(0)..=SledStore::block_key(from_seq))
            .next_back()
            .transpose()?
            .map_or(from_seq, |(key, _)| block_first_seq(&key));
        Ok(self
            .tree
            .range(SledStore::block_key(holding)..=SledStore::block_key(u64::MAX)))
    }
}

/// The kind marker lives under the key `kind` of the journal's tree (never a `b`/`e` key),
/// and is flushed durably like a commit group.
impl super::KindMarker for SledStore {
    fn read_kind(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.tree.read_kind()
    }

    fn write_kind(&self, kind: super::JournalKind) -> Result<(), StoreError> {
        self.tree
            .insert(super::SLED_KIND_KEY, kind.as_str().as_bytes())?;
        self.sync.flush()
    }
}

impl JournalStore for SledStore {
    fn kind_marker(&self) -> Option<&dyn super::KindMarker> {
        Some(self)
    }

    fn last_record(&self) -> Result<Option<RawRecord>, StoreError> {
        let Some((key, value)) = self
            .tree
            .scan_prefix([BLOCK_PREFIX])
            .next_back()
            .transpose()?
        else {
            return Ok(None);
        };
        Ok(decode_block(block_first_seq(&key), &value)?.pop())
    }

    fn records_from(
        &self,
        from_seq: u64,
    ) -> Box<dyn Iterator<Item = Result<RawRecord, StoreError>> + '_> {
        let blocks = match self.blocks_from(from_seq) {
            Ok(blocks) => blocks,
            Err(error) => return Box::new(std::iter::once(Err(error))),
        };
        Box::new(
            blocks
                .flat_map(|block| -> Vec<Result<RawRecord, StoreError>> {
                    match block
                        .map_err(StoreError::from)
                        .and_then(|(key, value)| decode_block(block_first_seq(&key), &value))
                    {
                        Ok(records) => records.into_iter().map(Ok).collect(),
                        Err(error) => vec![Err(error)],
                    }
                })
                .filter(move |record| {
                    record
                        .as_ref()
                        .map_or(true, |record| record.seq >= from_seq)
                }),
        )
    }

    fn append(&self, records: &[RawRecord], entries: &[AccountEntry]) -> Result<(), StoreError> {
        let Some(first) = records.first() else {
            return Ok(());
        };
        // The group's records as blocks of at most BLOCK_BYTES_TARGET (module docs), each
        // record encoded straight into its block.
        let mut blocks: Vec<(u64, Vec<u8>)> = Vec::new();
        for (offset, record) in records.iter().enumerate() {
            assert_eq!(
                record.seq,
                first.seq + offset as u64,
                "a group holds consecutive records"
            );
            let stored = BlockRecord {
                timestamp: record.timestamp,
                prev_hash: record.prev_hash,
                payload: &record.payload,
            };
            if blocks.is_empty() {
                blocks.push((record.seq, Vec::new()));
            }
            let (_, block) = blocks.last_mut().expect("a block was just made");
            let before = block.len();
            *block = postcard::to_extend(&stored, std::mem::take(block))
                .map_err(|error| StoreError::Backend(error.to_string()))?;
            if before > 0 && block.len() > BLOCK_BYTES_TARGET {
                // Over the target: this record starts the next block.
                let starts_next = block.split_off(before);
                blocks.push((record.seq, starts_next));
            }
        }
        // Each block's entries, by account (in id order: the table of contents' order).
        let mut by_block: Vec<BTreeMap<&AccountId, Vec<EntryValue>>> =
            (0..blocks.len()).map(|_| BTreeMap::new()).collect();
        for entry in entries {
            let block = blocks
                .partition_point(|(first_seq, _)| *first_seq <= entry.seq)
                .checked_sub(1)
                .ok_or_else(|| {
                    StoreError::Backend(format!("entry of record {} before the group", entry.seq))
                })?;
            by_block[block]
                .entry(&entry.account)
                .or_default()
                .push(EntryValue {
                    seq: entry.seq,
                    index: entry.index,
                    timestamp: entry.timestamp,
                    transfer_id: entry.transfer_id.clone(),
                    side: entry.side,
                    phase: entry.phase,
                    amount: entry.amount,
                    balances_after: entry.balances_after,
                });
        }
        let mut batch = sled::Batch::default();
        for ((first_seq, block), by_account) in blocks.iter().zip(&by_block) {
            batch.insert(&SledStore::block_key(*first_seq), block.as_slice());
            if !by_account.is_empty() {
                batch.insert(
                    &SledStore::entry_key(*first_seq),
                    encode_entry_block(by_account)?,
                );
            }
        }
        self.tree.apply_batch(batch)?;
        self.sync.flush()?;
        let mut index = self
            .blocks_by_account
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Blocks in seq order, so each account's list stays ascending.
        for ((first_seq, _), by_account) in blocks.iter().zip(&by_block) {
            for &account in by_account.keys() {
                index.entry(account.clone()).or_default().push(*first_seq);
            }
        }
        Ok(())
    }

    fn account_entries(
        &self,
        account: &AccountId,
        after: Option<(u64, u16)>,
        limit: usize,
    ) -> Result<Vec<AccountEntry>, StoreError> {
        let blocks = self.account_blocks(account);
        // The block holding the cursor is the last one starting at or before its seq.
        let start = match after {
            Some((seq, _)) => blocks
                .partition_point(|&first_seq| first_seq <= seq)
                .saturating_sub(1),
            None => 0,
        };
        let mut found = Vec::new();
        for &first_seq in &blocks[start..] {
            for entry in self.block_entries(account, first_seq)? {
                if after.is_some_and(|cursor| (entry.seq, entry.index) <= cursor) {
                    continue;
                }
                found.push(entry);
                if found.len() == limit {
                    return Ok(found);
                }
            }
        }
        Ok(found)
    }

    fn last_entry_at(
        &self,
        account: &AccountId,
        at: Timestamp,
    ) -> Result<Option<AccountEntry>, StoreError> {
        // Entries are in journal order and journal timestamps never decrease, so the first
        // entry from the end at or before `at` is the one.
        for &first_seq in self.account_blocks(account).iter().rev() {
            let entries = self.block_entries(account, first_seq)?;
            if let Some(entry) = entries
                .into_iter()
                .rev()
                .find(|entry| entry.timestamp <= at)
            {
                return Ok(Some(entry));
            }
        }
        Ok(None)
    }

    fn size_on_disk(&self) -> Option<u64> {
        self.database.size_on_disk().ok()
    }
}

/// How long opening waits for another handle on the same directory to let go: sled releases
/// its file lock from a background thread shortly after the last handle drops.
const LOCK_WAIT_MAX: std::time::Duration = std::time::Duration::from_secs(5);

fn open_database(directory: &Path) -> Result<sled::Db, StoreError> {
    let started = std::time::Instant::now();
    loop {
        let opened = sled::Config::new()
            .path(directory)
            .cache_capacity(128 * 1024 * 1024)
            // The engine flushes once per commit group; sled's own timer is not needed.
            .flush_every_ms(None)
            .mode(sled::Mode::HighThroughput)
            .open();
        match opened {
            Err(sled::Error::Io(error))
                if lock_is_busy(&error) && started.elapsed() < LOCK_WAIT_MAX =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return Ok(other?),
        }
    }
}

/// Whether opening failed only because the directory's lock is still held. sled reports that
/// as an `Other` error whose message names the lock (the `WouldBlock` is only inside the text).
fn lock_is_busy(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::WouldBlock
        || error.to_string().contains("could not acquire lock")
}

fn block_first_seq(key: &[u8]) -> u64 {
    key.get(1..9)
        .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
        .map_or(0, u64::from_be_bytes)
}

/// `[u32 table length][table of contents][chunks]`, accounts sorted by id.
fn encode_entry_block(
    by_account: &BTreeMap<&AccountId, Vec<EntryValue>>,
) -> Result<Vec<u8>, StoreError> {
    let encode_error = |error: postcard::Error| StoreError::Backend(error.to_string());
    let mut chunks = Vec::new();
    let mut accounts = Vec::with_capacity(by_account.len());
    for (account, values) in by_account {
        let offset = chunks.len();
        chunks = postcard::to_extend(values, chunks).map_err(encode_error)?;
        let length = chunks.len() - offset;
        let to_u32 = |value: usize| {
            u32::try_from(value)
                .map_err(|_| StoreError::Backend("entry block over 4 GiB".to_owned()))
        };
        accounts.push((account.as_str(), to_u32(offset)?, to_u32(length)?));
    }
    let contents = postcard::to_stdvec(&TableOfContents { accounts }).map_err(encode_error)?;
    let mut block = Vec::with_capacity(4 + contents.len() + chunks.len());
    block.extend_from_slice(
        &u32::try_from(contents.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    block.extend_from_slice(&contents);
    block.extend_from_slice(&chunks);
    Ok(block)
}

fn decode_contents(
    first_seq: u64,
    value: &[u8],
) -> Result<(TableOfContents<'_>, &[u8]), StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        seq: first_seq,
        reason,
    };
    let length_bytes: [u8; 4] = value
        .get(..4)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| corrupt("entry block header".to_owned()))?;
    let length = u32::from_be_bytes(length_bytes) as usize;
    let contents_bytes = value
        .get(4..4 + length)
        .ok_or_else(|| corrupt("entry block table".to_owned()))?;
    let contents: TableOfContents<'_> =
        postcard::from_bytes(contents_bytes).map_err(|error| corrupt(error.to_string()))?;
    Ok((contents, &value[4 + length..]))
}

fn decode_block(first_seq: u64, mut value: &[u8]) -> Result<Vec<RawRecord>, StoreError> {
    let mut records = Vec::new();
    while !value.is_empty() {
        let seq = first_seq + records.len() as u64;
        let (stored, rest): (BlockRecord<'_>, &[u8]) =
            postcard::take_from_bytes(value).map_err(|error| StoreError::Corrupt {
                seq,
                reason: error.to_string(),
            })?;
        records.push(RawRecord {
            seq,
            timestamp: stored.timestamp,
            prev_hash: stored.prev_hash,
            payload: stored.payload.to_vec(),
        });
        value = rest;
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn opening_waits_for_a_handle_that_is_letting_go() {
        let directory = tempfile::tempdir().unwrap();
        let first = SledStore::open(directory.path()).unwrap();
        let letting_go = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(first);
        });
        // The first handle still holds the directory's lock: this open waits for it.
        let second = SledStore::open(directory.path());
        letting_go.join().unwrap();
        assert!(second.is_ok(), "{:?}", second.err());
    }

    fn record(seq: u64, hash: &mut super::super::RecordHash, bytes: usize) -> RawRecord {
        let record = RawRecord {
            seq,
            timestamp: Timestamp::from_seconds(1_800_000_000),
            prev_hash: *hash,
            payload: vec![u8::try_from(seq % 251).unwrap(); bytes],
        };
        *hash = record.hash();
        record
    }

    fn entry(account: &str, seq: u64) -> AccountEntry {
        AccountEntry {
            account: AccountId::new(account).unwrap(),
            seq,
            index: 0,
            timestamp: Timestamp::from_seconds(1_800_000_000),
            transfer_id: None,
            side: EntrySide::Debit,
            phase: Phase::Posted,
            amount: Money::from_fen(seq).unwrap(),
            balances_after: Balances::default(),
        }
    }

    /// A page over sled's 128 KiB limit goes to a blob file, which sled itself never syncs
    /// (a single record that large makes one): the append returns only once it is synced.
    #[test]
    fn a_large_record_is_synced_blob_files_included() {
        let directory = tempfile::tempdir().unwrap();
        let store = SledStore::open(directory.path()).unwrap();
        let mut hash = super::super::GENESIS_HASH;
        for group in 0..3_u64 {
            let records: Vec<RawRecord> = (1..=3_u64)
                .map(|offset| {
                    let bytes = if offset == 2 { 200 * 1024 } else { 100 };
                    record(group * 3 + offset, &mut hash, bytes)
                })
                .collect();
            store.append(&records, &[]).unwrap();
            assert!(
                store.sync().unsynced_blobs().unwrap().is_empty(),
                "group {group}: a blob file was left unsynced"
            );
        }
        let blobs = std::fs::read_dir(directory.path().join("blobs"))
            .unwrap()
            .count();
        assert!(blobs > 0, "the large records were meant to need blob files");
        assert_eq!(store.records_from(1).count(), 9);
    }

    /// A group larger than a block is stored as several blocks, each with its own entries;
    /// records and entries read back whole and in order, also after reopening.
    #[test]
    fn a_group_spans_blocks_and_reads_back_whole() {
        let directory = tempfile::tempdir().unwrap();
        let mut hash = super::super::GENESIS_HASH;
        // 60 records of 500 bytes: about five blocks of BLOCK_BYTES_TARGET.
        let records: Vec<RawRecord> = (1..=60).map(|seq| record(seq, &mut hash, 500)).collect();
        let entries: Vec<AccountEntry> = (1..=60)
            .flat_map(|seq| {
                [
                    entry("a", seq),
                    entry(if seq % 2 == 0 { "b" } else { "c" }, seq),
                ]
            })
            .collect();
        {
            let store = SledStore::open(directory.path()).unwrap();
            store.append(&records, &entries).unwrap();
            let blocks = store.tree.scan_prefix([BLOCK_PREFIX]).count();
            assert!(blocks >= 4, "{blocks} blocks");
        }
        let store = SledStore::open(directory.path()).unwrap();
        let read: Vec<RawRecord> = store.records_from(1).map(Result::unwrap).collect();
        assert_eq!(read, records);
        let later: Vec<u64> = store.records_from(42).map(|r| r.unwrap().seq).collect();
        assert_eq!(later, (42..=60).collect::<Vec<_>>());
        let account_a = AccountId::new("a").unwrap();
        let mut seqs = Vec::new();
        let mut after = None;
        loop {
            let page = store.account_entries(&account_a, after, 7).unwrap();
            let Some(last) = page.last() else { break };
            after = Some((last.seq, last.index));
            seqs.extend(page.iter().map(|entry| entry.seq));
        }
        assert_eq!(seqs, (1..=60).collect::<Vec<_>>());
        let b = store
            .account_entries(&AccountId::new("b").unwrap(), None, 100)
            .unwrap();
        assert_eq!(
            b.iter().map(|entry| entry.seq).collect::<Vec<_>>(),
            (1..=30).map(|half| half * 2).collect::<Vec<_>>()
        );
        let last = store
            .last_entry_at(&account_a, Timestamp::from_seconds(1_800_000_000))
            .unwrap()
            .unwrap();
        assert_eq!(last.seq, 60);
    }
}
