//! The one error type of the crate.

use std::path::PathBuf;

/// Everything that can go wrong while reading data, training, evaluating or loading a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RiskError {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot parse CSV {path}")]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("the data has no column named {column:?}")]
    MissingColumn { column: String },
    #[error("the data has a duplicated column name {column:?}")]
    DuplicateColumn { column: String },
    #[error("row {row}: label {value:?} in column {column:?} is not 0 or 1")]
    InvalidLabel {
        row: usize,
        column: String,
        value: String,
    },
    #[error("row {row} has {found} fields, the header has {expected}")]
    RaggedRow {
        row: usize,
        found: usize,
        expected: usize,
    },
    #[error("the data has {rows} rows, more than the limit of {limit}")]
    TooManyRows { rows: usize, limit: usize },
    #[error("the data has {columns} columns, more than the limit of {limit}")]
    TooManyColumns { columns: usize, limit: usize },
    #[error("training needs both classes: {goods} goods and {bads} bads found")]
    SingleClass { goods: usize, bads: usize },
    #[error("no usable feature column is left after refusing protected and excluded columns")]
    NoFeatures,
    #[error("the holdout fraction must lie in [0, 0.9], got {value}")]
    InvalidHoldout { value: f64 },
    #[error("too few rows to train: {rows} (at least {minimum} needed)")]
    TooFewRows { rows: usize, minimum: usize },
    #[error("the model is invalid: {reason}")]
    InvalidModel { reason: String },
    #[error("cannot decode the model JSON")]
    ModelJson(#[source] serde_json::Error),
}
