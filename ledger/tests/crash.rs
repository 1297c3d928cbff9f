//! Kill -9 a writer mid-stream, reopen, and find every acknowledged transfer.
//!
//! The test re-runs its own binary as the writer (the child runs `crash_writer_child`, which
//! does nothing unless `TREATFIRST_CRASH_CHILD` names a data directory). The child prints
//! `ack <id>` after each acknowledged transfer; the parent SIGKILLs it after a while.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use treatfirst_ledger::journal::SledStore;
use treatfirst_ledger::verify::verify;
use treatfirst_ledger::{
    AccountId, AccountLimit, AccountSpec, Books, Ledger, Leg, Money, SystemClock, TransferId,
    TransferRequest,
};

const CHILD_VARIABLE: &str = "TREATFIRST_CRASH_CHILD";
const ROUND_VARIABLE: &str = "TREATFIRST_CRASH_ROUND";
const ACCOUNTS: usize = 8;

fn account(index: usize) -> AccountId {
    AccountId::new(&format!("crash:{index}")).unwrap()
}

fn open(directory: &Path) -> Ledger {
    let store = Arc::new(SledStore::open(directory).expect("store opens"));
    Ledger::with_store(store, Arc::new(SystemClock)).expect("journal recovers")
}

/// The writer: four threads submitting single transfers and small batches, forever.
#[test]
fn crash_writer_child() {
    let Ok(directory) = std::env::var(CHILD_VARIABLE) else {
        return; // An ordinary test run: nothing to do.
    };
    let round: usize = std::env::var(ROUND_VARIABLE).unwrap().parse().unwrap();
    let ledger = Arc::new(open(Path::new(&directory)));
    for index in 0..ACCOUNTS {
        let spec = AccountSpec {
            id: account(index),
            limit: AccountLimit::Unbounded,
        };
        ledger.open_account(spec).unwrap().unwrap();
    }
    let output = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let writers: Vec<_> = (0..4)
        .map(|thread| {
            let (ledger, output) = (Arc::clone(&ledger), Arc::clone(&output));
            std::thread::spawn(move || {
                for step in 0.. {
                    let batch: Vec<TransferRequest> = (0..1 + step % 5)
                        .map(|item| {
                            let id =
                                TransferId::new(&format!("r{round}-t{thread}-s{step}-i{item}"))
                                    .unwrap();
                            let debit = (step + item) % ACCOUNTS;
                            let credit = (debit + 1 + thread) % ACCOUNTS;
                            let amount =
                                Money::from_fen(1 + (step * 7 + item) as u64 % 10_000).unwrap();
                            TransferRequest::post(
                                id,
                                vec![Leg::new(&account(debit), &account(credit), amount)],
                            )
                        })
                        .collect();
                    let ids: Vec<_> = batch.iter().map(|request| request.id.clone()).collect();
                    let results = ledger.transfer_batch(batch).unwrap();
                    let mut output = output.lock().unwrap();
                    for (id, result) in ids.iter().zip(results) {
                        assert!(result.is_ok());
                        writeln!(output, "ack {id}").unwrap();
                    }
                    output.flush().unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
}

fn run_and_kill(directory: &Path, round: usize, acks_before_kill: usize) -> Vec<TransferId> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_writer_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_VARIABLE, directory)
        .env(ROUND_VARIABLE, round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut acknowledged = Vec::new();
    let started = Instant::now();
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if let Some(id) = line.strip_prefix("ack ") {
            acknowledged.push(TransferId::new(id).unwrap());
        }
        if acknowledged.len() >= acks_before_kill || started.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    // SIGKILL: no destructor, no flush, no goodbye.
    child.kill().unwrap();
    child.wait().unwrap();
    acknowledged
}

#[test]
fn every_acknowledged_transfer_survives_kill_9() {
    if std::env::var(CHILD_VARIABLE).is_ok() {
        return;
    }
    let directory = tempfile::tempdir().unwrap();
    let mut all_acknowledged: HashSet<TransferId> = HashSet::new();
    for (round, acks) in [(1, 300), (2, 1_500), (3, 4_000)] {
        let acknowledged = run_and_kill(directory.path(), round, acks);
        assert!(
            !acknowledged.is_empty(),
            "round {round}: the writer acknowledged nothing"
        );
        all_acknowledged.extend(acknowledged);

        let ledger = open(directory.path());
        let books = ledger.engine().read();
        let missing: Vec<_> = all_acknowledged
            .iter()
            .filter(|id| books.stored_transfer(id).is_none())
            .collect();
        assert!(
            missing.is_empty(),
            "round {round}: {} acknowledged transfers lost, e.g. {:?}",
            missing.len(),
            missing.first()
        );
        drop(books);
        drop(ledger);

        let store = SledStore::open(directory.path()).unwrap();
        let report = verify::<Books>(&store);
        assert!(
            report.is_sound(),
            "round {round}: verify found {:?}",
            report.problems
        );
        assert!(report.records as usize > ACCOUNTS);
    }
}
