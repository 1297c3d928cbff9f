//! Repayments: applied to the oldest due visit first; recoveries after default; the patient
//! restored when what made them suspended or blacklisted is repaid.

use super::admin::{accepted, check_amount, replayed, Executed};
use super::chart::{self, TransferKind};
use super::command::{Outcome, PaymentApplied, SchemeError, ALLOCATIONS_PER_PAYMENT_MAX};
use super::event::{SchemeChange, SchemeEvent};
use super::model::{Allocation, PatientStatus, PaymentRecord, PaymentRequest, VisitStatus};
use super::settle::non_zero_legs;
use super::state::{add, sub, Draft, Refusal, Scheme};
use crate::transfers::TransferRequest;
use crate::{Money, PatientId, Timestamp};

/// The amounts of one payment by how they are booked.
#[derive(Default)]
struct PaymentSplit {
    /// Off the receivable (settled, overdue and defaulted visits).
    receivable: Money,
    /// Of `receivable`: on defaulted visits, so the allowance is released as a recovery.
    defaulted: Money,
    /// On written-off visits: straight to recoveries.
    written_off: Money,
}

impl Scheme {
    /// Checks, first failure wins: the amount; the idempotency record (the payment id); the
    /// patient; the amount against what is outstanding; the number of visits it spans.
    pub(super) fn pay(
        &mut self,
        request: PaymentRequest,
        now: Timestamp,
    ) -> Result<Executed, Refusal> {
        if request.amount.is_zero() {
            return Err(SchemeError::invalid_request("amount must be greater than zero").into());
        }
        check_amount("amount", request.amount)?;
        if let Some(record) = self.payment(&request.payment_id) {
            if record.request != request {
                return Err(SchemeError::conflict("payment_id", &request.payment_id).into());
            }
            return Ok(replayed(payment_applied(record)));
        }
        let patient = self
            .patient(&request.patient_id)
            .ok_or_else(|| SchemeError::not_found("patient", &request.patient_id))?;
        let (outstanding, _) = self.owed_by(patient);
        if request.amount > outstanding {
            return Err(SchemeError::AmountExceedsOutstanding { outstanding }.into());
        }
        let applied = self.allocate(&request.patient_id, request.amount)?;
        let patient_id = request.patient_id.clone();
        let payment_id = request.payment_id.clone();
        let record = PaymentRecord {
            outstanding_after: sub(outstanding, request.amount),
            request,
            at: now,
            applied,
        };
        let draft = self.payment_draft(record);
        let mut change = self.commit(draft, now)?;
        self.review_patient_status(&patient_id, &mut change, now);
        let record = self.payment(&payment_id).expect("recorded");
        Ok(accepted(payment_applied(record), change))
    }

    /// Spreads `amount` over the patient's visits, oldest due first (ties: settled first).
    fn allocate(
        &self,
        patient_id: &PatientId,
        amount: Money,
    ) -> Result<Vec<Allocation>, SchemeError> {
        let patient = self.patient(patient_id).expect("known");
        let mut owing: Vec<&super::model::Visit> = patient
            .visits
            .iter()
            .map(|key| &self.visits[key])
            .filter(|visit| !visit.outstanding.is_zero())
            .collect();
        owing.sort_by_key(|visit| (visit.due_at(), visit.settle_sequence));
        let mut remaining = amount;
        let mut applied = Vec::new();
        for visit in owing {
            if remaining.is_zero() {
                break;
            }
            if applied.len() == ALLOCATIONS_PER_PAYMENT_MAX {
                return Err(SchemeError::invalid_request(format!(
                    "a payment may be spread over at most {ALLOCATIONS_PER_PAYMENT_MAX} visits"
                )));
            }
            let part = remaining.min(visit.outstanding);
            remaining = sub(remaining, part);
            applied.push(Allocation {
                hospital_id: visit.key.hospital_id.clone(),
                visit_id: visit.key.visit_id.clone(),
                amount: part,
                status_before: visit.status,
            });
        }
        assert!(
            remaining.is_zero(),
            "the amount was checked against what is outstanding"
        );
        Ok(applied)
    }

    /// Cash into the channel's clearing account, off the receivable; on defaulted visits the
    /// allowance is released as a recovery; on written-off visits the cash is a recovery.
    fn payment_draft(&self, record: PaymentRecord) -> Draft {
        let mut split = PaymentSplit::default();
        for allocation in &record.applied {
            match allocation.status_before {
                VisitStatus::WrittenOff => {
                    split.written_off = add(split.written_off, allocation.amount)
                }
                VisitStatus::Defaulted => {
                    split.receivable = add(split.receivable, allocation.amount);
                    split.defaulted = add(split.defaulted, allocation.amount);
                }
                _ => split.receivable = add(split.receivable, allocation.amount),
            }
        }
        let request = &record.request;
        let clearing = chart::channel_clearing(&request.channel);
        let legs = non_zero_legs([
            (
                clearing.clone(),
                chart::patient_receivable(&request.patient_id),
                split.receivable,
            ),
            (chart::allowance(), chart::recoveries(), split.defaulted),
            (clearing.clone(), chart::recoveries(), split.written_off),
        ]);
        let mut draft = Draft::default();
        draft.accounts.push(chart::unbounded(clearing));
        draft.accounts.extend(chart::scheme_account_specs());
        let id = self.transfer_ids().next(TransferKind::Payment);
        draft.transfers.push(TransferRequest::post(id, legs));
        draft.events.push(SchemeEvent::PaymentApplied(record));
        draft
    }

    /// After what a patient owes went down: a suspended patient with nothing past due is
    /// active again; a blacklisted patient who repaid everything is restored with a reduced
    /// limit (never below what open visits already hold). Appends the change to `change`.
    pub(super) fn review_patient_status(
        &mut self,
        patient_id: &PatientId,
        change: &mut SchemeChange,
        now: Timestamp,
    ) {
        let patient = self.patient(patient_id).expect("known");
        let (outstanding, past_due) = self.owed_by(patient);
        let (status, credit_limit, restored) = match patient.status {
            PatientStatus::Suspended if past_due.is_zero() => {
                (PatientStatus::Active, patient.credit_limit, false)
            }
            PatientStatus::Blacklisted if outstanding.is_zero() => {
                let reduced = patient
                    .credit_limit
                    .mul_ratio(self.config.restored_limit_ratio);
                (
                    PatientStatus::Active,
                    reduced.max(self.credit_held(patient_id)),
                    true,
                )
            }
            _ => return,
        };
        let mut draft = Draft::default();
        if credit_limit != patient.credit_limit {
            let receivable = chart::patient_receivable(patient_id);
            draft
                .limits
                .push((receivable, chart::credit_line(credit_limit)));
        }
        draft.events.push(SchemeEvent::PatientStatusChanged {
            patient_id: patient_id.clone(),
            status,
            credit_limit,
            restored,
        });
        let Ok(review) = self.commit(draft, now) else {
            unreachable!("a status change moves no money, so the books never refuse it");
        };
        change.ledger.extend(review.ledger);
        change.events.extend(review.events);
    }
}

fn payment_applied(record: &PaymentRecord) -> Outcome {
    Outcome::PaymentApplied(PaymentApplied {
        payment_id: record.request.payment_id.clone(),
        applied: record.applied.clone(),
        outstanding: record.outstanding_after,
    })
}
