//! Reconciliation of CSV files against the ledger: fund remittance files
//! (`reference,hospital_id,visit_id,amount`) and payment-channel statements
//! (`payment_id,amount,channel`).
//!
//! Parsing is all or nothing: every malformed row is reported with its line number and a
//! file with any error is not reconciled at all. Matching is a pure function of the state;
//! for fund files the matched lines become [`SchemeCommand::RemitFund`] commands, idempotent
//! by their reference, so importing the same file again posts nothing new.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::scheme::{
    FundRemittance, Scheme, SchemeCommand, SchemeLedger, SchemeLedgerError, VisitKey,
};
use crate::{ChannelId, HospitalId, Money, PaymentId, RemittanceReference, VisitId};

/// The most data rows a file may hold.
pub const ROWS_PER_FILE_MAX: usize = 1_000_000;
/// The most entries each list of a result carries (the counts are always complete).
pub const LISTED_MAX: usize = 1_000;
/// The most malformed rows reported.
pub const ERRORS_LISTED_MAX: usize = 100;

pub const FUND_HEADER: [&str; 4] = ["reference", "hospital_id", "visit_id", "amount"];
pub const CHANNEL_HEADER: [&str; 3] = ["payment_id", "amount", "channel"];

/// A malformed row: its line number in the file (the header is line 1) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

/// One line of a fund remittance file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FundLine {
    pub line: u64,
    pub reference: RemittanceReference,
    pub hospital_id: HospitalId,
    pub visit_id: VisitId,
    pub amount: Money,
}

/// One line of a channel statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelLine {
    pub line: u64,
    pub payment_id: PaymentId,
    pub amount: Money,
    pub channel: ChannelId,
}

fn parse_rows<const N: usize, T>(
    bytes: &[u8],
    header: [&str; N],
    row: impl Fn(&[&str; N]) -> Result<T, String>,
) -> Result<Vec<(u64, T)>, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut seen_header = false;
    for (index, record) in reader.records().enumerate() {
        let position = match &record {
            Ok(record) => record.position().cloned(),
            Err(error) => error.position().cloned(),
        };
        // Counted from the bytes: the parser does not count blank lines.
        let line = position.map_or(index as u64 + 1, |position| {
            let mut start = usize::try_from(position.byte())
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            while start < bytes.len() && matches!(bytes[start], b'\n' | b'\r') {
                start += 1;
            }
            bytes[..start].iter().filter(|&&byte| byte == b'\n').count() as u64 + 1
        });
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                errors.push(RowError {
                    line,
                    message: error.to_string(),
                });
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        if !seen_header {
            seen_header = true;
            if record.iter().eq(header.iter().copied()) {
                continue;
            }
            errors.push(RowError {
                line,
                message: format!("the header must be {}", header.join(",")),
            });
            continue;
        }
        if rows.len() + errors.len() >= ROWS_PER_FILE_MAX {
            errors.push(RowError {
                line,
                message: format!("a file may hold at most {ROWS_PER_FILE_MAX} rows"),
            });
            break;
        }
        let fields: Vec<&str> = record.iter().collect();
        let Ok(fields) = <[&str; N]>::try_from(fields) else {
            errors.push(RowError {
                line,
                message: format!(
                    "expected {N} fields ({}), found {}",
                    header.join(","),
                    record.len()
                ),
            });
            continue;
        };
        match row(&fields) {
            Ok(value) => rows.push((line, value)),
            Err(message) => errors.push(RowError { line, message }),
        }
    }
    if !seen_header && errors.is_empty() {
        errors.push(RowError {
            line: 1,
            message: format!("the file is empty; the header must be {}", header.join(",")),
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        errors.truncate(ERRORS_LISTED_MAX);
        Err(errors)
    }
}

fn field<T: std::str::FromStr>(name: &str, text: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|error| format!("{name}: {error}"))
}

/// Parses a fund remittance file. A reference used twice in the file is an error.
///
/// # Errors
/// Every malformed row, with its line number (at most [`ERRORS_LISTED_MAX`]).
pub fn parse_fund_file(bytes: &[u8]) -> Result<Vec<FundLine>, Vec<RowError>> {
    let lines = parse_rows(bytes, FUND_HEADER, |fields| {
        Ok((
            field::<RemittanceReference>("reference", fields[0])?,
            field::<HospitalId>("hospital_id", fields[1])?,
            field::<VisitId>("visit_id", fields[2])?,
            field::<Money>("amount", fields[3])?,
        ))
    })?;
    let parsed: Vec<FundLine> = lines
        .into_iter()
        .map(
            |(line, (reference, hospital_id, visit_id, amount))| FundLine {
                line,
                reference,
                hospital_id,
                visit_id,
                amount,
            },
        )
        .collect();
    refuse_repeats(&parsed, "reference", |row| (row.line, &row.reference))?;
    Ok(parsed)
}

/// Parses a channel statement. A payment id listed twice is an error.
///
/// # Errors
/// Every malformed row, with its line number (at most [`ERRORS_LISTED_MAX`]).
pub fn parse_channel_file(bytes: &[u8]) -> Result<Vec<ChannelLine>, Vec<RowError>> {
    let lines = parse_rows(bytes, CHANNEL_HEADER, |fields| {
        Ok((
            field::<PaymentId>("payment_id", fields[0])?,
            field::<Money>("amount", fields[1])?,
            field::<ChannelId>("channel", fields[2])?,
        ))
    })?;
    let parsed: Vec<ChannelLine> = lines
        .into_iter()
        .map(|(line, (payment_id, amount, channel))| ChannelLine {
            line,
            payment_id,
            amount,
            channel,
        })
        .collect();
    refuse_repeats(&parsed, "payment_id", |row| (row.line, &row.payment_id))?;
    Ok(parsed)
}

/// Every row whose key (`name`) an earlier row already used, with both line numbers.
fn refuse_repeats<R, K: Eq + std::hash::Hash + std::fmt::Display>(
    rows: &[R],
    name: &str,
    key: impl Fn(&R) -> (u64, &K),
) -> Result<(), Vec<RowError>> {
    let mut seen: HashMap<&K, u64> = HashMap::new();
    let mut errors = Vec::new();
    for row in rows {
        let (line, value) = key(row);
        if let Some(first) = seen.insert(value, line) {
            errors.push(RowError {
                line,
                message: format!("{name} {value} repeats line {first}"),
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        errors.truncate(ERRORS_LISTED_MAX);
        Err(errors)
    }
}

/// A line that does not match the ledger, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Unmatched<L> {
    #[serde(flatten)]
    pub line: L,
    /// What the ledger holds for it (the fund share, the payment's amount), when known.
    pub expected: Option<Money>,
    pub reason: String,
}

/// A settled visit with a fund share no remittance covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MissingVisit {
    pub hospital_id: HospitalId,
    pub visit_id: VisitId,
    pub fund_share: Money,
}

/// The result of matching a fund file, before posting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FundMatch {
    /// Lines that match a settled visit's fund share: to post (or already posted under the
    /// same reference).
    #[serde(skip)]
    pub matched: Vec<FundLine>,
    pub mismatched: Vec<Unmatched<FundLine>>,
    pub unknown: Vec<Unmatched<FundLine>>,
    pub missing: Vec<MissingVisit>,
    pub missing_count: u64,
    pub missing_amount: Money,
}

impl FundMatch {
    /// The commands that post the matched lines (idempotent by reference).
    pub fn commands(&self) -> Vec<SchemeCommand> {
        self.matched
            .iter()
            .map(|line| {
                SchemeCommand::RemitFund(FundRemittance {
                    reference: line.reference.clone(),
                    hospital_id: line.hospital_id.clone(),
                    visit_id: line.visit_id.clone(),
                    amount: line.amount,
                })
            })
            .collect()
    }
}

/// Matches a fund file against the ledger: each line's visit must be settled with exactly
/// that fund share and not remitted under another reference (a line whose reference was
/// posted before with the same content matches: re-importing is harmless). Settled visits
/// with a fund share, not remitted and not in the file, are missing.
pub fn match_fund_file(scheme: &Scheme, lines: Vec<FundLine>) -> FundMatch {
    let mut result = FundMatch {
        matched: Vec::new(),
        mismatched: Vec::new(),
        unknown: Vec::new(),
        missing: Vec::new(),
        missing_count: 0,
        missing_amount: Money::ZERO,
    };
    let mut in_file: HashSet<VisitKey> = HashSet::new();
    for line in lines {
        let key = VisitKey {
            hospital_id: line.hospital_id.clone(),
            visit_id: line.visit_id.clone(),
        };
        in_file.insert(key.clone());
        let remittances = scheme.remittances();
        if let Some(record) = remittances.by_reference(&line.reference) {
            if record.key == key && record.amount == line.amount {
                result.matched.push(line);
            } else {
                result.mismatched.push(Unmatched {
                    line,
                    expected: Some(record.amount),
                    reason: "the reference was posted before for another visit or amount".into(),
                });
            }
            continue;
        }
        let Some(visit) = scheme.visit(&key) else {
            result.unknown.push(Unmatched {
                line,
                expected: None,
                reason: "no such visit".into(),
            });
            continue;
        };
        let Some(settlement) = &visit.settlement else {
            result.unknown.push(Unmatched {
                line,
                expected: None,
                reason: "the visit is not settled".into(),
            });
            continue;
        };
        let fund_share = settlement.current.fund_paid;
        if let Some(reference) = remittances.of_visit(&key) {
            result.mismatched.push(Unmatched {
                line,
                expected: Some(fund_share),
                reason: format!("the visit was remitted already (reference {reference})"),
            });
        } else if line.amount != fund_share || fund_share.is_zero() {
            result.mismatched.push(Unmatched {
                line,
                expected: Some(fund_share),
                reason: "the amount differs from the visit's fund share".into(),
            });
        } else {
            result.matched.push(line);
        }
    }
    let mut missing: Vec<MissingVisit> = scheme
        .visits()
        .filter_map(|visit| {
            let fund_share = visit.settlement.as_ref()?.current.fund_paid;
            let remitted = scheme.remittances().of_visit(&visit.key).is_some();
            (!fund_share.is_zero() && !remitted && !in_file.contains(&visit.key)).then(|| {
                MissingVisit {
                    hospital_id: visit.key.hospital_id.clone(),
                    visit_id: visit.key.visit_id.clone(),
                    fund_share,
                }
            })
        })
        .collect();
    missing.sort_by(|left, right| {
        (&left.hospital_id, &left.visit_id).cmp(&(&right.hospital_id, &right.visit_id))
    });
    result.missing_count = missing.len() as u64;
    result.missing_amount =
        Money::checked_sum(missing.iter().map(|visit| visit.fund_share)).unwrap_or(Money::MAX);
    missing.truncate(LISTED_MAX);
    result.missing = missing;
    result.mismatched.truncate(LISTED_MAX);
    result.unknown.truncate(LISTED_MAX);
    result
}

/// A payment of the ledger the statement does not list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MissingPayment {
    pub payment_id: PaymentId,
    pub amount: Money,
    pub channel: ChannelId,
}

/// `POST /v1/reconciliations/channel`: nothing is posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelReconciliation {
    pub matched: u64,
    pub matched_amount: Money,
    pub mismatched: Vec<Unmatched<ChannelLine>>,
    pub unknown: Vec<Unmatched<ChannelLine>>,
    /// Payments through the statement's channels that it does not list.
    pub missing: Vec<MissingPayment>,
    pub missing_count: u64,
}

/// Matches a channel statement: each line against the payment with its id (amount and
/// channel must agree); payments of the ledger through the channels the statement covers
/// and not in it are missing.
pub fn reconcile_channel(scheme: &Scheme, lines: Vec<ChannelLine>) -> ChannelReconciliation {
    let mut result = ChannelReconciliation {
        matched: 0,
        matched_amount: Money::ZERO,
        mismatched: Vec::new(),
        unknown: Vec::new(),
        missing: Vec::new(),
        missing_count: 0,
    };
    let channels: HashSet<ChannelId> = lines.iter().map(|line| line.channel.clone()).collect();
    let listed: HashSet<PaymentId> = lines.iter().map(|line| line.payment_id.clone()).collect();
    for line in lines {
        let Some(payment) = scheme.payment(&line.payment_id) else {
            result.unknown.push(Unmatched {
                line,
                expected: None,
                reason: "no such payment".into(),
            });
            continue;
        };
        let request = &payment.request;
        if request.amount != line.amount {
            result.mismatched.push(Unmatched {
                line,
                expected: Some(request.amount),
                reason: "the amount differs from the payment's".into(),
            });
        } else if request.channel != line.channel {
            result.mismatched.push(Unmatched {
                line,
                expected: Some(request.amount),
                reason: format!("the payment came through {}", request.channel),
            });
        } else {
            result.matched += 1;
            result.matched_amount = result
                .matched_amount
                .checked_add(line.amount)
                .unwrap_or(Money::MAX);
        }
    }
    let mut missing: Vec<MissingPayment> = scheme
        .payments()
        .filter(|payment| {
            channels.contains(&payment.request.channel)
                && !listed.contains(&payment.request.payment_id)
        })
        .map(|payment| MissingPayment {
            payment_id: payment.request.payment_id.clone(),
            amount: payment.request.amount,
            channel: payment.request.channel.clone(),
        })
        .collect();
    missing.sort_by(|left, right| left.payment_id.cmp(&right.payment_id));
    result.missing_count = missing.len() as u64;
    missing.truncate(LISTED_MAX);
    result.missing = missing;
    result.mismatched.truncate(LISTED_MAX);
    result.unknown.truncate(LISTED_MAX);
    result
}

/// `POST /v1/reconciliations/fund`: `matched` lines (posted now or before), `posted` of them
/// new in this import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FundReconciliation {
    pub matched: u64,
    pub posted: u64,
    pub matched_amount: Money,
    #[serde(flatten)]
    pub result: FundMatch,
}

/// Parses, matches and posts a fund remittance file on a durable ledger: the matched lines
/// become remittances (one commit); lines the ledger refuses at posting (another import got
/// there first) are reported as mismatched.
///
/// # Errors
/// Storage failure (the outer error); a malformed file (the inner error: nothing applied).
pub fn reconcile_fund(
    ledger: &SchemeLedger,
    bytes: &[u8],
) -> Result<Result<FundReconciliation, Vec<RowError>>, SchemeLedgerError> {
    let lines = match parse_fund_file(bytes) {
        Ok(lines) => lines,
        Err(errors) => return Ok(Err(errors)),
    };
    let mut result = match_fund_file(&ledger.read(), lines);
    let replies = ledger.submit_many(result.commands())?;
    let mut reconciliation = FundReconciliation {
        matched: 0,
        posted: 0,
        matched_amount: Money::ZERO,
        result: FundMatch {
            matched: Vec::new(),
            ..result.clone()
        },
    };
    for (line, reply) in std::mem::take(&mut result.matched).into_iter().zip(replies) {
        match reply {
            Ok(accepted) => {
                reconciliation.matched += 1;
                reconciliation.posted += u64::from(!accepted.replayed);
                reconciliation.matched_amount = reconciliation
                    .matched_amount
                    .checked_add(line.amount)
                    .unwrap_or(Money::MAX);
            }
            Err(error) => reconciliation.result.mismatched.push(Unmatched {
                line,
                expected: None,
                reason: error.to_string(),
            }),
        }
    }
    Ok(Ok(reconciliation))
}

/// Parses and matches a channel statement (nothing is posted).
///
/// # Errors
/// A malformed file.
pub fn reconcile_channel_file(
    scheme: &Scheme,
    bytes: &[u8],
) -> Result<ChannelReconciliation, Vec<RowError>> {
    Ok(reconcile_channel(scheme, parse_channel_file(bytes)?))
}
