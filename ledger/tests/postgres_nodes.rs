//! Two engines ("nodes") over one PostgreSQL journal, in one process: the rules decide on
//! the latest state whichever node a command reaches, nothing is applied twice, and the
//! journal both wrote verifies.
//!
//! Needs a PostgreSQL server: `TREATFIRST_TEST_DATABASE_URL=postgres://user:pass@host/db`
//! (its user may create databases; every test makes its own). Without it the tests say they
//! were skipped, unless `TREATFIRST_REQUIRE_POSTGRES=1` (CI) makes that a failure.

mod scheme_support;

use std::sync::{Arc, Barrier};

use scheme_support::*;
use treatfirst_ledger::insurance::{Plan, VisitKind};
use treatfirst_ledger::journal::{JournalStore, PostgresStore, ScratchDatabase};
use treatfirst_ledger::scheme::{
    OpenVisitRequest, PaymentRequest, Scheme, SchemeConfig, SchemeLedger,
};
use treatfirst_ledger::verify::{verify, verify_journal};
use treatfirst_ledger::{ChannelId, ManualClock, Money, PatientId, PaymentId};

fn database_server() -> Option<String> {
    match std::env::var("TREATFIRST_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("TREATFIRST_REQUIRE_POSTGRES").is_none(),
                "TREATFIRST_REQUIRE_POSTGRES is set but TREATFIRST_TEST_DATABASE_URL is not"
            );
            eprintln!("skipped: set TREATFIRST_TEST_DATABASE_URL to run the PostgreSQL tests");
            None
        }
    }
}

struct Nodes {
    _database: ScratchDatabase,
    store: Arc<PostgresStore>,
    nodes: Vec<SchemeLedger>,
}

/// Two nodes on a scratch database of the test server; `None` (the test is skipped) without
/// one.
fn two_nodes() -> Option<Nodes> {
    let server = database_server()?;
    let database = ScratchDatabase::create(&server).expect("a scratch database");
    let clock = Arc::new(ManualClock::new(START));
    let nodes = (0..2)
        .map(|_| {
            let store = Arc::new(PostgresStore::open(database.url()).expect("the store opens"));
            SchemeLedger::with_store(store, SchemeConfig::default(), clock.clone())
                .expect("the scheme opens")
        })
        .collect();
    let store = Arc::new(PostgresStore::open(database.url()).expect("the store opens"));
    Some(Nodes {
        _database: database,
        store,
        nodes,
    })
}

fn open_request(visit: &str, estimate: &str) -> OpenVisitRequest {
    OpenVisitRequest {
        visit_id: id(visit),
        patient_id: id("P1"),
        kind: VisitKind::Outpatient,
        estimated_amount: money(estimate),
    }
}

/// Plan `city` (written on node 0), hospitals H1 and H2 at level 2 (on node 1), and patient
/// P1 without a medical account and with `credit_limit` (on node 0).
fn city(nodes: &[SchemeLedger], city_plan: Plan, credit_limit: &str) {
    nodes[0].put_plan(id("city"), city_plan).unwrap().unwrap();
    for hospital in ["H1", "H2"] {
        nodes[1]
            .put_hospital(id(hospital), hospital, 2.try_into().unwrap())
            .unwrap()
            .unwrap();
    }
    nodes[0]
        .enroll_patient(enrollment("P1", "city", "0.00", credit_limit))
        .unwrap()
        .unwrap();
}

#[test]
fn a_write_on_one_node_is_read_on_the_other() {
    let Some(Nodes {
        nodes,
        store,
        _database: _scratch,
    }) = two_nodes()
    else {
        return;
    };
    nodes[0]
        .put_plan(id("city"), worked_example_plan())
        .unwrap()
        .unwrap();
    nodes[1]
        .put_hospital(id("H1"), "H1", 2.try_into().unwrap())
        .unwrap()
        .unwrap();
    nodes[0]
        .enroll_patient(enrollment("P1", "city", "50.00", "1000.00"))
        .unwrap()
        .unwrap();
    // Node 1 never saw the enrollment; its next command replays it first.
    let authorized = nodes[1]
        .open_visit(id("H1"), open_request("V1", "300.00"))
        .unwrap()
        .expect("the patient enrolled on node 0 is known on node 1");
    assert_eq!(authorized.authorized_amount, money("300.00"));
    nodes[0].engine().refresh().unwrap();
    let patient = nodes[0].patient(&id("P1")).unwrap();
    assert_eq!(patient.available_credit, money("700.00"));

    // A restarted node rebuilds the same state from the shared journal.
    let reopened = SchemeLedger::with_store(
        store.clone(),
        SchemeConfig::default(),
        Arc::new(ManualClock::new(START)),
    )
    .unwrap();
    assert_eq!(reopened.patient(&id("P1")).unwrap(), patient);
    let report = verify::<Scheme>(store.as_ref());
    assert!(report.is_sound(), "verify: {:#?}", report.problems);
    assert_eq!(report.records, store.last_record().unwrap().unwrap().seq);
}

#[test]
fn two_nodes_never_hold_more_than_the_credit_line_nor_apply_a_payment_twice() {
    let Some(Nodes {
        nodes,
        store,
        _database: _scratch,
    }) = two_nodes()
    else {
        return;
    };
    city(&nodes, worked_example_plan(), "1000.00");

    // 16 check-ins of 300.00 against 1000.00 of credit, spread over both nodes at once.
    const THREADS: usize = 16;
    let barrier = Barrier::new(THREADS);
    let opened: Vec<bool> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|thread| {
                let (node, barrier) = (&nodes[thread % 2], &barrier);
                scope.spawn(move || {
                    let hospital = if thread % 2 == 0 { "H1" } else { "H2" };
                    barrier.wait();
                    node.open_visit(id(hospital), open_request(&format!("V{thread}"), "300.00"))
                        .expect("durable")
                        .is_ok()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap())
            .collect()
    });
    assert_eq!(
        opened.iter().filter(|opened| **opened).count(),
        3,
        "three holds of 300.00 fit in 1000.00, whichever node took them"
    );

    // Settle each open visit on the node that did not open it, then pay 100.00 with the
    // same payment id on both nodes at once, eight times over.
    let mut financed = Money::ZERO;
    for (thread, _) in opened.iter().enumerate().filter(|(_, opened)| **opened) {
        let hospital = if thread % 2 == 0 { "H1" } else { "H2" };
        let node = &nodes[(thread + 1) % 2];
        let visit = format!("V{thread}");
        node.add_charge(
            id(hospital),
            id(&visit),
            treatfirst_ledger::scheme::ChargeRequest {
                charge_id: id("C1"),
                items: lines(&[("A", "1", "200.00")]),
            },
        )
        .unwrap()
        .unwrap();
        let settled = node.settle(id(hospital), id(&visit)).unwrap().unwrap();
        financed = financed.checked_add(settled.figures.financed).unwrap();
    }
    assert!(financed > Money::ZERO);
    let barrier = Barrier::new(16);
    let replies: Vec<_> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..16)
            .map(|thread| {
                let (node, barrier) = (&nodes[thread % 2], &barrier);
                scope.spawn(move || {
                    let request = PaymentRequest {
                        payment_id: id::<PaymentId>(&format!("PAY{}", thread / 2)),
                        patient_id: id::<PatientId>("P1"),
                        amount: money("10.00"),
                        channel: id::<ChannelId>("alipay"),
                    };
                    barrier.wait();
                    node.pay(request)
                        .expect("durable")
                        .expect("applied or replayed")
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap())
            .collect()
    });
    assert_eq!(replies.len(), 16);
    for node in &nodes {
        node.engine().refresh().unwrap();
    }
    let views: Vec<_> = nodes
        .iter()
        .map(|node| node.patient(&id("P1")).unwrap())
        .collect();
    assert_eq!(views[0], views[1], "both nodes hold the same state");
    assert_eq!(
        views[0].outstanding,
        financed.checked_sub(money("80.00")).unwrap(),
        "eight payments of 10.00, each applied once"
    );
    let verification = verify_journal(store.as_ref()).expect("a scheme journal");
    assert!(
        verification.report.is_sound(),
        "verify: {:#?}",
        verification.report.problems
    );
}

#[test]
fn two_nodes_settling_one_patient_use_the_deductible_and_the_cap_once() {
    let Some(Nodes {
        nodes,
        store,
        _database: _scratch,
    }) = two_nodes()
    else {
        return;
    };
    let band = r#"[{"up_to": null, "fund_ratio": "0.80"}]"#;
    city(
        &nodes,
        plan(2, "100.00", band, r#""500.00""#, "all"),
        "100000.00",
    );

    // 16 visits of 100.00 (all in scope), settled at the same moment, half on each node.
    const THREADS: usize = 16;
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (node, barrier) = (&nodes[thread % 2], &barrier);
            scope.spawn(move || {
                let hospital: treatfirst_ledger::HospitalId =
                    id(if thread % 4 < 2 { "H1" } else { "H2" });
                let visit = format!("V{thread}");
                let commands = vec![
                    treatfirst_ledger::scheme::SchemeCommand::OpenVisit {
                        hospital_id: hospital.clone(),
                        request: open_request(&visit, "0"),
                    },
                    treatfirst_ledger::scheme::SchemeCommand::AddCharge {
                        hospital_id: hospital.clone(),
                        visit_id: id(&visit),
                        charge: treatfirst_ledger::scheme::ChargeRequest {
                            charge_id: id("C1"),
                            items: lines(&[("A", "1", "100.00")]),
                        },
                    },
                    treatfirst_ledger::scheme::SchemeCommand::Settle {
                        hospital_id: hospital,
                        visit_id: id(&visit),
                    },
                ];
                barrier.wait();
                let replies = node.submit_many(commands).expect("durable");
                assert!(replies.iter().all(Result::is_ok), "{replies:?}");
            });
        }
    });
    let key = treatfirst_ledger::scheme::AccumulatorKey {
        patient_id: id("P1"),
        plan_id: id("city"),
        plan_year: 2026,
    };
    for node in &nodes {
        node.engine().refresh().unwrap();
        let position = node.read().accumulator(&key);
        assert_eq!(position.deductible_used, money("100.00"), "deductible once");
        assert_eq!(
            position.fund_paid,
            money("500.00"),
            "the fund stops at the cap"
        );
        assert_eq!(
            position.in_scope_cumulative,
            Money::yuan(100 * THREADS as u64)
        );
    }
    let patient = nodes[1].patient(&id("P1")).unwrap();
    assert_eq!(
        patient.outstanding,
        money("1100.00"),
        "16 × 100.00 less the fund's 500.00"
    );
    let report = verify::<Scheme>(store.as_ref());
    assert!(report.is_sound(), "verify: {:#?}", report.problems);
}

#[test]
fn verify_checks_the_journal_head_against_the_chain() {
    let Some(Nodes {
        nodes,
        store,
        _database: scratch,
    }) = two_nodes()
    else {
        return;
    };
    city(&nodes, worked_example_plan(), "1000.00");
    let last = store.last_record().unwrap().unwrap();
    assert_eq!(
        store.recorded_head().unwrap(),
        Some((last.seq, last.hash())),
        "every commit moves the head to its last record"
    );
    assert!(verify::<Scheme>(store.as_ref()).is_sound());

    // A head one record behind (as if a commit had lost its head update) is found.
    let mut client = postgres::Client::connect(scratch.url(), postgres::NoTls).unwrap();
    client
        .execute("UPDATE journal_head SET seq = seq - 1 WHERE id = 1", &[])
        .unwrap();
    let report = verify::<Scheme>(store.as_ref());
    assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
    assert!(
        report.problems[0].starts_with(&format!("the journal head says record {}", last.seq - 1))
            && report.problems[0].contains(&format!("chain ends at record {}", last.seq)),
        "{}",
        report.problems[0]
    );
}
