//! An insurance plan as data: the body of `PUT /v1/plans/{plan_id}` (API.md), and its
//! validation. A plan decides, per (member type, visit kind, hospital level), the deductible,
//! the fund-ratio bands and the annual cap that settlement applies.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::money::{Money, Ratio};

/// The only currency the scheme settles in.
pub const PLAN_CURRENCY: &str = "CNY";
/// The longest payment window: one year.
pub const PAYMENT_WINDOW_HOURS_MAX: u32 = 8760;
/// The shortest payment window.
pub const PAYMENT_WINDOW_HOURS_MIN: u32 = 1;
/// One rule per (member type, visit kind, hospital level) at most.
pub const RULES_PER_PLAN_MAX: usize = 18;
/// Real schemes use three or four bands; sixteen leaves room without being unbounded.
pub const BANDS_PER_RULE_MAX: usize = 16;

// Duplicate keys are rejected, so the rule limit is exactly the number of distinct keys.
const _: () = assert!(
    RULES_PER_PLAN_MAX == MemberType::ALL.len() * VisitKind::ALL.len() * HospitalLevel::ALL.len()
);
const _: () = assert!(PAYMENT_WINDOW_HOURS_MIN <= PAYMENT_WINDOW_HOURS_MAX);

/// The version of a plan a settlement used. Plans are versioned by their store: every
/// `PUT` of a plan makes a new version, and settlements record the one they applied.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct PlanVersion(pub u32);

impl fmt::Display for PlanVersion {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.0)
    }
}

/// The kind of insured person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MemberType {
    Employee,
    Retiree,
    Resident,
}

impl MemberType {
    pub const ALL: [MemberType; 3] = [
        MemberType::Employee,
        MemberType::Retiree,
        MemberType::Resident,
    ];

    /// The wire name (`employee`, `retiree`, `resident`).
    pub const fn as_str(self) -> &'static str {
        match self {
            MemberType::Employee => "employee",
            MemberType::Retiree => "retiree",
            MemberType::Resident => "resident",
        }
    }
}

impl fmt::Display for MemberType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Outpatient (门诊) or inpatient (住院) care.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VisitKind {
    Outpatient,
    Inpatient,
}

impl VisitKind {
    pub const ALL: [VisitKind; 2] = [VisitKind::Outpatient, VisitKind::Inpatient];

    /// The wire name (`outpatient`, `inpatient`).
    pub const fn as_str(self) -> &'static str {
        match self {
            VisitKind::Outpatient => "outpatient",
            VisitKind::Inpatient => "inpatient",
        }
    }
}

impl fmt::Display for VisitKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The hospital grade (一级, 二级, 三级); the wire form is the number 1, 2 or 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum HospitalLevel {
    Level1,
    Level2,
    Level3,
}

impl HospitalLevel {
    pub const ALL: [HospitalLevel; 3] = [
        HospitalLevel::Level1,
        HospitalLevel::Level2,
        HospitalLevel::Level3,
    ];

    pub const fn number(self) -> u8 {
        match self {
            HospitalLevel::Level1 => 1,
            HospitalLevel::Level2 => 2,
            HospitalLevel::Level3 => 3,
        }
    }
}

/// A hospital level outside 1, 2, 3.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("hospital_level must be 1, 2 or 3, not {0}")]
pub struct HospitalLevelError(pub u8);

impl TryFrom<u8> for HospitalLevel {
    type Error = HospitalLevelError;

    fn try_from(number: u8) -> Result<HospitalLevel, HospitalLevelError> {
        match number {
            1 => Ok(HospitalLevel::Level1),
            2 => Ok(HospitalLevel::Level2),
            3 => Ok(HospitalLevel::Level3),
            other => Err(HospitalLevelError(other)),
        }
    }
}

impl From<HospitalLevel> for u8 {
    fn from(level: HospitalLevel) -> u8 {
        level.number()
    }
}

impl fmt::Display for HospitalLevel {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.number())
    }
}

/// How long a deductible lasts before it starts again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeductiblePeriod {
    /// Once per plan year: what earlier visits used counts.
    Year,
    /// Once per visit (typical for inpatient stays).
    Visit,
}

/// What the personal medical account (MSA) may pay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MsaScope {
    /// The whole personal share.
    All,
    /// The personal share without the full self-pay and over-limit parts.
    InScope,
}

/// Payment windows per visit kind: financed amounts are due this long after settlement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PaymentWindowHours {
    pub outpatient: u32,
    pub inpatient: u32,
}

impl PaymentWindowHours {
    pub const fn for_kind(self, visit_kind: VisitKind) -> u32 {
        match visit_kind {
            VisitKind::Outpatient => self.outpatient,
            VisitKind::Inpatient => self.inpatient,
        }
    }
}

/// One fund-ratio band. Thresholds are absolute positions of the cumulative in-scope amount
/// in the deductible period (see the module docs of `insurance`); `up_to: None` is the open
/// last band.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub up_to: Option<Money>,
    pub fund_ratio: Ratio,
}

/// The terms for one (member type, visit kind, hospital level).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlanRule {
    pub member_type: MemberType,
    pub visit_kind: VisitKind,
    pub hospital_level: HospitalLevel,
    pub deductible: Money,
    pub deductible_period: DeductiblePeriod,
    pub bands: Vec<Band>,
    /// The most the fund pays per plan year under this rule; `None` is no cap.
    pub annual_cap: Option<Money>,
}

impl PlanRule {
    fn matches(
        &self,
        member_type: MemberType,
        visit_kind: VisitKind,
        level: HospitalLevel,
    ) -> bool {
        self.member_type == member_type
            && self.visit_kind == visit_kind
            && self.hospital_level == level
    }

    fn same_key(&self, other: &PlanRule) -> bool {
        self.matches(other.member_type, other.visit_kind, other.hospital_level)
    }
}

/// An insurance plan, exactly the `PUT /v1/plans/{plan_id}` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub currency: String,
    pub payment_window_hours: PaymentWindowHours,
    /// The self-pay ratio of category B lines that carry none of their own.
    pub default_self_pay_ratio: Ratio,
    pub msa_scope: MsaScope,
    pub rules: Vec<PlanRule>,
}

/// Why a plan is not valid. `rule` and `band` are zero-based indexes into `rules` and
/// `rules[rule].bands`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    #[error("currency must be {PLAN_CURRENCY}, not {currency:?}")]
    CurrencyNotSupported { currency: String },
    #[error("payment_window_hours.{visit_kind} must be between {PAYMENT_WINDOW_HOURS_MIN} and {PAYMENT_WINDOW_HOURS_MAX}, not {hours}")]
    PaymentWindowOutOfRange { visit_kind: VisitKind, hours: u32 },
    #[error("a plan must have at least one rule")]
    NoRules,
    #[error("a plan may have at most {RULES_PER_PLAN_MAX} rules, not {count}")]
    TooManyRules { count: usize },
    #[error(
        "rules[{rule}] has the same member_type, visit_kind and hospital_level as rules[{first}]"
    )]
    DuplicateRule { rule: usize, first: usize },
    #[error("rules[{rule}] must have at least one band")]
    NoBands { rule: usize },
    #[error("rules[{rule}] may have at most {BANDS_PER_RULE_MAX} bands, not {count}")]
    TooManyBands { rule: usize, count: usize },
    #[error(
        "rules[{rule}].bands[{band}].up_to must be greater than zero and than the previous band's"
    )]
    BandNotAscending { rule: usize, band: usize },
    #[error("rules[{rule}].bands[{band}].up_to may only be null in the last band")]
    OpenBandNotLast { rule: usize, band: usize },
    #[error("rules[{rule}]: the last band must be open (up_to null)")]
    LastBandNotOpen { rule: usize },
}

impl Plan {
    /// Checks the plan, in a fixed order where the first failure wins: currency, payment
    /// windows (outpatient, inpatient), rule count, then each rule in order (duplicate key,
    /// band count, each band, the last band open).
    ///
    /// # Errors
    /// The first [`PlanError`] found.
    pub fn validate(&self) -> Result<(), PlanError> {
        if self.currency != PLAN_CURRENCY {
            return Err(PlanError::CurrencyNotSupported {
                currency: self.currency.clone(),
            });
        }
        for visit_kind in VisitKind::ALL {
            let hours = self.payment_window_hours.for_kind(visit_kind);
            if !(PAYMENT_WINDOW_HOURS_MIN..=PAYMENT_WINDOW_HOURS_MAX).contains(&hours) {
                return Err(PlanError::PaymentWindowOutOfRange { visit_kind, hours });
            }
        }
        if self.rules.is_empty() {
            return Err(PlanError::NoRules);
        }
        if self.rules.len() > RULES_PER_PLAN_MAX {
            return Err(PlanError::TooManyRules {
                count: self.rules.len(),
            });
        }
        for (index, rule) in self.rules.iter().enumerate() {
            self.validate_rule_key_unique(index, rule)?;
            validate_bands(index, &rule.bands)?;
        }
        Ok(())
    }

    /// The rule for this kind of member, visit and hospital, if the plan has one.
    pub fn rule_for(
        &self,
        member_type: MemberType,
        visit_kind: VisitKind,
        level: HospitalLevel,
    ) -> Option<&PlanRule> {
        self.rules
            .iter()
            .find(|rule| rule.matches(member_type, visit_kind, level))
    }

    fn validate_rule_key_unique(&self, index: usize, rule: &PlanRule) -> Result<(), PlanError> {
        // Quadratic, but bounded by RULES_PER_PLAN_MAX (checked before).
        match self.rules[..index]
            .iter()
            .position(|earlier| earlier.same_key(rule))
        {
            Some(first) => Err(PlanError::DuplicateRule { rule: index, first }),
            None => Ok(()),
        }
    }
}

fn validate_bands(rule: usize, bands: &[Band]) -> Result<(), PlanError> {
    if bands.is_empty() {
        return Err(PlanError::NoBands { rule });
    }
    if bands.len() > BANDS_PER_RULE_MAX {
        return Err(PlanError::TooManyBands {
            rule,
            count: bands.len(),
        });
    }
    let last = bands.len() - 1;
    let mut previous_up_to = Money::ZERO;
    for (band, entry) in bands.iter().enumerate() {
        match entry.up_to {
            None if band != last => return Err(PlanError::OpenBandNotLast { rule, band }),
            None => {}
            Some(up_to) if up_to <= previous_up_to => {
                return Err(PlanError::BandNotAscending { rule, band })
            }
            Some(up_to) => previous_up_to = up_to,
        }
    }
    if bands[last].up_to.is_some() {
        return Err(PlanError::LastBandNotOpen { rule });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const API_EXAMPLE: &str = r#"
        {"currency": "CNY",
         "payment_window_hours": {"outpatient": 48, "inpatient": 48},
         "default_self_pay_ratio": "0.10",
         "msa_scope": "all",
         "rules": [{"member_type": "employee", "visit_kind": "outpatient", "hospital_level": 3,
                    "deductible": "600.00", "deductible_period": "year",
                    "bands": [{"up_to": "30000.00", "fund_ratio": "0.85"},
                              {"up_to": null, "fund_ratio": "0.90"}],
                    "annual_cap": "400000.00"}]}"#;

    fn example() -> Plan {
        serde_json::from_str(API_EXAMPLE).expect("the API.md example parses")
    }

    #[test]
    fn parses_the_api_example() {
        let plan = example();
        assert_eq!(plan.validate(), Ok(()));
        assert_eq!(plan.payment_window_hours.for_kind(VisitKind::Inpatient), 48);
        assert_eq!(plan.default_self_pay_ratio, "0.10".parse().unwrap());
        assert_eq!(plan.msa_scope, MsaScope::All);
        let rule = plan
            .rule_for(
                MemberType::Employee,
                VisitKind::Outpatient,
                HospitalLevel::Level3,
            )
            .expect("the rule is found");
        assert_eq!(rule.deductible, Money::yuan(600));
        assert_eq!(rule.deductible_period, DeductiblePeriod::Year);
        assert_eq!(rule.bands.len(), 2);
        assert_eq!(rule.bands[0].up_to, Some(Money::yuan(30_000)));
        assert_eq!(rule.bands[1].up_to, None);
        assert_eq!(rule.annual_cap, Some(Money::yuan(400_000)));
        assert!(plan
            .rule_for(
                MemberType::Employee,
                VisitKind::Outpatient,
                HospitalLevel::Level2
            )
            .is_none());
    }

    #[test]
    fn round_trips_through_json() {
        let plan = example();
        let json = serde_json::to_value(&plan).unwrap();
        assert_eq!(json["rules"][0]["hospital_level"], 3);
        assert_eq!(
            json["rules"][0]["bands"][1]["up_to"],
            serde_json::Value::Null
        );
        assert_eq!(json["rules"][0]["deductible"], "600.00");
        assert_eq!(json["msa_scope"], "all");
        let parsed: Plan = serde_json::from_value(json).unwrap();
        assert_eq!(parsed, plan);
    }

    #[test]
    fn rejects_unknown_fields_and_values() {
        let cases = [
            (r#""currency": "CNY""#, r#""currency": "CNY", "extra": 1"#),
            (r#""inpatient": 48"#, r#""inpatient": 48, "emergency": 4"#),
            (r#""annual_cap""#, r#""cap": "1.00", "annual_cap""#),
            (r#""fund_ratio": "0.85""#, r#""fund_ratio": "0.85", "x": 0"#),
            (r#""hospital_level": 3"#, r#""hospital_level": 4"#),
            (r#""hospital_level": 3"#, r#""hospital_level": "3""#),
            (
                r#""member_type": "employee""#,
                r#""member_type": "Employee""#,
            ),
            (
                r#""visit_kind": "outpatient""#,
                r#""visit_kind": "emergency""#,
            ),
            (
                r#""deductible_period": "year""#,
                r#""deductible_period": "month""#,
            ),
            (r#""msa_scope": "all""#, r#""msa_scope": "none""#),
            (r#""msa_scope": "all""#, r#""msa_scope": "inScope""#),
            (
                r#""default_self_pay_ratio": "0.10""#,
                r#""default_self_pay_ratio": "1.10""#,
            ),
            (r#""deductible": "600.00""#, r#""deductible": 600"#),
            (r#""deductible": "600.00""#, r#""deductible": "-600.00""#),
        ];
        for (from, to) in cases {
            assert!(API_EXAMPLE.contains(from), "fixture contains {from}");
            let json = API_EXAMPLE.replacen(from, to, 1);
            assert!(
                serde_json::from_str::<Plan>(&json).is_err(),
                "must reject {to}"
            );
        }
        let in_scope = API_EXAMPLE.replace(r#""msa_scope": "all""#, r#""msa_scope": "in_scope""#);
        let plan: Plan = serde_json::from_str(&in_scope).unwrap();
        assert_eq!(plan.msa_scope, MsaScope::InScope);
    }

    fn band(up_to: Option<u64>, fund_ratio: &str) -> Band {
        Band {
            up_to: up_to.map(Money::yuan),
            fund_ratio: fund_ratio.parse().unwrap(),
        }
    }

    fn rule_with_key(member_type: MemberType, level: HospitalLevel) -> PlanRule {
        PlanRule {
            member_type,
            visit_kind: VisitKind::Outpatient,
            hospital_level: level,
            deductible: Money::ZERO,
            deductible_period: DeductiblePeriod::Year,
            bands: vec![band(None, "0.8")],
            annual_cap: None,
        }
    }

    fn with_bands(bands: Vec<Band>) -> Plan {
        let mut plan = example();
        plan.rules[0].bands = bands;
        plan
    }

    #[test]
    fn validation_names_the_first_failure() {
        let mut not_cny = example();
        not_cny.currency = "USD".to_owned();
        let mut window_zero = example();
        window_zero.payment_window_hours.outpatient = 0;
        let mut window_long = example();
        window_long.payment_window_hours.inpatient = PAYMENT_WINDOW_HOURS_MAX + 1;
        let mut window_both = window_long.clone();
        window_both.payment_window_hours.outpatient = 0;
        let mut no_rules = example();
        no_rules.rules.clear();
        let mut too_many_rules = example();
        too_many_rules.rules = vec![too_many_rules.rules[0].clone(); RULES_PER_PLAN_MAX + 1];
        let mut duplicate = example();
        duplicate.rules = vec![
            rule_with_key(MemberType::Employee, HospitalLevel::Level1),
            rule_with_key(MemberType::Retiree, HospitalLevel::Level1),
            rule_with_key(MemberType::Employee, HospitalLevel::Level1),
        ];
        let open_band = band(None, "0.9");
        let cases: Vec<(Plan, PlanError)> = vec![
            (
                not_cny,
                PlanError::CurrencyNotSupported {
                    currency: "USD".to_owned(),
                },
            ),
            (
                window_zero,
                PlanError::PaymentWindowOutOfRange {
                    visit_kind: VisitKind::Outpatient,
                    hours: 0,
                },
            ),
            (
                window_long,
                PlanError::PaymentWindowOutOfRange {
                    visit_kind: VisitKind::Inpatient,
                    hours: PAYMENT_WINDOW_HOURS_MAX + 1,
                },
            ),
            (
                window_both,
                PlanError::PaymentWindowOutOfRange {
                    visit_kind: VisitKind::Outpatient,
                    hours: 0,
                },
            ),
            (no_rules, PlanError::NoRules),
            (
                too_many_rules,
                PlanError::TooManyRules {
                    count: RULES_PER_PLAN_MAX + 1,
                },
            ),
            (duplicate, PlanError::DuplicateRule { rule: 2, first: 0 }),
            (with_bands(vec![]), PlanError::NoBands { rule: 0 }),
            (
                with_bands(vec![open_band; BANDS_PER_RULE_MAX + 1]),
                PlanError::TooManyBands {
                    rule: 0,
                    count: BANDS_PER_RULE_MAX + 1,
                },
            ),
            (
                with_bands(vec![band(Some(0), "0.5"), open_band]),
                PlanError::BandNotAscending { rule: 0, band: 0 },
            ),
            (
                with_bands(vec![
                    band(Some(100), "0.5"),
                    band(Some(100), "0.6"),
                    open_band,
                ]),
                PlanError::BandNotAscending { rule: 0, band: 1 },
            ),
            (
                with_bands(vec![
                    band(Some(100), "0.5"),
                    band(Some(50), "0.6"),
                    open_band,
                ]),
                PlanError::BandNotAscending { rule: 0, band: 1 },
            ),
            (
                with_bands(vec![open_band, band(Some(100), "0.5")]),
                PlanError::OpenBandNotLast { rule: 0, band: 0 },
            ),
            (
                with_bands(vec![band(Some(100), "0.5"), band(Some(200), "0.6")]),
                PlanError::LastBandNotOpen { rule: 0 },
            ),
        ];
        for (plan, expected) in cases {
            assert_eq!(plan.validate(), Err(expected));
        }
    }

    #[test]
    fn the_largest_valid_plan_passes() {
        let mut plan = example();
        let mut bands: Vec<Band> = (1..BANDS_PER_RULE_MAX as u64)
            .map(|step| band(Some(step * 1000), "0.8"))
            .collect();
        bands.push(band(None, "0.95"));
        plan.rules.clear();
        for member_type in MemberType::ALL {
            for visit_kind in VisitKind::ALL {
                for level in HospitalLevel::ALL {
                    let mut rule = rule_with_key(member_type, level);
                    rule.visit_kind = visit_kind;
                    rule.bands = bands.clone();
                    plan.rules.push(rule);
                }
            }
        }
        plan.payment_window_hours = PaymentWindowHours {
            outpatient: PAYMENT_WINDOW_HOURS_MIN,
            inpatient: PAYMENT_WINDOW_HOURS_MAX,
        };
        assert_eq!(plan.rules.len(), RULES_PER_PLAN_MAX);
        assert_eq!(plan.validate(), Ok(()));
        let rule = plan
            .rule_for(
                MemberType::Resident,
                VisitKind::Inpatient,
                HospitalLevel::Level2,
            )
            .unwrap();
        assert_eq!(
            (rule.member_type, rule.visit_kind, rule.hospital_level),
            (
                MemberType::Resident,
                VisitKind::Inpatient,
                HospitalLevel::Level2
            )
        );
    }

    #[test]
    fn errors_read_clearly() {
        let error = PlanError::BandNotAscending { rule: 1, band: 2 };
        assert_eq!(
            error.to_string(),
            "rules[1].bands[2].up_to must be greater than zero and than the previous band's"
        );
        let error = PlanError::PaymentWindowOutOfRange {
            visit_kind: VisitKind::Inpatient,
            hours: 0,
        };
        assert_eq!(
            error.to_string(),
            "payment_window_hours.inpatient must be between 1 and 8760, not 0"
        );
    }
}
