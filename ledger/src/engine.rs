//! The engine: one writer thread that applies commands to the state machine in memory, and
//! one flusher thread that makes them durable a commit group at a time.
//!
//! Submitters hand commands to the writer over a bounded queue. The writer takes everything
//! waiting (up to [`GROUP_COMMANDS_MAX`]), executes each command against the state machine
//! (in order: it is the only one that changes the state), encodes the resulting changes and
//! stages them for the flusher. The flusher takes everything staged, chains the records
//! (each carries the hash of the one before), appends them to the store in one atomic batch
//! with one fsync, and only then answers every submitter whose commands the batch holds.
//!
//! The two threads form a pipeline: the writer executes the next group while the flusher
//! writes and fsyncs the previous one. What stays true:
//! - **no reply before its fsync**: replies travel with their records and are released by
//!   the flusher after the append that holds them returned (a group that wrote nothing, only
//!   refusals or idempotent replays, is answered after every earlier group is durable: it may
//!   have read their effects);
//! - **order**: groups are staged, chained and appended in execution order;
//! - **a failed append stops everything after it**: the flusher answers its batch with the
//!   storage error and everything staged after it with [`EngineError::Stopped`], writes
//!   nothing more, and the writer executes nothing more; a restart recovers from the journal.
//!
//! Reads take the state's read lock and may see a change before it is durable (see
//! ARCHITECTURE.md); with the pipeline that window is at most two commit groups.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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

/// On a shared journal, how long an idle writer waits before it reads what other nodes
/// appended (so that reads here do not fall further behind than this).
pub const SHARED_JOURNAL_POLL: Duration = Duration::from_millis(20);

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
    /// change applied). `seq` and `timestamp` are filled in by [`StateMachine::journal_entries`].
    fn entries(&self, change: &Self::Change, out: &mut Vec<AccountEntry>);

    /// The entries of `change` as record `seq`, journaled at `at`, appended to `out`: what
    /// the engine stores with each record and what a copy of the journal rebuilds.
    fn journal_entries(
        &self,
        change: &Self::Change,
        seq: u64,
        at: Timestamp,
        out: &mut Vec<AccountEntry>,
    ) {
        let first_entry = out.len();
        self.entries(change, out);
        for entry in &mut out[first_entry..] {
            entry.seq = seq;
            entry.timestamp = at;
        }
    }
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

/// A submission's replies, executed, and where they go once durable.
type Answer<R> = (ReplySink<R>, Vec<R>);

struct Submission<M: StateMachine> {
    commands: Vec<M::Command>,
    reply: ReplySink<M::Reply>,
}

/// The submissions waiting for the writer: a bounded queue (submitters wait beyond
/// [`QUEUE_SUBMISSIONS_MAX`]) that the writer empties a commit group at a time. It wakes
/// the writer only when the writer waits, and never spins.
struct Queue<M: StateMachine> {
    state: Mutex<QueueState<M>>,
    /// The writer waits here for submissions.
    filled: Condvar,
    /// Submitters wait here for room.
    emptied: Condvar,
}

struct QueueState<M: StateMachine> {
    submissions: VecDeque<Submission<M>>,
    /// No more submissions are taken (the engine is dropped, or stopped).
    closed: bool,
    writer_waiting: bool,
    submitters_waiting: usize,
}

impl<M: StateMachine> Queue<M> {
    fn new() -> Queue<M> {
        Queue {
            state: Mutex::new(QueueState {
                submissions: VecDeque::new(),
                closed: false,
                writer_waiting: false,
                submitters_waiting: 0,
            }),
            filled: Condvar::new(),
            emptied: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState<M>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues a submission; gives it back when the queue is closed.
    fn push(&self, submission: Submission<M>) -> Result<(), Submission<M>> {
        let mut state = self.lock();
        while state.submissions.len() >= QUEUE_SUBMISSIONS_MAX && !state.closed {
            state.submitters_waiting += 1;
            state = self
                .emptied
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            state.submitters_waiting -= 1;
        }
        if state.closed {
            return Err(submission);
        }
        state.submissions.push_back(submission);
        let wake = std::mem::take(&mut state.writer_waiting);
        drop(state);
        if wake {
            self.filled.notify_one();
        }
        Ok(())
    }

    /// Waits for submissions and moves the next commit group's worth (up to
    /// [`GROUP_COMMANDS_MAX`] commands, at least one submission) into `group`. False once
    /// the queue is closed and empty.
    fn pop_group(&self, group: &mut Vec<Submission<M>>) -> bool {
        let mut state = self.lock();
        while state.submissions.is_empty() {
            if state.closed {
                return false;
            }
            state.writer_waiting = true;
            state = self
                .filled
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        let mut commands = 0;
        while commands < GROUP_COMMANDS_MAX {
            let Some(submission) = state.submissions.pop_front() else {
                break;
            };
            commands += submission.commands.len();
            group.push(submission);
        }
        let wake = state.submitters_waiting > 0;
        drop(state);
        if wake {
            self.emptied.notify_all();
        }
        true
    }

    /// [`Queue::pop_group`], but gives up after `idle` without submissions.
    fn pop_group_within(&self, group: &mut Vec<Submission<M>>, idle: Duration) -> Popped {
        let mut state = self.lock();
        let deadline = Instant::now() + idle;
        while state.submissions.is_empty() {
            if state.closed {
                return Popped::Closed;
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return Popped::Idle;
            };
            state.writer_waiting = true;
            state = self
                .filled
                .wait_timeout(state, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        drop(state);
        if self.pop_group(group) {
            Popped::Group
        } else {
            Popped::Closed
        }
    }

    /// Takes no more submissions; the writer still empties the queue.
    fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        drop(state);
        self.filled.notify_one();
        self.emptied.notify_all();
    }

    /// What is still queued (after `close`).
    fn drain(&self) -> Vec<Submission<M>> {
        self.lock().submissions.drain(..).collect()
    }
}

/// What [`Queue::pop_group_within`] found.
enum Popped {
    Group,
    Idle,
    Closed,
}

/// Where a waiting submitter receives its replies: lighter than a channel per submission,
/// and it blocks without spinning (many submitters share few cores).
struct ReplySlot<T> {
    value: Mutex<Option<Result<T, EngineError>>>,
    ready: Condvar,
}

impl<T> ReplySlot<T> {
    fn take(&self) -> Result<T, EngineError> {
        let mut value = self
            .value
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        loop {
            if let Some(result) = value.take() {
                return result;
            }
            value = self
                .ready
                .wait(value)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }
}

/// The writer's end of a [`ReplySlot`]: dropped unused (the engine went away with the
/// submission), it answers `Stopped`, so that no submitter waits forever.
struct Replier<T> {
    slot: Option<Arc<ReplySlot<T>>>,
}

impl<T> Replier<T> {
    fn put(&mut self, result: Result<T, EngineError>) {
        if let Some(slot) = self.slot.take() {
            *slot
                .value
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(result);
            slot.ready.notify_one();
        }
    }
}

impl<T> Drop for Replier<T> {
    fn drop(&mut self) {
        self.put(Err(EngineError::Stopped));
    }
}

/// Figures the engine keeps about itself (metrics).
#[derive(Debug, Default)]
pub struct EngineStats {
    pub commit_groups: AtomicU64,
    pub commands: AtomicU64,
    pub records: AtomicU64,
}

impl EngineStats {
    /// Counts a durable batch (a group that wrote no record is not a commit group).
    fn count_durable(&self, records: usize, commands: usize) {
        if records > 0 {
            self.commit_groups.fetch_add(1, Ordering::Relaxed);
        }
        self.commands.fetch_add(commands as u64, Ordering::Relaxed);
        self.records.fetch_add(records as u64, Ordering::Relaxed);
    }
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
    queue: Arc<Queue<M>>,
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
        let queue = Arc::new(Queue::new());
        let receiver = Arc::clone(&queue);
        let writer_shared = Arc::clone(&shared);
        let writer = std::thread::Builder::new()
            .name("ledger-writer".to_owned())
            .spawn(move || {
                if writer_shared.store.shared().is_some() {
                    shared_write_loop(&writer_shared, &receiver, clock.as_ref(), head);
                } else {
                    write_loop(&writer_shared, &receiver, clock.as_ref(), head);
                }
            })
            .map_err(|error| StoreError::Backend(format!("cannot start the writer: {error}")))?;
        Ok(Engine {
            shared,
            queue,
            writer: Some(writer),
        })
    }

    /// Submits commands; `reply` is called once they are durable (or failed), from the
    /// flusher thread (or another one when the engine stopped), with one reply per command in
    /// order. Keep it short: send it on.
    pub fn submit_with(
        &self,
        commands: Vec<M::Command>,
        reply: impl FnOnce(Result<Vec<M::Reply>, EngineError>) + Send + 'static,
    ) {
        if self.shared.stopped.load(Ordering::Acquire) {
            return reply(Err(EngineError::Stopped));
        }
        let submission = Submission {
            commands,
            reply: Box::new(reply),
        };
        if let Err(submission) = self.queue.push(submission) {
            (submission.reply)(Err(EngineError::Stopped));
        }
    }

    /// Submits commands and waits until they are durable.
    ///
    /// # Errors
    /// The engine stopped after a storage failure.
    pub fn submit_many(&self, commands: Vec<M::Command>) -> Result<Vec<M::Reply>, EngineError> {
        let slot = Arc::new(ReplySlot {
            value: Mutex::new(None),
            ready: Condvar::new(),
        });
        let mut replier = Replier {
            slot: Some(Arc::clone(&slot)),
        };
        self.submit_with(commands, move |result| replier.put(result));
        slot.take()
    }

    /// Submits one command and waits until it is durable.
    ///
    /// # Errors
    /// The engine stopped after a storage failure.
    pub fn submit(&self, command: M::Command) -> Result<M::Reply, EngineError> {
        let mut replies = self.submit_many(vec![command])?;
        Ok(replies.pop().expect("one reply per command"))
    }

    /// Calls `reply` once the state holds every record durable in the journal when it was
    /// called: on a shared journal, after reading what other nodes appended; on a store only
    /// this process writes, after every earlier commit group is durable. Read after it for
    /// an answer no older than the request.
    pub fn refresh_with(&self, reply: impl FnOnce(Result<(), EngineError>) + Send + 'static) {
        self.submit_with(Vec::new(), move |result| reply(result.map(|_| ())));
    }

    /// [`Engine::refresh_with`], waiting.
    ///
    /// # Errors
    /// The store could not be read, or the engine stopped.
    pub fn refresh(&self) -> Result<(), EngineError> {
        self.submit_many(Vec::new()).map(|_| ())
    }

    /// True when other processes write the journal too (see [`JournalStore::shared`]).
    pub fn is_shared(&self) -> bool {
        self.shared.store.shared().is_some()
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
        self.queue.close();
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
        replay_record(machine, &mut head, &record?)?;
    }
    Ok(head)
}

/// Applies the record that follows `head` and moves `head` past it.
fn replay_record<M: StateMachine>(
    machine: &mut M,
    head: &mut ChainHead,
    record: &RawRecord,
) -> Result<(), EngineError> {
    if record.seq != head.seq + 1 || record.prev_hash != head.hash {
        return Err(EngineError::ChainBroken { seq: record.seq });
    }
    let change: M::Change =
        postcard::from_bytes(&record.payload).map_err(|error| EngineError::Decode {
            seq: record.seq,
            reason: error.to_string(),
        })?;
    machine.replay(&change, record.timestamp);
    *head = ChainHead {
        seq: record.seq,
        hash: record.hash(),
        timestamp: record.timestamp,
    };
    Ok(())
}

/// One stage of work handed from the executor to the flusher: executed changes, encoded
/// (each with its time), their account entries, and the replies waiting for them to be
/// durable. The executor encodes, so that the changes are freed by the thread that
/// allocated them (freeing across threads contends on the allocator's locks).
struct Staged<M: StateMachine> {
    changes: Vec<(Timestamp, Vec<u8>)>,
    entries: Vec<AccountEntry>,
    replies: Vec<Answer<M::Reply>>,
    commands: usize,
}

impl<M: StateMachine> Default for Staged<M> {
    fn default() -> Staged<M> {
        Staged {
            changes: Vec::new(),
            entries: Vec::new(),
            replies: Vec::new(),
            commands: 0,
        }
    }
}

impl<M: StateMachine> Staged<M> {
    fn is_empty(&self) -> bool {
        self.replies.is_empty() && self.changes.is_empty()
    }

    fn fail(self, error: impl Fn() -> EngineError) {
        for (reply, _) in self.replies {
            reply(Err(error()));
        }
    }
}

/// What the executor has executed and the flusher has not yet taken.
struct Pipeline<M: StateMachine> {
    staged: Mutex<PipelineState<M>>,
    /// The flusher waits here for work.
    work: Condvar,
    /// The executor waits here for room (backpressure).
    room: Condvar,
}

struct PipelineState<M: StateMachine> {
    staged: Staged<M>,
    /// The executor has finished: flush what is staged, then stop.
    closed: bool,
    /// An append failed: nothing more is written.
    failed: bool,
}

impl<M: StateMachine> Pipeline<M> {
    fn lock(&self) -> MutexGuard<'_, PipelineState<M>> {
        self.staged
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The writer: executes commit groups and stages them for the flusher thread, which makes
/// them durable and answers. Execution of the next group overlaps the write and fsync of
/// the previous one (a two-stage pipeline); replies still wait for their own group's fsync,
/// and the flusher appends everything staged since its last append as one atomic batch.
fn write_loop<M: StateMachine>(
    shared: &Arc<Shared<M>>,
    receiver: &Queue<M>,
    clock: &dyn Clock,
    head: ChainHead,
) {
    let pipeline = Arc::new(Pipeline {
        staged: Mutex::new(PipelineState {
            staged: Staged::default(),
            closed: false,
            failed: false,
        }),
        work: Condvar::new(),
        room: Condvar::new(),
    });
    let flusher = {
        let (shared, pipeline) = (Arc::clone(shared), Arc::clone(&pipeline));
        let chain = (head.seq, head.hash);
        std::thread::Builder::new()
            .name("ledger-flusher".to_owned())
            .spawn(move || flush_loop(&shared, &pipeline, chain))
    };
    let flusher = match flusher {
        Ok(flusher) => flusher,
        Err(error) => {
            shared.stopped.store(true, Ordering::Release);
            let message = format!("cannot start the flusher: {error}");
            receiver.close();
            for submission in receiver.drain() {
                (submission.reply)(Err(EngineError::Store(StoreError::Backend(
                    message.clone(),
                ))));
            }
            return;
        }
    };
    let mut next_seq = head.seq + 1;
    let mut last_timestamp = head.timestamp;
    let mut group: Vec<Submission<M>> = Vec::new();
    while receiver.pop_group(&mut group) {
        // Journal time never goes backwards, whatever the wall clock does.
        let now = clock.now().max(last_timestamp);
        // Nothing more runs after a failed append.
        let staged = !shared.stopped.load(Ordering::Acquire) && {
            let executed = execute_group(shared, &mut group, now, &mut next_seq);
            stage(&pipeline, executed)
        };
        last_timestamp = now;
        if !staged {
            // An append failed: the flusher answered what it had; answer the rest.
            shared.stopped.store(true, Ordering::Release);
            receiver.close();
            for submission in group.drain(..).chain(receiver.drain()) {
                (submission.reply)(Err(EngineError::Stopped));
            }
            break;
        }
    }
    pipeline.lock().closed = true;
    pipeline.work.notify_one();
    let _ = flusher.join();
}

/// Hands an executed group to the flusher, waiting while a full group is staged already.
/// False when the flusher has failed (the group is answered with `Stopped`).
fn stage<M: StateMachine>(pipeline: &Pipeline<M>, executed: Staged<M>) -> bool {
    let mut state = pipeline.lock();
    while !state.failed
        && !state.staged.is_empty()
        && state.staged.commands + executed.commands > GROUP_COMMANDS_MAX
    {
        state = pipeline
            .room
            .wait(state)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
    }
    if state.failed {
        drop(state);
        executed.fail(|| EngineError::Stopped);
        return false;
    }
    let staged = &mut state.staged;
    if staged.is_empty() {
        *staged = executed;
    } else {
        staged.changes.extend(executed.changes);
        staged.entries.extend(executed.entries);
        staged.replies.extend(executed.replies);
        staged.commands += executed.commands;
    }
    drop(state);
    pipeline.work.notify_one();
    true
}

/// The flusher: takes everything staged, encodes it as hash-chained records, appends it in
/// one atomic, fsynced batch, and only then answers. A failed append stops the engine: its
/// batch and everything staged after it are answered with errors, nothing more is written.
fn flush_loop<M: StateMachine>(
    shared: &Shared<M>,
    pipeline: &Pipeline<M>,
    (mut seq, mut hash): (u64, RecordHash),
) {
    loop {
        let mut batch = {
            let mut state = pipeline.lock();
            while state.staged.is_empty() && !state.closed {
                state = pipeline
                    .work
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            if state.staged.is_empty() {
                return; // Closed, and everything written.
            }
            std::mem::take(&mut state.staged)
        };
        pipeline.room.notify_one();
        let records = chain_records(std::mem::take(&mut batch.changes), &mut seq, &mut hash);
        let written = if records.is_empty() {
            Ok(())
        } else {
            shared.store.append(&records, &batch.entries)
        };
        match written {
            Ok(()) => {
                shared.stats.count_durable(records.len(), batch.commands);
                drop(records);
                for (reply, replies) in batch.replies {
                    reply(Ok(replies));
                }
            }
            Err(error) => {
                // The in-memory state is ahead of the disk now: stop, answer nobody with
                // success, and let a restart recover from what is durable.
                shared.stopped.store(true, Ordering::Release);
                let rest = {
                    let mut state = pipeline.lock();
                    state.failed = true;
                    std::mem::take(&mut state.staged)
                };
                pipeline.room.notify_one();
                let message = error.to_string();
                batch.fail(|| EngineError::Store(StoreError::Backend(message.clone())));
                rest.fail(|| EngineError::Stopped);
                return;
            }
        }
    }
}

/// The writer over a shared journal (several nodes): one stage, no pipeline, because a
/// group may only execute once this node holds the journal's lease and has replayed what
/// the other nodes appended. Per group: lease, replay, execute, commit through the lease,
/// answer. Idle, it reads the others' records every [`SHARED_JOURNAL_POLL`].
///
/// A failure before execution (no lease, a broken connection) answers the group with the
/// error and changes nothing here: the next group tries again. A failed commit leaves the
/// state ahead of the journal, so it stops the engine, as on a single node.
fn shared_write_loop<M: StateMachine>(
    shared: &Arc<Shared<M>>,
    receiver: &Queue<M>,
    clock: &dyn Clock,
    mut head: ChainHead,
) {
    let Some(journal) = shared.store.shared() else {
        return;
    };
    let mut group: Vec<Submission<M>> = Vec::new();
    loop {
        match receiver.pop_group_within(&mut group, SHARED_JOURNAL_POLL) {
            Popped::Closed => return,
            Popped::Idle => {
                // Keeping reads fresh: an error here is retried at the next poll.
                let _ = catch_up(shared, &mut head);
                continue;
            }
            Popped::Group => {}
        }
        if group
            .iter()
            .all(|submission| submission.commands.is_empty())
        {
            // Read barriers only: no lease needed.
            let caught_up = catch_up(shared, &mut head);
            for submission in group.drain(..) {
                (submission.reply)(match &caught_up {
                    Ok(()) => Ok(Vec::new()),
                    Err(error) => Err(EngineError::Store(StoreError::Backend(error.to_string()))),
                });
            }
            continue;
        }
        let leased = journal.lease(head.seq).and_then(|(lease, newer)| {
            replay_newer(shared, &mut head, &newer)
                .map_err(|error| StoreError::Backend(error.to_string()))?;
            Ok(lease)
        });
        let lease = match leased {
            Ok(lease) => lease,
            Err(error) => {
                let message = error.to_string();
                for submission in group.drain(..) {
                    (submission.reply)(Err(EngineError::Store(StoreError::Backend(
                        message.clone(),
                    ))));
                }
                continue;
            }
        };
        let now = clock.now().max(head.timestamp);
        let mut next_seq = head.seq + 1;
        let executed = execute_group(shared, &mut group, now, &mut next_seq);
        let (mut seq, mut hash) = (head.seq, head.hash);
        let records = chain_records(executed.changes, &mut seq, &mut hash);
        match lease.commit(&records, &executed.entries) {
            Ok(()) => {
                if let Some(last) = records.last() {
                    head = ChainHead {
                        seq: last.seq,
                        hash,
                        timestamp: last.timestamp,
                    };
                }
                shared.stats.count_durable(records.len(), executed.commands);
                for (reply, replies) in executed.replies {
                    reply(Ok(replies));
                }
            }
            Err(error) => {
                shared.stopped.store(true, Ordering::Release);
                receiver.close();
                let message = error.to_string();
                for (reply, _) in executed.replies {
                    reply(Err(EngineError::Store(StoreError::Backend(
                        message.clone(),
                    ))));
                }
                for submission in receiver.drain() {
                    (submission.reply)(Err(EngineError::Stopped));
                }
                return;
            }
        }
    }
}

/// Numbers encoded changes after `seq` and chains each to the hash before it, leaving `seq`
/// and `hash` at the last record.
fn chain_records(
    changes: Vec<(Timestamp, Vec<u8>)>,
    seq: &mut u64,
    hash: &mut RecordHash,
) -> Vec<RawRecord> {
    let mut records = Vec::with_capacity(changes.len());
    for (timestamp, payload) in changes {
        *seq += 1;
        let record = RawRecord {
            seq: *seq,
            timestamp,
            prev_hash: *hash,
            payload,
        };
        *hash = record.hash();
        records.push(record);
    }
    records
}

/// Replays what other writers appended after `head` (no lease: reading only).
fn catch_up<M: StateMachine>(shared: &Shared<M>, head: &mut ChainHead) -> Result<(), EngineError> {
    let newer = shared
        .store
        .records_from(head.seq + 1)
        .collect::<Result<Vec<_>, _>>()?;
    replay_newer(shared, head, &newer)
}

/// Applies records other writers appended after `head`, in order, under the state's lock.
fn replay_newer<M: StateMachine>(
    shared: &Shared<M>,
    head: &mut ChainHead,
    newer: &[RawRecord],
) -> Result<(), EngineError> {
    if newer.is_empty() {
        return Ok(());
    }
    let mut state = shared
        .state
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for record in newer {
        replay_record(&mut *state, head, record)?;
    }
    Ok(())
}

/// Executes a group under the state's write lock: housekeeping due at `now`, then every
/// command in order. Records are numbered from `next_seq`; hashing is left to the flusher.
fn execute_group<M: StateMachine>(
    shared: &Shared<M>,
    group: &mut Vec<Submission<M>>,
    now: Timestamp,
    next_seq: &mut u64,
) -> Staged<M> {
    let mut staged = Staged::<M>::default();
    let mut state = shared
        .state
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut journal = |state: &M, staged: &mut Staged<M>, change: M::Change| {
        state.journal_entries(&change, *next_seq, now, &mut staged.entries);
        *next_seq += 1;
        let payload = postcard::to_stdvec(&change).expect("changes always encode");
        staged.changes.push((now, payload));
    };
    while let Some(due) = state.housekeeping(now) {
        journal(&state, &mut staged, due);
    }
    staged.replies.reserve(group.len());
    for mut submission in group.drain(..) {
        let mut replies = Vec::with_capacity(submission.commands.len());
        staged.commands += submission.commands.len();
        for command in submission.commands.drain(..) {
            let (reply, changes) = state.execute(command, now);
            for change in changes {
                journal(&state, &mut staged, change);
            }
            replies.push(reply);
        }
        staged.replies.push((submission.reply, replies));
    }
    staged
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::journal::SledStore;
    use crate::{AccountId, AccountLimit, AccountSpec, Ledger, Leg, Money, SystemClock};
    use crate::{TransferId, TransferRequest};

    /// A sled store whose appends fail from the `fail_from`-th on (counting from 1).
    struct FailingStore {
        inner: SledStore,
        appends: AtomicUsize,
        fail_from: usize,
    }

    impl JournalStore for FailingStore {
        fn last_record(&self) -> Result<Option<RawRecord>, StoreError> {
            self.inner.last_record()
        }

        fn records_from(
            &self,
            from_seq: u64,
        ) -> Box<dyn Iterator<Item = Result<RawRecord, StoreError>> + '_> {
            self.inner.records_from(from_seq)
        }

        fn append(
            &self,
            records: &[RawRecord],
            entries: &[AccountEntry],
        ) -> Result<(), StoreError> {
            if self.appends.fetch_add(1, Ordering::SeqCst) + 1 >= self.fail_from {
                return Err(StoreError::Backend("disk on fire".to_owned()));
            }
            self.inner.append(records, entries)
        }

        fn account_entries(
            &self,
            account: &crate::AccountId,
            after: Option<(u64, u16)>,
            limit: usize,
        ) -> Result<Vec<AccountEntry>, StoreError> {
            self.inner.account_entries(account, after, limit)
        }

        fn last_entry_at(
            &self,
            account: &crate::AccountId,
            at: Timestamp,
        ) -> Result<Option<AccountEntry>, StoreError> {
            self.inner.last_entry_at(account, at)
        }

        fn size_on_disk(&self) -> Option<u64> {
            None
        }
    }

    fn transfer(thread: usize, step: usize) -> TransferRequest {
        let (from, to) = (account(thread % 2), account(1 - thread % 2));
        TransferRequest::post(
            TransferId::new(&format!("t{thread}-{step}")).unwrap(),
            vec![Leg::new(
                &from,
                &to,
                Money::from_fen(1 + step as u64).unwrap(),
            )],
        )
    }

    fn account(index: usize) -> AccountId {
        AccountId::new(&format!("a{index}")).unwrap()
    }

    /// Concurrent submitters while an append fails in the middle of the pipeline: nothing
    /// after the failure is acknowledged, the engine stops, and every acknowledged transfer
    /// is on disk.
    #[test]
    fn a_failed_append_stops_the_engine_and_fails_everything_after_it() {
        let directory = tempfile::tempdir().unwrap();
        let store = Arc::new(FailingStore {
            inner: SledStore::open(directory.path()).unwrap(),
            appends: AtomicUsize::new(0),
            fail_from: 40,
        });
        let ledger = Arc::new(Ledger::with_store(store, Arc::new(SystemClock)).unwrap());
        for index in 0..2 {
            let spec = AccountSpec {
                id: account(index),
                limit: AccountLimit::Unbounded,
            };
            ledger.open_account(spec).unwrap().unwrap();
        }
        let threads: Vec<_> = (0..8)
            .map(|thread| {
                let ledger = Arc::clone(&ledger);
                std::thread::spawn(move || {
                    let mut acknowledged = Vec::new();
                    let mut failed = false;
                    for step in 0..100 {
                        match ledger.transfer(transfer(thread, step)) {
                            Ok(outcome) => {
                                assert!(!failed, "acknowledged after a failure");
                                assert!(outcome.is_ok());
                                acknowledged.push(step);
                            }
                            Err(_) => failed = true,
                        }
                    }
                    assert!(failed, "the store failed, so must the engine");
                    (thread, acknowledged)
                })
            })
            .collect();
        let acknowledged: Vec<_> = threads
            .into_iter()
            .map(|thread| thread.join().unwrap())
            .collect();
        assert!(ledger.engine().is_stopped());
        assert!(matches!(
            ledger
                .engine()
                .submit(crate::LedgerCommand::Transfer(transfer(9, 0))),
            Err(EngineError::Stopped)
        ));
        drop(ledger);

        let reopened = Ledger::open(directory.path()).unwrap();
        for (thread, steps) in acknowledged {
            for step in steps {
                let outcome = reopened.transfer(transfer(thread, step)).unwrap().unwrap();
                assert!(outcome.replayed, "acknowledged t{thread}-{step} is durable");
            }
        }
    }

    /// Dropping the engine answers or flushes every submission: none waits forever.
    #[test]
    fn dropping_the_engine_answers_every_submission() {
        let directory = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(directory.path()).unwrap();
        let spec = AccountSpec {
            id: account(0),
            limit: AccountLimit::Unbounded,
        };
        let (sender, receiver) = std::sync::mpsc::channel();
        for _ in 0..100 {
            let sender = sender.clone();
            ledger.engine().submit_with(
                vec![crate::LedgerCommand::OpenAccount(spec.clone())],
                move |result| sender.send(result.is_ok()).unwrap(),
            );
        }
        drop(sender);
        drop(ledger);
        assert_eq!(receiver.iter().filter(|ok| *ok).count(), 100);
    }
}
