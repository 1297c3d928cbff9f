//! Charge lines and how each one splits into full self-pay, over-limit, pre-self-pay and
//! in-scope parts (DESIGN.md, "Insurance settlement", per line item).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use crate::money::{Money, Ratio};

/// The largest quantity on one line (units, millilitres, days, ...).
pub const QUANTITY_MAX: u64 = 1_000_000;
/// Quantities are exact to 0.0001 of a unit.
pub const QUANTITY_SCALE_MAX: u32 = 4;
/// The longest charge code, in characters.
pub const CODE_LENGTH_MAX: usize = 64;
/// The longest charge description, in characters.
pub const DESCRIPTION_LENGTH_MAX: usize = 256;

/// Why a value is not a valid quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("quantity must be a decimal string such as \"2\" or \"0.5\"")]
    Malformed,
    #[error("quantity must be greater than zero")]
    NotPositive,
    #[error("quantity must have at most {QUANTITY_SCALE_MAX} decimals")]
    TooManyDecimals,
    #[error("quantity exceeds the maximum of {QUANTITY_MAX}")]
    AboveMaximum,
}

/// A positive exact quantity with at most four decimals, at most [`QUANTITY_MAX`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(Decimal);

impl Quantity {
    /// # Errors
    /// Zero or negative values, more than [`QUANTITY_SCALE_MAX`] decimals, above the maximum.
    pub fn new(value: Decimal) -> Result<Quantity, QuantityError> {
        if value <= Decimal::ZERO {
            return Err(QuantityError::NotPositive);
        }
        if value > Decimal::from(QUANTITY_MAX) {
            return Err(QuantityError::AboveMaximum);
        }
        let value = value.normalize();
        if value.scale() > QUANTITY_SCALE_MAX {
            return Err(QuantityError::TooManyDecimals);
        }
        Ok(Quantity(value))
    }

    /// A whole number of units (test fixtures, constants).
    ///
    /// # Errors
    /// Zero or above the maximum.
    pub fn units(units: u64) -> Result<Quantity, QuantityError> {
        Quantity::new(Decimal::from(units))
    }

    pub fn value(self) -> Decimal {
        self.0
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;

    /// Strict wire form: digits, optionally `.` and one to four digits. No sign, no exponent.
    fn from_str(text: &str) -> Result<Quantity, QuantityError> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits_only = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
        let fraction_present = text.contains('.');
        if whole.is_empty() || !digits_only(whole) || !digits_only(fraction) {
            return Err(QuantityError::Malformed);
        }
        if fraction_present && fraction.is_empty() {
            return Err(QuantityError::Malformed);
        }
        if fraction.len() > QUANTITY_SCALE_MAX as usize {
            return Err(QuantityError::TooManyDecimals);
        }
        // Decimal holds 28 digits; anything with more whole digits is far above the maximum.
        if whole.trim_start_matches('0').len() > 20 {
            return Err(QuantityError::AboveMaximum);
        }
        let value = Decimal::from_str_exact(text).map_err(|_| QuantityError::Malformed)?;
        Quantity::new(value)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.0)
    }
}

impl fmt::Debug for Quantity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Quantity({self})")
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Quantity, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Quantity::from_str(&text).map_err(de::Error::custom)
    }
}

/// The catalogue category of a charge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Category {
    /// 甲类: fully in the catalogue, no pre-self-pay.
    A,
    /// 乙类: in the catalogue with a pre-self-pay ratio.
    B,
    /// 丙类: outside the catalogue, all full self-pay.
    C,
}

/// One charge item as the hospital posts it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChargeLine {
    pub code: String,
    pub description: String,
    pub category: Category,
    pub quantity: Quantity,
    pub unit_price: Money,
    /// Category B only: this line's pre-self-pay ratio; `None` takes the plan default.
    pub self_pay_ratio: Option<Ratio>,
    /// The most the scheme recognises per unit; the excess is over-limit.
    pub price_cap: Option<Money>,
}

/// Why a charge line cannot be settled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    #[error("code must not be empty")]
    CodeEmpty,
    #[error("code must be at most {CODE_LENGTH_MAX} characters")]
    CodeTooLong,
    #[error("description must be at most {DESCRIPTION_LENGTH_MAX} characters")]
    DescriptionTooLong,
    #[error("self_pay_ratio must be absent or zero on a category A line")]
    SelfPayRatioOnCategoryA,
    #[error("quantity × unit_price exceeds the maximum amount of {}", Money::MAX)]
    AmountOverflow,
}

/// How one line's amount splits. The parts sum exactly to `amount`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineSplit {
    /// A = round(quantity × unit_price).
    pub amount: Money,
    pub full_self_pay: Money,
    pub over_limit: Money,
    pub pre_self_pay: Money,
    pub in_scope: Money,
    /// The pre-self-pay ratio applied (0 for categories A and C).
    pub self_pay_ratio: Ratio,
}

impl ChargeLine {
    /// Checks the line on its own, in order: code, description, category A ratio, amount.
    /// The charge route calls it when a line is posted, so settlement never meets a bad line.
    ///
    /// # Errors
    /// The first [`LineError`] found.
    pub fn validate(&self) -> Result<(), LineError> {
        if self.code.is_empty() {
            return Err(LineError::CodeEmpty);
        }
        if self.code.chars().count() > CODE_LENGTH_MAX {
            return Err(LineError::CodeTooLong);
        }
        if self.description.chars().count() > DESCRIPTION_LENGTH_MAX {
            return Err(LineError::DescriptionTooLong);
        }
        let ratio_on_a = self
            .self_pay_ratio
            .is_some_and(|ratio| ratio != Ratio::ZERO);
        if self.category == Category::A && ratio_on_a {
            return Err(LineError::SelfPayRatioOnCategoryA);
        }
        self.amount().map(|_| ())
    }

    /// A = quantity × unit_price, rounded half away from zero to 0.01.
    ///
    /// # Errors
    /// [`LineError::AmountOverflow`] above [`Money::MAX`].
    pub fn amount(&self) -> Result<Money, LineError> {
        round_product(self.quantity, self.unit_price).ok_or(LineError::AmountOverflow)
    }

    /// Splits the line (DESIGN.md): C is all full self-pay; for A and B, over-limit is
    /// round((unit_price − price_cap) × quantity) when above the cap, pre-self-pay is
    /// round((A − over-limit) × s), in-scope is the rest.
    ///
    /// # Errors
    /// The line is not valid ([`ChargeLine::validate`]).
    pub fn split(&self, default_self_pay_ratio: Ratio) -> Result<LineSplit, LineError> {
        self.validate()?;
        let amount = self.amount()?;
        let split = match self.category {
            Category::C => LineSplit {
                amount,
                full_self_pay: amount,
                over_limit: Money::ZERO,
                pre_self_pay: Money::ZERO,
                in_scope: Money::ZERO,
                self_pay_ratio: Ratio::ZERO,
            },
            Category::A => self.split_catalogued(amount, Ratio::ZERO),
            Category::B => {
                let ratio = self.self_pay_ratio.unwrap_or(default_self_pay_ratio);
                self.split_catalogued(amount, ratio)
            }
        };
        assert_eq!(
            split.parts_sum(),
            Some(amount),
            "line parts sum to the amount"
        );
        Ok(split)
    }

    fn split_catalogued(&self, amount: Money, self_pay_ratio: Ratio) -> LineSplit {
        let over_limit = self.over_limit();
        // round((u − c) × q) <= round(u × q) because rounding is monotone.
        let recognised = amount
            .checked_sub(over_limit)
            .expect("over-limit is at most the line amount");
        let pre_self_pay = recognised.mul_ratio(self_pay_ratio);
        let in_scope = recognised
            .checked_sub(pre_self_pay)
            .expect("a ratio of at most 1 keeps pre-self-pay within the amount");
        LineSplit {
            amount,
            full_self_pay: Money::ZERO,
            over_limit,
            pre_self_pay,
            in_scope,
            self_pay_ratio,
        }
    }

    fn over_limit(&self) -> Money {
        let Some(price_cap) = self.price_cap else {
            return Money::ZERO;
        };
        let excess_per_unit = self.unit_price.saturating_sub(price_cap);
        // Never above the line amount, which validate() found within the maximum.
        round_product(self.quantity, excess_per_unit).expect("over-limit within the maximum")
    }
}

impl LineSplit {
    /// full self-pay + over-limit + pre-self-pay + in-scope, `None` on overflow.
    pub fn parts_sum(&self) -> Option<Money> {
        Money::checked_sum([
            self.full_self_pay,
            self.over_limit,
            self.pre_self_pay,
            self.in_scope,
        ])
    }
}

/// quantity × price rounded half away from zero to 0.01, `None` above [`Money::MAX`].
fn round_product(quantity: Quantity, price: Money) -> Option<Money> {
    let product = quantity.value().checked_mul(price.to_decimal())?;
    // A product within the maximum rounds to at most the maximum (it has two decimals).
    if product > Money::MAX.to_decimal() {
        return None;
    }
    Some(Money::round_decimal(product))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str) -> Money {
        text.parse().unwrap()
    }

    fn line(category: Category, quantity: &str, unit_price: &str) -> ChargeLine {
        ChargeLine {
            code: "X1".to_owned(),
            description: "挂号费".to_owned(),
            category,
            quantity: quantity.parse().unwrap(),
            unit_price: money(unit_price),
            self_pay_ratio: None,
            price_cap: None,
        }
    }

    #[test]
    fn parses_quantities_strictly() {
        let cases: &[(&str, Result<&str, QuantityError>)] = &[
            ("2", Ok("2")),
            ("0.5", Ok("0.5")),
            ("2.50", Ok("2.5")),
            ("0.0001", Ok("0.0001")),
            ("1000000", Ok("1000000")),
            ("1000000.0000", Ok("1000000")),
            ("0", Err(QuantityError::NotPositive)),
            ("0.0000", Err(QuantityError::NotPositive)),
            ("0.00001", Err(QuantityError::TooManyDecimals)),
            ("1000000.0001", Err(QuantityError::AboveMaximum)),
            (
                "99999999999999999999999999999999",
                Err(QuantityError::AboveMaximum),
            ),
            ("-1", Err(QuantityError::Malformed)),
            ("+1", Err(QuantityError::Malformed)),
            ("1e3", Err(QuantityError::Malformed)),
            ("", Err(QuantityError::Malformed)),
            (".5", Err(QuantityError::Malformed)),
            ("5.", Err(QuantityError::Malformed)),
            ("1.2.3", Err(QuantityError::Malformed)),
            (" 1", Err(QuantityError::Malformed)),
        ];
        for (text, expected) in cases {
            let parsed = text
                .parse::<Quantity>()
                .map(|quantity| quantity.to_string());
            let expected = expected.clone().map(str::to_owned);
            assert_eq!(parsed, expected, "parsing {text:?}");
        }
    }

    #[test]
    fn lines_parse_from_the_api_shape() {
        let json = r#"{"code": "310100001", "description": "血常规", "category": "B",
            "quantity": "2", "unit_price": "45.00", "self_pay_ratio": "0.10",
            "price_cap": "200.00"}"#;
        let parsed: ChargeLine = serde_json::from_str(json).unwrap();
        assert_eq!(parsed.category, Category::B);
        assert_eq!(parsed.quantity, Quantity::units(2).unwrap());
        assert_eq!(parsed.self_pay_ratio, Some("0.1".parse().unwrap()));
        let minimal = r#"{"code": "X", "description": "", "category": "C",
            "quantity": "0.5", "unit_price": "1.00"}"#;
        let parsed: ChargeLine = serde_json::from_str(minimal).unwrap();
        assert_eq!((parsed.self_pay_ratio, parsed.price_cap), (None, None));
        assert_eq!(serde_json::to_value(parsed.quantity).unwrap(), "0.5");
        for bad in [
            json.replace(r#""category": "B""#, r#""category": "D""#),
            json.replace(r#""quantity": "2""#, r#""quantity": 2"#),
            json.replace(r#""quantity": "2""#, r#""quantity": "0""#),
            json.replace(r#""price_cap""#, r#""discount": "1", "price_cap""#),
        ] {
            assert!(serde_json::from_str::<ChargeLine>(&bad).is_err(), "{bad}");
        }
    }

    /// (category, quantity, unit price, line ratio, price cap, default ratio) ->
    /// (amount, full self-pay, over-limit, pre-self-pay, in-scope).
    type SplitCase = (
        Category,
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        &'static str,
        [&'static str; 5],
    );

    #[test]
    fn splits_lines() {
        use Category::{A, B, C};
        let cases: &[SplitCase] = &[
            (
                A,
                "3",
                "30.00",
                None,
                None,
                "0.1",
                ["90.00", "0", "0", "0", "90.00"],
            ),
            (
                B,
                "1",
                "250.00",
                Some("0.15"),
                None,
                "0.1",
                ["250.00", "0", "0", "37.50", "212.50"],
            ),
            (
                B,
                "1",
                "250.00",
                None,
                None,
                "0.1",
                ["250.00", "0", "0", "25.00", "225.00"],
            ),
            (
                C,
                "1",
                "40.00",
                Some("0.5"),
                Some("10"),
                "0.1",
                ["40.00", "40.00", "0", "0", "0"],
            ),
            (
                A,
                "2",
                "120.00",
                None,
                Some("100.00"),
                "0.1",
                ["240.00", "0", "40.00", "0", "200.00"],
            ),
            (
                A,
                "2",
                "80.00",
                None,
                Some("100.00"),
                "0.1",
                ["160.00", "0", "0", "0", "160.00"],
            ),
            (
                B,
                "1",
                "250.00",
                Some("0.1"),
                Some("200.00"),
                "0.3",
                ["250.00", "0", "50.00", "20.00", "180.00"],
            ),
            (
                A,
                "1",
                "50.00",
                None,
                Some("0"),
                "0.1",
                ["50.00", "0", "50.00", "0", "0"],
            ),
            (A, "1", "0.00", None, None, "0.1", ["0", "0", "0", "0", "0"]),
            (
                B,
                "4",
                "0.00",
                Some("0.2"),
                Some("1.00"),
                "0.1",
                ["0", "0", "0", "0", "0"],
            ),
            (
                A,
                "1",
                "10.00",
                Some("0"),
                None,
                "0.1",
                ["10.00", "0", "0", "0", "10.00"],
            ),
            // Rounding at .005, half away from zero.
            (
                A,
                "0.5",
                "0.01",
                None,
                None,
                "0",
                ["0.01", "0", "0", "0", "0.01"],
            ),
            (
                A,
                "0.5",
                "1.01",
                None,
                None,
                "0",
                ["0.51", "0", "0", "0", "0.51"],
            ),
            (
                A,
                "0.5",
                "10.01",
                None,
                Some("10.00"),
                "0",
                ["5.01", "0", "0.01", "0", "5.00"],
            ),
            (
                B,
                "1",
                "0.25",
                Some("0.1"),
                None,
                "0",
                ["0.25", "0", "0", "0.03", "0.22"],
            ),
            (
                B,
                "1",
                "0.24",
                Some("0.1"),
                None,
                "0",
                ["0.24", "0", "0", "0.02", "0.22"],
            ),
            (
                A,
                "0.3333",
                "0.03",
                None,
                None,
                "0",
                ["0.01", "0", "0", "0", "0.01"],
            ),
            (
                A,
                "0.1666",
                "0.03",
                None,
                None,
                "0",
                ["0.00", "0", "0", "0", "0.00"],
            ),
        ];
        for &(category, quantity, unit_price, ratio, cap, default_ratio, expected) in cases {
            let mut charge = line(category, quantity, unit_price);
            charge.self_pay_ratio = ratio.map(|ratio| ratio.parse().unwrap());
            charge.price_cap = cap.map(money);
            let split = charge.split(default_ratio.parse().unwrap()).unwrap();
            let actual = [
                split.amount,
                split.full_self_pay,
                split.over_limit,
                split.pre_self_pay,
                split.in_scope,
            ];
            assert_eq!(actual, expected.map(money), "{charge:?}");
        }
    }

    #[test]
    fn rejects_bad_lines_in_order() {
        let mut empty_code = line(Category::A, "1", "1.00");
        empty_code.code.clear();
        empty_code.description = "x".repeat(DESCRIPTION_LENGTH_MAX + 1);
        let mut long_code = line(Category::A, "1", "1.00");
        long_code.code = "x".repeat(CODE_LENGTH_MAX + 1);
        let mut long_description = line(Category::A, "1", "1.00");
        long_description.description = "药".repeat(DESCRIPTION_LENGTH_MAX + 1);
        let mut ratio_on_a = line(Category::A, "1", "1.00");
        ratio_on_a.self_pay_ratio = Some("0.1".parse().unwrap());
        let overflow = line(Category::B, "1000000", "10000000000000.00");
        let cases = [
            (empty_code, LineError::CodeEmpty),
            (long_code, LineError::CodeTooLong),
            (long_description, LineError::DescriptionTooLong),
            (ratio_on_a, LineError::SelfPayRatioOnCategoryA),
            (overflow, LineError::AmountOverflow),
        ];
        for (charge, expected) in cases {
            assert_eq!(charge.split(Ratio::ZERO), Err(expected));
        }
        let mut longest = line(Category::C, "1000000", "10000000.00");
        longest.code = "x".repeat(CODE_LENGTH_MAX);
        longest.description = "药".repeat(DESCRIPTION_LENGTH_MAX);
        assert_eq!(longest.validate(), Ok(()));
        assert_eq!(longest.amount(), Ok(Money::MAX));
    }
}
