//! The settle workload behind `treatfirst benchmark settle`: open + charge + settle per
//! visit, durable, from concurrent clients sharing commit groups.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::command::SchemeCommand;
use super::model::{ChargeRequest, Enrollment, OpenVisitRequest};
use super::service::{SchemeLedger, SchemeLedgerError};
use crate::insurance::{
    Band, Category, ChargeLine, DeductiblePeriod, HospitalLevel, MemberType, MsaScope,
    PaymentWindowHours, Plan, PlanRule, Quantity, VisitKind,
};
use crate::{ChargeId, HospitalId, Money, PatientId, PlanId, Ratio, VisitId};

/// How the workload runs.
#[derive(Debug, Clone, Copy)]
pub struct SettleBenchmark {
    pub seconds: u64,
    /// Concurrent submitters.
    pub clients: usize,
    /// Visits each submission carries (3 commands per visit).
    pub visits_per_submission: usize,
    /// Patients the visits are spread over.
    pub patients: usize,
}

impl Default for SettleBenchmark {
    fn default() -> SettleBenchmark {
        SettleBenchmark {
            seconds: 10,
            clients: 64,
            visits_per_submission: 1,
            patients: 10_000,
        }
    }
}

/// What the workload measured.
#[derive(Debug, Clone, Copy)]
pub struct SettleBenchmarkReport {
    pub visits: u64,
    pub elapsed: Duration,
    pub settles_per_second: u64,
    pub commit_groups: u64,
}

/// Runs the workload on a fresh store in `directory`.
///
/// # Errors
/// Storage failure.
///
/// # Panics
/// When a command of the workload is refused (a bug in the workload or the scheme).
pub fn run_settle_benchmark(
    directory: &Path,
    settings: SettleBenchmark,
) -> Result<SettleBenchmarkReport, SchemeLedgerError> {
    assert!(settings.clients > 0 && settings.patients > 0 && settings.visits_per_submission > 0);
    let scheme = Arc::new(SchemeLedger::open(directory)?);
    set_up(&scheme, settings.patients)?;
    let groups_before = scheme
        .engine()
        .stats()
        .commit_groups
        .load(Ordering::Relaxed);
    let stop = Arc::new(AtomicBool::new(false));
    let settled = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..settings.clients)
        .map(|client| {
            let (scheme, stop, settled) =
                (Arc::clone(&scheme), Arc::clone(&stop), Arc::clone(&settled));
            std::thread::spawn(move || client_loop(&scheme, client, settings, &stop, &settled))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(settings.seconds));
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().expect("a client finished")?;
    }
    let elapsed = started.elapsed();
    let visits = settled.load(Ordering::Relaxed);
    let commit_groups = scheme
        .engine()
        .stats()
        .commit_groups
        .load(Ordering::Relaxed)
        - groups_before;
    let settles_per_second = (u128::from(visits) * 1_000_000 / elapsed.as_micros().max(1)) as u64;
    Ok(SettleBenchmarkReport {
        visits,
        elapsed,
        settles_per_second,
        commit_groups,
    })
}

fn client_loop(
    scheme: &SchemeLedger,
    client: usize,
    settings: SettleBenchmark,
    stop: &AtomicBool,
    settled: &AtomicU64,
) -> Result<(), SchemeLedgerError> {
    let mut visit_number = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let mut commands = Vec::with_capacity(settings.visits_per_submission * 3);
        for _ in 0..settings.visits_per_submission {
            let patient = (client * 7919 + visit_number) % settings.patients;
            commands.extend(visit_commands(
                &format!("c{client}-{visit_number}"),
                patient,
            ));
            visit_number += 1;
        }
        for reply in scheme.submit_many(commands)? {
            if let Err(error) = reply {
                panic!("the benchmark workload was refused: {error}");
            }
        }
        settled.fetch_add(settings.visits_per_submission as u64, Ordering::Relaxed);
    }
    Ok(())
}

fn id<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse().expect("a valid id")
}

fn visit_commands(visit: &str, patient: usize) -> [SchemeCommand; 3] {
    let hospital_id: HospitalId = id(if patient % 2 == 0 { "H1" } else { "H2" });
    let visit_id: VisitId = id(visit);
    let line = |code: &str, category, unit_price| ChargeLine {
        code: code.to_owned(),
        description: String::new(),
        category,
        quantity: Quantity::units(2).expect("a quantity"),
        unit_price,
        self_pay_ratio: None,
        price_cap: None,
    };
    [
        SchemeCommand::OpenVisit {
            hospital_id: hospital_id.clone(),
            request: OpenVisitRequest {
                visit_id: visit_id.clone(),
                patient_id: id(&format!("P{patient}")),
                kind: VisitKind::Outpatient,
                estimated_amount: Money::yuan(200),
            },
        },
        SchemeCommand::AddCharge {
            hospital_id: hospital_id.clone(),
            visit_id: visit_id.clone(),
            charge: ChargeRequest {
                charge_id: id::<ChargeId>("C1"),
                items: vec![
                    line("A1", Category::A, Money::yuan(45)),
                    line("B1", Category::B, Money::yuan(30)),
                ],
            },
        },
        SchemeCommand::Settle {
            hospital_id,
            visit_id,
        },
    ]
}

fn set_up(scheme: &SchemeLedger, patients: usize) -> Result<(), SchemeLedgerError> {
    let plan_id: PlanId = id("bench");
    let mut commands = vec![SchemeCommand::PutPlan {
        plan_id: plan_id.clone(),
        plan: plan(),
    }];
    for (hospital, level) in [("H1", HospitalLevel::Level2), ("H2", HospitalLevel::Level3)] {
        commands.push(SchemeCommand::PutHospital {
            hospital_id: id(hospital),
            name: hospital.to_owned(),
            level,
        });
    }
    for patient in 0..patients {
        commands.push(SchemeCommand::EnrollPatient(Enrollment {
            patient_id: id::<PatientId>(&format!("P{patient}")),
            plan_id: plan_id.clone(),
            member_type: MemberType::Employee,
            birth_date: chrono::NaiveDate::from_ymd_opt(1980, 5, 1).expect("a date"),
            msa_balance: Money::yuan(100),
            credit_limit: Money::yuan(1_000_000),
            external_score: Some(700),
        }));
    }
    for chunk in commands.chunks(4096) {
        for reply in scheme.submit_many(chunk.to_vec())? {
            reply.expect("the benchmark set-up is accepted");
        }
    }
    Ok(())
}

fn plan() -> Plan {
    let ratio = |text: &str| text.parse::<Ratio>().expect("a ratio");
    let rule = |level| PlanRule {
        member_type: MemberType::Employee,
        visit_kind: VisitKind::Outpatient,
        hospital_level: level,
        deductible: Money::yuan(600),
        deductible_period: DeductiblePeriod::Year,
        bands: vec![
            Band {
                up_to: Some(Money::yuan(30_000)),
                fund_ratio: ratio("0.85"),
            },
            Band {
                up_to: None,
                fund_ratio: ratio("0.90"),
            },
        ],
        annual_cap: Some(Money::yuan(400_000)),
    };
    Plan {
        currency: crate::insurance::PLAN_CURRENCY.to_owned(),
        payment_window_hours: PaymentWindowHours {
            outpatient: 48,
            inpatient: 48,
        },
        default_self_pay_ratio: ratio("0.10"),
        msa_scope: MsaScope::All,
        rules: vec![rule(HospitalLevel::Level2), rule(HospitalLevel::Level3)],
    }
}
