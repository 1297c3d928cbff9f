//! What the scheme can be asked to do ([`SchemeCommand`]), what it answers ([`Outcome`]) and
//! the closed set of reasons it refuses ([`SchemeError`], codes as in API.md).

use serde::{Deserialize, Serialize};

use super::model::{
    Allocation, ChargeRequest, Enrollment, OpenVisitRequest, PayerDifferences, PaymentRequest,
    SettlementFigures,
};
use crate::insurance::{HospitalLevel, Plan, PlanVersion};
use crate::{ChargeId, HospitalId, Money, PatientId, PlanId, RefundId, Timestamp, VisitId};

/// The largest amount a single request may carry (estimate, deposit, payment, credit limit):
/// 100,000,000.00 yuan.
pub const REQUEST_AMOUNT_MAX: Money = Money::yuan(100_000_000);
/// The most items one charge request may carry.
pub const ITEMS_PER_CHARGE_MAX: usize = 256;
/// The most charges (charge ids) one visit may carry.
pub const CHARGES_PER_VISIT_MAX: usize = 1024;
/// The longest hospital name, in characters.
pub const HOSPITAL_NAME_LENGTH_MAX: usize = 256;
/// The highest external credit score accepted.
pub const EXTERNAL_SCORE_MAX: u16 = 1000;
/// The most visits one payment may be spread over.
pub const ALLOCATIONS_PER_PAYMENT_MAX: usize = 256;

const _: () = assert!(ITEMS_PER_CHARGE_MAX <= crate::insurance::LINES_PER_VISIT_MAX);

/// A command to the scheme. Every create carries its client-chosen id: the same id with the
/// same body replays the original reply; with another body it is a conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "command")]
pub enum SchemeCommand {
    /// Stores a plan; a new version when its content changed.
    PutPlan {
        plan_id: PlanId,
        plan: Plan,
    },
    /// Registers a hospital or changes its name and level (later settlements use them).
    PutHospital {
        hospital_id: HospitalId,
        name: String,
        level: HospitalLevel,
    },
    EnrollPatient(Enrollment),
    DepositMsa {
        patient_id: PatientId,
        deposit_id: crate::DepositId,
        amount: Money,
    },
    /// Changes a credit line (risk policy). Never below what is already held and owed.
    SetCreditLimit {
        patient_id: PatientId,
        credit_limit: Money,
    },
    /// Removes a patient from the scheme: no new visits; what is owed stays owed.
    RevokePatient {
        patient_id: PatientId,
    },
    OpenVisit {
        hospital_id: HospitalId,
        request: OpenVisitRequest,
    },
    AddCharge {
        hospital_id: HospitalId,
        visit_id: VisitId,
        charge: ChargeRequest,
    },
    Settle {
        hospital_id: HospitalId,
        visit_id: VisitId,
    },
    Cancel {
        hospital_id: HospitalId,
        visit_id: VisitId,
    },
    Refund {
        hospital_id: HospitalId,
        visit_id: VisitId,
        refund_id: RefundId,
        charge_id: ChargeId,
    },
    Pay(PaymentRequest),
    RunDelinquency {
        as_of: Timestamp,
    },
    /// Posts one matched line of a fund remittance file: the pooled fund paid the hospital
    /// the fund share of a settled visit. Idempotent by its reference.
    RemitFund(super::finance::FundRemittance),
}

/// A refusal: nothing changed. Codes are those of API.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "code")]
#[non_exhaustive]
pub enum SchemeError {
    #[error("invalid_request: {detail}")]
    InvalidRequest { detail: String },
    #[error("not_found: {kind} {id}")]
    NotFound { kind: &'static str, id: String },
    #[error("idempotency_conflict: {kind} {id} exists with a different body")]
    IdempotencyConflict { kind: &'static str, id: String },
    #[error("invalid_state: {detail}")]
    InvalidState { detail: String },
    #[error("insufficient_credit: available {available}")]
    InsufficientCredit {
        available: Money,
        reasons: Vec<DeclineReason>,
    },
    #[error("patient_not_active: {status}")]
    PatientNotActive {
        status: String,
        reasons: Vec<DeclineReason>,
    },
    #[error("amount_exceeds_outstanding: outstanding {outstanding}")]
    AmountExceedsOutstanding { outstanding: Money },
}

impl SchemeError {
    /// The API code (`insufficient_credit`, ...).
    pub const fn code(&self) -> &'static str {
        match self {
            SchemeError::InvalidRequest { .. } => "invalid_request",
            SchemeError::NotFound { .. } => "not_found",
            SchemeError::IdempotencyConflict { .. } => "idempotency_conflict",
            SchemeError::InvalidState { .. } => "invalid_state",
            SchemeError::InsufficientCredit { .. } => "insufficient_credit",
            SchemeError::PatientNotActive { .. } => "patient_not_active",
            SchemeError::AmountExceedsOutstanding { .. } => "amount_exceeds_outstanding",
        }
    }

    /// The decline reasons, empty for other errors.
    pub fn reasons(&self) -> &[DeclineReason] {
        match self {
            SchemeError::InsufficientCredit { reasons, .. }
            | SchemeError::PatientNotActive { reasons, .. } => reasons,
            _ => &[],
        }
    }

    pub(crate) fn invalid_request(detail: impl Into<String>) -> SchemeError {
        SchemeError::InvalidRequest {
            detail: detail.into(),
        }
    }

    pub(crate) fn invalid_state(detail: impl Into<String>) -> SchemeError {
        SchemeError::InvalidState {
            detail: detail.into(),
        }
    }

    pub(crate) fn not_found(kind: &'static str, id: impl ToString) -> SchemeError {
        SchemeError::NotFound {
            kind,
            id: id.to_string(),
        }
    }

    pub(crate) fn conflict(kind: &'static str, id: impl ToString) -> SchemeError {
        SchemeError::IdempotencyConflict {
            kind,
            id: id.to_string(),
        }
    }
}

/// Why a visit was declined (the `reasons` of the problem document).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    /// A visit of the patient is past due.
    PatientSuspended,
    /// A visit of the patient defaulted and is not repaid.
    PatientBlacklisted,
    PatientRevoked,
    /// Some of what the patient owes is past due.
    OverdueBalance,
    /// The estimate is above the credit left (limit − held − outstanding).
    EstimateExceedsAvailableCredit,
    /// Nothing is left on the credit line.
    CreditLineExhausted,
}

/// The reply to an accepted command. `replayed` is true when the command repeated an earlier
/// one (same id, same body): the outcome is the original and nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub outcome: Outcome,
    pub replayed: bool,
}

pub type SchemeReply = Result<Accepted, SchemeError>;

/// What an accepted command produced, in the shape of API.md's responses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Outcome {
    PlanStored(PlanStored),
    HospitalStored(super::model::Hospital),
    Patient(super::queries::PatientView),
    MsaDeposited(MsaDeposited),
    VisitOpened(VisitOpened),
    ChargeAdded(ChargeAdded),
    Settled(SettlementView),
    Cancelled(VisitCancelled),
    Refunded(Refunded),
    PaymentApplied(PaymentApplied),
    DelinquencyRun(DelinquencyRun),
    FundRemitted(super::finance::FundRemitted),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanStored {
    pub plan_id: PlanId,
    pub version: PlanVersion,
    /// The stored plan's own fields sit beside the id and version ("200 with the stored plan").
    #[serde(flatten)]
    pub plan: Plan,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MsaDeposited {
    pub deposit_id: crate::DepositId,
    pub patient_id: PatientId,
    pub amount: Money,
    pub msa_balance: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitOpened {
    pub visit_id: VisitId,
    pub hospital_id: HospitalId,
    pub patient_id: PatientId,
    /// A visit status (`open`, `settled`, ...).
    #[cfg_attr(feature = "openapi", schema(value_type = super::model::VisitStatus))]
    pub status: &'static str,
    pub authorized_amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChargeAdded {
    pub charge_id: ChargeId,
    pub amount: Money,
    pub visit_total: Money,
}

/// The settlement as `POST .../settle` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettlementView {
    pub visit_id: VisitId,
    pub hospital_id: HospitalId,
    pub patient_id: PatientId,
    /// A visit status (`open`, `settled`, ...).
    #[cfg_attr(feature = "openapi", schema(value_type = super::model::VisitStatus))]
    pub status: &'static str,
    #[serde(flatten)]
    pub figures: SettlementFigures,
    pub plan_id: PlanId,
    pub plan_version: PlanVersion,
    pub due_at: Timestamp,
    pub settled_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitCancelled {
    pub visit_id: VisitId,
    pub hospital_id: HospitalId,
    /// A visit status (`open`, `settled`, ...).
    #[cfg_attr(feature = "openapi", schema(value_type = super::model::VisitStatus))]
    pub status: &'static str,
    pub cancelled_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refunded {
    pub refund_id: RefundId,
    pub charge_id: ChargeId,
    pub settlement: SettlementView,
    pub differences: PayerDifferences,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentApplied {
    pub payment_id: crate::PaymentId,
    pub applied: Vec<Allocation>,
    pub outstanding: Money,
}

/// How many visits entered each stage in one run (a visit that jumps from settled to
/// written off counts in all three).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DelinquencyRun {
    pub as_of: Timestamp,
    pub overdue: u64,
    pub defaulted: u64,
    pub written_off: u64,
}
