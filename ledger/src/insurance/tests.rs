//! Adjudication tests: a table of visits with every amount spelled out, the errors, and
//! randomized runs checked against an independent reference model (the auditor).

use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};

use super::*;
use crate::money::{Money, Ratio};

fn money(text: &str) -> Money {
    text.parse().expect("a valid amount")
}

fn ratio(text: &str) -> Ratio {
    text.parse().expect("a valid ratio")
}

/// (category, quantity, unit price, line self-pay ratio, price cap).
type LineSpec = (
    Category,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

/// One visit of the table. Amounts are decimal strings; `position` is (deductible used,
/// in-scope cumulative, fund paid) of the plan year; `expected` lists total, full self-pay,
/// over-limit, pre-self-pay, in-scope, deductible, fund, personal share, MSA, cash due,
/// financed, collect now.
struct Case {
    name: &'static str,
    deductible: &'static str,
    period: DeductiblePeriod,
    bands: &'static [(Option<&'static str>, &'static str)],
    annual_cap: Option<&'static str>,
    msa_scope: MsaScope,
    default_self_pay_ratio: &'static str,
    lines: &'static [LineSpec],
    position: [&'static str; 3],
    msa_balance: &'static str,
    credit_available: &'static str,
    expected: [&'static str; 12],
}

const WORKED_EXAMPLE_LINES: &[LineSpec] = &[
    (Category::A, "3", "30.00", None, None),
    (Category::B, "1", "250.00", Some("0.15"), None),
    (Category::C, "1", "40.00", None, None),
];

/// DESIGN.md's worked example: level-2 outpatient, deductible 100.00, one band at 80%.
const WORKED_EXAMPLE: Case = Case {
    name: "DESIGN.md worked example",
    deductible: "100.00",
    period: DeductiblePeriod::Year,
    bands: &[(None, "0.80")],
    annual_cap: None,
    msa_scope: MsaScope::All,
    default_self_pay_ratio: "0.10",
    lines: WORKED_EXAMPLE_LINES,
    position: ["0", "0", "0"],
    msa_balance: "50.00",
    credit_available: "5000.00",
    #[rustfmt::skip]
    expected: [
        "380.00", "40.00", "0", "37.50", "302.50", "100.00",
        "162.00", "218.00", "50.00", "168.00", "168.00", "0",
    ],
};

const THREE_BANDS: &[(Option<&str>, &str)] = &[
    (Some("1000.00"), "0.50"),
    (Some("2000.00"), "0.80"),
    (None, "0.90"),
];

const ONE_A_LINE_OF_100: &[LineSpec] = &[(Category::A, "1", "100.00", None, None)];

#[rustfmt::skip]
const CASES: &[Case] = &[
    WORKED_EXAMPLE,
    Case {
        name: "B ratio from the plan default",
        lines: &[
            (Category::A, "3", "30.00", None, None),
            (Category::B, "1", "250.00", None, None),
            (Category::C, "1", "40.00", None, None),
        ],
        expected: [
            "380.00", "40.00", "0", "25.00", "315.00", "100.00",
            "172.00", "208.00", "50.00", "158.00", "158.00", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "B ratios per line",
        lines: &[
            (Category::B, "1", "100.00", Some("0.20"), None),
            (Category::B, "1", "100.00", Some("0"), None),
            (Category::B, "1", "100.00", None, None),
        ],
        deductible: "0",
        expected: [
            "300.00", "0", "0", "30.00", "270.00", "0",
            "216.00", "84.00", "50.00", "34.00", "34.00", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "price caps on A and B",
        lines: &[
            (Category::A, "2", "120.00", None, Some("100.00")),
            (Category::B, "1", "250.00", Some("0.10"), Some("200.00")),
            (Category::A, "1", "80.00", None, Some("100.00")),
        ],
        expected: [
            "570.00", "0", "90.00", "20.00", "460.00", "100.00",
            "288.00", "282.00", "50.00", "232.00", "232.00", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "year deductible partly used by earlier visits",
        lines: ONE_A_LINE_OF_100,
        position: ["80.00", "80.00", "0"],
        expected: [
            "100.00", "0", "0", "0", "100.00", "20.00",
            "64.00", "36.00", "36.00", "0", "0", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "year deductible used up",
        lines: ONE_A_LINE_OF_100,
        position: ["100.00", "500.00", "320.00"],
        expected: [
            "100.00", "0", "0", "0", "100.00", "0",
            "80.00", "20.00", "20.00", "0", "0", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "visit deductible starts again each visit",
        period: DeductiblePeriod::Visit,
        lines: ONE_A_LINE_OF_100,
        position: ["100.00", "500.00", "320.00"],
        expected: [
            "100.00", "0", "0", "0", "100.00", "100.00",
            "0", "100.00", "50.00", "50.00", "50.00", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "deductible larger than the visit's in-scope amount",
        lines: &[
            (Category::A, "1", "60.00", None, None),
            (Category::C, "1", "10.00", None, None),
        ],
        expected: [
            "70.00", "10.00", "0", "0", "60.00", "60.00",
            "0", "70.00", "50.00", "20.00", "20.00", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "three bands crossed inside one visit",
        deductible: "0",
        bands: THREE_BANDS,
        lines: &[(Category::A, "1", "1500.00", None, None)],
        position: ["0", "900.00", "450.00"],
        // [900, 2400): 100 × 0.5 + 1000 × 0.8 + 400 × 0.9.
        expected: [
            "1500.00", "0", "0", "0", "1500.00", "0",
            "1210.00", "290.00", "50.00", "240.00", "240.00", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "a visit starting exactly on a band threshold",
        deductible: "0",
        bands: THREE_BANDS,
        lines: &[(Category::A, "1", "500.00", None, None)],
        position: ["0", "1000.00", "500.00"],
        expected: [
            "500.00", "0", "0", "0", "500.00", "0",
            "400.00", "100.00", "50.00", "50.00", "50.00", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "the deductible counts towards the band thresholds",
        deductible: "500.00",
        bands: &[(Some("1000.00"), "0.50"), (None, "0.80")],
        lines: &[(Category::A, "1", "2000.00", None, None)],
        msa_balance: "0",
        // Deductible [0, 500); 500 × 0.5 in [500, 1000); 1000 × 0.8 in [1000, 2000).
        expected: [
            "2000.00", "0", "0", "0", "2000.00", "500.00",
            "1050.00", "950.00", "0", "950.00", "950.00", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "year bands carry the earlier in-scope position",
        deductible: "0",
        bands: &[(Some("1000.00"), "0.50"), (None, "0.80")],
        lines: &[(Category::A, "1", "2000.00", None, None)],
        position: ["0", "5000.00", "2500.00"],
        msa_balance: "0",
        expected: [
            "2000.00", "0", "0", "0", "2000.00", "0",
            "1600.00", "400.00", "0", "400.00", "400.00", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "visit bands start at zero each visit",
        deductible: "0",
        period: DeductiblePeriod::Visit,
        bands: &[(Some("1000.00"), "0.50"), (None, "0.80")],
        lines: &[(Category::A, "1", "2000.00", None, None)],
        position: ["0", "5000.00", "2500.00"],
        msa_balance: "0",
        expected: [
            "2000.00", "0", "0", "0", "2000.00", "0",
            "1300.00", "700.00", "0", "700.00", "700.00", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "annual cap limits the fund",
        deductible: "0",
        annual_cap: Some("1000.00"),
        lines: &[(Category::A, "1", "1000.00", None, None)],
        position: ["0", "2000.00", "900.00"],
        msa_balance: "0",
        expected: [
            "1000.00", "0", "0", "0", "1000.00", "0",
            "100.00", "900.00", "0", "900.00", "900.00", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "annual cap reached exactly",
        deductible: "0",
        annual_cap: Some("1000.00"),
        lines: &[(Category::A, "1", "1000.00", None, None)],
        position: ["0", "400.00", "200.00"],
        msa_balance: "0",
        expected: [
            "1000.00", "0", "0", "0", "1000.00", "0",
            "800.00", "200.00", "0", "200.00", "200.00", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "annual cap already exceeded (a lowered cap)",
        deductible: "0",
        annual_cap: Some("1000.00"),
        lines: ONE_A_LINE_OF_100,
        position: ["0", "2000.00", "1200.00"],
        msa_balance: "0",
        expected: [
            "100.00", "0", "0", "0", "100.00", "0",
            "0", "100.00", "0", "100.00", "100.00", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "annual cap applies to visit-period rules too",
        deductible: "0",
        period: DeductiblePeriod::Visit,
        annual_cap: Some("1000.00"),
        lines: ONE_A_LINE_OF_100,
        position: ["0", "2000.00", "950.00"],
        msa_balance: "0",
        expected: [
            "100.00", "0", "0", "0", "100.00", "0",
            "50.00", "50.00", "0", "50.00", "50.00", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "MSA scope all pays full self-pay and over-limit",
        deductible: "0",
        lines: &[
            (Category::A, "1", "100.00", None, Some("80.00")),
            (Category::C, "1", "50.00", None, None),
        ],
        msa_balance: "1000.00",
        expected: [
            "150.00", "50.00", "20.00", "0", "80.00", "0",
            "64.00", "86.00", "86.00", "0", "0", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "MSA scope in_scope leaves full self-pay and over-limit to cash",
        deductible: "0",
        msa_scope: MsaScope::InScope,
        lines: &[
            (Category::A, "1", "100.00", None, Some("80.00")),
            (Category::C, "1", "50.00", None, None),
        ],
        msa_balance: "1000.00",
        expected: [
            "150.00", "50.00", "20.00", "0", "80.00", "0",
            "64.00", "86.00", "16.00", "70.00", "70.00", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "MSA scope in_scope limited by the balance",
        msa_scope: MsaScope::InScope,
        msa_balance: "10.00",
        expected: [
            "380.00", "40.00", "0", "37.50", "302.50", "100.00",
            "162.00", "218.00", "10.00", "208.00", "208.00", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "credit too small: the rest is collected now",
        credit_available: "100.00",
        expected: [
            "380.00", "40.00", "0", "37.50", "302.50", "100.00",
            "162.00", "218.00", "50.00", "168.00", "100.00", "68.00",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "no credit at all",
        credit_available: "0",
        expected: [
            "380.00", "40.00", "0", "37.50", "302.50", "100.00",
            "162.00", "218.00", "50.00", "168.00", "0", "168.00",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "zero-amount lines",
        lines: &[
            (Category::A, "1", "0.00", None, None),
            (Category::B, "2", "0.00", Some("0.30"), Some("0.00")),
            (Category::C, "0.5", "0.00", None, None),
        ],
        expected: ["0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0"],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "no lines",
        lines: &[],
        expected: ["0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0"],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "rounding at .005: line amount and fund round up",
        deductible: "0",
        bands: &[(None, "0.50")],
        // 0.5 × 0.01 = 0.005 -> 0.01; fund 0.01 × 0.5 = 0.005 -> 0.01.
        lines: &[(Category::A, "0.5", "0.01", None, None)],
        expected: [
            "0.01", "0", "0", "0", "0.01", "0",
            "0.01", "0", "0", "0", "0", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "rounding at .005: each band segment rounds on its own",
        deductible: "0",
        bands: &[(Some("0.01"), "0.50"), (None, "0.50")],
        lines: &[(Category::A, "1", "0.02", None, None)],
        expected: [
            "0.02", "0", "0", "0", "0.02", "0",
            "0.02", "0", "0", "0", "0", "0",
        ],
        ..WORKED_EXAMPLE
    },
    Case {
        name: "rounding at .005: pre-self-pay, over-limit and fund",
        deductible: "0",
        bands: &[(None, "0.90")],
        lines: &[
            // 0.25 × 0.1 = 0.025 -> pre-self-pay 0.03, in-scope 0.22.
            (Category::B, "1", "0.25", Some("0.10"), None),
            // (10.01 − 10.00) × 0.5 = 0.005 -> over-limit 0.01; A = 5.005 -> 5.01.
            (Category::A, "0.5", "10.01", None, Some("10.00")),
        ],
        msa_balance: "0",
        // fund (0.22 + 5.00) × 0.9 = 4.698 -> 4.70.
        expected: [
            "5.26", "0", "0.01", "0.03", "5.22", "0",
            "4.70", "0.56", "0", "0.56", "0.56", "0",
        ],
        ..WORKED_EXAMPLE
    },
];

fn rule_of(case: &Case) -> PlanRule {
    PlanRule {
        member_type: MemberType::Employee,
        visit_kind: VisitKind::Outpatient,
        hospital_level: HospitalLevel::Level2,
        deductible: money(case.deductible),
        deductible_period: case.period,
        bands: case
            .bands
            .iter()
            .map(|&(up_to, fund_ratio)| Band {
                up_to: up_to.map(money),
                fund_ratio: ratio(fund_ratio),
            })
            .collect(),
        annual_cap: case.annual_cap.map(money),
    }
}

fn plan_with(rule: PlanRule, msa_scope: MsaScope, default_self_pay_ratio: Ratio) -> Plan {
    Plan {
        currency: "CNY".to_owned(),
        payment_window_hours: PaymentWindowHours {
            outpatient: 48,
            inpatient: 48,
        },
        default_self_pay_ratio,
        msa_scope,
        rules: vec![rule],
    }
}

fn line_of(&(category, quantity, unit_price, self_pay_ratio, price_cap): &LineSpec) -> ChargeLine {
    ChargeLine {
        code: "X1".to_owned(),
        description: String::new(),
        category,
        quantity: quantity.parse().expect("a valid quantity"),
        unit_price: money(unit_price),
        self_pay_ratio: self_pay_ratio.map(ratio),
        price_cap: price_cap.map(money),
    }
}

fn input_of<'a>(case: &Case, plan: &'a Plan, lines: &'a [ChargeLine]) -> AdjudicationInput<'a> {
    let [deductible_used, in_scope_cumulative, fund_paid] = case.position.map(money);
    AdjudicationInput {
        plan,
        plan_version: PlanVersion(7),
        member_type: MemberType::Employee,
        visit_kind: VisitKind::Outpatient,
        hospital_level: HospitalLevel::Level2,
        lines,
        year_position: PeriodPosition {
            deductible_used,
            in_scope_cumulative,
            fund_paid,
        },
        msa_balance: money(case.msa_balance),
        credit_available: money(case.credit_available),
    }
}

fn amounts(settlement: &Settlement) -> [Money; 12] {
    let s = settlement;
    [
        s.total,
        s.full_self_pay,
        s.over_limit,
        s.pre_self_pay,
        s.in_scope,
        s.deductible,
        s.fund_paid,
        s.personal_share,
        s.msa_paid,
        s.cash_due,
        s.financed,
        s.collect_now,
    ]
}

fn settle_case(case: &Case) -> Result<Settlement, SettlementError> {
    let plan = plan_with(
        rule_of(case),
        case.msa_scope,
        ratio(case.default_self_pay_ratio),
    );
    let lines: Vec<ChargeLine> = case.lines.iter().map(line_of).collect();
    adjudicate(&input_of(case, &plan, &lines))
}

#[test]
fn table_of_visits() {
    for case in CASES {
        let settlement = settle_case(case).unwrap_or_else(|error| panic!("{}: {error}", case.name));
        assert_eq!(
            amounts(&settlement),
            case.expected.map(money),
            "{}",
            case.name
        );
        assert_eq!(settlement.lines.len(), case.lines.len(), "{}", case.name);
        assert_eq!(settlement.plan_version, PlanVersion(7));
        let after = settlement
            .position_before
            .in_scope_cumulative
            .checked_add(settlement.in_scope);
        assert_eq!(
            Some(settlement.position_after.in_scope_cumulative),
            after,
            "{}",
            case.name
        );
    }
}

#[test]
fn the_worked_example_records_lines_bands_and_positions() {
    let settlement = settle_case(&WORKED_EXAMPLE).unwrap();
    let line_amounts: Vec<Money> = settlement.lines.iter().map(|line| line.amount).collect();
    assert_eq!(line_amounts, [money("90"), money("250"), money("40")]);
    assert_eq!(settlement.lines[1].pre_self_pay, money("37.50"));
    assert_eq!(settlement.lines[1].self_pay_ratio, ratio("0.15"));
    assert_eq!(
        settlement.bands,
        [BandPayment {
            band: 0,
            segment: money("202.50"),
            fund_ratio: ratio("0.8"),
            fund: money("162.00"),
        }]
    );
    assert_eq!(settlement.fund_uncapped, settlement.fund_paid);
    let expected_after = PeriodPosition {
        deductible_used: money("100.00"),
        in_scope_cumulative: money("302.50"),
        fund_paid: money("162.00"),
    };
    assert_eq!(settlement.position_after, expected_after);
    assert_eq!(settlement.accumulator_deltas(), expected_after);
}

#[test]
fn the_settlement_serializes_with_api_field_names() {
    let settlement = settle_case(&WORKED_EXAMPLE).unwrap();
    let json = serde_json::to_value(&settlement).unwrap();
    for (field, value) in [
        ("total", "380.00"),
        ("full_self_pay", "40.00"),
        ("over_limit", "0.00"),
        ("pre_self_pay", "37.50"),
        ("in_scope", "302.50"),
        ("deductible", "100.00"),
        ("fund_paid", "162.00"),
        ("personal_share", "218.00"),
        ("msa_paid", "50.00"),
        ("cash_due", "168.00"),
        ("financed", "168.00"),
        ("collect_now", "0.00"),
    ] {
        assert_eq!(json[field], value, "{field}");
    }
    assert_eq!(json["plan_version"], 7);
    let parsed: Settlement = serde_json::from_value(json).unwrap();
    assert_eq!(parsed, settlement);
    let bytes = postcard::to_stdvec(&settlement).unwrap();
    assert_eq!(
        postcard::from_bytes::<Settlement>(&bytes).unwrap(),
        settlement
    );
}

#[test]
fn consecutive_visits_carry_the_year_position() {
    let plan = plan_with(rule_of(&WORKED_EXAMPLE), MsaScope::All, ratio("0.1"));
    let lines = [line_of(&(Category::A, "1", "60.00", None, None))];
    let mut position = PeriodPosition::ZERO;
    let mut deductibles = Vec::new();
    for _visit in 0..3 {
        let input = AdjudicationInput {
            year_position: position,
            ..input_of(&WORKED_EXAMPLE, &plan, &lines)
        };
        let settlement = adjudicate(&input).unwrap();
        deductibles.push(settlement.deductible);
        position = settlement.position_after;
    }
    assert_eq!(deductibles, [money("60"), money("40"), money("0")]);
    assert_eq!(position.deductible_used, money("100"));
    assert_eq!(position.in_scope_cumulative, money("180"));
    assert_eq!(position.fund_paid, money("64")); // (20 + 60) × 0.8
}

#[test]
fn errors_come_in_a_fixed_order() {
    let plan = plan_with(rule_of(&WORKED_EXAMPLE), MsaScope::All, ratio("0.1"));
    let mut invalid_plan = plan.clone();
    invalid_plan.currency = "USD".to_owned();
    let good_lines: Vec<ChargeLine> = WORKED_EXAMPLE_LINES.iter().map(line_of).collect();
    let too_many_lines = vec![good_lines[0].clone(); LINES_PER_VISIT_MAX + 1];
    let mut bad_lines = good_lines.clone();
    bad_lines[1].category = Category::A;
    bad_lines[2].code.clear();
    let huge = line_of(&(Category::A, "1", "10000000000000.00", None, None));
    let overflowing_lines = vec![huge.clone(), huge];
    let base = input_of(&WORKED_EXAMPLE, &plan, &good_lines);
    let inconsistent = PeriodPosition {
        deductible_used: money("100"),
        in_scope_cumulative: money("150"),
        fund_paid: money("50.01"),
    };
    let near_maximum = PeriodPosition {
        in_scope_cumulative: money("9999999999999.00"),
        ..PeriodPosition::ZERO
    };
    let cases: Vec<(AdjudicationInput<'_>, SettlementError)> = vec![
        (
            AdjudicationInput {
                lines: &too_many_lines,
                plan: &invalid_plan,
                ..base
            },
            SettlementError::TooManyLines {
                count: LINES_PER_VISIT_MAX + 1,
            },
        ),
        (
            AdjudicationInput {
                plan: &invalid_plan,
                ..base
            },
            SettlementError::InvalidPlan(PlanError::CurrencyNotSupported {
                currency: "USD".to_owned(),
            }),
        ),
        (
            AdjudicationInput {
                hospital_level: HospitalLevel::Level3,
                year_position: inconsistent,
                ..base
            },
            SettlementError::NoMatchingRule {
                member_type: MemberType::Employee,
                visit_kind: VisitKind::Outpatient,
                hospital_level: HospitalLevel::Level3,
            },
        ),
        (
            AdjudicationInput {
                year_position: inconsistent,
                lines: &bad_lines,
                ..base
            },
            SettlementError::InconsistentPosition,
        ),
        (
            AdjudicationInput {
                lines: &bad_lines,
                ..base
            },
            SettlementError::Line {
                index: 1,
                source: LineError::SelfPayRatioOnCategoryA,
            },
        ),
        (
            AdjudicationInput {
                lines: &overflowing_lines,
                ..base
            },
            SettlementError::AmountOverflow,
        ),
        (
            AdjudicationInput {
                year_position: near_maximum,
                ..base
            },
            SettlementError::AmountOverflow,
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(adjudicate(&input), Err(expected));
    }
    let at_limit = vec![good_lines[0].clone(); LINES_PER_VISIT_MAX];
    assert!(adjudicate(&AdjudicationInput {
        lines: &at_limit,
        ..base
    })
    .is_ok());
}

#[test]
fn error_messages_name_the_problem() {
    let error = SettlementError::NoMatchingRule {
        member_type: MemberType::Retiree,
        visit_kind: VisitKind::Inpatient,
        hospital_level: HospitalLevel::Level1,
    };
    assert_eq!(
        error.to_string(),
        "the plan has no rule for retiree inpatient visits at level 1 hospitals"
    );
    let error = SettlementError::Line {
        index: 3,
        source: LineError::CodeEmpty,
    };
    assert_eq!(error.to_string(), "charge line 3: code must not be empty");
}

// ---------------------------------------------------------------------------------------
// Randomized: random plans, lines and positions, checked against the auditor.
// ---------------------------------------------------------------------------------------

/// An independent model of DESIGN.md's rules, written without the engine's helpers: it
/// rounds with rust_decimal directly and walks the bands from the start position.
struct Auditor;

impl Auditor {
    fn round(value: Decimal) -> Money {
        let rounded = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        Money::from_decimal(rounded).expect("within the maximum")
    }

    /// [full self-pay, over-limit, pre-self-pay, in-scope] of one line.
    fn line(line: &ChargeLine, default_self_pay_ratio: Ratio) -> [Money; 4] {
        let amount = Self::round(line.quantity.value() * line.unit_price.to_decimal());
        if line.category == Category::C {
            return [amount, Money::ZERO, Money::ZERO, Money::ZERO];
        }
        let over_limit = match line.price_cap {
            Some(cap) if line.unit_price > cap => {
                let excess = line.unit_price.to_decimal() - cap.to_decimal();
                Self::round(excess * line.quantity.value())
            }
            _ => Money::ZERO,
        };
        let ratio = match line.category {
            Category::B => line.self_pay_ratio.unwrap_or(default_self_pay_ratio),
            _ => Ratio::ZERO,
        };
        let recognised = amount.to_decimal() - over_limit.to_decimal();
        let pre_self_pay = Self::round(recognised * ratio.value());
        let in_scope = Money::from_decimal(recognised - pre_self_pay.to_decimal()).unwrap();
        [Money::ZERO, over_limit, pre_self_pay, in_scope]
    }

    /// (deductible, fund before the cap) by walking the bands from the start position.
    fn fund(rule: &PlanRule, start: PeriodPosition, in_scope: Money) -> (Money, Money) {
        let deductible_left = rule
            .deductible
            .fen()
            .saturating_sub(start.deductible_used.fen());
        let deductible = in_scope.fen().min(deductible_left);
        let mut at = start.in_scope_cumulative.fen() + deductible;
        let end = start.in_scope_cumulative.fen() + in_scope.fen();
        let mut fund = Money::ZERO;
        for band in &rule.bands {
            let ceiling = band.up_to.map_or(u64::MAX, Money::fen);
            if at >= end {
                break;
            }
            if at >= ceiling {
                continue;
            }
            let step = end.min(ceiling) - at;
            let step_money = Money::from_fen(step).unwrap().to_decimal();
            fund = fund
                .checked_add(Self::round(step_money * band.fund_ratio.value()))
                .unwrap();
            at += step;
        }
        assert!(at >= end, "the open last band takes the rest");
        (Money::from_fen(deductible).unwrap(), fund)
    }

    fn settle(plan: &Plan, input: &AdjudicationInput<'_>) -> [Money; 12] {
        let rule = &plan.rules[0];
        let mut parts = [Money::ZERO; 4];
        for line in input.lines {
            let split = Self::line(line, plan.default_self_pay_ratio);
            for (part, amount) in parts.iter_mut().zip(split) {
                *part = part.checked_add(amount).unwrap();
            }
        }
        let [full_self_pay, over_limit, pre_self_pay, in_scope] = parts;
        let total = Money::checked_sum(parts).unwrap();
        let start = match rule.deductible_period {
            DeductiblePeriod::Year => input.year_position,
            DeductiblePeriod::Visit => PeriodPosition::ZERO,
        };
        let (deductible, fund_uncapped) = Self::fund(rule, start, in_scope);
        let fund = match rule.annual_cap {
            Some(cap) => fund_uncapped.min(cap.saturating_sub(input.year_position.fund_paid)),
            None => fund_uncapped,
        };
        let personal = total.checked_sub(fund).unwrap();
        let msa_scope = match plan.msa_scope {
            MsaScope::All => personal,
            MsaScope::InScope => {
                Money::from_fen(personal.fen() - full_self_pay.fen() - over_limit.fen()).unwrap()
            }
        };
        let msa = msa_scope.min(input.msa_balance);
        let cash = personal.checked_sub(msa).unwrap();
        let financed = cash.min(input.credit_available);
        let collect_now = cash.checked_sub(financed).unwrap();
        [
            total,
            full_self_pay,
            over_limit,
            pre_self_pay,
            in_scope,
            deductible,
            fund,
            personal,
            msa,
            cash,
            financed,
            collect_now,
        ]
    }
}

fn money_up_to(fen_max: u64) -> impl Strategy<Value = Money> {
    (0..=fen_max).prop_map(|fen| Money::from_fen(fen).unwrap())
}

fn any_ratio() -> impl Strategy<Value = Ratio> {
    prop_oneof![
        (0i64..=100).prop_map(|percent| Ratio::new(Decimal::new(percent, 2)).unwrap()),
        (0i64..=1_000_000).prop_map(|millionths| Ratio::new(Decimal::new(millionths, 6)).unwrap()),
    ]
}

fn any_quantity() -> impl Strategy<Value = Quantity> {
    prop_oneof![
        (1u64..=20).prop_map(|units| Quantity::units(units).unwrap()),
        (1i64..=200_000).prop_map(|ten_thousandths| {
            Quantity::new(Decimal::new(ten_thousandths, 4)).unwrap()
        }),
    ]
}

fn any_line() -> impl Strategy<Value = ChargeLine> {
    let category = prop_oneof![Just(Category::A), Just(Category::B), Just(Category::C)];
    (
        category,
        any_quantity(),
        money_up_to(300_000),
        proptest::option::of(any_ratio()),
        proptest::option::of(money_up_to(300_000)),
    )
        .prop_map(
            |(category, quantity, unit_price, ratio, price_cap)| ChargeLine {
                code: "X".to_owned(),
                description: String::new(),
                category,
                quantity,
                unit_price,
                // Category A lines carry no ratio (validation rejects a non-zero one).
                self_pay_ratio: ratio.filter(|_| category != Category::A),
                price_cap,
            },
        )
}

fn bands_from_steps(steps: Vec<(u64, Ratio)>, last_ratio: Ratio) -> Vec<Band> {
    let mut threshold = 0;
    let mut bands: Vec<Band> = steps
        .into_iter()
        .map(|(step, fund_ratio)| {
            threshold += step;
            Band {
                up_to: Some(Money::from_fen(threshold).unwrap()),
                fund_ratio,
            }
        })
        .collect();
    bands.push(Band {
        up_to: None,
        fund_ratio: last_ratio,
    });
    bands
}

fn any_rule() -> impl Strategy<Value = PlanRule> {
    let steps = proptest::collection::vec((1u64..=500_000, any_ratio()), 0..=3);
    let period = prop_oneof![Just(DeductiblePeriod::Year), Just(DeductiblePeriod::Visit)];
    (
        money_up_to(300_000),
        period,
        steps,
        any_ratio(),
        proptest::option::of(money_up_to(2_000_000)),
    )
        .prop_map(
            |(deductible, deductible_period, steps, last_ratio, annual_cap)| PlanRule {
                member_type: MemberType::Resident,
                visit_kind: VisitKind::Inpatient,
                hospital_level: HospitalLevel::Level1,
                deductible,
                deductible_period,
                bands: bands_from_steps(steps, last_ratio),
                annual_cap,
            },
        )
}

fn any_plan() -> impl Strategy<Value = Plan> {
    let scope = prop_oneof![Just(MsaScope::All), Just(MsaScope::InScope)];
    (any_rule(), scope, any_ratio())
        .prop_map(|(rule, msa_scope, default_ratio)| plan_with(rule, msa_scope, default_ratio))
}

/// A consistent plan-year position: deductible and fund both come out of in-scope.
fn any_position() -> impl Strategy<Value = PeriodPosition> {
    (0u64..=3_000_000, 0u64..=1000, 0u64..=1000).prop_map(
        |(in_scope, deductible_permille, fund_permille)| {
            let deductible_used = in_scope * deductible_permille / 1000;
            let fund_paid = (in_scope - deductible_used) * fund_permille / 1000;
            PeriodPosition {
                deductible_used: Money::from_fen(deductible_used).unwrap(),
                in_scope_cumulative: Money::from_fen(in_scope).unwrap(),
                fund_paid: Money::from_fen(fund_paid).unwrap(),
            }
        },
    )
}

struct Visit {
    plan: Plan,
    lines: Vec<ChargeLine>,
    position: PeriodPosition,
    msa_balance: Money,
    credit_available: Money,
}

impl Visit {
    fn input(&self) -> AdjudicationInput<'_> {
        AdjudicationInput {
            plan: &self.plan,
            plan_version: PlanVersion(1),
            member_type: MemberType::Resident,
            visit_kind: VisitKind::Inpatient,
            hospital_level: HospitalLevel::Level1,
            lines: &self.lines,
            year_position: self.position,
            msa_balance: self.msa_balance,
            credit_available: self.credit_available,
        }
    }
}

impl std::fmt::Debug for Visit {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Visit")
            .field("rule", &self.plan.rules[0])
            .field("msa_scope", &self.plan.msa_scope)
            .field("default_self_pay_ratio", &self.plan.default_self_pay_ratio)
            .field("lines", &self.lines)
            .field("position", &self.position)
            .field("msa_balance", &self.msa_balance)
            .field("credit_available", &self.credit_available)
            .finish()
    }
}

fn any_visit() -> impl Strategy<Value = Visit> {
    (
        any_plan(),
        proptest::collection::vec(any_line(), 0..=12),
        any_position(),
        money_up_to(500_000),
        money_up_to(2_000_000),
    )
        .prop_map(
            |(plan, lines, position, msa_balance, credit_available)| Visit {
                plan,
                lines,
                position,
                msa_balance,
                credit_available,
            },
        )
}

fn sum(amounts: &[Money]) -> Option<Money> {
    Money::checked_sum(amounts.iter().copied())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn adjudication_keeps_its_invariants(visit in any_visit()) {
        let input = visit.input();
        let s = adjudicate(&input).expect("random visits are valid");
        let rule = &visit.plan.rules[0];
        prop_assert_eq!(
            sum(&[s.full_self_pay, s.over_limit, s.pre_self_pay, s.in_scope]),
            Some(s.total)
        );
        for line in &s.lines {
            prop_assert_eq!(line.parts_sum(), Some(line.amount));
        }
        prop_assert_eq!(sum(&[s.fund_paid, s.personal_share]), Some(s.total));
        prop_assert_eq!(sum(&[s.msa_paid, s.cash_due]), Some(s.personal_share));
        prop_assert_eq!(sum(&[s.financed, s.collect_now]), Some(s.cash_due));
        prop_assert!(s.financed <= visit.credit_available);
        prop_assert!(s.msa_paid <= visit.msa_balance);
        prop_assert!(s.deductible <= s.in_scope);
        prop_assert!(s.fund_paid <= s.in_scope.checked_sub(s.deductible).unwrap());
        if let Some(cap) = rule.annual_cap {
            prop_assert!(s.fund_paid <= cap.saturating_sub(visit.position.fund_paid));
        }
        let deltas = s.accumulator_deltas();
        let after = PeriodPosition {
            deductible_used: visit.position.deductible_used.checked_add(deltas.deductible_used).unwrap(),
            in_scope_cumulative: visit.position.in_scope_cumulative.checked_add(deltas.in_scope_cumulative).unwrap(),
            fund_paid: visit.position.fund_paid.checked_add(deltas.fund_paid).unwrap(),
        };
        prop_assert_eq!(after, s.position_after);
        prop_assert_eq!(adjudicate(&input), Ok(s.clone()), "deterministic");
        prop_assert_eq!(amounts(&s), Auditor::settle(&visit.plan, &input));
    }

    #[test]
    fn the_year_deductible_adds_up_across_visits(
        visit in any_visit(),
        later_lines in proptest::collection::vec(any_line(), 0..=6),
    ) {
        let mut plan = visit.plan.clone();
        plan.rules[0].deductible_period = DeductiblePeriod::Year;
        let first_input = AdjudicationInput { plan: &plan, ..visit.input() };
        let first = adjudicate(&first_input).unwrap();
        let second = adjudicate(&AdjudicationInput {
            lines: &later_lines,
            year_position: first.position_after,
            ..first_input
        })
        .unwrap();
        let all_lines: Vec<ChargeLine> = visit.lines.iter().chain(&later_lines).cloned().collect();
        let merged = adjudicate(&AdjudicationInput { lines: &all_lines, ..first_input }).unwrap();
        prop_assert_eq!(first.deductible.checked_add(second.deductible), Some(merged.deductible));
        prop_assert_eq!(
            second.position_after.in_scope_cumulative,
            merged.position_after.in_scope_cumulative
        );
        prop_assert_eq!(
            second.position_after.deductible_used,
            merged.position_after.deductible_used
        );
        // The split adds one cut to the covered interval, so at most one extra rounding
        // (0.01); the annual cap (a min over the year) keeps that bound.
        let split_fund = first.fund_paid.checked_add(second.fund_paid).unwrap();
        let difference = split_fund.fen().abs_diff(merged.fund_paid.fen());
        prop_assert!(difference <= 1, "split {} merged {}", split_fund, merged.fund_paid);
    }
}
