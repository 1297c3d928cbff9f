//! treatfirst-risk: the default-risk scorecard.
//!
//! Training reads any CSV with a 0/1 label column (1 = defaulted) and:
//!
//! 1. refuses every column on the built-in deny-list (protected characteristics such as sex,
//!    marital status, education, race, religion; identifiers; medical information), plus the
//!    columns the caller excludes ([`columns`]), and says so in its output;
//! 2. adds repayment-history features the ledger can compute (longest delay, delayed cycles,
//!    cycles since the last delay, utilization, share of bills repaid, ...) ([`features`]);
//! 3. holds out a stratified, seeded share of the rows ([`train::stratified_split`]);
//! 4. bins every feature: quantile fine classing, adjacent bins merged until bad rates are
//!    monotone, missing values in their own bin ([`binning`]), with weight of evidence and
//!    information value ([`woe`]);
//! 5. fits two models side by side: the classic WoE logistic scorecard ([`logistic`]) and the
//!    boosted scorecard (the shipped kind): boosted one-split trees per feature on fine bins,
//!    each feature's points kept monotone, plus up to ten pairwise interaction terms
//!    ([`boost`], [`pairs`]). Both are sums of per-bin points, so both explain themselves;
//! 6. reports held-out AUC, KS, Brier, ECE, a calibration table by decile and the IV of every
//!    feature ([`metrics`]), and stores them with the training distribution in the model.
//!
//! Measured on the Taiwan credit-card data set (30,000 rows, 30% stratified holdout, seeds 1
//! to 5, mean): boosted scorecard AUC 0.782, KS 0.431, Brier 0.135, ECE 0.011; WoE scorecard
//! AUC 0.769, KS 0.416; boosted depth-3 trees on the same bins ([`gbm`], a reference only)
//! AUC 0.783, KS 0.432. See `examples/seeds.rs`.
//!
//! A [`Model`] is a versioned JSON file (`format_version`, `model_version`, features with
//! their source, bins, WoE, log-odds and points, interaction tables, scaling, band cut-offs,
//! the training distribution for PSI, metrics at training time). Scoring gives the probability
//! of default, points on a points-to-double-odds scale (600 points at odds 50:1, 20 points to
//! double the odds: [`scaling`]), a band A to E ([`model`]), the top four reason codes in plain
//! words, and [`policy`] turns a band into recommended outpatient and inpatient limits in whole
//! yuan.
//!
//! **Architecture invariant:** scoring is a pure function of the model and the input values:
//! no IO, no clock, no randomness. Training randomness comes from an explicit seed. The crate
//! knows nothing about HTTP or the ledger's storage.
//!
//! **Architecture invariant:** a model never reads a deny-listed column: training refuses
//! them and loading a model file that names one fails.
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
//! println!(
//!     "{} points, band {}, outpatient limit {} yuan",
//!     score.points,
//!     score.band,
//!     limit.outpatient_decimal()
//! );
//! ```
//!
//! The command-line module ([`RiskCommand`], [`run`]) is mounted by the main binary as
//! `treatfirst risk train|eval|psi`; until then `examples/train.rs` runs it:
//!
//! ```text
//! cargo run --release -p treatfirst-risk --example train -- train \
//!     --data ../shared/data/uci_credit_card_taiwan.csv \
//!     --label default.payment.next.month --holdout 0.3 --seed 1 --out /tmp/model.json
//! ```

pub mod binning;
pub mod boost;
pub mod cli;
pub mod columns;
pub mod data;
mod error;
pub mod features;
pub mod gbm;
pub mod history;
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
pub use history::{Cycle, CycleStatus, RepaymentHistory};
pub use metrics::MetricsReport;
pub use model::{Band, Model, ModelKind, ReasonCode, Score};
pub use policy::{CreditLimit, CreditPolicy, DefaultHistory};
pub use scaling::{Scaling, DEFAULT_SCALING};
pub use train::{train, TrainConfig, TrainOutcome};
