//! Check-in, charges and cancellation: the open part of a visit and its credit hold.

use super::admin::{accepted, check_amount, replayed, Executed};
use super::chart::{self, TransferKind};
use super::command::{
    ChargeAdded, DeclineReason, Outcome, SchemeError, VisitCancelled, VisitOpened,
    CHARGES_PER_VISIT_MAX, ITEMS_PER_CHARGE_MAX,
};
use super::event::SchemeEvent;
use super::model::{
    ChargeRequest, Hold, OpenVisitRequest, PatientStatus, Visit, VisitKey, VisitStatus,
};
use super::state::{Draft, Refusal, Scheme};
use crate::insurance::{ChargeLine, LINES_PER_VISIT_MAX};
use crate::transfers::{Leg, TransferAction, TransferRequest};
use crate::{HospitalId, Money, PatientId, Timestamp, VisitId};

impl Scheme {
    /// Checks, first failure wins: the estimate; the idempotency record (the visit id at this
    /// hospital); hospital and patient; the patient's status; the credit left.
    pub(super) fn open_visit(
        &mut self,
        hospital_id: HospitalId,
        request: OpenVisitRequest,
        now: Timestamp,
    ) -> Result<Executed, Refusal> {
        check_amount("estimated_amount", request.estimated_amount)?;
        let key = VisitKey {
            hospital_id: hospital_id.clone(),
            visit_id: request.visit_id.clone(),
        };
        if let Some(visit) = self.visit(&key) {
            if visit.request != request {
                return Err(SchemeError::conflict("visit_id", &request.visit_id).into());
            }
            return Ok(replayed(Outcome::VisitOpened(opened(visit))));
        }
        self.known_hospital(&hospital_id)?;
        let patient = self
            .patient(&request.patient_id)
            .ok_or_else(|| SchemeError::not_found("patient", &request.patient_id))?;
        decline_unless_active(patient.status)?;
        let available = self.credit_free(&request.patient_id);
        if request.estimated_amount > available {
            let mut reasons = vec![DeclineReason::EstimateExceedsAvailableCredit];
            if available.is_zero() {
                reasons.push(DeclineReason::CreditLineExhausted);
            }
            return Err(SchemeError::InsufficientCredit { available, reasons }.into());
        }
        let mut draft = Draft::default();
        let hold = self.hold_draft(
            &mut draft,
            &key,
            &request.patient_id,
            None,
            request.estimated_amount,
        );
        draft.events.push(SchemeEvent::VisitOpened {
            key: key.clone(),
            request,
            authorized_amount: hold.as_ref().map_or(Money::ZERO, |hold| hold.amount),
            hold,
        });
        let change = self.commit(draft, now)?;
        let visit = self.visit(&key).expect("the visit was opened");
        Ok(accepted(Outcome::VisitOpened(opened(visit)), change))
    }

    /// Checks, first failure wins: the items; the visit; the idempotency record (the charge
    /// id in this visit); the visit's state and limits. Never refuses for lack of credit: the
    /// hold grows as far as the credit allows, the rest is collected at the counter.
    pub(super) fn add_charge(
        &mut self,
        hospital_id: HospitalId,
        visit_id: VisitId,
        charge: ChargeRequest,
        now: Timestamp,
    ) -> Result<Executed, Refusal> {
        let amount = charge_amount(&charge.items)?;
        let key = VisitKey {
            hospital_id,
            visit_id,
        };
        let visit = self.known_visit(&key)?;
        let existing = visit
            .charges
            .iter()
            .find(|existing| existing.request.charge_id == charge.charge_id);
        if let Some(existing) = existing {
            if existing.request != charge {
                return Err(SchemeError::conflict("charge_id", &charge.charge_id).into());
            }
            return Ok(replayed(charge_added(
                &charge,
                existing.amount,
                existing.visit_total_after,
            )));
        }
        check_charge_fits(visit, &charge)?;
        let visit_total = visit.total.checked_add(amount).ok_or_else(|| {
            SchemeError::invalid_request("the visit total exceeds the maximum amount")
        })?;
        let current = visit.hold.clone();
        let patient_id = visit.request.patient_id.clone();
        let target = self.hold_target(&patient_id, current.as_ref(), visit_total);
        let mut draft = Draft::default();
        let grown_hold = match target {
            Some(amount) => {
                self.hold_draft(&mut draft, &key, &patient_id, current.as_ref(), amount)
            }
            None => None,
        };
        draft.events.push(SchemeEvent::ChargeAdded {
            key,
            charge: charge.clone(),
            amount,
            grown_hold,
        });
        let change = self.commit(draft, now)?;
        Ok(accepted(charge_added(&charge, amount, visit_total), change))
    }

    /// Cancels an open visit and releases its hold; cancelling again replays.
    pub(super) fn cancel(
        &mut self,
        hospital_id: HospitalId,
        visit_id: VisitId,
        now: Timestamp,
    ) -> Result<Executed, Refusal> {
        let key = VisitKey {
            hospital_id,
            visit_id,
        };
        let visit = self.known_visit(&key)?;
        match visit.status {
            VisitStatus::Cancelled => return Ok(replayed(cancelled(visit))),
            VisitStatus::Open => {}
            other => {
                return Err(SchemeError::invalid_state(format!(
                    "a {} visit cannot be cancelled",
                    other.as_str()
                ))
                .into())
            }
        }
        let mut draft = Draft::default();
        if let Some(hold) = &visit.hold {
            let release = self.transfer_ids().next(TransferKind::HoldRelease);
            draft.transfers.push(void(release, hold));
        }
        draft
            .events
            .push(SchemeEvent::VisitCancelled { key: key.clone() });
        let change = self.commit(draft, now)?;
        let visit = self.visit(&key).expect("known");
        Ok(accepted(cancelled(visit), change))
    }

    pub(super) fn known_visit(&self, key: &VisitKey) -> Result<&Visit, SchemeError> {
        self.visit(key)
            .ok_or_else(|| SchemeError::not_found("visit", &key.visit_id))
    }

    /// The hold a visit should have after its total grew to `visit_total`, when larger than
    /// the current one: as much of the total as the credit allows. No growth for a patient
    /// who is not active (the credit is suspended), and never a smaller hold.
    fn hold_target(
        &self,
        patient_id: &PatientId,
        current: Option<&Hold>,
        visit_total: Money,
    ) -> Option<Money> {
        let held = current.map_or(Money::ZERO, |hold| hold.amount);
        let active = self
            .patient(patient_id)
            .is_some_and(|patient| patient.status == PatientStatus::Active);
        if !active || visit_total <= held {
            return None;
        }
        let reachable = held
            .checked_add(self.credit_free(patient_id))
            .unwrap_or(Money::MAX);
        let target = visit_total.min(reachable);
        (target > held).then_some(target)
    }

    /// Adds to the draft the transfers that replace `current` by a hold of `amount`.
    fn hold_draft(
        &self,
        draft: &mut Draft,
        key: &VisitKey,
        patient_id: &PatientId,
        current: Option<&Hold>,
        amount: Money,
    ) -> Option<Hold> {
        if amount.is_zero() {
            return None;
        }
        let mut ids = self.transfer_ids();
        if let Some(current) = current {
            draft
                .transfers
                .push(void(ids.next(TransferKind::HoldRelease), current));
        }
        let transfer_id = ids.next(TransferKind::Hold);
        let patient = self
            .patient(patient_id)
            .expect("a visit's patient is known");
        let leg = Leg::new(
            &patient.accounts.receivable,
            &chart::hospital_payable(&key.hospital_id),
            amount,
        );
        let timeout = self.config.hold_timeout_seconds;
        draft.transfers.push(TransferRequest::hold(
            transfer_id.clone(),
            vec![leg],
            timeout,
        ));
        Some(Hold {
            transfer_id,
            amount,
        })
    }
}

/// Declines a patient whose credit is not usable, with the reasons.
pub(super) fn decline_unless_active(status: PatientStatus) -> Result<(), SchemeError> {
    let reasons = match status {
        PatientStatus::Active => return Ok(()),
        PatientStatus::Suspended => vec![
            DeclineReason::PatientSuspended,
            DeclineReason::OverdueBalance,
        ],
        PatientStatus::Blacklisted => vec![
            DeclineReason::PatientBlacklisted,
            DeclineReason::OverdueBalance,
        ],
        PatientStatus::Revoked => vec![DeclineReason::PatientRevoked],
    };
    Err(SchemeError::PatientNotActive {
        status: status.as_str().to_owned(),
        reasons,
    })
}

/// A request releasing a hold.
pub(super) fn void(id: crate::TransferId, hold: &Hold) -> TransferRequest {
    TransferRequest {
        id,
        action: TransferAction::VoidPending {
            pending_id: hold.transfer_id.clone(),
        },
    }
}

/// Validates the items of a charge and sums their amounts.
fn charge_amount(items: &[ChargeLine]) -> Result<Money, SchemeError> {
    if items.is_empty() || items.len() > ITEMS_PER_CHARGE_MAX {
        return Err(SchemeError::invalid_request(format!(
            "a charge must have 1 to {ITEMS_PER_CHARGE_MAX} items"
        )));
    }
    let mut total = Money::ZERO;
    for (index, item) in items.iter().enumerate() {
        let invalid = |error: crate::insurance::LineError| {
            SchemeError::invalid_request(format!("items[{index}]: {error}"))
        };
        item.validate().map_err(invalid)?;
        let amount = item.amount().map_err(invalid)?;
        total = total
            .checked_add(amount)
            .ok_or_else(|| SchemeError::invalid_request("the charge exceeds the maximum amount"))?;
    }
    Ok(total)
}

fn check_charge_fits(visit: &Visit, charge: &ChargeRequest) -> Result<(), SchemeError> {
    if visit.status != VisitStatus::Open {
        return Err(SchemeError::invalid_state(format!(
            "charges go to open visits; this one is {}",
            visit.status.as_str()
        )));
    }
    if visit.charges.len() >= CHARGES_PER_VISIT_MAX {
        return Err(SchemeError::invalid_request(format!(
            "a visit may have at most {CHARGES_PER_VISIT_MAX} charges"
        )));
    }
    if visit.line_count() + charge.items.len() > LINES_PER_VISIT_MAX {
        return Err(SchemeError::invalid_request(format!(
            "a visit may have at most {LINES_PER_VISIT_MAX} charge lines"
        )));
    }
    Ok(())
}

fn opened(visit: &Visit) -> VisitOpened {
    VisitOpened {
        visit_id: visit.key.visit_id.clone(),
        hospital_id: visit.key.hospital_id.clone(),
        patient_id: visit.request.patient_id.clone(),
        status: VisitStatus::Open.as_str(),
        authorized_amount: visit.authorized_amount,
    }
}

fn charge_added(charge: &ChargeRequest, amount: Money, visit_total: Money) -> Outcome {
    Outcome::ChargeAdded(ChargeAdded {
        charge_id: charge.charge_id.clone(),
        amount,
        visit_total,
    })
}

fn cancelled(visit: &Visit) -> Outcome {
    Outcome::Cancelled(VisitCancelled {
        visit_id: visit.key.visit_id.clone(),
        hospital_id: visit.key.hospital_id.clone(),
        status: VisitStatus::Cancelled.as_str(),
        cancelled_at: visit
            .timeline
            .cancelled_at
            .expect("a cancelled visit has its time"),
    })
}
