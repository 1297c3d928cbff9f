//! Default rates of the credit extended in a date range, and vintage curves.

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::position::defaulted_amount;
use super::{add, Rate};
use crate::scheme::{local_date, Scheme, Visit};
use crate::{HospitalId, Money, PatientId, Timestamp};

/// What the report counts, stated in its output.
pub const DEFAULT_DEFINITION: &str = "A visit defaults when a delinquency run finds it \
default_after_days or more days past due. Cohort: visits settled from `from` to `to` \
inclusive (dates in UTC+8) with a financed part. Credit extended: the financed part of their \
settlements, net of refunds. Defaulted amount: what a visit owed when it defaulted, net of \
later refunds, for defaults recorded up to `as_of`. Recovered: repaid after default. Net: \
defaulted minus recovered. Rates: quotients rounded half away from zero to 6 decimals.";

/// The figures of one population (all visits of the range, or one hospital's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DefaultFigures {
    pub visits: u64,
    pub credit_extended: Money,
    pub patients: u64,
    pub defaulted_visits: u64,
    pub defaulted_amount: Money,
    pub defaulted_patients: u64,
    pub recovered_amount: Money,
    pub net_defaulted_amount: Money,
    pub default_rate_by_amount: Rate,
    pub default_rate_by_count: Rate,
    pub default_rate_by_patient: Rate,
    pub net_default_rate_by_amount: Rate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HospitalDefaults {
    pub hospital_id: HospitalId,
    #[serde(flatten)]
    pub figures: DefaultFigures,
}

/// Cumulative defaults of a cohort `months_since_settlement` calendar months after its
/// settlement month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VintagePoint {
    pub months_since_settlement: u32,
    pub defaulted_amount: Money,
    pub default_rate_by_amount: Rate,
}

/// One cohort month (`2026-03`): the visits settled in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VintageCurve {
    pub cohort: String,
    pub credit_extended: Money,
    pub points: Vec<VintagePoint>,
}

/// `GET /v1/reports/defaults?from=&to=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DefaultReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub as_of: Timestamp,
    pub default_after_days: u32,
    pub default_definition: &'static str,
    #[serde(flatten)]
    pub figures: DefaultFigures,
    pub by_hospital: Vec<HospitalDefaults>,
    pub vintages: Vec<VintageCurve>,
}

/// Sums of one population before the rates.
#[derive(Default)]
struct Tally<'a> {
    visits: u64,
    credit_extended: Money,
    patients: HashSet<&'a PatientId>,
    defaulted_visits: u64,
    defaulted_amount: Money,
    defaulted_patients: HashSet<&'a PatientId>,
    recovered_amount: Money,
}

impl<'a> Tally<'a> {
    fn add_visit(&mut self, visit: &'a Visit, financed: Money, defaulted: Option<Money>) {
        self.visits += 1;
        self.credit_extended = add(self.credit_extended, financed);
        self.patients.insert(&visit.request.patient_id);
        if let Some(amount) = defaulted {
            self.defaulted_visits += 1;
            self.defaulted_amount = add(self.defaulted_amount, amount);
            self.defaulted_patients.insert(&visit.request.patient_id);
            self.recovered_amount = add(self.recovered_amount, visit.recovered);
        }
    }

    fn figures(&self) -> DefaultFigures {
        let net = self
            .defaulted_amount
            .checked_sub(self.recovered_amount)
            .expect("recoveries never exceed what defaulted");
        let patients = self.patients.len() as u64;
        let defaulted_patients = self.defaulted_patients.len() as u64;
        DefaultFigures {
            visits: self.visits,
            credit_extended: self.credit_extended,
            patients,
            defaulted_visits: self.defaulted_visits,
            defaulted_amount: self.defaulted_amount,
            defaulted_patients,
            recovered_amount: self.recovered_amount,
            net_defaulted_amount: net,
            default_rate_by_amount: Rate::of(
                self.defaulted_amount.fen(),
                self.credit_extended.fen(),
            ),
            default_rate_by_count: Rate::of(self.defaulted_visits, self.visits),
            default_rate_by_patient: Rate::of(defaulted_patients, patients),
            net_default_rate_by_amount: Rate::of(net.fen(), self.credit_extended.fen()),
        }
    }
}

/// A calendar month as one number (year × 12 + month − 1).
fn month_number(date: NaiveDate) -> i64 {
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

/// Default rates of the visits settled from `from` to `to` (local dates, inclusive), counting
/// defaults recorded up to `as_of`; vintage curves per settlement month up to `as_of`.
pub fn defaults(
    scheme: &Scheme,
    from: NaiveDate,
    to: NaiveDate,
    as_of: Timestamp,
) -> DefaultReport {
    let mut overall = Tally::default();
    let mut by_hospital: BTreeMap<&HospitalId, Tally> = BTreeMap::new();
    // cohort month -> (credit extended, defaulted amount by months since settlement)
    let mut cohorts: BTreeMap<i64, (Money, BTreeMap<i64, Money>)> = BTreeMap::new();
    for visit in scheme.visits() {
        let Some(record) = &visit.settlement else {
            continue;
        };
        let financed = record.current.financed;
        let settled_on = local_date(record.settled_at);
        if financed.is_zero() || settled_on < from || settled_on > to || record.settled_at > as_of {
            continue;
        }
        let defaulted_at = visit
            .timeline
            .defaulted_at
            .filter(|defaulted_at| *defaulted_at <= as_of);
        let defaulted = defaulted_at.map(|_| defaulted_amount(visit));
        overall.add_visit(visit, financed, defaulted);
        by_hospital
            .entry(&visit.key.hospital_id)
            .or_default()
            .add_visit(visit, financed, defaulted);
        let cohort = cohorts.entry(month_number(settled_on)).or_default();
        cohort.0 = add(cohort.0, financed);
        if let (Some(defaulted_at), Some(amount)) = (defaulted_at, defaulted) {
            let months = month_number(local_date(defaulted_at)) - month_number(settled_on);
            let cell = cohort.1.entry(months).or_default();
            *cell = add(*cell, amount);
        }
    }
    let figures = overall.figures();
    let by_hospital: Vec<HospitalDefaults> = by_hospital
        .into_iter()
        .map(|(hospital_id, tally)| HospitalDefaults {
            hospital_id: hospital_id.clone(),
            figures: tally.figures(),
        })
        .collect();
    assert_eq!(
        Money::checked_sum(by_hospital.iter().map(|row| row.figures.defaulted_amount)),
        Some(figures.defaulted_amount),
        "hospitals sum to the total"
    );
    let as_of_month = month_number(local_date(as_of));
    DefaultReport {
        from,
        to,
        as_of,
        default_after_days: scheme.config().default_after_days,
        default_definition: DEFAULT_DEFINITION,
        figures,
        by_hospital,
        vintages: cohorts
            .into_iter()
            .map(|(cohort, (credit, by_month))| vintage(cohort, credit, &by_month, as_of_month))
            .collect(),
    }
}

fn vintage(
    cohort: i64,
    credit_extended: Money,
    by_month: &BTreeMap<i64, Money>,
    as_of_month: i64,
) -> VintageCurve {
    let mut cumulative = Money::ZERO;
    let points = (0..=(as_of_month - cohort).max(0))
        .map(|months| {
            cumulative = add(
                cumulative,
                by_month.get(&months).copied().unwrap_or_default(),
            );
            VintagePoint {
                months_since_settlement: u32::try_from(months).expect("a few months"),
                defaulted_amount: cumulative,
                default_rate_by_amount: Rate::of(cumulative.fen(), credit_extended.fen()),
            }
        })
        .collect();
    VintageCurve {
        cohort: format!(
            "{:04}-{:02}",
            cohort.div_euclid(12),
            cohort.rem_euclid(12) + 1
        ),
        credit_extended,
        points,
    }
}
