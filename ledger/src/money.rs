//! Exact money: CNY with two decimals (fen), never negative, never a float.
//!
//! A `Money` is a whole number of fen held in a `u64`, bounded by [`Money::MAX`]. Direction
//! never comes from a sign: it comes from debit and credit. Arithmetic is checked; the only
//! rounding is [`Money::mul_ratio`], which names its strategy (half away from zero to 0.01).

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Why a value is not a valid amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount must be a decimal string such as \"120.50\"")]
    Malformed,
    #[error("amount must not be negative")]
    Negative,
    #[error("amount must have at most 2 decimals")]
    TooManyDecimals,
    #[error("amount exceeds the maximum of {}", Money::MAX)]
    AboveMaximum,
}

/// A non-negative amount of CNY, exact to the fen (0.01).
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(u64);

/// Fen per yuan.
const FEN_PER_YUAN: u64 = 100;

impl Money {
    pub const ZERO: Money = Money(0);
    /// The largest amount any single value (an amount or a balance) may hold:
    /// 10,000,000,000,000.00 yuan. Balances are bounded by it too, so sums of two
    /// values never overflow a `u64`.
    pub const MAX: Money = Money(1_000_000_000_000_000);

    /// An amount from whole fen.
    ///
    /// # Errors
    /// [`MoneyError::AboveMaximum`] above [`Money::MAX`].
    pub const fn from_fen(fen: u64) -> Result<Money, MoneyError> {
        if fen > Money::MAX.0 {
            return Err(MoneyError::AboveMaximum);
        }
        Ok(Money(fen))
    }

    /// An amount from whole yuan (test fixtures, constants).
    ///
    /// # Panics
    /// When above the maximum.
    pub const fn yuan(yuan: u64) -> Money {
        assert!(yuan <= Money::MAX.0 / FEN_PER_YUAN);
        Money(yuan * FEN_PER_YUAN)
    }

    pub const fn fen(self) -> u64 {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// An exact decimal with scale 2.
    ///
    /// # Errors
    /// Negative values, more than two significant decimals, above the maximum.
    pub fn from_decimal(value: Decimal) -> Result<Money, MoneyError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(MoneyError::Negative);
        }
        let normalized = value.normalize();
        if normalized.scale() > 2 {
            return Err(MoneyError::TooManyDecimals);
        }
        let fen = normalized
            .checked_mul(Decimal::from(FEN_PER_YUAN))
            .ok_or(MoneyError::AboveMaximum)?;
        let fen: u64 = u64::try_from(fen).map_err(|_| MoneyError::AboveMaximum)?;
        Money::from_fen(fen)
    }

    /// The value as a decimal with scale 2 (`120.50`).
    pub fn to_decimal(self) -> Decimal {
        Decimal::from_i128_with_scale(i128::from(self.0), 2)
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        let sum = self.0.checked_add(other.0)?;
        Money::from_fen(sum).ok()
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// `self - other`, or zero when `other` is larger.
    pub fn saturating_sub(self, other: Money) -> Money {
        Money(self.0.saturating_sub(other.0))
    }

    /// `self × ratio`, rounded half away from zero to 0.01.
    pub fn mul_ratio(self, ratio: Ratio) -> Money {
        Money::round_decimal(self.to_decimal() * ratio.0)
    }

    /// Rounds a non-negative decimal half away from zero to 0.01, the one rounding rule of
    /// the ledger.
    ///
    /// # Panics
    /// When the value is negative or above the maximum: callers only round products of
    /// bounded non-negative values.
    pub fn round_decimal(value: Decimal) -> Money {
        assert!(
            !value.is_sign_negative() || value.is_zero(),
            "rounding a negative amount"
        );
        let rounded = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        Money::from_decimal(rounded).expect("rounded amount within the maximum")
    }

    /// Sums amounts, `None` on exceeding the maximum.
    pub fn checked_sum<I: IntoIterator<Item = Money>>(amounts: I) -> Option<Money> {
        amounts
            .into_iter()
            .try_fold(Money::ZERO, |total, amount| total.checked_add(amount))
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    /// Strict parsing of the wire form: digits, optionally `.` and one or two digits. No sign,
    /// no exponent, no spaces, no thousands separators.
    fn from_str(text: &str) -> Result<Money, MoneyError> {
        // Any sign is refused, "-0.00" included: the contract rejects negatives outright.
        if let Some(rest) = text.strip_prefix('-') {
            return match Money::from_str(rest) {
                Ok(_) | Err(MoneyError::AboveMaximum) => Err(MoneyError::Negative),
                Err(other) => Err(other),
            };
        }
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, fraction),
            None => (text, ""),
        };
        let digits_only = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
        if whole.is_empty() || !digits_only(whole) || !digits_only(fraction) {
            return Err(MoneyError::Malformed);
        }
        if text.contains('.') && fraction.is_empty() {
            return Err(MoneyError::Malformed);
        }
        if fraction.len() > 2 {
            return Err(MoneyError::TooManyDecimals);
        }
        // 20 digits is beyond any u64; reject early so the parse below cannot overflow.
        if whole.trim_start_matches('0').len() > 16 {
            return Err(MoneyError::AboveMaximum);
        }
        let whole: u64 = whole.parse().map_err(|_| MoneyError::Malformed)?;
        let mut fen_part: u64 = if fraction.is_empty() {
            0
        } else {
            fraction.parse().map_err(|_| MoneyError::Malformed)?
        };
        if fraction.len() == 1 {
            fen_part *= 10;
        }
        let fen = whole
            .checked_mul(FEN_PER_YUAN)
            .and_then(|fen| fen.checked_add(fen_part))
            .ok_or(MoneyError::AboveMaximum)?;
        Money::from_fen(fen)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}.{:02}",
            self.0 / FEN_PER_YUAN,
            self.0 % FEN_PER_YUAN
        )
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Money({self})")
    }
}

/// JSON carries amounts as decimal strings; binary encodings (the journal) as fen.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(self)
        } else {
            serializer.serialize_u64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        if deserializer.is_human_readable() {
            let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
            Money::from_str(&text).map_err(de::Error::custom)
        } else {
            let fen = u64::deserialize(deserializer)?;
            Money::from_fen(fen).map_err(de::Error::custom)
        }
    }
}

/// Why a value is not a valid ratio.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatioError {
    #[error("ratio must be a decimal string such as \"0.85\"")]
    Malformed,
    #[error("ratio must be between 0 and 1")]
    OutOfRange,
    #[error("ratio must have at most {} decimals", Ratio::SCALE_MAX)]
    TooManyDecimals,
}

/// A fraction between 0 and 1 inclusive, exact (`"0.85"`).
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ratio(Decimal);

impl Ratio {
    pub const ZERO: Ratio = Ratio(Decimal::ZERO);
    pub const ONE: Ratio = Ratio(Decimal::ONE);
    pub const SCALE_MAX: u32 = 6;

    /// # Errors
    /// Values outside `[0, 1]` or with more than [`Ratio::SCALE_MAX`] decimals.
    pub fn new(value: Decimal) -> Result<Ratio, RatioError> {
        if value < Decimal::ZERO || value > Decimal::ONE {
            return Err(RatioError::OutOfRange);
        }
        let value = value.normalize();
        if value.scale() > Ratio::SCALE_MAX {
            return Err(RatioError::TooManyDecimals);
        }
        Ok(Ratio(value))
    }

    pub fn value(self) -> Decimal {
        self.0
    }

    /// `1 - self`.
    pub fn complement(self) -> Ratio {
        Ratio(Decimal::ONE - self.0)
    }
}

impl FromStr for Ratio {
    type Err = RatioError;

    fn from_str(text: &str) -> Result<Ratio, RatioError> {
        let well_formed = !text.is_empty()
            && text
                .bytes()
                .all(|byte| byte.is_ascii_digit() || byte == b'.')
            && text.bytes().filter(|&byte| byte == b'.').count() <= 1
            && !text.starts_with('.')
            && !text.ends_with('.');
        if !well_formed {
            if text.starts_with('-') {
                return Err(RatioError::OutOfRange);
            }
            return Err(RatioError::Malformed);
        }
        let value = Decimal::from_str_exact(text).map_err(|_| RatioError::Malformed)?;
        Ratio::new(value)
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = if self.0.scale() < 2 {
            let mut padded = self.0;
            padded.rescale(2);
            padded
        } else {
            self.0
        };
        write!(formatter, "{value}")
    }
}

impl fmt::Debug for Ratio {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Ratio({self})")
    }
}

impl Serialize for Ratio {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ratio {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Ratio, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ratio::from_str(&text).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_wire_form_strictly() {
        let cases: &[(&str, Result<u64, MoneyError>)] = &[
            ("120.50", Ok(12050)),
            ("120.5", Ok(12050)),
            ("0", Ok(0)),
            ("0.01", Ok(1)),
            ("007.10", Ok(710)),
            ("-0.00", Err(MoneyError::Negative)),
            ("1.234", Err(MoneyError::TooManyDecimals)),
            ("-1.00", Err(MoneyError::Negative)),
            ("1e3", Err(MoneyError::Malformed)),
            ("", Err(MoneyError::Malformed)),
            (".5", Err(MoneyError::Malformed)),
            ("5.", Err(MoneyError::Malformed)),
            (" 5", Err(MoneyError::Malformed)),
            ("1,000", Err(MoneyError::Malformed)),
            ("+5", Err(MoneyError::Malformed)),
            ("10000000000000.01", Err(MoneyError::AboveMaximum)),
            ("99999999999999999999999", Err(MoneyError::AboveMaximum)),
        ];
        for (text, expected) in cases {
            let parsed = text.parse::<Money>().map(Money::fen);
            assert_eq!(&parsed, expected, "parsing {text:?}");
        }
        assert_eq!("10000000000000.00".parse::<Money>(), Ok(Money::MAX));
    }

    #[test]
    fn displays_two_decimals_and_round_trips() {
        for fen in [0, 1, 10, 99, 100, 12050, Money::MAX.fen()] {
            let money = Money::from_fen(fen).unwrap();
            assert_eq!(money.to_string().parse::<Money>(), Ok(money));
            assert_eq!(Money::from_decimal(money.to_decimal()), Ok(money));
        }
        assert_eq!(Money::from_fen(12050).unwrap().to_string(), "120.50");
    }

    #[test]
    fn rounds_half_away_from_zero() {
        let amount = Money::from_fen(1).unwrap(); // 0.01
        let half: Ratio = "0.5".parse().unwrap();
        assert_eq!(amount.mul_ratio(half), Money::from_fen(1).unwrap());
        let amount = Money::from_fen(25).unwrap(); // 0.25 × 0.1 = 0.025 -> 0.03
        assert_eq!(
            amount.mul_ratio("0.1".parse().unwrap()),
            Money::from_fen(3).unwrap()
        );
        let amount = Money::from_fen(24).unwrap(); // 0.024 -> 0.02
        assert_eq!(
            amount.mul_ratio("0.1".parse().unwrap()),
            Money::from_fen(2).unwrap()
        );
    }

    #[test]
    fn arithmetic_is_checked() {
        assert_eq!(Money::MAX.checked_add(Money::from_fen(1).unwrap()), None);
        assert_eq!(Money::ZERO.checked_sub(Money::from_fen(1).unwrap()), None);
        assert_eq!(Money::yuan(5).saturating_sub(Money::yuan(7)), Money::ZERO);
    }

    #[test]
    fn ratios_are_bounded() {
        assert!("0.85".parse::<Ratio>().is_ok());
        assert_eq!("1.01".parse::<Ratio>(), Err(RatioError::OutOfRange));
        assert_eq!("-0.1".parse::<Ratio>(), Err(RatioError::OutOfRange));
        assert_eq!("abc".parse::<Ratio>(), Err(RatioError::Malformed));
        assert_eq!(
            "0.1234567".parse::<Ratio>(),
            Err(RatioError::TooManyDecimals)
        );
        assert_eq!("0.8".parse::<Ratio>().unwrap().to_string(), "0.80");
    }

    #[test]
    fn json_uses_strings_and_binary_uses_fen() {
        let money = Money::from_fen(12050).unwrap();
        assert_eq!(serde_json::to_string(&money).unwrap(), "\"120.50\"");
        assert!(serde_json::from_str::<Money>("120.5").is_err());
        assert!(serde_json::from_str::<Money>("\"1.001\"").is_err());
        let bytes = postcard::to_stdvec(&money).unwrap();
        assert_eq!(postcard::from_bytes::<Money>(&bytes).unwrap(), money);
    }
}
