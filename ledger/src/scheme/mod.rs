//! The credit scheme, "treat first, pay later": plans, hospitals, patients and their credit
//! lines, the visit lifecycle (open, charges, settle, cancel, refund), payments and
//! delinquency, as one deterministic state machine ([`Scheme`]) over the double-entry
//! [`Books`](crate::Books), run durably by the engine ([`SchemeLedger`]).
//!
//! **Architecture Invariant:** every command is one atomic journal record (a
//! [`SchemeChange`]): the domain events, with every computed amount, and the ledger changes
//! they made. Replay applies both and never recomputes, so it is exact whatever the settings
//! or the code of the rules later become. A delinquency run writes one record per patient
//! and one for the run, all in one commit group; a hold the books release at its deadline
//! is a record of its own. A refused command writes nothing (the one exception: when the
//! books refuse a balance overflow after the command opened an account, the opening is
//! journaled so that the journal still equals the state).
//!
//! **Architecture Invariant:** every write is idempotent by its client id (visit id per
//! hospital, charge id per visit, refund id per visit, deposit id per patient, payment id,
//! patient id): the same body replays the original outcome (`replayed: true`, nothing
//! written); another body is `idempotency_conflict`.
//!
//! **Architecture Invariant:** the rules read no clock: `now` is the commit group's time and
//! delinquency takes `as_of`. Concurrency safety comes from the single writer: two hospitals
//! settling visits of the same patient at once are settled one after the other, each seeing
//! the accumulators and the credit the other left.
//!
//! # Chart of accounts
//! `P` patient, `H` hospital, `PL` plan, `C` payment channel; the second column is the
//! normal side.
//!
//! | account | | what it holds |
//! |---|---|---|
//! | `patient:P:receivable` | debit | what P owes on settled visits; pending debits are the holds of P's open visits. Its limit is P's credit line (`DebitsWithinCredits { limit: credit_limit }`), so `outstanding + held <= credit_limit` is enforced by the books |
//! | `patient:P:msa` | credit | P's personal medical account; never overdrawn (limit 0) |
//! | `patient:P:refund_owed` | credit | money owed back to P after refunds |
//! | `hospital:H:due_from_fund` | debit | the pooled fund's share owed to H |
//! | `hospital:H:payable` | credit | what the scheme owes H ("due from the scheme"): the MSA and financed shares, paid to H at settlement whatever the patient does; pending credits are holds guaranteed to H |
//! | `plan:PL:fund_payable` | credit | what PL's pooled fund owes hospitals |
//! | `plan:PL:msa_funding` | debit | contributions that fund the MSAs of PL's members |
//! | `channel:C:clearing` | debit | repayments received through C, until its statement settles |
//! | `scheme:allowance` | credit | allowance for credit losses (contra-asset of the receivables) |
//! | `scheme:credit_loss_expense` | debit | provisions for defaulted visits (the write-off expense) |
//! | `scheme:recoveries` | credit | repayments after default |
//!
//! # Postings (debit / credit, amount)
//! - **Enrollment, MSA deposit**: `plan:PL:msa_funding` / `patient:P:msa`, the amount.
//! - **Open** with an estimate `e > 0`: hold (pending) `patient:P:receivable` /
//!   `hospital:H:payable`, `e`. Declined unless P is active and `e <= limit − held −
//!   outstanding` (the books' own `available_to_debit`).
//! - **Charge**: when the visit total passes the hold and P is active, the hold is replaced
//!   (void, then a new hold) by `min(total, hold + available)`. Never refused for credit.
//! - **Settle**: void the hold; then one transfer with `hospital:H:due_from_fund` /
//!   `plan:PL:fund_payable` fund share, `patient:P:msa` / `hospital:H:payable` MSA share,
//!   `patient:P:receivable` / `hospital:H:payable` financed part. The credit available to
//!   finance is the visit's own hold plus, for an active patient, the rest of the line. The
//!   collect-now part is collected by the hospital at its counter: recorded in the
//!   settlement, not posted. Accumulators move in the same record.
//! - **Cancel**: void the hold.
//! - **Refund** of a charge (differences Δ between the current settlement and the
//!   re-adjudication without it, on the same plan version and plan-year position):
//!   `plan:PL:fund_payable` / `hospital:H:due_from_fund` Δfund; `hospital:H:payable` /
//!   `patient:P:msa` ΔMSA; `hospital:H:payable` / `patient:P:receivable` the part of Δfinanced
//!   still owed (and `scheme:allowance` / `scheme:credit_loss_expense` the same amount on a
//!   defaulted visit); `hospital:H:payable` / `patient:P:refund_owed` the part already paid.
//!   The collect-now difference is returned at the hospital's counter. Written-off visits
//!   are not refunded (`invalid_state`).
//! - **Payment** through channel C, oldest due visit first: `channel:C:clearing` /
//!   `patient:P:receivable` on settled, overdue and defaulted visits; plus
//!   `scheme:allowance` / `scheme:recoveries` on defaulted ones (a recovery releases its
//!   provision); `channel:C:clearing` / `scheme:recoveries` on written-off ones.
//! - **Default** (delinquency): `scheme:credit_loss_expense` / `scheme:allowance`, the
//!   outstanding amount. **Write-off**: `scheme:allowance` / `patient:P:receivable`, the
//!   outstanding amount (still owed by the patient, and repayable as a recovery).
//! - **Hold expiry** (after `hold_timeout_seconds`): the books release the hold.
//!
//! # Statuses
//! Visits: open -> settled -> paid, or -> overdue (past due) -> defaulted
//! (`default_after_days`) -> written_off (`write_off_after_days`), any of them -> paid when
//! repaid; open -> cancelled. Patients: active -> suspended (a visit past due) ->
//! blacklisted (a visit defaulted); suspended -> active when nothing is past due;
//! blacklisted -> active when everything is repaid, with the limit reduced by
//! `restored_limit_ratio` (never below what open visits hold); revoked by an administrator.
//!
//! # Example
//! ```
//! use treatfirst_ledger::scheme::*;
//! use treatfirst_ledger::{HospitalId, Money, PatientId, PlanId, VisitId};
//!
//! let directory = tempfile::tempdir().unwrap();
//! let scheme = SchemeLedger::open(directory.path()).unwrap();
//! let plan: treatfirst_ledger::insurance::Plan = serde_json::from_str(r#"{
//!     "currency": "CNY", "payment_window_hours": {"outpatient": 48, "inpatient": 48},
//!     "default_self_pay_ratio": "0.10", "msa_scope": "all",
//!     "rules": [{"member_type": "employee", "visit_kind": "outpatient", "hospital_level": 2,
//!                "deductible": "100.00", "deductible_period": "year",
//!                "bands": [{"up_to": null, "fund_ratio": "0.80"}], "annual_cap": null}]
//! }"#).unwrap();
//! let plan_id = PlanId::new("city").unwrap();
//! scheme.put_plan(plan_id.clone(), plan).unwrap().unwrap();
//! let hospital = HospitalId::new("H1").unwrap();
//! scheme.put_hospital(hospital.clone(), "First Hospital", 2.try_into().unwrap()).unwrap().unwrap();
//! let patient_id = PatientId::new("P1").unwrap();
//! scheme.enroll_patient(Enrollment {
//!     patient_id: patient_id.clone(),
//!     plan_id,
//!     member_type: treatfirst_ledger::insurance::MemberType::Employee,
//!     birth_date: "1980-05-01".parse().unwrap(),
//!     msa_balance: Money::yuan(50),
//!     credit_limit: Money::yuan(5000),
//!     external_score: Some(700),
//! }).unwrap().unwrap();
//! let visit_id = VisitId::new("V1").unwrap();
//! let opened = scheme.open_visit(hospital.clone(), OpenVisitRequest {
//!     visit_id: visit_id.clone(),
//!     patient_id: patient_id.clone(),
//!     kind: treatfirst_ledger::insurance::VisitKind::Outpatient,
//!     estimated_amount: Money::yuan(300),
//! }).unwrap().unwrap();
//! assert_eq!(opened.authorized_amount, Money::yuan(300));
//! let charge: ChargeRequest = serde_json::from_str(r#"{"charge_id": "C1", "items": [
//!     {"code": "A1", "description": "", "category": "A", "quantity": "3", "unit_price": "30.00"},
//!     {"code": "B1", "description": "", "category": "B", "quantity": "1", "unit_price": "250.00",
//!      "self_pay_ratio": "0.15"},
//!     {"code": "C1", "description": "", "category": "C", "quantity": "1", "unit_price": "40.00"}
//! ]}"#).unwrap();
//! scheme.add_charge(hospital.clone(), visit_id.clone(), charge).unwrap().unwrap();
//! let settlement = scheme.settle(hospital, visit_id).unwrap().unwrap();
//! assert_eq!(settlement.figures.fund_paid.to_string(), "162.00");
//! assert_eq!(settlement.figures.financed.to_string(), "168.00");
//! let view = scheme.patient(&patient_id).unwrap();
//! assert_eq!(view.outstanding.to_string(), "168.00");
//! assert_eq!(view.available_credit.to_string(), "4832.00");
//! ```

mod admin;
mod audit;
pub mod bench;
pub mod chart;
mod command;
mod delinquency;
mod event;
mod finance;
mod machine;
mod model;
mod payments;
mod queries;
mod service;
mod settle;
mod state;
mod visits;

pub use command::{
    Accepted, ChargeAdded, DeclineReason, DelinquencyRun, MsaDeposited, Outcome, PaymentApplied,
    PlanStored, Refunded, SchemeCommand, SchemeError, SchemeReply, SettlementView, VisitCancelled,
    VisitOpened, ALLOCATIONS_PER_PAYMENT_MAX, CHARGES_PER_VISIT_MAX, EXTERNAL_SCORE_MAX,
    HOSPITAL_NAME_LENGTH_MAX, ITEMS_PER_CHARGE_MAX, REQUEST_AMOUNT_MAX,
};
pub use event::{SchemeChange, SchemeEvent};
pub use finance::{FundRemittance, FundRemitted, RemittanceRecord, Remittances};
pub use model::{
    local_date, plan_year, plus_days, AccumulatorKey, Allocation, Charge, ChargeRequest,
    DepositRecord, Enrollment, Hold, Hospital, OpenVisitRequest, Patient, PatientStatus,
    PayerDifferences, PaymentRecord, PaymentRequest, PlanHistory, RefundRecord, SchemeConfig,
    SettlementFigures, SettlementRecord, SettlementTerms, Visit, VisitKey, VisitStatus,
    VisitTimeline, PLAN_YEAR_UTC_OFFSET_SECONDS,
};
pub use queries::{ChargeView, PatientView, PlanView, RefundView, VisitView};
pub use service::{
    SchemeLedger, SchemeLedgerError, StatementCursor, StatementCursorError, StatementEntry,
    STATEMENT_PAGE_MAX,
};
pub use state::Scheme;
