//! Insurance settlement: the plan as data and the pure adjudication of one visit
//! (DESIGN.md, "Insurance settlement"). No IO, no clock, no randomness: the plan, the lines,
//! the patient's accumulators, the MSA balance and the available credit are all parameters.
//!
//! # Rules
//! Per charge line, amount A = round(quantity × unit_price):
//! - category C: all of A is full self-pay;
//! - categories A and B: over-limit = round(max(0, unit_price − price_cap) × quantity) when
//!   the line has a price cap; pre-self-pay = round((A − over-limit) × s), where s is 0 for A
//!   and the line's ratio (or else the plan's `default_self_pay_ratio`) for B; in-scope is the
//!   rest. The four parts sum exactly to A.
//!
//! Per visit, with the plan rule for (member type, visit kind, hospital level):
//! - **Position.** Deductible and bands are measured on one axis: the cumulative in-scope
//!   amount of the deductible period, *deductible included*. For `deductible_period: year`
//!   the period starts at the plan-year accumulators ([`PeriodPosition`]); for `visit` it
//!   starts at zero. This visit's in-scope amount occupies `[p, p + in_scope)` on that axis.
//! - **Deductible** = min(in_scope, deductible − deductible used in the period): the first
//!   part of the interval, `[p, p + deductible)`.
//! - **Bands.** The rest, `[p + deductible, p + in_scope)`, is cut at the absolute band
//!   thresholds (`up_to`); the fund pays round(segment × fund_ratio) per band. A band with
//!   `up_to: 30000.00` therefore covers positions below 30,000.00 of cumulative in-scope
//!   amount, the deductible counting towards them.
//! - **Cap.** The fund pays at most `annual_cap − fund_paid` of the plan year (the cap is
//!   annual whatever the deductible period).
//! - personal share = total − fund; the MSA pays min(its scope, its balance), where the scope
//!   is the whole personal share (`msa_scope: all`) or the personal share without full
//!   self-pay and over-limit (`in_scope`); cash due = personal share − MSA; financed =
//!   min(cash due, available credit); collect now = cash due − financed.
//!
//! # Rounding
//! Every rounding is half away from zero to 0.01 ([`Money::mul_ratio`],
//! [`Money::round_decimal`]), on exact decimals, once per line part and once per band
//! segment. Everything else is exact subtraction, so every split sums exactly to its whole;
//! [`adjudicate`] asserts it.
//!
//! # Example
//! The worked example of DESIGN.md:
//! ```
//! use treatfirst_ledger::insurance::*;
//! use treatfirst_ledger::Money;
//!
//! let plan: Plan = serde_json::from_str(r#"{
//!     "currency": "CNY", "payment_window_hours": {"outpatient": 48, "inpatient": 48},
//!     "default_self_pay_ratio": "0.10", "msa_scope": "all",
//!     "rules": [{"member_type": "employee", "visit_kind": "outpatient", "hospital_level": 2,
//!                "deductible": "100.00", "deductible_period": "year",
//!                "bands": [{"up_to": null, "fund_ratio": "0.80"}], "annual_cap": null}]
//! }"#).unwrap();
//! let lines: Vec<ChargeLine> = serde_json::from_str(r#"[
//!     {"code": "A1", "description": "", "category": "A", "quantity": "3", "unit_price": "30.00"},
//!     {"code": "B1", "description": "", "category": "B", "quantity": "1", "unit_price": "250.00",
//!      "self_pay_ratio": "0.15"},
//!     {"code": "C1", "description": "", "category": "C", "quantity": "1", "unit_price": "40.00"}
//! ]"#).unwrap();
//! let settlement = adjudicate(&AdjudicationInput {
//!     plan: &plan,
//!     plan_version: PlanVersion(1),
//!     member_type: MemberType::Employee,
//!     visit_kind: VisitKind::Outpatient,
//!     hospital_level: HospitalLevel::Level2,
//!     lines: &lines,
//!     year_position: PeriodPosition::ZERO,
//!     msa_balance: Money::yuan(50),
//!     credit_available: Money::yuan(5000),
//! })
//! .unwrap();
//! assert_eq!(settlement.total.to_string(), "380.00");
//! assert_eq!(settlement.fund_paid.to_string(), "162.00");
//! assert_eq!(settlement.cash_due.to_string(), "168.00");
//! ```
//!
//! [`Money::mul_ratio`]: crate::money::Money::mul_ratio
//! [`Money::round_decimal`]: crate::money::Money::round_decimal

mod line;
mod plan;
mod settlement;

#[cfg(test)]
mod tests;

pub use line::{
    Category, ChargeLine, LineError, LineSplit, Quantity, QuantityError, CODE_LENGTH_MAX,
    DESCRIPTION_LENGTH_MAX, QUANTITY_MAX, QUANTITY_SCALE_MAX,
};
pub use plan::{
    Band, DeductiblePeriod, HospitalLevel, HospitalLevelError, MemberType, MsaScope,
    PaymentWindowHours, Plan, PlanError, PlanRule, PlanVersion, VisitKind, BANDS_PER_RULE_MAX,
    PAYMENT_WINDOW_HOURS_MAX, PAYMENT_WINDOW_HOURS_MIN, PLAN_CURRENCY, RULES_PER_PLAN_MAX,
};
pub use settlement::{
    adjudicate, AdjudicationInput, BandPayment, PeriodPosition, Settlement, SettlementError,
    LINES_PER_VISIT_MAX,
};
