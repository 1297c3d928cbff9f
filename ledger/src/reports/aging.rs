//! Aging: what patients owe on settled visits, by days past due, in total and by hospital.

use std::collections::BTreeMap;

use serde::Serialize;

use super::position::PaymentsByVisit;
use super::{add, Bucket};
use crate::scheme::Scheme;
use crate::{HospitalId, Money, Timestamp};

/// One bucket: the amount owed and the number of visits owing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgingBucket {
    pub bucket: Bucket,
    pub amount: Money,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HospitalAging {
    pub hospital_id: HospitalId,
    pub buckets: Vec<AgingBucket>,
    pub total: Money,
}

/// `GET /v1/reports/aging?as_of=`: the receivables at `as_of` (settled by then, not written
/// off by then, payments and refunds up to then applied), by days past due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgingReport {
    pub as_of: Timestamp,
    pub buckets: Vec<AgingBucket>,
    pub total: Money,
    pub count: u64,
    pub by_hospital: Vec<HospitalAging>,
}

fn empty_buckets() -> Vec<AgingBucket> {
    Bucket::ALL
        .into_iter()
        .map(|bucket| AgingBucket {
            bucket,
            amount: Money::ZERO,
            count: 0,
        })
        .collect()
}

fn total(buckets: &[AgingBucket]) -> Money {
    Money::checked_sum(buckets.iter().map(|bucket| bucket.amount)).expect("bounded")
}

/// Ages every settled visit at `as_of`. Written-off visits are left out (the write-off took
/// them off the receivable; see [`super::write_offs`]).
pub fn aging(scheme: &Scheme, as_of: Timestamp) -> AgingReport {
    let payments = PaymentsByVisit::new(scheme);
    let mut buckets = empty_buckets();
    let mut by_hospital: BTreeMap<&HospitalId, Vec<AgingBucket>> = BTreeMap::new();
    for visit in scheme.visits() {
        let Some(position) = payments.position(visit, as_of) else {
            continue;
        };
        if position.written_off {
            continue;
        }
        let index = position.bucket().index();
        for row in [
            &mut buckets[index],
            &mut by_hospital
                .entry(&visit.key.hospital_id)
                .or_insert_with(empty_buckets)[index],
        ] {
            row.amount = add(row.amount, position.outstanding);
            row.count += 1;
        }
    }
    let report = AgingReport {
        as_of,
        total: total(&buckets),
        count: buckets.iter().map(|bucket| bucket.count).sum(),
        by_hospital: by_hospital
            .into_iter()
            .map(|(hospital_id, buckets)| HospitalAging {
                hospital_id: hospital_id.clone(),
                total: total(&buckets),
                buckets,
            })
            .collect(),
        buckets,
    };
    assert_eq!(
        Money::checked_sum(report.by_hospital.iter().map(|hospital| hospital.total)),
        Some(report.total),
        "the hospitals sum to the total"
    );
    report
}
