//! Finance reports: pure functions of the scheme's state (and, for the allowance
//! roll-forward, of its journal). Nothing here writes, reads a clock or uses a float.
//!
//! - [`aging`]: what is owed by days past due (current, 1-7, 8-30, 31-60, 61-90, 91+), in
//!   total and by hospital, as of any instant (payments and refunds after it are undone).
//! - [`defaults`]: default rates of the credit extended in a date range (by amount, by count,
//!   by patient, gross and net of recoveries, by hospital) and vintage curves per cohort
//!   month; the definitions used are part of the output ([`DEFAULT_DEFINITION`]).
//! - [`provision`]: expected credit loss per aging bucket from a loss-rate matrix, given or
//!   derived from the ledger's history ([`derived_loss_rates`]).
//! - [`write_offs`]: the write-off register.
//! - [`allowance_roll_forward`]: opening + charge − releases − write-offs + recoveries =
//!   closing, from the journal's movements on `scheme:allowance`, asserted.
//! - [`headline`]: patients enrolled, credit extended, repaid, defaulted, default rate per
//!   100,000.
//!
//! Money is [`Money`] (exact fen). Rates are exact decimals rounded once, half away from zero,
//! to [`RATE_DECIMALS`] places ([`Rate`]); an allowance is rounded once per bucket to 0.01
//! ([`Money::mul_ratio`]).
//!
//! # Example
//! ```
//! use treatfirst_ledger::reports;
//! use treatfirst_ledger::scheme::Scheme;
//! use treatfirst_ledger::Timestamp;
//!
//! let scheme = Scheme::default();
//! let aging = reports::aging(&scheme, Timestamp::from_seconds(1_772_416_800));
//! assert_eq!(aging.total.to_string(), "0.00");
//! assert_eq!(aging.buckets.len(), 6);
//! ```

mod aging;
mod allowance;
mod defaults;
mod headline;
mod position;
mod provision;

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

pub use aging::{aging, AgingBucket, AgingReport, HospitalAging};
pub use allowance::{allowance_roll_forward, AllowanceRollForward};
pub use defaults::{
    defaults, DefaultFigures, DefaultReport, HospitalDefaults, VintageCurve, VintagePoint,
    DEFAULT_DEFINITION,
};
pub use headline::{headline, Headline};
pub use provision::{
    derived_loss_rates, provision, write_offs, LossRates, ProvisionBucket, ProvisionReport,
    RateSource, WriteOff, WriteOffRegister,
};

use crate::Money;

/// Decimal places of every rate in a report.
pub const RATE_DECIMALS: u32 = 6;
/// The rounding of every rate: half away from zero.
pub const RATE_ROUNDING: RoundingStrategy = RoundingStrategy::MidpointAwayFromZero;

/// The aging buckets, by days past due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Bucket {
    #[serde(rename = "current")]
    Current,
    #[serde(rename = "1-7")]
    Days1To7,
    #[serde(rename = "8-30")]
    Days8To30,
    #[serde(rename = "31-60")]
    Days31To60,
    #[serde(rename = "61-90")]
    Days61To90,
    #[serde(rename = "91+")]
    Days91Plus,
}

impl Bucket {
    pub const ALL: [Bucket; 6] = [
        Bucket::Current,
        Bucket::Days1To7,
        Bucket::Days8To30,
        Bucket::Days31To60,
        Bucket::Days61To90,
        Bucket::Days91Plus,
    ];

    /// The bucket of a visit `days_past_due` days past due (0: not yet due).
    pub const fn of(days_past_due: u64) -> Bucket {
        match days_past_due {
            0 => Bucket::Current,
            1..=7 => Bucket::Days1To7,
            8..=30 => Bucket::Days8To30,
            31..=60 => Bucket::Days31To60,
            61..=90 => Bucket::Days61To90,
            _ => Bucket::Days91Plus,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Bucket::Current => "current",
            Bucket::Days1To7 => "1-7",
            Bucket::Days8To30 => "8-30",
            Bucket::Days31To60 => "31-60",
            Bucket::Days61To90 => "61-90",
            Bucket::Days91Plus => "91+",
        }
    }

    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Bucket {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for Bucket {
    type Err = String;

    fn from_str(text: &str) -> Result<Bucket, String> {
        Bucket::ALL
            .into_iter()
            .find(|bucket| bucket.as_str() == text)
            .ok_or_else(|| {
                format!("unknown aging bucket {text:?} (current, 1-7, 8-30, 31-60, 61-90, 91+)")
            })
    }
}

/// An exact rate: a quotient of two amounts or counts, rounded once to [`RATE_DECIMALS`]
/// places half away from zero. Serialized as a decimal string (`"0.012500"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(Decimal);

impl Rate {
    pub const ZERO: Rate = Rate(Decimal::ZERO);

    /// `numerator / denominator` (zero when the denominator is zero).
    pub fn of(numerator: u64, denominator: u64) -> Rate {
        Rate::scaled(numerator, denominator, 1, RATE_DECIMALS)
    }

    /// `numerator / denominator × 100,000`, rounded to 2 places half away from zero: the
    /// scheme's headline unit ("1.25 per 100,000").
    pub fn per_100_000(numerator: u64, denominator: u64) -> Rate {
        Rate::scaled(numerator, denominator, 100_000, 2)
    }

    fn scaled(numerator: u64, denominator: u64, scale: u64, decimals: u32) -> Rate {
        if denominator == 0 {
            return Rate::ZERO.with_decimals(decimals);
        }
        let value = Decimal::from(numerator) * Decimal::from(scale) / Decimal::from(denominator);
        Rate(value.round_dp_with_strategy(decimals, RATE_ROUNDING)).with_decimals(decimals)
    }

    fn with_decimals(self, decimals: u32) -> Rate {
        let mut value = self.0;
        value.rescale(decimals);
        Rate(value)
    }

    pub fn value(self) -> Decimal {
        self.0
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.0)
    }
}

impl Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// The first instant of a local date (the scheme's time zone, UTC+8): report periods given
/// as dates run from the start of `from` to the start of the day after `to`.
pub fn start_of_local_day(date: chrono::NaiveDate) -> crate::Timestamp {
    let offset = chrono::FixedOffset::east_opt(crate::scheme::PLAN_YEAR_UTC_OFFSET_SECONDS)
        .expect("a valid offset");
    let local = date
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_local_timezone(offset)
        .single()
        .expect("a fixed offset is unambiguous");
    crate::Timestamp::from_datetime(local.with_timezone(&chrono::Utc))
}

/// Sums amounts that are parts of a bounded whole.
pub(crate) fn add(left: Money, right: Money) -> Money {
    left.checked_add(right)
        .expect("report sums stay within the maximum")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_days_past_due() {
        let cases = [
            (0, Bucket::Current),
            (1, Bucket::Days1To7),
            (7, Bucket::Days1To7),
            (8, Bucket::Days8To30),
            (30, Bucket::Days8To30),
            (31, Bucket::Days31To60),
            (60, Bucket::Days31To60),
            (61, Bucket::Days61To90),
            (90, Bucket::Days61To90),
            (91, Bucket::Days91Plus),
            (10_000, Bucket::Days91Plus),
        ];
        for (days, bucket) in cases {
            assert_eq!(Bucket::of(days), bucket, "{days} days");
            assert_eq!(bucket.as_str().parse::<Bucket>(), Ok(bucket));
        }
    }

    #[test]
    fn rates_round_once_half_away_from_zero() {
        assert_eq!(Rate::of(1, 3).to_string(), "0.333333");
        assert_eq!(Rate::of(2, 3).to_string(), "0.666667");
        assert_eq!(Rate::of(1, 8).to_string(), "0.125000");
        assert_eq!(Rate::of(1, 0).to_string(), "0.000000");
        assert_eq!(Rate::of(1, 2_000_000).to_string(), "0.000001");
        assert_eq!(Rate::per_100_000(1, 3).to_string(), "33333.33");
        assert_eq!(Rate::per_100_000(5, 1_000_000).to_string(), "0.50");
        assert_eq!(Rate::per_100_000(0, 0).to_string(), "0.00");
    }

    #[test]
    fn local_days_start_at_midnight_china_time() {
        let start = start_of_local_day("2026-03-02".parse().unwrap());
        assert_eq!(start.to_string(), "2026-03-01T16:00:00Z");
        assert_eq!(crate::scheme::local_date(start).to_string(), "2026-03-02");
        assert_eq!(
            crate::scheme::local_date(start.plus_seconds(-1)).to_string(),
            "2026-03-01"
        );
    }
}
