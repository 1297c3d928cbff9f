//! Helpers shared by the scheme tests: a durable scheme on a temporary directory with a
//! manual clock, and short constructors for plans, charges and commands.
#![allow(dead_code)]

use std::sync::Arc;

use treatfirst_ledger::insurance::{ChargeLine, HospitalLevel, MemberType, Plan, VisitKind};
use treatfirst_ledger::scheme::{
    ChargeRequest, Enrollment, OpenVisitRequest, PatientView, PaymentRequest, Scheme, SchemeConfig,
    SchemeError, SchemeLedger, SettlementView,
};
use treatfirst_ledger::verify::verify;
use treatfirst_ledger::{
    ChannelId, HospitalId, ManualClock, Money, PatientId, PaymentId, PlanId, Timestamp, VisitId,
};

pub const DAY_SECONDS: i64 = 86_400;

/// 2026-03-02T02:00:00Z: a Monday morning clinic in Beijing time.
pub const START: Timestamp = Timestamp::from_seconds(1_772_416_800);

pub fn money(text: &str) -> Money {
    text.parse().expect("a valid amount")
}

pub fn id<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse().expect("a valid id")
}

/// A one-rule plan (employee, outpatient, the given level) from the parts that vary.
pub fn plan(level: u8, deductible: &str, bands: &str, annual_cap: &str, msa_scope: &str) -> Plan {
    let json = format!(
        r#"{{"currency": "CNY", "payment_window_hours": {{"outpatient": 48, "inpatient": 72}},
            "default_self_pay_ratio": "0.10", "msa_scope": "{msa_scope}",
            "rules": [{{"member_type": "employee", "visit_kind": "outpatient",
                        "hospital_level": {level}, "deductible": "{deductible}",
                        "deductible_period": "year", "bands": {bands},
                        "annual_cap": {annual_cap}}},
                      {{"member_type": "employee", "visit_kind": "inpatient",
                        "hospital_level": {level}, "deductible": "{deductible}",
                        "deductible_period": "visit", "bands": {bands},
                        "annual_cap": {annual_cap}}}]}}"#
    );
    serde_json::from_str(&json).expect("a valid plan")
}

/// DESIGN.md's worked example: level 2, deductible 100.00, one band at 80%, no cap.
pub fn worked_example_plan() -> Plan {
    plan(
        2,
        "100.00",
        r#"[{"up_to": null, "fund_ratio": "0.80"}]"#,
        "null",
        "all",
    )
}

/// (category, quantity, unit price): lines without their own ratio or cap.
pub fn lines(items: &[(&str, &str, &str)]) -> Vec<ChargeLine> {
    items
        .iter()
        .enumerate()
        .map(|(index, (category, quantity, unit_price))| {
            let json = format!(
                r#"{{"code": "X{index}", "description": "", "category": "{category}",
                    "quantity": "{quantity}", "unit_price": "{unit_price}"}}"#
            );
            serde_json::from_str(&json).expect("a valid line")
        })
        .collect()
}

/// The worked example's three lines: A 3 × 30.00, B 1 × 250.00 at 15%, C 1 × 40.00.
pub fn worked_example_lines() -> Vec<ChargeLine> {
    serde_json::from_str(
        r#"[{"code": "A1", "description": "", "category": "A", "quantity": "3", "unit_price": "30.00"},
            {"code": "B1", "description": "", "category": "B", "quantity": "1", "unit_price": "250.00",
             "self_pay_ratio": "0.15"},
            {"code": "C1", "description": "", "category": "C", "quantity": "1", "unit_price": "40.00"}]"#,
    )
    .expect("valid lines")
}

pub fn enrollment(patient: &str, plan: &str, msa: &str, limit: &str) -> Enrollment {
    Enrollment {
        patient_id: id(patient),
        plan_id: id(plan),
        member_type: MemberType::Employee,
        birth_date: "1980-05-01".parse().expect("a date"),
        msa_balance: money(msa),
        credit_limit: money(limit),
        external_score: Some(700),
    }
}

/// A durable scheme in a temporary directory, on a manual clock.
pub struct Fixture {
    pub directory: tempfile::TempDir,
    pub clock: ManualClock,
    pub config: SchemeConfig,
    pub scheme: Option<SchemeLedger>,
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture::with_config(SchemeConfig::default())
    }

    pub fn with_config(config: SchemeConfig) -> Fixture {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let clock = ManualClock::new(START);
        let scheme = SchemeLedger::open_with(directory.path(), config, Arc::new(clock.clone()))
            .expect("the scheme opens");
        Fixture {
            directory,
            clock,
            config,
            scheme: Some(scheme),
        }
    }

    pub fn scheme(&self) -> &SchemeLedger {
        self.scheme.as_ref().expect("open")
    }

    /// Closes the store and opens it again: the state comes back from the journal.
    pub fn reopen(&mut self) {
        drop(self.scheme.take());
        let clock = Arc::new(self.clock.clone());
        let scheme = SchemeLedger::open_with(self.directory.path(), self.config, clock)
            .expect("the scheme reopens");
        self.scheme = Some(scheme);
    }

    pub fn now(&self) -> Timestamp {
        treatfirst_ledger::Clock::now(&self.clock)
    }

    pub fn advance_days(&self, days: i64) {
        self.clock.advance_seconds(days * DAY_SECONDS);
    }

    /// Runs the offline auditor on the store and fails with its problems.
    pub fn assert_verified(&self) {
        let store = self.scheme().engine().store();
        let report = verify::<Scheme>(store.as_ref());
        assert!(report.is_sound(), "verify: {:#?}", report.problems);
        assert!(report.records > 0);
    }

    /// The worked-example plan `city`, hospitals H1 (level 2) and H2 (level 2).
    pub fn with_worked_example_plan(self) -> Fixture {
        self.put_plan("city", worked_example_plan());
        self.put_hospital("H1", 2);
        self.put_hospital("H2", 2);
        self
    }

    pub fn put_plan(&self, plan_id: &str, plan: Plan) {
        self.scheme()
            .put_plan(id::<PlanId>(plan_id), plan)
            .expect("durable")
            .expect("the plan is stored");
    }

    pub fn put_hospital(&self, hospital: &str, level: u8) {
        let level = HospitalLevel::try_from(level).expect("a level");
        self.scheme()
            .put_hospital(id(hospital), hospital, level)
            .expect("durable")
            .expect("the hospital is stored");
    }

    pub fn enroll(&self, patient: &str, msa: &str, limit: &str) -> PatientView {
        self.scheme()
            .enroll_patient(enrollment(patient, "city", msa, limit))
            .expect("durable")
            .expect("the patient is enrolled")
    }

    pub fn try_open(
        &self,
        hospital: &str,
        visit: &str,
        patient: &str,
        estimate: &str,
    ) -> Result<Money, SchemeError> {
        let request = OpenVisitRequest {
            visit_id: id(visit),
            patient_id: id(patient),
            kind: VisitKind::Outpatient,
            estimated_amount: money(estimate),
        };
        let opened = self
            .scheme()
            .open_visit(id(hospital), request)
            .expect("durable")?;
        Ok(opened.authorized_amount)
    }

    pub fn open(&self, hospital: &str, visit: &str, patient: &str, estimate: &str) -> Money {
        self.try_open(hospital, visit, patient, estimate)
            .expect("the visit opens")
    }

    pub fn try_charge(
        &self,
        hospital: &str,
        visit: &str,
        charge: &str,
        items: Vec<ChargeLine>,
    ) -> Result<Money, SchemeError> {
        let request = ChargeRequest {
            charge_id: id(charge),
            items,
        };
        let added = self
            .scheme()
            .add_charge(id(hospital), id(visit), request)
            .expect("durable")?;
        Ok(added.visit_total)
    }

    pub fn charge(
        &self,
        hospital: &str,
        visit: &str,
        charge: &str,
        items: Vec<ChargeLine>,
    ) -> Money {
        self.try_charge(hospital, visit, charge, items)
            .expect("the charge is added")
    }

    pub fn try_settle(&self, hospital: &str, visit: &str) -> Result<SettlementView, SchemeError> {
        self.scheme()
            .settle(id(hospital), id(visit))
            .expect("durable")
    }

    pub fn settle(&self, hospital: &str, visit: &str) -> SettlementView {
        self.try_settle(hospital, visit).expect("the visit settles")
    }

    /// Open, one charge, settle.
    pub fn visit(
        &self,
        hospital: &str,
        visit: &str,
        patient: &str,
        items: Vec<ChargeLine>,
    ) -> SettlementView {
        self.open(hospital, visit, patient, "0");
        self.charge(hospital, visit, "C1", items);
        self.settle(hospital, visit)
    }

    pub fn try_pay(
        &self,
        payment: &str,
        patient: &str,
        amount: &str,
    ) -> Result<treatfirst_ledger::scheme::PaymentApplied, SchemeError> {
        let request = PaymentRequest {
            payment_id: id::<PaymentId>(payment),
            patient_id: id(patient),
            amount: money(amount),
            channel: id::<ChannelId>("alipay"),
        };
        self.scheme().pay(request).expect("durable")
    }

    pub fn pay(
        &self,
        payment: &str,
        patient: &str,
        amount: &str,
    ) -> treatfirst_ledger::scheme::PaymentApplied {
        self.try_pay(payment, patient, amount)
            .expect("the payment is applied")
    }

    pub fn run_delinquency(&self) -> treatfirst_ledger::scheme::DelinquencyRun {
        self.scheme()
            .run_delinquency(self.now())
            .expect("durable")
            .expect("the run is accepted")
    }

    pub fn patient(&self, patient: &str) -> PatientView {
        self.scheme()
            .patient(&id::<PatientId>(patient))
            .expect("a known patient")
    }

    pub fn visit_view(&self, hospital: &str, visit: &str) -> treatfirst_ledger::scheme::VisitView {
        self.scheme()
            .visit(&id::<HospitalId>(hospital), &id::<VisitId>(visit))
            .expect("a known visit")
    }

    /// The posted balance of an account on its normal side, in the books.
    pub fn balance(&self, account: &str, normal: treatfirst_ledger::Normal) -> Money {
        let account = id::<treatfirst_ledger::AccountId>(account);
        let scheme = self.scheme().read();
        scheme
            .books()
            .account(&account)
            .map_or(Money::ZERO, |found| found.balances.posted(normal))
    }
}
