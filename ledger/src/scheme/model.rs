//! The domain state of the scheme: plans with versions, hospitals, patients, visits and the
//! accumulators, as the state machine holds them. Only [`super::Scheme`] changes them.

use std::collections::HashMap;

use chrono::{Datelike, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::insurance::{
    ChargeLine, HospitalLevel, MemberType, PeriodPosition, Plan, PlanVersion, Settlement, VisitKind,
};
use crate::{
    AccountId, ChannelId, ChargeId, DepositId, HospitalId, Money, PatientId, PaymentId, PlanId,
    Ratio, RefundId, Timestamp, TransferId, VisitId,
};

/// Plan years run on China Standard Time (UTC+8), where the scheme operates.
pub const PLAN_YEAR_UTC_OFFSET_SECONDS: i32 = 8 * 3600;

const SECONDS_PER_DAY: i64 = 24 * 3600;

/// The plan year an instant falls in.
pub fn plan_year(at: Timestamp) -> i32 {
    let offset = FixedOffset::east_opt(PLAN_YEAR_UTC_OFFSET_SECONDS).expect("a valid offset");
    at.to_datetime().with_timezone(&offset).year()
}

/// The calendar date an instant falls on in the scheme's time zone.
pub fn local_date(at: Timestamp) -> NaiveDate {
    let offset = FixedOffset::east_opt(PLAN_YEAR_UTC_OFFSET_SECONDS).expect("a valid offset");
    at.to_datetime().with_timezone(&offset).date_naive()
}

/// `at + days`.
pub fn plus_days(at: Timestamp, days: u32) -> Timestamp {
    at.plus_seconds(i64::from(days) * SECONDS_PER_DAY)
}

/// Settings of the credit scheme. They decide what commands do; the journal records the
/// outcomes, so replay never depends on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemeConfig {
    /// Days past due after which an overdue visit defaults (30).
    pub default_after_days: u32,
    /// Days past due after which a defaulted visit is written off (180).
    pub write_off_after_days: u32,
    /// The share of the former limit a patient gets back after repaying a default (0.5).
    pub restored_limit_ratio: Ratio,
    /// How long a visit's hold lasts before the books release it.
    pub hold_timeout_seconds: u32,
}

impl Default for SchemeConfig {
    fn default() -> SchemeConfig {
        SchemeConfig {
            default_after_days: 30,
            write_off_after_days: 180,
            restored_limit_ratio: Ratio::new(rust_decimal::Decimal::new(5, 1))
                .expect("one half is a ratio"),
            hold_timeout_seconds: crate::transfers::HOLD_TIMEOUT_SECONDS_MAX,
        }
    }
}

/// Every version of one plan; version n is `versions[n - 1]`.
#[derive(Debug, Clone, Default)]
pub struct PlanHistory {
    pub versions: Vec<Plan>,
}

impl PlanHistory {
    pub fn current(&self) -> Option<(PlanVersion, &Plan)> {
        let plan = self.versions.last()?;
        Some((PlanVersion(self.versions.len() as u32), plan))
    }

    pub fn version(&self, version: PlanVersion) -> Option<&Plan> {
        let index = (version.0 as usize).checked_sub(1)?;
        self.versions.get(index)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hospital {
    pub hospital_id: HospitalId,
    pub name: String,
    pub level: HospitalLevel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PatientStatus {
    Active,
    /// A visit is past due: no new credit anywhere until it is repaid.
    Suspended,
    /// A visit defaulted: no credit until everything is repaid.
    Blacklisted,
    /// Removed from the scheme by an administrator.
    Revoked,
}

impl PatientStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            PatientStatus::Active => "active",
            PatientStatus::Suspended => "suspended",
            PatientStatus::Blacklisted => "blacklisted",
            PatientStatus::Revoked => "revoked",
        }
    }
}

/// The body of an enrollment (`POST /v1/patients`); the credit limit is resolved (given, or
/// set by the risk policy) before the command reaches the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    pub patient_id: PatientId,
    pub plan_id: PlanId,
    pub member_type: MemberType,
    pub birth_date: NaiveDate,
    pub msa_balance: Money,
    pub credit_limit: Money,
    pub external_score: Option<u16>,
}

/// A deposit as first accepted, for idempotent replays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositRecord {
    pub amount: Money,
    pub msa_balance_after: Money,
}

/// The ids of a patient's accounts, composed once at enrollment.
#[derive(Debug, Clone)]
pub struct PatientAccounts {
    pub receivable: AccountId,
    pub msa: AccountId,
    pub refund_owed: AccountId,
}

#[derive(Debug, Clone)]
pub struct Patient {
    pub enrollment: Enrollment,
    pub accounts: PatientAccounts,
    pub status: PatientStatus,
    pub credit_limit: Money,
    pub msa_balance: Money,
    /// Owed back to the patient after refunds.
    pub refund_owed: Money,
    /// Visits in the order they were opened.
    pub visits: Vec<VisitKey>,
    pub deposits: HashMap<DepositId, DepositRecord>,
    /// How many of the patient's visits ever defaulted, and how often the patient was
    /// restored after repaying (history for risk features).
    pub defaults: u32,
    pub restorations: u32,
}

/// A visit is known by its hospital and the hospital's visit id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitKey {
    pub hospital_id: HospitalId,
    pub visit_id: VisitId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VisitStatus {
    Open,
    Settled,
    Paid,
    Overdue,
    Defaulted,
    WrittenOff,
    Cancelled,
}

impl VisitStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            VisitStatus::Open => "open",
            VisitStatus::Settled => "settled",
            VisitStatus::Paid => "paid",
            VisitStatus::Overdue => "overdue",
            VisitStatus::Defaulted => "defaulted",
            VisitStatus::WrittenOff => "written_off",
            VisitStatus::Cancelled => "cancelled",
        }
    }

    /// Settled and not cancelled: the visit has a settlement.
    pub const fn is_settled(self) -> bool {
        !matches!(self, VisitStatus::Open | VisitStatus::Cancelled)
    }

    /// Past due and not repaid.
    pub const fn is_past_due(self) -> bool {
        matches!(
            self,
            VisitStatus::Overdue | VisitStatus::Defaulted | VisitStatus::WrittenOff
        )
    }

    /// The outstanding amount sits on the patient's receivable (written-off amounts left it).
    pub const fn is_on_receivable(self) -> bool {
        matches!(
            self,
            VisitStatus::Settled | VisitStatus::Overdue | VisitStatus::Defaulted
        )
    }
}

/// The body of `POST /v1/hospitals/{hospital_id}/visits`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenVisitRequest {
    pub visit_id: VisitId,
    pub patient_id: PatientId,
    pub kind: VisitKind,
    pub estimated_amount: Money,
}

/// The body of `POST .../charges`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChargeRequest {
    pub charge_id: ChargeId,
    pub items: Vec<ChargeLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    pub request: ChargeRequest,
    pub amount: Money,
    /// The visit total right after this charge (replayed replies repeat it).
    pub visit_total_after: Money,
    pub refunded_by: Option<RefundId>,
}

/// A pending transfer reserving credit for an open visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub transfer_id: TransferId,
    pub amount: Money,
}

/// The amounts of a settlement (API.md field names), as first settled or after refunds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettlementFigures {
    pub total: Money,
    pub full_self_pay: Money,
    pub over_limit: Money,
    pub pre_self_pay: Money,
    pub in_scope: Money,
    pub deductible: Money,
    pub fund_paid: Money,
    pub personal_share: Money,
    pub msa_paid: Money,
    pub cash_due: Money,
    pub financed: Money,
    pub collect_now: Money,
}

impl SettlementFigures {
    pub fn from_settlement(settlement: &Settlement) -> SettlementFigures {
        SettlementFigures {
            total: settlement.total,
            full_self_pay: settlement.full_self_pay,
            over_limit: settlement.over_limit,
            pre_self_pay: settlement.pre_self_pay,
            in_scope: settlement.in_scope,
            deductible: settlement.deductible,
            fund_paid: settlement.fund_paid,
            personal_share: settlement.personal_share,
            msa_paid: settlement.msa_paid,
            cash_due: settlement.cash_due,
            financed: settlement.financed,
            collect_now: settlement.collect_now,
        }
    }

    /// What the visit adds to the plan-year accumulators.
    pub fn accumulator_deltas(&self) -> PeriodPosition {
        PeriodPosition {
            deductible_used: self.deductible,
            in_scope_cumulative: self.in_scope,
            fund_paid: self.fund_paid,
        }
    }

    /// The splits of DESIGN.md sum exactly to their wholes.
    pub fn parts_sum_exactly(&self) -> bool {
        let sum = |amounts: &[Money]| Money::checked_sum(amounts.iter().copied());
        sum(&[
            self.full_self_pay,
            self.over_limit,
            self.pre_self_pay,
            self.in_scope,
        ]) == Some(self.total)
            && sum(&[self.fund_paid, self.personal_share]) == Some(self.total)
            && sum(&[self.msa_paid, self.cash_due]) == Some(self.personal_share)
            && sum(&[self.financed, self.collect_now]) == Some(self.cash_due)
            && self.deductible <= self.in_scope
    }
}

/// Who the terms of a settlement applied to: kept so a refund re-adjudicates on the same
/// terms and the same position in the plan year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementTerms {
    pub plan_id: PlanId,
    pub plan_version: PlanVersion,
    pub member_type: MemberType,
    pub hospital_level: HospitalLevel,
    pub plan_year: i32,
    /// The plan-year accumulators before this visit.
    pub position_before: PeriodPosition,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementRecord {
    pub terms: SettlementTerms,
    pub settled_at: Timestamp,
    pub due_at: Timestamp,
    /// As first settled: what settling again returns.
    pub original: SettlementFigures,
    /// After refunds.
    pub current: SettlementFigures,
}

/// The differences a refund made, per payer (what each gave back).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PayerDifferences {
    pub total: Money,
    pub fund: Money,
    pub msa: Money,
    pub financed: Money,
    /// Returned at the hospital's counter (the collect-now part shrank).
    pub collect_now: Money,
    /// Of `financed`: taken off what the patient owes.
    pub outstanding_reduced: Money,
    /// Of `financed`: already paid, now owed back to the patient.
    pub refund_owed: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRecord {
    pub charge_id: ChargeId,
    pub at: Timestamp,
    pub settlement: SettlementFigures,
    pub differences: PayerDifferences,
}

/// When the visit passed each stage (history for reports and risk).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitTimeline {
    pub opened_at: Timestamp,
    pub cancelled_at: Option<Timestamp>,
    pub overdue_at: Option<Timestamp>,
    pub defaulted_at: Option<Timestamp>,
    pub written_off_at: Option<Timestamp>,
    pub paid_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct Visit {
    pub key: VisitKey,
    pub request: OpenVisitRequest,
    pub status: VisitStatus,
    pub authorized_amount: Money,
    pub hold: Option<Hold>,
    pub charges: Vec<Charge>,
    pub total: Money,
    pub settlement: Option<SettlementRecord>,
    pub refunds: Vec<(RefundId, RefundRecord)>,
    /// Repaid so far (payments applied, recoveries included).
    pub paid: Money,
    /// Of `paid`: received after the visit defaulted.
    pub recovered: Money,
    /// Still owed by the patient (written-off amounts included).
    pub outstanding: Money,
    /// Paid beyond what a refund left owed.
    pub refund_owed: Money,
    /// Order of settlement: ties between equal due dates go to the earlier settlement.
    pub settle_sequence: u64,
    pub timeline: VisitTimeline,
}

impl Visit {
    pub fn due_at(&self) -> Option<Timestamp> {
        self.settlement.as_ref().map(|record| record.due_at)
    }

    pub fn line_count(&self) -> usize {
        self.charges
            .iter()
            .map(|charge| charge.request.items.len())
            .sum()
    }

    /// The lines a (re-)adjudication sees: charges not refunded.
    pub fn billed_lines(&self) -> Vec<ChargeLine> {
        self.charges
            .iter()
            .filter(|charge| charge.refunded_by.is_none())
            .flat_map(|charge| charge.request.items.iter().cloned())
            .collect()
    }
}

/// A patient's accumulators are kept per plan and plan year.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AccumulatorKey {
    pub patient_id: PatientId,
    pub plan_id: PlanId,
    pub plan_year: i32,
}

/// The body of `POST /v1/payments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentRequest {
    pub payment_id: PaymentId,
    pub patient_id: PatientId,
    pub amount: Money,
    pub channel: ChannelId,
}

/// One part of a payment, applied to one visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Allocation {
    pub hospital_id: HospitalId,
    pub visit_id: VisitId,
    pub amount: Money,
    /// The visit's status when the payment arrived (defaulted and written-off visits
    /// make the payment a recovery).
    pub status_before: VisitStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentRecord {
    pub request: PaymentRequest,
    pub at: Timestamp,
    pub applied: Vec<Allocation>,
    pub outstanding_after: Money,
}
