//! treatfirst-risk: the default-risk scorecard.
//!
//! Training reads any CSV with a 0/1 label column, refuses protected, identifying and medical
//! columns ([`columns`]), derives repayment-history features ([`features`]), bins them
//! ([`binning`], [`woe`]) and fits two scorecards on a stratified split: a weight-of-evidence
//! logistic scorecard ([`logistic`]) and a boosted scorecard ([`boost`]). A [`Model`] is a
//! versioned JSON file; scoring gives a probability of default, points on a documented
//! points-to-double-odds scale ([`scaling`]), a band, reason codes in plain words, and the
//! [`policy`] turns a band into recommended credit limits.
//!
//! **Architecture invariant:** scoring is a pure function of the model and the input values:
//! no IO, no clock, no randomness. Training randomness comes from an explicit seed.
//!
//! ```
//! use treatfirst_risk::{CreditPolicy, DefaultHistory, FeatureValues, Model};
//!
//! let model = Model::default_shipped();
//! let patient = FeatureValues::new()
//!     .with("LIMIT_BAL", 50000.0)
//!     .with("AGE", 35.0)
//!     .with("PAY_0", 2.0)
//!     .with("PAY_2", 0.0)
//!     .with("BILL_AMT1", 30000.0)
//!     .with("PAY_AMT1", 1000.0);
//! let score = model.score(&patient);
//! assert!((0.0..=1.0).contains(&score.probability_of_default));
//! assert!(score.reasons.len() <= 4);
//! let limit = CreditPolicy::standard().recommend(score.band, DefaultHistory::NoDefault);
//! println!("{} points, band {}, outpatient limit {}", score.points, score.band,
//!     limit.outpatient_decimal());
//! ```

pub mod binning;
pub mod boost;
pub mod cli;
pub mod columns;
pub mod data;
mod error;
pub mod features;
pub mod gbm;
pub mod logistic;
pub mod metrics;
pub mod model;
pub mod pairs;
pub mod policy;
mod rng;
pub mod scaling;
pub mod train;
pub mod woe;

pub use cli::{run, run_with_output, RiskCommand};
pub use data::Table;
pub use error::RiskError;
pub use features::FeatureValues;
pub use metrics::MetricsReport;
pub use model::{Band, Model, ModelKind, ReasonCode, Score};
pub use policy::{CreditLimit, CreditPolicy, DefaultHistory};
pub use scaling::{Scaling, DEFAULT_SCALING};
pub use train::{train, TrainConfig, TrainOutcome};
