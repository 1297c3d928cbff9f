//! The scheme's state: the books plus the domain state, and the one place the domain state
//! changes ([`Scheme::apply_event`]), shared by execution and replay.

use std::collections::{BTreeSet, HashMap};

use super::chart::TransferIds;
use super::command::{DelinquencyRun, SchemeError};
use super::event::{SchemeChange, SchemeEvent};
use super::model::{
    AccumulatorKey, Charge, DepositRecord, Hold, Hospital, Patient, PatientAccounts, PatientStatus,
    PaymentRecord, PlanHistory, SchemeConfig, Visit, VisitKey, VisitStatus, VisitTimeline,
};
use crate::accounts::AccountLimit;
use crate::accounts::AccountSpec;
use crate::books::Books;
use crate::growing_map::GrowingMap;
use crate::insurance::PeriodPosition;
use crate::transfers::TransferRequest;
use crate::{HospitalId, Money, PatientId, PaymentId, PlanId, Timestamp, TransferId, VisitId};

/// The credit scheme as a state machine: [`Books`] plus plans, hospitals, patients, visits,
/// accumulators and idempotency records. Commands run through
/// [`crate::engine::StateMachine::execute`]; queries are the methods of `queries.rs`.
#[derive(Debug, Default)]
pub struct Scheme {
    pub(super) config: SchemeConfig,
    pub(super) books: Books,
    pub(super) plans: HashMap<PlanId, PlanHistory>,
    pub(super) hospitals: HashMap<HospitalId, Hospital>,
    pub(super) patients: GrowingMap<PatientId, Patient>,
    pub(super) visits: GrowingMap<VisitKey, Visit>,
    pub(super) accumulators: GrowingMap<AccumulatorKey, PeriodPosition>,
    pub(super) payments: GrowingMap<PaymentId, PaymentRecord>,
    /// Open visits by the transfer id of their hold (to clear holds the books expire).
    pub(super) holds: GrowingMap<TransferId, VisitKey>,
    /// Visits with something outstanding, by due date then settlement order.
    pub(super) receivables: BTreeSet<(Timestamp, u64, VisitKey)>,
    pub(super) settlements: u64,
    /// The `as_of` of the last delinquency run: runs never go backwards.
    pub(super) delinquency_as_of: Option<Timestamp>,
    /// Fund remittances posted, by reference and by visit.
    pub(super) remittances: super::finance::Remittances,
    /// Per hospital, what its desk lists, so listing never scans every visit of the scheme.
    pub(super) desks: HashMap<HospitalId, HospitalDesk>,
}

/// A hospital's visits as its desk lists them.
#[derive(Debug, Default)]
pub(super) struct HospitalDesk {
    /// Opened and neither settled nor cancelled yet.
    pub open: BTreeSet<VisitId>,
    /// Settled visits in settlement order with their settlement instant. Journal time never
    /// goes backwards, so this is in time order too: a day is one slice, found by binary
    /// search.
    pub settled: Vec<(Timestamp, VisitId)>,
}

/// A refused command: the error, and the records that keep the journal equal to the state
/// when part of the command had to stay (accounts opened before the books refused a chain,
/// patients a delinquency run already aged). Empty for every ordinary refusal.
pub(super) struct Refusal {
    pub error: SchemeError,
    pub changes: Vec<SchemeChange>,
}

impl From<SchemeError> for Refusal {
    fn from(error: SchemeError) -> Refusal {
        Refusal {
            error,
            changes: Vec::new(),
        }
    }
}

/// What a command is about to do: accounts to open, transfers to run as one linked chain,
/// events to apply. [`Scheme::commit`] makes it one [`SchemeChange`].
#[derive(Default)]
pub(super) struct Draft {
    pub accounts: Vec<AccountSpec>,
    pub limits: Vec<(crate::AccountId, AccountLimit)>,
    pub transfers: Vec<TransferRequest>,
    pub events: Vec<SchemeEvent>,
}

impl Scheme {
    pub fn new(config: SchemeConfig) -> Scheme {
        Scheme {
            config,
            ..Scheme::default()
        }
    }

    pub fn config(&self) -> &SchemeConfig {
        &self.config
    }

    pub fn books(&self) -> &Books {
        &self.books
    }

    /// Transfer ids for a draft: numbered after what the books hold.
    pub(super) fn transfer_ids(&self) -> TransferIds {
        TransferIds::after(self.books.transfer_count())
    }

    /// Opens the draft's missing accounts, runs its transfers as one linked chain and applies
    /// its events.
    ///
    /// # Errors
    /// The books refused the chain (commands check what the books check first, so only a
    /// balance overflow gets here): nothing of the chain or the events applied; accounts the
    /// draft opened stay open, in the refusal's record.
    pub(super) fn commit(&mut self, draft: Draft, now: Timestamp) -> Result<SchemeChange, Refusal> {
        assert!(
            draft.limits.is_empty() || draft.transfers.is_empty(),
            "a draft changes limits or moves money, not both"
        );
        let mut ledger = Vec::new();
        for spec in draft.accounts {
            if self.books.account(&spec.id).is_some() {
                continue;
            }
            let opened = self.books.open_account(spec);
            ledger.extend(opened.expect("a missing account opens"));
        }
        for (account, limit) in draft.limits {
            let changed = self.books.set_limit(&account, limit);
            ledger.extend(changed.expect("limits change on known accounts"));
        }
        if !draft.transfers.is_empty() {
            match self.books.transfer_chain(draft.transfers, now) {
                Ok((_, change)) => ledger.extend(change),
                Err((index, rejection)) => {
                    let detail = format!("the ledger refused transfer {index}: {rejection}");
                    let opened = SchemeChange {
                        events: Vec::new(),
                        ledger,
                    };
                    let changes = if opened.ledger.is_empty() {
                        Vec::new()
                    } else {
                        vec![opened]
                    };
                    let error = SchemeError::invalid_state(detail);
                    return Err(Refusal { error, changes });
                }
            }
        }
        for event in &draft.events {
            self.apply_event(event, now);
        }
        Ok(SchemeChange {
            events: draft.events,
            ledger,
        })
    }

    /// Replays a journaled change: the ledger part, then the events.
    pub(super) fn apply_change(&mut self, change: &SchemeChange, at: Timestamp) {
        for ledger_change in &change.ledger {
            self.books.apply(ledger_change, at);
        }
        for event in &change.events {
            self.apply_event(event, at);
        }
    }

    /// Applies one fact to the domain state.
    ///
    /// # Panics
    /// When the event does not fit the state (journal corruption, never a client error).
    pub(super) fn apply_event(&mut self, event: &SchemeEvent, at: Timestamp) {
        match event {
            SchemeEvent::PlanStored { plan_id, plan } => {
                let history = self.plans.entry(plan_id.clone()).or_default();
                history.versions.push(plan.clone());
            }
            SchemeEvent::HospitalStored(hospital) => {
                self.hospitals
                    .insert(hospital.hospital_id.clone(), hospital.clone());
            }
            SchemeEvent::PatientEnrolled(enrollment) => self.apply_enrollment(enrollment),
            SchemeEvent::MsaDeposited {
                patient_id,
                deposit_id,
                amount,
            } => {
                let patient = self.patient_mut(patient_id);
                patient.msa_balance = add(patient.msa_balance, *amount);
                let record = DepositRecord {
                    amount: *amount,
                    msa_balance_after: patient.msa_balance,
                };
                patient.deposits.insert(deposit_id.clone(), record);
            }
            SchemeEvent::CreditLimitSet {
                patient_id,
                credit_limit,
            } => self.patient_mut(patient_id).credit_limit = *credit_limit,
            SchemeEvent::PatientStatusChanged {
                patient_id,
                status,
                credit_limit,
                restored,
            } => {
                let patient = self.patient_mut(patient_id);
                patient.status = *status;
                patient.credit_limit = *credit_limit;
                patient.restorations += u32::from(*restored);
            }
            SchemeEvent::VisitOpened {
                key,
                request,
                authorized_amount,
                hold,
            } => self.apply_visit_opened(key, request, *authorized_amount, hold, at),
            SchemeEvent::ChargeAdded {
                key,
                charge,
                amount,
                grown_hold,
            } => self.apply_charge(key, charge, *amount, grown_hold),
            SchemeEvent::VisitSettled { key, record } => self.apply_settlement(key, record),
            SchemeEvent::VisitCancelled { key } => {
                self.release_hold_of(key);
                self.desk_mut(&key.hospital_id).open.remove(&key.visit_id);
                let visit = self.visit_mut(key);
                visit.status = VisitStatus::Cancelled;
                visit.timeline.cancelled_at = Some(at);
            }
            SchemeEvent::ChargeRefunded {
                key,
                refund_id,
                record,
            } => self.apply_refund(key, refund_id, record, at),
            SchemeEvent::PaymentApplied(record) => self.apply_payment(record, at),
            SchemeEvent::VisitAged { key, status, as_of } => self.apply_aging(key, *status, *as_of),
            SchemeEvent::DelinquencyRan(DelinquencyRun { as_of, .. }) => {
                self.delinquency_as_of = Some(*as_of);
            }
            SchemeEvent::HoldExpired { key } => self.release_hold_of(key),
            SchemeEvent::FundRemitted(record) => self.remittances.insert(record.clone()),
        }
    }

    fn apply_enrollment(&mut self, enrollment: &super::model::Enrollment) {
        let patient_id = &enrollment.patient_id;
        let accounts = PatientAccounts {
            receivable: super::chart::patient_receivable(patient_id),
            msa: super::chart::patient_msa(patient_id),
            refund_owed: super::chart::patient_refund_owed(patient_id),
        };
        let patient = Patient {
            enrollment: enrollment.clone(),
            accounts,
            status: PatientStatus::Active,
            credit_limit: enrollment.credit_limit,
            msa_balance: enrollment.msa_balance,
            refund_owed: Money::ZERO,
            visits: Vec::new(),
            deposits: HashMap::new(),
            defaults: 0,
            restorations: 0,
        };
        let previous = self.patients.insert(enrollment.patient_id.clone(), patient);
        assert!(
            previous.is_none(),
            "patient {} enrolled twice",
            enrollment.patient_id
        );
    }

    fn desk_mut(&mut self, hospital_id: &HospitalId) -> &mut HospitalDesk {
        self.desks.entry(hospital_id.clone()).or_default()
    }

    fn apply_visit_opened(
        &mut self,
        key: &VisitKey,
        request: &super::model::OpenVisitRequest,
        authorized_amount: Money,
        hold: &Option<Hold>,
        at: Timestamp,
    ) {
        let visit = Visit {
            key: key.clone(),
            request: request.clone(),
            status: VisitStatus::Open,
            authorized_amount,
            hold: hold.clone(),
            charges: Vec::new(),
            total: Money::ZERO,
            settlement: None,
            refunds: Vec::new(),
            paid: Money::ZERO,
            recovered: Money::ZERO,
            outstanding: Money::ZERO,
            refund_owed: Money::ZERO,
            settle_sequence: 0,
            timeline: VisitTimeline {
                opened_at: at,
                ..VisitTimeline::default()
            },
        };
        if let Some(hold) = hold {
            self.holds.insert(hold.transfer_id.clone(), key.clone());
        }
        let previous = self.visits.insert(key.clone(), visit);
        assert!(previous.is_none(), "visit {key:?} opened twice");
        self.desk_mut(&key.hospital_id)
            .open
            .insert(key.visit_id.clone());
        self.patient_mut(&request.patient_id)
            .visits
            .push(key.clone());
    }

    fn apply_charge(
        &mut self,
        key: &VisitKey,
        charge: &super::model::ChargeRequest,
        amount: Money,
        grown_hold: &Option<Hold>,
    ) {
        if let Some(hold) = grown_hold {
            self.release_hold_of(key);
            self.holds.insert(hold.transfer_id.clone(), key.clone());
            self.visit_mut(key).hold = Some(hold.clone());
        }
        let visit = self.visit_mut(key);
        visit.total = add(visit.total, amount);
        let charge = Charge {
            request: charge.clone(),
            amount,
            visit_total_after: visit.total,
            refunded_by: None,
        };
        visit.charges.push(charge);
    }

    fn apply_settlement(&mut self, key: &VisitKey, record: &super::model::SettlementRecord) {
        self.release_hold_of(key);
        self.settlements += 1;
        let sequence = self.settlements;
        let visit = self.visit_mut(key);
        assert_eq!(visit.status, VisitStatus::Open, "only open visits settle");
        visit.status = VisitStatus::Settled;
        visit.outstanding = record.current.financed;
        visit.settle_sequence = sequence;
        visit.settlement = Some(record.clone());
        let patient_id = visit.request.patient_id.clone();
        let desk = self.desk_mut(&key.hospital_id);
        desk.open.remove(&key.visit_id);
        desk.settled.push((record.settled_at, key.visit_id.clone()));
        self.track_receivable(key);
        let patient = self.patient_mut(&patient_id);
        patient.msa_balance = sub(patient.msa_balance, record.current.msa_paid);
        let accumulator_key = AccumulatorKey {
            patient_id,
            plan_id: record.terms.plan_id.clone(),
            plan_year: record.terms.plan_year,
        };
        let position = self.accumulators.entry(accumulator_key).or_default();
        *position = add_position(*position, record.current.accumulator_deltas());
    }

    fn apply_refund(
        &mut self,
        key: &VisitKey,
        refund_id: &crate::RefundId,
        record: &super::model::RefundRecord,
        at: Timestamp,
    ) {
        self.untrack_receivable(key);
        let visit = self.visit_mut(key);
        let charge = visit
            .charges
            .iter_mut()
            .find(|charge| charge.request.charge_id == record.charge_id)
            .expect("the refunded charge is known");
        charge.refunded_by = Some(refund_id.clone());
        let settlement = visit
            .settlement
            .as_mut()
            .expect("a refunded visit is settled");
        let before = settlement.current.accumulator_deltas();
        settlement.current = record.settlement;
        let accumulator_key = AccumulatorKey {
            patient_id: visit.request.patient_id.clone(),
            plan_id: settlement.terms.plan_id.clone(),
            plan_year: settlement.terms.plan_year,
        };
        let differences = record.differences;
        visit.outstanding = sub(visit.outstanding, differences.outstanding_reduced);
        visit.refund_owed = add(visit.refund_owed, differences.refund_owed);
        visit.refunds.push((refund_id.clone(), record.clone()));
        let repaid = !differences.outstanding_reduced.is_zero() && visit.outstanding.is_zero();
        if repaid {
            mark_paid(visit, at);
        }
        let patient_id = visit.request.patient_id.clone();
        self.track_receivable(key);
        let patient = self.patient_mut(&patient_id);
        patient.msa_balance = add(patient.msa_balance, differences.msa);
        patient.refund_owed = add(patient.refund_owed, differences.refund_owed);
        let position = self
            .accumulators
            .get_mut(&accumulator_key)
            .expect("a settled visit has accumulators");
        *position = sub_position(
            *position,
            sub_position(before, record.settlement.accumulator_deltas()),
        );
    }

    fn apply_payment(&mut self, record: &PaymentRecord, at: Timestamp) {
        for allocation in &record.applied {
            let key = VisitKey {
                hospital_id: allocation.hospital_id.clone(),
                visit_id: allocation.visit_id.clone(),
            };
            self.untrack_receivable(&key);
            let visit = self.visit_mut(&key);
            assert_eq!(
                visit.status, allocation.status_before,
                "payment applied as recorded"
            );
            visit.paid = add(visit.paid, allocation.amount);
            visit.outstanding = sub(visit.outstanding, allocation.amount);
            let recovery = matches!(
                allocation.status_before,
                VisitStatus::Defaulted | VisitStatus::WrittenOff
            );
            if recovery {
                visit.recovered = add(visit.recovered, allocation.amount);
            }
            if visit.outstanding.is_zero() {
                mark_paid(visit, at);
            }
            self.track_receivable(&key);
        }
        let previous = self
            .payments
            .insert(record.request.payment_id.clone(), record.clone());
        assert!(
            previous.is_none(),
            "payment {} applied twice",
            record.request.payment_id
        );
    }

    fn apply_aging(&mut self, key: &VisitKey, status: VisitStatus, at: Timestamp) {
        let visit = self.visit_mut(key);
        visit.status = status;
        match status {
            VisitStatus::Overdue => visit.timeline.overdue_at = Some(at),
            VisitStatus::Defaulted => visit.timeline.defaulted_at = Some(at),
            VisitStatus::WrittenOff => visit.timeline.written_off_at = Some(at),
            other => panic!("delinquency never moves a visit to {other:?}"),
        }
        if status == VisitStatus::Defaulted {
            let patient_id = visit.request.patient_id.clone();
            self.patient_mut(&patient_id).defaults += 1;
        }
    }

    /// Forgets the visit's hold (posted, voided or expired in the books).
    fn release_hold_of(&mut self, key: &VisitKey) {
        if let Some(hold) = self.visit_mut(key).hold.take() {
            self.holds.remove(&hold.transfer_id);
        }
    }

    fn track_receivable(&mut self, key: &VisitKey) {
        let visit = &self.visits[key];
        if let (Some(due_at), false) = (visit.due_at(), visit.outstanding.is_zero()) {
            self.receivables
                .insert((due_at, visit.settle_sequence, key.clone()));
        }
    }

    fn untrack_receivable(&mut self, key: &VisitKey) {
        let visit = &self.visits[key];
        if let Some(due_at) = visit.due_at() {
            self.receivables
                .remove(&(due_at, visit.settle_sequence, key.clone()));
        }
    }

    pub(super) fn patient_mut(&mut self, patient_id: &PatientId) -> &mut Patient {
        self.patients
            .get_mut(patient_id)
            .unwrap_or_else(|| panic!("patient {patient_id} is known"))
    }

    pub(super) fn visit_mut(&mut self, key: &VisitKey) -> &mut Visit {
        self.visits
            .get_mut(key)
            .unwrap_or_else(|| panic!("visit {key:?} is known"))
    }
}

fn mark_paid(visit: &mut Visit, at: Timestamp) {
    if visit.status.is_settled() && visit.status != VisitStatus::Paid {
        visit.status = VisitStatus::Paid;
        visit.timeline.paid_at = Some(at);
    }
}

pub(super) fn add(left: Money, right: Money) -> Money {
    left.checked_add(right)
        .expect("amounts stay within the maximum")
}

pub(super) fn sub(left: Money, right: Money) -> Money {
    left.checked_sub(right)
        .expect("amounts never go below zero")
}

fn add_position(left: PeriodPosition, right: PeriodPosition) -> PeriodPosition {
    PeriodPosition {
        deductible_used: add(left.deductible_used, right.deductible_used),
        in_scope_cumulative: add(left.in_scope_cumulative, right.in_scope_cumulative),
        fund_paid: add(left.fund_paid, right.fund_paid),
    }
}

fn sub_position(left: PeriodPosition, right: PeriodPosition) -> PeriodPosition {
    PeriodPosition {
        deductible_used: sub(left.deductible_used, right.deductible_used),
        in_scope_cumulative: sub(left.in_scope_cumulative, right.in_scope_cumulative),
        fund_paid: sub(left.fund_paid, right.fund_paid),
    }
}
