//! Reconciliation of fund remittance files and channel statements: each outcome, re-import,
//! malformed files (nothing applied), the postings, replay and the auditor.

mod scheme_support;

use scheme_support::*;
use treatfirst_ledger::reconciliation::{self, RowError};
use treatfirst_ledger::{Money, Normal};

/// The worked example settled twice: V1 at H1 for P1 and V2 at H2 for P2, fund share 162.00
/// each (P2 has no MSA: financed 218.00).
fn city() -> Fixture {
    let fixture = Fixture::new().with_worked_example_plan();
    fixture.enroll("P1", "50.00", "5000.00");
    fixture.enroll("P2", "0", "5000.00");
    fixture.visit("H1", "V1", "P1", worked_example_lines());
    fixture.visit("H2", "V2", "P2", worked_example_lines());
    fixture.open("H1", "V3", "P1", "10.00");
    fixture
}

fn fund(
    fixture: &Fixture,
    text: &str,
) -> Result<reconciliation::FundReconciliation, Vec<RowError>> {
    reconciliation::reconcile_fund(fixture.scheme(), text.as_bytes()).expect("durable")
}

fn due_from_fund(fixture: &Fixture, hospital: &str) -> Money {
    fixture.balance(&format!("hospital:{hospital}:due_from_fund"), Normal::Debit)
}

#[test]
fn a_matched_line_posts_the_remittance_once() {
    let mut fixture = city();
    assert_eq!(due_from_fund(&fixture, "H1"), money("162.00"));
    assert_eq!(
        fixture.balance("plan:city:fund_payable", Normal::Credit),
        money("324.00")
    );
    let file = "reference,hospital_id,visit_id,amount\nREM-1,H1,V1,162.00\n";
    let first = fund(&fixture, file).unwrap();
    assert_eq!((first.matched, first.posted), (1, 1));
    assert_eq!(first.matched_amount, money("162.00"));
    assert_eq!(due_from_fund(&fixture, "H1"), Money::ZERO);
    assert_eq!(
        fixture.balance("plan:city:fund_payable", Normal::Credit),
        money("162.00")
    );
    // V2 is settled with a fund share and not in the file.
    assert_eq!(first.result.missing_count, 1);
    assert_eq!(first.result.missing[0].visit_id.as_str(), "V2");
    assert_eq!(first.result.missing[0].fund_share, money("162.00"));
    // The same file again: matched, nothing posted, nothing changed.
    let again = fund(&fixture, file).unwrap();
    assert_eq!((again.matched, again.posted), (1, 0));
    assert_eq!(due_from_fund(&fixture, "H1"), Money::ZERO);
    fixture.assert_verified();
    fixture.reopen();
    assert_eq!(due_from_fund(&fixture, "H1"), Money::ZERO);
    let record = fixture.scheme().read().remittances().records().count();
    assert_eq!(record, 1);
    fixture.assert_verified();
}

#[test]
fn mismatched_unknown_and_missing_lines_are_reported_and_not_posted() {
    let fixture = city();
    fund(
        &fixture,
        "reference,hospital_id,visit_id,amount\nREM-1,H1,V1,162.00\n",
    )
    .unwrap();
    let file = "reference,hospital_id,visit_id,amount
REM-2,H2,V2,161.99
REM-3,H1,V9,10.00
REM-4,H1,V3,10.00
REM-5,H1,V1,162.00
REM-1,H2,V2,162.00
";
    let result = fund(&fixture, file).unwrap();
    assert_eq!((result.matched, result.posted), (0, 0));
    let mismatched: Vec<(&str, Option<Money>)> = result
        .result
        .mismatched
        .iter()
        .map(|line| (line.line.reference.as_str(), line.expected))
        .collect();
    assert_eq!(
        mismatched,
        vec![
            ("REM-2", Some(money("162.00"))),
            ("REM-5", Some(money("162.00"))),
            ("REM-1", Some(money("162.00"))),
        ]
    );
    assert!(result.result.mismatched[1].reason.contains("REM-1"));
    let unknown: Vec<(&str, &str)> = result
        .result
        .unknown
        .iter()
        .map(|line| (line.line.reference.as_str(), line.reason.as_str()))
        .collect();
    assert_eq!(
        unknown,
        vec![
            ("REM-3", "no such visit"),
            ("REM-4", "the visit is not settled")
        ]
    );
    // V2 is in the file (with the wrong amount): not missing.
    assert_eq!(result.result.missing_count, 0);
    assert_eq!(due_from_fund(&fixture, "H2"), money("162.00"));
    fixture.assert_verified();
}

#[test]
fn a_malformed_file_is_reported_by_line_and_applies_nothing() {
    let fixture = city();
    let cases: [(&str, Vec<u64>); 5] = [
        (
            "reference,hospital_id,visit_id,amount\nREM-1,H1,V1,162.00\nREM-2,H2,V2,1.234\n",
            vec![3],
        ),
        (
            "reference,hospital_id,visit_id,amount\nREM-1,H1,V1\n\nREM-2,H2,V2,-5.00\nREM 3,H2,V2,1\n",
            vec![2, 4, 5],
        ),
        ("ref,hospital,visit,amount\nREM-1,H1,V1,162.00\n", vec![1]),
        (
            "reference,hospital_id,visit_id,amount\nREM-1,H1,V1,162.00\nREM-1,H2,V2,162.00\n",
            vec![3],
        ),
        ("", vec![1]),
    ];
    for (file, lines) in cases {
        let errors = fund(&fixture, file).unwrap_err();
        let found: Vec<u64> = errors.iter().map(|error| error.line).collect();
        assert_eq!(found, lines, "{file:?}: {errors:?}");
        assert!(errors.iter().all(|error| !error.message.is_empty()));
    }
    assert_eq!(due_from_fund(&fixture, "H1"), money("162.00"));
    assert_eq!(fixture.scheme().read().remittances().records().count(), 0);
}

#[test]
fn channel_statements_match_payments() {
    let fixture = city();
    fixture.pay("PAY1", "P1", "100.00");
    fixture.pay("PAY2", "P2", "50.00");
    fixture.pay("PAY3", "P2", "20.00");
    let file = "payment_id,amount,channel
PAY1,100.00,alipay
PAY2,60.00,alipay
PAY9,5.00,alipay
";
    let scheme = fixture.scheme().read();
    let result = reconciliation::reconcile_channel_file(&scheme, file.as_bytes()).unwrap();
    assert_eq!(result.matched, 1);
    assert_eq!(result.matched_amount, money("100.00"));
    assert_eq!(result.mismatched.len(), 1);
    assert_eq!(result.mismatched[0].line.payment_id.as_str(), "PAY2");
    assert_eq!(result.mismatched[0].expected, Some(money("50.00")));
    assert_eq!(result.unknown.len(), 1);
    assert_eq!(result.unknown[0].line.payment_id.as_str(), "PAY9");
    assert_eq!(result.missing_count, 1);
    assert_eq!(result.missing[0].payment_id.as_str(), "PAY3");
    // Through another channel: a mismatch naming it.
    let other = "payment_id,amount,channel\nPAY1,100.00,bank\n";
    let result = reconciliation::reconcile_channel_file(&scheme, other.as_bytes()).unwrap();
    assert!(result.mismatched[0].reason.contains("alipay"));
    let malformed = "payment_id,amount,channel\nPAY1,abc,alipay\nPAY1,1.00\n";
    let errors = reconciliation::reconcile_channel_file(&scheme, malformed.as_bytes()).unwrap_err();
    assert_eq!(
        errors.iter().map(|error| error.line).collect::<Vec<_>>(),
        vec![2, 3]
    );
}
