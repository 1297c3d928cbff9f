//! Which columns training may use: the built-in deny-list and `--exclude`.
//!
//! **Invariant:** a column whose name marks it as a protected characteristic, an identifier or
//! medical information is never a feature, whatever the caller asks. The check is on the name,
//! case-insensitively: short words must be a whole word of the name (`SEX`, `race_code`,
//! `patient_id`), distinctive stems may appear anywhere (`MaritalStatus`, `diagnosis_1`).

use serde::{Deserialize, Serialize};

/// Why the deny-list refused a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// Sex, marital status, education, race, religion and other protected characteristics.
    Protected,
    /// Row identifiers carry no legitimate signal and leak identity.
    Identifier,
    /// Diagnoses, procedures, charge codes: credit decisions may not rest on them.
    Medical,
}

impl RefusalReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalReason::Protected => "protected characteristic",
            RefusalReason::Identifier => "identifier",
            RefusalReason::Medical => "medical information",
        }
    }
}

/// Whole words that refuse a column (compared after lower-casing and splitting on
/// non-alphanumeric characters).
const DENIED_WORDS: [(&str, RefusalReason); 24] = [
    ("sex", RefusalReason::Protected),
    ("gender", RefusalReason::Protected),
    ("marriage", RefusalReason::Protected),
    ("married", RefusalReason::Protected),
    ("marital", RefusalReason::Protected),
    ("education", RefusalReason::Protected),
    ("edu", RefusalReason::Protected),
    ("race", RefusalReason::Protected),
    ("ethnicity", RefusalReason::Protected),
    ("religion", RefusalReason::Protected),
    ("nationality", RefusalReason::Protected),
    ("citizenship", RefusalReason::Protected),
    ("disability", RefusalReason::Protected),
    ("pregnancy", RefusalReason::Protected),
    ("orientation", RefusalReason::Protected),
    ("caste", RefusalReason::Protected),
    ("id", RefusalReason::Identifier),
    ("uuid", RefusalReason::Identifier),
    ("ssn", RefusalReason::Identifier),
    ("icd", RefusalReason::Medical),
    ("diagnosis", RefusalReason::Medical),
    ("procedure", RefusalReason::Medical),
    ("medication", RefusalReason::Medical),
    ("prescription", RefusalReason::Medical),
];

/// Stems that refuse a column wherever they appear in its lower-cased alphanumeric name.
const DENIED_STEMS: [(&str, RefusalReason); 16] = [
    ("gender", RefusalReason::Protected),
    ("marital", RefusalReason::Protected),
    ("marriage", RefusalReason::Protected),
    ("education", RefusalReason::Protected),
    ("ethnic", RefusalReason::Protected),
    ("religio", RefusalReason::Protected),
    ("nationalit", RefusalReason::Protected),
    ("disabilit", RefusalReason::Protected),
    ("pregnan", RefusalReason::Protected),
    ("sexual", RefusalReason::Protected),
    ("diagnos", RefusalReason::Medical),
    ("icd9", RefusalReason::Medical),
    ("icd10", RefusalReason::Medical),
    ("chargecode", RefusalReason::Medical),
    ("procedurecode", RefusalReason::Medical),
    ("medicalrecord", RefusalReason::Medical),
];

/// The deny-list verdict for one column name, `None` if the name is allowed.
pub fn refusal_reason(column: &str) -> Option<RefusalReason> {
    let lower = column.to_lowercase();
    let words = lower.split(|character: char| !character.is_alphanumeric());
    for word in words {
        if let Some((_, reason)) = DENIED_WORDS.iter().find(|(denied, _)| *denied == word) {
            return Some(*reason);
        }
    }
    let squashed: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    DENIED_STEMS
        .iter()
        .find(|(stem, _)| squashed.contains(stem))
        .map(|(_, reason)| *reason)
}

/// A column the deny-list refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedColumn {
    pub column: String,
    pub reason: RefusalReason,
}

/// The verdict on every column of a training table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnScreen {
    /// Raw columns training may use, in table order.
    pub used: Vec<String>,
    /// Refused by the built-in deny-list (whether or not they were also excluded).
    pub refused: Vec<RefusedColumn>,
    /// Left out because the caller excluded them.
    pub excluded: Vec<String>,
    /// Left out because a cell is neither a number nor a missing marker.
    pub non_numeric: Vec<String>,
    /// `--exclude` names that match no column.
    pub unknown_exclusions: Vec<String>,
}

/// Sorts the columns of a table into used, refused, excluded and non-numeric, in that order
/// of precedence; the label column is none of them. Exclusions match case-insensitively.
pub fn screen_columns(
    names: &[String],
    label: &str,
    exclude: &[String],
    is_numeric: impl Fn(&str) -> bool,
) -> ColumnScreen {
    let mut screen = ColumnScreen::default();
    for name in names.iter().filter(|name| name.as_str() != label) {
        if let Some(reason) = refusal_reason(name) {
            screen.refused.push(RefusedColumn {
                column: name.clone(),
                reason,
            });
        } else if exclude.iter().any(|other| other.eq_ignore_ascii_case(name)) {
            screen.excluded.push(name.clone());
        } else if !is_numeric(name) {
            screen.non_numeric.push(name.clone());
        } else {
            screen.used.push(name.clone());
        }
    }
    screen.unknown_exclusions = exclude
        .iter()
        .filter(|other| !names.iter().any(|name| other.eq_ignore_ascii_case(name)))
        .cloned()
        .collect();
    debug_assert!(screen
        .used
        .iter()
        .all(|name| refusal_reason(name).is_none()));
    screen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_list_catches_protected_identifier_and_medical_names() {
        let cases = [
            ("SEX", Some(RefusalReason::Protected)),
            ("Gender", Some(RefusalReason::Protected)),
            ("MARRIAGE", Some(RefusalReason::Protected)),
            ("marital_status", Some(RefusalReason::Protected)),
            ("MaritalStatus", Some(RefusalReason::Protected)),
            ("EDUCATION", Some(RefusalReason::Protected)),
            ("race", Some(RefusalReason::Protected)),
            ("religion", Some(RefusalReason::Protected)),
            ("ID", Some(RefusalReason::Identifier)),
            ("patient_id", Some(RefusalReason::Identifier)),
            ("diagnosis_code", Some(RefusalReason::Medical)),
            ("icd10_primary", Some(RefusalReason::Medical)),
            ("charge_code", Some(RefusalReason::Medical)),
            ("PAY_0", None),
            ("BILL_AMT1", None),
            ("LIMIT_BAL", None),
            ("AGE", None),
            ("trace_level", None),
            ("essex_branch", None),
            ("paid_in_full", None),
        ];
        for (name, expected) in cases {
            assert_eq!(refusal_reason(name), expected, "{name}");
        }
    }

    #[test]
    fn screen_puts_each_column_in_one_place() {
        let names: Vec<String> = ["ID", "SEX", "AGE", "PAY_0", "note", "BILL", "y"]
            .iter()
            .map(|name| name.to_string())
            .collect();
        let exclude = vec!["bill".to_string(), "SEX".to_string(), "nope".to_string()];
        let screen = screen_columns(&names, "y", &exclude, |name| name != "note");
        assert_eq!(screen.used, vec!["AGE", "PAY_0"]);
        assert_eq!(screen.refused.len(), 2);
        assert_eq!(screen.refused[1].column, "SEX");
        assert_eq!(screen.excluded, vec!["BILL"]);
        assert_eq!(screen.non_numeric, vec!["note"]);
        assert_eq!(screen.unknown_exclusions, vec!["nope"]);
    }
}
