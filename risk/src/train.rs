//! Training: column screening, features, a stratified holdout split, the WoE scorecard and the
//! boosted scorecard, held-out evaluation.
//!
//! Both model kinds are always trained on the same split (the WoE scorecard costs little), so
//! every training run measures them side by side; [`TrainConfig::kind`] picks the one
//! returned as the model, the other is reported as the challenger.

use serde::{Deserialize, Serialize};

use crate::binning::{monotone_groups, quantile_cuts, Cuts, Trend};
use crate::boost::{fit_additive, AdditiveFit, BinnedRows, BoostConfig, Direction, BOOST_BINS_MAX};
use crate::columns::{screen_columns, ColumnScreen};
use crate::data::Table;
use crate::error::RiskError;
use crate::features::{feature_definitions, FeatureDefinition};
use crate::logistic::fit_logistic;
use crate::metrics::{MetricsReport, CALIBRATION_BINS};
use crate::model::{
    BinSpec, CandidateFeature, ChallengerMetrics, FeatureSpec, InteractionSpec, Model, ModelKind,
    ModelMetrics, ModelParts, ScoreDistribution, TrainingSummary,
};
use crate::pairs::{fit_pairs, PairConfig, PairFit};
use crate::rng::SeededRng;
use crate::scaling::{Scaling, DEFAULT_SCALING};
use crate::woe::{information_value, weight_of_evidence, BinCounts};

/// Fewest rows training accepts.
pub const TRAINING_ROWS_MIN: usize = 50;
/// Largest holdout fraction.
pub const HOLDOUT_FRACTION_MAX: f64 = 0.9;

/// Settings of the WoE scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorecardConfig {
    /// Quantile fine bins before the monotone merge.
    pub fine_bins: usize,
    /// Smallest coarse bin, as a fraction of the training rows.
    pub coarse_bin_fraction_min: f64,
    /// Features below this information value are left out.
    pub information_value_min: f64,
    /// L2 penalty of the logistic regression.
    pub l2: f64,
}

/// Which one-feature shapes of the boosted scorecard must be monotone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Monotone {
    /// No constraint.
    None,
    /// Features whose information value reaches the scorecard threshold follow their trend.
    Informative,
    /// Every feature follows its trend.
    All,
}

/// Settings of the boosted scorecard.
#[derive(Debug, Clone, PartialEq)]
pub struct BoostedConfig {
    /// Quantile fine bins per feature (the missing bin comes on top).
    pub fine_bins: usize,
    /// Fraction of the training rows held back for early stopping.
    pub validation_fraction: f64,
    /// Boosted models averaged, each early-stopped on its own validation split (averaging
    /// additive models keeps the model additive).
    pub bags: usize,
    pub boost: BoostConfig,
    /// Which features keep a monotone shape (in the direction of their coarse bad-rate trend).
    pub monotone: Monotone,
    /// Pairwise interaction terms (`pairs_max` 0: none).
    pub pairs: PairConfig,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// The 0/1 label column (1 = defaulted).
    pub label: String,
    /// Columns to leave out, on top of the built-in deny-list.
    pub exclude: Vec<String>,
    /// Fraction of rows held out (stratified) for evaluation; 0 trains on everything.
    pub holdout_fraction: f64,
    pub seed: u64,
    /// Which model to return; the other is the challenger.
    pub kind: ModelKind,
    pub model_version: String,
    pub scaling: Scaling,
    pub scorecard: ScorecardConfig,
    pub boosted: BoostedConfig,
}

impl TrainConfig {
    /// The defaults: 30% holdout, seed 1, boosted scorecard, 600 points at 50:1, PDO 20.
    pub fn new(label: impl Into<String>) -> TrainConfig {
        TrainConfig {
            label: label.into(),
            exclude: Vec::new(),
            holdout_fraction: 0.3,
            seed: 1,
            kind: ModelKind::BoostedScorecard,
            model_version: "v1".to_owned(),
            scaling: DEFAULT_SCALING,
            scorecard: ScorecardConfig {
                fine_bins: 20,
                coarse_bin_fraction_min: 0.05,
                information_value_min: 0.02,
                l2: 1.0,
            },
            boosted: BoostedConfig {
                fine_bins: 32,
                validation_fraction: 0.2,
                bags: 1,
                monotone: Monotone::All,
                boost: BoostConfig::default(),
                pairs: PairConfig::default(),
            },
        }
    }
}

/// Where training is, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Binning,
    Scorecard,
    Boosting,
    Evaluating,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub stage: Stage,
    pub done: usize,
    pub total: usize,
}

/// The trained model, the challenger trained alongside, and the column verdicts.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    pub model: Model,
    pub challenger: Model,
    pub screen: ColumnScreen,
}

/// Splits row indices into (training, holdout), keeping the bad rate in both: within each
/// class the rows are shuffled with `seed` and `round(fraction * class size)` held out.
pub fn stratified_split(bads: &[bool], fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    assert!((0.0..1.0).contains(&fraction));
    let mut rng = SeededRng::new(seed);
    let mut training = Vec::with_capacity(bads.len());
    let mut holdout = Vec::new();
    for class in [false, true] {
        let mut rows: Vec<usize> = (0..bads.len()).filter(|&row| bads[row] == class).collect();
        rng.shuffle(&mut rows);
        let held = (fraction * rows.len() as f64).round() as usize;
        holdout.extend_from_slice(&rows[..held]);
        training.extend_from_slice(&rows[held..]);
    }
    training.sort_unstable();
    holdout.sort_unstable();
    debug_assert_eq!(training.len() + holdout.len(), bads.len());
    (training, holdout)
}

/// A fitted model before assembly: intercept, features, interactions, a note per candidate
/// (empty = used) and the boosting rounds kept.
struct Fitted {
    intercept: f64,
    features: Vec<FeatureSpec>,
    interactions: Vec<InteractionSpec>,
    notes: Vec<String>,
    rounds: Option<usize>,
}

/// One candidate feature over the training rows, with its monotone coarse binning.
struct Candidate {
    definition: FeatureDefinition,
    /// Values on all rows of the table.
    values: Vec<f64>,
    coarse: Cuts,
    coarse_counts: Vec<BinCounts>,
    trend: Trend,
    information_value: f64,
}

/// Trains both model kinds and returns the one `config.kind` names.
///
/// # Errors
/// Bad holdout fraction, missing or invalid label, a single class, too few rows, no usable
/// feature.
pub fn train(
    table: &Table,
    config: &TrainConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<TrainOutcome, RiskError> {
    if !(0.0..=HOLDOUT_FRACTION_MAX).contains(&config.holdout_fraction) {
        return Err(RiskError::InvalidHoldout {
            value: config.holdout_fraction,
        });
    }
    let bads = table.labels(&config.label)?;
    let bad_count = bads.iter().filter(|&&bad| bad).count();
    if bad_count == 0 || bad_count == bads.len() {
        return Err(RiskError::SingleClass {
            goods: bads.len() - bad_count,
            bads: bad_count,
        });
    }
    if bads.len() < TRAINING_ROWS_MIN {
        return Err(RiskError::TooFewRows {
            rows: bads.len(),
            minimum: TRAINING_ROWS_MIN,
        });
    }
    let screen = screen_columns(table.names(), &config.label, &config.exclude, |name| {
        table.is_numeric(name)
    });
    let definitions = feature_definitions(&screen.used);
    if definitions.is_empty() {
        return Err(RiskError::NoFeatures);
    }
    let (training_rows, holdout_rows) =
        stratified_split(&bads, config.holdout_fraction, config.seed);
    let training_bads: Vec<bool> = training_rows.iter().map(|&row| bads[row]).collect();
    let candidates = coarse_candidates(
        definitions,
        table,
        &training_rows,
        &training_bads,
        config,
        progress,
    );

    let scorecard = fit_woe_scorecard(&candidates, &training_rows, &training_bads, config)?;
    progress(Progress {
        stage: Stage::Scorecard,
        done: 1,
        total: 1,
    });
    let boosted = fit_boosted_scorecard(
        &candidates,
        &training_rows,
        &training_bads,
        config,
        progress,
    )?;
    let assemble = |kind, fitted: Fitted| {
        let training = TrainingSummary {
            rows: table.rows(),
            training_rows: training_rows.len(),
            holdout_rows: holdout_rows.len(),
            holdout_fraction: config.holdout_fraction,
            seed: config.seed,
            refused_columns: screen.refused.clone(),
            excluded_columns: screen.excluded.clone(),
            non_numeric_columns: screen.non_numeric.clone(),
            candidate_features: candidates
                .iter()
                .zip(fitted.notes)
                .map(|(candidate, note)| CandidateFeature {
                    name: candidate.definition.name.clone(),
                    description: candidate.definition.description.clone(),
                    information_value: candidate.information_value,
                    used: note.is_empty(),
                    note,
                })
                .collect(),
            boosting_rounds: fitted.rounds,
        };
        Model::assemble(ModelParts {
            model_version: config.model_version.clone(),
            kind,
            label: config.label.clone(),
            scaling: config.scaling,
            intercept_log_odds: fitted.intercept,
            features: fitted.features,
            interactions: fitted.interactions,
            training,
        })
    };
    let scorecard = assemble(ModelKind::WoeScorecard, scorecard)?;
    let boosted = assemble(ModelKind::BoostedScorecard, boosted)?;

    progress(Progress {
        stage: Stage::Evaluating,
        done: 0,
        total: 1,
    });
    let training_table = table.select_rows(&training_rows);
    let holdout_table = table.select_rows(&holdout_rows);
    let holdout_bads: Vec<bool> = holdout_rows.iter().map(|&row| bads[row]).collect();
    let (model, challenger) = match config.kind {
        ModelKind::WoeScorecard => (scorecard, boosted),
        ModelKind::BoostedScorecard => (boosted, scorecard),
    };
    let model = finish(
        model,
        &challenger,
        &training_table,
        &training_bads,
        &holdout_table,
        &holdout_bads,
    )?;
    let challenger = finish(
        challenger,
        &model,
        &training_table,
        &training_bads,
        &holdout_table,
        &holdout_bads,
    )?;
    progress(Progress {
        stage: Stage::Evaluating,
        done: 1,
        total: 1,
    });
    Ok(TrainOutcome {
        model,
        challenger,
        screen,
    })
}

fn coarse_candidates(
    definitions: Vec<FeatureDefinition>,
    table: &Table,
    training_rows: &[usize],
    training_bads: &[bool],
    config: &TrainConfig,
    progress: &mut dyn FnMut(Progress),
) -> Vec<Candidate> {
    let total = definitions.len();
    let rows_min =
        (config.scorecard.coarse_bin_fraction_min * training_rows.len() as f64).ceil() as u64;
    definitions
        .into_iter()
        .enumerate()
        .map(|(index, definition)| {
            let values = definition.source.evaluate_table(table);
            let training_values: Vec<f64> = training_rows.iter().map(|&row| values[row]).collect();
            let fine = quantile_cuts(&training_values, config.scorecard.fine_bins);
            let fine_counts = fine.counts(&training_values, training_bads);
            let (groups, trend) = monotone_groups(&fine_counts[..fine.value_bins()], rows_min);
            let coarse = fine.merged(&groups);
            let coarse_counts = coarse.counts(&training_values, training_bads);
            progress(Progress {
                stage: Stage::Binning,
                done: index + 1,
                total,
            });
            Candidate {
                information_value: information_value(&coarse_counts),
                definition,
                values,
                coarse,
                coarse_counts,
                trend,
            }
        })
        .collect()
}

/// Index of the candidate with the highest information value (the first on ties).
fn strongest_candidate(candidates: &[Candidate]) -> usize {
    assert!(!candidates.is_empty());
    let mut strongest = 0;
    for (index, candidate) in candidates.iter().enumerate() {
        if candidate.information_value > candidates[strongest].information_value {
            strongest = index;
        }
    }
    strongest
}

/// Bins of a feature from cuts, training counts (missing last) and log-odds per bin.
fn spec_bins(cuts: &Cuts, counts: &[BinCounts], log_odds: &[f64]) -> Vec<BinSpec> {
    assert_eq!(counts.len(), cuts.bins());
    assert_eq!(log_odds.len(), cuts.bins());
    let totals = BinCounts::sum(counts);
    let edges = &cuts.upper_edges;
    (0..cuts.bins())
        .map(|bin| {
            let missing = bin == cuts.missing_bin();
            BinSpec {
                lower_edge: if missing || bin == 0 {
                    None
                } else {
                    Some(edges[bin - 1])
                },
                upper_edge: if missing {
                    None
                } else {
                    edges.get(bin).copied()
                },
                missing,
                training_goods: counts[bin].goods,
                training_bads: counts[bin].bads,
                woe: weight_of_evidence(counts[bin], totals),
                log_odds: log_odds[bin],
                points: 0.0,
            }
        })
        .collect()
}

fn woe_column(candidate: &Candidate, rows: &[usize]) -> Vec<f64> {
    let totals = BinCounts::sum(&candidate.coarse_counts);
    let woe: Vec<f64> = candidate
        .coarse_counts
        .iter()
        .map(|&bin| weight_of_evidence(bin, totals))
        .collect();
    rows.iter()
        .map(|&row| woe[candidate.coarse.bin_of(candidate.values[row])])
        .collect()
}

/// The WoE logistic scorecard: features at or above the IV threshold, refitted without the
/// feature of the most wrongly signed coefficient until every sign is right (a safer bin never
/// scores fewer points).
fn fit_woe_scorecard(
    candidates: &[Candidate],
    training_rows: &[usize],
    training_bads: &[bool],
    config: &TrainConfig,
) -> Result<Fitted, RiskError> {
    let mut notes: Vec<String> = candidates
        .iter()
        .map(|candidate| {
            if candidate.information_value < config.scorecard.information_value_min {
                format!(
                    "information value below {}",
                    config.scorecard.information_value_min
                )
            } else {
                String::new()
            }
        })
        .collect();
    if notes.iter().all(|note| !note.is_empty()) {
        // Nothing reaches the threshold: keep the strongest feature rather than fail.
        let strongest = strongest_candidate(candidates);
        notes[strongest].clear();
    }
    let columns: Vec<Vec<f64>> = candidates
        .iter()
        .map(|candidate| woe_column(candidate, training_rows))
        .collect();
    loop {
        let chosen: Vec<usize> = (0..candidates.len())
            .filter(|&i| notes[i].is_empty())
            .collect();
        if chosen.is_empty() {
            return Err(RiskError::NoFeatures);
        }
        let inputs: Vec<Vec<f64>> = chosen.iter().map(|&i| columns[i].clone()).collect();
        let fit = fit_logistic(&inputs, training_bads, config.scorecard.l2);
        // WoE is ln(good share / bad share): risk must fall as WoE rises, so coefficients on
        // the log-odds of default must be negative.
        let wrong = chosen
            .iter()
            .zip(&fit.coefficients)
            .filter(|(_, &coefficient)| coefficient > 0.0)
            .max_by(|a, b| a.1.total_cmp(b.1));
        if let Some((&index, _)) = wrong {
            notes[index] = "coefficient had the wrong sign (collinear)".to_owned();
            continue;
        }
        let features = chosen
            .iter()
            .zip(&fit.coefficients)
            .map(|(&index, &coefficient)| {
                let candidate = &candidates[index];
                let totals = BinCounts::sum(&candidate.coarse_counts);
                let log_odds: Vec<f64> = candidate
                    .coarse_counts
                    .iter()
                    .map(|&bin| coefficient * weight_of_evidence(bin, totals))
                    .collect();
                FeatureSpec {
                    name: candidate.definition.name.clone(),
                    description: candidate.definition.description.clone(),
                    source: candidate.definition.source.clone(),
                    information_value: candidate.information_value,
                    coefficient: Some(coefficient),
                    trend: Some(candidate.trend),
                    bins: spec_bins(&candidate.coarse, &candidate.coarse_counts, &log_odds),
                }
            })
            .collect();
        return Ok(Fitted {
            intercept: fit.intercept,
            features,
            interactions: Vec::new(),
            notes,
            rounds: None,
        });
    }
}

/// The boosted scorecard on quantile fine bins, early-stopped on a stratified validation
/// part of the training rows, plus its pair terms.
fn fit_boosted_scorecard(
    candidates: &[Candidate],
    training_rows: &[usize],
    training_bads: &[bool],
    config: &TrainConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<Fitted, RiskError> {
    let settings = &config.boosted;
    assert!(settings.fine_bins < BOOST_BINS_MAX);
    let fine: Vec<Cuts> = candidates
        .iter()
        .map(|candidate| {
            let values: Vec<f64> = training_rows
                .iter()
                .map(|&row| candidate.values[row])
                .collect();
            quantile_cuts(&values, settings.fine_bins)
        })
        .collect();
    let binned = |positions: &[usize]| BinnedRows {
        bins: candidates
            .iter()
            .zip(&fine)
            .map(|(candidate, cuts)| {
                positions
                    .iter()
                    .map(|&position| {
                        let value = candidate.values[training_rows[position]];
                        u8::try_from(cuts.bin_of(value)).expect("fewer than 256 bins")
                    })
                    .collect()
            })
            .collect(),
        bin_counts: fine.iter().map(Cuts::bins).collect(),
        bads: positions
            .iter()
            .map(|&position| training_bads[position])
            .collect(),
    };
    assert!(settings.bags >= 1);
    // Small data sets get smaller leaves: at most a twentieth of the training rows.
    let mut boost = settings.boost.clone();
    boost.leaf_rows_min = boost.leaf_rows_min.min(training_rows.len() / 20).max(1);
    let mut pair_settings = settings.pairs.clone();
    pair_settings.leaf_rows_min = pair_settings
        .leaf_rows_min
        .min(training_rows.len() / 20)
        .max(1);
    let directions: Vec<Direction> = candidates
        .iter()
        .map(|candidate| {
            let constrained = match settings.monotone {
                Monotone::None => false,
                Monotone::Informative => {
                    candidate.information_value >= config.scorecard.information_value_min
                }
                Monotone::All => true,
            };
            match (constrained, candidate.trend) {
                (false, _) => Direction::Free,
                (true, Trend::Increasing) => Direction::Increasing,
                (true, Trend::Decreasing) => Direction::Decreasing,
            }
        })
        .collect();
    let mut fits = Vec::with_capacity(settings.bags);
    for bag in 0..settings.bags {
        let seed = config.seed ^ 0x5EED ^ ((bag as u64) << 32);
        let (inner, validation) =
            stratified_split(training_bads, settings.validation_fraction, seed);
        fits.push(fit_additive(
            &binned(&inner),
            &binned(&validation),
            &directions,
            &boost,
            &mut |done, total| {
                progress(Progress {
                    stage: Stage::Boosting,
                    done: bag * total + done,
                    total: settings.bags * total,
                })
            },
        ));
    }
    let mut fit = average_fits(&fits);
    let all_rows = binned(&(0..training_rows.len()).collect::<Vec<_>>());
    let pair_fits = if settings.pairs.pairs_max == 0 {
        Vec::new()
    } else {
        let (inner, validation) = stratified_split(
            training_bads,
            settings.validation_fraction,
            config.seed ^ 0x5EED,
        );
        let (inner, validation) = (binned(&inner), binned(&validation));
        fit_pairs(
            &inner,
            &validation,
            fit.log_odds(&inner),
            fit.log_odds(&validation),
            &fit.importance(&inner),
            &pair_settings,
        )
    };
    let mut notes = vec![String::new(); candidates.len()];
    let mut features = Vec::new();
    for (index, (candidate, cuts)) in candidates.iter().zip(&fine).enumerate() {
        let shape = &fit.shapes[index];
        if shape.iter().all(|&value| value == shape[0]) {
            notes[index] = "no boosting split".to_owned();
            continue;
        }
        let values: Vec<f64> = training_rows
            .iter()
            .map(|&row| candidate.values[row])
            .collect();
        let (cuts, log_odds) = merge_equal_neighbours(cuts, shape);
        features.push(FeatureSpec {
            name: candidate.definition.name.clone(),
            description: candidate.definition.description.clone(),
            source: candidate.definition.source.clone(),
            information_value: candidate.information_value,
            coefficient: None,
            trend: Some(candidate.trend),
            bins: spec_bins(&cuts, &cuts.counts(&values, training_bads), &log_odds),
        });
    }
    let interactions = pair_fits
        .into_iter()
        .map(|mut pair| {
            // Centre on the training rows, moving the mean into the intercept.
            let mean = (0..all_rows.rows())
                .map(|row| pair.value(&all_rows, row))
                .sum::<f64>()
                / all_rows.rows() as f64;
            pair.table.iter_mut().for_each(|value| *value -= mean);
            fit.intercept += mean;
            let name = |index: usize| candidates[index].definition.name.clone();
            assert!(notes[pair.first].is_empty() && notes[pair.second].is_empty());
            let (first_cuts, second_cuts, log_odds) =
                compress_pair(&pair, &fine[pair.first], &fine[pair.second]);
            InteractionSpec {
                first: name(pair.first),
                second: name(pair.second),
                first_cuts,
                second_cuts,
                log_odds,
                points: Vec::new(),
            }
        })
        .collect();
    if features.is_empty() {
        // Not one split was worth making: a flat model of the strongest feature, which
        // predicts the training bad rate for everybody.
        let strongest = strongest_candidate(candidates);
        let candidate = &candidates[strongest];
        let values: Vec<f64> = training_rows
            .iter()
            .map(|&row| candidate.values[row])
            .collect();
        let flat = Cuts {
            upper_edges: Vec::new(),
        };
        notes[strongest].clear();
        features.push(FeatureSpec {
            name: candidate.definition.name.clone(),
            description: candidate.definition.description.clone(),
            source: candidate.definition.source.clone(),
            information_value: candidate.information_value,
            coefficient: None,
            trend: Some(candidate.trend),
            bins: spec_bins(&flat, &flat.counts(&values, training_bads), &[0.0, 0.0]),
        });
    }
    Ok(Fitted {
        intercept: fit.intercept,
        features,
        interactions,
        notes,
        rounds: Some(fit.rounds),
    })
}

/// The mean of several additive fits (shapes are centred, so the means stay centred).
fn average_fits(fits: &[AdditiveFit]) -> AdditiveFit {
    let count = fits.len() as f64;
    let mut shapes = fits[0].shapes.clone();
    for shape in shapes.iter_mut() {
        shape.fill(0.0);
    }
    for fit in fits {
        for (sum, shape) in shapes.iter_mut().zip(&fit.shapes) {
            sum.iter_mut()
                .zip(shape)
                .for_each(|(sum, value)| *sum += value / count);
        }
    }
    AdditiveFit {
        intercept: fits.iter().map(|fit| fit.intercept).sum::<f64>() / count,
        shapes,
        rounds: fits.iter().map(|fit| fit.rounds).sum(),
        validation_log_loss: fits.iter().map(|fit| fit.validation_log_loss).sum::<f64>() / count,
    }
}

/// The binned rows a challenger trains on, for experiments: (inner training, validation,
/// holdout) with the boosted scorecard's fine bins and the same splits.
///
/// # Errors
/// As [`train`].
pub fn binned_splits(
    table: &Table,
    config: &TrainConfig,
) -> Result<(BinnedRows, BinnedRows, BinnedRows), RiskError> {
    let bads = table.labels(&config.label)?;
    let screen = screen_columns(table.names(), &config.label, &config.exclude, |name| {
        table.is_numeric(name)
    });
    let definitions = feature_definitions(&screen.used);
    let (training_rows, holdout_rows) =
        stratified_split(&bads, config.holdout_fraction, config.seed);
    let training_bads: Vec<bool> = training_rows.iter().map(|&row| bads[row]).collect();
    let values: Vec<Vec<f64>> = definitions
        .iter()
        .map(|definition| definition.source.evaluate_table(table))
        .collect();
    let fine: Vec<Cuts> = values
        .iter()
        .map(|column| {
            let training: Vec<f64> = training_rows.iter().map(|&row| column[row]).collect();
            quantile_cuts(&training, config.boosted.fine_bins)
        })
        .collect();
    let binned = |rows: &[usize]| BinnedRows {
        bins: values
            .iter()
            .zip(&fine)
            .map(|(column, cuts)| {
                rows.iter()
                    .map(|&row| cuts.bin_of(column[row]) as u8)
                    .collect()
            })
            .collect(),
        bin_counts: fine.iter().map(Cuts::bins).collect(),
        bads: rows.iter().map(|&row| bads[row]).collect(),
    };
    let (inner, validation) = stratified_split(
        &training_bads,
        config.boosted.validation_fraction,
        config.seed ^ 0x5EED,
    );
    let inner: Vec<usize> = inner
        .iter()
        .map(|&position| training_rows[position])
        .collect();
    let validation: Vec<usize> = validation
        .iter()
        .map(|&position| training_rows[position])
        .collect();
    Ok((binned(&inner), binned(&validation), binned(&holdout_rows)))
}

/// Merges adjacent value bins whose contributions are equal (stumps make long runs of them).
fn merge_equal_neighbours(cuts: &Cuts, shape: &[f64]) -> (Cuts, Vec<f64>) {
    assert_eq!(shape.len(), cuts.bins());
    let value_bins = cuts.value_bins();
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    for bin in 0..value_bins {
        match groups.last_mut() {
            Some(group) if shape[group.start] == shape[bin] => group.end = bin + 1,
            _ => groups.push(bin..bin + 1),
        }
    }
    let merged = cuts.merged(&groups);
    let mut log_odds: Vec<f64> = groups.iter().map(|group| shape[group.start]).collect();
    log_odds.push(shape[cuts.missing_bin()]);
    (merged, log_odds)
}

/// Merges identical neighbouring value rows and value columns of a pair table (the missing
/// row and column stay apart). Returns the coarser cuts and the table as rows.
fn compress_pair(pair: &PairFit, first: &Cuts, second: &Cuts) -> (Cuts, Cuts, Vec<Vec<f64>>) {
    let columns = second.bins();
    assert_eq!(pair.table.len(), first.bins() * columns);
    let rows: Vec<Vec<f64>> = pair.table.chunks(columns).map(<[f64]>::to_vec).collect();
    let groups = |count: usize, same: &dyn Fn(usize, usize) -> bool| {
        let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
        for index in 0..count {
            match groups.last_mut() {
                Some(group) if same(group.start, index) => group.end = index + 1,
                _ => groups.push(index..index + 1),
            }
        }
        groups
    };
    let row_groups = groups(first.value_bins(), &|a, b| rows[a] == rows[b]);
    let column_groups = groups(second.value_bins(), &|a, b| {
        rows.iter().all(|row| row[a] == row[b])
    });
    let kept_rows: Vec<usize> = row_groups
        .iter()
        .map(|group| group.start)
        .chain([first.missing_bin()])
        .collect();
    let kept_columns: Vec<usize> = column_groups
        .iter()
        .map(|group| group.start)
        .chain([second.missing_bin()])
        .collect();
    let table = kept_rows
        .iter()
        .map(|&row| {
            kept_columns
                .iter()
                .map(|&column| rows[row][column])
                .collect()
        })
        .collect();
    (
        first.merged(&row_groups),
        second.merged(&column_groups),
        table,
    )
}

/// Adds the training score distribution and the metrics to a model.
fn finish(
    mut model: Model,
    other: &Model,
    training_table: &Table,
    training_bads: &[bool],
    holdout_table: &Table,
    holdout_bads: &[bool],
) -> Result<Model, RiskError> {
    let points = model.points_table(training_table)?;
    let cuts = quantile_cuts(&points, CALIBRATION_BINS);
    let counts = cuts
        .counts(&points, training_bads)
        .iter()
        .take(cuts.value_bins())
        .map(|bin| bin.total())
        .collect();
    model.set_score_distribution(ScoreDistribution {
        upper_edges: cuts.upper_edges,
        training_counts: counts,
    });
    let training = MetricsReport::compute(&model.predict_table(training_table)?, training_bads);
    let (holdout, challengers) = if holdout_bads.is_empty() {
        (None, Vec::new())
    } else {
        let holdout = MetricsReport::compute(&model.predict_table(holdout_table)?, holdout_bads);
        let challenger = ChallengerMetrics {
            kind: other.kind(),
            holdout: MetricsReport::compute(&other.predict_table(holdout_table)?, holdout_bads),
        };
        (Some(holdout), vec![challenger])
    };
    model.set_metrics(ModelMetrics {
        training,
        holdout,
        challengers,
    });
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stratified_split_keeps_the_bad_rate_and_is_seeded() {
        let bads: Vec<bool> = (0..1000).map(|row| row % 5 == 0).collect();
        let (training, holdout) = stratified_split(&bads, 0.3, 7);
        assert_eq!(holdout.len(), 300);
        assert_eq!(holdout.iter().filter(|&&row| bads[row]).count(), 60);
        assert_eq!(training.len(), 700);
        assert_eq!(stratified_split(&bads, 0.3, 7).1, holdout);
        assert_ne!(stratified_split(&bads, 0.3, 8).1, holdout);
    }
}
