//! Administration: plans, hospitals, enrollment, MSA deposits, credit lines.

use super::chart::{self, TransferKind};
use super::command::{
    Accepted, MsaDeposited, Outcome, PlanStored, SchemeError, EXTERNAL_SCORE_MAX,
    HOSPITAL_NAME_LENGTH_MAX, REQUEST_AMOUNT_MAX,
};
use super::event::{SchemeChange, SchemeEvent};
use super::model::{local_date, Enrollment, Hospital, PatientStatus};
use super::queries::PatientView;
use super::state::{Draft, Refusal, Scheme};
use crate::insurance::Plan;
use crate::transfers::{Leg, TransferRequest};
use crate::{DepositId, HospitalId, Money, PatientId, PlanId, Timestamp};

/// An accepted command: the reply and the records to journal (none for a replay).
pub(super) type Executed = (Accepted, Vec<SchemeChange>);

/// The original outcome of a repeated command: nothing is written.
pub(super) fn replayed(outcome: Outcome) -> Executed {
    let accepted = Accepted {
        outcome,
        replayed: true,
    };
    (accepted, Vec::new())
}

pub(super) fn accepted(outcome: Outcome, change: SchemeChange) -> Executed {
    let accepted = Accepted {
        outcome,
        replayed: false,
    };
    (accepted, vec![change])
}

/// Rejects amounts above [`REQUEST_AMOUNT_MAX`].
pub(super) fn check_amount(field: &str, amount: Money) -> Result<(), SchemeError> {
    if amount > REQUEST_AMOUNT_MAX {
        return Err(SchemeError::invalid_request(format!(
            "{field} exceeds the maximum of {REQUEST_AMOUNT_MAX}"
        )));
    }
    Ok(())
}

impl Scheme {
    pub(super) fn put_plan(
        &mut self,
        plan_id: PlanId,
        plan: Plan,
        now: Timestamp,
    ) -> Result<Executed, Refusal> {
        plan.validate()
            .map_err(|error| SchemeError::invalid_request(error.to_string()))?;
        if let Some(stored) = self.plan(&plan_id).filter(|stored| stored.plan == plan) {
            return Ok(replayed(Outcome::PlanStored(PlanStored {
                plan_id,
                version: stored.version,
                plan,
            })));
        }
        let mut draft = Draft::default();
        draft.accounts.extend(chart::plan_accounts(&plan_id));
        draft.accounts.extend(chart::scheme_account_specs());
        draft.events.push(SchemeEvent::PlanStored {
            plan_id: plan_id.clone(),
            plan,
        });
        let change = self.commit(draft, now)?;
        let stored = self.plan(&plan_id).expect("the plan was stored");
        let outcome = Outcome::PlanStored(PlanStored {
            plan_id,
            version: stored.version,
            plan: stored.plan,
        });
        Ok(accepted(outcome, change))
    }

    pub(super) fn put_hospital(
        &mut self,
        hospital: Hospital,
        now: Timestamp,
    ) -> Result<Executed, Refusal> {
        let name_length = hospital.name.chars().count();
        if name_length == 0 || name_length > HOSPITAL_NAME_LENGTH_MAX {
            return Err(SchemeError::invalid_request(format!(
                "name must be 1 to {HOSPITAL_NAME_LENGTH_MAX} characters"
            ))
            .into());
        }
        if self.hospital(&hospital.hospital_id) == Some(&hospital) {
            return Ok(replayed(Outcome::HospitalStored(hospital)));
        }
        let mut draft = Draft::default();
        draft
            .accounts
            .extend(chart::hospital_accounts(&hospital.hospital_id));
        draft
            .events
            .push(SchemeEvent::HospitalStored(hospital.clone()));
        let change = self.commit(draft, now)?;
        Ok(accepted(Outcome::HospitalStored(hospital), change))
    }

    /// Checks, first failure wins: amounts, score, birth date; then the idempotency record
    /// (the patient id); then the plan.
    pub(super) fn enroll(
        &mut self,
        enrollment: Enrollment,
        now: Timestamp,
    ) -> Result<Executed, Refusal> {
        check_amount("msa_balance", enrollment.msa_balance)?;
        check_amount("credit_limit", enrollment.credit_limit)?;
        if enrollment
            .external_score
            .is_some_and(|score| score > EXTERNAL_SCORE_MAX)
        {
            return Err(SchemeError::invalid_request(format!(
                "external_score must be at most {EXTERNAL_SCORE_MAX}"
            ))
            .into());
        }
        if enrollment.birth_date > local_date(now) {
            return Err(SchemeError::invalid_request("birth_date is in the future").into());
        }
        if let Some(patient) = self.patient(&enrollment.patient_id) {
            if patient.enrollment != enrollment {
                return Err(SchemeError::conflict("patient_id", &enrollment.patient_id).into());
            }
            return Ok(replayed(Outcome::Patient(PatientView::enrolled(
                &enrollment,
            ))));
        }
        if self.plan(&enrollment.plan_id).is_none() {
            return Err(SchemeError::not_found("plan", &enrollment.plan_id).into());
        }
        let patient_id = &enrollment.patient_id;
        let mut draft = Draft::default();
        draft
            .accounts
            .extend(chart::patient_accounts(patient_id, enrollment.credit_limit));
        if !enrollment.msa_balance.is_zero() {
            let leg = Leg::new(
                &chart::plan_msa_funding(&enrollment.plan_id),
                &chart::patient_msa(patient_id),
                enrollment.msa_balance,
            );
            let id = self.transfer_ids().next(TransferKind::MsaDeposit);
            draft.transfers.push(TransferRequest::post(id, vec![leg]));
        }
        draft
            .events
            .push(SchemeEvent::PatientEnrolled(enrollment.clone()));
        let change = self.commit(draft, now)?;
        Ok(accepted(
            Outcome::Patient(PatientView::enrolled(&enrollment)),
            change,
        ))
    }

    pub(super) fn deposit_msa(
        &mut self,
        patient_id: PatientId,
        deposit_id: DepositId,
        amount: Money,
        now: Timestamp,
    ) -> Result<Executed, Refusal> {
        if amount.is_zero() {
            return Err(SchemeError::invalid_request("amount must be greater than zero").into());
        }
        check_amount("amount", amount)?;
        let patient = self
            .patient(&patient_id)
            .ok_or_else(|| SchemeError::not_found("patient", &patient_id))?;
        let receipt = |msa_balance| {
            Outcome::MsaDeposited(MsaDeposited {
                deposit_id: deposit_id.clone(),
                patient_id: patient_id.clone(),
                amount,
                msa_balance,
            })
        };
        if let Some(record) = patient.deposits.get(&deposit_id) {
            if record.amount != amount {
                return Err(SchemeError::conflict("deposit_id", &deposit_id).into());
            }
            return Ok(replayed(receipt(record.msa_balance_after)));
        }
        let leg = Leg::new(
            &chart::plan_msa_funding(&patient.enrollment.plan_id),
            &chart::patient_msa(&patient_id),
            amount,
        );
        let mut draft = Draft::default();
        let id = self.transfer_ids().next(TransferKind::MsaDeposit);
        draft.transfers.push(TransferRequest::post(id, vec![leg]));
        draft.events.push(SchemeEvent::MsaDeposited {
            patient_id: patient_id.clone(),
            deposit_id: deposit_id.clone(),
            amount,
        });
        let change = self.commit(draft, now)?;
        let balance = self.patient(&patient_id).expect("known").msa_balance;
        Ok(accepted(receipt(balance), change))
    }

    /// A new credit limit; never below what the patient already holds and owes on it.
    pub(super) fn set_credit_limit(
        &mut self,
        patient_id: PatientId,
        credit_limit: Money,
        now: Timestamp,
    ) -> Result<Executed, Refusal> {
        check_amount("credit_limit", credit_limit)?;
        let patient = self
            .patient(&patient_id)
            .ok_or_else(|| SchemeError::not_found("patient", &patient_id))?;
        if patient.credit_limit == credit_limit {
            let view = self.patient_view(&patient_id).expect("known");
            return Ok(replayed(Outcome::Patient(view)));
        }
        let receivable = chart::patient_receivable(&patient_id);
        let balances = self.books.account(&receivable).expect("opened").balances;
        let used = balances.debits_pending.fen() as i128 + balances.posted_signed_fen();
        if i128::from(credit_limit.fen()) < used {
            return Err(SchemeError::invalid_state(
                "credit_limit is below what the patient holds and owes",
            )
            .into());
        }
        let mut draft = Draft::default();
        draft
            .limits
            .push((receivable, chart::credit_line(credit_limit)));
        draft.events.push(SchemeEvent::CreditLimitSet {
            patient_id: patient_id.clone(),
            credit_limit,
        });
        let change = self.commit(draft, now)?;
        let view = self.patient_view(&patient_id).expect("known");
        Ok(accepted(Outcome::Patient(view), change))
    }

    pub(super) fn revoke(
        &mut self,
        patient_id: PatientId,
        now: Timestamp,
    ) -> Result<Executed, Refusal> {
        let patient = self
            .patient(&patient_id)
            .ok_or_else(|| SchemeError::not_found("patient", &patient_id))?;
        if patient.status == PatientStatus::Revoked {
            let view = self.patient_view(&patient_id).expect("known");
            return Ok(replayed(Outcome::Patient(view)));
        }
        let mut draft = Draft::default();
        draft.events.push(SchemeEvent::PatientStatusChanged {
            patient_id: patient_id.clone(),
            status: PatientStatus::Revoked,
            credit_limit: patient.credit_limit,
            restored: false,
        });
        let change = self.commit(draft, now)?;
        let view = self.patient_view(&patient_id).expect("known");
        Ok(accepted(Outcome::Patient(view), change))
    }

    /// The hospital, or `not_found`.
    pub(super) fn known_hospital(
        &self,
        hospital_id: &HospitalId,
    ) -> Result<&Hospital, SchemeError> {
        self.hospital(hospital_id)
            .ok_or_else(|| SchemeError::not_found("hospital", hospital_id))
    }
}
