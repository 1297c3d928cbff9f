//! Randomized runs of the whole lifecycle: opens, charges, settles, cancels, refunds,
//! payments, deposits, time passing and delinquency runs, checked after every command
//! against the domain invariants and a small reference model, replayed, and audited.

mod scheme_support;

use std::sync::atomic::Ordering;

use proptest::prelude::*;
use scheme_support::*;
use treatfirst_ledger::engine::StateMachine;
use treatfirst_ledger::insurance::{ChargeLine, HospitalLevel, VisitKind};
use treatfirst_ledger::scheme::{
    ChargeRequest, OpenVisitRequest, Outcome, PatientStatus, PatientView, PaymentRequest, Refunded,
    Scheme, SchemeChange, SchemeCommand, SchemeConfig, SchemeError, SchemeReply, VisitView,
};
use treatfirst_ledger::verify::Audited;
use treatfirst_ledger::{Money, Timestamp};

const PATIENTS: usize = 3;
const HOSPITALS: usize = 2;
const DEDUCTIBLE: Money = Money::yuan(50);
const ANNUAL_CAP: Money = Money::yuan(400);

#[derive(Debug, Clone)]
enum Op {
    Open {
        patient: usize,
        hospital: usize,
        estimate_fen: u64,
    },
    Charge {
        visit: usize,
        lines: Vec<(u8, u64, u64)>,
    },
    Settle {
        visit: usize,
    },
    Cancel {
        visit: usize,
    },
    Refund {
        visit: usize,
        charge: usize,
    },
    /// A share of what the patient owes, in percent (above 100 is an overpayment).
    Pay {
        patient: usize,
        percent: u64,
    },
    Deposit {
        patient: usize,
        amount_fen: u64,
    },
    Advance {
        hours: i64,
    },
    Delinquency {
        days_back: i64,
    },
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let line = (0u8..3, 1u64..4, 0u64..20_000);
    prop_oneof![
        3 => (0..PATIENTS, 0..HOSPITALS, prop_oneof![Just(0u64), 0u64..30_000]).prop_map(|(patient, hospital, estimate_fen)| Op::Open { patient, hospital, estimate_fen }),
        6 => (0usize..2, prop::collection::vec(line, 1..4)).prop_map(|(visit, lines)| Op::Charge { visit, lines }),
        2 => (0usize..4).prop_map(|visit| Op::Settle { visit }),
        1 => (0usize..6).prop_map(|visit| Op::Cancel { visit }),
        2 => (0usize..6, 0usize..4).prop_map(|(visit, charge)| Op::Refund { visit, charge }),
        3 => (0..PATIENTS, 1u64..106).prop_map(|(patient, percent)| Op::Pay { patient, percent }),
        1 => (0..PATIENTS, 1u64..2_000).prop_map(|(patient, amount_fen)| Op::Deposit { patient, amount_fen }),
        2 => (1i64..24 * 60).prop_map(|hours| Op::Advance { hours }),
        2 => (0i64..3).prop_map(|days_back| Op::Delinquency { days_back }),
    ]
}

/// Where commands run: in memory (journal kept for replay) or on a durable store.
trait Target {
    fn execute(&mut self, command: SchemeCommand, now: Timestamp) -> (SchemeReply, usize);
    /// Releases the holds due at `now` (so that what follows is the command's own effect).
    fn housekeeping(&mut self, now: Timestamp);
    fn with_scheme<R>(&self, read: impl FnOnce(&Scheme) -> R) -> R;
}

#[derive(Default)]
struct InMemory {
    scheme: Scheme,
    journal: Vec<(Timestamp, SchemeChange)>,
}

impl Target for InMemory {
    fn execute(&mut self, command: SchemeCommand, now: Timestamp) -> (SchemeReply, usize) {
        let (reply, changes) = self.scheme.execute(command, now);
        let count = changes.len();
        self.journal
            .extend(changes.into_iter().map(|change| (now, change)));
        (reply, count)
    }

    fn housekeeping(&mut self, now: Timestamp) {
        while let Some(change) = self.scheme.housekeeping(now) {
            self.journal.push((now, change));
        }
    }

    fn with_scheme<R>(&self, read: impl FnOnce(&Scheme) -> R) -> R {
        read(&self.scheme)
    }
}

struct Durable {
    fixture: Fixture,
}

impl Target for Durable {
    fn execute(&mut self, command: SchemeCommand, now: Timestamp) -> (SchemeReply, usize) {
        self.fixture.clock.set(now);
        let records = || {
            self.fixture
                .scheme()
                .engine()
                .stats()
                .records
                .load(Ordering::Relaxed)
        };
        let before = records();
        let reply = self.fixture.scheme().submit(command).expect("durable");
        (reply, (records() - before) as usize)
    }

    fn housekeeping(&mut self, now: Timestamp) {
        let same_plan = setup_commands().remove(0);
        let (reply, _) = self.execute(same_plan, now);
        assert!(reply.expect("the same plan replays").replayed);
    }

    fn with_scheme<R>(&self, read: impl FnOnce(&Scheme) -> R) -> R {
        read(&self.fixture.scheme().read())
    }
}

/// Everything a client can observe, in a fixed order.
#[derive(Debug, PartialEq)]
struct Snapshot {
    patients: Vec<PatientView>,
    visits: Vec<VisitView>,
    accumulators: Vec<String>,
    balances: Vec<String>,
    delinquency_as_of: Option<Timestamp>,
}

fn snapshot(scheme: &Scheme) -> Snapshot {
    let mut patients: Vec<PatientView> = scheme
        .patients()
        .map(|patient| scheme.patient_view(&patient.enrollment.patient_id).unwrap())
        .collect();
    patients.sort_by(|a, b| a.patient_id.cmp(&b.patient_id));
    let mut visits: Vec<VisitView> = scheme
        .visits()
        .map(|visit| scheme.visit_view(&visit.key).unwrap())
        .collect();
    visits.sort_by(|a, b| (&a.hospital_id, &a.visit_id).cmp(&(&b.hospital_id, &b.visit_id)));
    let mut accumulators: Vec<String> = scheme
        .accumulators()
        .map(|entry| format!("{entry:?}"))
        .collect();
    accumulators.sort();
    let mut balances: Vec<String> = scheme
        .books()
        .accounts()
        .map(|account| format!("{account:?}"))
        .collect();
    balances.sort();
    Snapshot {
        patients,
        visits,
        accumulators,
        balances,
        delinquency_as_of: scheme.delinquency_as_of(),
    }
}

fn setup_commands() -> Vec<SchemeCommand> {
    let bands =
        r#"[{"up_to": "300.00", "fund_ratio": "0.50"}, {"up_to": null, "fund_ratio": "0.90"}]"#;
    let mut commands = vec![SchemeCommand::PutPlan {
        plan_id: id("city"),
        plan: plan(2, "50.00", bands, r#""400.00""#, "all"),
    }];
    for hospital in 0..HOSPITALS {
        commands.push(SchemeCommand::PutHospital {
            hospital_id: id(&format!("H{hospital}")),
            name: "h".to_owned(),
            level: HospitalLevel::Level2,
        });
    }
    let limits = [("0", "0"), ("30.00", "150.00"), ("100.00", "1000.00")];
    for (patient, (msa, limit)) in limits.iter().enumerate() {
        commands.push(SchemeCommand::EnrollPatient(enrollment(
            &format!("P{patient}"),
            "city",
            msa,
            limit,
        )));
    }
    commands
}

/// The ids the generated operations refer to.
#[derive(Default)]
struct Ids {
    /// (hospital, visit id, charge ids) of every open attempted.
    visits: Vec<(String, String, Vec<String>)>,
    next_charge: usize,
    next_payment: usize,
}

fn charge_lines(lines: &[(u8, u64, u64)]) -> Vec<ChargeLine> {
    let categories = ["A", "B", "C"];
    let specs: Vec<(String, String, String)> = lines
        .iter()
        .map(|(category, quantity, price_fen)| {
            (
                categories[*category as usize].to_owned(),
                quantity.to_string(),
                Money::from_fen(*price_fen).unwrap().to_string(),
            )
        })
        .collect();
    let borrowed: Vec<(&str, &str, &str)> = specs
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    scheme_support::lines(&borrowed)
}

/// The command an operation makes, or `None` for one that only moves time.
fn command_for(
    op: &Op,
    ids: &mut Ids,
    now: &mut Timestamp,
    before: &Snapshot,
) -> Option<SchemeCommand> {
    let visit_ref = |ids: &Ids, visit: usize| {
        let count = ids.visits.len();
        (count > 0).then(|| {
            let (hospital, visit, _) = &ids.visits[count - 1 - visit % count];
            (id(hospital), id(visit))
        })
    };
    Some(match op {
        Op::Open {
            patient,
            hospital,
            estimate_fen,
        } => {
            let visit_id = format!("V{}", ids.visits.len());
            let hospital_id = format!("H{hospital}");
            ids.visits
                .push((hospital_id.clone(), visit_id.clone(), Vec::new()));
            let request = OpenVisitRequest {
                visit_id: id(&visit_id),
                patient_id: id(&format!("P{patient}")),
                kind: VisitKind::Outpatient,
                estimated_amount: Money::from_fen(*estimate_fen).unwrap(),
            };
            SchemeCommand::OpenVisit {
                hospital_id: id(&hospital_id),
                request,
            }
        }
        Op::Charge { visit, lines } => {
            let (hospital_id, visit_id) = visit_ref(ids, *visit)?;
            let charge_id = format!("C{}", ids.next_charge);
            ids.next_charge += 1;
            let count = ids.visits.len();
            ids.visits[count - 1 - visit % count]
                .2
                .push(charge_id.clone());
            SchemeCommand::AddCharge {
                hospital_id,
                visit_id,
                charge: ChargeRequest {
                    charge_id: id(&charge_id),
                    items: charge_lines(lines),
                },
            }
        }
        Op::Settle { visit } => {
            let (hospital_id, visit_id) = visit_ref(ids, *visit)?;
            SchemeCommand::Settle {
                hospital_id,
                visit_id,
            }
        }
        Op::Cancel { visit } => {
            let (hospital_id, visit_id) = visit_ref(ids, *visit)?;
            SchemeCommand::Cancel {
                hospital_id,
                visit_id,
            }
        }
        Op::Refund { visit, charge } => {
            let (hospital_id, visit_id) = visit_ref(ids, *visit)?;
            let charges = &ids.visits[ids.visits.len() - 1 - visit % ids.visits.len()].2;
            let charge_id = charges.get(charge % charges.len().max(1))?.clone();
            SchemeCommand::Refund {
                hospital_id,
                visit_id,
                refund_id: id(&format!("R{charge_id}")),
                charge_id: id(&charge_id),
            }
        }
        Op::Pay { patient, percent } => {
            ids.next_payment += 1;
            // Mostly patients who owe something: overpayments then come from percent > 100.
            let owing: Vec<&PatientView> = before
                .patients
                .iter()
                .filter(|view| !view.outstanding.is_zero())
                .collect();
            let patient_id = match owing.len() {
                0 => id(&format!("P{patient}")),
                count => owing[patient % count].patient_id.clone(),
            };
            let owed = view_of(before, &patient_id).outstanding.fen();
            let amount = Money::from_fen((owed * percent / 100).max(1)).unwrap();
            let request = PaymentRequest {
                payment_id: id(&format!("PAY{}", ids.next_payment)),
                patient_id,
                amount,
                channel: id("bank"),
            };
            SchemeCommand::Pay(request)
        }
        Op::Deposit {
            patient,
            amount_fen,
        } => {
            ids.next_payment += 1;
            SchemeCommand::DepositMsa {
                patient_id: id(&format!("P{patient}")),
                deposit_id: id(&format!("D{}", ids.next_payment)),
                amount: Money::from_fen(*amount_fen).unwrap(),
            }
        }
        Op::Advance { hours } => {
            *now = now.plus_seconds(hours * 3600);
            return None;
        }
        Op::Delinquency { days_back } => SchemeCommand::RunDelinquency {
            as_of: now.plus_seconds(-days_back * DAY_SECONDS),
        },
    })
}

fn view_of<'a>(before: &'a Snapshot, patient_id: &treatfirst_ledger::PatientId) -> &'a PatientView {
    before
        .patients
        .iter()
        .find(|view| view.patient_id == *patient_id)
        .expect("an enrolled patient")
}

/// The reference model's expectations of a command, from what clients saw before it.
fn check_against_model(
    command: &SchemeCommand,
    reply: &SchemeReply,
    before: &Snapshot,
) -> Result<(), TestCaseError> {
    match (command, reply) {
        (SchemeCommand::Pay(request), Ok(accepted)) if !accepted.replayed => {
            let view = view_of(before, &request.patient_id);
            prop_assert!(request.amount <= view.outstanding);
            let Outcome::PaymentApplied(applied) = &accepted.outcome else {
                panic!("a payment outcome")
            };
            prop_assert_eq!(
                applied.outstanding,
                view.outstanding.checked_sub(request.amount).unwrap()
            );
            let parts = Money::checked_sum(applied.applied.iter().map(|part| part.amount));
            prop_assert_eq!(parts, Some(request.amount));
        }
        (
            SchemeCommand::Pay(request),
            Err(SchemeError::AmountExceedsOutstanding { outstanding }),
        ) => {
            let view = view_of(before, &request.patient_id);
            prop_assert!(request.amount > view.outstanding);
            prop_assert_eq!(*outstanding, view.outstanding);
        }
        (SchemeCommand::OpenVisit { request, .. }, Ok(accepted)) if !accepted.replayed => {
            let view = view_of(before, &request.patient_id);
            prop_assert!(
                request.estimated_amount <= view.available_credit,
                "authorized within the available credit"
            );
            prop_assert_eq!(view.status, PatientStatus::Active);
        }
        (
            SchemeCommand::OpenVisit { request, .. },
            Err(SchemeError::InsufficientCredit { available, .. }),
        ) => {
            let view = view_of(before, &request.patient_id);
            prop_assert!(request.estimated_amount > view.available_credit);
            prop_assert_eq!(*available, view.available_credit);
        }
        (SchemeCommand::OpenVisit { request, .. }, Err(SchemeError::PatientNotActive { .. })) => {
            prop_assert_ne!(
                view_of(before, &request.patient_id).status,
                PatientStatus::Active
            );
        }
        (_, Ok(accepted)) => {
            if let Outcome::Settled(settlement) | Outcome::Refunded(Refunded { settlement, .. }) =
                &accepted.outcome
            {
                prop_assert!(
                    settlement.figures.parts_sum_exactly(),
                    "parts sum to their wholes"
                );
            }
        }
        _ => {}
    }
    Ok(())
}

/// Properties that hold after every command.
fn check_state(scheme: &Scheme) -> Result<(), TestCaseError> {
    let problems = scheme.check_invariants();
    prop_assert!(problems.is_empty(), "invariants: {:#?}", problems);
    for (_, position) in scheme.accumulators() {
        prop_assert!(
            position.fund_paid <= ANNUAL_CAP,
            "the fund stays within the annual cap"
        );
        prop_assert!(
            position.deductible_used <= DEDUCTIBLE,
            "the deductible is used once a year"
        );
    }
    for patient in scheme.patients() {
        let view = scheme.patient_view(&patient.enrollment.patient_id).unwrap();
        let used = view.credit_held.checked_add(view.outstanding).unwrap();
        prop_assert!(
            used <= view.credit_limit,
            "held plus outstanding within the limit: {:?}",
            view
        );
    }
    Ok(())
}

/// Runs the operations, each command twice: the repeat must replay and write nothing.
fn drive<T: Target>(target: &mut T, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut now = START;
    for command in setup_commands() {
        let (reply, _) = target.execute(command, now);
        prop_assert!(reply.is_ok(), "setup: {:?}", reply);
    }
    let mut ids = Ids::default();
    for op in ops {
        let before = target.with_scheme(snapshot);
        let Some(command) = command_for(op, &mut ids, &mut now, &before) else {
            continue;
        };
        target.housekeeping(now);
        let before = target.with_scheme(snapshot);
        let (reply, written) = target.execute(command.clone(), now);
        target.with_scheme(check_state)?;
        check_against_model(&command, &reply, &before)?;
        if let Err(error) = &reply {
            prop_assert_eq!(written, 0, "a refusal writes nothing: {}", error);
            prop_assert_eq!(
                target.with_scheme(snapshot),
                before,
                "a refusal changes nothing"
            );
            continue;
        }
        if matches!(command, SchemeCommand::RunDelinquency { .. }) {
            continue;
        }
        let after = target.with_scheme(snapshot);
        let (again, written) = target.execute(command.clone(), now);
        let (first, again) = (reply.unwrap(), again.expect("a repeat is accepted"));
        prop_assert!(
            again.replayed && written == 0,
            "the repeat of {:?} replays",
            command
        );
        prop_assert_eq!(&again.outcome, &first.outcome);
        prop_assert_eq!(
            target.with_scheme(snapshot),
            after,
            "a replay changes nothing"
        );
    }
    Ok(())
}

/// Applies the journal to a fresh state machine: it must rebuild the same state.
fn replayed(journal: &[(Timestamp, SchemeChange)]) -> Scheme {
    let mut scheme = Scheme::new(SchemeConfig::default());
    for (at, change) in journal {
        scheme.replay(change, *at);
    }
    scheme
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_lifecycles_keep_every_invariant_and_replay_exactly(ops in prop::collection::vec(op_strategy(), 1..80)) {
        let mut target = InMemory::default();
        drive(&mut target, &ops)?;
        let rebuilt = replayed(&target.journal);
        prop_assert_eq!(snapshot(&rebuilt), snapshot(&target.scheme));
        prop_assert!(rebuilt.check_invariants().is_empty());
    }

    /// Short deadlines: holds expire, visits default and are written off within a run, and
    /// replay with the default settings still rebuilds the same state (the journal holds the
    /// outcomes, not the settings).
    #[test]
    fn short_deadlines_keep_every_invariant_and_replay_exactly(ops in prop::collection::vec(op_strategy(), 1..80)) {
        let config = SchemeConfig {
            default_after_days: 3,
            write_off_after_days: 9,
            hold_timeout_seconds: 2 * 86_400,
            ..SchemeConfig::default()
        };
        let mut target = InMemory { scheme: Scheme::new(config), journal: Vec::new() };
        drive(&mut target, &ops)?;
        let rebuilt = replayed(&target.journal);
        prop_assert_eq!(snapshot(&rebuilt), snapshot(&target.scheme));
        prop_assert!(rebuilt.check_invariants().is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn random_lifecycles_on_disk_verify_and_survive_a_restart(ops in prop::collection::vec(op_strategy(), 1..60)) {
        let mut target = Durable { fixture: Fixture::new() };
        drive(&mut target, &ops)?;
        target.fixture.assert_verified();
        let before = target.with_scheme(snapshot);
        target.fixture.reopen();
        prop_assert_eq!(target.with_scheme(snapshot), before);
        target.fixture.assert_verified();
    }
}
