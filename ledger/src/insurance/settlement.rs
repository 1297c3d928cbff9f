//! Adjudication of one visit: from charge lines, the plan and the patient's accumulators to
//! who pays what (DESIGN.md, "Insurance settlement"). Pure: no IO, no clock, no randomness.

use serde::{Deserialize, Serialize};

use crate::money::{Money, Ratio};

use super::line::{ChargeLine, LineError, LineSplit};
use super::plan::{
    Band, DeductiblePeriod, HospitalLevel, MemberType, MsaScope, Plan, PlanError, PlanRule,
    PlanVersion, VisitKind, BANDS_PER_RULE_MAX,
};

/// The most charge lines one visit may settle (an inpatient stay of several weeks stays well
/// below it).
pub const LINES_PER_VISIT_MAX: usize = 4096;

/// A patient's accumulators for one plan year: what the deductible, the in-scope amounts and
/// the fund have come to so far. The ledger stores them and changes them in the same atomic
/// transaction as the money.
///
/// Consistency (checked by [`adjudicate`]): `deductible_used + fund_paid <= in_scope_cumulative`,
/// because both the deductible and the fund are taken out of in-scope amounts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodPosition {
    pub deductible_used: Money,
    pub in_scope_cumulative: Money,
    pub fund_paid: Money,
}

impl PeriodPosition {
    pub const ZERO: PeriodPosition = PeriodPosition {
        deductible_used: Money::ZERO,
        in_scope_cumulative: Money::ZERO,
        fund_paid: Money::ZERO,
    };

    fn is_consistent(self) -> bool {
        self.deductible_used
            .checked_add(self.fund_paid)
            .is_some_and(|taken| taken <= self.in_scope_cumulative)
    }

    fn checked_add(self, delta: PeriodPosition) -> Option<PeriodPosition> {
        Some(PeriodPosition {
            deductible_used: self.deductible_used.checked_add(delta.deductible_used)?,
            in_scope_cumulative: self
                .in_scope_cumulative
                .checked_add(delta.in_scope_cumulative)?,
            fund_paid: self.fund_paid.checked_add(delta.fund_paid)?,
        })
    }
}

/// Everything one adjudication depends on.
#[derive(Clone, Copy, Debug)]
pub struct AdjudicationInput<'a> {
    pub plan: &'a Plan,
    /// Recorded in the settlement, so a re-adjudication (refund) can use the same terms.
    pub plan_version: PlanVersion,
    pub member_type: MemberType,
    pub visit_kind: VisitKind,
    pub hospital_level: HospitalLevel,
    pub lines: &'a [ChargeLine],
    /// The patient's plan-year accumulators before this visit, always for the year: for a
    /// rule with `deductible_period: visit` the deductible and the bands start at zero, and
    /// only `fund_paid` is read (the annual cap is per year whatever the period).
    /// A re-adjudication after a refund passes the position the original settlement started
    /// from.
    pub year_position: PeriodPosition,
    pub msa_balance: Money,
    /// The credit the patient has left to finance this visit.
    pub credit_available: Money,
}

/// The fund's share from one band, before the annual cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandPayment {
    /// Index into the rule's `bands`.
    pub band: usize,
    /// The part of this visit's in-scope amount above the deductible that falls in the band.
    pub segment: Money,
    pub fund_ratio: Ratio,
    /// round(segment × fund_ratio).
    pub fund: Money,
}

/// Who pays what for one visit. Field names follow API.md; the national settlement names
/// are in brackets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    pub plan_version: PlanVersion,
    pub total: Money,
    /// [fulamt_ownpay_amt]
    pub full_self_pay: Money,
    /// [overlmt_selfpay]
    pub over_limit: Money,
    /// [preselfpay_amt]
    pub pre_self_pay: Money,
    /// [inscp_scp_amt]
    pub in_scope: Money,
    /// [act_pay_dedc]
    pub deductible: Money,
    /// [hifp_pay]
    pub fund_paid: Money,
    /// [psn_part_amt]
    pub personal_share: Money,
    /// [acct_pay]
    pub msa_paid: Money,
    /// [psn_cash_pay]
    pub cash_due: Money,
    /// The part of the cash due carried on the patient's credit line.
    pub financed: Money,
    /// The part of the cash due the credit cannot cover: collected at the counter.
    pub collect_now: Money,
    /// One split per input line, in input order.
    pub lines: Vec<LineSplit>,
    /// The bands this visit reached, in band order (fund before the cap).
    pub bands: Vec<BandPayment>,
    /// The fund share before the annual cap; above `fund_paid` when the cap limited it.
    pub fund_uncapped: Money,
    /// The plan-year accumulators before and after this visit.
    pub position_before: PeriodPosition,
    pub position_after: PeriodPosition,
}

impl Settlement {
    /// What this visit adds to the plan-year accumulators (`position_after − position_before`).
    pub fn accumulator_deltas(&self) -> PeriodPosition {
        PeriodPosition {
            deductible_used: self.deductible,
            in_scope_cumulative: self.in_scope,
            fund_paid: self.fund_paid,
        }
    }
}

/// Why a visit cannot be adjudicated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettlementError {
    #[error("a visit may have at most {LINES_PER_VISIT_MAX} charge lines, not {count}")]
    TooManyLines { count: usize },
    #[error("the plan is not valid: {0}")]
    InvalidPlan(#[from] PlanError),
    #[error("the plan has no rule for {member_type} {visit_kind} visits at level {hospital_level} hospitals")]
    NoMatchingRule {
        member_type: MemberType,
        visit_kind: VisitKind,
        hospital_level: HospitalLevel,
    },
    #[error("the accumulators are inconsistent: deductible used plus fund paid exceed the in-scope amount")]
    InconsistentPosition,
    #[error("charge line {index}: {source}")]
    Line { index: usize, source: LineError },
    #[error("the visit's amounts exceed the maximum of {}", Money::MAX)]
    AmountOverflow,
}

/// The sums of the line splits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct VisitParts {
    total: Money,
    full_self_pay: Money,
    over_limit: Money,
    pre_self_pay: Money,
    in_scope: Money,
}

/// The fund's share and how it came about.
struct FundShare {
    deductible: Money,
    bands: Vec<BandPayment>,
    uncapped: Money,
    paid: Money,
}

/// How the personal share is paid.
struct PersonalPayment {
    personal_share: Money,
    msa_paid: Money,
    cash_due: Money,
    financed: Money,
    collect_now: Money,
}

/// Adjudicates one visit. Checks run in a fixed order, the first failure wins: line count,
/// plan validity, a rule for the visit, accumulator consistency, each line in order, amount
/// overflow.
///
/// # Errors
/// A [`SettlementError`] naming the first failed check.
///
/// # Panics
/// When an invariant of the arithmetic breaks (a bug, never a client error).
pub fn adjudicate(input: &AdjudicationInput<'_>) -> Result<Settlement, SettlementError> {
    let count = input.lines.len();
    if count > LINES_PER_VISIT_MAX {
        return Err(SettlementError::TooManyLines { count });
    }
    input.plan.validate()?;
    let rule = matching_rule(input)?;
    if !input.year_position.is_consistent() {
        return Err(SettlementError::InconsistentPosition);
    }
    let lines = split_lines(input.lines, input.plan.default_self_pay_ratio)?;
    let parts = sum_parts(&lines).ok_or(SettlementError::AmountOverflow)?;
    let fund = fund_share(rule, input.year_position, parts.in_scope)?;
    let payment = personal_payment(input, &parts, fund.paid);
    let settlement = assemble(input, lines, parts, fund, payment)?;
    assert_invariants(&settlement, rule);
    Ok(settlement)
}

fn matching_rule<'a>(input: &AdjudicationInput<'a>) -> Result<&'a PlanRule, SettlementError> {
    let (member_type, visit_kind, hospital_level) =
        (input.member_type, input.visit_kind, input.hospital_level);
    input
        .plan
        .rule_for(member_type, visit_kind, hospital_level)
        .ok_or(SettlementError::NoMatchingRule {
            member_type,
            visit_kind,
            hospital_level,
        })
}

fn split_lines(
    lines: &[ChargeLine],
    default_self_pay_ratio: Ratio,
) -> Result<Vec<LineSplit>, SettlementError> {
    lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            line.split(default_self_pay_ratio)
                .map_err(|source| SettlementError::Line { index, source })
        })
        .collect()
}

fn sum_parts(lines: &[LineSplit]) -> Option<VisitParts> {
    let mut parts = VisitParts::default();
    for line in lines {
        parts.total = parts.total.checked_add(line.amount)?;
        // Each part is at most its line's amount, so these cannot overflow once total did not.
        parts.full_self_pay = parts.full_self_pay.checked_add(line.full_self_pay)?;
        parts.over_limit = parts.over_limit.checked_add(line.over_limit)?;
        parts.pre_self_pay = parts.pre_self_pay.checked_add(line.pre_self_pay)?;
        parts.in_scope = parts.in_scope.checked_add(line.in_scope)?;
    }
    Some(parts)
}

/// The deductible and the fund's share of this visit's in-scope amount.
///
/// Positions are on the axis of the cumulative in-scope amount in the deductible period
/// (the plan year, or this visit alone), deductible included. This visit's in-scope amount
/// occupies `[before, before + in_scope)`; the deductible takes its first part; the fund pays
/// each band's ratio on the rest, `[before + deductible, before + in_scope)`, cut at the
/// band thresholds; the annual cap limits the sum.
fn fund_share(
    rule: &PlanRule,
    year_position: PeriodPosition,
    in_scope: Money,
) -> Result<FundShare, SettlementError> {
    let period_position = match rule.deductible_period {
        DeductiblePeriod::Year => year_position,
        DeductiblePeriod::Visit => PeriodPosition::ZERO,
    };
    let deductible_remaining = rule
        .deductible
        .saturating_sub(period_position.deductible_used);
    let deductible = in_scope.min(deductible_remaining);
    let start = period_position.in_scope_cumulative;
    let covered_from = start.checked_add(deductible);
    let covered_to = start.checked_add(in_scope);
    let (Some(covered_from), Some(covered_to)) = (covered_from, covered_to) else {
        return Err(SettlementError::AmountOverflow);
    };
    let bands = band_payments(&rule.bands, covered_from, covered_to);
    // Each band's fund is at most its segment, so the sum is at most in-scope: no overflow.
    let uncapped = Money::checked_sum(bands.iter().map(|band| band.fund))
        .expect("the fund is at most the in-scope amount");
    let paid = match rule.annual_cap {
        Some(cap) => uncapped.min(cap.saturating_sub(year_position.fund_paid)),
        None => uncapped,
    };
    Ok(FundShare {
        deductible,
        bands,
        uncapped,
        paid,
    })
}

/// Cuts `[from, to)` at the band thresholds and applies each band's ratio. The bands are
/// valid (ascending, the last one open), so every position falls in exactly one band.
fn band_payments(bands: &[Band], from: Money, to: Money) -> Vec<BandPayment> {
    assert!(from <= to);
    assert!(!bands.is_empty() && bands.len() <= BANDS_PER_RULE_MAX);
    let mut payments = Vec::new();
    let mut band_floor = Money::ZERO;
    for (index, band) in bands.iter().enumerate() {
        let band_ceiling = band.up_to.unwrap_or(Money::MAX);
        let segment = to.min(band_ceiling).saturating_sub(from.max(band_floor));
        if !segment.is_zero() {
            payments.push(BandPayment {
                band: index,
                segment,
                fund_ratio: band.fund_ratio,
                fund: segment.mul_ratio(band.fund_ratio),
            });
        }
        band_floor = band_ceiling;
    }
    let covered = Money::checked_sum(payments.iter().map(|payment| payment.segment));
    assert_eq!(covered, to.checked_sub(from), "bands cover the interval");
    payments
}

/// Splits the personal share between the MSA, the credit line and the counter.
fn personal_payment(
    input: &AdjudicationInput<'_>,
    parts: &VisitParts,
    fund_paid: Money,
) -> PersonalPayment {
    let personal_share = parts
        .total
        .checked_sub(fund_paid)
        .expect("the fund pays at most the in-scope part of the total");
    let msa_payable = match input.plan.msa_scope {
        MsaScope::All => personal_share,
        // pre-self-pay + in-scope − fund: never negative, the fund pays out of in-scope.
        MsaScope::InScope => personal_share
            .checked_sub(parts.full_self_pay)
            .and_then(|rest| rest.checked_sub(parts.over_limit))
            .expect("the personal share includes full self-pay and over-limit"),
    };
    let msa_paid = msa_payable.min(input.msa_balance);
    let cash_due = personal_share.saturating_sub(msa_paid);
    let financed = cash_due.min(input.credit_available);
    PersonalPayment {
        personal_share,
        msa_paid,
        cash_due,
        financed,
        collect_now: cash_due.saturating_sub(financed),
    }
}

fn assemble(
    input: &AdjudicationInput<'_>,
    lines: Vec<LineSplit>,
    parts: VisitParts,
    fund: FundShare,
    payment: PersonalPayment,
) -> Result<Settlement, SettlementError> {
    let mut settlement = Settlement {
        plan_version: input.plan_version,
        total: parts.total,
        full_self_pay: parts.full_self_pay,
        over_limit: parts.over_limit,
        pre_self_pay: parts.pre_self_pay,
        in_scope: parts.in_scope,
        deductible: fund.deductible,
        fund_paid: fund.paid,
        personal_share: payment.personal_share,
        msa_paid: payment.msa_paid,
        cash_due: payment.cash_due,
        financed: payment.financed,
        collect_now: payment.collect_now,
        lines,
        bands: fund.bands,
        fund_uncapped: fund.uncapped,
        position_before: input.year_position,
        position_after: input.year_position,
    };
    settlement.position_after = input
        .year_position
        .checked_add(settlement.accumulator_deltas())
        .ok_or(SettlementError::AmountOverflow)?;
    Ok(settlement)
}

/// The invariants of DESIGN.md. A failure is a bug in this module, never a client error.
fn assert_invariants(settlement: &Settlement, rule: &PlanRule) {
    let sum = |amounts: &[Money]| Money::checked_sum(amounts.iter().copied());
    let s = settlement;
    assert_eq!(
        sum(&[s.full_self_pay, s.over_limit, s.pre_self_pay, s.in_scope]),
        Some(s.total),
        "total = full self-pay + over-limit + pre-self-pay + in-scope"
    );
    assert_eq!(
        sum(&[s.fund_paid, s.personal_share]),
        Some(s.total),
        "fund + personal share = total"
    );
    assert_eq!(
        sum(&[s.msa_paid, s.cash_due]),
        Some(s.personal_share),
        "personal share = MSA + cash due"
    );
    assert_eq!(
        sum(&[s.financed, s.collect_now]),
        Some(s.cash_due),
        "cash due = financed + collect now"
    );
    assert!(
        s.deductible <= s.in_scope,
        "the deductible comes out of in-scope"
    );
    let covered = s.in_scope.checked_sub(s.deductible);
    assert!(
        covered.is_some_and(|covered| s.fund_paid <= covered),
        "the fund pays at most in-scope − deductible"
    );
    assert!(
        s.fund_paid <= s.fund_uncapped,
        "the cap only lowers the fund share"
    );
    if let Some(cap) = rule.annual_cap {
        let cap_remaining = cap.saturating_sub(s.position_before.fund_paid);
        assert!(s.fund_paid <= cap_remaining, "fund <= remaining annual cap");
    }
    assert_eq!(
        Money::checked_sum(s.lines.iter().map(|line| line.amount)),
        Some(s.total),
        "lines sum to the total"
    );
    assert!(
        s.position_after.is_consistent(),
        "accumulators stay consistent"
    );
}
