//! Settlement and refunds: adjudicate with the insurance engine and book who pays what in one
//! atomic change.

use super::admin::{accepted, replayed, Executed};
use super::chart::{self, TransferKind};
use super::command::{Outcome, Refunded, SchemeError};
use super::event::SchemeEvent;
use super::model::{
    plan_year, AccumulatorKey, PatientStatus, PayerDifferences, PlanHistory, RefundRecord,
    SettlementFigures, SettlementRecord, SettlementTerms, Visit, VisitKey, VisitStatus,
};
use super::queries::settlement_view;
use super::state::{Draft, Refusal, Scheme};
use super::visits::void;
use crate::insurance::{adjudicate, AdjudicationInput, ChargeLine, Plan, Settlement};
use crate::transfers::{Leg, TransferRequest};
use crate::{ChargeId, HospitalId, Money, RefundId, Timestamp, VisitId};

const SECONDS_PER_HOUR: i64 = 3600;

impl Scheme {
    /// Settles an open visit; settling again returns the original settlement.
    pub(super) fn settle(
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
        if let Some(record) = &visit.settlement {
            let view = settlement_view(visit, record, record.original, VisitStatus::Settled);
            return Ok(replayed(Outcome::Settled(view)));
        }
        if visit.status != VisitStatus::Open {
            return Err(SchemeError::invalid_state(format!(
                "a {} visit cannot be settled",
                visit.status.as_str()
            ))
            .into());
        }
        let (terms, plan) = self.settlement_terms(visit, now)?;
        let settlement = self.adjudicate_visit(visit, &terms, plan, now)?;
        let window_hours = plan.payment_window_hours.for_kind(visit.request.kind);
        let figures = SettlementFigures::from_settlement(&settlement);
        let record = SettlementRecord {
            terms,
            settled_at: now,
            due_at: now.plus_seconds(i64::from(window_hours) * SECONDS_PER_HOUR),
            original: figures,
            current: figures,
        };
        let draft = self.settlement_draft(visit, record);
        let change = self.commit(draft, now)?;
        let visit = self.visit(&key).expect("known");
        let record = visit.settlement.as_ref().expect("settled");
        let view = settlement_view(visit, record, record.original, VisitStatus::Settled);
        Ok(accepted(Outcome::Settled(view), change))
    }

    /// The terms of a new settlement: the patient's plan in its current version, the
    /// hospital's level, the plan-year position.
    fn settlement_terms(
        &self,
        visit: &Visit,
        now: Timestamp,
    ) -> Result<(SettlementTerms, &Plan), SchemeError> {
        let patient = self
            .patient(&visit.request.patient_id)
            .expect("a visit's patient is known");
        let hospital = self.known_hospital(&visit.key.hospital_id)?;
        let plan_id = patient.enrollment.plan_id.clone();
        let (plan_version, plan) = self
            .plans
            .get(&plan_id)
            .and_then(PlanHistory::current)
            .ok_or_else(|| SchemeError::not_found("plan", &plan_id))?;
        let year = plan_year(now);
        let accumulator_key = AccumulatorKey {
            patient_id: visit.request.patient_id.clone(),
            plan_id: plan_id.clone(),
            plan_year: year,
        };
        let terms = SettlementTerms {
            plan_id,
            plan_version,
            member_type: patient.enrollment.member_type,
            hospital_level: hospital.level,
            plan_year: year,
            position_before: self.accumulator(&accumulator_key),
        };
        Ok((terms, plan))
    }

    /// Adjudicates a visit being settled: the MSA as it stands, the credit its hold reserved
    /// plus, for an active patient, what the credit line has left.
    fn adjudicate_visit(
        &self,
        visit: &Visit,
        terms: &SettlementTerms,
        plan: &Plan,
        now: Timestamp,
    ) -> Result<Settlement, SchemeError> {
        let patient_id = &visit.request.patient_id;
        let patient = self.patient(patient_id).expect("known");
        let held = self.pending_hold(visit, now);
        let free = match patient.status {
            PatientStatus::Active => self.credit_free(patient_id),
            _ => Money::ZERO,
        };
        let lines = visit.billed_lines();
        let input = adjudication_input(
            visit,
            terms,
            plan,
            &lines,
            patient.msa_balance,
            add_saturating(held, free),
        );
        adjudicate(&input).map_err(|error| SchemeError::invalid_request(error.to_string()))
    }

    /// The visit's hold amount while the books still hold it.
    fn pending_hold(&self, visit: &Visit, now: Timestamp) -> Money {
        let Some(hold) = &visit.hold else {
            return Money::ZERO;
        };
        let stored = self
            .books
            .stored_transfer(&hold.transfer_id)
            .expect("a hold is in the books");
        let pending = stored.status == crate::TransferStatus::Pending
            && stored.expires_at.is_some_and(|deadline| deadline > now);
        if pending {
            hold.amount
        } else {
            Money::ZERO
        }
    }

    /// Release the hold; fund share to the hospital's due-from-fund; MSA and financed parts
    /// to the hospital's payable. The collect-now part is the hospital's to collect.
    fn settlement_draft(&self, visit: &Visit, record: SettlementRecord) -> Draft {
        let patient = self
            .patient(&visit.request.patient_id)
            .expect("a visit's patient is known");
        let hospital_id = &visit.key.hospital_id;
        let figures = record.current;
        let mut ids = self.transfer_ids();
        let mut draft = Draft::default();
        if let Some(hold) = &visit.hold {
            draft
                .transfers
                .push(void(ids.next(TransferKind::HoldRelease), hold));
        }
        let payable = chart::hospital_payable(hospital_id);
        let legs = non_zero_legs([
            (
                chart::hospital_due_from_fund(hospital_id),
                chart::plan_fund_payable(&record.terms.plan_id),
                figures.fund_paid,
            ),
            (
                patient.accounts.msa.clone(),
                payable.clone(),
                figures.msa_paid,
            ),
            (
                patient.accounts.receivable.clone(),
                payable,
                figures.financed,
            ),
        ]);
        if !legs.is_empty() {
            draft
                .transfers
                .push(TransferRequest::post(ids.next(TransferKind::Settle), legs));
        }
        draft.events.push(SchemeEvent::VisitSettled {
            key: visit.key.clone(),
            record,
        });
        draft
    }

    /// Refunds a whole charge of a settled visit: re-adjudicates the remaining charges on the
    /// original terms and position, and reverses each payer's difference.
    pub(super) fn refund(
        &mut self,
        key: VisitKey,
        refund_id: RefundId,
        charge_id: ChargeId,
        now: Timestamp,
    ) -> Result<Executed, Refusal> {
        let visit = self.known_visit(&key)?;
        if let Some((_, record)) = visit.refunds.iter().find(|(id, _)| *id == refund_id) {
            if record.charge_id != charge_id {
                return Err(SchemeError::conflict("refund_id", &refund_id).into());
            }
            return Ok(replayed(refunded(visit, &refund_id, record)));
        }
        check_refundable(visit, &charge_id)?;
        let record = self.readjudicate(visit, &charge_id, now)?;
        let draft = self.refund_draft(visit, &refund_id, record);
        let patient_id = visit.request.patient_id.clone();
        let mut change = self.commit(draft, now)?;
        self.review_patient_status(&patient_id, &mut change, now);
        let visit = self.visit(&key).expect("known");
        let record = &visit.refunds.last().expect("recorded").1;
        Ok(accepted(refunded(visit, &refund_id, record), change))
    }

    fn readjudicate(
        &self,
        visit: &Visit,
        charge_id: &ChargeId,
        now: Timestamp,
    ) -> Result<RefundRecord, SchemeError> {
        let settled = visit.settlement.as_ref().expect("checked: settled");
        let terms = &settled.terms;
        let plan = self
            .plan_version(&terms.plan_id, terms.plan_version)
            .expect("settled plan versions are kept");
        let lines: Vec<ChargeLine> = visit
            .charges
            .iter()
            .filter(|charge| charge.refunded_by.is_none() && charge.request.charge_id != *charge_id)
            .flat_map(|charge| charge.request.items.iter().cloned())
            .collect();
        let current = settled.current;
        let input = adjudication_input(
            visit,
            terms,
            plan,
            &lines,
            current.msa_paid,
            current.financed,
        );
        let settlement =
            adjudicate(&input).map_err(|error| SchemeError::invalid_request(error.to_string()))?;
        let figures = SettlementFigures::from_settlement(&settlement);
        let differences = payer_differences(visit, &current, &figures)
            .ok_or_else(|| SchemeError::invalid_state("the refund would raise a payer's share"))?;
        Ok(RefundRecord {
            charge_id: charge_id.clone(),
            at: now,
            settlement: figures,
            differences,
        })
    }

    /// The reversing postings of a refund.
    fn refund_draft(&self, visit: &Visit, refund_id: &RefundId, record: RefundRecord) -> Draft {
        let patient_id = &visit.request.patient_id;
        let hospital_id = &visit.key.hospital_id;
        let plan_id = &visit.settlement.as_ref().expect("settled").terms.plan_id;
        let difference = record.differences;
        let payable = chart::hospital_payable(hospital_id);
        let provision_released = match visit.status {
            VisitStatus::Defaulted => difference.outstanding_reduced,
            _ => Money::ZERO,
        };
        let legs = non_zero_legs([
            (
                chart::plan_fund_payable(plan_id),
                chart::hospital_due_from_fund(hospital_id),
                difference.fund,
            ),
            (
                payable.clone(),
                chart::patient_msa(patient_id),
                difference.msa,
            ),
            (
                payable.clone(),
                chart::patient_receivable(patient_id),
                difference.outstanding_reduced,
            ),
            (
                chart::allowance(),
                chart::credit_loss_expense(),
                provision_released,
            ),
            (
                payable,
                chart::patient_refund_owed(patient_id),
                difference.refund_owed,
            ),
        ]);
        let mut draft = Draft::default();
        if !legs.is_empty() {
            let id = self.transfer_ids().next(TransferKind::Refund);
            draft.transfers.push(TransferRequest::post(id, legs));
        }
        draft.events.push(SchemeEvent::ChargeRefunded {
            key: visit.key.clone(),
            refund_id: refund_id.clone(),
            record,
        });
        draft
    }
}

fn adjudication_input<'a>(
    visit: &Visit,
    terms: &SettlementTerms,
    plan: &'a Plan,
    lines: &'a [ChargeLine],
    msa_balance: Money,
    credit_available: Money,
) -> AdjudicationInput<'a> {
    AdjudicationInput {
        plan,
        plan_version: terms.plan_version,
        member_type: terms.member_type,
        visit_kind: visit.request.kind,
        hospital_level: terms.hospital_level,
        lines,
        year_position: terms.position_before,
        msa_balance,
        credit_available,
    }
}

/// Refunds go to settled visits that were not written off, for a charge not yet refunded.
fn check_refundable(visit: &Visit, charge_id: &ChargeId) -> Result<(), SchemeError> {
    if !visit.status.is_settled() || visit.status == VisitStatus::WrittenOff {
        return Err(SchemeError::invalid_state(format!(
            "a {} visit cannot be refunded",
            visit.status.as_str()
        )));
    }
    let charge = visit
        .charges
        .iter()
        .find(|charge| charge.request.charge_id == *charge_id)
        .ok_or_else(|| SchemeError::not_found("charge", charge_id))?;
    if let Some(refund_id) = &charge.refunded_by {
        return Err(SchemeError::invalid_state(format!(
            "charge {charge_id} was already refunded by {refund_id}"
        )));
    }
    Ok(())
}

/// What each payer gives back, and how the financed difference splits between what is still
/// owed and what the patient already paid (owed back). `None` when a share would grow.
fn payer_differences(
    visit: &Visit,
    before: &SettlementFigures,
    after: &SettlementFigures,
) -> Option<PayerDifferences> {
    let financed = before.financed.checked_sub(after.financed)?;
    let outstanding_reduced = financed.min(visit.outstanding);
    Some(PayerDifferences {
        total: before.total.checked_sub(after.total)?,
        fund: before.fund_paid.checked_sub(after.fund_paid)?,
        msa: before.msa_paid.checked_sub(after.msa_paid)?,
        financed,
        collect_now: before.collect_now.checked_sub(after.collect_now)?,
        outstanding_reduced,
        refund_owed: financed.checked_sub(outstanding_reduced)?,
    })
}

fn refunded(visit: &Visit, refund_id: &RefundId, record: &RefundRecord) -> Outcome {
    let settled = visit
        .settlement
        .as_ref()
        .expect("a refunded visit is settled");
    Outcome::Refunded(Refunded {
        refund_id: refund_id.clone(),
        charge_id: record.charge_id.clone(),
        settlement: settlement_view(visit, settled, record.settlement, visit.status),
        differences: record.differences,
    })
}

/// Legs of the non-zero amounts (the books refuse zero legs).
pub(super) fn non_zero_legs<const N: usize>(
    legs: [(crate::AccountId, crate::AccountId, Money); N],
) -> Vec<Leg> {
    legs.into_iter()
        .filter(|(_, _, amount)| !amount.is_zero())
        .map(|(debit, credit, amount)| Leg {
            debit,
            credit,
            amount,
        })
        .collect()
}

fn add_saturating(left: Money, right: Money) -> Money {
    left.checked_add(right).unwrap_or(Money::MAX)
}
