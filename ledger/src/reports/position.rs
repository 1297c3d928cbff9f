//! Where each visit stood at an instant: what was owed and how far past due, rebuilt from the
//! settlement, the refunds and the payments recorded up to that instant.

use std::collections::HashMap;

use crate::scheme::{Scheme, Visit, VisitKey, VisitStatus};
use crate::{Money, Timestamp};

use super::Bucket;

const SECONDS_PER_DAY: i64 = 86_400;

/// Payments applied to each visit: (when, amount, the visit's status before).
pub(super) struct PaymentsByVisit<'a> {
    by_visit: HashMap<&'a VisitKey, Vec<(Timestamp, Money, VisitStatus)>>,
}

/// A visit's position at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Position {
    pub outstanding: Money,
    pub days_past_due: u64,
    /// Written off by then (off the receivable, so out of the aging).
    pub written_off: bool,
}

impl Position {
    pub fn bucket(&self) -> Bucket {
        Bucket::of(self.days_past_due)
    }
}

impl<'a> PaymentsByVisit<'a> {
    /// Indexes every allocation of every payment by its visit. The keys borrow the scheme's
    /// visits, so the index lives as long as the read of the state.
    pub fn new(scheme: &'a Scheme) -> PaymentsByVisit<'a> {
        let mut by_visit: HashMap<&'a VisitKey, Vec<(Timestamp, Money, VisitStatus)>> =
            HashMap::new();
        let keys: HashMap<(&crate::HospitalId, &crate::VisitId), &'a VisitKey> = scheme
            .visits()
            .map(|visit| ((&visit.key.hospital_id, &visit.key.visit_id), &visit.key))
            .collect();
        for payment in scheme.payments() {
            for allocation in &payment.applied {
                let key = keys
                    .get(&(&allocation.hospital_id, &allocation.visit_id))
                    .copied()
                    .expect("payments are applied to known visits");
                by_visit.entry(key).or_default().push((
                    payment.at,
                    allocation.amount,
                    allocation.status_before,
                ));
            }
        }
        PaymentsByVisit { by_visit }
    }

    pub fn of(&self, key: &VisitKey) -> &[(Timestamp, Money, VisitStatus)] {
        self.by_visit.get(key).map_or(&[], Vec::as_slice)
    }

    /// The visit's position at `as_of`; `None` when it was not settled by then or owed
    /// nothing.
    pub fn position(&self, visit: &Visit, as_of: Timestamp) -> Option<Position> {
        let record = visit.settlement.as_ref()?;
        if record.settled_at > as_of {
            return None;
        }
        let refunded = visit
            .refunds
            .iter()
            .filter(|(_, refund)| refund.at <= as_of)
            .map(|(_, refund)| refund.differences.outstanding_reduced);
        let paid = self
            .of(&visit.key)
            .iter()
            .filter(|(at, _, _)| *at <= as_of)
            .map(|(_, amount, _)| *amount);
        let reduced = Money::checked_sum(refunded.chain(paid)).expect("bounded by the visit");
        let outstanding = record
            .original
            .financed
            .checked_sub(reduced)
            .expect("payments and refunds never exceed what was financed");
        if outstanding.is_zero() {
            return None;
        }
        Some(Position {
            outstanding,
            days_past_due: days_past_due(record.due_at, as_of),
            written_off: visit
                .timeline
                .written_off_at
                .is_some_and(|written_off_at| written_off_at <= as_of),
        })
    }
}

/// Whole or part days from `due_at` to `as_of`: one second late is one day past due (the
/// delinquency run makes such a visit overdue). Zero when not yet due.
pub(super) fn days_past_due(due_at: Timestamp, as_of: Timestamp) -> u64 {
    let seconds = as_of.seconds_since(due_at);
    if seconds <= 0 {
        return 0;
    }
    let seconds = u64::try_from(seconds).expect("positive");
    seconds.div_ceil(SECONDS_PER_DAY as u64)
}

/// The amount a defaulted visit defaulted with, net of later refunds: what it still owes plus
/// what was recovered after the default. Zero for a visit that never defaulted.
pub(super) fn defaulted_amount(visit: &Visit) -> Money {
    if visit.timeline.defaulted_at.is_none() {
        return Money::ZERO;
    }
    super::add(visit.outstanding, visit.recovered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_late_is_a_day_past_due() {
        let due = Timestamp::from_seconds(1_000_000);
        let cases = [
            (-1, 0),
            (0, 0),
            (1, 1),
            (SECONDS_PER_DAY, 1),
            (SECONDS_PER_DAY + 1, 2),
            (30 * SECONDS_PER_DAY, 30),
        ];
        for (offset, expected) in cases {
            assert_eq!(
                days_past_due(due, due.plus_seconds(offset)),
                expected,
                "{offset}"
            );
        }
    }
}
