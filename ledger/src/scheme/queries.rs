//! Read models: what API.md's GETs return, computed from the state.

use serde::Serialize;

use super::command::SettlementView;
use super::model::{
    AccumulatorKey, Hospital, Patient, PatientStatus, PayerDifferences, SettlementRecord, Visit,
    VisitKey, VisitStatus, VisitTimeline,
};
use super::state::Scheme;
use crate::insurance::{ChargeLine, PeriodPosition, Plan, PlanVersion, VisitKind};
use crate::{ChargeId, HospitalId, Money, PatientId, PlanId, RefundId, Timestamp, VisitId};

/// `GET /v1/patients/{patient_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatientView {
    pub patient_id: PatientId,
    pub status: PatientStatus,
    pub credit_limit: Money,
    /// Reserved by holds of open visits.
    pub credit_held: Money,
    /// Still owed, written-off amounts included.
    pub outstanding: Money,
    /// Of `outstanding`: past due.
    pub overdue: Money,
    /// `credit_limit − credit_held − outstanding`, never below zero.
    pub available_credit: Money,
    pub msa_balance: Money,
    /// Owed back to the patient after refunds.
    pub refund_owed: Money,
}

impl PatientView {
    /// The view right after enrollment (what a replayed enrollment returns).
    pub fn enrolled(enrollment: &super::model::Enrollment) -> PatientView {
        PatientView {
            patient_id: enrollment.patient_id.clone(),
            status: PatientStatus::Active,
            credit_limit: enrollment.credit_limit,
            credit_held: Money::ZERO,
            outstanding: Money::ZERO,
            overdue: Money::ZERO,
            available_credit: enrollment.credit_limit,
            msa_balance: enrollment.msa_balance,
            refund_owed: Money::ZERO,
        }
    }
}

/// One charge of a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChargeView {
    pub charge_id: ChargeId,
    pub amount: Money,
    pub items: Vec<ChargeLine>,
    pub refunded_by: Option<RefundId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundView {
    pub refund_id: RefundId,
    pub charge_id: ChargeId,
    pub refunded_at: Timestamp,
    pub differences: PayerDifferences,
}

/// `GET /v1/hospitals/{hospital_id}/visits/{visit_id}`: the visit, its charges and its
/// settlement (after refunds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitView {
    pub visit_id: VisitId,
    pub hospital_id: HospitalId,
    pub patient_id: PatientId,
    pub kind: VisitKind,
    pub status: VisitStatus,
    pub estimated_amount: Money,
    pub authorized_amount: Money,
    pub credit_held: Money,
    pub total: Money,
    pub charges: Vec<ChargeView>,
    pub settlement: Option<SettlementView>,
    pub refunds: Vec<RefundView>,
    pub due_at: Option<Timestamp>,
    pub paid: Money,
    pub recovered: Money,
    pub outstanding: Money,
    pub refund_owed: Money,
    pub timeline: VisitTimeline,
}

/// A stored plan version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanView {
    pub plan_id: PlanId,
    pub version: PlanVersion,
    pub plan: Plan,
}

/// The settlement view of a record (`original` or `current` figures).
pub(super) fn settlement_view(
    visit: &Visit,
    record: &SettlementRecord,
    figures: super::model::SettlementFigures,
    status: VisitStatus,
) -> SettlementView {
    SettlementView {
        visit_id: visit.key.visit_id.clone(),
        hospital_id: visit.key.hospital_id.clone(),
        patient_id: visit.request.patient_id.clone(),
        status: status.as_str(),
        figures,
        plan_id: record.terms.plan_id.clone(),
        plan_version: record.terms.plan_version,
        due_at: record.due_at,
        settled_at: record.settled_at,
    }
}

impl Scheme {
    pub fn patient(&self, patient_id: &PatientId) -> Option<&Patient> {
        self.patients.get(patient_id)
    }

    pub fn patients(&self) -> impl ExactSizeIterator<Item = &Patient> {
        self.patients.values()
    }

    pub fn hospital(&self, hospital_id: &HospitalId) -> Option<&Hospital> {
        self.hospitals.get(hospital_id)
    }

    pub fn hospitals(&self) -> impl ExactSizeIterator<Item = &Hospital> {
        self.hospitals.values()
    }

    pub fn visit(&self, key: &VisitKey) -> Option<&Visit> {
        self.visits.get(key)
    }

    pub fn visits(&self) -> impl ExactSizeIterator<Item = &Visit> {
        self.visits.values()
    }

    /// A hospital's open visits (opened, neither settled nor cancelled), by visit id.
    pub fn open_visits_of<'a>(
        &'a self,
        hospital_id: &HospitalId,
    ) -> impl Iterator<Item = &'a Visit> + 'a {
        let hospital_id = hospital_id.clone();
        self.desks
            .get(&hospital_id)
            .into_iter()
            .flat_map(|desk| desk.open.iter())
            .filter_map(move |visit_id| {
                self.visits.get(&VisitKey {
                    hospital_id: hospital_id.clone(),
                    visit_id: visit_id.clone(),
                })
            })
    }

    /// A hospital's visits settled on `date` (the scheme's local date, UTC+8), in
    /// settlement order.
    pub fn visits_settled_on<'a>(
        &'a self,
        hospital_id: &HospitalId,
        date: chrono::NaiveDate,
    ) -> impl Iterator<Item = &'a Visit> + 'a {
        let hospital_id = hospital_id.clone();
        let day: &[(Timestamp, VisitId)] = match self.desks.get(&hospital_id) {
            Some(desk) => {
                let settled = &desk.settled[..];
                let from = settled.partition_point(|(at, _)| super::local_date(*at) < date);
                let until = settled.partition_point(|(at, _)| super::local_date(*at) <= date);
                &settled[from..until]
            }
            None => &[],
        };
        day.iter().filter_map(move |(_, visit_id)| {
            self.visits.get(&VisitKey {
                hospital_id: hospital_id.clone(),
                visit_id: visit_id.clone(),
            })
        })
    }

    /// The patient's plan-year accumulators (zero before the first settlement of the year).
    pub fn accumulator(&self, key: &AccumulatorKey) -> PeriodPosition {
        self.accumulators.get(key).copied().unwrap_or_default()
    }

    pub fn accumulators(&self) -> impl Iterator<Item = (&AccumulatorKey, &PeriodPosition)> {
        self.accumulators.iter()
    }

    /// The `as_of` of the last delinquency run.
    pub fn delinquency_as_of(&self) -> Option<Timestamp> {
        self.delinquency_as_of
    }

    pub fn plan(&self, plan_id: &PlanId) -> Option<PlanView> {
        let (version, plan) = self.plans.get(plan_id)?.current()?;
        Some(PlanView {
            plan_id: plan_id.clone(),
            version,
            plan: plan.clone(),
        })
    }

    pub fn plan_version(&self, plan_id: &PlanId, version: PlanVersion) -> Option<&Plan> {
        self.plans.get(plan_id)?.version(version)
    }

    pub fn payment(&self, payment_id: &crate::PaymentId) -> Option<&super::model::PaymentRecord> {
        self.payments.get(payment_id)
    }

    /// `GET /v1/patients/{patient_id}`.
    pub fn patient_view(&self, patient_id: &PatientId) -> Option<PatientView> {
        let patient = self.patients.get(patient_id)?;
        let credit_held = self.credit_held(patient_id);
        let (outstanding, overdue) = self.owed_by(patient);
        let used = credit_held.checked_add(outstanding).unwrap_or(Money::MAX);
        Some(PatientView {
            patient_id: patient_id.clone(),
            status: patient.status,
            credit_limit: patient.credit_limit,
            credit_held,
            outstanding,
            overdue,
            available_credit: patient.credit_limit.saturating_sub(used),
            msa_balance: patient.msa_balance,
            refund_owed: patient.refund_owed,
        })
    }

    /// `GET /v1/hospitals/{hospital_id}/visits/{visit_id}`.
    pub fn visit_view(&self, key: &VisitKey) -> Option<VisitView> {
        let visit = self.visits.get(key)?;
        let settlement = visit
            .settlement
            .as_ref()
            .map(|record| settlement_view(visit, record, record.current, visit.status));
        Some(VisitView {
            visit_id: key.visit_id.clone(),
            hospital_id: key.hospital_id.clone(),
            patient_id: visit.request.patient_id.clone(),
            kind: visit.request.kind,
            status: visit.status,
            estimated_amount: visit.request.estimated_amount,
            authorized_amount: visit.authorized_amount,
            credit_held: visit.hold.as_ref().map_or(Money::ZERO, |hold| hold.amount),
            total: visit.total,
            charges: visit.charges.iter().map(charge_view).collect(),
            settlement,
            refunds: visit.refunds.iter().map(refund_view).collect(),
            due_at: visit.due_at(),
            paid: visit.paid,
            recovered: visit.recovered,
            outstanding: visit.outstanding,
            refund_owed: visit.refund_owed,
            timeline: visit.timeline,
        })
    }

    /// Reserved by the holds of the patient's open visits (the receivable's pending debits).
    pub fn credit_held(&self, patient_id: &PatientId) -> Money {
        let Some(patient) = self.patients.get(patient_id) else {
            return Money::ZERO;
        };
        self.books
            .account(&patient.accounts.receivable)
            .map_or(Money::ZERO, |account| account.balances.debits_pending)
    }

    /// What the credit line can still take: the books' own figure (holds included).
    pub fn credit_free(&self, patient_id: &PatientId) -> Money {
        let Some(patient) = self.patients.get(patient_id) else {
            return Money::ZERO;
        };
        self.books
            .account(&patient.accounts.receivable)
            .map_or(Money::ZERO, |account| {
                account.balances.available_to_debit(patient.credit_limit)
            })
    }

    /// (outstanding, past due) of a patient, written-off amounts included.
    pub(super) fn owed_by(&self, patient: &Patient) -> (Money, Money) {
        let mut outstanding = Money::ZERO;
        let mut overdue = Money::ZERO;
        for key in &patient.visits {
            let visit = &self.visits[key];
            outstanding = super::state::add(outstanding, visit.outstanding);
            if visit.status.is_past_due() {
                overdue = super::state::add(overdue, visit.outstanding);
            }
        }
        (outstanding, overdue)
    }
}

fn charge_view(charge: &super::model::Charge) -> ChargeView {
    ChargeView {
        charge_id: charge.request.charge_id.clone(),
        amount: charge.amount,
        items: charge.request.items.clone(),
        refunded_by: charge.refunded_by.clone(),
    }
}

fn refund_view((refund_id, record): &(RefundId, super::model::RefundRecord)) -> RefundView {
    RefundView {
        refund_id: refund_id.clone(),
        charge_id: record.charge_id.clone(),
        refunded_at: record.at,
        differences: record.differences,
    }
}
