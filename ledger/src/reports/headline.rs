//! The scheme's headline figures.

use serde::Serialize;

use super::position::defaulted_amount;
use super::{add, Rate};
use crate::scheme::Scheme;
use crate::Money;

/// Patients enrolled, credit extended, repaid, defaulted, and the default rate by amount per
/// 100,000 (the unit the scheme publishes: Hangzhou reports under 1 per 100,000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Headline {
    pub patients_enrolled: u64,
    pub hospitals: u64,
    pub visits_settled: u64,
    /// The financed parts of every settlement, net of refunds.
    pub credit_extended: Money,
    /// Every repayment, recoveries included.
    pub repaid: Money,
    /// Still owed, written-off amounts included.
    pub outstanding: Money,
    pub defaulted: Money,
    pub recovered: Money,
    /// Written off and still owed (not yet recovered).
    pub written_off: Money,
    /// `defaulted / credit_extended × 100,000`, rounded half away from zero to 0.01.
    pub default_rate_per_100_000: Rate,
    pub net_default_rate_per_100_000: Rate,
}

/// The headline figures of everything the ledger holds.
pub fn headline(scheme: &Scheme) -> Headline {
    let mut figures = Headline {
        patients_enrolled: scheme.patients().count() as u64,
        hospitals: scheme.hospitals().count() as u64,
        visits_settled: 0,
        credit_extended: Money::ZERO,
        repaid: Money::ZERO,
        outstanding: Money::ZERO,
        defaulted: Money::ZERO,
        recovered: Money::ZERO,
        written_off: Money::ZERO,
        default_rate_per_100_000: Rate::ZERO,
        net_default_rate_per_100_000: Rate::ZERO,
    };
    for visit in scheme.visits() {
        let Some(record) = &visit.settlement else {
            continue;
        };
        figures.visits_settled += 1;
        figures.credit_extended = add(figures.credit_extended, record.current.financed);
        figures.repaid = add(figures.repaid, visit.paid);
        figures.outstanding = add(figures.outstanding, visit.outstanding);
        figures.defaulted = add(figures.defaulted, defaulted_amount(visit));
        figures.recovered = add(figures.recovered, visit.recovered);
        if visit.timeline.written_off_at.is_some() {
            figures.written_off = add(figures.written_off, visit.outstanding);
        }
    }
    let net = figures
        .defaulted
        .checked_sub(figures.recovered)
        .expect("recoveries never exceed what defaulted");
    figures.default_rate_per_100_000 =
        Rate::per_100_000(figures.defaulted.fen(), figures.credit_extended.fen());
    figures.net_default_rate_per_100_000 =
        Rate::per_100_000(net.fen(), figures.credit_extended.fen());
    figures
}
