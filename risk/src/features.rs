//! Features: raw columns, and characteristics derived from a repayment history.
//!
//! A feature is computed from named input columns only, so the same definition works on a
//! training table and on the [`FeatureValues`] of one patient at scoring time. Derived
//! features follow the repayment-history layout the ledger produces (and the Taiwan data set
//! uses): a repayment status per cycle (`PAY_0`, `PAY_2`..`PAY_6`: -2 nothing to pay, -1 paid
//! in full, 0 revolving, 1..9 months of delay; the lowest number is the latest cycle), the
//! amount billed per cycle (`BILL_AMT1`..), the amount repaid per cycle (`PAY_AMT1`..) and the
//! credit limit (`LIMIT_BAL`). A derived feature is added only if all its inputs are allowed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::data::Table;

/// Most input columns one derived feature may read.
pub const FEATURE_INPUTS_MAX: usize = 32;

/// The input values of one patient (or applicant), by column name. An absent column, or a
/// `NaN`, is a missing value and scores in its feature's missing bin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeatureValues {
    values: BTreeMap<String, f64>,
}

impl FeatureValues {
    pub fn new() -> FeatureValues {
        FeatureValues::default()
    }

    /// Builder form of [`FeatureValues::set`].
    pub fn with(mut self, column: impl Into<String>, value: f64) -> FeatureValues {
        self.set(column, value);
        self
    }

    pub fn set(&mut self, column: impl Into<String>, value: f64) {
        self.values.insert(column.into(), value);
    }

    /// The value of a column, `NaN` if absent.
    pub fn get(&self, column: &str) -> f64 {
        self.values.get(column).copied().unwrap_or(f64::NAN)
    }
}

impl<S: Into<String>> FromIterator<(S, f64)> for FeatureValues {
    fn from_iter<I: IntoIterator<Item = (S, f64)>>(iter: I) -> FeatureValues {
        let mut values = FeatureValues::new();
        for (column, value) in iter {
            values.set(column, value);
        }
        values
    }
}

/// One weighted input of a [`FeatureSource::Ratio`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Term<C = String> {
    pub column: C,
    pub weight: f64,
}

/// How a feature is computed from input columns. Any missing input makes the feature
/// missing, except where stated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FeatureSource<C = String> {
    /// The column itself.
    Raw { column: C },
    /// The largest non-missing value of the columns (missing only if all are).
    Max { columns: Vec<C> },
    /// How many columns are at least `threshold` (missing only if all are).
    CountAtLeast { columns: Vec<C>, threshold: f64 },
    /// How many columns equal `value` (missing only if all are).
    CountEqual { columns: Vec<C>, value: f64 },
    /// Position (0 = first) of the first column at least `threshold`, or the number of
    /// columns if none is; the columns are ordered latest first, so this counts the cycles
    /// since the event.
    CyclesSinceAtLeast { columns: Vec<C>, threshold: f64 },
    /// Weighted sum of the numerator over weighted sum of the denominator; missing when the
    /// denominator is not positive.
    Ratio {
        numerator: Vec<Term<C>>,
        denominator: Vec<Term<C>>,
    },
}

impl<C> FeatureSource<C> {
    /// The feature's value given a lookup of input values (`NaN` = missing).
    pub fn evaluate(&self, value_of: impl Fn(&C) -> f64) -> f64 {
        match self {
            FeatureSource::Raw { column } => value_of(column),
            FeatureSource::Max { columns } => present(columns, &value_of)
                .reduce(f64::max)
                .unwrap_or(f64::NAN),
            FeatureSource::CountAtLeast { columns, threshold } => {
                count_where(columns, &value_of, |value| value >= *threshold)
            }
            FeatureSource::CountEqual { columns, value } => {
                count_where(columns, &value_of, |candidate| candidate == *value)
            }
            FeatureSource::CyclesSinceAtLeast { columns, threshold } => {
                if present(columns, &value_of).next().is_none() {
                    return f64::NAN;
                }
                let first = columns
                    .iter()
                    .position(|column| value_of(column) >= *threshold);
                first.unwrap_or(columns.len()) as f64
            }
            FeatureSource::Ratio {
                numerator,
                denominator,
            } => {
                let top = weighted_sum(numerator, &value_of);
                let bottom = weighted_sum(denominator, &value_of);
                if top.is_nan() || bottom.is_nan() || bottom <= 0.0 {
                    f64::NAN
                } else {
                    top / bottom
                }
            }
        }
    }

    /// The same feature with every column reference mapped through `map`.
    pub fn map_columns<D>(&self, map: impl Fn(&C) -> D) -> FeatureSource<D> {
        let all = |columns: &[C]| columns.iter().map(&map).collect();
        let terms = |terms: &[Term<C>]| {
            terms
                .iter()
                .map(|term| Term {
                    column: map(&term.column),
                    weight: term.weight,
                })
                .collect()
        };
        match self {
            FeatureSource::Raw { column } => FeatureSource::Raw {
                column: map(column),
            },
            FeatureSource::Max { columns } => FeatureSource::Max {
                columns: all(columns),
            },
            FeatureSource::CountAtLeast { columns, threshold } => FeatureSource::CountAtLeast {
                columns: all(columns),
                threshold: *threshold,
            },
            FeatureSource::CountEqual { columns, value } => FeatureSource::CountEqual {
                columns: all(columns),
                value: *value,
            },
            FeatureSource::CyclesSinceAtLeast { columns, threshold } => {
                FeatureSource::CyclesSinceAtLeast {
                    columns: all(columns),
                    threshold: *threshold,
                }
            }
            FeatureSource::Ratio {
                numerator,
                denominator,
            } => FeatureSource::Ratio {
                numerator: terms(numerator),
                denominator: terms(denominator),
            },
        }
    }
}

impl FeatureSource {
    /// Every input column, in order of first use.
    pub fn columns(&self) -> Vec<&str> {
        let all: Vec<&str> = match self {
            FeatureSource::Raw { column } => vec![column.as_str()],
            FeatureSource::Max { columns }
            | FeatureSource::CountAtLeast { columns, .. }
            | FeatureSource::CountEqual { columns, .. }
            | FeatureSource::CyclesSinceAtLeast { columns, .. } => {
                columns.iter().map(String::as_str).collect()
            }
            FeatureSource::Ratio {
                numerator,
                denominator,
            } => numerator
                .iter()
                .chain(denominator)
                .map(|term| term.column.as_str())
                .collect(),
        };
        let mut columns: Vec<&str> = Vec::with_capacity(all.len());
        for column in all {
            if !columns.contains(&column) {
                columns.push(column);
            }
        }
        columns
    }

    /// The feature over every row of a table.
    ///
    /// # Panics
    /// If an input column is absent from the table (callers check [`FeatureSource::columns`]).
    pub fn evaluate_table(&self, table: &Table) -> Vec<f64> {
        let names = self.columns();
        assert!(names.len() <= FEATURE_INPUTS_MAX);
        let inputs: Vec<&[f64]> = names
            .iter()
            .map(|name| table.column(name).expect("input column present"))
            .collect();
        let indexed = self.map_columns(|column| {
            names
                .iter()
                .position(|name| name == column)
                .expect("listed column")
        });
        (0..table.rows())
            .map(|row| indexed.evaluate(|&input| inputs[input][row]))
            .collect()
    }
}

fn present<'a, C>(
    columns: &'a [C],
    value_of: &'a impl Fn(&C) -> f64,
) -> impl Iterator<Item = f64> + 'a {
    columns.iter().map(value_of).filter(|value| !value.is_nan())
}

fn count_where<C>(
    columns: &[C],
    value_of: &impl Fn(&C) -> f64,
    predicate: impl Fn(f64) -> bool,
) -> f64 {
    let mut any = false;
    let mut count = 0usize;
    for value in present(columns, value_of) {
        any = true;
        count += usize::from(predicate(value));
    }
    if any {
        count as f64
    } else {
        f64::NAN
    }
}

fn weighted_sum<C>(terms: &[Term<C>], value_of: &impl Fn(&C) -> f64) -> f64 {
    terms
        .iter()
        .map(|term| term.weight * value_of(&term.column))
        .sum()
}

/// A feature: its name, a plain-words description (used in reason codes) and its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureDefinition {
    pub name: String,
    pub description: String,
    pub source: FeatureSource,
}

/// The features training builds from the allowed raw columns: each raw column, then the
/// repayment-history characteristics whose inputs are all allowed.
pub fn feature_definitions(allowed: &[String]) -> Vec<FeatureDefinition> {
    let mut definitions: Vec<FeatureDefinition> = allowed
        .iter()
        .map(|column| FeatureDefinition {
            name: column.clone(),
            description: describe_column(column),
            source: FeatureSource::Raw {
                column: column.clone(),
            },
        })
        .collect();
    definitions.extend(history_features(&History::find(allowed)));
    definitions
}

/// The repayment-history columns present, each list ordered latest cycle first.
#[derive(Debug, Default)]
struct History {
    statuses: Vec<String>,
    bills: Vec<String>,
    repayments: Vec<String>,
    limit: Option<String>,
}

impl History {
    fn find(allowed: &[String]) -> History {
        let numbered = |prefix: &str| -> Vec<String> {
            let mut found: Vec<(u32, String)> = allowed
                .iter()
                .filter_map(|column| {
                    let upper = column.to_ascii_uppercase();
                    let number = upper.strip_prefix(prefix)?.parse::<u32>().ok()?;
                    Some((number, column.clone()))
                })
                .collect();
            found.sort();
            found.into_iter().map(|(_, column)| column).collect()
        };
        History {
            statuses: numbered("PAY_"),
            bills: numbered("BILL_AMT"),
            repayments: numbered("PAY_AMT"),
            limit: allowed
                .iter()
                .find(|column| column.eq_ignore_ascii_case("LIMIT_BAL"))
                .cloned(),
        }
    }
}

fn terms(columns: &[String]) -> Vec<Term> {
    columns
        .iter()
        .map(|column| Term {
            column: column.clone(),
            weight: 1.0,
        })
        .collect()
}

fn derived(name: &str, description: &str, source: FeatureSource) -> FeatureDefinition {
    FeatureDefinition {
        name: name.to_owned(),
        description: description.to_owned(),
        source,
    }
}

fn history_features(history: &History) -> Vec<FeatureDefinition> {
    let mut features = Vec::new();
    let statuses = &history.statuses;
    if statuses.len() >= 2 {
        let cycles = statuses.len();
        let recent = statuses[..cycles.min(3)].to_vec();
        features.push(derived(
            "delay_max",
            &format!("longest payment delay in the last {cycles} cycles"),
            FeatureSource::Max {
                columns: statuses.clone(),
            },
        ));
        features.push(derived(
            "delay_max_recent",
            &format!("longest payment delay in the last {} cycles", recent.len()),
            FeatureSource::Max { columns: recent },
        ));
        features.push(derived(
            "delayed_cycles",
            &format!("number of delayed cycles in the last {cycles}"),
            FeatureSource::CountAtLeast {
                columns: statuses.clone(),
                threshold: 1.0,
            },
        ));
        features.push(derived(
            "cycles_since_delay",
            "cycles since the last payment delay",
            FeatureSource::CyclesSinceAtLeast {
                columns: statuses.clone(),
                threshold: 1.0,
            },
        ));
        features.push(derived(
            "paid_in_full_cycles",
            &format!("number of cycles paid in full in the last {cycles}"),
            FeatureSource::CountEqual {
                columns: statuses.clone(),
                value: -1.0,
            },
        ));
        features.push(derived(
            "inactive_cycles",
            &format!("number of cycles with nothing to pay in the last {cycles}"),
            FeatureSource::CountEqual {
                columns: statuses.clone(),
                value: -2.0,
            },
        ));
    }
    if let Some(limit) = &history.limit {
        if let Some(last_bill) = history.bills.first() {
            features.push(derived(
                "utilization",
                "share of the credit limit used in the last cycle",
                FeatureSource::Ratio {
                    numerator: terms(std::slice::from_ref(last_bill)),
                    denominator: terms(std::slice::from_ref(limit)),
                },
            ));
        }
        if history.bills.len() >= 2 {
            let cycles = history.bills.len();
            features.push(derived(
                "utilization_mean",
                &format!("average share of the credit limit used over {cycles} cycles"),
                FeatureSource::Ratio {
                    numerator: terms(&history.bills),
                    denominator: vec![Term {
                        column: limit.clone(),
                        weight: cycles as f64,
                    }],
                },
            ));
        }
        if !history.repayments.is_empty() {
            let cycles = history.repayments.len();
            features.push(derived(
                "repaid_to_limit",
                &format!("amount repaid over {cycles} cycles relative to the credit limit"),
                FeatureSource::Ratio {
                    numerator: terms(&history.repayments),
                    denominator: vec![Term {
                        column: limit.clone(),
                        weight: cycles as f64,
                    }],
                },
            ));
        }
    }
    // The repayment of cycle k settles the bill of the cycle before it (k + 1).
    let pairs = history
        .repayments
        .len()
        .min(history.bills.len().saturating_sub(1));
    if pairs >= 1 {
        features.push(derived(
            "repaid_share",
            "share of the previous bill repaid in the last cycle",
            FeatureSource::Ratio {
                numerator: terms(&history.repayments[..1]),
                denominator: terms(&history.bills[1..2]),
            },
        ));
    }
    if pairs >= 2 {
        features.push(derived(
            "repaid_share_mean",
            &format!("share of the bills repaid over the last {pairs} cycles"),
            FeatureSource::Ratio {
                numerator: terms(&history.repayments[..pairs]),
                denominator: terms(&history.bills[1..=pairs]),
            },
        ));
    }
    features
}

/// Plain words for the columns of the repayment-history layout; other columns keep their name.
pub fn describe_column(column: &str) -> String {
    let upper = column.to_ascii_uppercase();
    let when = |number: u32| match number {
        0 | 1 => "in the last cycle".to_owned(),
        2 => "two cycles ago".to_owned(),
        3 => "three cycles ago".to_owned(),
        4 => "four cycles ago".to_owned(),
        5 => "five cycles ago".to_owned(),
        6 => "six cycles ago".to_owned(),
        other => format!("{other} cycles ago"),
    };
    let numbered = |prefix: &str| {
        upper
            .strip_prefix(prefix)
            .and_then(|rest| rest.parse::<u32>().ok())
    };
    if let Some(number) = numbered("PAY_AMT") {
        format!("amount repaid {}", when(number))
    } else if let Some(number) = numbered("BILL_AMT") {
        format!("amount billed {}", when(number))
    } else if let Some(number) = numbered("PAY_") {
        format!("months of payment delay {}", when(number))
    } else if upper == "LIMIT_BAL" {
        "credit limit".to_owned()
    } else if upper == "AGE" {
        "age".to_owned()
    } else {
        column.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn derived_features_follow_the_history_layout() {
        let allowed = names(&[
            "LIMIT_BAL",
            "PAY_0",
            "PAY_2",
            "PAY_3",
            "BILL_AMT1",
            "BILL_AMT2",
            "BILL_AMT3",
            "PAY_AMT1",
            "PAY_AMT2",
            "PAY_AMT3",
        ]);
        let definitions = feature_definitions(&allowed);
        let find = |name: &str| {
            definitions
                .iter()
                .find(|definition| definition.name == name)
                .unwrap_or_else(|| panic!("{name}"))
        };
        let values = FeatureValues::new()
            .with("LIMIT_BAL", 1000.0)
            .with("PAY_0", 0.0)
            .with("PAY_2", 2.0)
            .with("PAY_3", -1.0)
            .with("BILL_AMT1", 500.0)
            .with("BILL_AMT2", 400.0)
            .with("BILL_AMT3", 100.0)
            .with("PAY_AMT1", 200.0)
            .with("PAY_AMT2", 100.0)
            .with("PAY_AMT3", 50.0);
        let value = |name: &str| find(name).source.evaluate(|column| values.get(column));
        assert_eq!(value("delay_max"), 2.0);
        assert_eq!(value("delayed_cycles"), 1.0);
        assert_eq!(value("cycles_since_delay"), 1.0);
        assert_eq!(value("paid_in_full_cycles"), 1.0);
        assert_eq!(value("inactive_cycles"), 0.0);
        assert_eq!(value("utilization"), 0.5);
        assert_eq!(value("utilization_mean"), 1000.0 / 3000.0);
        assert_eq!(value("repaid_share"), 0.5);
        assert_eq!(value("repaid_share_mean"), 300.0 / 500.0);
        assert_eq!(value("repaid_to_limit"), 350.0 / 3000.0);
        assert_eq!(
            find("PAY_0").description,
            "months of payment delay in the last cycle"
        );
        assert_eq!(
            find("BILL_AMT2").description,
            "amount billed two cycles ago"
        );
    }

    #[test]
    fn missing_inputs_and_empty_denominators_give_missing_features() {
        let ratio = FeatureSource::Ratio {
            numerator: terms(&names(&["a"])),
            denominator: terms(&names(&["b"])),
        };
        assert!(ratio
            .evaluate(|name| if name == "a" { 1.0 } else { 0.0 })
            .is_nan());
        assert!(ratio.evaluate(|_| f64::NAN).is_nan());
        let max = FeatureSource::Max {
            columns: names(&["a", "b"]),
        };
        assert_eq!(
            max.evaluate(|name| if name == "a" { 3.0 } else { f64::NAN }),
            3.0
        );
        assert!(max.evaluate(|_| f64::NAN).is_nan());
    }

    #[test]
    fn no_history_columns_means_no_derived_features() {
        let definitions = feature_definitions(&names(&["x", "y"]));
        assert_eq!(definitions.len(), 2);
    }
}
