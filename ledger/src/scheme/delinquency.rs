//! Delinquency: a pure function of the state and `as_of`. Past due -> overdue (patient
//! suspended) -> defaulted after `default_after_days` (patient blacklisted, loss provisioned)
//! -> written off after `write_off_after_days`. Runs never go backwards.

use std::collections::HashMap;

use super::admin::Executed;
use super::chart::{self, TransferKind};
use super::command::{Accepted, DelinquencyRun, Outcome, SchemeError};
use super::event::{SchemeChange, SchemeEvent};
use super::model::{plus_days, PatientStatus, SchemeConfig, VisitKey, VisitStatus};
use super::state::{add, Draft, Refusal, Scheme};
use crate::transfers::{Leg, TransferRequest};
use crate::{Money, PatientId, Timestamp};

/// The stages a visit passes through, in order.
const STAGES: [VisitStatus; 3] = [
    VisitStatus::Overdue,
    VisitStatus::Defaulted,
    VisitStatus::WrittenOff,
];

/// One visit's stages reached in this run.
struct Aging {
    key: VisitKey,
    outstanding: Money,
    stages: Vec<VisitStatus>,
}

impl Scheme {
    /// Ages every visit past due at `as_of`: one record per patient affected, then one
    /// record of the run. Refused (`invalid_state`) when `as_of` is before the last run.
    pub(super) fn run_delinquency(
        &mut self,
        as_of: Timestamp,
        now: Timestamp,
    ) -> Result<Executed, Refusal> {
        if self.delinquency_as_of.is_some_and(|last| as_of < last) {
            return Err(
                SchemeError::invalid_state("as_of is before the last delinquency run").into(),
            );
        }
        let mut run = DelinquencyRun {
            as_of,
            ..DelinquencyRun::default()
        };
        let mut changes = Vec::new();
        for (patient_id, agings) in self.agings_by_patient(as_of) {
            count_stages(&mut run, &agings);
            match self.age_patient(&patient_id, agings, as_of, now) {
                Ok(change) => changes.push(change),
                Err(mut refusal) => {
                    // Patients aged before stay aged (the watermark does not move): keep
                    // their records so the journal matches the state.
                    changes.append(&mut refusal.changes);
                    refusal.changes = changes;
                    return Err(refusal);
                }
            }
        }
        let mut draft = Draft::default();
        draft.events.push(SchemeEvent::DelinquencyRan(run));
        changes.push(self.commit(draft, now)?);
        let accepted = Accepted {
            outcome: Outcome::DelinquencyRun(run),
            replayed: false,
        };
        Ok((accepted, changes))
    }

    /// The visits that move at `as_of`, grouped by patient in due order.
    fn agings_by_patient(&self, as_of: Timestamp) -> Vec<(PatientId, Vec<Aging>)> {
        let mut groups: Vec<(PatientId, Vec<Aging>)> = Vec::new();
        let mut group_of: HashMap<PatientId, usize> = HashMap::new();
        for (due_at, _, key) in self
            .receivables
            .iter()
            .take_while(|(due_at, _, _)| *due_at < as_of)
        {
            let visit = &self.visits[key];
            let stages = stages_reached(&self.config, visit.status, *due_at, as_of);
            if stages.is_empty() {
                continue;
            }
            let aging = Aging {
                key: key.clone(),
                outstanding: visit.outstanding,
                stages,
            };
            let patient_id = &visit.request.patient_id;
            let index = *group_of.entry(patient_id.clone()).or_insert_with(|| {
                groups.push((patient_id.clone(), Vec::new()));
                groups.len() - 1
            });
            groups[index].1.push(aging);
        }
        groups
    }

    /// One patient's record: the visits' new stages, the provision on default and the
    /// write-off, and the patient's suspension or blacklisting.
    fn age_patient(
        &mut self,
        patient_id: &PatientId,
        agings: Vec<Aging>,
        as_of: Timestamp,
        now: Timestamp,
    ) -> Result<SchemeChange, Refusal> {
        let mut provision = Money::ZERO;
        let mut written_off = Money::ZERO;
        let mut draft = Draft::default();
        let mut defaulted = false;
        for aging in agings {
            for stage in aging.stages {
                match stage {
                    VisitStatus::Defaulted => provision = add(provision, aging.outstanding),
                    VisitStatus::WrittenOff => written_off = add(written_off, aging.outstanding),
                    _ => {}
                }
                defaulted |= stage != VisitStatus::Overdue;
                draft.events.push(SchemeEvent::VisitAged {
                    key: aging.key.clone(),
                    status: stage,
                    as_of,
                });
            }
        }
        self.loss_transfers(&mut draft, patient_id, provision, written_off);
        if let Some(event) = self.patient_status_after_aging(patient_id, defaulted) {
            draft.events.push(event);
        }
        self.commit(draft, now)
    }

    /// Provision on default (expense against the allowance), write-off (the allowance
    /// against the receivable).
    fn loss_transfers(
        &self,
        draft: &mut Draft,
        patient_id: &PatientId,
        provision: Money,
        written_off: Money,
    ) {
        let mut ids = self.transfer_ids();
        if !provision.is_zero() {
            let leg = Leg::new(
                &chart::credit_loss_expense(),
                &chart::allowance(),
                provision,
            );
            draft.transfers.push(TransferRequest::post(
                ids.next(TransferKind::Provision),
                vec![leg],
            ));
        }
        if !written_off.is_zero() {
            let leg = Leg::new(
                &chart::allowance(),
                &chart::patient_receivable(patient_id),
                written_off,
            );
            draft.transfers.push(TransferRequest::post(
                ids.next(TransferKind::WriteOff),
                vec![leg],
            ));
        }
        if !draft.transfers.is_empty() {
            draft.accounts.extend(chart::scheme_account_specs());
        }
    }

    fn patient_status_after_aging(
        &self,
        patient_id: &PatientId,
        defaulted: bool,
    ) -> Option<SchemeEvent> {
        let patient = self.patient(patient_id).expect("known");
        let status = match (patient.status, defaulted) {
            (PatientStatus::Active | PatientStatus::Suspended, true) => PatientStatus::Blacklisted,
            (PatientStatus::Active, false) => PatientStatus::Suspended,
            _ => return None,
        };
        Some(SchemeEvent::PatientStatusChanged {
            patient_id: patient_id.clone(),
            status,
            credit_limit: patient.credit_limit,
            restored: false,
        })
    }
}

/// The stages after `status` that a visit due at `due_at` has reached at `as_of`.
fn stages_reached(
    config: &SchemeConfig,
    status: VisitStatus,
    due_at: Timestamp,
    as_of: Timestamp,
) -> Vec<VisitStatus> {
    let target = if as_of <= due_at {
        return Vec::new();
    } else if as_of >= plus_days(due_at, config.write_off_after_days) {
        VisitStatus::WrittenOff
    } else if as_of >= plus_days(due_at, config.default_after_days) {
        VisitStatus::Defaulted
    } else {
        VisitStatus::Overdue
    };
    let (Some(current), Some(last)) = (rank(status), rank(target)) else {
        return Vec::new();
    };
    STAGES
        .iter()
        .copied()
        .filter(|stage| rank(*stage).is_some_and(|stage| stage > current && stage <= last))
        .collect()
}

/// Position on the delinquency path; `None` off it (open, paid, cancelled).
fn rank(status: VisitStatus) -> Option<u8> {
    match status {
        VisitStatus::Settled => Some(0),
        VisitStatus::Overdue => Some(1),
        VisitStatus::Defaulted => Some(2),
        VisitStatus::WrittenOff => Some(3),
        VisitStatus::Open | VisitStatus::Paid | VisitStatus::Cancelled => None,
    }
}

fn count_stages(run: &mut DelinquencyRun, agings: &[Aging]) {
    for stage in agings.iter().flat_map(|aging| aging.stages.iter()) {
        match stage {
            VisitStatus::Overdue => run.overdue += 1,
            VisitStatus::Defaulted => run.defaulted += 1,
            _ => run.written_off += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_follow_days_past_due() {
        let config = SchemeConfig::default();
        let due = Timestamp::from_seconds(1_000_000);
        let day = |days: i64| due.plus_seconds(days * 86_400);
        let cases = [
            (VisitStatus::Settled, due, vec![]),
            (
                VisitStatus::Settled,
                due.plus_seconds(1),
                vec![VisitStatus::Overdue],
            ),
            (
                VisitStatus::Settled,
                day(30),
                vec![VisitStatus::Overdue, VisitStatus::Defaulted],
            ),
            (VisitStatus::Overdue, day(29), vec![]),
            (VisitStatus::Overdue, day(30), vec![VisitStatus::Defaulted]),
            (VisitStatus::Settled, day(180), STAGES.to_vec()),
            (
                VisitStatus::Defaulted,
                day(180),
                vec![VisitStatus::WrittenOff],
            ),
            (VisitStatus::WrittenOff, day(400), vec![]),
            (VisitStatus::Paid, day(400), vec![]),
        ];
        for (status, as_of, expected) in cases {
            assert_eq!(
                stages_reached(&config, status, due, as_of),
                expected,
                "{status:?} at {as_of}"
            );
        }
    }
}
