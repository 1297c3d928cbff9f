//! Provision (expected credit loss) per aging bucket from a loss-rate matrix, the rates the
//! ledger's own history implies, and the write-off register.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::position::{defaulted_amount, PaymentsByVisit};
use super::{add, aging, Bucket, Rate};
use crate::scheme::{chart, local_date, plus_days, Scheme, VisitStatus};
use crate::{HospitalId, Money, Normal, PatientId, Ratio, Timestamp, VisitId};

/// Days between the snapshots the derived rates observe.
pub const SNAPSHOT_STEP_DAYS: u32 = 7;
/// The most snapshots the derived rates look at (two years of weeks).
pub const SNAPSHOTS_MAX: u32 = 104;
/// Beyond `default_after_days`, how long after a snapshot a default still counts as the
/// outcome of that snapshot (covers the payment window of any plan up to this many days).
pub const OUTCOME_MARGIN_DAYS: u32 = 31;

/// A loss rate for every aging bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LossRates([Ratio; 6]);

impl LossRates {
    pub fn new(rates: [Ratio; 6]) -> LossRates {
        LossRates(rates)
    }

    /// # Errors
    /// A bucket without a rate (every bucket needs one).
    pub fn from_map(rates: &BTreeMap<Bucket, Ratio>) -> Result<LossRates, String> {
        let missing: Vec<&str> = Bucket::ALL
            .iter()
            .filter(|bucket| !rates.contains_key(bucket))
            .map(|bucket| bucket.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(format!("loss_rates has no rate for {}", missing.join(", ")));
        }
        Ok(LossRates(Bucket::ALL.map(|bucket| rates[&bucket])))
    }

    pub fn rate(&self, bucket: Bucket) -> Ratio {
        self.0[bucket.index()]
    }
}

impl Serialize for LossRates {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let map: BTreeMap<Bucket, Ratio> = Bucket::ALL
            .into_iter()
            .map(|bucket| (bucket, self.rate(bucket)))
            .collect();
        map.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for LossRates {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<LossRates, D::Error> {
        let map = BTreeMap::<Bucket, Ratio>::deserialize(deserializer)?;
        LossRates::from_map(&map).map_err(serde::de::Error::custom)
    }
}

/// Where the loss rates came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "source")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RateSource {
    Given,
    /// From the ledger's history; `observed_balance` per bucket is what the rate rests on.
    Derived {
        method: String,
        observed_balance: BTreeMap<Bucket, Money>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProvisionBucket {
    pub bucket: Bucket,
    pub balance: Money,
    pub count: u64,
    pub loss_rate: Ratio,
    /// `balance × loss_rate`, rounded once, half away from zero to 0.01.
    pub allowance: Money,
}

/// `POST /v1/reports/provision`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProvisionReport {
    pub as_of: Timestamp,
    #[serde(flatten)]
    pub source: RateSource,
    pub buckets: Vec<ProvisionBucket>,
    pub total_balance: Money,
    pub total_allowance: Money,
    /// The allowance the ledger holds now (`scheme:allowance`: the specific provisions of
    /// defaulted visits), for comparison.
    pub ledger_allowance: Money,
}

/// The allowance per aging bucket at `as_of`: each bucket's balance times its loss rate,
/// rounded once per bucket.
pub fn provision(
    scheme: &Scheme,
    as_of: Timestamp,
    rates: &LossRates,
    source: RateSource,
) -> ProvisionReport {
    let aged = aging(scheme, as_of);
    let buckets: Vec<ProvisionBucket> = aged
        .buckets
        .iter()
        .map(|row| {
            let loss_rate = rates.rate(row.bucket);
            ProvisionBucket {
                bucket: row.bucket,
                balance: row.amount,
                count: row.count,
                loss_rate,
                allowance: row.amount.mul_ratio(loss_rate),
            }
        })
        .collect();
    let total_allowance =
        Money::checked_sum(buckets.iter().map(|row| row.allowance)).expect("bounded");
    assert!(
        total_allowance <= aged.total,
        "an allowance never exceeds its balance"
    );
    let ledger_allowance = scheme
        .books()
        .account(&chart::allowance())
        .map_or(Money::ZERO, |account| {
            account.balances.posted(Normal::Credit)
        });
    ProvisionReport {
        as_of,
        source,
        buckets,
        total_balance: aged.total,
        total_allowance,
        ledger_allowance,
    }
}

/// Loss rates from the ledger's history ("flow to default"): at weekly snapshots before
/// `as_of` whose outcome is known (at least `default_after_days` + [`OUTCOME_MARGIN_DAYS`]
/// old), each visit's balance in its bucket, and the part of it later lost (defaulted within
/// that window, less what was recovered). A bucket's rate is lost / balance over all
/// snapshots, rounded half away from zero to 6 decimals. A bucket never observed takes the
/// rate of the nearest worse bucket observed, and 1 when there is none (conservative).
pub fn derived_loss_rates(scheme: &Scheme, as_of: Timestamp) -> (LossRates, RateSource) {
    let payments = PaymentsByVisit::new(scheme);
    let window_days = scheme.config().default_after_days + OUTCOME_MARGIN_DAYS;
    let first_settlement = scheme
        .visits()
        .filter_map(|visit| visit.settlement.as_ref().map(|record| record.settled_at))
        .min();
    let mut balance = [0_u64; 6];
    let mut lost = [0_u64; 6];
    let latest = as_of.plus_seconds(-i64::from(window_days) * 86_400);
    for step in 0..SNAPSHOTS_MAX {
        let snapshot = latest.plus_seconds(-i64::from(step * SNAPSHOT_STEP_DAYS) * 86_400);
        if first_settlement.map_or(true, |first| snapshot < first) {
            break;
        }
        let horizon = plus_days(snapshot, window_days);
        for visit in scheme.visits() {
            let Some(position) = payments.position(visit, snapshot) else {
                continue;
            };
            let already = visit.timeline.defaulted_at.is_some_and(|at| at <= snapshot);
            if position.written_off {
                continue;
            }
            let index = position.bucket().index();
            balance[index] += position.outstanding.fen();
            let defaulted = visit.timeline.defaulted_at.is_some_and(|at| at <= horizon);
            if defaulted || already {
                let net = defaulted_amount(visit).saturating_sub(visit.recovered);
                lost[index] += net.min(position.outstanding).fen();
            }
        }
    }
    let mut rates = [Ratio::ONE; 6];
    let mut worse = Ratio::ONE;
    for index in (0..6).rev() {
        if balance[index] > 0 {
            let rate = Rate::of(lost[index], balance[index]).value();
            worse = Ratio::new(rate).expect("lost never exceeds the balance");
        }
        rates[index] = worse;
    }
    let observed_balance = Bucket::ALL
        .into_iter()
        .map(|bucket| {
            let fen = balance[bucket.index()];
            (bucket, Money::from_fen(fen).unwrap_or(Money::MAX))
        })
        .collect();
    let method = format!(
        "flow to default: balances at snapshots every {SNAPSHOT_STEP_DAYS} days (at most \
         {SNAPSHOTS_MAX}) ending {window_days} days before as_of, and the part of each later \
         lost (defaulted within {window_days} days, less recoveries); rate = lost / balance, \
         rounded half away from zero to 6 decimals; a bucket never observed takes the next \
         worse bucket's rate, or 1"
    );
    (
        LossRates(rates),
        RateSource::Derived {
            method,
            observed_balance,
        },
    )
}

/// One written-off visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WriteOff {
    pub hospital_id: HospitalId,
    pub visit_id: VisitId,
    pub patient_id: PatientId,
    pub settled_at: Timestamp,
    pub due_at: Timestamp,
    pub defaulted_at: Option<Timestamp>,
    pub written_off_at: Timestamp,
    /// What the write-off took off the receivable.
    pub amount: Money,
    /// Repaid since (a recovery).
    pub recovered: Money,
    /// Still owed by the patient.
    pub outstanding: Money,
}

/// The write-off register (`GET /v1/reports/write-offs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WriteOffRegister {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub count: u64,
    pub total_written_off: Money,
    pub total_recovered: Money,
    pub entries: Vec<WriteOff>,
}

/// Every visit written off on a local date from `from` to `to` (inclusive; open ends when
/// `None`), in the order they were written off.
pub fn write_offs(
    scheme: &Scheme,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> WriteOffRegister {
    let payments = PaymentsByVisit::new(scheme);
    let mut entries: Vec<WriteOff> = scheme
        .visits()
        .filter_map(|visit| {
            let written_off_at = visit.timeline.written_off_at?;
            let date = local_date(written_off_at);
            if from.is_some_and(|from| date < from) || to.is_some_and(|to| date > to) {
                return None;
            }
            let record = visit.settlement.as_ref()?;
            let recovered = Money::checked_sum(
                payments
                    .of(&visit.key)
                    .iter()
                    .filter(|(_, _, status)| *status == VisitStatus::WrittenOff)
                    .map(|(_, amount, _)| *amount),
            )
            .expect("bounded");
            Some(WriteOff {
                hospital_id: visit.key.hospital_id.clone(),
                visit_id: visit.key.visit_id.clone(),
                patient_id: visit.request.patient_id.clone(),
                settled_at: record.settled_at,
                due_at: record.due_at,
                defaulted_at: visit.timeline.defaulted_at,
                written_off_at,
                amount: add(visit.outstanding, recovered),
                recovered,
                outstanding: visit.outstanding,
            })
        })
        .collect();
    entries.sort_by(|left, right| {
        (left.written_off_at, &left.hospital_id, &left.visit_id).cmp(&(
            right.written_off_at,
            &right.hospital_id,
            &right.visit_id,
        ))
    });
    WriteOffRegister {
        from,
        to,
        count: entries.len() as u64,
        total_written_off: Money::checked_sum(entries.iter().map(|entry| entry.amount))
            .expect("bounded"),
        total_recovered: Money::checked_sum(entries.iter().map(|entry| entry.recovered))
            .expect("bounded"),
        entries,
    }
}
