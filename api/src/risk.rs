//! The risk model and credit policy as the service uses them: a patient's repayment history
//! from the ledger, scored by the shipped model, turned into a recommended limit.
//!
//! Billing cycles are 30-day windows ending at `as_of` (cycle 0 is the latest). For each:
//! the receivable's posted balance at its end, the repayments received in it, and its
//! status: past due by the oldest unpaid visit's days past due at the cycle's end, else
//! paid in full (nothing owed at the end after owing or paying), revolving (something owed,
//! nothing past due), or nothing to pay. Cycles before the patient's first ledger entry are
//! "nothing to pay", as the training data records months without any bill.
//!
//! Which evidence decides ([`Footing`]). The shipped model was trained on card holders with
//! six months of history. It reads the months before a first bill as inactivity and rates
//! that as risky: an empty history scores band E, a first bill alone band D (PD about
//! 0.23), whether or not it is paid. So the model decides only once a patient has
//! [`SEASONED_CYCLES`] billing cycles from the first bill on, or has ever been late or
//! defaulted; before that (a newcomer, or a thin file) the band comes from the external
//! credit score given at enrollment ([`newcomer_band`]).
//!
//! Rescoring (after each delinquency run) only ever lowers a limit, never below what the
//! patient already holds and owes, and only for a patient whose own conduct calls for it: a
//! cycle past due in the six the features cover, or a default. The shipped model puts even
//! six cycles paid in full at PD 0.32 (band E), because a scheme's limits (a few thousand
//! yuan) sit at the bottom of the training data's limit range, where card holders defaulted
//! most; cutting every punctual patient's line on that base rate would be wrong. The score
//! still ranks and explains; a model trained on the scheme's own history (`treatfirst risk
//! train` on a ledger export) is what may lift this guard. Raising a limit stays an
//! administrator's decision.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use treatfirst_ledger::journal::EntrySide;
use treatfirst_ledger::scheme::chart::{PatientAccount, TransferKind};
use treatfirst_ledger::scheme::{
    SchemeCommand, SchemeLedger, SchemeLedgerError, STATEMENT_PAGE_MAX,
};
use treatfirst_ledger::{Money, PatientId, Phase, Timestamp};
use treatfirst_risk::{
    Band, CreditPolicy, Cycle, CycleStatus, DefaultHistory, Model, ReasonCode, RepaymentHistory,
};

const SECONDS_PER_DAY: i64 = 86_400;
const CYCLE_DAYS: i64 = 30;

const NOTHING_TO_PAY: Cycle = Cycle {
    balance_fen: 0,
    repaid_fen: 0,
    status: CycleStatus::NothingToPay,
};

pub struct RiskService {
    pub model: Model,
    pub policy: CreditPolicy,
}

impl Default for RiskService {
    fn default() -> RiskService {
        RiskService {
            model: Model::default_shipped(),
            policy: CreditPolicy::standard(),
        }
    }
}

/// Billing cycles, counted from the first bill, after which the model's score decides for a
/// patient who has never been late (see the module docs).
pub const SEASONED_CYCLES: usize = 3;

/// Which evidence decides a patient's band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Footing {
    /// Nothing billed or repaid yet: the external score decides.
    Newcomer,
    /// Billed in fewer than [`SEASONED_CYCLES`] cycles and never late: the external score
    /// decides.
    ThinFile { billed_cycles: usize },
    /// Enough history, or any lateness or default: the model decides.
    RepaymentHistory { ever_late: bool },
}

impl Footing {
    pub fn of(history: &RepaymentHistory) -> Footing {
        let ever_late = history.prior_defaults > 0
            || history
                .cycles
                .iter()
                .any(|cycle| matches!(cycle.status, CycleStatus::Delayed { .. }));
        // Latest first: the first bill is in the oldest cycle that is not "nothing to pay".
        let billed_cycles = history
            .cycles
            .iter()
            .rposition(|cycle| cycle.status != CycleStatus::NothingToPay)
            .map_or(0, |oldest| oldest + 1);
        if ever_late || billed_cycles >= SEASONED_CYCLES {
            Footing::RepaymentHistory { ever_late }
        } else if billed_cycles == 0 {
            Footing::Newcomer
        } else {
            Footing::ThinFile { billed_cycles }
        }
    }

    /// Whether rescoring may lower this patient's limit: only for conduct (see the module
    /// docs).
    pub fn may_lower_limit(self) -> bool {
        self == Footing::RepaymentHistory { ever_late: true }
    }
}

/// `GET /v1/risk/patients/{patient_id}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Assessment {
    pub patient_id: PatientId,
    pub as_of: Timestamp,
    /// `repayment_history` (the model scored the ledger's history) or `external_score`
    /// (a newcomer: the band comes from the score given at enrollment).
    pub basis: &'static str,
    /// Points on the model's scale (600 at odds 50:1, 20 points to double the odds); null
    /// for a newcomer.
    pub score: Option<i32>,
    pub probability_of_default: Option<f64>,
    pub band: String,
    /// The top reason codes: the characteristics furthest below their best points.
    pub reasons: Vec<ReasonCode>,
    /// The policy's outpatient limit for the band (one band lower after any default).
    pub recommended_limit: Money,
    pub credit_limit: Money,
    /// Whether the next delinquency run's rescoring lowers `credit_limit` to
    /// `recommended_limit` (or to what the patient holds and owes, if more): only when the
    /// recommendation is lower and the patient has been late or defaulted.
    pub lowers_limit: bool,
    pub model_version: String,
}

/// What a rescoring pass did.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Rescored {
    pub patients_scored: u64,
    pub limits_lowered: u64,
}

/// What scoring needs of one visit.
struct VisitDue {
    due_at: Timestamp,
    paid_at: Option<Timestamp>,
}

/// What scoring needs of one patient, copied out of the state.
struct PatientFacts {
    credit_limit: Money,
    committed: Money,
    birth_date: NaiveDate,
    external_score: Option<u16>,
    defaults: u32,
    visits: Vec<VisitDue>,
}

impl RiskService {
    /// The credit limit the policy gives a new patient: the newcomer band of the external
    /// credit score given at enrollment.
    pub fn enrollment_limit(&self, external_score: Option<u16>) -> Money {
        let band = newcomer_band(external_score);
        Money::yuan(
            self.policy
                .recommend(band, DefaultHistory::NoDefault)
                .outpatient_yuan,
        )
    }

    fn limit_for(&self, band: Band, defaults: u32) -> Money {
        let history = if defaults > 0 {
            DefaultHistory::AnyDefault
        } else {
            DefaultHistory::NoDefault
        };
        Money::yuan(self.policy.recommend(band, history).outpatient_yuan)
    }

    /// The limit rescoring lowers a patient to: the policy's for `band`, never below what
    /// the patient holds and owes. `None` when that is not lower than the limit, or when the
    /// footing allows no lowering (a punctual patient: the score alone never cuts a line).
    fn lowered_limit(&self, footing: Footing, band: Band, facts: &PatientFacts) -> Option<Money> {
        if !footing.may_lower_limit() {
            return None;
        }
        let target = self.limit_for(band, facts.defaults).max(facts.committed);
        (target < facts.credit_limit).then_some(target)
    }

    /// Scores a patient as of `as_of`; `None` for an unknown patient.
    ///
    /// # Errors
    /// The journal could not be read.
    pub fn assess(
        &self,
        scheme: &SchemeLedger,
        patient_id: &PatientId,
        as_of: Timestamp,
    ) -> Result<Option<Assessment>, SchemeLedgerError> {
        let Some(facts) = patient_facts(scheme, patient_id) else {
            return Ok(None);
        };
        let history = repayment_history(scheme, patient_id, &facts, as_of)?;
        let model_version = self.model.model_version().to_owned();
        let footing = Footing::of(&history);
        let why_external = match footing {
            Footing::RepaymentHistory { .. } => None,
            Footing::Newcomer => Some("no repayment history yet".to_owned()),
            Footing::ThinFile { billed_cycles } => Some(format!(
                "billed in {billed_cycles} of the {SEASONED_CYCLES} cycles the model needs, \
                 never late"
            )),
        };
        if let Some(why) = why_external {
            let band = newcomer_band(facts.external_score);
            let recommended_limit = self.limit_for(band, facts.defaults);
            return Ok(Some(Assessment {
                patient_id: patient_id.clone(),
                as_of,
                basis: "external_score",
                score: None,
                probability_of_default: None,
                band: band.to_string(),
                reasons: vec![ReasonCode {
                    feature: "repayment_history".to_owned(),
                    description: format!(
                        "{why}: the band comes from the external credit score given at \
                         enrollment"
                    ),
                    value_range: facts
                        .external_score
                        .map_or_else(|| "no external score".to_owned(), |s| s.to_string()),
                    points_below_max: 0.0,
                }],
                recommended_limit,
                credit_limit: facts.credit_limit,
                lowers_limit: false,
                model_version,
            }));
        }
        let score = self.model.score(&history.feature_values());
        let recommended_limit = self.limit_for(score.band, facts.defaults);
        Ok(Some(Assessment {
            patient_id: patient_id.clone(),
            as_of,
            basis: "repayment_history",
            score: Some(score.points),
            probability_of_default: Some((score.probability_of_default * 1e6).round() / 1e6),
            band: score.band.to_string(),
            recommended_limit,
            reasons: score.reasons,
            credit_limit: facts.credit_limit,
            lowers_limit: self.lowered_limit(footing, score.band, &facts).is_some(),
            model_version,
        }))
    }

    /// Rescores every patient the model decides for, and lowers the limits the policy now
    /// recommends lower for those who have been late or defaulted (never below what the
    /// patient holds and owes).
    ///
    /// # Errors
    /// The journal could not be read or the ledger could not take the changes.
    pub fn rescore_all(
        &self,
        scheme: &SchemeLedger,
        as_of: Timestamp,
    ) -> Result<Rescored, SchemeLedgerError> {
        let patient_ids: Vec<PatientId> = scheme
            .read()
            .patients()
            .map(|patient| patient.enrollment.patient_id.clone())
            .collect();
        let mut summary = Rescored::default();
        let mut changes = Vec::new();
        for patient_id in patient_ids {
            let Some(facts) = patient_facts(scheme, &patient_id) else {
                continue;
            };
            let history = repayment_history(scheme, &patient_id, &facts, as_of)?;
            let footing = Footing::of(&history);
            if !matches!(footing, Footing::RepaymentHistory { .. }) {
                // Too little learned since enrollment: the enrollment limit stands.
                continue;
            }
            let score = self.model.score(&history.feature_values());
            summary.patients_scored += 1;
            if let Some(credit_limit) = self.lowered_limit(footing, score.band, &facts) {
                changes.push(SchemeCommand::SetCreditLimit {
                    patient_id,
                    credit_limit,
                });
            }
        }
        for reply in scheme.submit_many(changes)? {
            // A patient who drew on the line since it was read keeps the higher limit.
            if reply.is_ok() {
                summary.limits_lowered += 1;
            }
        }
        Ok(summary)
    }
}

fn patient_facts(scheme: &SchemeLedger, patient_id: &PatientId) -> Option<PatientFacts> {
    let state = scheme.read();
    let patient = state.patient(patient_id)?;
    let view = state.patient_view(patient_id)?;
    let visits = patient
        .visits
        .iter()
        .filter_map(|key| state.visit(key))
        .filter(|visit| {
            visit
                .settlement
                .as_ref()
                .is_some_and(|record| record.current.financed > Money::ZERO)
        })
        .filter_map(|visit| {
            Some(VisitDue {
                due_at: visit.due_at()?,
                paid_at: visit.timeline.paid_at,
            })
        })
        .collect();
    Some(PatientFacts {
        credit_limit: patient.credit_limit,
        committed: view
            .credit_held
            .checked_add(view.outstanding)
            .unwrap_or(Money::MAX),
        birth_date: patient.enrollment.birth_date,
        external_score: patient.enrollment.external_score,
        defaults: patient.defaults,
        visits,
    })
}

/// A posted movement on the patient's receivable.
struct ReceivableEntry {
    at: Timestamp,
    balance_after: Money,
    repayment: Money,
}

fn repayment_history(
    scheme: &SchemeLedger,
    patient_id: &PatientId,
    facts: &PatientFacts,
    as_of: Timestamp,
) -> Result<RepaymentHistory, SchemeLedgerError> {
    let mut first_entry: Option<Timestamp> = None;
    let mut receivable = Vec::new();
    let mut after = None;
    loop {
        let page = scheme
            .statement(patient_id, after, STATEMENT_PAGE_MAX)?
            .unwrap_or_default();
        for entry in &page {
            if entry.at > as_of {
                continue;
            }
            first_entry = Some(first_entry.map_or(entry.at, |first| first.min(entry.at)));
            if entry.account != PatientAccount::Receivable || entry.phase != Phase::Posted {
                continue;
            }
            let repayment =
                if entry.side == EntrySide::Credit && entry.kind == Some(TransferKind::Payment) {
                    entry.amount
                } else {
                    Money::ZERO
                };
            receivable.push(ReceivableEntry {
                at: entry.at,
                balance_after: entry.balance_after,
                repayment,
            });
        }
        match page.last() {
            Some(last) if page.len() == STATEMENT_PAGE_MAX => after = Some(last.cursor),
            _ => break,
        }
    }
    // The statement is in journal order, so the entries are in time order: a cycle's
    // entries are one slice, found by binary search.
    let entries_until =
        |instant: Timestamp| receivable.partition_point(|entry| entry.at <= instant);
    let balance_at = |instant: Timestamp| {
        receivable[..entries_until(instant)]
            .last()
            .map_or(Money::ZERO, |entry| entry.balance_after)
    };
    let start_of_history = first_entry.unwrap_or(as_of);
    let mut cycles = Vec::new();
    for cycle in 0..treatfirst_risk::history::CYCLES as i64 {
        let end = as_of.plus_seconds(-cycle * CYCLE_DAYS * SECONDS_PER_DAY);
        let start = end.plus_seconds(-CYCLE_DAYS * SECONDS_PER_DAY);
        if end < start_of_history {
            // Before the patient joined there was nothing to pay (the training data's -2),
            // which is what a newcomer's record says, rather than a missing value.
            cycles.push(NOTHING_TO_PAY);
            continue;
        }
        let in_cycle = &receivable[entries_until(start)..entries_until(end)];
        let repaid =
            Money::checked_sum(in_cycle.iter().map(|entry| entry.repayment)).unwrap_or(Money::MAX);
        let balance_end = balance_at(end);
        let days_past_due = facts
            .visits
            .iter()
            .filter(|visit| visit.due_at < end && visit.paid_at.map_or(true, |paid| paid > end))
            .map(|visit| end.seconds_since(visit.due_at) / SECONDS_PER_DAY)
            .max()
            .unwrap_or(0);
        let status = if days_past_due > 0 {
            CycleStatus::delayed_by_days(u32::try_from(days_past_due).unwrap_or(u32::MAX))
        } else if balance_end > Money::ZERO {
            CycleStatus::Revolving
        } else if balance_at(start) > Money::ZERO || !in_cycle.is_empty() {
            CycleStatus::PaidInFull
        } else {
            CycleStatus::NothingToPay
        };
        cycles.push(Cycle {
            balance_fen: balance_end.fen(),
            repaid_fen: repaid.fen(),
            status,
        });
    }
    let tenure_days = as_of.seconds_since(start_of_history).max(0) / SECONDS_PER_DAY;
    Ok(RepaymentHistory {
        cycles,
        credit_limit_fen: facts.credit_limit.fen(),
        age_years: Some(age_on(facts.birth_date, as_of.to_datetime().date_naive())),
        tenure_months: u32::try_from(tenure_days / CYCLE_DAYS).unwrap_or(u32::MAX),
        prior_defaults: facts.defaults,
        external_score: facts.external_score,
    })
}

/// The band of a patient without repayment history, from the external credit score given
/// at enrollment (a 350-950 scale, like the credit bureaus' consumer scores): 750 and above
/// A, 700 B, 650 C, 600 D, below 600 E; without a score, C.
pub fn newcomer_band(external_score: Option<u16>) -> Band {
    match external_score {
        None => Band::C,
        Some(score) if score >= 750 => Band::A,
        Some(score) if score >= 700 => Band::B,
        Some(score) if score >= 650 => Band::C,
        Some(score) if score >= 600 => Band::D,
        Some(_) => Band::E,
    }
}

/// Whole years from `birth_date` to `today` (0 for a date in the future).
pub fn age_on(birth_date: NaiveDate, today: NaiveDate) -> u32 {
    let mut years = today.year() - birth_date.year();
    if (today.month(), today.day()) < (birth_date.month(), birth_date.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(statuses: &[CycleStatus], prior_defaults: u32) -> RepaymentHistory {
        RepaymentHistory {
            cycles: statuses
                .iter()
                .map(|&status| Cycle {
                    balance_fen: 0,
                    repaid_fen: 0,
                    status,
                })
                .collect(),
            credit_limit_fen: 500_000,
            age_years: Some(45),
            tenure_months: 6,
            prior_defaults,
            external_score: Some(720),
        }
    }

    use CycleStatus::{Delayed, NothingToPay as Nothing, PaidInFull as Paid, Revolving};

    #[test]
    fn the_model_decides_only_with_enough_history_or_any_lateness() {
        let cases = [
            (vec![Nothing; 6], 0, Footing::Newcomer),
            (
                vec![Revolving, Nothing, Nothing, Nothing, Nothing, Nothing],
                0,
                Footing::ThinFile { billed_cycles: 1 },
            ),
            // A quiet cycle after the first bill still counts: the bill was two cycles ago.
            (
                vec![Nothing, Paid, Nothing, Nothing, Nothing, Nothing],
                0,
                Footing::ThinFile { billed_cycles: 2 },
            ),
            (
                vec![Paid, Nothing, Revolving, Nothing, Nothing, Nothing],
                0,
                Footing::RepaymentHistory { ever_late: false },
            ),
            (
                vec![Paid; 6],
                0,
                Footing::RepaymentHistory { ever_late: false },
            ),
            (
                vec![
                    Delayed { months: 1 },
                    Revolving,
                    Nothing,
                    Nothing,
                    Nothing,
                    Nothing,
                ],
                0,
                Footing::RepaymentHistory { ever_late: true },
            ),
            // A default long ago weighs even when the window is quiet.
            (
                vec![Nothing; 6],
                1,
                Footing::RepaymentHistory { ever_late: true },
            ),
        ];
        for (statuses, defaults, footing) in cases {
            assert_eq!(
                Footing::of(&history(&statuses, defaults)),
                footing,
                "{statuses:?} with {defaults} defaults"
            );
        }
    }

    #[test]
    fn only_lateness_or_a_default_lets_rescoring_lower_a_limit() {
        assert!(Footing::RepaymentHistory { ever_late: true }.may_lower_limit());
        for footing in [
            Footing::Newcomer,
            Footing::ThinFile { billed_cycles: 2 },
            Footing::RepaymentHistory { ever_late: false },
        ] {
            assert!(!footing.may_lower_limit(), "{footing:?}");
        }
    }

    /// Why the guard exists: the shipped model rates punctual scheme patients as risky.
    #[test]
    fn the_shipped_model_rates_six_punctual_cycles_below_the_band_that_keeps_a_limit() {
        let service = RiskService::default();
        let punctual = history(&[Paid; 6], 0);
        let score = service.model.score(&punctual.feature_values());
        let recommended = service.limit_for(score.band, 0);
        assert!(
            recommended < Money::yuan(5_000),
            "if the model now keeps a 5000.00 line for six punctual cycles (band {}), the \
             conduct guard in rescore_all may be reconsidered",
            score.band
        );
    }
}
