//! The visit lifecycle through the public API on a durable store: from enrollment to
//! default, recovery and restoration; holds, cancellation, idempotency, restarts.

mod scheme_support;

use scheme_support::*;
use treatfirst_ledger::scheme::{
    DeclineReason, PatientStatus, SchemeConfig, SchemeError, VisitStatus,
};
use treatfirst_ledger::{Money, Normal, PatientId};

#[test]
fn the_worked_example_settles_exactly_and_books_every_payer() {
    let fixture = Fixture::new().with_worked_example_plan();
    fixture.enroll("P1", "50.00", "5000.00");
    assert_eq!(fixture.open("H1", "V1", "P1", "300.00"), money("300.00"));
    assert_eq!(fixture.patient("P1").credit_held, money("300.00"));
    fixture.charge("H1", "V1", "C1", worked_example_lines());

    let settlement = fixture.settle("H1", "V1");

    let figures = settlement.figures;
    let actual = [
        figures.total,
        figures.full_self_pay,
        figures.over_limit,
        figures.pre_self_pay,
        figures.in_scope,
        figures.deductible,
        figures.fund_paid,
        figures.personal_share,
        figures.msa_paid,
        figures.cash_due,
        figures.financed,
        figures.collect_now,
    ];
    let expected = [
        "380.00", "40.00", "0", "37.50", "302.50", "100.00", "162.00", "218.00", "50.00", "168.00",
        "168.00", "0",
    ];
    assert_eq!(
        actual.map(|amount| amount.to_string()),
        expected.map(|text| money(text).to_string())
    );
    assert_eq!(settlement.status, "settled");
    assert_eq!(
        settlement.due_at,
        settlement.settled_at.plus_seconds(48 * 3600)
    );
    let patient = fixture.patient("P1");
    assert_eq!(
        (
            patient.credit_held,
            patient.outstanding,
            patient.msa_balance,
            patient.available_credit
        ),
        (Money::ZERO, money("168.00"), Money::ZERO, money("4832.00"))
    );
    assert_eq!(
        fixture.balance("hospital:H1:due_from_fund", Normal::Debit),
        money("162.00")
    );
    assert_eq!(
        fixture.balance("plan:city:fund_payable", Normal::Credit),
        money("162.00")
    );
    assert_eq!(
        fixture.balance("hospital:H1:payable", Normal::Credit),
        money("218.00")
    );
    assert_eq!(
        fixture.balance("patient:P1:receivable", Normal::Debit),
        money("168.00")
    );
    assert_eq!(
        fixture.try_settle("H1", "V1"),
        Ok(settlement),
        "settling again replays"
    );
    fixture.assert_verified();
}

#[test]
fn enrollment_to_default_recovery_and_restoration() {
    let mut fixture = Fixture::new().with_worked_example_plan();
    fixture.enroll("P1", "50.00", "5000.00");
    fixture.open("H1", "V1", "P1", "300.00");
    fixture.charge("H1", "V1", "C1", worked_example_lines());
    let settlement = fixture.settle("H1", "V1");
    assert_eq!(settlement.figures.financed, money("168.00"));

    // Due in 48 hours: nothing happens before.
    fixture.advance_days(2);
    assert_eq!(fixture.run_delinquency().overdue, 0);
    fixture.clock.advance_seconds(1);
    let run = fixture.run_delinquency();
    assert_eq!((run.overdue, run.defaulted, run.written_off), (1, 0, 0));
    assert_eq!(fixture.patient("P1").status, PatientStatus::Suspended);
    assert_eq!(fixture.patient("P1").overdue, money("168.00"));
    let declined = fixture.try_open("H2", "V2", "P1", "10.00").unwrap_err();
    assert_eq!(declined.code(), "patient_not_active");
    assert_eq!(
        declined.reasons(),
        [
            DeclineReason::PatientSuspended,
            DeclineReason::OverdueBalance
        ]
    );

    // 30 days past due: defaulted, blacklisted, provisioned.
    fixture.advance_days(30);
    let run = fixture.run_delinquency();
    assert_eq!((run.overdue, run.defaulted, run.written_off), (0, 1, 0));
    assert_eq!(fixture.patient("P1").status, PatientStatus::Blacklisted);
    assert_eq!(
        fixture.visit_view("H1", "V1").status,
        VisitStatus::Defaulted
    );
    assert_eq!(
        fixture.balance("scheme:allowance", Normal::Credit),
        money("168.00")
    );
    assert_eq!(
        fixture.balance("scheme:credit_loss_expense", Normal::Debit),
        money("168.00")
    );

    // A payment after default is a recovery: it releases its provision.
    let applied = fixture.pay("PAY1", "P1", "68.00");
    assert_eq!(applied.outstanding, money("100.00"));
    assert_eq!(
        fixture.balance("scheme:recoveries", Normal::Credit),
        money("68.00")
    );
    assert_eq!(
        fixture.balance("scheme:allowance", Normal::Credit),
        money("100.00")
    );
    assert_eq!(fixture.patient("P1").status, PatientStatus::Blacklisted);

    // 180 days past due: written off against the allowance, still owed by the patient.
    fixture.advance_days(150);
    let run = fixture.run_delinquency();
    assert_eq!((run.overdue, run.defaulted, run.written_off), (0, 0, 1));
    assert_eq!(
        fixture.balance("patient:P1:receivable", Normal::Debit),
        Money::ZERO
    );
    assert_eq!(
        fixture.balance("scheme:allowance", Normal::Credit),
        Money::ZERO
    );
    assert_eq!(fixture.patient("P1").outstanding, money("100.00"));
    fixture.assert_verified();

    // Full repayment: recovered, restored with half the limit, the history kept.
    fixture.pay("PAY2", "P1", "100.00");
    assert_eq!(
        fixture.balance("scheme:recoveries", Normal::Credit),
        money("168.00")
    );
    let patient = fixture.patient("P1");
    assert_eq!(
        (patient.status, patient.credit_limit, patient.outstanding),
        (PatientStatus::Active, money("2500.00"), Money::ZERO)
    );
    let visit = fixture.visit_view("H1", "V1");
    assert_eq!(visit.status, VisitStatus::Paid);
    assert_eq!(visit.recovered, money("168.00"));
    let timeline = visit.timeline;
    assert!(timeline.overdue_at.is_some() && timeline.defaulted_at.is_some());
    assert!(timeline.written_off_at.is_some() && timeline.paid_at.is_some());
    {
        let scheme = fixture.scheme().read();
        let record = scheme.patient(&id("P1")).unwrap();
        assert_eq!((record.defaults, record.restorations), (1, 1));
    }
    assert_eq!(fixture.open("H2", "V2", "P1", "2500.00"), money("2500.00"));
    assert_eq!(
        fixture
            .try_open("H2", "V3", "P1", "0.01")
            .unwrap_err()
            .code(),
        "insufficient_credit"
    );
    fixture.assert_verified();

    let before = (fixture.patient("P1"), fixture.visit_view("H1", "V1"));
    fixture.reopen();
    assert_eq!(
        (fixture.patient("P1"), fixture.visit_view("H1", "V1")),
        before
    );
    fixture.assert_verified();
}

#[test]
fn a_suspended_patient_is_active_again_once_nothing_is_past_due() {
    let fixture = Fixture::new().with_worked_example_plan();
    fixture.enroll("P1", "0", "1000.00");
    fixture.visit("H1", "V1", "P1", lines(&[("C", "1", "100.00")]));
    fixture.advance_days(3);
    let as_of = START.plus_seconds(2 * DAY_SECONDS + 60);
    fixture.scheme().run_delinquency(as_of).unwrap().unwrap();
    assert_eq!(fixture.patient("P1").status, PatientStatus::Suspended);
    assert_eq!(
        fixture.visit_view("H1", "V1").timeline.overdue_at,
        Some(as_of)
    );
    fixture.pay("PAY1", "P1", "40.00");
    assert_eq!(fixture.patient("P1").status, PatientStatus::Suspended);
    fixture.pay("PAY2", "P1", "60.00");
    let patient = fixture.patient("P1");
    assert_eq!(
        (patient.status, patient.credit_limit),
        (PatientStatus::Active, money("1000.00"))
    );
    assert_eq!(fixture.visit_view("H1", "V1").status, VisitStatus::Paid);
    fixture.assert_verified();
}

#[test]
fn delinquency_never_runs_backwards() {
    let fixture = Fixture::new().with_worked_example_plan();
    let as_of = START.plus_seconds(10 * DAY_SECONDS);
    fixture.scheme().run_delinquency(as_of).unwrap().unwrap();
    let earlier = fixture
        .scheme()
        .run_delinquency(START)
        .unwrap()
        .unwrap_err();
    assert_eq!(earlier.code(), "invalid_state");
    assert!(
        fixture.scheme().run_delinquency(as_of).unwrap().is_ok(),
        "the same as_of again is fine"
    );
}

#[test]
fn payments_go_to_the_oldest_due_visit_first_and_never_beyond_what_is_owed() {
    let fixture = Fixture::new().with_worked_example_plan();
    fixture.enroll("P1", "0", "1000.00");
    fixture.visit("H1", "V1", "P1", lines(&[("C", "1", "100.00")]));
    fixture.advance_days(1);
    fixture.visit("H2", "V2", "P1", lines(&[("C", "1", "50.00")]));

    let refused = fixture.try_pay("PAY1", "P1", "150.01").unwrap_err();
    assert_eq!(
        refused,
        SchemeError::AmountExceedsOutstanding {
            outstanding: money("150.00")
        }
    );
    let applied = fixture.pay("PAY1", "P1", "120.00");
    let parts: Vec<(String, Money)> = applied
        .applied
        .iter()
        .map(|part| (part.visit_id.to_string(), part.amount))
        .collect();
    assert_eq!(
        parts,
        vec![
            ("V1".to_owned(), money("100.00")),
            ("V2".to_owned(), money("20.00"))
        ]
    );
    assert_eq!(applied.outstanding, money("30.00"));
    assert_eq!(fixture.visit_view("H1", "V1").status, VisitStatus::Paid);
    assert_eq!(
        fixture.balance("channel:alipay:clearing", Normal::Debit),
        money("120.00")
    );
    assert_eq!(fixture.patient("P1").available_credit, money("970.00"));
    fixture.assert_verified();
}

#[test]
fn every_create_is_idempotent_and_conflicts_are_named() {
    let fixture = Fixture::new().with_worked_example_plan();
    let scheme = fixture.scheme();
    let view = fixture.enroll("P1", "10.00", "1000.00");
    let again = scheme
        .enroll_patient(enrollment("P1", "city", "10.00", "1000.00"))
        .unwrap();
    assert_eq!(again, Ok(view));
    let other = scheme
        .enroll_patient(enrollment("P1", "city", "10.00", "999.00"))
        .unwrap();
    assert_eq!(other.unwrap_err().code(), "idempotency_conflict");

    fixture.open("H1", "V1", "P1", "100.00");
    assert_eq!(
        fixture.try_open("H1", "V1", "P1", "100.00"),
        Ok(money("100.00"))
    );
    assert_eq!(
        fixture
            .try_open("H1", "V1", "P1", "90.00")
            .unwrap_err()
            .code(),
        "idempotency_conflict"
    );
    assert_eq!(
        fixture.open("H2", "V1", "P1", "90.00"),
        money("90.00"),
        "visit ids are per hospital"
    );

    let items = lines(&[("A", "1", "80.00")]);
    assert_eq!(
        fixture.charge("H1", "V1", "C1", items.clone()),
        money("80.00")
    );
    assert_eq!(
        fixture.try_charge("H1", "V1", "C1", items),
        Ok(money("80.00"))
    );
    let different = fixture.try_charge("H1", "V1", "C1", lines(&[("A", "1", "81.00")]));
    assert_eq!(different.unwrap_err().code(), "idempotency_conflict");
    let settled = fixture.settle("H1", "V1");
    assert_eq!(
        fixture.try_charge("H1", "V1", "C1", lines(&[("A", "1", "80.00")])),
        Ok(money("80.00")),
        "replays after settle too"
    );
    assert_eq!(
        fixture
            .try_charge("H1", "V1", "C2", lines(&[("A", "1", "1.00")]))
            .unwrap_err()
            .code(),
        "invalid_state"
    );

    let deposit = scheme
        .deposit_msa(id("P1"), id("D1"), money("5.00"))
        .unwrap()
        .unwrap();
    assert_eq!(
        scheme
            .deposit_msa(id("P1"), id("D1"), money("5.00"))
            .unwrap(),
        Ok(deposit)
    );
    assert_eq!(
        scheme
            .deposit_msa(id("P1"), id("D1"), money("6.00"))
            .unwrap()
            .unwrap_err()
            .code(),
        "idempotency_conflict"
    );

    let paid = fixture.pay("PAY1", "P1", "1.00");
    assert_eq!(fixture.try_pay("PAY1", "P1", "1.00"), Ok(paid));
    assert_eq!(
        fixture.try_pay("PAY1", "P1", "2.00").unwrap_err().code(),
        "idempotency_conflict"
    );
    assert_eq!(fixture.try_settle("H1", "V1"), Ok(settled));

    let records = scheme
        .engine()
        .stats()
        .records
        .load(std::sync::atomic::Ordering::Relaxed);
    for _ in 0..3 {
        fixture.try_open("H1", "V1", "P1", "100.00").unwrap();
        fixture.try_pay("PAY1", "P1", "1.00").unwrap();
        fixture.try_settle("H1", "V1").unwrap();
    }
    let after = scheme
        .engine()
        .stats()
        .records
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(after, records, "replays write nothing");
    fixture.assert_verified();
}

#[test]
fn declines_name_their_reasons_and_unknown_ids_are_not_found() {
    let fixture = Fixture::new().with_worked_example_plan();
    fixture.enroll("P1", "0", "100.00");
    let declined = fixture.try_open("H1", "V1", "P1", "100.01").unwrap_err();
    assert_eq!(declined.code(), "insufficient_credit");
    assert_eq!(
        declined.reasons(),
        [DeclineReason::EstimateExceedsAvailableCredit]
    );
    fixture.open("H1", "V1", "P1", "100.00");
    let declined = fixture.try_open("H1", "V2", "P1", "0.01").unwrap_err();
    assert_eq!(
        declined.reasons(),
        [
            DeclineReason::EstimateExceedsAvailableCredit,
            DeclineReason::CreditLineExhausted
        ]
    );
    assert_eq!(
        fixture
            .try_open("H9", "V3", "P1", "1.00")
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert_eq!(
        fixture
            .try_open("H1", "V3", "P9", "1.00")
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert_eq!(
        fixture.try_settle("H1", "V9").unwrap_err().code(),
        "not_found"
    );
    assert_eq!(
        fixture.try_pay("PAY1", "P9", "1.00").unwrap_err().code(),
        "not_found"
    );
    fixture.scheme().revoke_patient(id("P1")).unwrap().unwrap();
    let declined = fixture.try_open("H2", "V4", "P1", "0").unwrap_err();
    assert_eq!(declined.reasons(), [DeclineReason::PatientRevoked]);
}

#[test]
fn cancelling_releases_the_hold_and_only_open_visits_cancel() {
    let fixture = Fixture::new().with_worked_example_plan();
    fixture.enroll("P1", "0", "500.00");
    fixture.open("H1", "V1", "P1", "400.00");
    assert_eq!(fixture.patient("P1").available_credit, money("100.00"));
    let cancelled = fixture
        .scheme()
        .cancel(id("H1"), id("V1"))
        .unwrap()
        .unwrap();
    assert_eq!(cancelled.status, "cancelled");
    assert_eq!(fixture.patient("P1").available_credit, money("500.00"));
    assert_eq!(
        fixture.scheme().cancel(id("H1"), id("V1")).unwrap(),
        Ok(cancelled),
        "cancelling again replays"
    );
    assert_eq!(
        fixture.try_settle("H1", "V1").unwrap_err().code(),
        "invalid_state"
    );
    assert_eq!(
        fixture
            .try_charge("H1", "V1", "C1", lines(&[("A", "1", "1.00")]))
            .unwrap_err()
            .code(),
        "invalid_state"
    );
    fixture.visit("H1", "V2", "P1", lines(&[("C", "1", "1.00")]));
    assert_eq!(
        fixture
            .scheme()
            .cancel(id("H1"), id("V2"))
            .unwrap()
            .unwrap_err()
            .code(),
        "invalid_state"
    );
    fixture.assert_verified();
}

#[test]
fn holds_grow_with_charges_while_credit_allows_and_treatment_is_never_refused() {
    let fixture = Fixture::new().with_worked_example_plan();
    fixture.enroll("P1", "0", "300.00");
    fixture.open("H1", "V1", "P1", "100.00");
    fixture.charge("H1", "V1", "C1", lines(&[("C", "1", "150.00")]));
    assert_eq!(fixture.visit_view("H1", "V1").credit_held, money("150.00"));
    fixture.charge("H1", "V1", "C2", lines(&[("C", "1", "400.00")]));
    let visit = fixture.visit_view("H1", "V1");
    assert_eq!(
        (visit.credit_held, visit.total),
        (money("300.00"), money("550.00"))
    );
    assert_eq!(fixture.patient("P1").available_credit, Money::ZERO);
    let settlement = fixture.settle("H1", "V1");
    assert_eq!(
        (settlement.figures.financed, settlement.figures.collect_now),
        (money("300.00"), money("250.00"))
    );
    assert_eq!(fixture.patient("P1").available_credit, Money::ZERO);
    fixture.assert_verified();
}

#[test]
fn expired_holds_release_their_credit_and_settlement_still_finances_what_is_free() {
    let config = SchemeConfig {
        hold_timeout_seconds: 3600,
        ..SchemeConfig::default()
    };
    let fixture = Fixture::with_config(config).with_worked_example_plan();
    fixture.enroll("P1", "0", "500.00");
    fixture.open("H1", "V1", "P1", "400.00");
    fixture.charge("H1", "V1", "C1", lines(&[("C", "1", "200.00")]));
    fixture.clock.advance_seconds(3601);
    fixture.enroll("P2", "0", "1.00"); // any command: the engine releases due holds first
    assert_eq!(fixture.patient("P1").credit_held, Money::ZERO);
    assert_eq!(fixture.visit_view("H1", "V1").credit_held, Money::ZERO);
    let settlement = fixture.settle("H1", "V1");
    assert_eq!(settlement.figures.financed, money("200.00"));
    fixture.assert_verified();
}

#[test]
fn plans_are_versioned_and_a_restart_restores_everything() {
    let mut fixture = Fixture::new().with_worked_example_plan();
    let scheme = fixture.scheme();
    let stored = scheme
        .put_plan(id("city"), worked_example_plan())
        .unwrap()
        .unwrap();
    assert_eq!(stored.version.0, 1, "the same content is the same version");
    fixture.enroll("P1", "50.00", "5000.00");
    fixture.visit("H1", "V1", "P1", worked_example_lines());
    let changed = plan(
        2,
        "0",
        r#"[{"up_to": null, "fund_ratio": "0.50"}]"#,
        "null",
        "all",
    );
    assert_eq!(
        fixture
            .scheme()
            .put_plan(id("city"), changed)
            .unwrap()
            .unwrap()
            .version
            .0,
        2
    );
    let second = fixture.visit("H1", "V2", "P1", lines(&[("A", "1", "100.00")]));
    assert_eq!(
        (second.plan_version.0, second.figures.fund_paid),
        (2, money("50.00"))
    );
    assert_eq!(
        fixture
            .visit_view("H1", "V1")
            .settlement
            .unwrap()
            .plan_version
            .0,
        1
    );
    fixture.pay("PAY1", "P1", "10.00");

    let records = fixture
        .scheme()
        .engine()
        .stats()
        .records
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(records > 0);
    let before = (
        fixture.patient("P1"),
        fixture.visit_view("H1", "V1"),
        fixture.visit_view("H1", "V2"),
    );
    let statement = fixture
        .scheme()
        .statement(&id::<PatientId>("P1"), None, 100)
        .unwrap()
        .unwrap();
    fixture.reopen();
    assert_eq!(
        (
            fixture.patient("P1"),
            fixture.visit_view("H1", "V1"),
            fixture.visit_view("H1", "V2")
        ),
        before
    );
    assert_eq!(
        fixture
            .scheme()
            .statement(&id("P1"), None, 100)
            .unwrap()
            .unwrap(),
        statement
    );
    assert_eq!(fixture.scheme().plan(&id("city")).unwrap().version.0, 2);
    fixture.assert_verified();
}

#[test]
fn the_statement_lists_the_patient_entries_oldest_first_a_page_at_a_time() {
    let fixture = Fixture::new().with_worked_example_plan();
    fixture.enroll("P1", "50.00", "5000.00");
    fixture.open("H1", "V1", "P1", "300.00");
    fixture.charge("H1", "V1", "C1", worked_example_lines());
    fixture.settle("H1", "V1");
    fixture.pay("PAY1", "P1", "68.00");

    let statement = fixture
        .scheme()
        .statement(&id("P1"), None, 100)
        .unwrap()
        .unwrap();
    let rows: Vec<(String, Option<&str>, String)> = statement
        .iter()
        .map(|entry| {
            let account = serde_json::to_value(entry.account)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned();
            (account, entry.event, entry.amount.to_string())
        })
        .collect();
    let expected = [
        ("msa", Some("patient_enrolled"), "50.00"),
        ("receivable", Some("visit_opened"), "300.00"),
        ("receivable", Some("charge_added"), "300.00"),
        ("receivable", Some("charge_added"), "380.00"),
        ("receivable", Some("visit_settled"), "380.00"),
        ("receivable", Some("visit_settled"), "168.00"),
        ("msa", Some("visit_settled"), "50.00"),
        ("receivable", Some("payment_applied"), "68.00"),
    ];
    let expected: Vec<(String, Option<&str>, String)> = expected
        .iter()
        .map(|(account, event, amount)| (account.to_string(), *event, amount.to_string()))
        .collect();
    assert_eq!(rows, expected);
    assert_eq!(statement.last().unwrap().balance_after, money("100.00"));
    assert!(statement
        .windows(2)
        .all(|pair| pair[0].cursor < pair[1].cursor));

    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let page = fixture
            .scheme()
            .statement(&id("P1"), cursor, 2)
            .unwrap()
            .unwrap();
        let Some(last) = page.last() else { break };
        cursor = Some(last.cursor);
        paged.extend(page);
    }
    assert_eq!(paged, statement);
    assert_eq!(
        fixture.scheme().statement(&id("P9"), None, 10).unwrap(),
        None
    );
}
