//! `treatfirst verify` as a user runs it: sound data passes, tampered data fails loudly,
//! for the journals of both state machines (the double-entry ledger and the credit scheme).

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

/// Changes one byte of the sixth journal block behind the ledger's back. `SledStore::open`
/// waits for the lock the writer's sled may still be releasing.
fn tamper_with_a_block(directory: &Path) {
    let store = SledStore::open(directory).unwrap();
    let database = store.database();
    let tree = database.open_tree("ledger").unwrap();
    let (key, value) = tree.scan_prefix(b"b").nth(5).unwrap().unwrap();
    let mut tampered = value.to_vec();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    tree.insert(key, tampered).unwrap();
    database.flush().unwrap();
}

/// A scheme journal as `treatfirst serve` writes one: a plan, a hospital, a patient, and a
/// visit opened, charged, settled and partly repaid (each its own commit group).
fn write_scheme(directory: &Path) {
    use treatfirst_ledger::insurance::{MemberType, Plan, VisitKind};
    use treatfirst_ledger::scheme::{
        ChargeRequest, Enrollment, OpenVisitRequest, PaymentRequest, SchemeLedger,
    };
    use treatfirst_ledger::{HospitalId, PatientId, PlanId, VisitId};

    let scheme = SchemeLedger::open(directory).unwrap();
    let plan: Plan = serde_json::from_str(
        r#"{
        "currency": "CNY", "payment_window_hours": {"outpatient": 48, "inpatient": 48},
        "default_self_pay_ratio": "0.10", "msa_scope": "all",
        "rules": [{"member_type": "employee", "visit_kind": "outpatient", "hospital_level": 2,
                   "deductible": "100.00", "deductible_period": "year",
                   "bands": [{"up_to": null, "fund_ratio": "0.80"}], "annual_cap": null}]
    }"#,
    )
    .unwrap();
    let plan_id = PlanId::new("city").unwrap();
    scheme.put_plan(plan_id.clone(), plan).unwrap().unwrap();
    let hospital = HospitalId::new("H1").unwrap();
    scheme
        .put_hospital(hospital.clone(), "First Hospital", 2.try_into().unwrap())
        .unwrap()
        .unwrap();
    let patient_id = PatientId::new("P1").unwrap();
    scheme
        .enroll_patient(Enrollment {
            patient_id: patient_id.clone(),
            plan_id,
            member_type: MemberType::Employee,
            birth_date: "1980-05-01".parse().unwrap(),
            msa_balance: Money::yuan(50),
            credit_limit: Money::yuan(5000),
            external_score: Some(700),
        })
        .unwrap()
        .unwrap();
    let visit_id = VisitId::new("V1").unwrap();
    scheme
        .open_visit(
            hospital.clone(),
            OpenVisitRequest {
                visit_id: visit_id.clone(),
                patient_id: patient_id.clone(),
                kind: VisitKind::Outpatient,
                estimated_amount: Money::yuan(300),
            },
        )
        .unwrap()
        .unwrap();
    let charge: ChargeRequest = serde_json::from_str(
        r#"{"charge_id": "C1", "items": [
        {"code": "A1", "description": "", "category": "A", "quantity": "3", "unit_price": "30.00"},
        {"code": "B1", "description": "", "category": "B", "quantity": "1", "unit_price": "250.00",
         "self_pay_ratio": "0.15"},
        {"code": "C1", "description": "", "category": "C", "quantity": "1", "unit_price": "40.00"}
    ]}"#,
    )
    .unwrap();
    scheme
        .add_charge(hospital.clone(), visit_id.clone(), charge)
        .unwrap()
        .unwrap();
    let settlement = scheme.settle(hospital, visit_id).unwrap().unwrap();
    assert_eq!(settlement.figures.financed, Money::yuan(168));
    scheme
        .pay(PaymentRequest {
            payment_id: "PAY1".parse().unwrap(),
            patient_id,
            amount: Money::yuan(100),
            channel: "alipay".parse().unwrap(),
        })
        .unwrap()
        .unwrap();
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
    assert!(stdout.contains("journal=ledger"), "{stdout}");
    assert!(stdout.contains("records=22"), "{stdout}");
    assert!(stdout.contains("posted_total=200.00"), "{stdout}");
    assert!(stdout.contains("verify: ok"));
}

#[test]
fn verify_fails_when_a_record_is_tampered_with() {
    let directory = tempfile::tempdir().unwrap();
    write_ledger(directory.path());
    tamper_with_a_block(directory.path());
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

#[test]
fn verify_passes_on_a_sound_scheme_journal() {
    let directory = tempfile::tempdir().unwrap();
    write_scheme(directory.path());
    let output = verify(directory.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("journal=scheme"), "{stdout}");
    // Plan, hospital, patient, open, charge (the hold grows), settle, payment.
    assert!(stdout.contains("records=7"), "{stdout}");
    // Enrollment 50.00 to the MSA; settlement: fund 162.00, MSA 50.00, financed 168.00;
    // payment 100.00.
    assert!(stdout.contains("posted_total=530.00"), "{stdout}");
    assert!(stdout.contains("verify: ok"), "{stdout}");
}

#[test]
fn verify_fails_when_a_scheme_record_is_tampered_with() {
    let directory = tempfile::tempdir().unwrap();
    write_scheme(directory.path());
    // The sixth block is the settlement's.
    tamper_with_a_block(directory.path());
    let output = verify(directory.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("verify: FAILED"), "{stderr}");
    assert!(stderr.contains("scheme journal"), "{stderr}");
    assert!(
        stderr.contains("hash chain broken") || stderr.contains("does not decode"),
        "{stderr}"
    );
}

#[test]
fn verify_refuses_an_empty_directory_without_creating_a_store() {
    let directory = tempfile::tempdir().unwrap();
    let output = verify(directory.path());
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is empty"), "{stderr}");
    assert_eq!(directory.path().read_dir().unwrap().count(), 0);
}

#[test]
fn verify_refuses_a_store_without_records() {
    let directory = tempfile::tempdir().unwrap();
    // The verifier waits for the lock this handle's sled may still be releasing.
    drop(SledStore::open(directory.path()).unwrap());
    let output = verify(directory.path());
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("journal") && stderr.contains("is empty"),
        "{stderr}"
    );
}
