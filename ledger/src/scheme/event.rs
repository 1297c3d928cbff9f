//! The journal record of the scheme: domain events (facts, with every computed amount) and
//! the ledger changes they made, applied together so that replay is exact and never
//! recomputes a settlement.

use serde::{Deserialize, Serialize};

use super::command::DelinquencyRun;
use super::model::{
    ChargeRequest, Enrollment, Hold, Hospital, OpenVisitRequest, PatientStatus, PaymentRecord,
    RefundRecord, SettlementRecord, VisitKey, VisitStatus,
};
use crate::books::LedgerChange;
use crate::insurance::Plan;
use crate::transfers::Movement;
use crate::{DepositId, Money, PatientId, PlanId, RefundId};

/// One fact of the visit lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SchemeEvent {
    /// A new version of a plan (its number is the count of versions so far).
    PlanStored {
        plan_id: PlanId,
        plan: Plan,
    },
    HospitalStored(Hospital),
    PatientEnrolled(Enrollment),
    MsaDeposited {
        patient_id: PatientId,
        deposit_id: DepositId,
        amount: Money,
    },
    CreditLimitSet {
        patient_id: PatientId,
        credit_limit: Money,
    },
    /// Suspension, blacklisting, restoration (with its reduced limit) or revocation.
    PatientStatusChanged {
        patient_id: PatientId,
        status: PatientStatus,
        credit_limit: Money,
        restored: bool,
    },
    VisitOpened {
        key: VisitKey,
        request: OpenVisitRequest,
        authorized_amount: Money,
        hold: Option<Hold>,
    },
    ChargeAdded {
        key: VisitKey,
        charge: ChargeRequest,
        amount: Money,
        /// The hold after the charge, when it grew.
        grown_hold: Option<Hold>,
    },
    VisitSettled {
        key: VisitKey,
        record: SettlementRecord,
    },
    VisitCancelled {
        key: VisitKey,
    },
    ChargeRefunded {
        key: VisitKey,
        refund_id: RefundId,
        record: RefundRecord,
    },
    PaymentApplied(PaymentRecord),
    /// Delinquency moved a visit to overdue, defaulted or written off, in a run as of
    /// `as_of`.
    VisitAged {
        key: VisitKey,
        status: VisitStatus,
        as_of: crate::Timestamp,
    },
    DelinquencyRan(DelinquencyRun),
    /// The books released a visit's hold at its deadline.
    HoldExpired {
        key: VisitKey,
    },
    /// The pooled fund remitted a visit's fund share to its hospital.
    FundRemitted(super::finance::RemittanceRecord),
}

impl SchemeEvent {
    /// The visit the event is about, if any.
    pub fn visit(&self) -> Option<&VisitKey> {
        match self {
            SchemeEvent::VisitOpened { key, .. }
            | SchemeEvent::ChargeAdded { key, .. }
            | SchemeEvent::VisitSettled { key, .. }
            | SchemeEvent::VisitCancelled { key }
            | SchemeEvent::ChargeRefunded { key, .. }
            | SchemeEvent::VisitAged { key, .. }
            | SchemeEvent::HoldExpired { key } => Some(key),
            SchemeEvent::FundRemitted(record) => Some(&record.key),
            _ => None,
        }
    }

    /// A short name of the event (`visit_settled`, ...), for statements.
    pub const fn name(&self) -> &'static str {
        match self {
            SchemeEvent::PlanStored { .. } => "plan_stored",
            SchemeEvent::HospitalStored(_) => "hospital_stored",
            SchemeEvent::PatientEnrolled(_) => "patient_enrolled",
            SchemeEvent::MsaDeposited { .. } => "msa_deposited",
            SchemeEvent::CreditLimitSet { .. } => "credit_limit_set",
            SchemeEvent::PatientStatusChanged { .. } => "patient_status_changed",
            SchemeEvent::VisitOpened { .. } => "visit_opened",
            SchemeEvent::ChargeAdded { .. } => "charge_added",
            SchemeEvent::VisitSettled { .. } => "visit_settled",
            SchemeEvent::VisitCancelled { .. } => "visit_cancelled",
            SchemeEvent::ChargeRefunded { .. } => "charge_refunded",
            SchemeEvent::PaymentApplied(_) => "payment_applied",
            SchemeEvent::VisitAged { .. } => "visit_aged",
            SchemeEvent::DelinquencyRan(_) => "delinquency_ran",
            SchemeEvent::HoldExpired { .. } => "hold_expired",
            SchemeEvent::FundRemitted(_) => "fund_remitted",
        }
    }
}

/// One journal record: the events of one command (or one patient's part of a delinquency
/// run) and the ledger changes they made. Replay applies the ledger changes, then the events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemeChange {
    pub events: Vec<SchemeEvent>,
    pub ledger: Vec<LedgerChange>,
}

impl SchemeChange {
    /// Every movement of the record, in order.
    pub fn movements(&self) -> impl Iterator<Item = &Movement> {
        self.ledger.iter().flat_map(LedgerChange::movements)
    }
}
