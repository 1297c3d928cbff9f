//! Many threads settling visits of the same patient at two hospitals at the same moment:
//! the single writer settles them one after the other, so the deductible and the annual cap
//! are used once and the credit line is never overdrawn.

mod scheme_support;

use std::sync::{Arc, Barrier};

use scheme_support::*;
use treatfirst_ledger::insurance::{PeriodPosition, VisitKind};
use treatfirst_ledger::scheme::{
    AccumulatorKey, ChargeRequest, OpenVisitRequest, SchemeCommand, SchemeReply, VisitStatus,
};
use treatfirst_ledger::Money;

const THREADS: usize = 32;

fn capped_plan_fixture(limit: &str) -> Fixture {
    let fixture = Fixture::new();
    let band = r#"[{"up_to": null, "fund_ratio": "0.80"}]"#;
    fixture.put_plan("city", plan(2, "100.00", band, r#""500.00""#, "all"));
    fixture.put_hospital("H1", 2);
    fixture.put_hospital("H2", 2);
    fixture.enroll("P1", "50.00", limit);
    fixture
}

fn visit_commands(thread: usize, estimate: &str) -> Vec<SchemeCommand> {
    let hospital_id: treatfirst_ledger::HospitalId = id(if thread % 2 == 0 { "H1" } else { "H2" });
    let visit_id = id(&format!("V{thread}"));
    let request = OpenVisitRequest {
        visit_id: id(&format!("V{thread}")),
        patient_id: id("P1"),
        kind: VisitKind::Outpatient,
        estimated_amount: money(estimate),
    };
    let charge = ChargeRequest {
        charge_id: id("C1"),
        items: lines(&[("A", "1", "100.00")]),
    };
    vec![
        SchemeCommand::OpenVisit {
            hospital_id: hospital_id.clone(),
            request,
        },
        SchemeCommand::AddCharge {
            hospital_id: hospital_id.clone(),
            visit_id: id(&format!("V{thread}")),
            charge,
        },
        SchemeCommand::Settle {
            hospital_id,
            visit_id,
        },
    ]
}

/// Every thread waits at the barrier, then submits its visit: even threads as one
/// submission, odd threads one command at a time.
fn settle_concurrently(fixture: &Fixture, estimate: &'static str) -> Vec<Vec<SchemeReply>> {
    let barrier = Arc::new(Barrier::new(THREADS));
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|thread| {
                let barrier = Arc::clone(&barrier);
                let scheme = fixture.scheme();
                scope.spawn(move || {
                    let commands = visit_commands(thread, estimate);
                    barrier.wait();
                    if thread % 2 == 0 {
                        return scheme.submit_many(commands).expect("durable");
                    }
                    let mut replies = Vec::new();
                    for command in commands {
                        let reply = scheme.submit(command).expect("durable");
                        let refused = reply.is_err();
                        replies.push(reply);
                        if refused {
                            break;
                        }
                    }
                    replies
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a worker"))
            .collect()
    })
}

/// The settled visits' positions chain: each starts where the one settled before it ended.
fn assert_positions_chain(fixture: &Fixture) -> PeriodPosition {
    let scheme = fixture.scheme().read();
    let mut settled: Vec<_> = scheme
        .visits()
        .filter(|visit| visit.settlement.is_some())
        .collect();
    settled.sort_by_key(|visit| visit.settle_sequence);
    let mut position = PeriodPosition::ZERO;
    for visit in settled {
        let record = visit.settlement.as_ref().unwrap();
        assert_eq!(
            record.terms.position_before, position,
            "visit {:?} saw the position the previous one left",
            visit.key
        );
        let deltas = record.current.accumulator_deltas();
        position = PeriodPosition {
            deductible_used: position
                .deductible_used
                .checked_add(deltas.deductible_used)
                .unwrap(),
            in_scope_cumulative: position
                .in_scope_cumulative
                .checked_add(deltas.in_scope_cumulative)
                .unwrap(),
            fund_paid: position.fund_paid.checked_add(deltas.fund_paid).unwrap(),
        };
    }
    let key = AccumulatorKey {
        patient_id: id("P1"),
        plan_id: id("city"),
        plan_year: 2026,
    };
    assert_eq!(scheme.accumulator(&key), position);
    position
}

#[test]
fn simultaneous_settlements_use_the_deductible_and_the_cap_once() {
    let fixture = capped_plan_fixture("1000.00");
    let replies = settle_concurrently(&fixture, "0");
    assert!(
        replies.iter().flatten().all(Result::is_ok),
        "every visit opens, charges and settles"
    );

    let position = assert_positions_chain(&fixture);
    assert_eq!(
        position.deductible_used,
        money("100.00"),
        "the deductible is taken once"
    );
    assert_eq!(
        position.fund_paid,
        money("500.00"),
        "the fund stops at the annual cap"
    );
    assert_eq!(
        position.in_scope_cumulative,
        Money::yuan(100 * THREADS as u64)
    );
    let mut sums = [Money::ZERO; 3];
    for thread in 0..THREADS {
        let hospital = if thread % 2 == 0 { "H1" } else { "H2" };
        let figures = fixture
            .visit_view(hospital, &format!("V{thread}"))
            .settlement
            .unwrap()
            .figures;
        for (sum, amount) in
            sums.iter_mut()
                .zip([figures.msa_paid, figures.financed, figures.collect_now])
        {
            *sum = sum.checked_add(amount).unwrap();
        }
    }
    assert_eq!(
        sums,
        [money("50.00"), money("1000.00"), money("1650.00")],
        "MSA once, credit up to the limit, the rest at the counter"
    );
    let patient = fixture.patient("P1");
    assert_eq!(
        (
            patient.outstanding,
            patient.available_credit,
            patient.msa_balance
        ),
        (money("1000.00"), Money::ZERO, Money::ZERO)
    );
    fixture.assert_verified();
}

#[test]
fn simultaneous_check_ins_never_hold_more_than_the_credit_line() {
    let fixture = capped_plan_fixture("1000.00");
    let replies = settle_concurrently(&fixture, "300.00");
    let authorized = replies.iter().filter(|replies| replies[0].is_ok()).count();
    let declined = replies
        .iter()
        .filter(
            |replies| matches!(&replies[0], Err(error) if error.code() == "insufficient_credit"),
        )
        .count();
    assert_eq!(authorized + declined, THREADS);
    assert!(authorized >= 3, "at least the first three estimates fit");
    assert!(
        declined > 0,
        "thirty-two estimates of 300.00 never fit a line of 1000.00"
    );

    assert_positions_chain(&fixture);
    let patient = fixture.patient("P1");
    let used = patient
        .credit_held
        .checked_add(patient.outstanding)
        .unwrap();
    assert!(used <= patient.credit_limit);
    for thread in 0..THREADS {
        let hospital = if thread % 2 == 0 { "H1" } else { "H2" };
        if let Some(visit) = fixture
            .scheme()
            .visit(&id(hospital), &id(&format!("V{thread}")))
        {
            assert_eq!(visit.status, VisitStatus::Settled);
        }
    }
    fixture.assert_verified();
}
