//! Read access for finance: the records reports and reconciliation are computed from.

use super::model::PaymentRecord;
use super::state::Scheme;

impl Scheme {
    /// Every payment applied, in no particular order.
    pub fn payments(&self) -> impl Iterator<Item = &PaymentRecord> {
        self.payments.values()
    }
}
