//! The risk model and credit policy as the service uses them.
//!
//! At enrollment there is no repayment history yet: a patient enrolled without
//! `credit_limit` is scored on what enrollment knows (age at enrollment) with every history
//! feature missing, and gets the policy's outpatient limit for that band.

use chrono::{Datelike, NaiveDate};
use treatfirst_ledger::{Money, Timestamp};
use treatfirst_risk::{CreditPolicy, DefaultHistory, FeatureValues, Model};

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

impl RiskService {
    /// The credit limit the policy gives a new patient born on `birth_date`.
    pub fn enrollment_limit(&self, birth_date: NaiveDate, now: Timestamp) -> Money {
        let today = now.to_datetime().date_naive();
        let age = age_on(birth_date, today);
        let values = FeatureValues::new().with("AGE", f64::from(age));
        let score = self.model.score(&values);
        let limit = self.policy.recommend(score.band, DefaultHistory::NoDefault);
        Money::yuan(limit.outpatient_yuan)
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
