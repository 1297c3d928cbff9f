//! Finance: the records reports and reconciliation read, and the fund remittance command
//! (a matched line of a remittance file).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::admin::{accepted, replayed, Executed};
use super::chart::{self, TransferKind};
use super::command::{Outcome, SchemeError};
use super::event::SchemeEvent;
use super::model::{PaymentRecord, VisitKey};
use super::state::{Draft, Refusal, Scheme};
use crate::transfers::{Leg, TransferRequest};
use crate::{HospitalId, Money, PlanId, RemittanceReference, Timestamp, VisitId};

impl Scheme {
    /// Every payment applied, in no particular order.
    pub fn payments(&self) -> impl Iterator<Item = &PaymentRecord> {
        self.payments.values()
    }
}

/// One matched line of a fund remittance file: the pooled fund paid `amount` (the visit's
/// fund share) to the visit's hospital.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundRemittance {
    pub reference: RemittanceReference,
    pub hospital_id: HospitalId,
    pub visit_id: VisitId,
    pub amount: Money,
}

/// A posted remittance, as journaled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemittanceRecord {
    pub reference: RemittanceReference,
    pub key: VisitKey,
    pub plan_id: PlanId,
    pub amount: Money,
    pub at: Timestamp,
}

/// The reply to a posted (or replayed) remittance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FundRemitted {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub reference: RemittanceReference,
    pub hospital_id: HospitalId,
    pub visit_id: VisitId,
    pub amount: Money,
    pub remitted_at: Timestamp,
}

/// Remittances posted: by reference (idempotency) and by visit (a visit is remitted once).
#[derive(Debug, Default)]
pub struct Remittances {
    by_reference: HashMap<RemittanceReference, RemittanceRecord>,
    by_visit: HashMap<VisitKey, RemittanceReference>,
}

impl Remittances {
    pub(super) fn insert(&mut self, record: RemittanceRecord) {
        let previous = self
            .by_visit
            .insert(record.key.clone(), record.reference.clone());
        assert!(previous.is_none(), "visit {:?} remitted twice", record.key);
        let previous = self.by_reference.insert(record.reference.clone(), record);
        assert!(previous.is_none(), "a remittance reference used twice");
    }

    pub fn records(&self) -> impl Iterator<Item = &RemittanceRecord> {
        self.by_reference.values()
    }

    pub fn by_reference(&self, reference: &RemittanceReference) -> Option<&RemittanceRecord> {
        self.by_reference.get(reference)
    }

    /// The reference that remitted a visit, if any.
    pub fn of_visit(&self, key: &VisitKey) -> Option<&RemittanceReference> {
        self.by_visit.get(key)
    }
}

fn remitted(record: &RemittanceRecord) -> Outcome {
    Outcome::FundRemitted(FundRemitted {
        reference: record.reference.clone(),
        hospital_id: record.key.hospital_id.clone(),
        visit_id: record.key.visit_id.clone(),
        amount: record.amount,
        remitted_at: record.at,
    })
}

impl Scheme {
    pub fn remittances(&self) -> &Remittances {
        &self.remittances
    }

    /// Checks, first failure wins: the reference (same line: the original outcome; another
    /// line: `idempotency_conflict`); the visit (`not_found`); settled (`invalid_state`);
    /// not remitted already under another reference (`invalid_state`); the amount equals the
    /// visit's fund share (`invalid_request`). Posts `plan:PL:fund_payable` /
    /// `hospital:H:due_from_fund`, the amount.
    pub(super) fn remit_fund(
        &mut self,
        remittance: FundRemittance,
        now: Timestamp,
    ) -> Result<Executed, Refusal> {
        let key = VisitKey {
            hospital_id: remittance.hospital_id.clone(),
            visit_id: remittance.visit_id.clone(),
        };
        if let Some(record) = self.remittances.by_reference(&remittance.reference) {
            if record.key != key || record.amount != remittance.amount {
                return Err(SchemeError::conflict("reference", &remittance.reference).into());
            }
            return Ok(replayed(remitted(record)));
        }
        let visit = self
            .visit(&key)
            .ok_or_else(|| SchemeError::not_found("visit", &remittance.visit_id))?;
        let Some(settlement) = &visit.settlement else {
            return Err(SchemeError::invalid_state("the visit is not settled").into());
        };
        if let Some(reference) = self.remittances.of_visit(&key) {
            return Err(SchemeError::invalid_state(format!(
                "the visit was remitted already (reference {reference})"
            ))
            .into());
        }
        if remittance.amount.is_zero() || remittance.amount != settlement.current.fund_paid {
            return Err(SchemeError::invalid_request(format!(
                "amount {} differs from the visit's fund share {}",
                remittance.amount, settlement.current.fund_paid
            ))
            .into());
        }
        let record = RemittanceRecord {
            reference: remittance.reference,
            plan_id: settlement.terms.plan_id.clone(),
            key,
            amount: remittance.amount,
            at: now,
        };
        let leg = Leg::new(
            &chart::plan_fund_payable(&record.plan_id),
            &chart::hospital_due_from_fund(&record.key.hospital_id),
            record.amount,
        );
        let mut draft = Draft::default();
        let id = self.transfer_ids().next(TransferKind::FundRemittance);
        draft.transfers.push(TransferRequest::post(id, vec![leg]));
        let outcome = remitted(&record);
        draft.events.push(SchemeEvent::FundRemitted(record));
        let change = self.commit(draft, now)?;
        Ok(accepted(outcome, change))
    }
}
