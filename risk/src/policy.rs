//! The credit-limit policy: band -> recommended outpatient and inpatient credit limits.
//!
//! Limits are whole yuan (integers, never floats); [`CreditLimit::outpatient_decimal`] and
//! [`CreditLimit::inpatient_decimal`] give the two-decimal strings the ledger's `Money`
//! parses. The standard policy:
//!
//! | band | outpatient (yuan) | inpatient (yuan) |
//! |------|-------------------|------------------|
//! | A    | 5000              | 50000            |
//! | B    | 3000              | 30000            |
//! | C    | 2000              | 10000            |
//! | D    | 1000              | 3000             |
//! | E    | 0 (decline)       | 0 (decline)      |
//!
//! Rules, in order: after any default (a recorded prior default of the patient) the limits of
//! the next riskier band apply (E stays E); every limit is then capped at the policy caps
//! (5000 outpatient, 50000 inpatient).

use serde::{Deserialize, Serialize};

use crate::model::Band;

/// Largest limit any policy may grant, in yuan.
pub const CREDIT_LIMIT_YUAN_MAX: u64 = 1_000_000;

/// Recommended credit limits in whole yuan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditLimit {
    pub outpatient_yuan: u64,
    pub inpatient_yuan: u64,
}

impl CreditLimit {
    pub const ZERO: CreditLimit = CreditLimit {
        outpatient_yuan: 0,
        inpatient_yuan: 0,
    };

    /// The outpatient limit as a decimal string with two decimals, e.g. `"5000.00"`.
    pub fn outpatient_decimal(&self) -> String {
        format!("{}.00", self.outpatient_yuan)
    }

    /// The inpatient limit as a decimal string with two decimals, e.g. `"50000.00"`.
    pub fn inpatient_decimal(&self) -> String {
        format!("{}.00", self.inpatient_yuan)
    }

    fn capped(self, cap: CreditLimit) -> CreditLimit {
        CreditLimit {
            outpatient_yuan: self.outpatient_yuan.min(cap.outpatient_yuan),
            inpatient_yuan: self.inpatient_yuan.min(cap.inpatient_yuan),
        }
    }

    fn at_most(self, other: CreditLimit) -> bool {
        self.outpatient_yuan <= other.outpatient_yuan && self.inpatient_yuan <= other.inpatient_yuan
    }
}

/// Whether the patient has defaulted before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultHistory {
    NoDefault,
    AnyDefault,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    #[error("a limit exceeds the largest allowed, {CREDIT_LIMIT_YUAN_MAX} yuan")]
    LimitTooLarge,
    #[error("limits must not grow from a safer band to a riskier one")]
    LimitsNotDecreasing,
}

/// A table of limits per band plus caps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditPolicy {
    /// Limits for bands A to E, in that order.
    limits: [CreditLimit; 5],
    cap: CreditLimit,
}

impl CreditPolicy {
    /// # Errors
    /// A limit or cap above [`CREDIT_LIMIT_YUAN_MAX`], or a riskier band with a larger limit.
    pub fn new(limits: [CreditLimit; 5], cap: CreditLimit) -> Result<CreditPolicy, PolicyError> {
        let largest = CreditLimit {
            outpatient_yuan: CREDIT_LIMIT_YUAN_MAX,
            inpatient_yuan: CREDIT_LIMIT_YUAN_MAX,
        };
        if !cap.at_most(largest) || !limits.iter().all(|limit| limit.at_most(largest)) {
            return Err(PolicyError::LimitTooLarge);
        }
        if !limits.windows(2).all(|pair| pair[1].at_most(pair[0])) {
            return Err(PolicyError::LimitsNotDecreasing);
        }
        Ok(CreditPolicy { limits, cap })
    }

    /// The documented standard policy (module documentation).
    pub fn standard() -> CreditPolicy {
        let limit = |outpatient_yuan, inpatient_yuan| CreditLimit {
            outpatient_yuan,
            inpatient_yuan,
        };
        CreditPolicy::new(
            [
                limit(5000, 50000),
                limit(3000, 30000),
                limit(2000, 10000),
                limit(1000, 3000),
                CreditLimit::ZERO,
            ],
            limit(5000, 50000),
        )
        .expect("the standard policy is valid")
    }

    fn limit_of(&self, band: Band) -> CreditLimit {
        let index = Band::ALL
            .iter()
            .position(|candidate| *candidate == band)
            .expect("every band is listed");
        self.limits[index]
    }

    /// The recommended limits for a band and a default history.
    pub fn recommend(&self, band: Band, history: DefaultHistory) -> CreditLimit {
        let band = match history {
            DefaultHistory::NoDefault => band,
            DefaultHistory::AnyDefault => band.lower(),
        };
        let limit = self.limit_of(band).capped(self.cap);
        debug_assert!(limit.at_most(self.cap));
        limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_table_default_lowering_and_decimal_strings() {
        let policy = CreditPolicy::standard();
        let a = policy.recommend(Band::A, DefaultHistory::NoDefault);
        assert_eq!(a.outpatient_decimal(), "5000.00");
        assert_eq!(a.inpatient_decimal(), "50000.00");
        let cases = [
            (Band::A, DefaultHistory::AnyDefault, 3000, 30000),
            (Band::C, DefaultHistory::NoDefault, 2000, 10000),
            (Band::D, DefaultHistory::AnyDefault, 0, 0),
            (Band::E, DefaultHistory::NoDefault, 0, 0),
            (Band::E, DefaultHistory::AnyDefault, 0, 0),
        ];
        for (band, history, outpatient_yuan, inpatient_yuan) in cases {
            let expected = CreditLimit {
                outpatient_yuan,
                inpatient_yuan,
            };
            assert_eq!(
                policy.recommend(band, history),
                expected,
                "{band} {history:?}"
            );
        }
    }

    #[test]
    fn caps_apply_and_bad_tables_are_refused() {
        let limit = |outpatient_yuan, inpatient_yuan| CreditLimit {
            outpatient_yuan,
            inpatient_yuan,
        };
        let policy = CreditPolicy::new([limit(9000, 90000); 5], limit(4000, 40000)).unwrap();
        assert_eq!(
            policy.recommend(Band::A, DefaultHistory::NoDefault),
            limit(4000, 40000)
        );
        let growing = [
            limit(1, 1),
            limit(2, 2),
            limit(2, 2),
            limit(2, 2),
            limit(2, 2),
        ];
        assert_eq!(
            CreditPolicy::new(growing, limit(9, 9)),
            Err(PolicyError::LimitsNotDecreasing)
        );
        let huge = [limit(CREDIT_LIMIT_YUAN_MAX + 1, 0); 5];
        assert_eq!(
            CreditPolicy::new(huge, limit(9, 9)),
            Err(PolicyError::LimitTooLarge)
        );
    }
}
