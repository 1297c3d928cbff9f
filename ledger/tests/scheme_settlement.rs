//! Settlement through the lifecycle: deductible per plan year across visits, bands and the
//! annual cap across visits, MSA scope, credit too small, and refunds.

mod scheme_support;

use scheme_support::*;
use treatfirst_ledger::insurance::{ChargeLine, PeriodPosition};
use treatfirst_ledger::scheme::{AccumulatorKey, PayerDifferences, SettlementView, VisitStatus};
use treatfirst_ledger::{Money, Normal, Timestamp};

/// 2027-01-01T00:00:00+08:00, the first instant of plan year 2027.
const YEAR_2027: Timestamp = Timestamp::from_seconds(1_798_732_800);

fn position(fixture: &Fixture, patient: &str, year: i32) -> PeriodPosition {
    let key = AccumulatorKey {
        patient_id: id(patient),
        plan_id: id("city"),
        plan_year: year,
    };
    fixture.scheme().read().accumulator(&key)
}

fn amounts(position: PeriodPosition) -> [String; 3] {
    [
        position.deductible_used,
        position.in_scope_cumulative,
        position.fund_paid,
    ]
    .map(|amount| amount.to_string())
}

/// One line per charge: C1, C2, ... then settle.
fn settle_charges(
    fixture: &Fixture,
    hospital: &str,
    visit: &str,
    patient: &str,
    charges: Vec<Vec<ChargeLine>>,
) -> SettlementView {
    fixture.open(hospital, visit, patient, "0");
    for (index, items) in charges.into_iter().enumerate() {
        fixture.charge(hospital, visit, &format!("C{}", index + 1), items);
    }
    fixture.settle(hospital, visit)
}

/// The worked example's lines as three charges: C1 = A, C2 = B at 15%, C3 = C.
fn worked_example_charges() -> Vec<Vec<ChargeLine>> {
    worked_example_lines()
        .into_iter()
        .map(|line| vec![line])
        .collect()
}

fn with_plan(plan: treatfirst_ledger::insurance::Plan) -> Fixture {
    let fixture = Fixture::new();
    fixture.put_plan("city", plan);
    fixture.put_hospital("H1", 2);
    fixture.put_hospital("H2", 2);
    fixture
}

#[test]
fn the_deductible_runs_per_plan_year_across_visits_and_hospitals() {
    let fixture = Fixture::new().with_worked_example_plan();
    fixture.enroll("P1", "0", "5000.00");
    let first = fixture.visit("H1", "V1", "P1", lines(&[("A", "1", "60.00")]));
    assert_eq!(
        (first.figures.deductible, first.figures.fund_paid),
        (money("60.00"), Money::ZERO)
    );
    let second = fixture.visit("H2", "V2", "P1", lines(&[("A", "1", "100.00")]));
    assert_eq!(
        (second.figures.deductible, second.figures.fund_paid),
        (money("40.00"), money("48.00"))
    );
    assert_eq!(
        amounts(position(&fixture, "P1", 2026)),
        ["100.00", "160.00", "48.00"]
    );

    fixture.clock.set(YEAR_2027.plus_seconds(-1));
    let late = fixture.visit("H1", "V3", "P1", lines(&[("A", "1", "10.00")]));
    assert_eq!(
        late.figures.deductible,
        Money::ZERO,
        "still 2026 in Beijing"
    );
    fixture.clock.set(YEAR_2027);
    let next_year = fixture.visit("H1", "V4", "P1", lines(&[("A", "1", "100.00")]));
    assert_eq!(
        (next_year.figures.deductible, next_year.figures.fund_paid),
        (money("100.00"), Money::ZERO)
    );
    assert_eq!(
        amounts(position(&fixture, "P1", 2027)),
        ["100.00", "100.00", "0.00"]
    );
    fixture.assert_verified();
}

#[test]
fn bands_are_crossed_inside_a_visit_and_across_visits() {
    let bands =
        r#"[{"up_to": "1000.00", "fund_ratio": "0.50"}, {"up_to": null, "fund_ratio": "0.90"}]"#;
    let fixture = with_plan(plan(2, "0", bands, "null", "all"));
    fixture.enroll("P1", "0", "5000.00");
    let first = fixture.visit("H1", "V1", "P1", lines(&[("A", "1", "800.00")]));
    assert_eq!(first.figures.fund_paid, money("400.00"));
    let second = fixture.visit("H1", "V2", "P1", lines(&[("A", "1", "400.00")]));
    assert_eq!(
        second.figures.fund_paid,
        money("280.00"),
        "200 at 50% + 200 at 90%"
    );
    fixture.assert_verified();
}

#[test]
fn the_annual_cap_is_never_exceeded() {
    let fixture = with_plan(plan(
        2,
        "0",
        r#"[{"up_to": null, "fund_ratio": "1"}]"#,
        r#""150.00""#,
        "all",
    ));
    fixture.enroll("P1", "0", "5000.00");
    let paid: Vec<Money> = (1..=3)
        .map(|visit| {
            fixture
                .visit(
                    "H1",
                    &format!("V{visit}"),
                    "P1",
                    lines(&[("A", "1", "100.00")]),
                )
                .figures
                .fund_paid
        })
        .collect();
    assert_eq!(paid, vec![money("100.00"), money("50.00"), Money::ZERO]);
    assert_eq!(position(&fixture, "P1", 2026).fund_paid, money("150.00"));
    fixture.assert_verified();
}

#[test]
fn the_msa_pays_within_its_scope_and_balance() {
    let band = r#"[{"up_to": null, "fund_ratio": "0.80"}]"#;
    let cases = [
        // (msa scope, MSA balance) -> (MSA paid, cash due, visit status)
        ("all", "1000.00", "218.00", "0", VisitStatus::Settled),
        (
            "in_scope",
            "1000.00",
            "178.00",
            "40.00",
            VisitStatus::Settled,
        ),
        ("in_scope", "20.00", "20.00", "198.00", VisitStatus::Settled),
    ];
    for (scope, balance, msa_paid, cash_due, status) in cases {
        let fixture = with_plan(plan(2, "100.00", band, "null", scope));
        fixture.enroll("P1", balance, "5000.00");
        let settlement = fixture.visit("H1", "V1", "P1", worked_example_lines());
        assert_eq!(
            (settlement.figures.msa_paid, settlement.figures.cash_due),
            (money(msa_paid), money(cash_due)),
            "{scope} {balance}"
        );
        assert_eq!(
            fixture.patient("P1").msa_balance,
            money(balance).checked_sub(money(msa_paid)).unwrap()
        );
        assert_eq!(fixture.visit_view("H1", "V1").status, status);
        fixture.assert_verified();
    }
}

#[test]
fn what_the_credit_cannot_cover_is_collected_now() {
    let fixture = Fixture::new().with_worked_example_plan();
    fixture.enroll("P1", "50.00", "100.00");
    let settlement = fixture.visit("H1", "V1", "P1", worked_example_lines());
    let figures = settlement.figures;
    assert_eq!(
        (figures.cash_due, figures.financed, figures.collect_now),
        (money("168.00"), money("100.00"), money("68.00"))
    );
    let patient = fixture.patient("P1");
    assert_eq!(
        (patient.outstanding, patient.available_credit),
        (money("100.00"), Money::ZERO)
    );
    fixture.enroll("P2", "0", "0");
    let nothing = fixture.visit("H2", "V2", "P2", lines(&[("C", "1", "10.00")]));
    assert_eq!(
        (nothing.figures.financed, nothing.figures.collect_now),
        (Money::ZERO, money("10.00"))
    );
    fixture.assert_verified();
}

#[test]
fn a_settle_without_a_matching_rule_is_refused_and_leaves_the_visit_open() {
    let fixture = Fixture::new().with_worked_example_plan();
    fixture.put_hospital("H3", 3);
    fixture.enroll("P1", "0", "500.00");
    fixture.open("H3", "V1", "P1", "100.00");
    fixture.charge("H3", "V1", "C1", lines(&[("A", "1", "50.00")]));
    assert_eq!(
        fixture.try_settle("H3", "V1").unwrap_err().code(),
        "invalid_request"
    );
    let visit = fixture.visit_view("H3", "V1");
    assert_eq!(
        (visit.status, visit.credit_held),
        (VisitStatus::Open, money("100.00"))
    );
    fixture.assert_verified();
}

#[test]
fn refunds_reverse_each_payer_difference() {
    let fixture = Fixture::new().with_worked_example_plan();
    fixture.enroll("P1", "50.00", "5000.00");
    settle_charges(&fixture, "H1", "V1", "P1", worked_example_charges());
    let scheme = fixture.scheme();

    let refunded = scheme
        .refund(id("H1"), id("V1"), id("R1"), id("C3"))
        .unwrap()
        .unwrap();
    let expected = PayerDifferences {
        total: money("40.00"),
        financed: money("40.00"),
        outstanding_reduced: money("40.00"),
        ..PayerDifferences::default()
    };
    assert_eq!(refunded.differences, expected);
    assert_eq!(refunded.settlement.figures.financed, money("128.00"));
    assert_eq!(fixture.patient("P1").outstanding, money("128.00"));

    let refunded = scheme
        .refund(id("H1"), id("V1"), id("R2"), id("C2"))
        .unwrap()
        .unwrap();
    let differences = refunded.differences;
    assert_eq!(
        (differences.fund, differences.msa, differences.financed),
        (money("162.00"), Money::ZERO, money("88.00"))
    );
    assert_eq!(
        amounts(position(&fixture, "P1", 2026)),
        ["90.00", "90.00", "0.00"]
    );
    assert_eq!(
        fixture.balance("hospital:H1:due_from_fund", Normal::Debit),
        Money::ZERO
    );

    let refunded = scheme
        .refund(id("H1"), id("V1"), id("R3"), id("C1"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (refunded.differences.msa, refunded.differences.financed),
        (money("50.00"), money("40.00"))
    );
    assert_eq!(refunded.settlement.figures.total, Money::ZERO);
    let patient = fixture.patient("P1");
    assert_eq!(
        (patient.outstanding, patient.msa_balance),
        (Money::ZERO, money("50.00"))
    );
    assert_eq!(fixture.visit_view("H1", "V1").status, VisitStatus::Paid);
    assert_eq!(
        fixture.balance("hospital:H1:payable", Normal::Credit),
        Money::ZERO
    );
    assert_eq!(
        amounts(position(&fixture, "P1", 2026)),
        ["0.00", "0.00", "0.00"]
    );
    fixture.assert_verified();
}

#[test]
fn money_already_paid_beyond_the_new_amount_is_owed_back_to_the_patient() {
    let fixture = Fixture::new().with_worked_example_plan();
    fixture.enroll("P1", "50.00", "5000.00");
    fixture.enroll("P2", "50.00", "5000.00");
    settle_charges(&fixture, "H1", "V1", "P1", worked_example_charges());
    settle_charges(&fixture, "H1", "V2", "P2", worked_example_charges());
    fixture.pay("PAY1", "P1", "168.00");
    fixture.pay("PAY2", "P2", "150.00");

    let scheme = fixture.scheme();
    let paid_in_full = scheme
        .refund(id("H1"), id("V1"), id("R1"), id("C3"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            paid_in_full.differences.outstanding_reduced,
            paid_in_full.differences.refund_owed
        ),
        (Money::ZERO, money("40.00"))
    );
    let partly_paid = scheme
        .refund(id("H1"), id("V2"), id("R1"), id("C3"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            partly_paid.differences.outstanding_reduced,
            partly_paid.differences.refund_owed
        ),
        (money("18.00"), money("22.00"))
    );

    let (first, second) = (fixture.patient("P1"), fixture.patient("P2"));
    assert_eq!(
        (first.outstanding, first.refund_owed),
        (Money::ZERO, money("40.00"))
    );
    assert_eq!(
        (second.outstanding, second.refund_owed),
        (Money::ZERO, money("22.00"))
    );
    assert_eq!(
        fixture.balance("patient:P2:refund_owed", Normal::Credit),
        money("22.00")
    );
    assert_eq!(fixture.visit_view("H1", "V2").status, VisitStatus::Paid);
    fixture.assert_verified();
}

#[test]
fn refunds_are_idempotent_and_checked() {
    let fixture = Fixture::new().with_worked_example_plan();
    fixture.enroll("P1", "50.00", "5000.00");
    fixture.open("H1", "V0", "P1", "0");
    fixture.charge("H1", "V0", "C1", lines(&[("A", "1", "1.00")]));
    settle_charges(&fixture, "H1", "V1", "P1", worked_example_charges());
    let scheme = fixture.scheme();
    let refund = |refund: &str, charge: &str| {
        scheme
            .refund(id("H1"), id("V1"), id(refund), id(charge))
            .unwrap()
    };

    let first = refund("R1", "C3").unwrap();
    assert_eq!(refund("R1", "C3"), Ok(first), "the same refund replays");
    assert_eq!(
        refund("R1", "C2").unwrap_err().code(),
        "idempotency_conflict"
    );
    assert_eq!(
        refund("R2", "C3").unwrap_err().code(),
        "invalid_state",
        "a charge is refunded once"
    );
    assert_eq!(refund("R3", "C9").unwrap_err().code(), "not_found");
    let open = scheme
        .refund(id("H1"), id("V0"), id("R1"), id("C1"))
        .unwrap();
    assert_eq!(open.unwrap_err().code(), "invalid_state");
    fixture.assert_verified();
}

#[test]
fn a_refund_reuses_the_plan_year_position_of_the_original_settlement() {
    let fixture = Fixture::new().with_worked_example_plan();
    fixture.enroll("P1", "0", "5000.00");
    settle_charges(&fixture, "H1", "V1", "P1", worked_example_charges());
    let second = fixture.visit("H2", "V2", "P1", lines(&[("A", "1", "100.00")]));
    assert_eq!(
        (second.figures.deductible, second.figures.fund_paid),
        (Money::ZERO, money("80.00"))
    );

    let refunded = fixture
        .scheme()
        .refund(id("H1"), id("V1"), id("R1"), id("C2"))
        .unwrap()
        .unwrap();
    let figures = refunded.settlement.figures;
    assert_eq!(
        (figures.deductible, figures.fund_paid),
        (money("90.00"), Money::ZERO)
    );
    assert_eq!(
        amounts(position(&fixture, "P1", 2026)),
        ["90.00", "190.00", "80.00"]
    );
    assert_eq!(
        fixture.visit_view("H2", "V2").settlement.unwrap().figures,
        second.figures,
        "later visits stand"
    );
    fixture.assert_verified();
}

#[test]
fn a_refund_on_a_defaulted_visit_releases_its_provision() {
    let fixture = Fixture::new().with_worked_example_plan();
    fixture.enroll("P1", "50.00", "5000.00");
    settle_charges(&fixture, "H1", "V1", "P1", worked_example_charges());
    fixture.advance_days(33);
    fixture.run_delinquency();
    assert_eq!(
        fixture.balance("scheme:allowance", Normal::Credit),
        money("168.00")
    );
    fixture
        .scheme()
        .refund(id("H1"), id("V1"), id("R1"), id("C3"))
        .unwrap()
        .unwrap();
    assert_eq!(
        fixture.balance("scheme:allowance", Normal::Credit),
        money("128.00")
    );
    assert_eq!(
        fixture.balance("scheme:credit_loss_expense", Normal::Debit),
        money("128.00")
    );
    fixture.advance_days(200);
    fixture.run_delinquency();
    let written_off = fixture
        .scheme()
        .refund(id("H1"), id("V1"), id("R2"), id("C2"))
        .unwrap();
    assert_eq!(written_off.unwrap_err().code(), "invalid_state");
    fixture.assert_verified();
}
