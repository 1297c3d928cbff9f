//! `treatfirst report <name> --data-dir DIR`: the finance reports of a data directory (the
//! server must not be running on it), as a table, JSON or CSV, and charts as SVG.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use plotters::prelude::*;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use treatfirst_ledger::reports::{self, Bucket, LossRates, RateSource};
use treatfirst_ledger::scheme::{local_date, Scheme};
use treatfirst_ledger::{Money, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportName {
    Aging,
    Defaults,
    Provision,
    WriteOffs,
    Allowance,
    Headline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct ReportArguments {
    /// Which report.
    #[arg(value_enum)]
    name: ReportName,
    #[command(flatten)]
    location: super::location::LedgerLocation,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// RFC 3339; the time of the journal's last record when omitted.
    #[arg(long)]
    as_of: Option<Timestamp>,
    /// First date (YYYY-MM-DD, UTC+8) of defaults, write-offs and allowance; the first
    /// settlement's date when omitted.
    #[arg(long)]
    from: Option<NaiveDate>,
    /// Last date (inclusive); the date of `as_of` when omitted.
    #[arg(long)]
    to: Option<NaiveDate>,
    /// Provision loss rates as JSON (`{"current": "0.003", "1-7": "0.016", ...}`, every
    /// bucket); derived from the ledger's history when omitted.
    #[arg(long)]
    loss_rates: Option<String>,
    /// Writes a chart as SVG: aging bars (aging, provision) or vintage curves (defaults).
    #[arg(long)]
    chart: Option<PathBuf>,
}

/// A report as rows for a table or CSV, and the whole value for JSON.
struct Rendered {
    value: serde_json::Value,
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    /// Printed under a table (definitions, identities).
    notes: Vec<String>,
}

pub fn run(arguments: ReportArguments) -> anyhow::Result<()> {
    let ledger = arguments.location.open_scheme()?;
    let store = ledger.engine().store().clone();
    let last = store
        .last_record()
        .context("reading the journal")?
        .context("the journal is empty: nothing to report")?;
    let as_of = arguments.as_of.unwrap_or(last.timestamp);
    let scheme = ledger.read();
    let to = arguments.to.unwrap_or_else(|| local_date(as_of));
    let from = arguments
        .from
        .unwrap_or_else(|| first_settlement(&scheme).unwrap_or(to));
    if from > to {
        bail!("--from {from} is after --to {to}");
    }
    let rendered = match arguments.name {
        ReportName::Aging => {
            let report = reports::aging(&scheme, as_of);
            if let Some(path) = &arguments.chart {
                aging_chart(path, &report.buckets)?;
            }
            render_aging(&report)
        }
        ReportName::Defaults => {
            let report = reports::defaults(&scheme, from, to, as_of);
            if let Some(path) = &arguments.chart {
                vintage_chart(path, &report.vintages)?;
            }
            render_defaults(&report)
        }
        ReportName::Provision => {
            let (rates, source) = match &arguments.loss_rates {
                Some(json) => {
                    let rates: LossRates =
                        serde_json::from_str(json).context("reading --loss-rates")?;
                    (rates, RateSource::Given)
                }
                None => reports::derived_loss_rates(&scheme, as_of),
            };
            let report = reports::provision(&scheme, as_of, &rates, source);
            if let Some(path) = &arguments.chart {
                let aged = reports::aging(&scheme, as_of);
                aging_chart(path, &aged.buckets)?;
            }
            render_provision(&report)
        }
        ReportName::WriteOffs => {
            no_chart(&arguments)?;
            render_write_offs(&reports::write_offs(&scheme, arguments.from, arguments.to))
        }
        ReportName::Allowance => {
            no_chart(&arguments)?;
            let start = arguments
                .from
                .map_or(Timestamp::EPOCH, reports::start_of_local_day);
            let end = match arguments.to {
                Some(to) => reports::start_of_local_day(to.succ_opt().unwrap_or(to)),
                None => as_of.plus_seconds(1),
            };
            let report = reports::allowance_roll_forward(store.as_ref(), start, end)
                .context("reading the journal")?;
            render_allowance(&report)
        }
        ReportName::Headline => {
            no_chart(&arguments)?;
            render_headline(&reports::headline(&scheme))
        }
    };
    drop(scheme);
    print(&rendered, arguments.format)
}

/// The headline figures and the aging table (what `simulate` ends with).
pub fn print_headline_and_aging(scheme: &Scheme, as_of: Timestamp) -> anyhow::Result<()> {
    print(&render_headline(&reports::headline(scheme)), Format::Table)?;
    write_out("\n")?;
    print(&render_aging(&reports::aging(scheme, as_of)), Format::Table)
}

fn no_chart(arguments: &ReportArguments) -> anyhow::Result<()> {
    if arguments.chart.is_some() {
        bail!("--chart draws aging (aging, provision) or vintage curves (defaults)");
    }
    Ok(())
}

fn first_settlement(scheme: &Scheme) -> Option<NaiveDate> {
    scheme
        .visits()
        .filter_map(|visit| visit.settlement.as_ref())
        .map(|record| local_date(record.settled_at))
        .min()
}

fn value(report: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(report).expect("reports serialize")
}

fn print(rendered: &Rendered, format: Format) -> anyhow::Result<()> {
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&rendered.value)? + "\n",
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer.write_record(&rendered.header)?;
            for row in &rendered.rows {
                writer.write_record(row)?;
            }
            String::from_utf8(writer.into_inner()?)?
        }
        Format::Table => {
            let mut text = table(&rendered.header, &rendered.rows);
            for note in &rendered.notes {
                text.push_str(note);
                text.push('\n');
            }
            text
        }
    };
    write_out(&text)
}

/// Writes to standard output; a reader that went away (`| head`) is not an error.
fn write_out(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => Ok(result?),
    }
}

/// Columns aligned: the first to the left, the others (figures) to the right.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|title| title.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut text = String::new();
        for (index, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            if index == 0 {
                text.push_str(&format!("{cell:<width$}"));
            } else {
                text.push_str(&format!("  {cell:>width$}"));
            }
        }
        text.trim_end().to_owned() + "\n"
    };
    let mut text = line(header.to_vec());
    let rule: Vec<String> = widths.iter().map(|width| "-".repeat(*width)).collect();
    text.push_str(&line(rule.iter().map(String::as_str).collect()));
    for row in rows {
        text.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    text
}

fn render_aging(report: &reports::AgingReport) -> Rendered {
    let row = |scope: String, buckets: &[reports::AgingBucket], total: Money| {
        let mut cells = vec![scope];
        cells.extend(buckets.iter().map(|bucket| bucket.amount.to_string()));
        cells.push(total.to_string());
        cells.push(
            buckets
                .iter()
                .map(|bucket| bucket.count)
                .sum::<u64>()
                .to_string(),
        );
        cells
    };
    let mut rows = vec![row("all".to_owned(), &report.buckets, report.total)];
    for hospital in &report.by_hospital {
        rows.push(row(
            hospital.hospital_id.to_string(),
            &hospital.buckets,
            hospital.total,
        ));
    }
    Rendered {
        value: value(report),
        header: vec![
            "hospital", "current", "1-7", "8-30", "31-60", "61-90", "91+", "total", "visits",
        ],
        rows,
        notes: vec![format!("as of {}", report.as_of)],
    }
}

fn default_cells(scope: String, figures: &reports::DefaultFigures) -> Vec<String> {
    vec![
        scope,
        figures.visits.to_string(),
        figures.credit_extended.to_string(),
        figures.defaulted_amount.to_string(),
        figures.recovered_amount.to_string(),
        figures.default_rate_by_amount.to_string(),
        figures.net_default_rate_by_amount.to_string(),
        figures.default_rate_by_count.to_string(),
        figures.default_rate_by_patient.to_string(),
    ]
}

fn render_defaults(report: &reports::DefaultReport) -> Rendered {
    let mut rows = vec![default_cells("all".to_owned(), &report.figures)];
    for hospital in &report.by_hospital {
        rows.push(default_cells(
            hospital.hospital_id.to_string(),
            &hospital.figures,
        ));
    }
    let mut notes = vec![
        format!(
            "from {} to {}, defaults up to {}",
            report.from, report.to, report.as_of
        ),
        String::new(),
        "vintages: cumulative default rate by amount, by months since settlement".to_owned(),
    ];
    for curve in &report.vintages {
        let points: Vec<String> = curve
            .points
            .iter()
            .map(|point| point.default_rate_by_amount.to_string())
            .collect();
        notes.push(format!(
            "  {} ({}): {}",
            curve.cohort,
            curve.credit_extended,
            points.join("  ")
        ));
    }
    notes.push(String::new());
    notes.push(format!("definition: {}", report.default_definition));
    Rendered {
        value: value(report),
        header: vec![
            "hospital",
            "visits",
            "credit_extended",
            "defaulted",
            "recovered",
            "rate_by_amount",
            "net_rate_by_amount",
            "rate_by_count",
            "rate_by_patient",
        ],
        rows,
        notes,
    }
}

fn render_provision(report: &reports::ProvisionReport) -> Rendered {
    let mut rows: Vec<Vec<String>> = report
        .buckets
        .iter()
        .map(|bucket| {
            vec![
                bucket.bucket.to_string(),
                bucket.balance.to_string(),
                bucket.count.to_string(),
                bucket.loss_rate.to_string(),
                bucket.allowance.to_string(),
            ]
        })
        .collect();
    rows.push(vec![
        "total".to_owned(),
        report.total_balance.to_string(),
        String::new(),
        String::new(),
        report.total_allowance.to_string(),
    ]);
    let source = match &report.source {
        RateSource::Given => "loss rates: given".to_owned(),
        RateSource::Derived { method, .. } => format!("loss rates: derived ({method})"),
    };
    Rendered {
        value: value(report),
        header: vec!["bucket", "balance", "visits", "loss_rate", "allowance"],
        rows,
        notes: vec![
            format!("as of {}", report.as_of),
            source,
            format!("allowance held by the ledger: {}", report.ledger_allowance),
        ],
    }
}

fn render_write_offs(register: &reports::WriteOffRegister) -> Rendered {
    let rows = register
        .entries
        .iter()
        .map(|entry| {
            vec![
                entry.hospital_id.to_string(),
                entry.visit_id.to_string(),
                entry.patient_id.to_string(),
                entry.written_off_at.to_string(),
                entry.amount.to_string(),
                entry.recovered.to_string(),
                entry.outstanding.to_string(),
            ]
        })
        .collect();
    Rendered {
        value: value(register),
        header: vec![
            "hospital",
            "visit",
            "patient",
            "written_off_at",
            "amount",
            "recovered",
            "outstanding",
        ],
        rows,
        notes: vec![format!(
            "{} visits, {} written off, {} recovered",
            register.count, register.total_written_off, register.total_recovered
        )],
    }
}

fn render_allowance(report: &reports::AllowanceRollForward) -> Rendered {
    let lines = [
        ("opening", report.opening),
        ("+ charge (provisions)", report.charge),
        ("- released on recovery", report.released_on_recovery),
        ("- released on refund", report.released_on_refund),
        ("- write-offs", report.write_offs),
        (
            "+ recoveries to the allowance",
            report.recoveries_to_allowance,
        ),
        ("= closing", report.closing),
    ];
    Rendered {
        value: value(report),
        header: vec!["line", "amount"],
        rows: lines
            .iter()
            .map(|(line, amount)| vec![(*line).to_owned(), amount.to_string()])
            .collect(),
        notes: vec![
            format!("from {} to {}", report.from, report.to),
            format!(
                "recovered after write-off (income): {}",
                report.recoveries_to_income
            ),
        ],
    }
}

fn render_headline(headline: &reports::Headline) -> Rendered {
    let rows = [
        ("patients enrolled", headline.patients_enrolled.to_string()),
        ("hospitals", headline.hospitals.to_string()),
        ("visits settled", headline.visits_settled.to_string()),
        ("credit extended", headline.credit_extended.to_string()),
        ("repaid", headline.repaid.to_string()),
        ("outstanding", headline.outstanding.to_string()),
        ("defaulted", headline.defaulted.to_string()),
        ("recovered", headline.recovered.to_string()),
        ("written off (still owed)", headline.written_off.to_string()),
        (
            "default rate by amount per 100,000",
            headline.default_rate_per_100_000.to_string(),
        ),
        (
            "net default rate per 100,000",
            headline.net_default_rate_per_100_000.to_string(),
        ),
    ];
    Rendered {
        value: value(headline),
        header: vec!["figure", "value"],
        rows: rows
            .into_iter()
            .map(|(name, figure)| vec![name.to_owned(), figure])
            .collect(),
        notes: Vec::new(),
    }
}

/// Whole yuan, for chart coordinates (the figures themselves are exact in the tables).
fn whole_yuan(amount: Money) -> i64 {
    i64::try_from(amount.fen().div_ceil(100)).unwrap_or(i64::MAX)
}

/// Aging as bars, one per bucket, heights in whole yuan.
pub fn aging_chart(path: &Path, buckets: &[reports::AgingBucket]) -> anyhow::Result<()> {
    let heights: Vec<i64> = buckets.iter().map(|row| whole_yuan(row.amount)).collect();
    let top = heights.iter().copied().max().unwrap_or(0).max(1) * 11 / 10 + 1;
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(chart_error)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Aging by days past due (yuan)", ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(80)
        .build_cartesian_2d(0..Bucket::ALL.len() as i64, 0..top)
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(Bucket::ALL.len())
        .x_label_formatter(&|index| {
            usize::try_from(*index)
                .ok()
                .and_then(|index| Bucket::ALL.get(index))
                .map_or(String::new(), |bucket| bucket.to_string())
        })
        .draw()
        .map_err(chart_error)?;
    chart
        .draw_series(heights.iter().enumerate().map(|(index, height)| {
            let left = index as i64;
            let mut bar = Rectangle::new([(left, 0), (left + 1, *height)], BLUE.mix(0.6).filled());
            bar.set_margin(0, 0, 12, 12);
            bar
        }))
        .map_err(chart_error)?;
    root.present().map_err(chart_error)?;
    Ok(())
}

/// Basis points (1/10,000) of a rate, for chart coordinates.
fn basis_points(rate: reports::Rate) -> i64 {
    (rate.value() * rust_decimal::Decimal::from(10_000))
        .round()
        .to_i64()
        .unwrap_or(0)
}

/// Vintage curves: cumulative default rate by months since settlement, one line per cohort.
pub fn vintage_chart(path: &Path, curves: &[reports::VintageCurve]) -> anyhow::Result<()> {
    let months = curves
        .iter()
        .map(|curve| curve.points.len() as i64)
        .max()
        .unwrap_or(1)
        .max(2);
    let top = curves
        .iter()
        .flat_map(|curve| curve.points.iter())
        .map(|point| basis_points(point.default_rate_by_amount))
        .max()
        .unwrap_or(0)
        .max(1)
        * 11
        / 10
        + 1;
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(chart_error)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Vintage curves: cumulative default rate by amount (basis points)",
            ("sans-serif", 20),
        )
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(0..months - 1, 0..top)
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .x_desc("months since settlement")
        .draw()
        .map_err(chart_error)?;
    for (index, curve) in curves.iter().enumerate() {
        let color = Palette99::pick(index).to_rgba();
        let points: Vec<(i64, i64)> = curve
            .points
            .iter()
            .map(|point| {
                (
                    i64::from(point.months_since_settlement),
                    basis_points(point.default_rate_by_amount),
                )
            })
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(chart_error)?
            .label(curve.cohort.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(chart_error)?;
    root.present().map_err(chart_error)?;
    Ok(())
}

fn chart_error(error: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("drawing the chart: {error}")
}
