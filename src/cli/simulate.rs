//! `treatfirst simulate`: a deterministic city run through the real scheme ledger on a manual
//! clock, day by day: enrollment, outpatient and inpatient visits with plausible charge
//! mixes, repayments (most on time, some late, a few never or only after default), a
//! delinquency run every evening. Ends with the headline figures and the aging table.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rust_decimal::Decimal;
use treatfirst_ledger::insurance::{Category, ChargeLine, MemberType, Plan, Quantity, VisitKind};
use treatfirst_ledger::scheme::{
    ChargeRequest, Enrollment, FundRemittance, OpenVisitRequest, Outcome, PaymentRequest,
    SchemeCommand, SchemeConfig, SchemeLedger,
};
use treatfirst_ledger::{
    ChannelId, HospitalId, ManualClock, Money, PatientId, PaymentId, Ratio, Timestamp, VisitId,
};

/// 2026-01-05T00:30:00Z: 08:30 in the scheme's time zone, a Monday.
const START: Timestamp = Timestamp::from_seconds(1_767_573_000);
const DAY_SECONDS: i64 = 86_400;
/// Commands per submission to the ledger (one commit group each).
const COMMANDS_PER_SUBMISSION: usize = 16_384;
/// A patient's chance of a visit on a given day, in parts per million (about one visit
/// every 60 days).
const VISIT_PER_DAY_PPM: u64 = 16_667;
/// Share of inpatient stays among visits, per mille.
const INPATIENT_PER_MILLE: u64 = 60;

#[derive(Debug, Args)]
pub struct SimulateArguments {
    #[arg(long, default_value_t = 10_000)]
    patients: u32,
    #[arg(long, default_value_t = 20)]
    hospitals: u32,
    #[arg(long, default_value_t = 90)]
    days: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where the ledger goes (created; must be empty); a temporary directory when omitted.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// SplitMix64: a small, well-known deterministic generator.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }

    fn chance_per_mille(&mut self, per_mille: u64) -> bool {
        self.next() % 1000 < per_mille
    }
}

/// How a patient repays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// Within a day of settlement (most).
    OnTime,
    /// 1 to 25 days after the due date.
    Late,
    /// 35 to 80 days after the due date: a recovery after default.
    Recovers,
    /// Never.
    Defaults,
}

impl Behaviour {
    fn draw(random: &mut Random) -> Behaviour {
        match random.next() % 1000 {
            0..=919 => Behaviour::OnTime,
            920..=979 => Behaviour::Late,
            980..=989 => Behaviour::Recovers,
            _ => Behaviour::Defaults,
        }
    }

    /// Days after settlement the visit is repaid, if ever.
    fn repaid_after_days(self, random: &mut Random, window_days: u64) -> Option<u64> {
        match self {
            Behaviour::OnTime => Some(random.between(0, 1)),
            Behaviour::Late => Some(window_days + random.between(1, 25)),
            Behaviour::Recovers => Some(window_days + random.between(35, 80)),
            Behaviour::Defaults => None,
        }
    }
}

fn id<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse().expect("composed ids are valid")
}

fn plan() -> Plan {
    let mut rules = Vec::new();
    for (member, ratio_bonus) in [("employee", 0), ("retiree", 5), ("resident", -15)] {
        for level in 1..=3 {
            let base = 90 - 5 * (level - 1) + ratio_bonus;
            rules.push(serde_json::json!({
                "member_type": member, "visit_kind": "outpatient", "hospital_level": level,
                "deductible": "300.00", "deductible_period": "year",
                "bands": [{"up_to": null, "fund_ratio": format!("0.{:02}", base - 20)}],
                "annual_cap": "10000.00"}));
            rules.push(serde_json::json!({
                "member_type": member, "visit_kind": "inpatient", "hospital_level": level,
                "deductible": format!("{}.00", 300 * level), "deductible_period": "visit",
                "bands": [{"up_to": "30000.00", "fund_ratio": format!("0.{:02}", base)},
                          {"up_to": null, "fund_ratio": format!("0.{:02}", (base + 5).min(95))}],
                "annual_cap": "400000.00"}));
        }
    }
    serde_json::from_value(serde_json::json!({
        "currency": "CNY",
        "payment_window_hours": {"outpatient": 48, "inpatient": 72},
        "default_self_pay_ratio": "0.10",
        "msa_scope": "all",
        "rules": rules,
    }))
    .expect("a valid plan")
}

fn line(
    code: &str,
    category: Category,
    quantity: u64,
    unit_price_fen: u64,
    self_pay_per_cent: Option<u64>,
    price_cap_fen: Option<u64>,
) -> ChargeLine {
    ChargeLine {
        code: code.to_owned(),
        description: String::new(),
        category,
        quantity: Quantity::new(Decimal::from(quantity)).expect("a positive quantity"),
        unit_price: Money::from_fen(unit_price_fen).expect("a small price"),
        self_pay_ratio: self_pay_per_cent
            .map(|per_cent| Ratio::new(Decimal::new(per_cent as i64, 2)).expect("a ratio")),
        price_cap: price_cap_fen.map(|fen| Money::from_fen(fen).expect("a small price")),
    }
}

/// A clinic visit: consultation, medicines, sometimes tests and something outside the
/// catalogue. Mostly 50 to 800 yuan.
fn outpatient_lines(random: &mut Random) -> Vec<ChargeLine> {
    let mut lines = vec![line(
        "CONSULT",
        Category::A,
        1,
        random.between(15, 60) * 100,
        None,
        None,
    )];
    for index in 0..random.between(1, 3) {
        lines.push(line(
            &format!("DRUG{index}"),
            Category::B,
            random.between(1, 3),
            random.between(800, 12_000),
            Some(random.between(5, 20)),
            None,
        ));
    }
    if random.chance_per_mille(400) {
        lines.push(line(
            "LAB",
            Category::A,
            1,
            random.between(3_000, 30_000),
            None,
            None,
        ));
    }
    if random.chance_per_mille(150) {
        lines.push(line(
            "OTHER",
            Category::C,
            1,
            random.between(2_000, 20_000),
            None,
            None,
        ));
    }
    lines
}

/// A hospital stay: bed days, nursing, medicines, a procedure with a price cap, extras
/// outside the catalogue. Mostly 3,000 to 30,000 yuan.
fn inpatient_lines(random: &mut Random) -> Vec<ChargeLine> {
    let days = random.between(2, 12);
    let mut lines = vec![
        line(
            "BED",
            Category::A,
            days,
            random.between(6_000, 15_000),
            None,
            None,
        ),
        line(
            "NURSING",
            Category::A,
            days,
            random.between(3_000, 8_000),
            None,
            None,
        ),
        line(
            "DRUGS",
            Category::B,
            days,
            random.between(10_000, 60_000),
            Some(random.between(5, 20)),
            None,
        ),
    ];
    if random.chance_per_mille(500) {
        let price = random.between(200_000, 1_500_000);
        lines.push(line(
            "PROCEDURE",
            Category::B,
            1,
            price,
            Some(10),
            Some(price * 9 / 10),
        ));
    }
    if random.chance_per_mille(300) {
        lines.push(line(
            "EXTRA",
            Category::C,
            1,
            random.between(20_000, 300_000),
            None,
            None,
        ));
    }
    lines
}

/// The simulated city's state between days.
struct City {
    random: Random,
    behaviours: Vec<Behaviour>,
    /// Day -> (patient index, amount) repayments due that day.
    repayments: BTreeMap<u64, Vec<(u32, Money)>>,
    visits: u64,
    payments: u64,
    declined: u64,
    remitted: u64,
}

pub fn run(arguments: SimulateArguments) -> anyhow::Result<()> {
    if arguments.patients == 0 || arguments.hospitals == 0 || arguments.days == 0 {
        bail!("--patients, --hospitals and --days must be at least 1");
    }
    let temporary;
    let data_dir = match &arguments.data_dir {
        Some(directory) => {
            let used = std::fs::read_dir(directory)
                .map(|mut entries| entries.next().is_some())
                .unwrap_or(false);
            if used {
                bail!(
                    "{} is not empty: simulate writes a new ledger",
                    directory.display()
                );
            }
            directory.clone()
        }
        None => {
            temporary = tempfile::tempdir()?;
            temporary.path().to_path_buf()
        }
    };
    let clock = ManualClock::new(START);
    let ledger =
        SchemeLedger::open_with(&data_dir, SchemeConfig::default(), Arc::new(clock.clone()))
            .with_context(|| format!("opening {}", data_dir.display()))?;
    let started = Instant::now();
    let mut city = City {
        random: Random(arguments.seed),
        behaviours: Vec::new(),
        repayments: BTreeMap::new(),
        visits: 0,
        payments: 0,
        declined: 0,
        remitted: 0,
    };
    setup(&ledger, &arguments)?;
    let bar = if arguments.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(
            Some(u64::from(arguments.days)),
            ProgressDrawTarget::stderr(),
        )
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} day {pos}/{len} {msg}").expect("a valid template"),
    );
    for day in 0..u64::from(arguments.days) {
        clock.set(START.plus_seconds(day as i64 * DAY_SECONDS));
        simulate_day(&ledger, &clock, &mut city, &arguments, day)?;
        bar.set_position(day + 1);
        bar.set_message(format!(
            "{} visits, {} payments",
            city.visits, city.payments
        ));
    }
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    let scheme = ledger.read();
    let as_of = treatfirst_ledger::Clock::now(&clock);
    println!(
        "simulated {} patients, {} hospitals, {} days (seed {}) in {:.1} s: {} visits settled, \
         {} payments, {} visits declined, {} fund remittances",
        arguments.patients,
        arguments.hospitals,
        arguments.days,
        arguments.seed,
        elapsed.as_secs_f64(),
        city.visits,
        city.payments,
        city.declined,
        city.remitted
    );
    if arguments.data_dir.is_some() {
        println!("data directory: {}", data_dir.display());
    }
    println!();
    super::report::print_headline_and_aging(&scheme, as_of)
}

fn submit(ledger: &SchemeLedger, commands: Vec<SchemeCommand>) -> anyhow::Result<Vec<bool>> {
    let mut accepted = Vec::with_capacity(commands.len());
    let mut commands = commands.into_iter().peekable();
    while commands.peek().is_some() {
        let chunk: Vec<SchemeCommand> = commands.by_ref().take(COMMANDS_PER_SUBMISSION).collect();
        let replies = ledger.submit_many(chunk).context("the ledger failed")?;
        accepted.extend(replies.iter().map(Result::is_ok));
    }
    Ok(accepted)
}

fn setup(ledger: &SchemeLedger, arguments: &SimulateArguments) -> anyhow::Result<()> {
    let mut commands = vec![SchemeCommand::PutPlan {
        plan_id: id("city"),
        plan: plan(),
    }];
    for hospital in 0..arguments.hospitals {
        commands.push(SchemeCommand::PutHospital {
            hospital_id: id(&format!("H{hospital:04}")),
            name: format!("Hospital {hospital}"),
            level: u8::try_from(3 - hospital % 3)
                .expect("1..=3")
                .try_into()
                .expect("a level"),
        });
    }
    if submit(ledger, commands)?.iter().any(|accepted| !accepted) {
        bail!("the plan or a hospital was refused");
    }
    Ok(())
}

/// Enrollments spread over the first 30 days: patient i joins on day i × 30 / N.
fn enrolled_by(patient: u32, day: u64, arguments: &SimulateArguments) -> bool {
    let spread = u64::from(arguments.days.min(30));
    u64::from(patient) * spread / u64::from(arguments.patients) <= day
}

fn simulate_day(
    ledger: &SchemeLedger,
    clock: &ManualClock,
    city: &mut City,
    arguments: &SimulateArguments,
    day: u64,
) -> anyhow::Result<()> {
    let mut commands = Vec::new();
    // Morning: new patients.
    while (city.behaviours.len() as u32) < arguments.patients
        && enrolled_by(city.behaviours.len() as u32, day, arguments)
    {
        let patient = city.behaviours.len() as u32;
        let behaviour = Behaviour::draw(&mut city.random);
        city.behaviours.push(behaviour);
        let member_type = match city.random.next() % 10 {
            0..=5 => MemberType::Employee,
            6..=7 => MemberType::Retiree,
            _ => MemberType::Resident,
        };
        commands.push(SchemeCommand::EnrollPatient(Enrollment {
            patient_id: id(&format!("P{patient:07}")),
            plan_id: id("city"),
            member_type,
            birth_date: chrono::NaiveDate::from_ymd_opt(
                1940 + i32::try_from(city.random.between(0, 65)).expect("small"),
                1 + u32::try_from(city.random.between(0, 11)).expect("small"),
                1 + u32::try_from(city.random.between(0, 27)).expect("small"),
            )
            .expect("a valid date"),
            msa_balance: Money::from_fen(city.random.between(0, 3_000) * 100).expect("small"),
            credit_limit: Money::yuan(city.random.between(20, 100) * 100),
            external_score: Some(u16::try_from(city.random.between(450, 850)).expect("small")),
        }));
    }
    submit(ledger, std::mem::take(&mut commands))?;
    // Clinics: open, charge and settle each visit (the open may be declined: a suspended or
    // blacklisted patient, or no credit left; then the rest of that visit is refused too).
    clock.set(START.plus_seconds(day as i64 * DAY_SECONDS + 3 * 3600));
    let mut visits = Vec::new();
    for patient in 0..city.behaviours.len() as u32 {
        if city.random.next() % 1_000_000 >= VISIT_PER_DAY_PPM {
            continue;
        }
        let inpatient = city.random.chance_per_mille(INPATIENT_PER_MILLE);
        let hospital = city.random.between(0, u64::from(arguments.hospitals) - 1);
        let hospital_id: HospitalId = id(&format!("H{hospital:04}"));
        let visit_id: VisitId = id(&format!("D{day:03}-P{patient:07}"));
        let (kind, items) = if inpatient {
            (VisitKind::Inpatient, inpatient_lines(&mut city.random))
        } else {
            (VisitKind::Outpatient, outpatient_lines(&mut city.random))
        };
        commands.push(SchemeCommand::OpenVisit {
            hospital_id: hospital_id.clone(),
            request: OpenVisitRequest {
                visit_id: visit_id.clone(),
                patient_id: id(&format!("P{patient:07}")),
                kind,
                estimated_amount: Money::ZERO,
            },
        });
        commands.push(SchemeCommand::AddCharge {
            hospital_id: hospital_id.clone(),
            visit_id: visit_id.clone(),
            charge: ChargeRequest {
                charge_id: id("C1"),
                items,
            },
        });
        commands.push(SchemeCommand::Settle {
            hospital_id,
            visit_id,
        });
        visits.push((patient, if inpatient { 3 } else { 2 }));
    }
    let replies = submit_settlements(ledger, std::mem::take(&mut commands))?;
    for ((patient, window_days), financed) in visits.into_iter().zip(replies) {
        let Some(financed) = financed else {
            city.declined += 1;
            continue;
        };
        city.visits += 1;
        if financed.is_zero() {
            continue;
        }
        let behaviour = city.behaviours[patient as usize];
        if let Some(after) = behaviour.repaid_after_days(&mut city.random, window_days) {
            city.repayments
                .entry(day + after)
                .or_default()
                .push((patient, financed));
        }
    }
    // Afternoon: repayments due today, one per patient.
    clock.set(START.plus_seconds(day as i64 * DAY_SECONDS + 8 * 3600));
    let mut by_patient: BTreeMap<u32, Money> = BTreeMap::new();
    for (patient, amount) in city.repayments.remove(&day).unwrap_or_default() {
        let total = by_patient.entry(patient).or_default();
        *total = total.checked_add(amount).expect("bounded");
    }
    let channels: [ChannelId; 3] = [id("alipay"), id("citizen_card"), id("bank")];
    for (patient, amount) in by_patient {
        let channel = channels[(city.random.next() % 3) as usize].clone();
        commands.push(SchemeCommand::Pay(PaymentRequest {
            payment_id: id::<PaymentId>(&format!("PAY-D{day:03}-P{patient:07}")),
            patient_id: id::<PatientId>(&format!("P{patient:07}")),
            amount,
            channel,
        }));
    }
    city.payments += submit(ledger, commands)?.iter().filter(|ok| **ok).count() as u64;
    // Fridays: the pooled fund remits the fund shares of the visits settled so far.
    if day % 7 == 4 {
        remit_fund_shares(ledger, city)?;
    }
    // Evening: the delinquency run.
    clock.set(START.plus_seconds(day as i64 * DAY_SECONDS + 12 * 3600));
    let as_of = treatfirst_ledger::Clock::now(clock);
    let run = ledger.run_delinquency(as_of).context("the ledger failed")?;
    if let Err(error) = run {
        bail!("the delinquency run was refused: {error}");
    }
    Ok(())
}

/// One remittance per settled visit with a fund share not remitted yet.
fn remit_fund_shares(ledger: &SchemeLedger, city: &mut City) -> anyhow::Result<()> {
    let commands: Vec<SchemeCommand> = {
        let scheme = ledger.read();
        let mut visits: Vec<_> = scheme
            .visits()
            .filter_map(|visit| {
                let fund_share = visit.settlement.as_ref()?.current.fund_paid;
                let remitted = scheme.remittances().of_visit(&visit.key).is_some();
                (!fund_share.is_zero() && !remitted).then(|| (visit.key.clone(), fund_share))
            })
            .collect();
        visits.sort();
        visits
            .into_iter()
            .map(|(key, amount)| {
                SchemeCommand::RemitFund(FundRemittance {
                    reference: id(&format!("FUND-{}-{}", key.hospital_id, key.visit_id)),
                    hospital_id: key.hospital_id,
                    visit_id: key.visit_id,
                    amount,
                })
            })
            .collect()
    };
    city.remitted += submit(ledger, commands)?.iter().filter(|ok| **ok).count() as u64;
    Ok(())
}

/// Submits open/charge/settle triples; the financed amount of each settled visit.
fn submit_settlements(
    ledger: &SchemeLedger,
    commands: Vec<SchemeCommand>,
) -> anyhow::Result<Vec<Option<Money>>> {
    let mut financed = Vec::with_capacity(commands.len() / 3);
    let mut commands = commands.into_iter().peekable();
    while commands.peek().is_some() {
        let chunk: Vec<SchemeCommand> = commands
            .by_ref()
            .take(COMMANDS_PER_SUBMISSION / 3 * 3)
            .collect();
        let replies = ledger.submit_many(chunk).context("the ledger failed")?;
        for triple in replies.chunks(3) {
            financed.push(match &triple[2] {
                Ok(accepted) => match &accepted.outcome {
                    Outcome::Settled(settlement) => Some(settlement.figures.financed),
                    _ => None,
                },
                Err(_) => None,
            });
        }
    }
    Ok(financed)
}
