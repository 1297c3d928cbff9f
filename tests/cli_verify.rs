//! `treatfirst verify` as a user runs it: sound data passes, tampered data fails loudly.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use treatfirst_ledger::journal::SledStore;
use treatfirst_ledger::{
    AccountId, AccountLimit, AccountSpec, Ledger, Leg, ManualClock, Money, Timestamp, TransferId,
    TransferRequest,
};

fn write_ledger(directory: &Path) {
    let store = Arc::new(SledStore::open(directory).unwrap());
    let ledger = Ledger::with_store(
        store,
        Arc::new(ManualClock::new(Timestamp::from_seconds(1_800_000_000))),
    )
    .unwrap();
    let cash = AccountId::new("scheme:cash").unwrap();
    let patient = AccountId::new("patient:P1:receivable").unwrap();
    ledger
        .open_account(AccountSpec {
            id: cash.clone(),
            limit: AccountLimit::Unbounded,
        })
        .unwrap()
        .unwrap();
    let limit = AccountLimit::DebitsWithinCredits {
        limit: Money::yuan(500),
    };
    ledger
        .open_account(AccountSpec {
            id: patient.clone(),
            limit,
        })
        .unwrap()
        .unwrap();
    for number in 0..20 {
        let id = TransferId::new(&format!("T{number}")).unwrap();
        let request = TransferRequest::post(id, vec![Leg::new(&patient, &cash, Money::yuan(10))]);
        ledger.transfer(request).unwrap().unwrap();
    }
}

fn verify(directory: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_treatfirst"))
        .args(["verify", "--data-dir"])
        .arg(directory)
        .output()
        .unwrap()
}

#[test]
fn verify_passes_on_a_sound_ledger() {
    let directory = tempfile::tempdir().unwrap();
    write_ledger(directory.path());
    let output = verify(directory.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("records=22"), "{stdout}");
    assert!(stdout.contains("posted_total=200.00"), "{stdout}");
    assert!(stdout.contains("verify: ok"));
}

#[test]
fn verify_fails_when_a_record_is_tampered_with() {
    let directory = tempfile::tempdir().unwrap();
    write_ledger(directory.path());
    {
        // Change one byte of a journal block behind the ledger's back.
        let database = sled::open(directory.path()).unwrap();
        let tree = database.open_tree("ledger").unwrap();
        let (key, value) = tree.scan_prefix(b"b").nth(5).unwrap().unwrap();
        let mut tampered = value.to_vec();
        let last = tampered.len() - 1;
        tampered[last] ^= 0x01;
        tree.insert(key, tampered).unwrap();
        database.flush().unwrap();
    }
    let output = verify(directory.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("verify: FAILED"), "{stderr}");
    assert!(
        stderr.contains("hash chain broken") || stderr.contains("does not decode"),
        "{stderr}"
    );
}

#[test]
fn verify_refuses_a_missing_directory() {
    let output = verify(Path::new("/nonexistent/treatfirst-data"));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not exist"));
}
