//! The `risk` command-line module, mounted by the main binary as `treatfirst risk ...`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::data::Table;
use crate::error::RiskError;
use crate::metrics::MetricsReport;
use crate::model::{Band, Model, ModelKind};
use crate::train::{train, Progress, Stage, TrainConfig};
use crate::woe::{information_value, BinCounts};

/// Which model `train` writes (the other is trained alongside and reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArgument {
    /// Boosted scorecard (stumps on fine bins).
    Boosted,
    /// Weight-of-evidence logistic scorecard.
    Scorecard,
}

#[derive(Debug, Clone, PartialEq, clap::Subcommand)]
pub enum RiskCommand {
    /// Train on a CSV with a 0/1 label column; prints held-out metrics and writes the model.
    Train {
        /// The CSV file (header row required).
        #[arg(long)]
        data: PathBuf,
        /// The label column: 1 = defaulted, 0 = repaid.
        #[arg(long)]
        label: String,
        /// Columns to leave out (comma separated), on top of the built-in deny-list.
        #[arg(long, value_delimiter = ',')]
        exclude: Vec<String>,
        /// Fraction of rows held out (stratified) for evaluation.
        #[arg(long, default_value_t = 0.3)]
        holdout: f64,
        /// Seed of the holdout split.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Which model to write.
        #[arg(long, value_enum, default_value_t = KindArgument::Boosted)]
        kind: KindArgument,
        /// The `model_version` recorded in the model file.
        #[arg(long, default_value = "v1")]
        model_version: String,
        /// Where to write the model JSON.
        #[arg(long)]
        out: PathBuf,
    },
    /// Evaluate a model on a labelled CSV.
    Eval {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        data: PathBuf,
        /// The label column (default: the model's).
        #[arg(long)]
        label: Option<String>,
    },
    /// Population stability of the score and of every feature on a new CSV.
    Psi {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        data: PathBuf,
    },
}

/// Runs a command, printing to stdout (progress to stderr).
///
/// # Errors
/// Any [`RiskError`] from reading, training, evaluating or writing.
pub fn run(command: RiskCommand) -> Result<(), RiskError> {
    run_with_output(command, &mut std::io::stdout().lock())
}

/// Runs a command, printing to `out`.
///
/// # Errors
/// As [`run`].
pub fn run_with_output(command: RiskCommand, out: &mut dyn Write) -> Result<(), RiskError> {
    let mut printer = Printer { out };
    match command {
        RiskCommand::Train {
            data,
            label,
            exclude,
            holdout,
            seed,
            kind,
            model_version,
            out,
        } => {
            let mut config = TrainConfig::new(label);
            config.exclude = exclude;
            config.holdout_fraction = holdout;
            config.seed = seed;
            config.model_version = model_version;
            config.kind = match kind {
                KindArgument::Boosted => ModelKind::BoostedScorecard,
                KindArgument::Scorecard => ModelKind::WoeScorecard,
            };
            run_train(&data, &config, &out, &mut printer)
        }
        RiskCommand::Eval { model, data, label } => run_eval(&model, &data, label, &mut printer),
        RiskCommand::Psi { model, data } => run_psi(&model, &data, &mut printer),
    }
}

struct Printer<'a> {
    out: &'a mut dyn Write,
}

impl Printer<'_> {
    fn line(&mut self, text: impl AsRef<str>) -> Result<(), RiskError> {
        writeln!(self.out, "{}", text.as_ref()).map_err(|source| RiskError::Io {
            path: PathBuf::from("<output>"),
            source,
        })
    }

    fn metrics(&mut self, metrics: &MetricsReport) -> Result<(), RiskError> {
        self.line(format!("auc={:.4}", metrics.auc))?;
        self.line(format!("ks={:.4}", metrics.ks))?;
        self.line(format!("brier={:.4}", metrics.brier))?;
        self.line(format!("ece={:.4}", metrics.ece))?;
        self.line(format!(
            "rows={} bad_rate={:.4}",
            metrics.rows, metrics.bad_rate
        ))?;
        self.line("calibration by decile of predicted probability:")?;
        self.line(format!(
            "{:>6} {:>7} {:>14} {:>17}",
            "decile", "rows", "mean_predicted", "observed_bad_rate"
        ))?;
        for row in &metrics.calibration {
            self.line(format!(
                "{:>6} {:>7} {:>14.4} {:>17.4}",
                row.decile, row.rows, row.mean_predicted, row.observed_bad_rate
            ))?;
        }
        Ok(())
    }
}

impl Printer<'_> {
    /// Rows, observed bad rate and mean probability of default per band.
    fn bands(&mut self, model: &Model, table: &Table, bads: &[bool]) -> Result<(), RiskError> {
        let points = model.points_table(table)?;
        let probabilities = model.predict_table(table)?;
        self.line("bands:")?;
        self.line(format!(
            "{:>4} {:>7} {:>7} {:>17} {:>14}",
            "band", "rows", "share", "observed_bad_rate", "mean_predicted"
        ))?;
        for band in Band::ALL {
            let members: Vec<usize> = (0..points.len())
                .filter(|&row| model.band_cutoffs().band(points[row].round() as i32) == band)
                .collect();
            let count = members.len().max(1) as f64;
            self.line(format!(
                "{:>4} {:>7} {:>7.4} {:>17.4} {:>14.4}",
                band.to_string(),
                members.len(),
                members.len() as f64 / points.len().max(1) as f64,
                members.iter().filter(|&&row| bads[row]).count() as f64 / count,
                members.iter().map(|&row| probabilities[row]).sum::<f64>() / count,
            ))?;
        }
        Ok(())
    }
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(1), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

fn run_train(
    data: &Path,
    config: &TrainConfig,
    out: &Path,
    printer: &mut Printer<'_>,
) -> Result<(), RiskError> {
    let table = Table::read_csv(data)?;
    let bar = progress_bar();
    let started = Instant::now();
    let outcome = train(&table, config, &mut |progress: Progress| {
        let stage = match progress.stage {
            Stage::Binning => "binning",
            Stage::Scorecard => "scorecard",
            Stage::Boosting => "boosting",
            Stage::Evaluating => "evaluating",
        };
        bar.set_message(stage);
        bar.set_length(progress.total as u64);
        bar.set_position(progress.done as u64);
    })?;
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let model = &outcome.model;
    let screen = &outcome.screen;
    for refused in &screen.refused {
        printer.line(format!(
            "refused column {} ({}): on the built-in deny-list, never a feature",
            refused.column,
            refused.reason.as_str()
        ))?;
    }
    for (what, columns) in [
        ("excluded by --exclude", &screen.excluded),
        ("skipped, not numeric", &screen.non_numeric),
        ("--exclude names no column", &screen.unknown_exclusions),
    ] {
        if !columns.is_empty() {
            printer.line(format!("{what}: {}", columns.join(", ")))?;
        }
    }
    let training = model.training();
    printer.line(format!(
        "model {} {}: {} features{}; {} training rows, {} held-out rows (holdout {}, seed {})",
        model.kind().as_str(),
        model.model_version(),
        model.features().len(),
        training
            .boosting_rounds
            .map_or(String::new(), |rounds| format!(
                ", {rounds} boosting rounds"
            )),
        training.training_rows,
        training.holdout_rows,
        training.holdout_fraction,
        training.seed,
    ))?;
    let metrics = model.metrics();
    match &metrics.holdout {
        Some(holdout) => {
            printer.line("held-out metrics:")?;
            printer.metrics(holdout)?;
        }
        None => {
            printer.line("no holdout: metrics on the training rows")?;
            printer.metrics(&metrics.training)?;
        }
    }
    printer.line("information value per feature (training rows, monotone bins):")?;
    printer.line(format!(
        "{:<22} {:>7} {:<5} description",
        "feature", "iv", "used"
    ))?;
    for candidate in &training.candidate_features {
        printer.line(format!(
            "{:<22} {:>7.4} {:<5} {}{}",
            candidate.name,
            candidate.information_value,
            if candidate.used { "yes" } else { "no" },
            candidate.description,
            if candidate.note.is_empty() {
                String::new()
            } else {
                format!(" [{}]", candidate.note)
            }
        ))?;
    }
    for challenger in &metrics.challengers {
        let holdout = &challenger.holdout;
        printer.line(format!(
            "challenger {} (held-out): auc={:.4} ks={:.4} brier={:.4} ece={:.4}",
            challenger.kind.as_str(),
            holdout.auc,
            holdout.ks,
            holdout.brier,
            holdout.ece
        ))?;
    }
    printer.line(format!("training_seconds={seconds:.2}"))?;
    std::fs::write(out, model.to_json_pretty() + "\n").map_err(|source| RiskError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    printer.line(format!("model written to {}", out.display()))
}

fn load_model(path: &Path) -> Result<Model, RiskError> {
    let text = std::fs::read_to_string(path).map_err(|source| RiskError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Model::from_json(&text)
}

fn run_eval(
    model_path: &Path,
    data: &Path,
    label: Option<String>,
    printer: &mut Printer<'_>,
) -> Result<(), RiskError> {
    let model = load_model(model_path)?;
    let table = Table::read_csv(data)?;
    let label = label.unwrap_or_else(|| model.label().to_owned());
    let bads = table.labels(&label)?;
    let probabilities = model.predict_table(&table)?;
    printer.line(format!(
        "model {} {} on {}",
        model.kind().as_str(),
        model.model_version(),
        data.display()
    ))?;
    printer.metrics(&MetricsReport::compute(&probabilities, &bads))?;
    printer.bands(&model, &table, &bads)?;
    printer.line("information value per feature (this data, model bins):")?;
    let bins = model.table_bins(&table)?;
    for (feature, feature_bins) in model.features().iter().zip(&bins) {
        let mut counts = vec![BinCounts::default(); feature.bins.len()];
        for (&bin, &bad) in feature_bins.iter().zip(&bads) {
            if bad {
                counts[bin].bads += 1;
            } else {
                counts[bin].goods += 1;
            }
        }
        printer.line(format!(
            "{:<22} {:>7.4} {}",
            feature.name,
            information_value(&counts),
            feature.description
        ))?;
    }
    Ok(())
}

fn stability(psi: f64) -> &'static str {
    if psi < 0.1 {
        "stable"
    } else if psi < 0.25 {
        "drifting"
    } else {
        "shifted"
    }
}

fn run_psi(model_path: &Path, data: &Path, printer: &mut Printer<'_>) -> Result<(), RiskError> {
    let model = load_model(model_path)?;
    let table = Table::read_csv(data)?;
    let report = model.psi(&table)?;
    printer.line(format!("rows={}", report.rows))?;
    printer.line(format!(
        "psi_score={:.4} {}",
        report.score,
        stability(report.score)
    ))?;
    printer.line("psi per feature:")?;
    for (feature, psi) in &report.features {
        printer.line(format!("psi {feature}={psi:.4} {}", stability(*psi)))?;
    }
    Ok(())
}
