//! Features from a patient's repayment history, in the layout the models are trained on.
//!
//! The ledger summarises a patient into a [`RepaymentHistory`]: up to [`CYCLES`] billing
//! cycles, latest first, each with the balance owed at its end, what was repaid in it and its
//! repayment status, plus the credit limit, age, tenure, prior defaults and the external
//! score given at enrollment. [`RepaymentHistory::feature_values`] maps it onto the training
//! columns (`PAY_0`, `PAY_2`..`PAY_6`, `BILL_AMT1`.., `PAY_AMT1`.., `LIMIT_BAL`, `AGE`) and a
//! few columns only ledger-trained models use (`TENURE_MONTHS`, `PRIOR_DEFAULTS`,
//! `EXTERNAL_SCORE`). Cycles the patient did not have yet are missing values, not zeros.
//!
//! Amounts are given in fen and converted to the training data's currency units with
//! [`TRAINING_UNITS_PER_YUAN`], so that amount bins learned on that data mean comparable
//! purchasing power. Never medical information, never protected characteristics: the
//! history carries neither.

use crate::features::FeatureValues;

/// Billing cycles the features look back over.
pub const CYCLES: usize = 6;

/// The shipped model was trained on New Taiwan dollar amounts; one yuan is worth about 4.4
/// of them (the rate is a model input convention, not an accounting figure).
pub const TRAINING_UNITS_PER_YUAN: f64 = 4.4;

/// How a cycle ended for the patient (the training data's PAY_n codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CycleStatus {
    /// Nothing was owed and nothing happened (-2).
    NothingToPay,
    /// What was owed is repaid in full (-1).
    PaidInFull,
    /// Something is owed, none of it past due (0).
    Revolving,
    /// Past due by this many started months (1..=9; 9 means nine or more).
    Delayed { months: u8 },
}

impl CycleStatus {
    /// The training data's code.
    pub fn code(self) -> f64 {
        match self {
            CycleStatus::NothingToPay => -2.0,
            CycleStatus::PaidInFull => -1.0,
            CycleStatus::Revolving => 0.0,
            CycleStatus::Delayed { months } => f64::from(months.clamp(1, 9)),
        }
    }

    /// Delay status from days past due at the cycle's end.
    pub fn delayed_by_days(days_past_due: u32) -> CycleStatus {
        let months = days_past_due.div_ceil(30).clamp(1, 9);
        CycleStatus::Delayed {
            months: u8::try_from(months).unwrap_or(9),
        }
    }
}

/// One billing cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cycle {
    /// Owed at the cycle's end, in fen.
    pub balance_fen: u64,
    /// Repaid during the cycle, in fen.
    pub repaid_fen: u64,
    pub status: CycleStatus,
}

/// What the ledger knows of one patient, as of one instant.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RepaymentHistory {
    /// Latest first; at most [`CYCLES`] are used.
    pub cycles: Vec<Cycle>,
    pub credit_limit_fen: u64,
    pub age_years: Option<u32>,
    pub tenure_months: u32,
    pub prior_defaults: u32,
    pub external_score: Option<u16>,
}

fn training_units(fen: u64) -> f64 {
    fen as f64 / 100.0 * TRAINING_UNITS_PER_YUAN
}

impl RepaymentHistory {
    /// The model inputs.
    pub fn feature_values(&self) -> FeatureValues {
        let mut values = FeatureValues::new();
        for (index, cycle) in self.cycles.iter().take(CYCLES).enumerate() {
            let status_column = if index == 0 {
                "PAY_0".to_owned()
            } else {
                format!("PAY_{}", index + 1)
            };
            values.set(status_column, cycle.status.code());
            values.set(
                format!("BILL_AMT{}", index + 1),
                training_units(cycle.balance_fen),
            );
            values.set(
                format!("PAY_AMT{}", index + 1),
                training_units(cycle.repaid_fen),
            );
        }
        values.set("LIMIT_BAL", training_units(self.credit_limit_fen));
        if let Some(age) = self.age_years {
            values.set("AGE", f64::from(age));
        }
        values.set("TENURE_MONTHS", f64::from(self.tenure_months));
        values.set("PRIOR_DEFAULTS", f64::from(self.prior_defaults));
        if let Some(score) = self.external_score {
            values.set("EXTERNAL_SCORE", f64::from(score));
        }
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_map_onto_the_training_columns_latest_first() {
        let history = RepaymentHistory {
            cycles: vec![
                Cycle {
                    balance_fen: 10_000,
                    repaid_fen: 0,
                    status: CycleStatus::delayed_by_days(31),
                },
                Cycle {
                    balance_fen: 10_000,
                    repaid_fen: 5_000,
                    status: CycleStatus::Revolving,
                },
            ],
            credit_limit_fen: 500_000,
            age_years: Some(40),
            tenure_months: 2,
            prior_defaults: 0,
            external_score: None,
        };
        let values = history.feature_values();
        assert_eq!(values.get("PAY_0"), 2.0);
        assert_eq!(values.get("PAY_2"), 0.0);
        assert!(
            values.get("PAY_3").is_nan(),
            "a cycle the patient did not have is missing"
        );
        assert!((values.get("BILL_AMT1") - 440.0).abs() < 1e-9);
        assert!((values.get("PAY_AMT2") - 220.0).abs() < 1e-9);
        assert!((values.get("LIMIT_BAL") - 22_000.0).abs() < 1e-9);
        assert_eq!(values.get("AGE"), 40.0);
        assert!(values.get("EXTERNAL_SCORE").is_nan());
    }

    #[test]
    fn delay_counts_started_months_up_to_nine() {
        assert_eq!(CycleStatus::delayed_by_days(1).code(), 1.0);
        assert_eq!(CycleStatus::delayed_by_days(30).code(), 1.0);
        assert_eq!(CycleStatus::delayed_by_days(31).code(), 2.0);
        assert_eq!(CycleStatus::delayed_by_days(10_000).code(), 9.0);
        assert_eq!(CycleStatus::NothingToPay.code(), -2.0);
        assert_eq!(CycleStatus::PaidInFull.code(), -1.0);
    }
}
