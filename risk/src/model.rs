//! The model file and scoring.
//!
//! A model is a scorecard: for every feature, bins with a log-odds contribution and points.
//! `log-odds of default = intercept + sum over features of the contribution of the value's
//! bin`; the probability of default is its logistic; the points are the scaled log-odds
//! ([`Scaling`]) and equal the sum of the bins' points. Both model kinds (the weight-of-
//! evidence logistic scorecard and the boosted scorecard) share this form, so scoring and
//! reason codes are the same code for both.
//!
//! A boosted scorecard may add a few pairwise interaction terms ([`InteractionSpec`]): a table
//! of log-odds and points over the bins of two features. The model stays a sum of terms.
//!
//! Reason codes: the [`REASONS_MAX`] features whose points fall furthest below the most
//! points that feature can give, in plain words, largest gap first. The gap of a feature is
//! how many points the patient would gain if that one characteristic took its best value (over
//! the value bins seen in training) with everything else unchanged; for a feature without
//! interactions that is simply its best bin's points minus its bin's points.
//!
//! Bands, on the rounded points (each band boundary doubles the odds, as PDO is 20):
//!
//! | band | points    | odds of repaying  | probability of default |
//! |------|-----------|-------------------|------------------------|
//! | A    | >= 580    | >= 25 : 1         | <= 3.8%                |
//! | B    | 560..=579 | >= 12.5 : 1       | <= 7.4%                |
//! | C    | 540..=559 | >= 6.25 : 1       | <= 13.8%               |
//! | D    | 520..=539 | >= 3.1 : 1        | <= 24.2%               |
//! | E    | < 520     | < 3.1 : 1         | > 24.2%                |

use serde::{Deserialize, Serialize};

use crate::binning::{Cuts, Trend};
use crate::columns::{refusal_reason, RefusedColumn};
use crate::data::Table;
use crate::error::RiskError;
use crate::features::{FeatureSource, FeatureValues, FEATURE_INPUTS_MAX};
use crate::metrics::{psi, MetricsReport};
use crate::scaling::{sigmoid, Scaling};

/// The model file format this code reads and writes.
pub const MODEL_FORMAT_VERSION: u32 = 1;
/// How many reason codes a score carries at most.
pub const REASONS_MAX: usize = 4;
/// Most features a model may have.
pub const MODEL_FEATURES_MAX: usize = 256;
/// Most bins one feature may have (the missing bin included).
pub const FEATURE_BINS_MAX: usize = 257;
/// Points tolerance when checking that every bin's points follow from its log-odds.
const POINTS_TOLERANCE: f64 = 1e-6;

/// The shipped default model (`risk/models/default-v1.json`).
pub const SHIPPED_MODEL_JSON: &str = include_str!("../models/default-v1.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Monotone coarse bins, weight of evidence, L2 logistic regression.
    WoeScorecard,
    /// Fine bins, boosted stumps (see [`crate::boost`]).
    BoostedScorecard,
}

impl ModelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::WoeScorecard => "woe_scorecard",
            ModelKind::BoostedScorecard => "boosted_scorecard",
        }
    }
}

/// Risk bands, A the safest. See the module documentation for the cut-offs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Band {
    A,
    B,
    C,
    D,
    E,
}

impl Band {
    pub const ALL: [Band; 5] = [Band::A, Band::B, Band::C, Band::D, Band::E];

    /// The next riskier band (E stays E).
    pub fn lower(self) -> Band {
        match self {
            Band::A => Band::B,
            Band::B => Band::C,
            Band::C => Band::D,
            Band::D | Band::E => Band::E,
        }
    }
}

impl std::fmt::Display for Band {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{self:?}")
    }
}

/// Fewest rounded points for bands A to D; anything below `d` is band E.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandCutoffs {
    pub a: i32,
    pub b: i32,
    pub c: i32,
    pub d: i32,
}

/// The documented default cut-offs (module documentation).
pub const DEFAULT_BAND_CUTOFFS: BandCutoffs = BandCutoffs {
    a: 580,
    b: 560,
    c: 540,
    d: 520,
};

impl BandCutoffs {
    pub fn band(&self, points: i32) -> Band {
        if points >= self.a {
            Band::A
        } else if points >= self.b {
            Band::B
        } else if points >= self.c {
            Band::C
        } else if points >= self.d {
            Band::D
        } else {
            Band::E
        }
    }

    fn is_valid(&self) -> bool {
        self.a > self.b && self.b > self.c && self.c > self.d
    }
}

/// One bin of a feature. A value bin holds `lower_edge < x <= upper_edge` (a missing edge is
/// unbounded); the missing bin (last) holds missing values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinSpec {
    pub lower_edge: Option<f64>,
    pub upper_edge: Option<f64>,
    pub missing: bool,
    /// Training rows in the bin (the distribution PSI compares against).
    pub training_goods: u64,
    pub training_bads: u64,
    pub woe: f64,
    /// Contribution to the log-odds of default.
    pub log_odds: f64,
    pub points: f64,
}

impl BinSpec {
    pub fn training_rows(&self) -> u64 {
        self.training_goods + self.training_bads
    }

    /// The bin in interval notation, e.g. `(0, 2]`, or `missing`.
    pub fn range_label(&self) -> String {
        if self.missing {
            return "missing".to_owned();
        }
        let lower = self.lower_edge.map_or("-inf".to_owned(), format_edge);
        let upper = self
            .upper_edge
            .map_or("+inf)".to_owned(), |edge| format!("{}]", format_edge(edge)));
        format!("({lower}, {upper}")
    }
}

/// Edges print as integers when they are, else with up to four decimals.
fn format_edge(edge: f64) -> String {
    if edge.fract() == 0.0 && edge.abs() < 1e15 {
        format!("{edge:.0}")
    } else {
        let text = format!("{edge:.4}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// A feature of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    pub name: String,
    /// Plain words, used in reason codes.
    pub description: String,
    pub source: FeatureSource,
    /// Information value on the training rows (monotone coarse bins).
    pub information_value: f64,
    /// Logistic coefficient of the WoE (WoE scorecard only).
    pub coefficient: Option<f64>,
    /// Direction of the bad rate over the coarse bins.
    pub trend: Option<Trend>,
    /// Value bins in ascending order, then the missing bin.
    pub bins: Vec<BinSpec>,
}

impl FeatureSpec {
    /// The bin of a feature value (`NaN` = missing).
    pub fn bin_index(&self, value: f64) -> usize {
        let missing_bin = self.bins.len() - 1;
        if value.is_nan() {
            return missing_bin;
        }
        self.bins[..missing_bin]
            .iter()
            .position(|bin| bin.upper_edge.map_or(true, |edge| value <= edge))
            .expect("the last value bin is unbounded")
    }

    /// The most points this feature alone can give, over the value bins seen in training.
    pub fn max_points(&self) -> f64 {
        self.bins
            .iter()
            .filter(|bin| bin.training_rows() > 0 && !bin.missing)
            .map(|bin| bin.points)
            .fold(f64::NEG_INFINITY, f64::max)
    }

    /// Ascending upper edges of the value bins.
    fn upper_edges(&self) -> impl Iterator<Item = f64> + '_ {
        self.bins.iter().filter_map(|bin| bin.upper_edge)
    }
}

/// A pairwise interaction term: log-odds and points over the bins of two features (missing
/// bins last in each direction).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InteractionSpec {
    /// Name of the first feature (a feature of the model).
    pub first: String,
    /// Name of the second feature.
    pub second: String,
    pub first_cuts: Cuts,
    pub second_cuts: Cuts,
    /// `log_odds[first bin][second bin]`, contribution to the log-odds of default.
    pub log_odds: Vec<Vec<f64>>,
    /// `points[first bin][second bin]`.
    pub points: Vec<Vec<f64>>,
}

impl InteractionSpec {
    fn cell(&self, first: f64, second: f64) -> (usize, usize) {
        (
            self.first_cuts.bin_of(first),
            self.second_cuts.bin_of(second),
        )
    }
}

/// Most interaction terms a model may have.
pub const INTERACTIONS_MAX: usize = 64;

/// The training distribution of the points, in deciles, for the PSI of the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreDistribution {
    pub upper_edges: Vec<f64>,
    pub training_counts: Vec<u64>,
}

impl ScoreDistribution {
    pub fn counts(&self, points: &[f64]) -> Vec<u64> {
        let mut counts = vec![0u64; self.training_counts.len()];
        for &value in points {
            counts[self.upper_edges.partition_point(|&edge| edge < value)] += 1;
        }
        counts
    }
}

/// A candidate feature considered in training, with its IV and whether the model uses it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateFeature {
    pub name: String,
    pub description: String,
    pub information_value: f64,
    pub used: bool,
    /// Why it is not used, empty when used.
    pub note: String,
}

/// What the model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    pub rows: usize,
    pub training_rows: usize,
    pub holdout_rows: usize,
    pub holdout_fraction: f64,
    pub seed: u64,
    pub refused_columns: Vec<RefusedColumn>,
    pub excluded_columns: Vec<String>,
    pub non_numeric_columns: Vec<String>,
    pub candidate_features: Vec<CandidateFeature>,
    /// Boosting rounds kept (boosted scorecard only).
    pub boosting_rounds: Option<usize>,
}

/// Held-out metrics of a model trained alongside, for comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChallengerMetrics {
    pub kind: ModelKind,
    pub holdout: MetricsReport,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetrics {
    pub training: MetricsReport,
    pub holdout: Option<MetricsReport>,
    pub challengers: Vec<ChallengerMetrics>,
}

/// A reason the score is not higher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReasonCode {
    pub feature: String,
    /// Plain words, e.g. "months of payment delay in the last cycle".
    pub description: String,
    /// The bin the value fell in, e.g. `(0, 2]` or `missing`.
    pub value_range: String,
    /// How many points more the best bin of this feature would give.
    pub points_below_max: f64,
}

/// The result of scoring one patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub probability_of_default: f64,
    /// The scaled score, rounded half away from zero.
    pub points: i32,
    pub band: Band,
    /// At most [`REASONS_MAX`], largest gap first.
    pub reasons: Vec<ReasonCode>,
}

/// Population stability of a new data set against the training distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PsiReport {
    pub rows: usize,
    pub score: f64,
    /// Per feature, in model order.
    pub features: Vec<(String, f64)>,
}

/// A trained, validated model. Build one with [`crate::train::train`] or load one with
/// [`Model::from_json`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    format_version: u32,
    model_version: String,
    kind: ModelKind,
    label: String,
    scaling: Scaling,
    band_cutoffs: BandCutoffs,
    intercept_log_odds: f64,
    features: Vec<FeatureSpec>,
    #[serde(default)]
    interactions: Vec<InteractionSpec>,
    score_distribution: ScoreDistribution,
    training: TrainingSummary,
    metrics: ModelMetrics,
}

/// The parts of a model that training assembles.
pub(crate) struct ModelParts {
    pub model_version: String,
    pub kind: ModelKind,
    pub label: String,
    pub scaling: Scaling,
    pub intercept_log_odds: f64,
    pub features: Vec<FeatureSpec>,
    pub interactions: Vec<InteractionSpec>,
    pub training: TrainingSummary,
}

impl Model {
    /// Assembles a model: fills in every bin's points from its log-odds; the score
    /// distribution and metrics come later ([`Model::with_training_evaluation`]).
    pub(crate) fn assemble(parts: ModelParts) -> Result<Model, RiskError> {
        let mut model = Model {
            format_version: MODEL_FORMAT_VERSION,
            model_version: parts.model_version,
            kind: parts.kind,
            label: parts.label,
            scaling: parts.scaling,
            band_cutoffs: DEFAULT_BAND_CUTOFFS,
            intercept_log_odds: parts.intercept_log_odds,
            features: parts.features,
            interactions: parts.interactions,
            score_distribution: ScoreDistribution {
                upper_edges: Vec::new(),
                training_counts: vec![0],
            },
            training: parts.training,
            metrics: ModelMetrics {
                training: MetricsReport::compute(&[0.5], &[false]),
                holdout: None,
                challengers: Vec::new(),
            },
        };
        let share = model.points_share();
        let factor = model.scaling.factor();
        for bin in model.features.iter_mut().flat_map(|f| f.bins.iter_mut()) {
            bin.points = share - factor * bin.log_odds;
        }
        for interaction in &mut model.interactions {
            interaction.points = interaction
                .log_odds
                .iter()
                .map(|row| row.iter().map(|log_odds| -factor * log_odds).collect())
                .collect();
        }
        model.validate()?;
        Ok(model)
    }

    pub(crate) fn set_score_distribution(&mut self, distribution: ScoreDistribution) {
        self.score_distribution = distribution;
    }

    pub(crate) fn set_metrics(&mut self, metrics: ModelMetrics) {
        self.metrics = metrics;
    }

    /// Each feature's share of the points the intercept carries.
    fn points_share(&self) -> f64 {
        let base = self
            .scaling
            .points_from_log_odds_of_default(self.intercept_log_odds);
        base / self.features.len() as f64
    }

    /// Parses and validates a model file.
    ///
    /// # Errors
    /// [`RiskError::ModelJson`] for malformed JSON, [`RiskError::InvalidModel`] for a model
    /// that breaks an invariant (format version, bins, points, a refused column, limits).
    pub fn from_json(text: &str) -> Result<Model, RiskError> {
        let model: Model = serde_json::from_str(text).map_err(RiskError::ModelJson)?;
        model.validate()?;
        Ok(model)
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a model always serializes")
    }

    /// The shipped default model, compiled into the crate.
    ///
    /// # Panics
    /// Never in a released build: a test checks that the shipped file loads.
    pub fn default_shipped() -> Model {
        Model::from_json(SHIPPED_MODEL_JSON).expect("the shipped model is valid")
    }

    fn validate(&self) -> Result<(), RiskError> {
        let invalid = |reason: String| Err(RiskError::InvalidModel { reason });
        if self.format_version != MODEL_FORMAT_VERSION {
            return invalid(format!(
                "format version {} is not {MODEL_FORMAT_VERSION}",
                self.format_version
            ));
        }
        if !self.scaling.is_valid() || !self.intercept_log_odds.is_finite() {
            return invalid("scaling or intercept is not a finite, positive scale".into());
        }
        if !self.band_cutoffs.is_valid() {
            return invalid("band cut-offs must strictly decrease from A to D".into());
        }
        if self.features.is_empty() || self.features.len() > MODEL_FEATURES_MAX {
            return invalid(format!("{} features", self.features.len()));
        }
        for (index, feature) in self.features.iter().enumerate() {
            if self.features[..index]
                .iter()
                .any(|other| other.name == feature.name)
            {
                return invalid(format!("feature {} appears twice", feature.name));
            }
            self.validate_feature(feature)
                .or_else(|reason| invalid(format!("feature {}: {reason}", feature.name)))?;
        }
        if self.interactions.len() > INTERACTIONS_MAX {
            return invalid(format!("{} interactions", self.interactions.len()));
        }
        for interaction in &self.interactions {
            self.validate_interaction(interaction).or_else(|reason| {
                invalid(format!(
                    "interaction {} x {}: {reason}",
                    interaction.first, interaction.second
                ))
            })?;
        }
        let distribution = &self.score_distribution;
        if distribution.training_counts.len() != distribution.upper_edges.len() + 1
            || !distribution
                .upper_edges
                .windows(2)
                .all(|pair| pair[0] < pair[1])
        {
            return invalid("score distribution edges and counts disagree".into());
        }
        Ok(())
    }

    fn validate_feature(&self, feature: &FeatureSpec) -> Result<(), String> {
        let columns = feature.source.columns();
        if columns.is_empty() || columns.len() > FEATURE_INPUTS_MAX {
            return Err(format!("{} input columns", columns.len()));
        }
        if let Some(column) = columns.iter().find(|c| refusal_reason(c).is_some()) {
            return Err(format!("input column {column} is on the deny-list"));
        }
        let bins = &feature.bins;
        if bins.len() < 2 || bins.len() > FEATURE_BINS_MAX {
            return Err(format!("{} bins", bins.len()));
        }
        let (missing, values) = bins.split_last().expect("two bins");
        if !missing.missing || missing.lower_edge.is_some() || missing.upper_edge.is_some() {
            return Err("the last bin must be the missing bin, without edges".into());
        }
        if values.iter().any(|bin| bin.missing)
            || values[0].lower_edge.is_some()
            || values[values.len() - 1].upper_edge.is_some()
        {
            return Err("value bins must cover all numbers".into());
        }
        for pair in values.windows(2) {
            let (Some(upper), Some(lower)) = (pair[0].upper_edge, pair[1].lower_edge) else {
                return Err("inner value bins need edges".into());
            };
            if upper != lower || pair[0].lower_edge.is_some_and(|edge| edge >= upper) {
                return Err("value bins must be contiguous and ascending".into());
            }
        }
        let share = self.points_share();
        let factor = self.scaling.factor();
        for bin in bins {
            let numbers = [bin.woe, bin.log_odds, bin.points];
            if numbers.iter().any(|number| !number.is_finite()) {
                return Err("non-finite bin value".into());
            }
            if (bin.points - (share - factor * bin.log_odds)).abs() > POINTS_TOLERANCE {
                return Err("bin points do not follow from its log-odds".into());
            }
        }
        Ok(())
    }

    fn feature_index(&self, name: &str) -> Option<usize> {
        self.features
            .iter()
            .position(|feature| feature.name == name)
    }

    fn validate_interaction(&self, interaction: &InteractionSpec) -> Result<(), String> {
        let (Some(first), Some(second)) = (
            self.feature_index(&interaction.first),
            self.feature_index(&interaction.second),
        ) else {
            return Err("names a feature the model does not have".into());
        };
        if first == second {
            return Err("pairs a feature with itself".into());
        }
        let ascending = |cuts: &Cuts| {
            cuts.upper_edges.windows(2).all(|pair| pair[0] < pair[1])
                && cuts.upper_edges.iter().all(|edge| edge.is_finite())
                && cuts.bins() <= FEATURE_BINS_MAX
        };
        if !ascending(&interaction.first_cuts) || !ascending(&interaction.second_cuts) {
            return Err("cuts must be finite and strictly ascending".into());
        }
        let shape_ok = |table: &Vec<Vec<f64>>| {
            table.len() == interaction.first_cuts.bins()
                && table
                    .iter()
                    .all(|row| row.len() == interaction.second_cuts.bins())
        };
        if !shape_ok(&interaction.log_odds) || !shape_ok(&interaction.points) {
            return Err("tables must have one cell per pair of bins".into());
        }
        let factor = self.scaling.factor();
        let cells = interaction.log_odds.iter().flatten();
        for (log_odds, points) in cells.zip(interaction.points.iter().flatten()) {
            if !log_odds.is_finite() || (points + factor * log_odds).abs() > POINTS_TOLERANCE {
                return Err("cell points do not follow from its log-odds".into());
            }
        }
        Ok(())
    }

    pub fn model_version(&self) -> &str {
        &self.model_version
    }

    pub fn kind(&self) -> ModelKind {
        self.kind
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn scaling(&self) -> Scaling {
        self.scaling
    }

    pub fn band_cutoffs(&self) -> BandCutoffs {
        self.band_cutoffs
    }

    pub fn intercept_log_odds(&self) -> f64 {
        self.intercept_log_odds
    }

    pub fn features(&self) -> &[FeatureSpec] {
        &self.features
    }

    pub fn interactions(&self) -> &[InteractionSpec] {
        &self.interactions
    }

    pub fn score_distribution(&self) -> &ScoreDistribution {
        &self.score_distribution
    }

    pub fn training(&self) -> &TrainingSummary {
        &self.training
    }

    pub fn metrics(&self) -> &ModelMetrics {
        &self.metrics
    }

    /// Every input column the model reads, in order of first use.
    pub fn required_columns(&self) -> Vec<&str> {
        let mut columns: Vec<&str> = Vec::new();
        for column in self.features.iter().flat_map(|f| f.source.columns()) {
            if !columns.contains(&column) {
                columns.push(column);
            }
        }
        columns
    }

    /// The value of every feature for one patient (`NaN` = missing).
    fn feature_values(&self, values: &FeatureValues) -> Vec<f64> {
        self.features
            .iter()
            .map(|feature| feature.source.evaluate(|column| values.get(column)))
            .collect()
    }

    /// Log-odds of default from the value of every feature.
    fn log_odds_of(&self, values: &[f64]) -> f64 {
        let mains: f64 = self
            .features
            .iter()
            .zip(values)
            .map(|(feature, &value)| feature.bins[feature.bin_index(value)].log_odds)
            .sum();
        let pairs: f64 = self
            .interactions
            .iter()
            .map(|interaction| self.interaction_log_odds(interaction, values, None))
            .sum();
        self.intercept_log_odds + mains + pairs
    }

    /// The log-odds of an interaction, optionally with one feature's value replaced.
    fn interaction_log_odds(
        &self,
        interaction: &InteractionSpec,
        values: &[f64],
        replaced: Option<(usize, f64)>,
    ) -> f64 {
        let value_of = |name: &str| {
            let index = self.feature_index(name).expect("validated feature name");
            match replaced {
                Some((replaced_index, value)) if replaced_index == index => value,
                _ => values[index],
            }
        };
        let (first, second) =
            interaction.cell(value_of(&interaction.first), value_of(&interaction.second));
        interaction.log_odds[first][second]
    }

    /// Everything feature `index` adds to the log-odds when its value is `value` and the
    /// other features keep theirs: its bin plus the interactions it takes part in.
    fn feature_log_odds(&self, index: usize, values: &[f64], value: f64) -> f64 {
        let feature = &self.features[index];
        let pairs: f64 = self
            .interactions
            .iter()
            .filter(|interaction| {
                interaction.first == feature.name || interaction.second == feature.name
            })
            .map(|interaction| self.interaction_log_odds(interaction, values, Some((index, value))))
            .sum();
        feature.bins[feature.bin_index(value)].log_odds + pairs
    }

    /// One value inside every interval the feature's bins and interactions distinguish.
    fn representative_values(&self, index: usize) -> Vec<f64> {
        let feature = &self.features[index];
        let mut edges: Vec<f64> = feature.upper_edges().collect();
        for interaction in &self.interactions {
            if interaction.first == feature.name {
                edges.extend(&interaction.first_cuts.upper_edges);
            } else if interaction.second == feature.name {
                edges.extend(&interaction.second_cuts.upper_edges);
            }
        }
        edges.sort_by(f64::total_cmp);
        edges.dedup();
        let beyond = edges.last().map_or(0.0, |last| last + last.abs().max(1.0));
        edges.push(beyond);
        edges
    }

    /// Scores one patient. An absent or `NaN` input makes the features that read it missing;
    /// see [`Model::required_columns`].
    pub fn score(&self, values: &FeatureValues) -> Score {
        let feature_values = self.feature_values(values);
        let log_odds = self.log_odds_of(&feature_values);
        let exact_points = self.scaling.points_from_log_odds_of_default(log_odds);
        let points = exact_points
            .round()
            .clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32;
        Score {
            probability_of_default: sigmoid(log_odds),
            points,
            band: self.band_cutoffs.band(points),
            reasons: self.reasons(&feature_values),
        }
    }

    fn reasons(&self, values: &[f64]) -> Vec<ReasonCode> {
        let factor = self.scaling.factor();
        let mut reasons: Vec<ReasonCode> = self
            .features
            .iter()
            .enumerate()
            .map(|(index, feature)| {
                let current = self.feature_log_odds(index, values, values[index]);
                let best = self
                    .representative_values(index)
                    .into_iter()
                    .map(|value| self.feature_log_odds(index, values, value))
                    .fold(f64::INFINITY, f64::min);
                ReasonCode {
                    feature: feature.name.clone(),
                    description: feature.description.clone(),
                    value_range: feature.bins[feature.bin_index(values[index])].range_label(),
                    points_below_max: factor * (current - best),
                }
            })
            .filter(|reason| reason.points_below_max > POINTS_TOLERANCE)
            .collect();
        // Stable sort: equal gaps keep model order.
        reasons.sort_by(|a, b| b.points_below_max.total_cmp(&a.points_below_max));
        reasons.truncate(REASONS_MAX);
        reasons
    }

    /// The value of every feature on every row: `values[feature][row]`.
    ///
    /// # Errors
    /// [`RiskError::MissingColumn`] if the table lacks an input column.
    pub fn table_feature_values(&self, table: &Table) -> Result<Vec<Vec<f64>>, RiskError> {
        if let Some(column) = self
            .required_columns()
            .into_iter()
            .find(|column| table.column(column).is_none())
        {
            return Err(RiskError::MissingColumn {
                column: column.to_owned(),
            });
        }
        Ok(self
            .features
            .iter()
            .map(|feature| feature.source.evaluate_table(table))
            .collect())
    }

    /// Bin indices of every feature for every row: `bins[feature][row]`.
    ///
    /// # Errors
    /// As [`Model::table_feature_values`].
    pub fn table_bins(&self, table: &Table) -> Result<Vec<Vec<usize>>, RiskError> {
        Ok(self
            .table_feature_values(table)?
            .iter()
            .zip(&self.features)
            .map(|(values, feature)| values.iter().map(|&v| feature.bin_index(v)).collect())
            .collect())
    }

    /// Log-odds of default of every row of a table.
    ///
    /// # Errors
    /// As [`Model::table_feature_values`].
    pub fn log_odds_table(&self, table: &Table) -> Result<Vec<f64>, RiskError> {
        let columns = self.table_feature_values(table)?;
        let mut row_values = vec![0.0; columns.len()];
        Ok((0..table.rows())
            .map(|row| {
                for (slot, column) in row_values.iter_mut().zip(&columns) {
                    *slot = column[row];
                }
                self.log_odds_of(&row_values)
            })
            .collect())
    }

    /// Probability of default of every row of a table.
    ///
    /// # Errors
    /// As [`Model::table_bins`].
    pub fn predict_table(&self, table: &Table) -> Result<Vec<f64>, RiskError> {
        Ok(self
            .log_odds_table(table)?
            .into_iter()
            .map(sigmoid)
            .collect())
    }

    /// Exact (unrounded) points of every row of a table.
    ///
    /// # Errors
    /// As [`Model::table_bins`].
    pub fn points_table(&self, table: &Table) -> Result<Vec<f64>, RiskError> {
        Ok(self
            .log_odds_table(table)?
            .into_iter()
            .map(|log_odds| self.scaling.points_from_log_odds_of_default(log_odds))
            .collect())
    }

    /// PSI of the score and of every feature between the training rows and `table`.
    ///
    /// # Errors
    /// As [`Model::table_bins`].
    pub fn psi(&self, table: &Table) -> Result<PsiReport, RiskError> {
        let bins = self.table_bins(table)?;
        let points = self.points_table(table)?;
        let score = psi(
            &self.score_distribution.training_counts,
            &self.score_distribution.counts(&points),
        );
        let features = self
            .features
            .iter()
            .zip(&bins)
            .map(|(feature, feature_bins)| {
                let expected: Vec<u64> = feature.bins.iter().map(BinSpec::training_rows).collect();
                let mut actual = vec![0u64; feature.bins.len()];
                feature_bins.iter().for_each(|&bin| actual[bin] += 1);
                (feature.name.clone(), psi(&expected, &actual))
            })
            .collect();
        Ok(PsiReport {
            rows: table.rows(),
            score,
            features,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::LN_2;

    fn bin(lower_edge: Option<f64>, upper_edge: Option<f64>, log_odds: f64) -> BinSpec {
        BinSpec {
            lower_edge,
            upper_edge,
            missing: false,
            training_goods: 10,
            training_bads: 10,
            woe: 0.0,
            log_odds,
            points: 0.0,
        }
    }

    fn missing_bin() -> BinSpec {
        BinSpec {
            missing: true,
            training_goods: 0,
            training_bads: 0,
            ..bin(None, None, 0.0)
        }
    }

    fn feature(name: &str, description: &str, bins: Vec<BinSpec>) -> FeatureSpec {
        FeatureSpec {
            name: name.to_owned(),
            description: description.to_owned(),
            source: FeatureSource::Raw {
                column: name.to_owned(),
            },
            information_value: 0.1,
            coefficient: None,
            trend: None,
            bins,
        }
    }

    /// Intercept -ln 50 (600 base points, 300 per feature). `delay`: 300 / 280 / 260 points
    /// for (-inf, 0], (0, 2], (2, +inf); `utilization`: 320 / 290 points for (-inf, 0.5],
    /// (0.5, +inf). Missing bins: 300 points each.
    fn fixture(interactions: Vec<InteractionSpec>) -> Model {
        let delay = feature(
            "delay",
            "months of payment delay in the last cycle",
            vec![
                bin(None, Some(0.0), 0.0),
                bin(Some(0.0), Some(2.0), LN_2),
                bin(Some(2.0), None, 2.0 * LN_2),
                missing_bin(),
            ],
        );
        let utilization = feature(
            "utilization",
            "share of the credit limit used in the last cycle",
            vec![
                bin(None, Some(0.5), -LN_2),
                bin(Some(0.5), None, 0.5 * LN_2),
                missing_bin(),
            ],
        );
        Model::assemble(ModelParts {
            model_version: "fixture".to_owned(),
            kind: ModelKind::BoostedScorecard,
            label: "bad".to_owned(),
            scaling: crate::scaling::DEFAULT_SCALING,
            intercept_log_odds: -(50f64.ln()),
            features: vec![delay, utilization],
            interactions,
            training: TrainingSummary {
                rows: 40,
                training_rows: 40,
                holdout_rows: 0,
                holdout_fraction: 0.0,
                seed: 1,
                refused_columns: Vec::new(),
                excluded_columns: Vec::new(),
                non_numeric_columns: Vec::new(),
                candidate_features: Vec::new(),
                boosting_rounds: None,
            },
        })
        .expect("valid fixture")
    }

    fn patient(delay: f64, utilization: f64) -> FeatureValues {
        FeatureValues::new()
            .with("delay", delay)
            .with("utilization", utilization)
    }

    #[test]
    fn points_probability_band_and_reasons_match_hand_computation() {
        let model = fixture(Vec::new());
        let bins = &model.features()[0].bins;
        assert!((bins[0].points - 300.0).abs() < 1e-9);
        assert!((bins[2].points - 260.0).abs() < 1e-9);
        // 260 + 290 = 550 points; log-odds -ln 50 + 2.5 ln 2, odds 50 / 2^2.5 = 17.68 : 1.
        let score = model.score(&patient(3.0, 0.9));
        assert_eq!(score.points, 550);
        assert_eq!(score.band, Band::C);
        let expected = 1.0 / (1.0 + 50.0 / 2f64.powf(2.5));
        assert!((score.probability_of_default - expected).abs() < 1e-12);
        let reasons: Vec<(&str, f64)> = score
            .reasons
            .iter()
            .map(|reason| (reason.feature.as_str(), reason.points_below_max))
            .collect();
        assert_eq!(reasons.len(), 2);
        assert_eq!(reasons[0].0, "delay");
        assert!((reasons[0].1 - 40.0).abs() < 1e-9);
        assert_eq!(reasons[1].0, "utilization");
        assert!((reasons[1].1 - 30.0).abs() < 1e-9);
        assert_eq!(
            score.reasons[0].description,
            "months of payment delay in the last cycle"
        );
        assert_eq!(score.reasons[0].value_range, "(2, +inf)");
    }

    #[test]
    fn best_values_give_no_reasons_and_missing_values_score_in_the_missing_bin() {
        let model = fixture(Vec::new());
        let best = model.score(&patient(0.0, 0.1));
        assert_eq!(best.points, 620);
        assert_eq!(best.band, Band::A);
        assert!(best.reasons.is_empty());
        // Delay absent: its missing bin gives 300 points, 0 below its best value bin.
        let missing = model.score(&FeatureValues::new().with("utilization", 0.9));
        assert_eq!(missing.points, 590);
        assert_eq!(missing.reasons.len(), 1);
        assert_eq!(missing.reasons[0].feature, "utilization");
    }

    #[test]
    fn bands_follow_the_documented_cut_offs() {
        let cutoffs = DEFAULT_BAND_CUTOFFS;
        let cases = [
            (700, Band::A),
            (580, Band::A),
            (579, Band::B),
            (560, Band::B),
            (559, Band::C),
            (540, Band::C),
            (539, Band::D),
            (520, Band::D),
            (519, Band::E),
            (-5, Band::E),
        ];
        for (points, band) in cases {
            assert_eq!(cutoffs.band(points), band, "{points}");
        }
    }

    #[test]
    fn interaction_reasons_count_what_the_best_value_would_gain() {
        // ln 2 more log-odds when delay > 0 and utilization > 0.5.
        let mut log_odds = vec![vec![0.0; 3]; 3];
        log_odds[1][1] = LN_2;
        let interaction = InteractionSpec {
            first: "delay".to_owned(),
            second: "utilization".to_owned(),
            first_cuts: Cuts {
                upper_edges: vec![0.0],
            },
            second_cuts: Cuts {
                upper_edges: vec![0.5],
            },
            log_odds,
            points: Vec::new(),
        };
        let model = fixture(vec![interaction]);
        let score = model.score(&patient(3.0, 0.9));
        assert_eq!(score.points, 530);
        // Delay at its best (<= 0) drops 2 ln 2 (main) and ln 2 (pair): 60 points.
        // Utilization at its best (<= 0.5) drops 1.5 ln 2 (main) and ln 2 (pair): 50 points.
        assert_eq!(score.reasons[0].feature, "delay");
        assert!((score.reasons[0].points_below_max - 60.0).abs() < 1e-9);
        assert_eq!(score.reasons[1].feature, "utilization");
        assert!((score.reasons[1].points_below_max - 50.0).abs() < 1e-9);
        let reloaded = Model::from_json(&model.to_json_pretty()).unwrap();
        assert_eq!(reloaded, model);
    }

    #[test]
    fn loading_rejects_broken_invariants() {
        let model = fixture(Vec::new());
        let mut json: serde_json::Value = serde_json::from_str(&model.to_json_pretty()).unwrap();
        let reject = |json: &serde_json::Value| {
            matches!(
                Model::from_json(&json.to_string()),
                Err(RiskError::InvalidModel { .. })
            )
        };
        let original = json.clone();
        json["features"][0]["source"]["column"] = "SEX".into();
        assert!(reject(&json), "a deny-listed input column");
        json = original.clone();
        json["features"][0]["bins"][1]["points"] = 1000.0.into();
        assert!(reject(&json), "points that do not follow from the log-odds");
        json = original.clone();
        json["format_version"] = 2.into();
        assert!(reject(&json), "an unknown format version");
        json = original.clone();
        json["features"][0]["bins"][1]["lower_edge"] = 1.0.into();
        assert!(reject(&json), "a gap between bins");
        assert!(matches!(
            Model::from_json("{"),
            Err(RiskError::ModelJson(_))
        ));
        assert!(Model::from_json(&original.to_string()).is_ok());
    }
}
