//! The engine: one writer thread that applies commands to the state machine in memory and
//! makes them durable a commit group at a time.
//!
//! Submitters hand commands to the writer over a bounded queue. The writer takes everything
//! waiting (up to [`GROUP_COMMANDS_MAX`]), executes each command against the state machine,
//! encodes the resulting changes as hash-chained journal records, appends them to the store
//! in one atomic batch with one fsync, and only then answers every submitter of the group.
//! Many concurrent requests thus share one flush (group commit), and no request is answered
//! before its effect is on disk.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::thread::JoinHandle;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::journal::{
    marked_kind, AccountEntry, JournalKind, JournalStore, MarkedKind, RawRecord, RecordHash,
    StoreError, GENESIS_HASH,
};
use crate::{Clock, Timestamp};

/// The most commands the writer executes in one commit group.
pub const GROUP_COMMANDS_MAX: usize = 65_536;
/// The most submissions waiting for the writer; submitters block beyond it (backpressure).
pub const QUEUE_SUBMISSIONS_MAX: usize = 4_096;

const _: () = assert!(GROUP_COMMANDS_MAX >= QUEUE_SUBMISSIONS_MAX / 4);

/// A deterministic state machine whose changes the engine journals.
///
/// `execute` must be a pure function of (state, command, now): replaying the changes it
/// returned, in order, must rebuild the same state.
pub trait StateMachine: Send + Sync + 'static {
    type Command: Send + 'static;
    type Reply: Send + 'static;
    type Change: Serialize + DeserializeOwned + Send + 'static;

    /// Which journal this machine writes: recorded by stores that keep a marker, so that
    /// `verify` and a later open know what the records are.
    const JOURNAL_KIND: JournalKind;

    /// Executes a command at `now`: a rejected command changes nothing and returns no change;
    /// an accepted one has already been applied to `self` and returns what to journal.
    fn execute(
        &mut self,
        command: Self::Command,
        now: Timestamp,
    ) -> (Self::Reply, Vec<Self::Change>);

    /// The next piece of work due at `now` before new commands run (an expiring hold),
    /// already applied; the engine calls it until it returns `None`, journaling each change
    /// with its own entries.
    fn housekeeping(&mut self, now: Timestamp) -> Option<Self::Change>;

    /// Applies a journaled change during recovery.
    fn replay(&mut self, change: &Self::Change, at: Timestamp);

    /// The account entries a change makes, with balances as they stand now (right after the
    /// change applied). `seq` and `timestamp` are filled in by the engine.
    fn entries(&self, change: &Self::Change, out: &mut Vec<AccountEntry>);
}

/// Why the engine could not take a command.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("journal record {seq} does not decode: {reason}")]
    Decode { seq: u64, reason: String },
    #[error("journal chain broken at record {seq}")]
    ChainBroken { seq: u64 },
    #[error("the ledger stopped after a storage failure; restart to recover from the journal")]
    Stopped,
    #[error("the journal is marked as a {found} journal, not a {expected} one")]
    WrongJournalKind {
        found: String,
        expected: JournalKind,
    },
}

type ReplySink<R> = Box<dyn FnOnce(Result<Vec<R>, EngineError>) + Send>;

struct Submission<M: StateMachine> {
    commands: Vec<M::Command>,
    reply: ReplySink<M::Reply>,
}

/// Figures the engine keeps about itself (metrics).
#[derive(Debug, Default)]
pub struct EngineStats {
    pub commit_groups: AtomicU64,
    pub commands: AtomicU64,
    pub records: AtomicU64,
}

struct Shared<M> {
    state: RwLock<M>,
    store: Arc<dyn JournalStore>,
    stopped: AtomicBool,
    stats: EngineStats,
}

/// A running engine. Dropping it drains the queue and stops the writer.
pub struct Engine<M: StateMachine> {
    shared: Arc<Shared<M>>,
    sender: Option<SyncSender<Submission<M>>>,
    writer: Option<JoinHandle<()>>,
}

struct ChainHead {
    seq: u64,
    hash: RecordHash,
    timestamp: Timestamp,
}

impl<M: StateMachine> Engine<M> {
    /// Recovers `machine` from the journal in `store`, then starts the writer.
    ///
    /// # Errors
    /// The journal cannot be read, does not decode, or its hash chain is broken.
    pub fn open(
        store: Arc<dyn JournalStore>,
        mut machine: M,
        clock: Arc<dyn Clock>,
    ) -> Result<Engine<M>, EngineError> {
        let marked = match marked_kind(store.as_ref())? {
            MarkedKind::Marked(kind) if kind == M::JOURNAL_KIND => true,
            MarkedKind::Unmarked => false,
            MarkedKind::Marked(kind) => {
                return Err(EngineError::WrongJournalKind {
                    found: kind.to_string(),
                    expected: M::JOURNAL_KIND,
                })
            }
            MarkedKind::Unknown(found) => {
                return Err(EngineError::WrongJournalKind {
                    found,
                    expected: M::JOURNAL_KIND,
                })
            }
        };
        let head = recover(store.as_ref(), &mut machine)?;
        if !marked {
            // A new journal, or one written before markers: it replayed as `M`, so it is.
            if let Some(marker) = store.kind_marker() {
                marker.write_kind(M::JOURNAL_KIND)?;
            }
        }
        let shared = Arc::new(Shared {
            state: RwLock::new(machine),
            store,
            stopped: AtomicBool::new(false),
            stats: EngineStats::default(),
        });
        let (sender, receiver) = mpsc::sync_channel(QUEUE_SUBMISSIONS_MAX);
        let writer_shared = Arc::clone(&shared);
        let writer = std::thread::Builder::new()
            .name("ledger-writer".to_owned())
            .spawn(move || write_loop(&writer_shared, &receiver, clock.as_ref(), head))
            .map_err(|error| StoreError::Backend(format!("cannot start the writer: {error}")))?;
        Ok(Engine {
            shared,
            sender: Some(sender),
            writer: Some(writer),
        })
    }

    /// Submits commands; `reply` is called once they are durable (or failed), from the
    /// writer thread, with one reply per command in order. Keep it short: send it on.
    pub fn submit_with(
        &self,
        commands: Vec<M::Command>,
        reply: impl FnOnce(Result<Vec<M::Reply>, EngineError>) + Send + 'static,
    ) {
        if self.shared.stopped.load(Ordering::Acquire) {
            return reply(Err(EngineError::Stopped));
        }
        let sender = self.sender.as_ref().expect("sender lives until drop");
        if let Err(mpsc::SendError(submission)) = sender.send(Submission {
            commands,
            reply: Box::new(reply),
        }) {
            (submission.reply)(Err(EngineError::Stopped));
        }
    }

    /// Submits commands and waits until they are durable.
    ///
    /// # Errors
    /// The engine stopped after a storage failure.
    pub fn submit_many(&self, commands: Vec<M::Command>) -> Result<Vec<M::Reply>, EngineError> {
        let (sender, receiver) = mpsc::sync_channel(1);
        self.submit_with(commands, move |result| {
            let _ = sender.send(result);
        });
        receiver.recv().map_err(|_| EngineError::Stopped)?
    }

    /// Submits one command and waits until it is durable.
    ///
    /// # Errors
    /// The engine stopped after a storage failure.
    pub fn submit(&self, command: M::Command) -> Result<M::Reply, EngineError> {
        let mut replies = self.submit_many(vec![command])?;
        Ok(replies.pop().expect("one reply per command"))
    }

    /// Reads the state. Holds the writer off for as long as it runs: keep it short.
    pub fn read(&self) -> RwLockReadGuard<'_, M> {
        self.shared
            .state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn store(&self) -> &Arc<dyn JournalStore> {
        &self.shared.store
    }

    pub fn stats(&self) -> &EngineStats {
        &self.shared.stats
    }

    /// True once a storage failure stopped the writer.
    pub fn is_stopped(&self) -> bool {
        self.shared.stopped.load(Ordering::Acquire)
    }
}

impl<M: StateMachine> Drop for Engine<M> {
    fn drop(&mut self) {
        drop(self.sender.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// Replays the whole journal into `machine`, checking the chain as it goes.
fn recover<M: StateMachine>(
    store: &dyn JournalStore,
    machine: &mut M,
) -> Result<ChainHead, EngineError> {
    let mut head = ChainHead {
        seq: 0,
        hash: GENESIS_HASH,
        timestamp: Timestamp::EPOCH,
    };
    for record in store.records_from(1) {
        let record = record?;
        if record.seq != head.seq + 1 || record.prev_hash != head.hash {
            return Err(EngineError::ChainBroken { seq: record.seq });
        }
        let change: M::Change =
            postcard::from_bytes(&record.payload).map_err(|error| EngineError::Decode {
                seq: record.seq,
                reason: error.to_string(),
            })?;
        machine.replay(&change, record.timestamp);
        head = ChainHead {
            seq: record.seq,
            hash: record.hash(),
            timestamp: record.timestamp,
        };
    }
    Ok(head)
}

fn write_loop<M: StateMachine>(
    shared: &Shared<M>,
    receiver: &Receiver<Submission<M>>,
    clock: &dyn Clock,
    mut head: ChainHead,
) {
    let mut group: Vec<Submission<M>> = Vec::new();
    while let Ok(first) = receiver.recv() {
        let mut commands = first.commands.len();
        group.push(first);
        while commands < GROUP_COMMANDS_MAX {
            match receiver.try_recv() {
                Ok(submission) => {
                    commands += submission.commands.len();
                    group.push(submission);
                }
                Err(_) => break,
            }
        }
        // Journal time never goes backwards, whatever the wall clock does.
        let now = clock.now().max(head.timestamp);
        let (replies, records, entries) = execute_group(shared, &mut group, now, &mut head);
        let written = if records.is_empty() {
            Ok(())
        } else {
            shared.store.append(&records, &entries)
        };
        match written {
            Ok(()) => {
                shared.stats.commit_groups.fetch_add(1, Ordering::Relaxed);
                shared
                    .stats
                    .commands
                    .fetch_add(commands as u64, Ordering::Relaxed);
                shared
                    .stats
                    .records
                    .fetch_add(records.len() as u64, Ordering::Relaxed);
                for (submission, reply) in group.drain(..).zip(replies) {
                    (submission.reply)(Ok(reply));
                }
            }
            Err(error) => {
                // The in-memory state is ahead of the disk now: stop, answer nobody with
                // success, and let a restart recover from what is durable.
                shared.stopped.store(true, Ordering::Release);
                let message = error.to_string();
                for submission in group.drain(..) {
                    (submission.reply)(Err(EngineError::Store(StoreError::Backend(
                        message.clone(),
                    ))));
                }
                for submission in receiver.try_iter() {
                    (submission.reply)(Err(EngineError::Stopped));
                }
                return;
            }
        }
    }
}

type GroupOutput<R> = (Vec<Vec<R>>, Vec<RawRecord>, Vec<AccountEntry>);

fn execute_group<M: StateMachine>(
    shared: &Shared<M>,
    group: &mut [Submission<M>],
    now: Timestamp,
    head: &mut ChainHead,
) -> GroupOutput<M::Reply> {
    let mut state = shared
        .state
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut records = Vec::new();
    let mut entries = Vec::new();
    let mut journal = |state: &M, changes: Vec<M::Change>| {
        for change in changes {
            let first_entry = entries.len();
            state.entries(&change, &mut entries);
            let payload = postcard::to_stdvec(&change).expect("changes always encode");
            let seq = head.seq + 1;
            let record = RawRecord {
                seq,
                timestamp: now,
                prev_hash: head.hash,
                payload,
            };
            for entry in &mut entries[first_entry..] {
                entry.seq = seq;
                entry.timestamp = now;
            }
            *head = ChainHead {
                seq,
                hash: record.hash(),
                timestamp: now,
            };
            records.push(record);
        }
    };
    while let Some(due) = state.housekeeping(now) {
        journal(&state, vec![due]);
    }
    let mut replies = Vec::with_capacity(group.len());
    for submission in group.iter_mut() {
        let mut submission_replies = Vec::with_capacity(submission.commands.len());
        for command in submission.commands.drain(..) {
            let (reply, changes) = state.execute(command, now);
            journal(&state, changes);
            submission_replies.push(reply);
        }
        replies.push(submission_replies);
    }
    (replies, records, entries)
}
