//! Finance reports on a hand-built ledger: five patients, two hospitals, one payment before
//! the due date, one in full, a recovery after default, write-offs and a recovery after
//! write-off; every figure checked against amounts worked out by hand.

mod scheme_support;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use scheme_support::*;
use treatfirst_ledger::reports::{self, Bucket, LossRates, RateSource};
use treatfirst_ledger::scheme::SchemeConfig;
use treatfirst_ledger::{Money, Ratio, Timestamp};

fn day(days: i64) -> Timestamp {
    START.plus_seconds(days * DAY_SECONDS)
}

fn date(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

/// Category C lines only: the whole amount is self-pay, and with an empty MSA all of it is
/// financed. Defaults after 30 days past due, write-off after 60.
fn city() -> Fixture {
    let config = SchemeConfig {
        default_after_days: 30,
        write_off_after_days: 60,
        ..SchemeConfig::default()
    };
    let fixture = Fixture::with_config(config).with_worked_example_plan();
    for patient in ["P1", "P2", "P3", "P4", "P5"] {
        fixture.enroll(patient, "0", "5000.00");
    }
    // Day 0: three visits, due on day 2.
    fixture.visit("H1", "V1", "P1", lines(&[("C", "1", "100.00")]));
    fixture.visit("H1", "V2", "P2", lines(&[("C", "1", "200.00")]));
    fixture.visit("H2", "V3", "P3", lines(&[("C", "1", "300.00")]));
    fixture.advance_days(1);
    fixture.pay("PAY1", "P1", "40.00");
    fixture.advance_days(4);
    fixture.pay("PAY2", "P2", "200.00");
    fixture.advance_days(5);
    // Day 10: due on day 12.
    fixture.visit("H2", "V4", "P4", lines(&[("C", "1", "50.00")]));
    fixture.clock.set(day(33));
    // V1 (60.00) and V3 (300.00) are 31 days past due: defaulted. V4 overdue.
    let run = fixture.run_delinquency();
    assert_eq!((run.overdue, run.defaulted, run.written_off), (3, 2, 0));
    fixture.clock.set(day(34));
    fixture.pay("PAY3", "P3", "100.00");
    fixture.clock.set(day(35));
    // Day 35 is 2026-04-06: a second cohort month.
    fixture.visit("H1", "V5", "P5", lines(&[("C", "1", "83.50")]));
    fixture
}

fn bucket_rows(rows: &[reports::AgingBucket]) -> Vec<(Bucket, String, u64)> {
    rows.iter()
        .map(|row| (row.bucket, row.amount.to_string(), row.count))
        .collect()
}

#[test]
fn aging_by_days_past_due_in_total_and_by_hospital() {
    let fixture = city();
    let scheme = fixture.scheme().read();
    let aging = reports::aging(&scheme, day(36));
    assert_eq!(
        bucket_rows(&aging.buckets),
        vec![
            (Bucket::Current, "83.50".into(), 1),
            (Bucket::Days1To7, "0.00".into(), 0),
            (Bucket::Days8To30, "50.00".into(), 1),
            (Bucket::Days31To60, "260.00".into(), 2),
            (Bucket::Days61To90, "0.00".into(), 0),
            (Bucket::Days91Plus, "0.00".into(), 0),
        ]
    );
    assert_eq!(aging.total, money("393.50"));
    assert_eq!(aging.count, 4);
    let hospitals: Vec<(String, String)> = aging
        .by_hospital
        .iter()
        .map(|row| (row.hospital_id.to_string(), row.total.to_string()))
        .collect();
    assert_eq!(
        hospitals,
        vec![
            ("H1".into(), "143.50".into()),
            ("H2".into(), "250.00".into())
        ]
    );
    assert_eq!(aging.by_hospital[1].buckets[3].amount, money("200.00"));
}

#[test]
fn aging_as_of_an_earlier_instant_undoes_later_payments() {
    let fixture = city();
    let scheme = fixture.scheme().read();
    // Day 3: V1 owes 60.00 (paid 40.00 on day 1), V2 still 200.00 (paid on day 5), V3
    // 300.00, all one day past due; V4 and V5 not settled yet.
    let aging = reports::aging(&scheme, day(3));
    assert_eq!(aging.buckets[1].amount, money("560.00"));
    assert_eq!(aging.buckets[1].count, 3);
    assert_eq!(aging.total, money("560.00"));
    // Before anything was settled.
    assert_eq!(
        reports::aging(&scheme, START.plus_seconds(-1)).total,
        Money::ZERO
    );
}

#[test]
fn provision_from_a_loss_rate_matrix_rounds_once_per_bucket() {
    let fixture = city();
    let scheme = fixture.scheme().read();
    let rates: BTreeMap<Bucket, Ratio> = [
        ("current", "0.003"),
        ("1-7", "0.016"),
        ("8-30", "0.125"),
        ("31-60", "0.5"),
        ("61-90", "0.75"),
        ("91+", "1"),
    ]
    .into_iter()
    .map(|(bucket, rate)| (bucket.parse().unwrap(), rate.parse().unwrap()))
    .collect();
    let rates = LossRates::from_map(&rates).unwrap();
    let report = reports::provision(&scheme, day(36), &rates, RateSource::Given);
    let allowances: Vec<(Bucket, String, String)> = report
        .buckets
        .iter()
        .map(|row| {
            (
                row.bucket,
                row.balance.to_string(),
                row.allowance.to_string(),
            )
        })
        .collect();
    // 83.50 × 0.003 = 0.2505 -> 0.25; 50.00 × 0.125 = 6.25; 260.00 × 0.5 = 130.00.
    assert_eq!(
        allowances,
        vec![
            (Bucket::Current, "83.50".into(), "0.25".into()),
            (Bucket::Days1To7, "0.00".into(), "0.00".into()),
            (Bucket::Days8To30, "50.00".into(), "6.25".into()),
            (Bucket::Days31To60, "260.00".into(), "130.00".into()),
            (Bucket::Days61To90, "0.00".into(), "0.00".into()),
            (Bucket::Days91Plus, "0.00".into(), "0.00".into()),
        ]
    );
    assert_eq!(report.total_allowance, money("136.50"));
    assert_eq!(report.total_balance, money("393.50"));
    // The books hold the specific provisions: 60.00 + 300.00 less the 100.00 recovered.
    assert_eq!(report.ledger_allowance, money("260.00"));
    let missing = BTreeMap::from([(Bucket::Current, Ratio::ONE)]);
    let error = LossRates::from_map(&missing).unwrap_err();
    assert!(error.contains("1-7, 8-30, 31-60, 61-90, 91+"), "{error}");
}

#[test]
fn derived_loss_rates_come_from_the_ledgers_history() {
    let fixture = city();
    fixture.clock.set(day(100));
    fixture.run_delinquency();
    let scheme = fixture.scheme().read();
    let (rates, source) = reports::derived_loss_rates(&scheme, day(100));
    // Outcome window 30 + 31 = 61 days: snapshots on days 39, 32, 25, 18, 11 and 4.
    // current: V4 on day 11 (50.00, not lost within the window): 0.
    // 1-7: V1 60.00 (lost), V2 200.00 (repaid), V3 300.00 (lost 200.00 net of the 100.00
    //   recovered) on day 4; V4 50.00 on day 18 (its default on day 100 is past day 79);
    //   V5 83.50 on day 39 (defaulted on day 100, inside the window): 343.50 / 693.50.
    // 8-30: V1 and V3 (360.00, lost 260.00) on days 11, 18, 25 and 32; V4 50.00 on days
    //   25 and 32 (not lost) and 39 (lost): 1,090.00 / 1,590.00.
    // 31-60: V1 60.00 and V3 200.00 on day 39, both lost: 1. Never observed: 61-90 and 91+
    //   take 1.
    let RateSource::Derived {
        observed_balance, ..
    } = &source
    else {
        panic!("derived");
    };
    assert_eq!(observed_balance[&Bucket::Days1To7], money("693.50"));
    assert_eq!(observed_balance[&Bucket::Days8To30], money("1590.00"));
    let expected = [
        (Bucket::Current, "0"),
        (Bucket::Days1To7, "0.495314"),
        (Bucket::Days8To30, "0.685535"),
        (Bucket::Days31To60, "1"),
        (Bucket::Days61To90, "1"),
        (Bucket::Days91Plus, "1"),
    ];
    for (bucket, rate) in expected {
        assert_eq!(
            rates.rate(bucket),
            rate.parse::<Ratio>().unwrap(),
            "{bucket}"
        );
    }
    let report = reports::provision(&scheme, day(100), &rates, source);
    assert!(report.total_allowance <= report.total_balance);
}

#[test]
fn default_rates_by_amount_count_patient_and_net_of_recoveries() {
    let fixture = city();
    let scheme = fixture.scheme().read();
    let report = reports::defaults(&scheme, date("2026-03-01"), date("2026-04-30"), day(36));
    let figures = report.figures;
    assert_eq!(figures.visits, 5);
    assert_eq!(figures.credit_extended, money("733.50"));
    assert_eq!(figures.defaulted_visits, 2);
    // V1 defaulted owing 60.00, V3 owing 300.00 (100.00 of it recovered since).
    assert_eq!(figures.defaulted_amount, money("360.00"));
    assert_eq!(figures.recovered_amount, money("100.00"));
    assert_eq!(figures.net_defaulted_amount, money("260.00"));
    assert_eq!(figures.default_rate_by_amount.to_string(), "0.490798");
    assert_eq!(figures.net_default_rate_by_amount.to_string(), "0.354465");
    assert_eq!(figures.default_rate_by_count.to_string(), "0.400000");
    assert_eq!(figures.default_rate_by_patient.to_string(), "0.400000");
    assert_eq!(figures.defaulted_patients, 2);
    assert!(report.default_definition.contains("default_after_days"));
    assert_eq!(report.default_after_days, 30);
    let by_hospital: Vec<(String, String, String)> = report
        .by_hospital
        .iter()
        .map(|row| {
            (
                row.hospital_id.to_string(),
                row.figures.credit_extended.to_string(),
                row.figures.defaulted_amount.to_string(),
            )
        })
        .collect();
    assert_eq!(
        by_hospital,
        vec![
            ("H1".into(), "383.50".into(), "60.00".into()),
            ("H2".into(), "350.00".into(), "300.00".into()),
        ]
    );
    // Vintages: March (V1-V4, 650.00) defaulted in April, month 1; April (V5) nothing yet.
    let curves: Vec<(String, String, Vec<String>)> = report
        .vintages
        .iter()
        .map(|curve| {
            (
                curve.cohort.clone(),
                curve.credit_extended.to_string(),
                curve
                    .points
                    .iter()
                    .map(|point| point.default_rate_by_amount.to_string())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        curves,
        vec![
            (
                "2026-03".into(),
                "650.00".into(),
                vec!["0.000000".into(), "0.553846".into()]
            ),
            ("2026-04".into(), "83.50".into(), vec!["0.000000".into()]),
        ]
    );
    // A range with nothing settled in it.
    let empty = reports::defaults(&scheme, date("2025-01-01"), date("2025-12-31"), day(36));
    assert_eq!(empty.figures.credit_extended, Money::ZERO);
    assert_eq!(empty.figures.default_rate_by_amount.to_string(), "0.000000");
}

/// Day 65: V1 and V3 are written off (63 days past due), V4 defaults; on day 66 P1 repays
/// 10.00 of the written-off V1.
fn written_off_city() -> Fixture {
    let fixture = city();
    fixture.clock.set(day(65));
    let run = fixture.run_delinquency();
    assert_eq!((run.overdue, run.defaulted, run.written_off), (1, 1, 2));
    fixture.clock.set(day(66));
    fixture.pay("PAY4", "P1", "10.00");
    fixture
}

#[test]
fn allowance_roll_forward_balances() {
    let fixture = written_off_city();
    let store = fixture.scheme().engine().store();
    let whole = reports::allowance_roll_forward(store.as_ref(), START, day(70)).unwrap();
    // Provisions 60.00 + 300.00 (day 33) + 50.00 (day 65); 100.00 released on the recovery of
    // V3; the write-offs take what V1 (60.00) and V3 (200.00) still owed.
    assert_eq!(whole.opening, Money::ZERO);
    assert_eq!(whole.charge, money("410.00"));
    assert_eq!(whole.released_on_recovery, money("100.00"));
    assert_eq!(whole.released_on_refund, Money::ZERO);
    assert_eq!(whole.write_offs, money("260.00"));
    assert_eq!(whole.recoveries_to_allowance, Money::ZERO);
    assert_eq!(whole.closing, money("50.00"));
    assert_eq!(whole.recoveries_to_income, money("10.00"));
    // Split at day 40: the first period closes where the second opens.
    let first = reports::allowance_roll_forward(store.as_ref(), START, day(40)).unwrap();
    let second = reports::allowance_roll_forward(store.as_ref(), day(40), day(70)).unwrap();
    assert_eq!(first.closing, money("260.00"));
    assert_eq!(second.opening, first.closing);
    assert_eq!(second.charge, money("50.00"));
    assert_eq!(second.write_offs, money("260.00"));
    assert_eq!(second.closing, whole.closing);
    for report in [whole, first, second] {
        let left =
            report.opening.fen() + report.charge.fen() + report.recoveries_to_allowance.fen();
        let right = report.closing.fen()
            + report.write_offs.fen()
            + report.released_on_recovery.fen()
            + report.released_on_refund.fen();
        assert_eq!(left, right, "{report:?}");
    }
    fixture.assert_verified();
}

#[test]
fn write_off_register_lists_each_visit_and_its_recoveries() {
    let fixture = written_off_city();
    let scheme = fixture.scheme().read();
    let register = reports::write_offs(&scheme, None, None);
    let rows: Vec<(String, String, String, String)> = register
        .entries
        .iter()
        .map(|entry| {
            (
                entry.visit_id.to_string(),
                entry.amount.to_string(),
                entry.recovered.to_string(),
                entry.outstanding.to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("V1".into(), "60.00".into(), "10.00".into(), "50.00".into()),
            ("V3".into(), "200.00".into(), "0.00".into(), "200.00".into()),
        ]
    );
    assert_eq!(register.total_written_off, money("260.00"));
    assert_eq!(register.total_recovered, money("10.00"));
    assert_eq!(register.entries[0].written_off_at, day(65));
    let none = reports::write_offs(&scheme, Some(date("2026-06-01")), None);
    assert_eq!(none.count, 0);
    // Written-off visits leave the aging.
    let aging = reports::aging(&scheme, day(66));
    assert_eq!(aging.total, money("133.50"));
}

#[test]
fn headline_figures_per_100_000() {
    let fixture = written_off_city();
    let scheme = fixture.scheme().read();
    let headline = reports::headline(&scheme);
    assert_eq!(headline.patients_enrolled, 5);
    assert_eq!(headline.hospitals, 2);
    assert_eq!(headline.visits_settled, 5);
    assert_eq!(headline.credit_extended, money("733.50"));
    assert_eq!(headline.repaid, money("350.00"));
    assert_eq!(headline.defaulted, money("410.00"));
    assert_eq!(headline.recovered, money("110.00"));
    assert_eq!(headline.written_off, money("250.00"));
    assert_eq!(headline.outstanding, money("383.50"));
    // 410.00 / 733.50 × 100,000 = 55,896.387... ; net 300.00: 40,899.795...
    assert_eq!(headline.default_rate_per_100_000.to_string(), "55896.39");
    assert_eq!(
        headline.net_default_rate_per_100_000.to_string(),
        "40899.80"
    );
}
